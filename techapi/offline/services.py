"""Offline replay: apply a batch of recorded actions in order, each once.

The device's clock may be wrong. Its skew is estimated from `sentAt` (the
device's clock when it sent the batch) against the server's receive time; past a
tolerance, every action's time is corrected by the skew. Both values are kept
and the correction is on the audit trail. Every action answers: applied,
duplicate (its idempotency key was seen) or rejected with the reason.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from techapi.auth.models import User
from techapi.clock import as_utc
from techapi.closures.services import request_closure
from techapi.config import Settings
from techapi.errors import DomainError
from techapi.evidence.access import job_to_act_on
from techapi.evidence.models import TimeKind
from techapi.evidence.times import TimeInput, record_time
from techapi.idempotency import RETENTION, IdempotencyRecord

SKEW_TOLERANCE = timedelta(seconds=60)
KIND = {"start": TimeKind.START, "finish": TimeKind.FINISH}


@dataclass(frozen=True)
class Skew:
    seconds: float
    corrected: bool


def estimate_skew(sent_at: datetime, received_at: datetime) -> Skew:
    """Positive when the device's clock is ahead of the server's."""
    seconds = (as_utc(sent_at) - received_at).total_seconds()
    return Skew(seconds, abs(seconds) > SKEW_TOLERANCE.total_seconds())


def _fingerprint(action: dict[str, Any]) -> str:
    at = action.get("at")
    canonical = {"type": action["type"], "serviceJobId": action["serviceJobId"],
                 "at": at.isoformat() if at else None}
    return hashlib.sha256(json.dumps(canonical, sort_keys=True).encode()).hexdigest()


def _apply(session: Session, settings: Settings, user: User, action: dict[str, Any], skew: Skew,
           now: datetime) -> None:
    job = job_to_act_on(session, user, action["serviceJobId"])
    if action["type"] == "closure":
        request_closure(session, job, user, now, settings.require_approval, settings.min_photos,
                        source="offline", commit=False)
        return
    device_at = action.get("at")
    if device_at is None:
        raise DomainError("at is required for start and finish")
    given = TimeInput(device_at=device_at)
    if skew.corrected:
        given = TimeInput(device_at=device_at, corrected_at=as_utc(device_at) - timedelta(seconds=skew.seconds),
                          clock_skew_seconds=skew.seconds)
    record_time(session, job, user, KIND[action["type"]], given, now, source="offline", commit=False)


def replay(session: Session, settings: Settings, user: User, sent_at: datetime, actions: list[dict[str, Any]],
           now: datetime) -> dict[str, Any]:
    skew = estimate_skew(sent_at, now)
    results = []
    for action in actions:
        key = "offline:" + action["idempotencyKey"]
        print_ = _fingerprint(action)
        outcome = {"idempotencyKey": action["idempotencyKey"], "type": action["type"],
                   "serviceJobId": action["serviceJobId"]}
        earlier = session.get(IdempotencyRecord, (user.id, key))
        if earlier is not None and earlier.expires_at > now:
            if earlier.fingerprint != print_:
                results.append({**outcome, "status": "rejected",
                                "reason": "this idempotency key was used for a different action"})
            else:
                first = json.loads(earlier.body or b"{}")
                results.append({**outcome, "status": "duplicate", "firstResult": first.get("status"),
                                **({"reason": first["reason"]} if first.get("reason") else {})})
            continue
        if earlier is not None:
            session.delete(earlier)
            session.flush()
        try:
            _apply(session, settings, user, action, skew, now)
            result = {"status": "applied"}
        except DomainError as exc:
            session.rollback()
            result = {"status": "rejected", "reason": exc.message}
        # The action and its key are one transaction: a replay can never apply it twice.
        session.add(IdempotencyRecord(user_id=user.id, key=key, fingerprint=print_, status_code=200,
                                      content_type="application/json", body=json.dumps(result).encode(),
                                      created_at=now, expires_at=now + RETENTION))
        try:
            session.commit()
        except IntegrityError:  # the same batch arrived twice at once; the other one applied it
            session.rollback()
            result = {"status": "duplicate", "firstResult": "applied"}
        results.append({**outcome, **result})
    return {"receivedAt": now, "clockSkewSeconds": round(skew.seconds, 1), "corrected": skew.corrected,
            "results": results}
