"""Where published events go: a Redis stream and signed webhooks.

Delivery is at least once; every event carries a stable `id` for consumers to drop
duplicates. The stream write itself is de-duplicated by event id for a day.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import urllib.error
import urllib.request
from typing import Any

import redis

from machines.ports import ServiceUnavailable

SIGNATURE_HEADER = "X-Processes-Signature-256"
EVENT_ID_HEADER = "X-Processes-Event-Id"
CORRELATION_HEADER = "x-correlation-id"

# Add the event to the stream only if its id was not added before (in the last day), in one
# atomic step, so that publishing it again does not append it twice. The id's key holds a mark
# (ON_STREAM, then whatever the publisher marks it with); the script returns the mark it found,
# or false when it added the event now.
_ADD_ONCE = """
local mark = redis.call('GET', KEYS[1])
if mark then
  return mark
end
redis.call('SET', KEYS[1], ARGV[5], 'EX', ARGV[3])
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[4], '*', 'id', ARGV[1], 'event', ARGV[2])
return false
"""

ON_STREAM = "1"
"""The mark of an event the stream holds (the value of its de-duplication key)."""

DEDUPLICATION_SECONDS = 86_400


class DeliveryRejected(ValueError):
    """The subscriber refused the event (4xx): sending it again will not help."""


class RedisStream:
    """Appends events to a Redis stream that consumers read with consumer groups."""

    def __init__(self, client: redis.Redis, stream: str, max_length: int = 100_000) -> None:
        self._client = client
        self._stream = stream
        self._max_length = max_length
        self._add_once = client.register_script(_ADD_ONCE)

    def publish(self, envelope: dict[str, Any]) -> str | None:
        """Append the event unless the stream holds it already; None when appended now, else
        the event's mark (`ON_STREAM`, or what `mark` set)."""
        try:
            found = self._add_once(
                keys=[self._key(envelope["id"]), self._stream],
                args=[
                    envelope["id"],
                    json.dumps(envelope),
                    DEDUPLICATION_SECONDS,
                    self._max_length,
                    ON_STREAM,
                ],
            )
        except redis.RedisError as error:
            raise ServiceUnavailable(f"Redis stream {self._stream}: {error}") from error
        return found.decode() if isinstance(found, bytes) else found or None

    def mark(self, event_id: str, mark: str) -> None:
        """Record `mark` against an event the stream holds (until its key expires)."""
        try:
            self._client.set(self._key(event_id), mark, xx=True, keepttl=True)
        except redis.RedisError as error:
            raise ServiceUnavailable(f"Redis stream {self._stream}: {error}") from error

    def _key(self, event_id: str) -> str:
        return f"{self._stream}:published:{event_id}"


def sign(body: bytes, secret: str) -> str:
    """The signature header's value: HMAC-SHA256 of the exact body, hex encoded."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class Webhook:
    """POSTs events to one subscriber URL, signed with the shared secret."""

    def __init__(self, url: str, secret: str, timeout: float = 5.0) -> None:
        self.url = url
        self._secret = secret
        self._timeout = timeout

    def deliver(self, envelope: dict[str, Any]) -> None:
        body = json.dumps(envelope, separators=(",", ":")).encode()
        request = urllib.request.Request(
            self.url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json",
                EVENT_ID_HEADER: envelope["id"],
                # The request that caused the event, for subscribers' logs as for ours.
                CORRELATION_HEADER: str(envelope.get("correlationId") or ""),
                SIGNATURE_HEADER: sign(body, self._secret),
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=self._timeout) as response:
                response.read()
        except urllib.error.HTTPError as error:
            if error.code >= 500 or error.code in (408, 429):
                raise ServiceUnavailable(f"{self.url} answered {error.code}") from None
            raise DeliveryRejected(f"{self.url} refused the event with {error.code}") from None
        except (urllib.error.URLError, TimeoutError, ConnectionError) as error:
            raise ServiceUnavailable(f"{self.url} could not be reached: {error}") from None
