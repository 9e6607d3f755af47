"""What a page needs from the app beyond what the API's views use (api.deps)."""

from __future__ import annotations

from flask import current_app

from api import documents as api_documents
from machines.ports import Persons, Ports, Tenures
from services.documents import Limits
from settings import Settings
from storage.documents import DocumentStore

_PORTS = "ui.ports"


def settings() -> Settings:
    """The app's settings."""
    found: Settings = current_app.extensions["settings"]
    return found


def ports() -> Ports:
    """The Tenure and Person services as the workers reach them: over HTTP when their URLs
    are set, else the local records in this service's database."""
    found: Ports | None = current_app.extensions.get(_PORTS)
    if found is None:
        from adapters.http_services import HttpPersons, HttpTenures
        from storage.local_services import LocalPersons, LocalTenures
        from storage.mongo import database

        config = settings()
        db = database(config.mongo_uri, config.mongo_db)
        tenures: Tenures = (
            HttpTenures(config.tenure_api_url, config.tenure_api_token)
            if config.tenure_api_url
            else LocalTenures(db)
        )
        persons: Persons = (
            HttpPersons(config.person_api_url, config.person_api_token)
            if config.person_api_url
            else LocalPersons(db)
        )
        found = Ports(tenures=tenures, persons=persons)
        current_app.extensions[_PORTS] = found
    return found


def files() -> DocumentStore:
    """The document store, as the API's document endpoints use it."""
    return api_documents._files()


def limits() -> Limits:
    """Upload limits, as the API's upload endpoint applies them."""
    return api_documents._limits()
