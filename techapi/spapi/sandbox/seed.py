"""Realistic, deterministic sandbox jobs: the same seed gives the same IDs in
every process, so `techapi sync` and `techapi serve` see one world."""

from __future__ import annotations

import hashlib
import random
import string
import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from techapi.clock import iso_z
from techapi.spapi.sandbox.capacity import schedule_demo_stores
from techapi.spapi.sandbox.state import SandboxState

DEMO_SEED = 20260101

FIRST = ["Maria", "James", "Aisha", "Chen", "Olivia", "Diego", "Priya", "Noah", "Fatima", "Liam",
         "Sofia", "Kenji", "Grace", "Mateo", "Hannah", "Omar", "Emma", "Lucas", "Zoe", "Ravi"]
LAST = ["Garcia", "Smith", "Khan", "Wei", "Johnson", "Lopez", "Patel", "Brown", "Ali", "Nguyen",
        "Miller", "Tanaka", "Davis", "Rossi", "Wilson", "Haddad", "Moore", "Silva", "Clark", "Rao"]
STREETS = ["Pine St", "Madison Ave", "Rainier Ave S", "NE 45th St", "Aurora Ave N", "Queen Anne Ave N",
           "California Ave SW", "Beacon Ave S", "Greenwood Ave N", "15th Ave E"]
SERVICES = [
    ("B07TVMOUNT1", "TV Wall Mount Installation (up to 65 in.)", ["TV_WALL_MOUNTING"], 120),
    ("B08DISHWSH2", "Dishwasher Installation", ["APPLIANCE_INSTALLATION"], 150),
    ("B06FANINST3", "Ceiling Fan Installation", ["ELECTRICAL"], 120),
    ("B09THERMO04", "Smart Thermostat Installation", ["SMART_HOME", "ELECTRICAL"], 60),
    ("B07BOOKCSE5", "Furniture Assembly: Bookcase", ["FURNITURE_ASSEMBLY"], 90),
    ("B08DOORBEL6", "Video Doorbell Installation", ["SMART_HOME"], 60),
    ("B07WASHER07", "Washer and Dryer Installation", ["APPLIANCE_INSTALLATION"], 180),
]
SLOTS = [time(8, 0), time(10, 0), time(12, 30), time(14, 30), time(16, 30)]


@dataclass(frozen=True)
class DemoWorld:
    """The IDs the demo accounts are linked to."""

    marketplace_id: str
    store_ids: tuple[str, ...]
    technician_ids: tuple[str, ...]
    tz_name: str = "UTC"
    seed: int = DEMO_SEED
    technicians: tuple[tuple[str, str, str], ...] = ()  # (technicianId, name, storeId)

    @property
    def demo_technician_id(self) -> str:
        return self.technician_ids[0]

    @property
    def demo_store_id(self) -> str:
        return self.store_ids[0]


def _amazon_id(rng: random.Random, length: int = 14) -> str:
    return "A" + "".join(rng.choice(string.ascii_uppercase + string.digits) for _ in range(length - 1))


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _order_id(rng: random.Random) -> str:
    return f"{rng.randint(111, 999)}-{rng.randint(1000000, 9999999)}-{rng.randint(1000000, 9999999)}"


def _tracking_id(job_id: str) -> str:
    # From the job ID, not the generator, so adding it moved no other seeded value.
    return f"TBA{int(hashlib.sha256(job_id.encode()).hexdigest()[:12], 16) % 10**12:012d}"


def make_job(
    rng: random.Random,
    *,
    marketplace_id: str,
    store_id: str,
    technician: tuple[str, str] | None,
    start: datetime | None,
    status: str = "NOT_SERVICED",
    created: datetime,
    service: tuple[str, str, list[str], int] | None = None,
) -> dict[str, Any]:
    asin, title, skills, minutes = service or rng.choice(SERVICES)
    job_id = _uuid(rng)
    first, last = rng.choice(FIRST), rng.choice(LAST)
    phone = f"+1 206-555-{rng.randint(100, 199):04d}"
    job: dict[str, Any] = {
        "serviceJobId": job_id,
        "serviceJobStatus": status,
        "serviceOrderId": _order_id(rng),
        "marketplaceId": marketplace_id,
        "storeId": store_id,
        "createTime": iso_z(created),
        "scopeOfWork": {"asin": asin, "title": title, "quantity": 1, "requiredSkills": list(skills)},
        "seller": {"sellerId": "A2SANDBOXSELLER"},
        "serviceJobProvider": {"serviceJobProviderId": "A3SANDBOXPROVIDER"},
        "buyer": {"buyerId": _amazon_id(rng), "name": f"{first} {last}", "phone": phone,
                  "isPrimeMember": rng.random() < 0.6},
        "serviceLocation": {
            "serviceLocationType": "IN_HOME",
            "address": {
                "name": f"{first} {last}",
                "addressLine1": f"{rng.randint(100, 9999)} {rng.choice(STREETS)}",
                **({"addressLine2": f"Apt {rng.randint(1, 40)}"} if rng.random() < 0.3 else {}),
                "city": "Seattle",
                "stateOrRegion": "WA",
                "postalCode": f"981{rng.randint(0, 99):02d}",
                "countryCode": "US",
                "phone": phone,
            },
        },
        "associatedItems": [{
            "asin": asin, "title": title, "quantity": 1, "orderId": _order_id(rng),
            "itemStatus": "DELIVERED", "brandName": "Sandbox",
        }],
    }
    job["productOrderIds"] = [item["orderId"] for item in job["associatedItems"]]
    job["trackingIds"] = [_tracking_id(job_id)]
    if start is not None:
        appt_status = {"COMPLETED": "COMPLETED", "CANCELLED": "CANCELLED"}.get(status, "ACTIVE")
        appointment: dict[str, Any] = {
            "appointmentId": f"{job_id}_{_uuid(rng)}",
            "appointmentStatus": appt_status,
            "appointmentTime": {"startTime": iso_z(start), "durationInMinutes": minutes},
        }
        if technician:
            appointment["assignedTechnicians"] = [{"technicianId": technician[0], "name": technician[1]}]
        job["appointments"] = [appointment]
    return job


def seed_demo(
    state: SandboxState, today: date, tz_name: str, marketplace_id: str, seed: int = DEMO_SEED
) -> DemoWorld:
    """Two stores, three technicians each, five jobs per technician per day for
    yesterday, today and tomorrow, plus a few jobs still waiting for a slot."""
    rng = random.Random(seed)
    stores = [(_uuid(rng), name) for name in ("Seattle North", "Seattle South")]
    techs: list[tuple[str, str, str]] = []  # (technicianId, name, storeId)
    for store_id, _ in stores:
        for _ in range(3):
            techs.append((_amazon_id(rng), f"{rng.choice(FIRST)} {rng.choice(LAST)}", store_id))
    world = DemoWorld(
        marketplace_id=marketplace_id,
        store_ids=tuple(s for s, _ in stores),
        technician_ids=tuple(t for t, _, _ in techs),
        tz_name=tz_name,
        seed=seed,
        technicians=tuple(techs),
    )
    for offset in (-1, 0, 1):
        seed_day(state, world, today + timedelta(days=offset), today)
    for store_id, name in stores:
        state.stores[store_id] = name
    for tech_id, name, _ in techs:
        state.technicians[tech_id] = name
    schedule_demo_stores(state, today, tz_name)
    return world


def seed_day(state: SandboxState, world: DemoWorld, day: date, today: date,
             appeared_at: datetime | None = None) -> None:
    """One day of the demo world, once. Job IDs depend on the seed and the day
    only, so every process agrees. A day before `today` is 80% COMPLETED, each job
    last updated when its appointment ended. `appeared_at`: a day added while the
    sandbox runs (roll_forward) was last updated then, so an incremental sync sees it."""
    tz = ZoneInfo(world.tz_name)
    past = day < today
    day_rng = random.Random(f"{world.seed}-{day.isoformat()}")
    with state.lock:
        if day in state.seeded_days:
            return
        state.seeded_days.add(day)
        for tech_id, tech_name, store_id in world.technicians:
            for slot in SLOTS:
                start = datetime.combine(day, slot, tzinfo=tz)
                status = "COMPLETED" if past and day_rng.random() < 0.8 else "NOT_SERVICED"
                job = make_job(
                    day_rng, marketplace_id=world.marketplace_id, store_id=store_id,
                    technician=(tech_id, tech_name), start=start, status=status,
                    created=start - timedelta(days=day_rng.randint(2, 20)),
                )
                minutes = job["appointments"][0]["appointmentTime"]["durationInMinutes"]
                finished = start + timedelta(minutes=minutes) if status == "COMPLETED" else None
                state.add_job(job, updated_at=_latest(finished, appeared_at))
        for store_id in world.store_ids:
            state.add_job(make_job(
                day_rng, marketplace_id=world.marketplace_id, store_id=store_id, technician=None,
                start=None, status="PENDING_SCHEDULE",
                created=datetime.combine(day, time(9), tzinfo=tz) - timedelta(days=3),
            ), updated_at=appeared_at)


def _latest(*times: datetime | None) -> datetime | None:
    known = [t for t in times if t is not None]
    return max(known) if known else None


def roll_forward(state: SandboxState, world: DemoWorld, now: datetime) -> list[date]:
    """The days around `now` the world lacks (yesterday, today, tomorrow), seeded:
    a sandbox left running past midnight always has the job of the day. Days
    skipped over (a sandbox asleep for a week) are not filled in."""
    today = now.astimezone(ZoneInfo(world.tz_name)).date()
    added = []
    for offset in (-1, 0, 1):
        day = today + timedelta(days=offset)
        with state.lock:
            if day in state.seeded_days:
                continue
        seed_day(state, world, day, today, appeared_at=now)
        added.append(day)
    return added


def seed_bulk(
    state: SandboxState,
    count: int,
    day: date,
    tz_name: str,
    marketplace_id: str,
    technician_id: str = "ABULKTECH00001",
    store_id: str = "bulk-store-0001",
    seed: int = 7,
) -> list[str]:
    """`count` jobs on `day` for one technician (load and pagination tests)."""
    rng = random.Random(seed)
    tz = ZoneInfo(tz_name)
    ids = []
    for i in range(count):
        start = datetime.combine(day, time(7), tzinfo=tz) + timedelta(minutes=(i % 600))
        job = make_job(
            rng, marketplace_id=marketplace_id, store_id=store_id,
            technician=(technician_id, "Bulk Technician"), start=start,
            created=start - timedelta(days=5),
        )
        state.add_job(job)
        ids.append(job["serviceJobId"])
    state.stores.setdefault(store_id, "Bulk store")
    return ids
