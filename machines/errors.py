"""Errors of the domain that the store and the use cases raise, and every edge maps."""


class ProcessNotFound(Exception):
    """No process has this id."""

    def __init__(self, process_id: str) -> None:
        super().__init__(f"Process {process_id} was not found.")
        self.process_id = process_id


class StaleProcess(Exception):
    """The process changed since it was read; the write was not made."""

    def __init__(self, process_id: str, version: int) -> None:
        super().__init__(f"Process {process_id} is no longer at version {version}.")
        self.process_id = process_id
        self.version = version


class ProcessTooLarge(Exception):
    """The change would take the process past the size it may grow to; nothing was written."""

    def __init__(self, process_id: str, size: int, budget: int) -> None:
        super().__init__(
            f"This change would make the case {_megabytes(size)} MB, over the "
            f"{_megabytes(budget)} MB a case may grow to by this kind of change. Remove data "
            "or documents the case no longer needs (an edit that makes it smaller is always "
            "accepted), or record the rest elsewhere."
        )
        self.process_id = process_id
        self.size = size
        self.budget = budget


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f}".removesuffix(".0")


class DocumentNotFound(Exception):
    """No document with this id is attached to the process."""

    def __init__(self, document_id: str) -> None:
        super().__init__(f"Document {document_id} was not found.")
        self.document_id = document_id
