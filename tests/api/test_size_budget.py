"""A case cannot be grown past what MongoDB stores: large edits are kept in the audit trail by
size only, and a case at its budget refuses growth clearly while staying editable."""

from __future__ import annotations

from typing import Any

import bson
from flask.testing import FlaskClient
from pymongo.database import Database

from services.commit import EDIT_BUDGET
from services.processes import TRAIL_VALUE_LIMIT
from tests.support import BASE, body_of, fire, start

LARGE = 900 * 1024
"""A value just under the 1 MB a request body may be."""


def url(process: dict[str, Any]) -> str:
    return f"{BASE}/{process['processName']}/{process['id']}"


def edit(client: FlaskClient, process: dict[str, Any], form: dict[str, Any]):  # type: ignore[no-untyped-def]
    return client.patch(url(process), json={"processData": {"formData": form}})


def stored_size(db: Database, process: dict[str, Any]) -> int:
    document = db["processes"].find_one({"_id": process["id"]})
    assert document is not None
    return len(bson.encode(document))


def test_large_edits_are_kept_in_the_trail_by_size_only(client: FlaskClient, db: Database):
    """Three edits of a 900 KB value grow the case by about the value each, not by its old
    and new copies in the trail: the trail notes a large value's size, a small one in full."""
    process = start(client, "changeofname")
    for letter in "abc":
        assert edit(client, process, {"notes": letter * LARGE}).status_code == 200
    response = edit(client, process, {"short": "kept"})
    assert response.status_code == 200
    body = body_of(response)

    assert stored_size(db, process) < 1.1 * LARGE  # the one current value, and little else
    large, small = body["activity"][-2:]
    assert large["details"]["new"]["formData"]["notes"] == {
        "omitted": f"{LARGE + 2} characters, too large for the audit trail"
    }
    assert small["details"]["new"]["formData"] == {"short": "kept"}
    assert small["details"]["old"]["formData"] == {}
    assert len('"kept"') <= TRAIL_VALUE_LIMIT


def test_a_case_at_its_budget_refuses_growth_and_stays_editable(client: FlaskClient, db: Database):
    """Edits adding 900 KB each are accepted until the case would pass its budget, then
    refused with a 422 that says what to do, changing nothing; an edit that makes the case
    smaller is still accepted, and so is the next trigger."""
    process = start(client, "changeofname")
    accepted = 0
    while True:
        response = edit(client, process, {f"part{accepted}": "x" * LARGE})
        if response.status_code != 200:
            break
        accepted += 1
        assert accepted < 20, "the budget never applied"
    problem = response.get_json()
    assert response.status_code == 422, problem
    assert problem["type"].endswith("process-too-large")
    assert "8 MB" in problem["detail"]
    assert "smaller is always accepted" in problem["detail"]
    assert accepted >= 7
    size = stored_size(db, process)
    assert EDIT_BUDGET - 2 * LARGE < size <= EDIT_BUDGET
    version = body_of(client.get(url(process)))["version"]
    assert version == accepted

    smaller = edit(client, process, {"part0": ""})
    assert smaller.status_code == 200, smaller.get_json()
    assert stored_size(db, process) < size
    moved_on = fire(
        client,
        body_of(smaller),
        "EnterNewName",
        {"title": "Ms", "firstName": "Patricia", "surname": "Williams"},
    )
    assert moved_on.status_code == 200, moved_on.get_json()
    assert body_of(moved_on)["currentState"]["state"] == "NameSubmitted"
