"""The local tenure and person store against the real MongoDB-compatible server."""

from __future__ import annotations

from typing import Any

import pytest
from pymongo.database import Database

from machines.ports import Ports, RecordNotFound
from storage import local_services
from storage.local_services import LocalPersons, LocalTenures, seed_demo

TENURE_ID = "7b0f1c2e-3d4a-4b5c-8d6e-0f1a2b3c4d5e"
PERSON_ID = "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d"


def tenure(**overrides: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "id": TENURE_ID,
        "paymentReference": "1234567890",
        "householdMembers": [],
        "tenureType": {"code": "SEC", "description": "Secure"},
        "startOfTenureDate": "2012-04-02",
        "endOfTenureDate": None,
        "isActive": True,
    }
    record.update(overrides)
    return record


def person() -> dict[str, Any]:
    return {
        "id": PERSON_ID,
        "title": "Mr",
        "firstName": "Alex",
        "middleName": "J",
        "surname": "Morgan",
        "dateOfBirth": "1968-05-17",
        "tenures": [],
    }


@pytest.fixture
def tenures(db: Database) -> LocalTenures:
    return LocalTenures(db)


@pytest.fixture
def persons(db: Database) -> LocalPersons:
    return LocalPersons(db)


def test_local_services_fill_ports(tenures: LocalTenures, persons: LocalPersons) -> None:
    """Both stores can stand as the ports a step uses."""
    assert Ports(tenures=tenures, persons=persons).persons is persons


def test_tenure_round_trip_keeps_id_as_key(db: Database, tenures: LocalTenures) -> None:
    """A created tenure is stored under `_id` only and comes back with `id`."""
    tenures.create(tenure())
    stored = db["tenures"].find_one({"_id": TENURE_ID})
    assert stored is not None
    assert "id" not in stored
    assert tenures.get(TENURE_ID) == tenure()


def test_tenure_get_missing_raises_record_not_found(tenures: LocalTenures) -> None:
    """An unknown tenure id is a RecordNotFound."""
    with pytest.raises(RecordNotFound) as caught:
        tenures.get(TENURE_ID)
    assert (caught.value.kind, caught.value.record_id) == ("tenure", TENURE_ID)


def test_person_get_returns_record(db: Database, persons: LocalPersons) -> None:
    """A stored person comes back with `id`."""
    db["persons"].insert_one(
        {"_id": PERSON_ID, **{k: v for k, v in person().items() if k != "id"}}
    )
    assert persons.get(PERSON_ID) == person()


def test_person_get_missing_raises_record_not_found(persons: LocalPersons) -> None:
    """An unknown person id is a RecordNotFound."""
    with pytest.raises(RecordNotFound) as caught:
        persons.get(PERSON_ID)
    assert caught.value.kind == "person"


def test_end_sets_end_date_and_is_idempotent(db: Database, tenures: LocalTenures) -> None:
    """Ending sets endOfTenureDate; ending again with the same date changes nothing."""
    tenures.create(tenure())
    tenures.end(TENURE_ID, "2099-12-01")
    once = db["tenures"].find_one({"_id": TENURE_ID})
    tenures.end(TENURE_ID, "2099-12-01")
    assert db["tenures"].find_one({"_id": TENURE_ID}) == once
    assert tenures.get(TENURE_ID)["endOfTenureDate"] == "2099-12-01"
    assert tenures.get(TENURE_ID)["isActive"] is True  # ends in the future


def test_tenure_ended_in_the_past_is_not_active(tenures: LocalTenures) -> None:
    """As in the Tenure API, a tenure whose end date has passed reads as not active."""
    tenures.create(tenure())
    tenures.end(TENURE_ID, "2020-01-01")
    assert tenures.get(TENURE_ID)["isActive"] is False


def test_end_missing_tenure_raises_record_not_found(tenures: LocalTenures) -> None:
    """Ending an unknown tenure is a RecordNotFound."""
    with pytest.raises(RecordNotFound):
        tenures.end(TENURE_ID, "2026-12-01")


def test_create_repeated_returns_first(db: Database, tenures: LocalTenures) -> None:
    """Creating the same id again returns the stored tenure and overwrites nothing."""
    first = tenures.create(tenure(paymentReference="first"))
    again = tenures.create(tenure(paymentReference="second"))
    assert again == first
    assert again["paymentReference"] == "first"
    assert db["tenures"].count_documents({}) == 1


def test_create_needs_an_id(tenures: LocalTenures) -> None:
    """A tenure without an id is refused."""
    with pytest.raises(ValueError, match="id"):
        tenures.create({"paymentReference": "1"})


def test_update_name_writes_four_fields(db: Database, persons: LocalPersons) -> None:
    """The four name fields are set; the rest of the person is untouched; repeating is a no-op."""
    db["persons"].insert_one(
        {"_id": PERSON_ID, **{k: v for k, v in person().items() if k != "id"}}
    )
    name = {"title": "Dr", "firstName": "Alexandra", "middleName": None, "surname": "Khan"}
    persons.update_name(PERSON_ID, {k: v for k, v in name.items() if k != "middleName"})
    assert persons.get(PERSON_ID) == {**person(), **name}
    once = db["persons"].find_one({"_id": PERSON_ID})
    persons.update_name(PERSON_ID, name)
    assert db["persons"].find_one({"_id": PERSON_ID}) == once


def test_update_name_missing_person_raises_record_not_found(persons: LocalPersons) -> None:
    """Renaming an unknown person is a RecordNotFound."""
    with pytest.raises(RecordNotFound):
        persons.update_name(PERSON_ID, {"title": "Mr", "firstName": "A", "surname": "B"})


def test_seed_demo_is_idempotent(db: Database) -> None:
    """Seeding twice leaves the same records and returns the same ids."""
    ids = seed_demo(db)
    counts = (db["tenures"].count_documents({}), db["persons"].count_documents({}))
    snapshot = list(db["tenures"].find(sort=[("_id", 1)])) + list(
        db["persons"].find(sort=[("_id", 1)])
    )
    assert seed_demo(db) == ids
    assert (db["tenures"].count_documents({}), db["persons"].count_documents({})) == counts
    assert counts == (3, 5)
    assert (
        list(db["tenures"].find(sort=[("_id", 1)])) + list(db["persons"].find(sort=[("_id", 1)]))
        == snapshot
    )


def test_seed_demo_restores_changed_records(db: Database) -> None:
    """Seeding again undoes what a demonstration changed."""
    seed_demo(db)
    LocalTenures(db).end(local_services.DEMO_SOLE_TENURE_ID, "2020-01-01")
    LocalPersons(db).update_name(
        local_services.DEMO_TENANT_ID, {"title": "Dr", "firstName": "X", "surname": "Y"}
    )
    seed_demo(db)
    assert LocalTenures(db).get(local_services.DEMO_SOLE_TENURE_ID)["endOfTenureDate"] is None
    assert LocalPersons(db).get(local_services.DEMO_TENANT_ID)["firstName"] == "Alex"


def test_seed_demo_sole_tenure_fits_sole_to_joint(db: Database) -> None:
    """The sole tenure is secure, active, with one responsible tenant and eligible members."""
    ids = seed_demo(db)
    sole = LocalTenures(db).get(ids["soleTenureId"])
    assert sole["tenureType"] == {"code": "SEC", "description": "Secure"}
    assert sole["isActive"] is True
    assert sole["endOfTenureDate"] is None
    responsible = [m for m in sole["householdMembers"] if m["isResponsible"]]
    assert [(m["id"], m["personTenureType"]) for m in responsible] == [(ids["tenantId"], "Tenant")]
    members = {m["id"]: m for m in sole["householdMembers"]}
    assert members[ids["proposedTenantId"]]["personTenureType"] == "HouseholdMember"
    assert members[ids["minorId"]]["dateOfBirth"] > "2009-01-01"
    for member in sole["householdMembers"]:
        assert member["type"] == "Person"
    for key in ("tenuredAsset", "notices", "legacyReferences", "charges", "agreementType"):
        assert key in sole


def test_seed_demo_other_records_fail_their_rules(db: Database) -> None:
    """The non-secure tenure fails BR4; one person holds another active secure tenure (BR9)."""
    ids = seed_demo(db)
    tenures, persons = LocalTenures(db), LocalPersons(db)
    assert tenures.get(ids["nonSecureTenureId"])["tenureType"]["code"] == "NON"
    holder = persons.get(ids["personWithOtherTenureId"])
    others = [t for t in holder["tenures"] if t["id"] != ids["soleTenureId"] and t["isActive"]]
    assert [t["id"] for t in others] == [ids["otherSecureTenureId"]]
    assert tenures.get(ids["otherSecureTenureId"])["tenureType"]["code"] == "SEC"
    assert persons.get(ids["proposedTenantId"])["tenures"][0]["id"] == ids["soleTenureId"]
    assert len(persons.get(ids["proposedTenantId"])["tenures"]) == 1
