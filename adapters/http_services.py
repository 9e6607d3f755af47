"""HTTP clients of the Tenure and Person APIs, implementing `services.ports`.

Each client keeps a pool of connections (a `requests` session) and retries, briefly, what a
second attempt may fix: a refused connection, a timeout or a 502/503/504 on the idempotent
GET and PATCH (a POST only when it never reached the service). What is left is sorted by
what a caller should do next: `RecordNotFound` (404) and `ServiceRejected` (any other 4xx)
will not pass by retrying; `ServiceUnavailable` (refused connection, timeout, 5xx,
unreadable answer) may, later (the step's task retries with backoff).
"""

from __future__ import annotations

import http.client
import json
import urllib.parse
from typing import Any, Self

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import MaxRetryError
from urllib3.exceptions import TimeoutError as urllib3_timeout
from urllib3.util.retry import Retry

from machines.ports import Record, RecordNotFound, ServiceUnavailable
from telemetry import context

TENURES_PATH = "/api/v1/tenures"
PERSONS_PATH = "/api/v1/persons"
NAME_FIELDS = ("title", "firstName", "middleName", "surname")
_MAX_MESSAGE_LENGTH = 300

RETRIES = Retry(
    total=2,
    backoff_factor=0.2,  # 0.2 s, then 0.4 s: blips, not outages (the task retries those)
    status_forcelist=(502, 503, 504),
    allowed_methods=frozenset({"GET", "PATCH"}),  # this service's PATCHes set fixed values
    respect_retry_after_header=True,
    raise_on_status=False,  # the last answer is mapped below, like any other
)
POOL_SIZE = 8
"""Connections kept per service: a worker runs a few steps at once."""


def pooled_session() -> requests.Session:
    """A session with a connection pool and `RETRIES` for both schemes."""
    session = requests.Session()
    adapter = HTTPAdapter(pool_connections=1, pool_maxsize=POOL_SIZE, max_retries=RETRIES)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


class ServiceRejected(ValueError):
    """The service refused the request (a 4xx other than 404): sending it again will not help."""

    def __init__(self, method: str, url: str, status: int, message: str) -> None:
        super().__init__(f"{method} {url} answered {status}: {message}")
        self.method = method
        self.url = url
        self.status = status
        self.message = message


class _JsonClient:
    """JSON over HTTP with bearer authentication, mapping failures to the ports' exceptions."""

    def __init__(
        self,
        base_url: str,
        token: str | None,
        timeout: float = 5.0,
        *,
        correlation_id: str | None = None,
        session: requests.Session | None = None,
    ) -> None:
        self._base_url = base_url.rstrip("/")
        self._token = token or None
        self._timeout = timeout
        self._correlation_id = correlation_id
        self._session = session or pooled_session()

    def with_correlation_id(self, correlation_id: str) -> Self:
        """A copy of this client that sends `x-correlation-id: correlation_id`, sharing its
        connection pool."""
        return type(self)(
            self._base_url,
            self._token,
            self._timeout,
            correlation_id=correlation_id,
            session=self._session,
        )

    def _headers(self) -> dict[str, str]:
        headers = {"Accept": "application/json", "Content-Type": "application/json"}
        if self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        # The id this client was made with, else that of the request or task running now.
        correlation_id = self._correlation_id or context.correlation_id()
        if correlation_id:
            headers[context.CORRELATION_HEADER] = correlation_id
        return headers

    def _call(
        self,
        method: str,
        path: str,
        body: Record | None = None,
        *,
        not_found: tuple[str, str] | None = None,
    ) -> Any:
        """Send one request; return the decoded JSON answer, or None when there is no body.

        `not_found` is the (kind, id) to report as RecordNotFound on a 404; without it a
        404 means the endpoint is missing, which is a rejection.
        """
        url = self._base_url + path
        data = None if body is None else json.dumps(body).encode()
        try:
            response = self._session.request(
                method, url, data=data, headers=self._headers(), timeout=self._timeout
            )
            raw = response.content
        except requests.RequestException as error:
            raise ServiceUnavailable(
                self._scrub(f"{method} {url} failed: {_reason(error)}")
            ) from None
        status = response.status_code
        if status >= 400:
            raise self._error_for(method, url, status, raw, not_found)
        if not raw.strip():
            return None
        try:
            return json.loads(raw)
        except ValueError:
            raise ServiceUnavailable(
                f"{method} {url} answered {status} with a body that is not JSON."
            ) from None

    def _error_for(
        self,
        method: str,
        url: str,
        status: int,
        raw: bytes,
        not_found: tuple[str, str] | None,
    ) -> Exception:
        """The exception that says what an error status means to the caller."""
        if status == 404 and not_found is not None:
            return RecordNotFound(*not_found)
        if 400 <= status < 500:
            message = self._scrub(_message_of(raw) or http.client.responses.get(status, ""))
            return ServiceRejected(method, url, status, message)
        return ServiceUnavailable(self._scrub(f"{method} {url} answered {status}."))

    def _scrub(self, text: str) -> str:
        # Whatever a service echoes back, the token never reaches a log or a stored error.
        return text.replace(self._token, "***") if self._token else text

    def _get_record(self, path: str, kind: str, record_id: str) -> Record:
        record = self._call("GET", path, not_found=(kind, record_id))
        if not isinstance(record, dict):
            raise ServiceUnavailable(f"GET {self._base_url}{path} did not answer a JSON object.")
        return record


class HttpTenures(_JsonClient):
    """The Tenure API: `GET`/`PATCH {base}/api/v1/tenures/{id}`, `POST {base}/api/v1/tenures`."""

    def get(self, tenure_id: str) -> Record:
        """The tenure, or RecordNotFound."""
        return self._get_record(_item(TENURES_PATH, tenure_id), "tenure", tenure_id)

    def end(self, tenure_id: str, end_date: str) -> None:
        """Set the tenure's endOfTenureDate (yyyy-MM-dd)."""
        self._call(
            "PATCH",
            _item(TENURES_PATH, tenure_id),
            {"endOfTenureDate": end_date},
            not_found=("tenure", tenure_id),
        )

    def create(self, tenure: Record) -> Record:
        """Create `tenure` under its own `id`, or return the tenure already stored there."""
        tenure_id = _id_of(tenure)
        # Look first, so that a step repeated after a lost answer does not create it twice.
        try:
            return self.get(tenure_id)
        except RecordNotFound:
            pass
        try:
            created = self._call("POST", TENURES_PATH, tenure)
        except ServiceRejected as error:
            if error.status != 409:
                raise
            return self.get(tenure_id)  # someone created it between our look and our post
        return created if isinstance(created, dict) and created else dict(tenure)


class HttpPersons(_JsonClient):
    """The Person API: `GET`/`PATCH {base}/api/v1/persons/{id}`."""

    def get(self, person_id: str) -> Record:
        """The person, or RecordNotFound."""
        return self._get_record(_item(PERSONS_PATH, person_id), "person", person_id)

    def update_name(self, person_id: str, name: Record) -> None:
        """Set title, firstName, middleName and surname (a missing middleName clears it)."""
        self._call(
            "PATCH",
            _item(PERSONS_PATH, person_id),
            {field: name.get(field) for field in NAME_FIELDS},
            not_found=("person", person_id),
        )


def _item(collection_path: str, record_id: str) -> str:
    return f"{collection_path}/{urllib.parse.quote(str(record_id), safe='')}"


def _id_of(record: Record) -> str:
    record_id = record.get("id")
    if not record_id:
        raise ValueError("A record to create needs its `id`.")
    return str(record_id)


def _reason(error: requests.RequestException) -> str:
    """Why a request got no answer, in a few words (urllib3's own chain says it at length)."""
    cause = error.args[0] if error.args else None
    if isinstance(cause, MaxRetryError):  # retries ran out: say what the last attempt met
        cause = cause.reason
    if isinstance(error, requests.Timeout) or isinstance(cause, TimeoutError | urllib3_timeout):
        return "timed out"
    if isinstance(error, requests.ConnectionError):
        return "connection refused or lost"
    return type(error).__name__


def _message_of(raw: bytes) -> str:
    """The service's own explanation: `message` or `title` of a JSON body, else the text."""
    text = raw.decode("utf-8", errors="replace").strip()
    try:
        body = json.loads(text)
    except ValueError:
        return text[:_MAX_MESSAGE_LENGTH]
    if isinstance(body, dict):
        for key in ("message", "title", "detail"):
            if isinstance(body.get(key), str) and body[key]:
                return str(body[key])[:_MAX_MESSAGE_LENGTH]
    return text[:_MAX_MESSAGE_LENGTH]
