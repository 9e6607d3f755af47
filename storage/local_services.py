"""Tenures and persons kept in this service's own MongoDB, for demonstrations and development.

Records have the JSON shapes of the Tenure and Person APIs and are stored one document
each in the `tenures` and `persons` collections, with the record's `id` as `_id`. As in
those APIs, `isActive` is read from the end date: a tenure whose end date has passed is
not active, whatever was stored.
"""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime
from typing import Any

from pymongo.collection import Collection
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

from machines.ports import Record, RecordNotFound

NAME_FIELDS = ("title", "firstName", "middleName", "surname")

DEMO_SOLE_TENURE_ID = "cb656de0-f407-42fc-aeb0-fcf09434c09b"
"""Secure, active, sole tenure: the target of a sole-to-joint that passes the automated checks."""
DEMO_NON_SECURE_TENURE_ID = "e1df6335-6a66-48d0-8033-e247cffdd5d5"
"""Non-secure, active tenure: fails BR4."""
DEMO_OTHER_SECURE_TENURE_ID = "db6d7608-3da9-43fb-a31e-f53548e21f6e"
"""Secure, active tenure elsewhere, held by DEMO_PERSON_WITH_OTHER_TENURE_ID."""

DEMO_TENANT_ID = "cde6e8de-b25e-4e2b-b450-445126a76bd2"
"""The sole tenure's responsible tenant (the process's `person/tenant` related entity)."""
DEMO_PROPOSED_TENANT_ID = "81a2e69b-05e1-4e42-b44c-bb1a0a845dff"
"""Adult household member of the sole tenure with no other tenure: eligible for joint tenancy."""
DEMO_MINOR_ID = "e10e5100-2bfa-409d-b251-a4eb7cf0a214"
"""Household member of the sole tenure born in 2016: fails BR19."""
DEMO_PERSON_WITH_OTHER_TENURE_ID = "179cb273-af35-482a-bb63-aa8c3cf891dd"
"""Adult household member of the sole tenure who holds another active secure tenure: fails BR9."""
DEMO_NON_SECURE_TENANT_ID = "b124e260-4b15-4471-a312-a53be7e43f94"
"""The non-secure tenure's tenant."""


class LocalTenures:
    """Tenures in the `tenures` collection."""

    def __init__(self, db: Database) -> None:
        self._tenures: Collection = db["tenures"]

    def get(self, tenure_id: str) -> Record:
        """The tenure, or RecordNotFound."""
        document = self._tenures.find_one({"_id": tenure_id})
        if document is None:
            raise RecordNotFound("tenure", tenure_id)
        tenure = _to_record(document)
        if not _is_active(tenure.get("endOfTenureDate")):
            tenure["isActive"] = False
        return tenure

    def end(self, tenure_id: str, end_date: str) -> None:
        """Set the tenure's endOfTenureDate (yyyy-MM-dd)."""
        result = self._tenures.update_one(
            {"_id": tenure_id}, {"$set": {"endOfTenureDate": end_date}}
        )
        if result.matched_count == 0:
            raise RecordNotFound("tenure", tenure_id)

    def create(self, tenure: Record) -> Record:
        """Create `tenure` under its own `id`, or return the tenure already stored there."""
        document = _to_document(tenure)
        # Created before, by an earlier run of the same step: keep the first.
        with contextlib.suppress(DuplicateKeyError):
            self._tenures.insert_one(document)
        return self.get(document["_id"])


class LocalPersons:
    """Persons in the `persons` collection."""

    def __init__(self, db: Database) -> None:
        self._persons: Collection = db["persons"]

    def get(self, person_id: str) -> Record:
        """The person, or RecordNotFound."""
        document = self._persons.find_one({"_id": person_id})
        if document is None:
            raise RecordNotFound("person", person_id)
        person = _to_record(document)
        for tenure in person.get("tenures") or []:
            if isinstance(tenure, dict) and not _is_active(tenure.get("endDate")):
                tenure["isActive"] = False
        return person

    def update_name(self, person_id: str, name: Record) -> None:
        """Set title, firstName, middleName and surname (a missing middleName clears it)."""
        fields = {field: name.get(field) for field in NAME_FIELDS}
        result = self._persons.update_one({"_id": person_id}, {"$set": fields})
        if result.matched_count == 0:
            raise RecordNotFound("person", person_id)


def seed_demo(db: Database) -> dict[str, str]:
    """Write the demonstration tenures and persons (again), and return their ids by role.

    Running it twice leaves the same records: each is replaced by its seed version, which
    also undoes what a finished demonstration changed in them.
    """
    tenures, persons = _demo_records()
    for collection, records in ((db["tenures"], tenures), (db["persons"], persons)):
        for record in records:
            document = _to_document(record)
            collection.replace_one({"_id": document["_id"]}, document, upsert=True)
    return {
        "soleTenureId": DEMO_SOLE_TENURE_ID,
        "nonSecureTenureId": DEMO_NON_SECURE_TENURE_ID,
        "otherSecureTenureId": DEMO_OTHER_SECURE_TENURE_ID,
        "tenantId": DEMO_TENANT_ID,
        "proposedTenantId": DEMO_PROPOSED_TENANT_ID,
        "minorId": DEMO_MINOR_ID,
        "personWithOtherTenureId": DEMO_PERSON_WITH_OTHER_TENURE_ID,
        "nonSecureTenantId": DEMO_NON_SECURE_TENANT_ID,
    }


def _to_document(record: Record) -> dict[str, Any]:
    if not record.get("id"):
        raise ValueError("A record to store needs its `id`.")
    document = {key: value for key, value in record.items() if key != "id"}
    return {"_id": str(record["id"]), **document}


def _to_record(document: dict[str, Any]) -> Record:
    record = {key: value for key, value in document.items() if key != "_id"}
    return {"id": document["_id"], **record}


def _is_active(end_date: Any) -> bool:
    """Whether a tenure ending on `end_date` (yyyy-MM-dd, or none) is still running today."""
    if not end_date or not isinstance(end_date, str) or end_date.startswith("1900-01-01"):
        return True  # no end date; 1900-01-01 is the legacy systems' "none"
    return end_date[:10] > datetime.now(UTC).date().isoformat()


# Demonstration data -------------------------------------------------------------------

_SECURE = {"code": "SEC", "description": "Secure"}
_NON_SECURE = {"code": "NON", "description": "Non-Secure"}
_MASTER_ACCOUNT = {"code": "M", "description": "Master Account"}
_SOLE_ADDRESS = "Flat 3, 12 Mare Street, London, E8 1AA"
_OTHER_ADDRESS = "45 Dalston Lane, London, E8 3DF"
_NON_SECURE_ADDRESS = "Flat 9, 2 Well Street, London, E9 7PX"


def _demo_records() -> tuple[list[Record], list[Record]]:
    sole = _tenure(
        DEMO_SOLE_TENURE_ID,
        payment_reference="1234567890",
        asset=("5f3c1c52-3a4e-4c40-9a54-1d1f0c6a1001", _SOLE_ADDRESS, "100021000001"),
        tenure_type=_SECURE,
        start="2012-04-02",
        members=[
            _member(DEMO_TENANT_ID, "Alex Morgan", "1968-05-17", "Tenant", responsible=True),
            _member(DEMO_PROPOSED_TENANT_ID, "Sam Morgan", "1972-09-03", "HouseholdMember"),
            _member(DEMO_MINOR_ID, "Robin Morgan", "2016-03-14", "HouseholdMember"),
            _member(
                DEMO_PERSON_WITH_OTHER_TENURE_ID, "Jordan Ellis", "1980-11-28", "HouseholdMember"
            ),
        ],
    )
    other = _tenure(
        DEMO_OTHER_SECURE_TENURE_ID,
        payment_reference="1234567891",
        asset=("5f3c1c52-3a4e-4c40-9a54-1d1f0c6a1002", _OTHER_ADDRESS, "100021000002"),
        tenure_type=_SECURE,
        start="2019-07-15",
        members=[
            _member(
                DEMO_PERSON_WITH_OTHER_TENURE_ID,
                "Jordan Ellis",
                "1980-11-28",
                "Tenant",
                responsible=True,
            ),
        ],
    )
    non_secure = _tenure(
        DEMO_NON_SECURE_TENURE_ID,
        payment_reference="1234567892",
        asset=("5f3c1c52-3a4e-4c40-9a54-1d1f0c6a1003", _NON_SECURE_ADDRESS, "100021000003"),
        tenure_type=_NON_SECURE,
        start="2023-01-09",
        members=[
            _member(
                DEMO_NON_SECURE_TENANT_ID, "Chris Okafor", "1990-02-21", "Tenant", responsible=True
            ),
        ],
    )
    persons = [
        _person(DEMO_TENANT_ID, "Mr", "Alex", "Morgan", "1968-05-17", ["Tenant"], [sole]),
        _person(
            DEMO_PROPOSED_TENANT_ID,
            "Ms",
            "Sam",
            "Morgan",
            "1972-09-03",
            ["HouseholdMember"],
            [sole],
        ),
        _person(
            DEMO_MINOR_ID, "Master", "Robin", "Morgan", "2016-03-14", ["HouseholdMember"], [sole]
        ),
        _person(
            DEMO_PERSON_WITH_OTHER_TENURE_ID,
            "Mx",
            "Jordan",
            "Ellis",
            "1980-11-28",
            ["Tenant", "HouseholdMember"],
            [sole, other],
        ),
        _person(
            DEMO_NON_SECURE_TENANT_ID,
            "Mr",
            "Chris",
            "Okafor",
            "1990-02-21",
            ["Tenant"],
            [non_secure],
        ),
    ]
    return [sole, other, non_secure], persons


def _tenure(
    tenure_id: str,
    *,
    payment_reference: str,
    asset: tuple[str, str, str],
    tenure_type: dict[str, str],
    start: str,
    members: list[Record],
) -> Record:
    asset_id, full_address, uprn = asset
    return {
        "id": tenure_id,
        "paymentReference": payment_reference,
        "householdMembers": members,
        "tenuredAsset": {
            "id": asset_id,
            "type": "Dwelling",
            "fullAddress": full_address,
            "uprn": uprn,
        },
        "startOfTenureDate": start,
        "endOfTenureDate": None,
        "tenureType": dict(tenure_type),
        "isActive": True,
        "isTenanted": True,
        "notices": [],
        "legacyReferences": [],
        "charges": {},
        "agreementType": dict(_MASTER_ACCOUNT),
    }


def _member(
    person_id: str,
    full_name: str,
    date_of_birth: str,
    person_tenure_type: str,
    *,
    responsible: bool = False,
) -> Record:
    return {
        "id": person_id,
        "type": "Person",
        "fullName": full_name,
        "isResponsible": responsible,
        "dateOfBirth": date_of_birth,
        "personTenureType": person_tenure_type,
    }


def _person(
    person_id: str,
    title: str,
    first_name: str,
    surname: str,
    date_of_birth: str,
    person_types: list[str],
    tenures: list[Record],
) -> Record:
    return {
        "id": person_id,
        "title": title,
        "firstName": first_name,
        "middleName": None,
        "surname": surname,
        "dateOfBirth": date_of_birth,
        "personTypes": person_types,
        # As the Person API lists them: `type` is the tenure type's description.
        "tenures": [
            {
                "id": tenure["id"],
                "type": tenure["tenureType"]["description"],
                "startDate": tenure["startOfTenureDate"],
                "endDate": tenure["endOfTenureDate"],
                "isActive": tenure["isActive"],
                "assetFullAddress": tenure["tenuredAsset"]["fullAddress"],
                "paymentReference": tenure["paymentReference"],
            }
            for tenure in tenures
        ],
    }
