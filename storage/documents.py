"""Files attached to processes, kept in MongoDB GridFS (bucket `documents`).

The only module that knows how a document is stored: its bytes in `documents.chunks`, its
metadata (process, type, size, sha256, who uploaded it, when, and the state it was attached
in) under `metadata` in `documents.files`. The file's `_id` is the document id, a UUID string,
so it is what a state's `documents` list holds.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO, Any

from gridfs import GridFSBucket
from gridfs.errors import NoFile
from pymongo import ASCENDING, DESCENDING, IndexModel
from pymongo.collection import Collection
from pymongo.database import Database

from machines.errors import DocumentNotFound
from machines.model import DocumentInfo
from settings import Settings
from storage.mongo import database

BUCKET = "documents"

INDEXES = [
    IndexModel(
        [("metadata.processId", ASCENDING), ("metadata.uploadedAt", DESCENDING)],
        name="by_process_newest_first",
    ),
]


class DocumentStore:
    """Documents in a GridFS bucket, found by id or by the process they belong to."""

    def __init__(self, db: Database) -> None:
        self._bucket = GridFSBucket(db, bucket_name=BUCKET)
        self._files: Collection = db[f"{BUCKET}.files"]

    def create_indexes(self) -> None:
        """Create the indexes listings rely on; safe to call at every start."""
        self._files.create_indexes(INDEXES)

    def put(self, document: DocumentInfo, source: IO[bytes]) -> None:
        """Store `source`, read to its end in chunks, under `document.id` with its metadata."""
        self._bucket.upload_from_stream_with_id(
            document.id, document.filename, source, metadata=_metadata(document)
        )

    def get(self, document_id: str) -> DocumentInfo:
        """The document's metadata, or `DocumentNotFound`."""
        found = self._files.find_one({"_id": document_id})
        if found is None:
            raise DocumentNotFound(document_id)
        return _info(found)

    def list_for_process(self, process_id: str) -> list[DocumentInfo]:
        """Every stored document of the process, newest first."""
        cursor = self._files.find({"metadata.processId": process_id}).sort(
            [("metadata.uploadedAt", DESCENDING), ("_id", DESCENDING)]
        )
        with cursor:
            return [_info(found) for found in cursor]

    def open(self, document_id: str) -> Iterator[bytes]:
        """The document's bytes, one GridFS chunk at a time.

        The file is opened here, so a missing one fails before any byte is sent; the
        returned iterator closes it when exhausted or closed.
        """
        try:
            grid_out = self._bucket.open_download_stream(document_id)
        except NoFile:
            raise DocumentNotFound(document_id) from None
        return _chunks(grid_out)

    def set_state(self, document_id: str, state: str) -> None:
        """Record the state the document ended up attached in."""
        self._files.update_one({"_id": document_id}, {"$set": {"metadata.state": state}})

    def delete(self, document_id: str) -> bool:
        """Delete the document's metadata and bytes; False when there was nothing to delete."""
        try:
            self._bucket.delete(document_id)
        except NoFile:
            return False
        return True


def document_store(settings: Settings) -> DocumentStore:
    """The document store on the configured database."""
    return DocumentStore(database(settings.mongo_uri, settings.mongo_db))


def _chunks(grid_out: Any) -> Iterator[bytes]:
    # GridOut iterates by lines, not chunks; readchunk() keeps memory to one chunk.
    try:
        while chunk := grid_out.readchunk():
            yield chunk
    finally:
        grid_out.close()


def _metadata(document: DocumentInfo) -> dict[str, Any]:
    return {
        "processId": document.process_id,
        "processName": document.process_name,
        "contentType": document.content_type,
        "size": document.size,
        "sha256": document.sha256,
        "state": document.state,
        "uploadedBy": document.uploaded_by,
        "uploadedAt": document.uploaded_at,
    }


def _info(found: dict[str, Any]) -> DocumentInfo:
    metadata = found.get("metadata") or {}
    return DocumentInfo(
        id=found["_id"],
        process_id=metadata["processId"],
        process_name=metadata.get("processName", ""),
        filename=found.get("filename") or "document",
        content_type=metadata.get("contentType") or "application/octet-stream",
        size=metadata.get("size", found.get("length", 0)),
        sha256=metadata.get("sha256", ""),
        state=metadata.get("state", ""),
        uploaded_by=metadata.get("uploadedBy"),
        uploaded_at=metadata.get("uploadedAt") or found["uploadDate"],
    )
