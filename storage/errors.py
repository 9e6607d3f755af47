"""Errors the store raises, in the domain's terms."""


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


class StoreUnavailable(Exception):
    """The database did not answer."""
