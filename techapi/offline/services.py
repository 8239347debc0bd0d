"""Offline replay: apply a batch of recorded actions in order, each once.

The device's clock may be wrong. Its skew is estimated from `sentAt` (the
device's clock when it sent the batch) against the server's receive time; past a
tolerance, every action's time is corrected by the skew. Both values are kept
and the correction is on the audit trail. Every action answers on its own:
applied, duplicate (its idempotency key was seen), rejected with the reason (and
its field errors when it did not validate), or failed (a server error; nothing
applied, the key not kept). Each action and its key are one transaction, through
the same steps as the online calls; no action can fail the batch.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from techapi.audit.trail import Actor
from techapi.auth.models import User
from techapi.clock import as_utc
from techapi.closures.services import request_closure
from techapi.context import Deps
from techapi.db import transaction
from techapi.errors import BadRequestError, DomainError
from techapi.evidence.access import job_to_act_on
from techapi.evidence.models import TimeKind
from techapi.evidence.times import TimeInput, record_time
from techapi.idempotency.models import IdempotencyRecord
from techapi.idempotency.records import RETENTION, offline_key

log = logging.getLogger(__name__)
SKEW_TOLERANCE = timedelta(seconds=60)
KIND = {"start": TimeKind.START, "finish": TimeKind.FINISH}
SOURCE = "offline"


@dataclass(frozen=True)
class Skew:
    seconds: float
    corrected: bool


@dataclass(frozen=True)
class InvalidAction:
    """An action of the batch that did not validate: what was sent, and why not."""

    sent: Any
    errors: dict[str, Any]

    def given(self, name: str) -> str | None:
        value = self.sent.get(name) if isinstance(self.sent, dict) else None
        return value if isinstance(value, str) else None


@dataclass(frozen=True)
class ActionResult:
    index: int
    idempotency_key: str | None
    type: str | None
    service_job_id: str | None
    status: str  # applied, duplicate, rejected, failed
    reason: str | None = None
    errors: dict[str, Any] | None = None
    first_result: str | None = None


@dataclass(frozen=True)
class Replay:
    received_at: datetime
    clock_skew_seconds: float
    corrected: bool
    results: list[ActionResult]


def estimate_skew(sent_at: datetime, received_at: datetime) -> Skew:
    """Positive when the device's clock is ahead of the server's."""
    seconds = (as_utc(sent_at) - received_at).total_seconds()
    return Skew(seconds, abs(seconds) > SKEW_TOLERANCE.total_seconds())


def corrected_input(device_at: datetime, skew: Skew) -> TimeInput:
    """The device's time, shifted by the skew when the device's clock is off."""
    if not skew.corrected:
        return TimeInput(device_at=device_at)
    return TimeInput(device_at=device_at, corrected_at=as_utc(device_at) - timedelta(seconds=skew.seconds),
                     clock_skew_seconds=skew.seconds)


def _fingerprint(action: dict[str, Any]) -> str:
    at = action.get("at")
    canonical = {"type": action["type"], "serviceJobId": action["serviceJobId"],
                 "at": at.isoformat() if at else None}
    return hashlib.sha256(json.dumps(canonical, sort_keys=True).encode()).hexdigest()


def _apply(deps: Deps, session: Session, user: User, action: dict[str, Any], skew: Skew, now: datetime) -> None:
    job = job_to_act_on(session, user, action["serviceJobId"])
    actor = Actor.user(user.username, user.id, SOURCE)
    if action["type"] == "closure":
        request_closure(session, job, actor, now, deps.settings.require_approval, deps.settings.min_photos)
        return
    device_at = action.get("at")
    if device_at is None:
        raise BadRequestError("at is required for start and finish")
    record_time(session, job, actor, KIND[action["type"]], corrected_input(device_at, skew), now,
                deps.evidence_lock)


def _remember(session: Session, user: User, key: str, print_: str, outcome: dict[str, str], now: datetime) -> None:
    session.add(IdempotencyRecord(user_id=user.id, key=key, fingerprint=print_, status_code=200,
                                  content_type="application/json", body=json.dumps(outcome).encode(),
                                  created_at=now, expires_at=now + RETENTION))


def _replay_one(deps: Deps, session: Session, user: User, action: dict[str, Any], skew: Skew,
                now: datetime) -> dict[str, str]:
    """The outcome of one action: {"status", "reason"?, "firstResult"?}."""
    key, print_ = offline_key(action["idempotencyKey"]), _fingerprint(action)
    with transaction(session):
        earlier = session.get(IdempotencyRecord, (user.id, key))
        if earlier is not None and earlier.expires_at > now:
            if earlier.fingerprint != print_:
                return {"status": "rejected", "reason": "this idempotency key was used for a different action"}
            first = json.loads(earlier.body or b"{}")
            return {"status": "duplicate", "first_result": first.get("status"),
                    **({"reason": first["reason"]} if first.get("reason") else {})}
        if earlier is not None:
            session.delete(earlier)
    try:
        # The action and its key are one transaction: a replay can never apply it twice.
        with transaction(session):
            _apply(deps, session, user, action, skew, now)
            _remember(session, user, key, print_, {"status": "applied"}, now)
        return {"status": "applied"}
    except DomainError as exc:
        outcome = {"status": "rejected", "reason": exc.message}
    except IntegrityError:  # the same batch arrived twice at once; the other one applied it
        return {"status": "duplicate", "first_result": "applied"}
    try:
        with transaction(session):
            _remember(session, user, key, print_, outcome, now)
    except IntegrityError:
        return {"status": "duplicate", "first_result": "applied"}
    return outcome


def _answer(deps: Deps, session: Session, user: User, index: int, action: dict[str, Any] | InvalidAction,
            skew: Skew, now: datetime) -> ActionResult:
    if isinstance(action, InvalidAction):  # nothing to remember: its key may be the very thing wrong
        return ActionResult(index, action.given("idempotencyKey"), action.given("type"),
                            action.given("serviceJobId"), "rejected", "The action did not validate; see errors",
                            errors=action.errors)
    identity = (index, action["idempotencyKey"], action["type"], action["serviceJobId"])
    try:
        return ActionResult(*identity, **_replay_one(deps, session, user, action, skew, now))
    except OperationalError:
        raise  # the database is unreachable or locked: the whole batch is for a retry, not one action
    except Exception:  # one action's bug must not fail the others, nor every retry of the batch
        log.exception("offline action %s could not be applied", index)
        return ActionResult(*identity, "failed", "A server error kept this action from being applied; "
                                                 "send it again")


def replay(deps: Deps, session: Session, user: User, sent_at: datetime,
           actions: list[dict[str, Any] | InvalidAction]) -> Replay:
    now = deps.clock.now()
    skew = estimate_skew(sent_at, now)
    results = [_answer(deps, session, user, i, a, skew, now) for i, a in enumerate(actions)]
    return Replay(now, round(skew.seconds, 1), skew.corrected, results)
