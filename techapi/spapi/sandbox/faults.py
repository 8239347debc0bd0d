"""Failure injection: what tests ask the sandbox to break, and when it does."""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from typing import Any

from techapi.spapi.sandbox import rules
from techapi.spapi.sandbox.routing import fail, quota_exceeded


@dataclass
class Faults:
    """Failure injection for tests. Rates are probabilities per SP-API call."""

    error_rate: float = 0.0  # 5xx before doing anything
    error_after_commit_rate: float = 0.0  # do the work, then answer 5xx
    throttle_rate: float = 0.0  # 429 regardless of the usage plan
    latency_seconds: float = 0.0  # added to matching calls (timeouts)
    slow_rate: float = 0.0  # share of calls that get the latency (0 = all when latency set)
    operations: tuple[str, ...] = ()  # empty = every operation
    # Next answers per operation: an error status, or 0 to let that call through.
    script: dict[str, list[int]] = field(default_factory=dict)
    expired_urls: int = 0  # this many new upload destinations are handed out already expired
    seed: int | None = None

    def applies(self, operation: str) -> bool:
        return not self.operations or operation in self.operations


def faults_from_json(body: Any) -> Faults:
    """The body of PUT /_sandbox/faults; raises TypeError, ValueError or AttributeError."""
    return Faults(
        error_rate=float(body.get("errorRate", 0)),
        error_after_commit_rate=float(body.get("errorAfterCommitRate", 0)),
        throttle_rate=float(body.get("throttleRate", 0)),
        latency_seconds=float(body.get("latencySeconds", 0)),
        slow_rate=float(body.get("slowRate", 0)),
        operations=tuple(body.get("operations", ())),
        script={k: [int(s) for s in v] for k, v in (body.get("script") or {}).items()},
        expired_urls=int(body.get("expiredUrls", 0)),
        seed=body.get("seed"),
    )


def inject_faults(faults: Faults, rng: random.Random, operation: str) -> bool:
    """Apply scripted and random faults; True means fail after doing the work."""
    script = faults.script.get(operation)
    if script:
        status = script.pop(0)
        if status:
            code = "QuotaExceeded" if status == 429 else "InternalFailure"
            raise fail(status, rules.err(f"Injected fault {status}", code=code))
        return False
    if not faults.applies(operation):
        return False
    if faults.latency_seconds and (not faults.slow_rate or rng.random() < faults.slow_rate):
        time.sleep(faults.latency_seconds)
    if faults.throttle_rate and rng.random() < faults.throttle_rate:
        raise quota_exceeded()
    if faults.error_rate and rng.random() < faults.error_rate:
        status = rng.choice([500, 503])
        raise fail(status, rules.err("Injected fault", code="InternalFailure"))
    return bool(faults.error_after_commit_rate and rng.random() < faults.error_after_commit_rate)
