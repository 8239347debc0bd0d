"""Time off over HTTP: a reservation of the technician's home store on SP-API,
seen in the store's capacity, with techapi's own stable id."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from techapi import create_app
from techapi.auth.models import User
from techapi.capacity.models import Reservation
from techapi.spapi import plans
from techapi.spapi.sandbox import Faults
from tests.conftest import Auth

# NOW is Monday 2026-06-15 15:00 UTC; the demo stores open 08:00-18:00 UTC on weekdays with
# capacity 3 (their technicians). Wednesday has no seeded jobs: its capacity is all available.
WED = "2026-06-17"


def at(day: str, hhmm: str) -> str:
    return f"{day}T{hhmm}:00Z"


@pytest.fixture
def people(auth, world):
    store, other_store = world.store_ids
    techs = [t for t, _, s in world.technicians if s == store]
    auth.user("tech", "technician", technician_id=techs[0], stores=(store,))
    auth.user("tech2", "technician", technician_id=techs[1], stores=(store,))
    auth.user("boss", "supervisor", stores=(store,))
    auth.user("elsewhere", "supervisor", stores=(other_store,))
    auth.user("root", "admin")
    return {"store": store, "other_store": other_store, "tech": techs[0], "tech2": techs[1]}


def available(client, headers, store: str, start: str, end: str) -> list[tuple[str, str, int]]:
    response = client.get(f"/v1/stores/{store}/capacity",
                          query_string={"from": start, "to": end, "types": "AVAILABLE_CAPACITY"}, headers=headers)
    assert response.status_code == 200, response.get_json()
    (runs,) = response.get_json()["capacities"]
    assert runs["type"] == "AVAILABLE_CAPACITY"
    return [(r["start"][11:16], r["end"][11:16], r["capacity"]) for r in runs["slots"]]


def take(client, headers, start: str, end: str, kind: str = "BREAK", **extra):
    return client.post("/v1/me/time-off", json={"start": start, "end": end, "type": kind, **extra}, headers=headers)


def test_time_off_reduces_the_stores_available_capacity_and_cancelling_frees_it(client, auth, people):
    tech, boss = auth.headers("tech"), auth.headers("boss")
    store = people["store"]
    assert available(client, boss, store, at(WED, "08:00"), at(WED, "18:00")) == [("08:00", "18:00", 3)]

    made = take(client, tech, at(WED, "09:00"), at(WED, "10:30"), "TRAINING", notes="forklift course")
    assert made.status_code == 201, made.get_json()
    body = made.get_json()
    assert (body["storeId"], body["technicianId"], body["type"], body["status"]) == \
        (store, people["tech"], "TRAINING", "ACTIVE")
    assert body["spapiReservationId"] and body["version"] == 1
    assert available(client, boss, store, at(WED, "08:00"), at(WED, "18:00")) == \
        [("08:00", "09:00", 3), ("09:00", "10:30", 2), ("10:30", "18:00", 3)]
    twice = take(client, tech, at(WED, "10:00"), at(WED, "11:00"))  # nobody is off twice at once
    assert twice.status_code == 409 and body["id"] in twice.get_json()["message"]
    fixed = client.get(f"/v1/stores/{store}/capacity", headers=boss, query_string={
        "from": at(WED, "08:30"), "to": at(WED, "10:00"), "slotMinutes": 30})
    assert [(s["start"][11:16], s["available"], s["reserved"]) for s in fixed.get_json()["slots"]] == \
        [("08:30", 3, 0), ("09:00", 2, 1), ("09:30", 2, 1)]
    mine = client.get("/v1/me/time-off", headers=tech).get_json()["reservations"]
    assert [r["id"] for r in mine] == [body["id"]]

    gone = client.delete(f"/v1/me/time-off/{body['id']}", headers=tech)
    assert gone.status_code == 200 and gone.get_json()["status"] == "CANCELLED"
    assert gone.get_json()["cancelledAt"] is not None
    assert available(client, boss, store, at(WED, "08:00"), at(WED, "18:00")) == [("08:00", "18:00", 3)]
    assert client.delete(f"/v1/me/time-off/{body['id']}", headers=tech).status_code == 200  # twice is once


def test_time_off_that_is_over_stays_on_the_record(client, auth, people, clock):
    tech = auth.headers("tech")
    made = take(client, tech, at(WED, "09:00"), at(WED, "10:00")).get_json()
    clock.advance(days=2)  # Wednesday 15:00
    tech = auth.headers("tech")  # a new day, a new login
    late = client.delete(f"/v1/me/time-off/{made['id']}", headers=tech)
    assert late.status_code == 409
    assert client.get("/v1/me/time-off", headers=tech).get_json()["reservations"][0]["status"] == "ACTIVE"


def test_moving_time_off_keeps_techapis_id_while_spapis_reservation_id_changes(client, auth, people):
    tech, boss = auth.headers("tech"), auth.headers("boss")
    first = take(client, tech, at(WED, "12:00"), at(WED, "13:00")).get_json()
    moved = client.patch(f"/v1/me/time-off/{first['id']}", json={"start": at(WED, "14:00"), "end": at(WED, "15:00")},
                         headers=tech)
    assert moved.status_code == 200, moved.get_json()
    after = moved.get_json()
    assert after["id"] == first["id"] and after["version"] == 2
    assert after["spapiReservationId"] != first["spapiReservationId"]
    assert (after["start"], after["end"]) == ("2026-06-17T14:00:00+00:00", "2026-06-17T15:00:00+00:00")
    assert available(client, boss, people["store"], at(WED, "11:00"), at(WED, "16:00")) == \
        [("11:00", "14:00", 3), ("14:00", "15:00", 2), ("15:00", "16:00", 3)]
    # The supervisor sees the same reservation, by the same id, and may move it too.
    listed = client.get(f"/v1/stores/{people['store']}/reservations", headers=boss).get_json()["reservations"]
    assert [(r["id"], r["version"]) for r in listed] == [(first["id"], 2)]
    again = client.patch(f"/v1/stores/{people['store']}/reservations/{first['id']}",
                         json={"start": at(WED, "16:00"), "end": at(WED, "17:00")}, headers=boss)
    assert again.status_code == 200 and again.get_json()["version"] == 3
    assert again.get_json()["spapiReservationId"] not in (first["spapiReservationId"], after["spapiReservationId"])


def test_another_technicians_time_off_is_404_and_a_supervisor_of_another_store_403(client, auth, people):
    tech, tech2, elsewhere = auth.headers("tech"), auth.headers("tech2"), auth.headers("elsewhere")
    store = people["store"]
    mine = take(client, tech, at(WED, "09:00"), at(WED, "10:00")).get_json()
    window = {"start": at(WED, "11:00"), "end": at(WED, "12:00")}
    assert client.patch(f"/v1/me/time-off/{mine['id']}", json=window, headers=tech2).status_code == 404
    assert client.delete(f"/v1/me/time-off/{mine['id']}", headers=tech2).status_code == 404
    assert client.get("/v1/me/time-off", headers=tech2).get_json()["reservations"] == []
    for method, path, body in [
        ("get", f"/v1/stores/{store}/reservations", None),
        ("post", f"/v1/stores/{store}/reservations", {**window, "type": "BREAK"}),
        ("patch", f"/v1/stores/{store}/reservations/{mine['id']}", window),
        ("delete", f"/v1/stores/{store}/reservations/{mine['id']}", None),
        ("get", f"/v1/stores/{store}/capacity?from={at(WED, '08:00')}&to={at(WED, '18:00')}", None),
        ("put", f"/v1/stores/{store}/schedule", {"schedules": [window]}),
    ]:
        for who in (elsewhere, tech):
            response = getattr(client, method)(path, json=body, headers=who)
            assert response.status_code == 403, (method, path, response.get_json())
    # A reservation of one store is not found under another, even by its admin.
    assert client.delete(f"/v1/stores/{people['other_store']}/reservations/{mine['id']}",
                         headers=auth.headers("root")).status_code == 404
    assert client.get("/v1/me/time-off", headers=tech).get_json()["reservations"][0]["status"] == "ACTIVE"


def test_time_off_over_the_technicians_own_appointment_is_409_naming_it_and_a_supervisor_may_force_it(
        client, auth, people, synced):
    tech, boss = auth.headers("tech"), auth.headers("boss")
    store = people["store"]
    jobs = client.get("/v1/jobs", headers=tech).get_json()["jobs"]
    late = next(j for j in jobs if j["appointment"]["start"].startswith("2026-06-15T16:30"))
    window = {"start": at("2026-06-15", "16:00"), "end": at("2026-06-15", "17:00"), "type": "BREAK"}

    refused = client.post("/v1/me/time-off", json=window, headers=tech)
    assert refused.status_code == 409
    assert late["serviceJobId"] in refused.get_json()["message"]
    assert refused.get_json()["errors"]["appointments"] == [
        {"serviceJobId": late["serviceJobId"], "start": "2026-06-15T16:30:00.000Z",
         "end": late["appointment"]["end"].replace("+00:00", ".000Z")}]
    assert client.post("/v1/me/time-off", json={**window, "force": True}, headers=tech).status_code == 403
    by_boss = {**window, "technicianId": people["tech"]}
    assert client.post(f"/v1/stores/{store}/reservations", json=by_boss, headers=boss).status_code == 409

    # The store is short of hands then (its technicians are all booked): more capacity, then force.
    schedule = {"schedules": [{"start": at("2026-06-15", "08:00"), "end": at("2026-06-15", "18:00"), "capacity": 6,
                               "recurrence": {"end": "2026-12-31T18:00:00Z",
                                              "daysOfWeek": ["MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY",
                                                             "FRIDAY"]}}]}
    assert client.put(f"/v1/stores/{store}/schedule", json=schedule, headers=boss).status_code == 200
    forced = client.post(f"/v1/stores/{store}/reservations", json={**by_boss, "force": True}, headers=boss)
    assert forced.status_code == 201, forced.get_json()
    assert forced.get_json()["technicianId"] == people["tech"]
    assert [r["id"] for r in client.get("/v1/me/time-off", headers=tech).get_json()["reservations"]
            if r["start"].startswith("2026-06-15T16:00")] == [forced.get_json()["id"]]


def test_time_off_times_and_types_are_checked_and_a_refusal_writes_nothing(client, auth, people, deps):
    tech = auth.headers("tech")
    for start, end, kind in [
        (at(WED, "10:00"), at(WED, "09:00"), "BREAK"),  # ends before it starts
        (at("2026-06-15", "09:00"), at("2026-06-15", "10:00"), "BREAK"),  # in the past
        ("2150-01-01T09:00:00Z", "2150-01-01T10:00:00Z", "BREAK"),  # out of range
        (at(WED, "09:00"), at(WED, "10:00"), "APPOINTMENT"),  # SP-API's own type
        (at(WED, "09:00"), "not a time", "BREAK"),
    ]:
        response = take(client, tech, start, end, kind)
        assert response.status_code == 422, (start, end, kind, response.get_json())
    closed = take(client, tech, at("2026-06-20", "09:00"), at("2026-06-20", "10:00"))  # a Saturday: closed
    assert closed.status_code == 422
    assert "sufficient capacity" in closed.get_json()["message"]
    with deps.db.session() as session:
        assert session.scalar(select(func.count()).select_from(Reservation)) == 0


def test_spapi_unavailable_is_503_with_retry_after_and_nothing_is_written(settings, clock, sandbox, world):
    app = create_app(settings.with_overrides(spapi_max_attempts=2), clock=clock, sandbox=sandbox)
    try:
        client, deps = app.test_client(), app.extensions["techapi"]
        auth = Auth(deps, client)
        auth.user("tech", "technician", technician_id=world.technician_ids[0], stores=(world.store_ids[0],))
        sandbox.set_faults(Faults(script={plans.CREATE_RESERVATION: [503, 503]}))
        response = take(client, auth.headers("tech"), at(WED, "09:00"), at(WED, "10:00"))
        assert response.status_code == 503 and int(response.headers["Retry-After"]) > 0
        with deps.db.session() as session:
            assert session.scalar(select(func.count()).select_from(Reservation)) == 0
    finally:
        app.extensions["techapi"].db.dispose()


def test_a_supervisor_reserves_store_wide_capacity_and_sees_every_reservation_of_the_store(client, auth, people):
    boss, store = auth.headers("boss"), people["store"]
    take(client, auth.headers("tech"), at(WED, "09:00"), at(WED, "10:00"))
    wide = client.post(f"/v1/stores/{store}/reservations", headers=boss, json={
        "start": at(WED, "09:30"), "end": at(WED, "11:00"), "type": "TRAINING", "notes": "all hands"})
    assert wide.status_code == 201 and wide.get_json()["technicianId"] is None
    assert available(client, boss, store, at(WED, "09:00"), at(WED, "11:00")) == \
        [("09:00", "09:30", 2), ("09:30", "10:00", 1), ("10:00", "11:00", 2)]
    listed = client.get(f"/v1/stores/{store}/reservations", headers=boss).get_json()["reservations"]
    assert [(r["technicianId"], r["type"]) for r in listed] == [(people["tech"], "BREAK"), (None, "TRAINING")]
    only = client.get(f"/v1/stores/{store}/reservations", query_string={"technicianId": people["tech"]},
                      headers=boss).get_json()["reservations"]
    assert len(only) == 1
    stranger = client.post(f"/v1/stores/{store}/reservations", headers=boss, json={
        "start": at(WED, "12:00"), "end": at(WED, "13:00"), "type": "BREAK", "technicianId": "ANOBODY"})
    assert stranger.status_code == 422


def test_time_off_writes_honour_idempotency_keys(client, auth, people, deps):
    tech, boss = auth.headers("tech"), auth.headers("boss")
    keyed = {**tech, "Idempotency-Key": "off-1"}
    first = take(client, keyed, at(WED, "09:00"), at(WED, "10:00"))
    again = take(client, keyed, at(WED, "09:00"), at(WED, "10:00"))
    assert first.status_code == again.status_code == 201 and first.get_json() == again.get_json()
    assert available(client, boss, people["store"], at(WED, "09:00"), at(WED, "10:00")) == [("09:00", "10:00", 2)]
    key = first.get_json()["id"]
    move = {"start": at(WED, "11:00"), "end": at(WED, "12:00")}
    moved = [client.patch(f"/v1/me/time-off/{key}", json=move, headers={**tech, "Idempotency-Key": "mv"})
             for _ in range(2)]
    assert moved[0].get_json() == moved[1].get_json() and moved[1].get_json()["version"] == 2
    with deps.db.session() as session:
        assert session.scalar(select(func.count()).select_from(Reservation)) == 1


def test_the_row_keeps_who_made_moved_and_cancelled_the_time_off(client, auth, people, deps):
    tech, boss = auth.headers("tech"), auth.headers("boss")
    made = take(client, tech, at(WED, "12:00"), at(WED, "13:00")).get_json()
    store = people["store"]
    window = {"start": at(WED, "14:00"), "end": at(WED, "15:00")}
    assert client.patch(f"/v1/stores/{store}/reservations/{made['id']}", json=window, headers=boss).status_code == 200
    assert client.delete(f"/v1/stores/{store}/reservations/{made['id']}", headers=boss).status_code == 200
    with deps.db.session() as session:
        ids = dict(session.execute(select(User.username, User.id)).all())
        row = session.get(Reservation, made["id"])
        assert (row.created_by, row.updated_by, row.cancelled_by) == (ids["tech"], ids["boss"], ids["boss"])


def test_credentials_sp_api_refuses_are_an_outage_not_a_refusal_of_the_time_off(client, auth, people, sandbox):
    sandbox.set_faults(Faults(script={plans.CREATE_RESERVATION: [401, 401, 401]}))
    response = take(client, auth.headers("tech"), at(WED, "09:00"), at(WED, "10:00"))
    sandbox.set_faults(Faults())
    assert response.status_code == 503 and int(response.headers["Retry-After"]) > 0, response.get_json()


def test_a_supervisor_cannot_give_time_off_to_a_deactivated_technician(client, auth, people, deps):
    with deps.db.transaction() as session:
        session.scalars(select(User).where(User.username == "tech2")).one().active = False
    response = client.post(f"/v1/stores/{people['store']}/reservations", headers=auth.headers("boss"), json={
        "start": at(WED, "12:00"), "end": at(WED, "13:00"), "type": "BREAK", "technicianId": people["tech2"]})
    assert response.status_code == 422 and "active technician" in response.get_json()["message"]
