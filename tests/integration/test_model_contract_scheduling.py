"""Contract for the 11 scheduling operations: every x-amzn-api-sandbox case of
Amazon's model (../shared/spapi/services.json) replayed against our sandbox over
HTTP, in the model's order, on one sandbox per operation.

Amazon's cases name placeholder objects ("validJobId-1-...", "completedJobId-...",
"nullJobId", "2021-01-01T10:00:00.000Z"). `World` stands in one of ours for each:
a job in that state, a technician, a time in our future (a past time stays past);
"null..." values become a value the model forbids (over 100 characters, or empty).
The answer must have Amazon's status and error code and message (with the same
substitutions), and validate against the model's schema. Where Amazon's canned
200 describes capacity or slots, our fixture reproduces its world and the figures
must be equal. Amazon's own inconsistencies are noted where they are met.
"""

from __future__ import annotations

import base64
import copy
import json
import random
import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote, unquote

import httpx
import pytest

from techapi.spapi import plans
from techapi.spapi.sandbox import capacity
from techapi.spapi.sandbox.seed import SERVICES, make_job
from techapi.spapi.scheduling_types import Availability, CapacityQuery, Recurrence
from tests.conftest import NOW, http_client
from tests.integration.test_model_contract import (
    MODEL_PATH,
    Recorder,
    assert_request_matches,
    assert_response_matches,
    match_operation,
    operation,
)

pytestmark = [pytest.mark.skipif(not MODEL_PATH.exists(), reason=f"SP-API model not found at {MODEL_PATH}"),
              pytest.mark.db_independent]  # CI runs it once, in the SQLite stage


@pytest.fixture(scope="module")
def model() -> dict:
    return json.loads(MODEL_PATH.read_text())

SCHEDULING = (plans.GET_APPOINTMENT_SLOTS, plans.GET_JOB_APPOINTMENT_SLOTS, plans.ADD_APPOINTMENT,
              plans.RESCHEDULE_APPOINTMENT, plans.ASSIGN_RESOURCES, plans.UPDATE_SCHEDULE,
              plans.CREATE_RESERVATION, plans.UPDATE_RESERVATION, plans.CANCEL_RESERVATION,
              plans.GET_RANGE_CAPACITY, plans.GET_FIXED_CAPACITY)
CASES_PER_OPERATION = {plans.GET_APPOINTMENT_SLOTS: 5, plans.GET_JOB_APPOINTMENT_SLOTS: 5,
                       plans.ADD_APPOINTMENT: 12, plans.RESCHEDULE_APPOINTMENT: 14, plans.ASSIGN_RESOURCES: 16,
                       plans.UPDATE_SCHEDULE: 5, plans.CREATE_RESERVATION: 4, plans.UPDATE_RESERVATION: 5,
                       plans.CANCEL_RESERVATION: 3, plans.GET_RANGE_CAPACITY: 8, plans.GET_FIXED_CAPACITY: 6}
WED = datetime(2026, 6, 24, tzinfo=UTC)
THU = WED + timedelta(days=1)
HOUR = timedelta(hours=1)
# Amazon's dates -> ours: its "valid" days become days our fixture store is open.
DATES = {"2021-01-01": "2026-06-25", "2019-01-01": "2026-06-14", "2022-01-01": "2027-06-25", "2021-04-04": "2026-06-24"}
APPOINTMENT_OPS = (plans.ADD_APPOINTMENT, plans.RESCHEDULE_APPOINTMENT, plans.GET_APPOINTMENT_SLOTS,
                   plans.GET_JOB_APPOINTMENT_SLOTS)
SIXTY_MINUTES = next(s for s in SERVICES if s[3] == 60)
TOO_LONG = "x" * 101


def static_cases(model: dict, operation_id: str):
    _, _, op = operation(model, operation_id)
    for status, spec in op["responses"].items():
        for case in (spec.get("x-amzn-api-sandbox") or {}).get("static", []):
            yield int(status), copy.deepcopy(case["request"]["parameters"]), case["response"]


def shift_dates(value: Any) -> Any:
    if isinstance(value, str):
        for theirs, ours in DATES.items():
            value = value.replace(theirs, ours)
        return value
    if isinstance(value, dict):
        return {k: shift_dates(v) for k, v in value.items()}
    if isinstance(value, list):
        return [shift_dates(v) for v in value]
    return value


class World:
    """Our stand-ins for the objects Amazon's cases name."""

    def __init__(self, server) -> None:
        self.server, self.state = server, server.sandbox.state
        self.client = http_client(server)
        self.rng = random.Random(12)
        self.same: dict[str, str] = {}  # Amazon's value -> ours, also applied to expected messages
        self.store = self._store("contract-store-0001")
        self.techs = ["ACONTRACTTECH1", "ACONTRACTTECH2", "ACONTRACTTECH3"]
        for tech in self.techs:
            self.state.technicians[tech] = f"Contract {tech[-1]}"
        self.client.update_schedule(self.store, [Availability(WED, WED + 2 * HOUR, 20),
                                                 Availability(THU + 8 * HOUR, THU + 18 * HOUR, 10)])
        self.client.create_reservation(self.store, "BREAK", Availability(WED + HOUR, WED + 2 * HOUR, 20))
        with self.state.lock:
            capacity.calendar(self.state, self.store).technicians = set(self.techs)
        busy = self._job("active")  # technician 3 is out on another job at the time of every "valid" job
        busy.payload["appointments"][0]["assignedTechnicians"] = [{"technicianId": self.techs[2]}]
        self.reservation = ""
        self.model: dict = {}
        self.token = ""

    def _store(self, store_id: str) -> str:
        self.state.stores[store_id] = store_id
        return store_id

    def _job(self, kind: str):
        status = {"completed": "COMPLETED", "cancelled": "CANCELLED"}.get(kind, "NOT_SERVICED")
        pending = kind in ("pending", "unauthorized")
        job = make_job(self.rng, marketplace_id="ATVPDKIKX0DER", store_id=self.store, technician=None,
                       start=None if pending else THU + 8 * HOUR, status="PENDING_SCHEDULE" if pending else status,
                       created=NOW - timedelta(days=3), service=SIXTY_MINUTES)
        appts = job.get("appointments", [])
        if kind == "two_technicians":
            appts[0]["assignedTechnicians"] = [{"technicianId": t} for t in self.techs[:2]]
        if kind == "with_cancelled":
            appts.insert(0, {**copy.deepcopy(appts[0]), "appointmentId": f"{job['serviceJobId']}_{uuid.uuid4()}",
                             "appointmentStatus": "CANCELLED"})
        if kind == "unauthorized":
            job["serviceJobProvider"] = {"serviceJobProviderId": "AANOTHERPROVIDER"}
        return self.state.add_job(job)

    def remember(self, theirs: str, ours: str) -> str:
        self.same[theirs] = ours
        return ours

    def job_id(self, operation_id: str, raw: str) -> str:
        if raw in self.same:
            return self.same[raw]
        if raw == "nullJobId":
            return TOO_LONG
        if raw.startswith("invalidJobId"):
            return raw  # no such job here either
        kind = next((k for prefix, k in (("completed", "completed"), ("cancelled", "cancelled"),
                                         ("unauthorized", "unauthorized"), ("withActive", "active"))
                     if raw.startswith(prefix)), None)
        if kind is None:  # a "valid" job, in the state the operation needs
            kind = {plans.ADD_APPOINTMENT: "pending", plans.ASSIGN_RESOURCES: "with_cancelled",
                    plans.RESCHEDULE_APPOINTMENT: "two_technicians" if raw.startswith("validJobId-3") else "active",
                    }.get(operation_id, "pending")
        return self.remember(raw, self._job(kind).job_id)

    def appointment_id(self, raw: str, job_id: str) -> str:
        if raw == "nullAppointmentId":
            return TOO_LONG
        job = self.state.jobs.get(job_id)
        if raw.startswith("invalidAppointmentId") or job is None:
            return raw
        appts = job.payload.get("appointments") or []
        wanted = "CANCELLED" if raw.startswith("cancelledAppointmentId") else None
        found = next((a for a in appts if wanted in (None, a["appointmentStatus"])
                      and (wanted or a["appointmentStatus"] != "CANCELLED")), None)
        return self.remember(raw, found["appointmentId"]) if found else raw

    def resource_id(self, operation_id: str, raw: str) -> str:
        if raw == "null":
            return TOO_LONG
        if raw.startswith("invalidResourceId"):
            return raw
        if operation_id == plans.UPDATE_SCHEDULE:
            return self.remember(raw, self._store("schedule-store-0001"))
        if operation_id in (plans.CREATE_RESERVATION, plans.UPDATE_RESERVATION):
            return self.remember(raw, self.reservation_store())
        if operation_id == plans.GET_FIXED_CAPACITY:
            return self.capacity_store("fixed", [(WED.replace(year=2021, month=4, day=4), HOUR, 1)],
                                       [(WED.replace(year=2021, month=4, day=4), HOUR / 2)])
        if raw.endswith("f29"):  # the paged case: open around the clock for three months
            start = datetime(2022, 3, 1, tzinfo=UTC)
            return self.capacity_store("paged", [(start, timedelta(days=90), 1)], [(start, 10 * HOUR)])
        day = datetime(2021, 4, 4, tzinfo=UTC)
        return self.capacity_store("range", [(day, 2 * HOUR, 1)], [(day, HOUR)])

    def reservation_store(self) -> str:
        if "reservation-store-0001" not in self.state.stores:
            self._store("reservation-store-0001")
            day = datetime(2020, 4, 1, tzinfo=UTC)
            self.client.update_schedule("reservation-store-0001", [Availability(day, day + timedelta(days=2), 2)])
            self.reservation = self.client.create_reservation(
                "reservation-store-0001", "BREAK", Availability(day + 30 * HOUR, day + 31 * HOUR)).reservation_id
        return "reservation-store-0001"

    def capacity_store(self, name: str, schedule, reservations) -> str:
        store_id = f"{name}-capacity-store"
        if store_id not in self.state.stores:
            self._store(store_id)
            self.client.update_schedule(store_id, [Availability(s, s + span, cap) for s, span, cap in schedule])
            for start, span in reservations:
                self.client.create_reservation(store_id, "BREAK", Availability(start, start + span))
        return store_id

    def request(self, operation_id: str, params: dict[str, Any]) -> dict[str, Any]:
        """The case's parameters with ours in place of Amazon's."""
        body = params.get("body", {})
        if "resourceId" in body:  # one fixed-capacity case nests its resourceId in the body by mistake
            params["resourceId"] = body.pop("resourceId")
        values = {name: p["value"] for name, p in params.items()}
        if operation_id in APPOINTMENT_OPS:
            values = shift_dates(values)
        if "serviceJobId" in values:
            values["serviceJobId"] = self.job_id(operation_id, values["serviceJobId"])
        if "appointmentId" in values:
            values["appointmentId"] = self.appointment_id(values["appointmentId"], values["serviceJobId"])
        if "resourceId" in values:
            values["resourceId"] = self.resource_id(operation_id, values["resourceId"])
        elif operation_id in (plans.GET_RANGE_CAPACITY, plans.GET_FIXED_CAPACITY):
            values["resourceId"] = TOO_LONG  # the case sends none
        body = values.get("body")
        if isinstance(body, dict) and "resourceId" in body:
            body["resourceId"] = self.resource_id(operation_id, body["resourceId"])
        if isinstance(body, dict) and body.get("rescheduleReasonCode") == "R1":
            body["rescheduleReasonCode"] = "RS4"  # Amazon's placeholder for a code valid in the marketplace
        if isinstance(body, dict) and isinstance(body.get("resources"), list):
            techs = {"validResourceId-A8B3M999LMHF2": self.techs[0], "validResourceId-AMIDIAX1H5V": self.techs[1],
                     "overBookedResourceId-A8B3M999LMHF2": self.techs[2]}
            away = self.server.sandbox.world.technician_ids[:2]  # another store's technicians
            techs.update({"invalidResourceId-A8B3M999LMHF2": away[0], "invalidResourceId-AMIDIAX1H5V": away[1]})
            self.same["A8B3M999LMHF2,AMIDIAX1H5V"] = ",".join(away)
            body["resources"] = [{**r, "resourceId": techs.get(r["resourceId"], r["resourceId"])}
                                 if isinstance(r, dict) and "resourceId" in r else r for r in body["resources"]]
        if "reservationId" in values or operation_id == plans.UPDATE_RESERVATION:
            values["reservationId"] = self.reservation_id(operation_id, values.get("reservationId"))
        if values.get("asin") == "nullValue":
            values["asin"] = ""
        elif "asin" in values:
            values["asin"] = SIXTY_MINUTES[0]
        if "storeId" in values:
            values["storeId"] = self.store
        self.same.update({"ATechnicianId": self.techs[0], "BTechnicianId": self.techs[1]})
        return values

    def reservation_id(self, operation_id: str, raw: str | None) -> str:
        if operation_id == plans.CANCEL_RESERVATION:
            if raw and raw.startswith("valid"):
                return self.client.create_reservation(
                    self.reservation_store(), "TRAINING",
                    Availability(datetime(2020, 4, 1, 3, tzinfo=UTC), datetime(2020, 4, 1, 4, tzinfo=UTC))
                ).reservation_id
            return str(uuid.uuid4()) if raw and raw.startswith("nonExisting") else str(raw)
        self.reservation_store()
        return self.reservation if raw in (None, "456") else raw


def send(server, model: dict, token: str, operation_id: str, values: dict[str, Any]) -> httpx.Response:
    path, method, op = operation(model, operation_id)
    query = {"marketplaceIds": "ATVPDKIKX0DER"}
    for spec in op.get("parameters", []):
        name = spec["name"]
        if name not in values:
            continue
        if spec["in"] == "path":
            path = path.replace("{" + name + "}", quote(str(values[name]), safe=""))
        elif spec["in"] == "query":
            query[name] = values[name]
    return httpx.request(method, server.url + path, params=query, json=values.get("body"),
                         headers={"x-amz-access-token": token}, timeout=10)


def same_text(world: World, text: str) -> str:
    for theirs, ours in sorted(world.same.items(), key=lambda kv: -len(kv[0])):
        # Whole values only: "validJobId-9cb9..." must not rewrite the tail of "invalidJobId-9cb9...".
        text = re.sub(rf"(?<![A-Za-z0-9]){re.escape(theirs)}", lambda _m, ours=ours: ours, text)
    return shift_dates(text)


def clip(runs: list[dict], end: str) -> list[dict]:
    return [{**r, "endDateTime": min(r["endDateTime"], end)} for r in runs]


def check_success(world: World, operation_id: str, values: dict, expected: Any, response: httpx.Response) -> None:
    got = response.json() if response.content else {}
    if operation_id in (plans.ADD_APPOINTMENT, plans.RESCHEDULE_APPOINTMENT):
        assert got["appointmentId"].startswith(values["serviceJobId"] + "_")
        assert got.get("warnings", []) == [{**w, "message": same_text(world, w["message"])}
                                           for w in expected.get("warnings", [])]
    elif operation_id == plans.ASSIGN_RESOURCES:
        assert got == expected
    elif operation_id == plans.UPDATE_SCHEDULE:
        assert [r.get("warnings") for r in got.get("payload", [])] == \
            [r.get("warnings") for r in expected.get("payload", [])]
        assert got.get("errors") == expected.get("errors")
    elif operation_id in (plans.CREATE_RESERVATION, plans.UPDATE_RESERVATION):
        if "errors" in expected:
            assert [(e["code"], e["message"]) for e in got["errors"]] == \
                [(e["code"], e["message"]) for e in expected["errors"]]
        else:  # the guide: a success carries only the new reservationId
            assert uuid.UUID(got["payload"]["reservation"]["reservationId"])
            if operation_id == plans.UPDATE_RESERVATION:
                assert got["payload"]["reservation"]["reservationId"] != values["reservationId"]
                world.reservation = got["payload"]["reservation"]["reservationId"]
    elif operation_id in (plans.GET_APPOINTMENT_SLOTS, plans.GET_JOB_APPOINTMENT_SLOTS):
        if "startTime" in values:  # a window our fixture reproduces
            want = shift_dates(expected["payload"])
            assert got["payload"]["appointmentSlots"] == want["appointmentSlots"]
            assert (got["payload"]["startTime"], got["payload"]["endTime"]) == (want["startTime"], want["endTime"])
    elif operation_id == plans.GET_RANGE_CAPACITY:
        end = values["body"]["endDateTime"]
        ours = {c["capacityType"]: c["slots"] for c in got["capacities"]}
        if "nextPageToken" in expected:
            assert base64.b64decode(got["nextPageToken"]) == base64.b64decode(unquote(expected["nextPageToken"]))
        else:  # Amazon's last page is longer than ours: join ours to its end
            token = got.get("nextPageToken")
            for _ in range(10):
                if not token:
                    break
                more = send(world.server, world.model, world.token, operation_id, {**values, "nextPageToken": token})
                for c in more.json()["capacities"]:
                    runs = ours[c["capacityType"]]
                    for run in c["slots"]:
                        if runs and runs[-1]["endDateTime"] == run["startDateTime"] and \
                                runs[-1]["capacity"] == run["capacity"]:
                            runs[-1] = {**runs[-1], "endDateTime": run["endDateTime"]}
                        else:
                            runs.append(run)
                token = more.json().get("nextPageToken")
            assert not token
        assert ours == {c["capacityType"]: clip(c["slots"], end) for c in expected["capacities"]}
    elif operation_id == plans.GET_FIXED_CAPACITY:
        assert got["capacities"] == expected["capacities"] and got["slotDuration"] == expected["slotDuration"]


@pytest.mark.parametrize("operation_id", SCHEDULING)
def test_model_sandbox_cases_replay_with_amazons_status_and_message(model, http_sandbox, operation_id):
    http_sandbox.sandbox.config.enforce_rate_limits = False  # the cases come faster than assignResources' 1/s
    world = World(http_sandbox)
    world.model, world.token = model, world.client.tokens.get()
    token = world.token
    replayed = 0
    for status, params, expected in static_cases(model, operation_id):
        values = world.request(operation_id, params)
        response = send(http_sandbox, model, token, operation_id, values)
        where = (operation_id, replayed, values)
        errors = expected.get("errors") if isinstance(expected, dict) else None
        assert response.status_code == status, (where, response.text)
        assert_response_matches(model, operation_id, response)
        if errors and status >= 400:
            ours = response.json()["errors"]
            if operation_id == plans.ASSIGN_RESOURCES and len(errors) > 1:
                # Amazon lists every check a resource can fail; ours fails the one it simulates.
                wanted = {e["code"]: same_text(world, e["message"]) for e in errors}
                assert all(wanted.get(e["code"]) == e["message"] for e in ours), (where, ours)
            else:
                if "invalidAppointmentId" in str(params.get("appointmentId")):
                    # Amazon's message names "invalidJobId-1-..." though the request sent validJobId-1.
                    world.same[errors[0]["message"].split("jobId : ")[1].split(",")[0]] = values["serviceJobId"]
                assert [(e["code"], e["message"]) for e in ours] == \
                    [(e["code"], same_text(world, e["message"])) for e in errors], where
                assert [e.get("details") or "" for e in ours] == [e.get("details") or "" for e in errors], where
        else:
            check_success(world, operation_id, values, expected, response)
        replayed += 1
    assert replayed == CASES_PER_OPERATION[operation_id]


def test_every_usage_plan_is_the_model_table(model):
    for operation_id, plan in plans.USAGE_PLANS.items():
        _, _, op = operation(model, operation_id)
        found = re.search(r"\|\s*([\d.]+)\s*\|\s*(\d+)\s*\|", op["description"])
        assert found, operation_id
        assert (plan.rate, plan.burst) == (float(found.group(1)), int(found.group(2))), operation_id
    assert plans.USAGE_PLANS[plans.ASSIGN_RESOURCES] == plans.UsagePlan(1, 2)


def test_every_scheduling_request_the_client_sends_is_valid_under_the_model(model, http_sandbox):
    world = World(http_sandbox)
    recorder = Recorder()
    client = world.client
    client.http.event_hooks["request"].append(recorder)
    job = world.job_id(plans.ADD_APPOINTMENT, "validJobId-x")
    other = world.job_id(plans.RESCHEDULE_APPOINTMENT, "validJobId-3-x")
    client.get_appointment_slots(SIXTY_MINUTES[0], world.store, THU, THU + timedelta(days=1))
    slot = client.get_job_appointment_slots(job, THU, THU + timedelta(days=1)).available()[0]
    client.add_appointment(job, slot.start, 60)
    appt = client.reschedule_appointment(other, world.appointment_id("x", other), slot.end, "RS11").appointment_id
    client.assign_appointment_resources(other, appt, world.techs[:2])
    client.update_schedule(world.store, [Availability(THU, THU + 8 * HOUR, 3), Availability(
        WED, WED + HOUR, recurrence=Recurrence(WED + timedelta(days=30), ("WEDNESDAY",), (1, 15)))])
    made = client.create_reservation(world.store, "VACATION", Availability(THU, THU + HOUR))
    moved = client.update_reservation(made.reservation_id, world.store, "VACATION", Availability(THU, THU + 2 * HOUR))
    client.cancel_reservation(moved.reservation_id)
    client.get_range_capacity(world.store, CapacityQuery(THU, THU + timedelta(days=40), plans.CAPACITY_TYPES))
    client.get_fixed_capacity(world.store, CapacityQuery(THU, THU + timedelta(days=1)), slot_minutes=15)
    sent = [r for r in recorder.requests if r.url.path.startswith("/service/")]
    assert {match_id(model, r) for r in sent} == set(SCHEDULING)
    for request in sent:
        assert_request_matches(model, request)


def match_id(model: dict, request: httpx.Request) -> str:
    return match_operation(model, request)["operationId"]
