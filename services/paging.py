"""Pagination tokens: where the next page of a listing starts, signed so that clients can
hand them back but not make or alter them.

A token carries the listing's sort, the last row's sort value and its id. Signing makes a
tampered or forged token a clear 400; the values are bounded all the same, so that no token,
however it was made, can send the store a date it cannot work with.
"""

from __future__ import annotations

from datetime import UTC, datetime

from itsdangerous import BadData, URLSafeSerializer

from machines.model import Process
from machines.queries import sort_value
from services.errors import InvalidPageToken

EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(9000, 1, 1, tzinfo=UTC)
"""The range of sort values a token may carry: every date the service writes lies within it,
and a listing's time slices around any of them stay inside the calendar."""
MAX_ID_LENGTH = 64

Position = tuple[datetime, str]
"""Where a page ends: the sort value and id of its last row."""


class PageTokens:
    """Makes and reads the pagination tokens of one deployment (keyed by its SECRET_KEY)."""

    def __init__(self, secret_key: str) -> None:
        self._serializer = URLSafeSerializer(secret_key, salt="processes.pagination")

    def after(self, process: Process, sort: str) -> str:
        """The token of the page that follows `process` in a listing sorted by `sort`."""
        value = sort_value(process, sort)
        moment = value.astimezone(UTC).isoformat(timespec="milliseconds") if value else None
        return self._serializer.dumps({"s": sort, "v": moment, "i": process.id})

    def position(self, token: str, sort: str) -> Position:
        """Where the page `token` names starts; `InvalidPageToken` unless this deployment made
        it, for a listing sorted by `sort`."""
        try:
            data = self._serializer.loads(token)
            process_id, moment = data["i"], datetime.fromisoformat(data["v"])
        except (BadData, KeyError, TypeError, ValueError):
            raise InvalidPageToken() from None
        if (
            data.get("s") != sort
            or not isinstance(process_id, str)
            or len(process_id) > MAX_ID_LENGTH
            or moment.tzinfo is None
            or not EARLIEST <= moment <= LATEST
        ):
            raise InvalidPageToken()
        return moment.astimezone(UTC), process_id
