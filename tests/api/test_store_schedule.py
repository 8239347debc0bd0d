"""A store's schedule and capacity over HTTP: PUT replaces the schedule on SP-API
(the sandbox's store calendar) and GET /capacity reads it back."""

from __future__ import annotations

import pytest

WED, THU = "2026-06-17", "2026-06-18"  # no seeded jobs on either day


@pytest.fixture
def people(auth, world):
    store, other = world.store_ids
    auth.user("boss", "supervisor", stores=(store,))
    auth.user("root", "admin")
    auth.user("tech", "technician", technician_id=world.technician_ids[0], stores=(store,))
    return {"store": store, "other_store": other}


def scheduled(client, headers, store: str, day: str) -> list[tuple[str, str, int]]:
    response = client.get(f"/v1/stores/{store}/capacity", headers=headers, query_string={
        "from": f"{day}T06:00:00Z", "to": f"{day}T20:00:00Z", "types": "SCHEDULED_CAPACITY"})
    assert response.status_code == 200, response.get_json()
    return [(r["start"][11:16], r["end"][11:16], r["capacity"]) for r in response.get_json()["capacities"][0]["slots"]]


def test_put_schedule_replaces_the_stores_schedule_and_capacity_reflects_it(client, auth, people):
    boss, store = auth.headers("boss"), people["store"]
    assert scheduled(client, boss, store, WED) == [("06:00", "08:00", 0), ("08:00", "18:00", 3), ("18:00", "20:00", 0)]
    body = {"schedules": [{"start": f"{WED}T10:00:00Z", "end": f"{WED}T14:00:00Z", "capacity": 5}]}
    response = client.put(f"/v1/stores/{store}/schedule", json=body, headers=boss)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["storeId"] == store
    assert scheduled(client, boss, store, WED) == [("06:00", "10:00", 0), ("10:00", "14:00", 5), ("14:00", "20:00", 0)]
    assert scheduled(client, boss, store, THU) == [("06:00", "20:00", 0)]  # replaced, not added to
    # A recurring schedule; an admin may set any store's.
    weekly = {"schedules": [{"start": f"{WED}T07:00:00Z", "end": f"{WED}T12:00:00Z", "capacity": 2,
                             "recurrence": {"end": "2026-07-31T00:00:00Z", "daysOfWeek": ["THURSDAY"]}}]}
    assert client.put(f"/v1/stores/{store}/schedule", json=weekly, headers=auth.headers("root")).status_code == 200
    assert scheduled(client, boss, store, WED) == [("06:00", "20:00", 0)]
    assert scheduled(client, boss, store, THU) == [("06:00", "07:00", 0), ("07:00", "12:00", 2), ("12:00", "20:00", 0)]
    # The other store kept its own.
    assert scheduled(client, auth.headers("root"), people["other_store"], WED)[1] == ("08:00", "18:00", 3)


def test_fixed_capacity_slots_follow_every_page(client, auth, people):
    boss = auth.headers("boss")
    response = client.get(f"/v1/stores/{people['store']}/capacity", headers=boss, query_string={
        "from": "2026-06-16T00:00:00Z", "to": "2026-06-22T00:00:00Z", "slotMinutes": 5})
    assert response.status_code == 200
    slots = response.get_json()["slots"]
    assert len(slots) == 6 * 24 * 12  # over three of the sandbox's 500-slot pages
    assert slots[-1]["end"] == "2026-06-22T00:00:00+00:00"
    assert {s["scheduled"] for s in slots if s["start"].startswith(f"{WED}T09")} == {3}


def test_range_capacity_over_many_pages_is_joined_into_one_answer(client, auth, people):
    response = client.get(f"/v1/stores/{people['store']}/capacity", headers=auth.headers("boss"), query_string={
        "from": "2026-06-16T00:00:00Z", "to": "2026-09-07T00:00:00Z", "types": "SCHEDULED_CAPACITY"})
    assert response.status_code == 200
    runs = response.get_json()["capacities"][0]["slots"]
    open_days = [r["start"][:10] for r in runs if r["capacity"] == 3]
    assert len(open_days) == 12 * 5 - 1  # twelve weeks of weekdays from Tuesday to the Friday before Sep 7
    assert runs[0]["start"] == "2026-06-16T00:00:00+00:00" and runs[-1]["end"] == "2026-09-07T00:00:00+00:00"
    assert all(a["end"] == b["start"] for a, b in zip(runs, runs[1:], strict=False))


def test_a_bad_schedule_or_capacity_query_is_422_with_the_reason(client, auth, people):
    boss, store = auth.headers("boss"), people["store"]
    path = f"/v1/stores/{store}/schedule"
    empty = client.put(path, json={"schedules": []}, headers=boss)
    assert empty.status_code == 422 and "empty schedule" in empty.get_json()["message"]
    backwards = client.put(path, json={"schedules": [{"start": f"{WED}T10:00:00Z", "end": f"{WED}T09:00:00Z"}]},
                           headers=boss)
    assert backwards.status_code == 422
    too_short = client.put(path, json={"schedules": [{"start": f"{WED}T10:00:00Z", "end": f"{WED}T10:03:00Z"}]},
                           headers=boss)
    assert too_short.status_code == 422
    assert "at least 5 minutes" in too_short.get_json()["message"]  # SP-API's own rule for a US marketplace
    assert client.put(path, json={"schedules": [{"start": f"{WED}T10:00:00Z", "end": f"{WED}T12:00:00Z",
                                                 "capacity": 0}]}, headers=boss).status_code == 422
    assert scheduled(client, boss, store, WED)[1] == ("08:00", "18:00", 3)  # nothing changed
    capacity = f"/v1/stores/{store}/capacity"
    for query in [{"from": f"{WED}T10:00:00Z", "to": f"{WED}T09:00:00Z"},
                  {"from": f"{WED}T10:00:00Z", "to": "2026-12-31T00:00:00Z"},
                  {"from": f"{WED}T10:00:00Z", "to": f"{WED}T12:00:00Z", "slotMinutes": 7},
                  {"from": f"{WED}T00:00:00Z", "to": "2026-07-17T00:00:00Z", "slotMinutes": 5},  # 8640 slots
                  {"from": f"{WED}T10:00:00Z", "to": f"{WED}T12:00:00Z", "types": "FREE_CAPACITY"},
                  {"from": f"{WED}T10:00:00Z"}]:
        assert client.get(capacity, query_string=query, headers=boss).status_code == 422, query
    unknown = client.get("/v1/stores/NO-SUCH-STORE/capacity", headers=auth.headers("root"),
                         query_string={"from": f"{WED}T10:00:00Z", "to": f"{WED}T12:00:00Z"})
    assert unknown.status_code == 422 and "resourceId" in unknown.get_json()["message"]


def test_schedule_writes_honour_idempotency_keys(client, auth, people):
    headers = {**auth.headers("boss"), "Idempotency-Key": "sched-1"}
    body = {"schedules": [{"start": f"{WED}T10:00:00Z", "end": f"{WED}T14:00:00Z"}]}
    first = client.put(f"/v1/stores/{people['store']}/schedule", json=body, headers=headers)
    again = client.put(f"/v1/stores/{people['store']}/schedule", json=body, headers=headers)
    assert first.status_code == again.status_code == 200 and first.data == again.data
    other = client.put(f"/v1/stores/{people['store']}/schedule", headers=headers,
                       json={"schedules": [{"start": f"{THU}T10:00:00Z", "end": f"{THU}T14:00:00Z"}]})
    assert other.status_code == 422  # the same key with another request
