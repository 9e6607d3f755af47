"""Build what tasks need from settings, once per worker process."""

from __future__ import annotations

from functools import cache

import redis

from adapters.event_sinks import RedisStream
from adapters.http_services import HttpPersons, HttpTenures
from machines.ports import Persons, Ports, Tenures
from settings import Settings, from_env
from storage import ProcessRepository, repository
from storage.local_services import LocalPersons, LocalTenures
from storage.mongo import database


@cache
def settings() -> Settings:
    return from_env()


def processes() -> ProcessRepository:
    return repository(settings())


@cache
def ports() -> Ports:
    """HTTP clients of the Tenure and Person APIs when their URLs are set, else local records."""
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
    return Ports(tenures=tenures, persons=persons)


@cache
def stream() -> RedisStream:
    config = settings()
    return RedisStream(redis.Redis.from_url(config.redis_url), config.events_stream)
