"""Whether a job is open for work and what it still needs (jobs.readiness): pure decisions."""

from __future__ import annotations

import pytest

from techapi.jobs.readiness import Evidence, closable, open_for_work, still_needed
from techapi.spapi.types import JobStatus

READY = Evidence(has_start=True, has_end=True, poa_documents=1)
OTHER_STATUSES = [s for s in JobStatus if s != JobStatus.NOT_SERVICED]


def test_only_a_job_spapi_still_expects_service_on_is_closable():
    assert closable("NOT_SERVICED")
    assert not any(closable(s) for s in OTHER_STATUSES)


def test_an_open_job_with_an_active_appointment_is_open_for_work():
    assert open_for_work("NOT_SERVICED", "ACTIVE")


@pytest.mark.parametrize("appointment", ["COMPLETED", "CANCELLED", None])
def test_an_open_job_without_an_active_appointment_is_not_open_for_work(appointment):
    assert not open_for_work("NOT_SERVICED", appointment)


@pytest.mark.parametrize("status", OTHER_STATUSES)
def test_a_job_past_servicing_is_not_open_for_work_even_with_an_active_appointment(status):
    assert not open_for_work(status, "ACTIVE")


def test_a_new_job_needs_its_times_and_a_proof_of_appointment_in_that_order():
    assert still_needed("NOT_SERVICED", "ACTIVE", Evidence()) == ["START_TIME", "END_TIME", "POA_DOCUMENT"]


def test_a_job_with_its_times_and_a_poa_needs_nothing_more():
    assert still_needed("NOT_SERVICED", "ACTIVE", READY) == []


def test_each_missing_piece_is_named_on_its_own():
    assert still_needed("NOT_SERVICED", "ACTIVE", Evidence(has_end=True, poa_documents=1)) == ["START_TIME"]
    assert still_needed("NOT_SERVICED", "ACTIVE", Evidence(has_start=True, poa_documents=1)) == ["END_TIME"]
    assert still_needed("NOT_SERVICED", "ACTIVE", Evidence(has_start=True, has_end=True)) == ["POA_DOCUMENT"]


@pytest.mark.parametrize("appointment", ["COMPLETED", "CANCELLED", None])
def test_an_open_job_without_an_active_appointment_needs_one(appointment):
    assert still_needed("NOT_SERVICED", appointment, READY) == ["ACTIVE_APPOINTMENT"]


def test_photos_are_needed_until_there_are_as_many_as_required():
    assert still_needed("NOT_SERVICED", "ACTIVE", Evidence(has_start=True, has_end=True, poa_documents=1, photos=1),
                        min_photos=2) == ["PHOTOS"]
    assert still_needed("NOT_SERVICED", "ACTIVE", Evidence(has_start=True, has_end=True, poa_documents=1, photos=2),
                        min_photos=2) == []


def test_no_photos_are_needed_by_default():
    assert "PHOTOS" not in still_needed("NOT_SERVICED", "ACTIVE", Evidence())


def test_photos_do_not_stand_in_for_a_proof_of_appointment():
    evidence = Evidence(has_start=True, has_end=True, photos=5)
    assert still_needed("NOT_SERVICED", "ACTIVE", evidence, min_photos=1) == ["POA_DOCUMENT"]


def test_everything_missing_is_listed_together_in_a_fixed_order():
    assert still_needed("NOT_SERVICED", None, Evidence(), min_photos=1) == [
        "ACTIVE_APPOINTMENT", "START_TIME", "END_TIME", "POA_DOCUMENT", "PHOTOS"]


@pytest.mark.parametrize("status", OTHER_STATUSES)
def test_a_job_past_closing_needs_nothing(status):
    assert still_needed(status, "COMPLETED", Evidence(), min_photos=3) == []
