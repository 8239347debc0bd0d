"""The phone's job screen in one request: GET /v1/jobs/{id} carries the times,
documents, closure and cancellation exactly as their own endpoints show them."""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import event, select

from techapi.evidence.documents import move_document
from techapi.evidence.models import Document, DocumentStatus
from tests import media
from tests.closing import ask_closure, make_ready


@pytest.fixture
def people(auth, world, synced):
    auth.user("tech", "technician", technician_id=world.technician_ids[0])
    auth.user("other", "technician", technician_id=world.technician_ids[1])
    auth.user("boss", "supervisor", stores=tuple(world.store_ids))
    return {name: auth.headers(name) for name in ("tech", "other", "boss")}


@pytest.fixture
def job_id(client, people):
    return client.get("/v1/jobs", headers=people["tech"]).get_json()["jobs"][1]["serviceJobId"]


def get(client, headers, path):
    response = client.get(path, headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def add_photo(client, headers, job_id, shade: int) -> dict:
    response = client.post(f"/v1/jobs/{job_id}/documents", headers=headers, content_type="multipart/form-data",
                           data={"kind": "PHOTO", "file": (io.BytesIO(media.jpeg(color=(shade, 90, 40))), "p.jpg")})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def without_link(doc: dict) -> dict:
    return {k: v for k, v in doc.items() if k != "contentUrl"}


@contextmanager
def counting_queries(engine) -> Iterator[list[str]]:
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def test_one_get_of_the_job_shows_what_times_documents_and_closure_show(client, people, job_id):
    tech = people["tech"]
    make_ready(client, tech, job_id, photos=1)
    assert ask_closure(client, tech, job_id).status_code == 200

    detail = get(client, tech, f"/v1/jobs/{job_id}")

    assert detail["times"] == get(client, tech, f"/v1/jobs/{job_id}/times")
    assert detail["times"]["start"]["deviceAt"] and detail["times"]["finish"]["version"] == 1
    listed = get(client, tech, f"/v1/jobs/{job_id}/documents")["documents"]
    assert [without_link(d) for d in detail["documents"]] == listed
    assert {d["kind"] for d in detail["documents"]} == {"POA", "PHOTO"}
    for doc in detail["documents"]:
        assert doc["contentUrl"] == f"/v1/jobs/{job_id}/documents/{doc['id']}/content"
        assert client.get(doc["contentUrl"], headers=tech).status_code == 200
    assert "thumbnailUrl" not in detail["documents"][0]  # none until thumbnails exist
    assert detail["closure"] == get(client, tech, f"/v1/jobs/{job_id}/closure")
    assert detail["closure"]["state"] == "PENDING_APPROVAL"
    assert [e["action"] for e in detail["closure"]["history"]] == ["closure.requested"]
    assert detail["cancellation"] is None
    assert detail["stillNeeded"] == [] == detail["times"]["stillNeeded"]
    assert "assignment" in detail


def test_a_job_with_nothing_recorded_shows_empty_times_and_no_closure(client, people, job_id):
    detail = get(client, people["tech"], f"/v1/jobs/{job_id}")
    assert detail["times"] == {"serviceJobId": job_id, "start": None, "finish": None,
                               "stillNeeded": detail["stillNeeded"]}
    assert detail["documents"] == [] and detail["closure"] is None and detail["cancellation"] is None


def test_a_rejected_closure_shows_its_reason(client, people, job_id):
    make_ready(client, people["tech"], job_id)
    ask_closure(client, people["tech"], job_id)
    client.post(f"/v1/jobs/{job_id}/closure/reject", json={"reason": "POA unsigned"}, headers=people["boss"])
    closure = get(client, people["tech"], f"/v1/jobs/{job_id}")["closure"]
    assert closure["state"] == "REJECTED" and closure["rejectionReason"] == "POA unsigned"
    assert closure["decidedBy"] == "boss"


def test_a_failed_document_shows_its_reason_and_no_longer_counts(client, people, job_id, deps, clock):
    tech = people["tech"]
    make_ready(client, tech, job_id)
    with deps.db.session() as session, session.begin():
        poa = session.scalar(select(Document).where(Document.service_job_id == job_id))
        move_document(session, poa, DocumentStatus.FAILED, clock.now(), "Amazon's malware check refused it")

    detail = get(client, tech, f"/v1/jobs/{job_id}")

    assert [(d["status"], d["failureReason"]) for d in detail["documents"]] == [
        ("FAILED", "Amazon's malware check refused it")]
    assert [without_link(d) for d in detail["documents"]] == get(client, tech, f"/v1/jobs/{job_id}/documents")[
        "documents"]
    assert detail["stillNeeded"] == ["POA_DOCUMENT"] == get(client, tech, f"/v1/jobs/{job_id}/times")["stillNeeded"]


def test_a_cancelled_job_shows_the_cancellation_and_its_reason_code(client, people, job_id):
    response = client.post(f"/v1/jobs/{job_id}/cancellation", json={"reasonCode": "S13"}, headers=people["tech"])
    assert response.status_code == 202
    detail = get(client, people["tech"], f"/v1/jobs/{job_id}")
    assert detail["cancellation"] == get(client, people["tech"], f"/v1/jobs/{job_id}/cancellation")
    assert detail["cancellation"]["reasonCode"] == "S13" and detail["cancellation"]["state"] == "QUEUED"


def test_another_technicians_job_detail_is_still_a_404(client, people, job_id):
    make_ready(client, people["tech"], job_id)
    response = client.get(f"/v1/jobs/{job_id}", headers=people["other"])
    assert response.status_code == 404 and job_id not in response.get_data(as_text=True)


def test_the_detail_takes_the_same_few_queries_for_1_or_10_documents(client, people, job_id, deps):
    tech = people["tech"]
    make_ready(client, tech, job_id)
    ask_closure(client, tech, job_id)
    client.post(f"/v1/jobs/{job_id}/closure/reject", json={"reason": "more photos"}, headers=people["boss"])

    def queries() -> list[str]:
        with counting_queries(deps.db.engine) as statements:
            get(client, tech, f"/v1/jobs/{job_id}")
        return statements

    with_one = queries()
    for shade in range(9):
        add_photo(client, tech, job_id, shade * 20)
    with_ten = queries()

    assert len(get(client, tech, f"/v1/jobs/{job_id}")["documents"]) == 10
    assert len(with_ten) == len(with_one), with_ten
    # The token, the job's version (its ETag), then one query per table: job, times, documents,
    # closure with its deciders, its history, assignment, cancellation, technicians (+ SQLite's BEGIN).
    assert len([q for q in with_one if q.lstrip().upper().startswith("SELECT")]) <= 10, with_one
