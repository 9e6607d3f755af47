"""Use cases on the files attached to a process: attach, list, read, remove.

A file is checked (size, and type from its bytes), stored, and only then attached to the
process's current state in one version-conditioned update that also records the attachment
in the audit trail and queues a `DocumentAttached` event. If that update cannot be made, the
stored file is deleted again, so no file is left that no process lists.
"""

from __future__ import annotations

import hashlib
import logging
import unicodedata
import uuid
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import IO, Any

import filetype

from machines.errors import DocumentNotFound, ProcessNotFound
from machines.model import DocumentInfo, Process
from machines.ports import Dispatch, Files, Repository
from machines.stages import DOCUMENT_ATTACHED, DOCUMENT_REMOVED, attached_documents
from services import events
from services.commit import EDIT_BUDGET, apply_change
from services.context import Context, ExpectedVersion, version_matches
from services.errors import (
    FieldError,
    InvalidInput,
    PreconditionFailed,
    ProcessEnded,
    ServiceError,
)
from services.processes import definition_named, get

log = logging.getLogger(__name__)

PDF = "application/pdf"
JPEG = "image/jpeg"
PNG = "image/png"
HEIC = "image/heic"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"

TYPE_NAMES = {PDF: "PDF", JPEG: "JPEG", PNG: "PNG", HEIC: "HEIC", DOCX: "DOCX"}
DEFAULT_ALLOWED_TYPES = (PDF, JPEG, PNG, HEIC, DOCX)
DEFAULT_MAX_BYTES = 20 * 1024 * 1024

MAX_DOCUMENTS_PER_STATE = 100
"""As many as a trigger may send in `documents` (api.schemas.MAX_DOCUMENTS)."""
MAX_FILENAME_LENGTH = 200
READ_SIZE = 64 * 1024
SIGNATURE_BYTES = 8192
"""How much of the start of a file the type detection looks at."""

_ZIP_TYPES = {"application/zip", DOCX}
_REMOVED_CHARACTERS = {'"', "'", "`"}
_REPLACED_CHARACTERS = set("<>:|?*;\\/")
"""Characters some file systems or header parsers treat specially, replaced by `_`."""


class DocumentTooLarge(ServiceError):
    """The file is larger than uploads may be."""

    def __init__(self, max_bytes: int) -> None:
        super().__init__(f"The file is larger than the {describe_size(max_bytes)} allowed.")
        self.max_bytes = max_bytes


class UnsupportedDocumentType(ServiceError):
    """The file's content is not one of the accepted types, whatever its name or declared type."""

    def __init__(self, found: str | None, allowed: Iterable[str]) -> None:
        names = ", ".join(TYPE_NAMES.get(t, t) for t in allowed)
        what = f"is {TYPE_NAMES.get(found, found)}" if found else "is of no recognised type"
        super().__init__(
            f"The file's content {what}; accepted types are {names} "
            "(checked from the file's bytes, not its name or declared type)."
        )
        self.found = found


@dataclass(frozen=True)
class Limits:
    """What an upload may be."""

    max_bytes: int = DEFAULT_MAX_BYTES
    allowed_types: tuple[str, ...] = DEFAULT_ALLOWED_TYPES


@dataclass(frozen=True)
class Upload:
    """A file as received: its client-given name and a seekable binary stream of its bytes."""

    filename: str | None
    stream: IO[bytes]


@dataclass(frozen=True)
class Attached:
    """A file just attached, and the process as stored with it (its new version)."""

    info: DocumentInfo
    process: Process


@dataclass(frozen=True)
class Download:
    """A document's metadata and a way to read its bytes, opened only when needed."""

    info: DocumentInfo
    open: Callable[[], Iterator[bytes]]


def attach(
    repo: Repository,
    files: Files,
    process_name: str,
    process_id: str,
    upload: Upload | None,
    limits: Limits,
    ctx: Context,
    dispatch: Dispatch,
    expected_version: ExpectedVersion = None,
) -> Attached:
    """Check, store and attach a file to the process's current state.

    The caller's access to the process is checked first, so that one without it learns
    nothing from the validation of what they sent; `upload` is None when no file came. With
    an `expected_version` (If-Match) the file is refused unless the process is still there.
    """
    definition = definition_named(process_name)
    process = get(repo, process_name, process_id, ctx)
    if not version_matches(expected_version, process.version):
        raise PreconditionFailed(expected_version, process.version)
    if definition.is_final(process.state):
        raise ProcessEnded(process.state)
    if upload is None:
        raise InvalidInput(
            "Send the file as multipart/form-data, in a part named `file`.",
            [FieldError("file", "Missing data for required field.")],
            unprocessable=False,
        )
    _check_room(process)
    size, sha256 = _measure(upload.stream, limits.max_bytes)
    if size == 0:
        raise InvalidInput(
            "The file is empty.", [FieldError("file", "Must not be empty.")], unprocessable=False
        )
    content_type = detect_type(upload.stream)
    if content_type not in limits.allowed_types:
        raise UnsupportedDocumentType(content_type, limits.allowed_types)
    upload.stream.seek(0)
    document = DocumentInfo(
        id=str(uuid.uuid4()),
        process_id=process.id,
        process_name=process.process_name,
        filename=safe_filename(upload.filename),
        content_type=content_type,
        size=size,
        sha256=sha256,
        state=process.state,
        uploaded_by=ctx.actor,
        uploaded_at=ctx.clock(),
    )
    files.put(document, upload.stream)
    attached_in: list[str] = []

    def change(process: Process) -> None:
        if definition.is_final(process.state):
            raise ProcessEnded(process.state)
        _check_room(process)
        current = process.current_state
        moment = ctx.clock()
        current.documents = [*current.documents, document.id]
        current.updated_at = moment
        process.updated_at = moment
        details = _details(document)
        process.record(DOCUMENT_ATTACHED, ctx.actor, moment, **details)
        process.add_follow_up(
            events.raised(
                ctx,
                DOCUMENT_ATTACHED,
                process.id,
                old=None,
                new={**details, "state": process.state},
                at=moment,
            )
        )
        attached_in[:] = [process.state]

    try:
        stored = apply_change(
            repo,
            partial(get, repo, process_name, process_id, ctx),
            change,
            dispatch,
            expected_version,
            EDIT_BUDGET,
        )
    except BaseException:
        _discard_unless_attached(repo, files, process_id, document.id)
        raise
    if attached_in and attached_in[0] != document.state:
        # The process moved on between the first read and the update that attached the file.
        files.set_state(document.id, attached_in[0])
        return Attached(files.get(document.id), stored)
    return Attached(document, stored)


def list_documents(
    repo: Repository, files: Files, process_name: str, process_id: str, ctx: Context
) -> list[DocumentInfo]:
    """The stored documents attached to the process, newest first."""
    process = get(repo, process_name, process_id, ctx)
    attached = set(attached_documents(process))
    return [info for info in files.list_for_process(process.id) if info.id in attached]


def download(
    repo: Repository,
    files: Files,
    process_name: str,
    process_id: str,
    document_id: str,
    ctx: Context,
) -> Download:
    """A document attached to the process, to be read a chunk at a time."""
    info = _attached(get(repo, process_name, process_id, ctx), files, document_id)
    return Download(info, lambda: files.open(info.id))


def remove(
    repo: Repository,
    files: Files,
    process_name: str,
    process_id: str,
    document_id: str,
    ctx: Context,
    dispatch: Dispatch,
    expected_version: ExpectedVersion = None,
) -> Process:
    """Detach a stored document from the process, record it, then delete the file."""
    definition = definition_named(process_name)
    process = get(repo, process_name, process_id, ctx)
    if not version_matches(expected_version, process.version):
        raise PreconditionFailed(expected_version, process.version)
    info = _attached(process, files, document_id)

    def change(process: Process) -> None:
        if definition.is_final(process.state):
            raise ProcessEnded(process.state)
        if info.id not in attached_documents(process):
            raise DocumentNotFound(info.id)  # removed by a concurrent request
        moment = ctx.clock()
        current = process.current_state
        if info.id in current.documents:
            current.documents = [d for d in current.documents if d != info.id]
            current.updated_at = moment
        process.updated_at = moment
        details = _details(info)
        process.record(DOCUMENT_REMOVED, ctx.actor, moment, **details)
        process.add_follow_up(
            events.raised(
                ctx,
                DOCUMENT_REMOVED,
                process.id,
                old={**details, "state": info.state},
                new=None,
                at=moment,
            )
        )

    process = apply_change(
        repo, partial(get, repo, process_name, process_id, ctx), change, dispatch, expected_version
    )
    files.delete(info.id)
    return process


def detect_type(stream: IO[bytes]) -> str | None:
    """The MIME type of the stream's content, from its bytes; None when not recognised.

    A DOCX is a ZIP archive: it is taken as one only when the archive holds
    `word/document.xml`, whatever the first bytes suggest.
    """
    stream.seek(0)
    head = stream.read(SIGNATURE_BYTES)
    kind = filetype.guess(head)
    found = kind.mime if kind is not None else None
    if found in _ZIP_TYPES:
        found = DOCX if _is_docx(stream) else "application/zip"
    stream.seek(0)
    return found


def safe_filename(name: str | None) -> str:
    """A name fit to store and to send back in Content-Disposition, still readable.

    Drops any path (`../../etc/passwd` becomes `passwd`), control and format characters and
    quotes; replaces characters file systems reserve with `_`; keeps the extension when
    shortening to 200 characters.
    """
    text = unicodedata.normalize("NFC", name or "")
    text = text.replace("\\", "/").rsplit("/", 1)[-1]
    kept = []
    for char in text:
        category = unicodedata.category(char)
        if category in ("Cc", "Zl", "Zp"):
            kept.append(" ")  # newlines and tabs separate words
        elif category in ("Cf", "Cs") or char in _REMOVED_CHARACTERS:
            # Format characters include bidi overrides that disguise an extension.
            continue
        elif char in _REPLACED_CHARACTERS:
            kept.append("_")
        else:
            kept.append(char)
    cleaned = " ".join("".join(kept).split()).strip(" .")
    if len(cleaned) > MAX_FILENAME_LENGTH:
        stem, dot, extension = cleaned.rpartition(".")
        if dot and stem and len(extension) <= 16:
            cleaned = (
                f"{stem[: MAX_FILENAME_LENGTH - len(extension) - 1].rstrip(' .')}.{extension}"
            )
        else:
            cleaned = cleaned[:MAX_FILENAME_LENGTH].rstrip(" .")
    return cleaned or "document"


def describe_size(size: int) -> str:
    """A byte count as people read it: 20 MB, 512 KB, 300 bytes."""
    for unit, factor in (("MB", 1024 * 1024), ("KB", 1024)):
        if size >= factor and size % factor == 0:
            return f"{size // factor} {unit}"
    return f"{size} bytes"


def _check_room(process: Process) -> None:
    """Refuse (422) a document the current state has no room for."""
    if len(process.current_state.documents) >= MAX_DOCUMENTS_PER_STATE:
        raise InvalidInput(
            f"A state holds at most {MAX_DOCUMENTS_PER_STATE} documents.",
            [FieldError("file", "The current state has no room for another document.")],
            unprocessable=True,
        )


def _measure(stream: IO[bytes], max_bytes: int) -> tuple[int, str]:
    """Size and sha256 of the stream, read in blocks; `DocumentTooLarge` past `max_bytes`."""
    stream.seek(0)
    digest = hashlib.sha256()
    size = 0
    while block := stream.read(READ_SIZE):
        size += len(block)
        if size > max_bytes:
            raise DocumentTooLarge(max_bytes)
        digest.update(block)
    stream.seek(0)
    return size, digest.hexdigest()


def _is_docx(stream: IO[bytes]) -> bool:
    # Reads only the archive's directory; nothing is decompressed.
    stream.seek(0)
    try:
        with zipfile.ZipFile(stream) as archive:
            return "word/document.xml" in archive.namelist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return False


def _attached(process: Process, files: Files, document_id: str) -> DocumentInfo:
    """The stored document `document_id` if it is attached to `process`, else DocumentNotFound."""
    if document_id not in attached_documents(process):
        raise DocumentNotFound(document_id)
    info = files.get(document_id)
    if info.process_id != process.id:
        raise DocumentNotFound(document_id)
    return info


def _details(document: DocumentInfo) -> dict[str, Any]:
    return {
        "id": document.id,
        "filename": document.filename,
        "contentType": document.content_type,
        "size": document.size,
        "sha256": document.sha256,
    }


def _discard_unless_attached(
    repo: Repository, files: Files, process_id: str, document_id: str
) -> None:
    """Delete a stored file whose attachment failed, unless the process lists it after all.

    A write whose outcome is unknown (the connection dropped) may have been applied: then the
    file is kept, since a file no process lists is a smaller harm than a listed file missing.
    """
    try:
        try:
            attached = document_id in attached_documents(repo.get(process_id))
        except ProcessNotFound:
            attached = False
        if not attached:
            files.delete(document_id)
    except Exception:  # noqa: BLE001 - the original error is the one to report
        log.warning("could not tidy up document %s of %s", document_id, process_id, exc_info=True)
