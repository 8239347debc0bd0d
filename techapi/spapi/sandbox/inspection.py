"""What tests and demos read and steer under /_sandbox/ (not part of SP-API)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from werkzeug.wrappers import Request, Response

from techapi.clock import iso_z
from techapi.spapi.sandbox import rules
from techapi.spapi.sandbox.faults import faults_from_json
from techapi.spapi.sandbox.jobs import find_job
from techapi.spapi.sandbox.routing import fail

if TYPE_CHECKING:
    from techapi.spapi.sandbox.app import Sandbox


def inspect_job(sandbox: Sandbox, request: Request, job_id: str) -> Response:
    """A job with what SP-API keeps but never returns: fulfillment data and counters."""
    with sandbox.state.lock:
        job = find_job(sandbox.state, job_id, 404, code="NotFound")
        body = {"payload": job.payload, "fulfillment": job.fulfillment,
                "completions": job.completions, "cancellations": job.cancellations,
                "cancellationReasonCode": job.cancellation_reason,
                "updatedAt": iso_z(job.updated_at)}
    return sandbox.respond("inspect", 200, body)


def stats(sandbox: Sandbox, request: Request) -> Response:
    state = sandbox.state
    with state.lock:
        calls = [{"operation": op, "status": st, "count": n} for (op, st), n in sorted(state.calls.items())]
        body = {"calls": calls, "tokenGrants": state.token_grants, "throttled": state.throttled()}
    return sandbox.respond("stats", 200, body)


def set_faults(sandbox: Sandbox, request: Request) -> Response:
    try:
        faults = faults_from_json(request.get_json(silent=True) or {})
    except (TypeError, ValueError, AttributeError):
        raise fail(400, rules.err("Invalid fault description")) from None
    sandbox.set_faults(faults)
    return sandbox.respond("faults", 204, None)
