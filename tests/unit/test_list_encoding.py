"""The job list and the delta feed are written out by hand (techapi.reads.encode):
they must give exactly what marshmallow gives from the schemas the API documents."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

from marshmallow import Schema

from techapi.jobs.readiness import Needed
from techapi.reads.changes import Changes
from techapi.reads.jobs import JobList, JobSummary, Scope
from techapi.reads.schemas import ChangesSchema, JobListSchema
from techapi.spapi.types import Appointment


def _maybe(rng: random.Random, value):
    return value if rng.random() < 0.7 else None


def entry(rng: random.Random, n: int) -> JobSummary:
    start = datetime(2026, 6, 15, 8, tzinfo=UTC) + timedelta(minutes=37 * n)
    job = SimpleNamespace(service_job_id=f"job-{n}", status=rng.choice(["NOT_SERVICED", "COMPLETED", None]),
                          customer_name=_maybe(rng, "Zoë O'Brien"), customer_phone=_maybe(rng, "+1 555 0100"))
    appointment = _maybe(rng, Appointment(_maybe(rng, f"appt-{n}"), _maybe(rng, "ACTIVE"), _maybe(rng, start),
                                          _maybe(rng, rng.choice([30, 90]))))
    address = _maybe(rng, {"oneLine": "1 Main St, Seattle", "addressLine1": "1 Main St", "city": "Seattle",
                           "postalCode": "98101", "unexpected": "not in the schema"})
    if address and rng.random() < 0.5:
        del address["city"]
    scope = Scope(_maybe(rng, "Install a TV mount"), _maybe(rng, "B00TEST"), _maybe(rng, rng.choice([1, 3])),
                  rng.sample(["mount", "electrical", "assembly"], rng.randint(0, 3)))
    needed = rng.sample(list(Needed), rng.randint(0, len(Needed)))
    return JobSummary(job=job, appointment=appointment, address=address, scope=scope, still_needed=needed)


def test_the_hand_written_job_list_is_what_marshmallow_gives_from_the_documented_schema():
    rng = random.Random(11)
    for size in (0, 1, 5, 40):
        answer = JobList(date(2026, 6, 15), "America/New_York", [entry(rng, n) for n in range(size)])
        assert JobListSchema().dump(answer) == Schema.dump(JobListSchema(), answer)


def test_the_hand_written_delta_feed_is_what_marshmallow_gives_from_the_documented_schema():
    rng = random.Random(12)
    for size, more in ((0, False), (3, True), (25, False)):
        answer = Changes([entry(rng, n) for n in range(size)], [f"gone-{n}" for n in range(size // 2)], "c1.x",
                         more, size > 20, date(2026, 6, 15), date(2026, 6, 22), "UTC")
        assert ChangesSchema().dump(answer) == Schema.dump(ChangesSchema(), answer)
