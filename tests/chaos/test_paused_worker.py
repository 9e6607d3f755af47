"""Fault 6: the Celery worker paused (SIGSTOP) while officers edit cases, upload documents and
remove them, each case with its automated step still queued. Every change bumps the case's
version; the steps, queued for an automation rather than a version, still run once each when
the worker resumes, and no case is left showing a step as queued for ever."""

from __future__ import annotations

import signal
import threading
import time
import uuid

import pytest

from tests.chaos.conftest import Report
from tests.chaos.harness import (
    Journal,
    Stack,
    audit,
    audit_final_state,
    finish_audits,
    running_stack,
    seed_tenures,
    size,
)

pytestmark = pytest.mark.slow

PROCESSES = size(12, 60)
CLIENTS = 3
PAUSED_SECONDS = size(8, 30)
"""Longer than the outbox grace (3 s here), so that sweeps run while the worker is paused."""
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n"


def queue_and_meddle(stack: Stack, tenures: list[str], journal: Journal) -> None:
    """Start audits, queue each one's step, then edit it, attach a file and remove it."""
    client = stack.client()
    while True:
        with journal.lock:
            if not tenures:
                return
            tenure = tenures.pop()
        process_id = journal.created_process(client.start_audit(tenure), tenure)
        if process_id is None:
            continue
        if not journal.fired(
            process_id, "ScheduleVisit", client.schedule_visit(process_id), (200,)
        ):
            continue
        path = f"/api/v1/process/tenancyaudit/{process_id}"
        edit = client.call("PATCH", path, {"processData": {"documents": [str(uuid.uuid4())]}})
        journal.note(f"edit {process_id}", edit, (200,))
        upload = client.upload("tenancyaudit", process_id, PDF, "visit-letter.pdf")
        if journal.note(f"upload {process_id}", upload, (201,)):
            document_id = upload.json["id"]
            removal = client.call("DELETE", f"{path}/documents/{document_id}")
            journal.note(f"remove {process_id}", removal, (204,))


def test_steps_queued_behind_a_paused_worker_survive_edits_uploads_and_removals(
    report: Report,
) -> None:
    with running_stack("paused-worker") as stack:
        tenures = seed_tenures(stack.db, PROCESSES)
        pool = list(tenures)
        journal = Journal()
        stack.worker.send(signal.SIGSTOP)
        paused_at = time.monotonic()
        try:
            clients = [
                threading.Thread(target=queue_and_meddle, args=(stack, pool, journal))
                for _ in range(CLIENTS)
            ]
            for thread in clients:
                thread.start()
            for thread in clients:
                thread.join(120)
            assert not journal.failures, journal.failures[:10]
            waiting = stack.db["processes"].count_documents(
                {"currentState.automation.status": "queued"}
            )
            time.sleep(max(0.0, PAUSED_SECONDS - (time.monotonic() - paused_at)))
        finally:
            stack.worker.send(signal.SIGCONT)
        resumed_at = time.monotonic()
        finished_in = finish_audits(stack, journal, timeout=size(90, 300))
        stuck = stack.db["processes"].count_documents({"currentState.automation.status": "queued"})
        # The steps ran for the automation they were queued for: none needed the sweep for
        # stranded steps, the safety net behind this.
        requeued = stack.db["processes"].count_documents({"activity.kind": "AutomationRequeued"})

        findings = audit(stack, journal, audit_final_state(tenures))
        assert len(journal.created) == PROCESSES
        assert waiting == PROCESSES, "every case had its step queued while the worker slept"
        assert stuck == 0
        assert requeued == 0
        report(
            findings,
            faults=1,
            **{
                "processes": PROCESSES,
                "changed while queued": 3 * PROCESSES,
                "worker paused s": round(resumed_at - paused_at, 1),
                "stuck after": stuck,
                "requeued by the stranded-step sweep": requeued,
                "all done in s": round(finished_in, 1),
                "swept follow-ups": stack.swept(),
            },
        )
