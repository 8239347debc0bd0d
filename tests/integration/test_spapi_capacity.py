"""Store schedules, reservations and capacity: the client against the sandbox over real HTTP."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from techapi.spapi import plans
from techapi.spapi.errors import SpApiNotFound, SpApiUnprocessable
from techapi.spapi.scheduling_types import Availability, CapacityQuery, RangeSlot, Recurrence
from tests.conftest import http_client

pytestmark = pytest.mark.db_independent  # CI runs it once, in the SQLite stage

WED = datetime(2026, 6, 24, tzinfo=UTC)  # a weekday with no seeded jobs
AVAILABLE = ("SCHEDULED_CAPACITY", "AVAILABLE_CAPACITY", "RESERVED_CAPACITY", "ENCUMBERED_CAPACITY")


def at(hour: float, day: datetime = WED) -> datetime:
    return day + timedelta(hours=hour)


def store(server) -> str:
    assert server.sandbox.world is not None
    return server.sandbox.world.demo_store_id


def day_capacity(client, store_id: str, day: datetime = WED) -> dict[str, tuple[RangeSlot, ...]]:
    return client.get_range_capacity(store_id, CapacityQuery(day, day + timedelta(days=1), AVAILABLE)).capacities


def runs(slots) -> list[tuple[float, float, int]]:
    return [((s.start - WED).total_seconds() / 3600, (s.end - WED).total_seconds() / 3600, s.capacity) for s in slots]


def test_seeded_store_is_open_eight_to_six_on_weekdays_with_one_unit_per_technician(http_sandbox):
    client = http_client(http_sandbox)
    caps = day_capacity(client, store(http_sandbox))
    assert runs(caps["SCHEDULED_CAPACITY"]) == [(0, 8, 0), (8, 18, 3), (18, 24, 0)]
    assert runs(caps["AVAILABLE_CAPACITY"]) == [(0, 8, 0), (8, 18, 3), (18, 24, 0)]
    saturday = WED + timedelta(days=3)
    weekend = client.get_range_capacity(store(http_sandbox), CapacityQuery(saturday, saturday + timedelta(days=2)))
    assert [s.capacity for s in weekend.capacities["SCHEDULED_CAPACITY"]] == [0]


def test_a_reservation_takes_capacity_away_and_cancelling_it_gives_it_back(http_sandbox):
    client, store_id = http_client(http_sandbox), store(http_sandbox)
    made = client.create_reservation(store_id, "BREAK", Availability(at(12), at(13)))
    caps = day_capacity(client, store_id)
    assert runs(caps["AVAILABLE_CAPACITY"]) == [(0, 8, 0), (8, 12, 3), (12, 13, 2), (13, 18, 3), (18, 24, 0)]
    assert (12, 13, 1) in runs(caps["RESERVED_CAPACITY"])
    fixed = client.get_fixed_capacity(store_id, CapacityQuery(at(11), at(14), AVAILABLE), slot_minutes=30)
    assert [(s.available, s.reserved) for s in fixed.slots] == [(3, 0), (3, 0), (2, 1), (2, 1), (3, 0), (3, 0)]
    client.cancel_reservation(made.reservation_id)
    assert runs(day_capacity(client, store_id)["AVAILABLE_CAPACITY"]) == [(0, 8, 0), (8, 18, 3), (18, 24, 0)]
    with pytest.raises(SpApiNotFound):
        client.cancel_reservation(made.reservation_id)


def test_update_reservation_answers_a_new_id_moves_the_capacity_and_retires_the_old_id(http_sandbox):
    client, store_id = http_client(http_sandbox), store(http_sandbox)
    first = client.create_reservation(store_id, "VACATION", Availability(at(8), at(10), capacity=2))
    moved = client.update_reservation(first.reservation_id, store_id, "VACATION", Availability(at(14), at(16)))
    assert moved.reservation_id != first.reservation_id
    assert runs(day_capacity(client, store_id)["AVAILABLE_CAPACITY"]) == [
        (0, 8, 0), (8, 14, 3), (14, 16, 2), (16, 18, 3), (18, 24, 0)]
    with pytest.raises(SpApiNotFound) as info:
        client.update_reservation(first.reservation_id, store_id, "VACATION", Availability(at(9), at(10)))
    assert info.value.message == f"Could not find reservation with ID: [{first.reservation_id}]"


def test_a_reservation_needs_the_capacity_to_be_available(http_sandbox):
    client, store_id = http_client(http_sandbox), store(http_sandbox)
    with pytest.raises(SpApiUnprocessable) as info:
        client.create_reservation(store_id, "TRAINING", Availability(at(9), at(11), capacity=4))
    assert "sufficient capacity" in (info.value.message or "")
    with pytest.raises(SpApiUnprocessable):  # before opening time
        client.create_reservation(store_id, "TRAVEL", Availability(at(6), at(9)))
    client.create_reservation(store_id, "TRAINING", Availability(at(9), at(11), capacity=3))
    with pytest.raises(SpApiUnprocessable):  # the store is now fully reserved then
        client.create_reservation(store_id, "BREAK", Availability(at(10), at(10.5)))


def test_recurring_reservation_takes_capacity_on_every_matching_day(http_sandbox):
    client, store_id = http_client(http_sandbox), store(http_sandbox)
    lunch = Availability(at(12), at(13), recurrence=Recurrence(at(13, WED + timedelta(days=7)), ("WEDNESDAY",)))
    client.create_reservation(store_id, "BREAK", lunch)
    for week in (0, 1):
        day = WED + timedelta(days=7 * week)
        assert [(s.start.hour, s.capacity) for s in day_capacity(client, store_id, day)["AVAILABLE_CAPACITY"]][2] \
            == (12, 2)
    thursday = WED + timedelta(days=1)
    assert len(day_capacity(client, store_id, thursday)["AVAILABLE_CAPACITY"]) == 3


def test_update_schedule_overwrites_the_schedule_and_warns_of_an_override(http_sandbox):
    client, store_id = http_client(http_sandbox), store(http_sandbox)
    result = client.update_schedule(store_id, [Availability(at(9), at(12), capacity=5)])
    assert [w.code for _, w in result.warnings] == ["ScheduleOverride"]
    assert runs(day_capacity(client, store_id)["SCHEDULED_CAPACITY"]) == [(0, 9, 0), (9, 12, 5), (12, 24, 0)]
    tuesday = WED - timedelta(days=1)  # the weekday recurrence is gone
    assert [s.capacity for s in day_capacity(client, store_id, tuesday)["SCHEDULED_CAPACITY"]] == [0]
    again = client.update_schedule(store_id, [Availability(at(9), at(12), capacity=5)])
    assert again.warnings == ()


def test_schedule_rules_empty_schedule_unknown_store_and_minimum_slot_by_marketplace(http_sandbox):
    client, store_id = http_client(http_sandbox), store(http_sandbox)
    headers = {"x-amz-access-token": client.tokens.get()}
    url = f"{http_sandbox.url}/service/v1/serviceResources/{store_id}/schedules?marketplaceIds=ATVPDKIKX0DER"
    empty = httpx.put(url, headers=headers, json={"schedules": []})
    assert empty.status_code == 400
    assert empty.json()["errors"][0]["message"] == "Missing or invalid request parameters: [schedule]"
    with pytest.raises(ValueError):
        client.update_schedule(store_id, [])
    with pytest.raises(SpApiUnprocessable) as info:
        client.update_schedule("no-such-store", [Availability(at(9), at(12))])
    assert info.value.message == "Invalid request parameters: [resourceId]"
    ten_minutes = [Availability(at(9), at(9 + 1 / 6))]
    client.update_schedule(store_id, ten_minutes)  # US: five minutes at least
    with pytest.raises(SpApiUnprocessable) as info:
        client.update_schedule(store_id, [Availability(at(9), at(9 + 4 / 60))])
    assert "at least 5 minutes" in (info.value.message or "")
    for uk_or_de in ("A1F83G8C2ARO7P", "A1PA6795UKMFR9"):
        client.marketplace_id = uk_or_de
        with pytest.raises(SpApiUnprocessable) as info:
            client.update_schedule(store_id, ten_minutes)
        assert "at least 30 minutes" in (info.value.message or "")
        client.update_schedule(store_id, [Availability(at(9), at(9.5))])


def test_capacity_pages_are_followed_to_the_end(http_sandbox):
    client, store_id = http_client(http_sandbox), store(http_sandbox)
    state = http_sandbox.sandbox.state
    forty_days = client.get_range_capacity(store_id, CapacityQuery(WED, WED + timedelta(days=40)))
    assert state.calls_of(plans.GET_RANGE_CAPACITY, 200) == 2
    scheduled = forty_days.capacities["SCHEDULED_CAPACITY"]
    assert scheduled[0].start == WED and scheduled[-1].end == WED + timedelta(days=40)
    assert sum(1 for s in scheduled if s.capacity == 3) == 28  # weekdays in 40 days from a Wednesday
    five_minutes = client.get_fixed_capacity(store_id, CapacityQuery(WED, WED + timedelta(days=3)), slot_minutes=5)
    assert len(five_minutes.slots) == 3 * 288
    assert state.calls_of(plans.GET_FIXED_CAPACITY, 200) == 2
    assert len({s.start for s in five_minutes.slots}) == 864


def test_capacity_query_rules(http_sandbox):
    client, store_id = http_client(http_sandbox), store(http_sandbox)
    headers = {"x-amz-access-token": client.tokens.get()}
    base = f"{http_sandbox.url}/service/v1/serviceResources/{store_id}/capacity"

    def details(kind: str, body: dict) -> str:
        response = httpx.post(f"{base}/{kind}?marketplaceIds=ATVPDKIKX0DER", headers=headers, json=body)
        assert response.status_code == 400
        return response.json()["errors"][0]["details"]

    day = {"startDateTime": "2026-06-24T00:00:00Z", "endDateTime": "2026-06-25T00:00:00Z"}
    for minutes in (0, 7, 365, 400):
        assert "Slot duration is not valid" in details("fixed", {**day, "slotDuration": minutes})
    assert "startDateTime or endDateTime are not present" in details("range", {"startDateTime": day["startDateTime"]})
    assert "endDateTime should be after Start Time" in details(
        "range", {"startDateTime": day["endDateTime"], "endDateTime": day["startDateTime"]})
    assert "startDateTime is not a valid ISO" in details("range", {**day, "startDateTime": "2026-0"})
    with pytest.raises(ValueError):
        client.get_fixed_capacity(store_id, CapacityQuery(WED, WED + timedelta(days=1)), slot_minutes=12)


HOSTILE = [None, [], "x", 5, {}, {"schedules": [[1]]}, {"schedules": [{"startTime": "0001-01-01T00:00:00+01:00",
           "endTime": "9999-12-31T23:59:59-07"}]},
           {"schedules": [{"startTime": "2026-06-24T08:00:00Z", "endTime": "2026-06-24T09:00:00Z",
                           "capacity": 1.5, "recurrence": {"endTime": "2026-07-01T00:00:00Z", "daysOfWeek": [[1]],
                                                           "daysOfMonth": [[1]]}}]},
           {"resourceId": ["a"], "reservation": {"type": ["BREAK"], "availability": {"startTime": 1}}},
           {"resources": [{"resourceId": [1]}, {"resourceId": {"a": 1}}, 7]},
           {"appointmentTime": {"startTime": "0001-01-01T00:00:00+01:00", "durationInMinutes": "60"},
            "rescheduleReasonCode": ["RS4"]},
           {"appointmentTime": {"startTime": "9999-12-31T23:59:59Z"}, "rescheduleReasonCode": "RS4"},
           {"capacityTypes": [["X"]], "startDateTime": "2026-06-24T00:00:00Z", "endDateTime": "2026-06-25T00:00:00Z",
            "slotDuration": 1e308},
           {"capacityTypes": "SCHEDULED_CAPACITY", "startDateTime": "0001-01-01T00:00:00+01:00",
            "endDateTime": "9999-12-31T23:59:59-07"}]


def test_no_malformed_scheduling_request_makes_the_sandbox_fail(http_sandbox):
    client = http_client(http_sandbox)
    headers = {"x-amz-access-token": client.tokens.get(), "Content-Type": "application/json"}
    store_id = store(http_sandbox)
    job = next(j for j in http_sandbox.sandbox.state.jobs.values() if j.status == "NOT_SERVICED")
    appt = job.payload["appointments"][0]["appointmentId"]
    routes = [("PUT", f"/service/v1/serviceResources/{store_id}/schedules"), ("POST", "/service/v1/reservation"),
              ("PUT", "/service/v1/reservation/nope"), ("DELETE", "/service/v1/reservation/nope"),
              ("POST", f"/service/v1/serviceResources/{store_id}/capacity/range"),
              ("POST", f"/service/v1/serviceResources/{store_id}/capacity/fixed"),
              ("POST", f"/service/v1/serviceJobs/{job.job_id}/appointments"),
              ("POST", f"/service/v1/serviceJobs/{job.job_id}/appointments/{appt}"),
              ("PUT", f"/service/v1/serviceJobs/{job.job_id}/appointments/{appt}/resources")]
    queries = ["marketplaceIds=ATVPDKIKX0DER", "marketplaceIds=ATVPDKIKX0DER&nextPageToken=%%%",
               "marketplaceIds=ATVPDKIKX0DER&nextPageToken=OTk5OS0xMi0zMVQyMzo1OTo1OVo="]
    http_sandbox.sandbox.config.enforce_rate_limits = False
    with httpx.Client(base_url=http_sandbox.url, headers=headers) as http:
        for method, path in routes:
            for query in queries if "capacity" in path else queries[:1]:
                for body in HOSTILE:
                    content = b"{" if body == "x" else json.dumps(body).encode()
                    response = http.request(method, f"{path}?{query}", content=content)
                    assert response.status_code < 500, (method, path, body, response.text)
    for query in ("startTime=0001-01-01T00:00:00%2B01:00&endTime=9999-12-31T23:59:59Z", "startTime=x&endTime=y"):
        response = httpx.get(f"{http_sandbox.url}/service/v1/serviceJobs/{job.job_id}/appointmentSlots"
                             f"?marketplaceIds=ATVPDKIKX0DER&{query}", headers=headers)
        assert response.status_code == 400, response.text
