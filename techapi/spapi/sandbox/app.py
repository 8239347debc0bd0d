"""A stateful SP-API Services v1 simulator (a moto for SP-API), as a WSGI app.

It serves LWA tokens, the six operations techapi uses and a presigned-style
upload URL, with the model's status codes, error shapes, usage plans and
validation; reachable in-process (httpx.WSGITransport) or over real HTTP.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import random
import secrets
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from werkzeug.exceptions import HTTPException, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from techapi.clock import Clock, SystemClock, iso_z
from techapi.spapi import plans
from techapi.spapi.ratelimit import TokenBucket
from techapi.spapi.reasons import allowed_cancellation_codes
from techapi.spapi.sandbox import rules
from techapi.spapi.sandbox.listing import list_jobs
from techapi.spapi.sandbox.seed import DemoWorld, seed_demo
from techapi.spapi.sandbox.state import Destination, SandboxJob, SandboxState

SANDBOX_CLIENT_ID = "amzn1.application-oa2-client.sandbox"
SANDBOX_CLIENT_SECRET = "sandbox-client-secret"
SANDBOX_REFRESH_TOKEN = "Atzr|sandbox-refresh-token"


@dataclass
class SandboxConfig:
    client_id: str = SANDBOX_CLIENT_ID
    client_secret: str = SANDBOX_CLIENT_SECRET
    refresh_token: str = SANDBOX_REFRESH_TOKEN
    token_ttl_seconds: int = 3600
    url_ttl_seconds: int = 300
    enforce_rate_limits: bool = True
    usage_plans: dict[str, plans.UsagePlan] = field(default_factory=lambda: dict(plans.USAGE_PLANS))


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


class _Reply(Exception):
    def __init__(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        super().__init__(status)
        self.status, self.body, self.headers = status, body, headers or {}


def _errors(status: int, *errors: dict[str, str]) -> _Reply:
    return _Reply(status, {"errors": list(errors)})


class Sandbox:
    def __init__(
        self,
        state: SandboxState | None = None,
        clock: Clock | None = None,
        config: SandboxConfig | None = None,
        faults: Faults | None = None,
    ) -> None:
        self.state = state or SandboxState()
        self.clock = clock or SystemClock()
        self.config = config or SandboxConfig()
        self.faults = faults or Faults()
        self._rng = random.Random(self.faults.seed)
        self._signing_key = secrets.token_bytes(32)
        # Created now, full, like SP-API's own buckets that exist before our first call.
        self._buckets = {op: TokenBucket(p.rate, p.burst) for op, p in self.config.usage_plans.items()}
        self._bucket_lock = threading.Lock()
        self.world: DemoWorld | None = None
        self.url_map = Map([
            Rule("/auth/o2/token", methods=["POST"], endpoint="lwa_token"),
            Rule("/service/v1/serviceJobs", methods=["GET"], endpoint=plans.GET_SERVICE_JOBS),
            Rule("/service/v1/serviceJobs/<job_id>", methods=["GET"], endpoint=plans.GET_SERVICE_JOB),
            Rule("/service/v1/serviceJobs/<job_id>/appointments/<appointment_id>/fulfillment",
                 methods=["PUT"], endpoint=plans.SET_FULFILLMENT_DATA),
            Rule("/service/v1/serviceJobs/<job_id>/completions", methods=["PUT"],
                 endpoint=plans.COMPLETE_SERVICE_JOB),
            Rule("/service/v1/serviceJobs/<job_id>/cancellations", methods=["PUT"],
                 endpoint=plans.CANCEL_SERVICE_JOB),
            Rule("/service/v1/documents", methods=["POST"], endpoint=plans.CREATE_UPLOAD_DESTINATION),
            Rule("/_sandbox/uploads/<token>", methods=["PUT"], endpoint="upload"),
            Rule("/_sandbox/jobs/<job_id>", methods=["GET"], endpoint="inspect_job"),
            Rule("/_sandbox/stats", methods=["GET"], endpoint="stats"),
            Rule("/_sandbox/faults", methods=["PUT"], endpoint="set_faults"),
        ])

    @classmethod
    def demo(cls, today: date, tz_name: str, marketplace_id: str, **kwargs: Any) -> Sandbox:
        sandbox = cls(**kwargs)
        sandbox.world = seed_demo(sandbox.state, today, tz_name, marketplace_id)
        return sandbox

    def set_faults(self, faults: Faults) -> None:
        self.faults = faults
        self._rng = random.Random(faults.seed)

    # WSGI -------------------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        return self.dispatch(request)(environ, start_response)

    def dispatch(self, request: Request) -> Response:
        adapter = self.url_map.bind_to_environ(request.environ)
        operation = "unknown"
        try:
            operation, args = adapter.match()
            handler = getattr(self, f"_op_{operation}", None) or getattr(self, f"_{operation}")
            if operation in plans.USAGE_PLANS:
                return self._spapi_call(operation, request, handler, args)
            return handler(request, **args)
        except _Reply as reply:
            return self._respond(operation, reply.status, reply.body, reply.headers)
        except NotFound:
            return self._respond(operation, 404, {"errors": [rules.err(
                "The requested resource was not found.", code="NotFound")]})
        except HTTPException as exc:
            return self._respond(operation, exc.code or 400, {"errors": [rules.err(
                exc.description or "Bad request", code="InvalidInput")]})

    def _respond(self, operation: str, status: int, body: Any, headers: dict[str, str] | None = None
                 ) -> Response:
        self.state.count(operation, status)
        out = {"x-amzn-RequestId": str(uuid.uuid4())}
        plan = self.config.usage_plans.get(operation)
        if plan is not None and status != 403:
            out["x-amzn-RateLimit-Limit"] = f"{plan.rate}"
        out.update(headers or {})
        if status == 204 or body is None:
            return Response(status=status, headers=out)
        return Response(json.dumps(body), status=status, headers=out, mimetype="application/json")

    def _spapi_call(self, operation: str, request: Request, handler: Any, args: dict[str, str]) -> Response:
        self._authenticate(request)
        if self.config.enforce_rate_limits and not self._bucket(operation).try_take():
            raise _errors(429, rules.err("You exceeded your quota for the requested resource.",
                                         code="QuotaExceeded"))
        after_commit = self._inject_faults(operation)
        status, body = handler(request, **args)
        if after_commit:
            raise _errors(500, rules.err("We encountered an internal error. Please try again.",
                                         code="InternalFailure"))
        return self._respond(operation, status, body)

    def _authenticate(self, request: Request) -> None:
        token = request.headers.get("x-amz-access-token", "")
        with self.state.lock:
            expiry = self.state.access_tokens.get(token)
        if expiry is None or expiry <= self.clock.now():
            detail = ("The access token you provided has expired." if expiry else
                      "The access token you provided is revoked, malformed or invalid.")
            raise _errors(403, rules.err("Access to requested resource is denied.",
                                         code="Unauthorized", details=detail))

    def _bucket(self, operation: str) -> TokenBucket:
        with self._bucket_lock:
            bucket = self._buckets.get(operation)
            if bucket is None:
                plan = self.config.usage_plans[operation]
                bucket = self._buckets[operation] = TokenBucket(plan.rate, plan.burst)
            return bucket

    def _inject_faults(self, operation: str) -> bool:
        """Apply scripted and random faults; True means fail after doing the work."""
        faults = self.faults
        script = faults.script.get(operation)
        if script:
            status = script.pop(0)
            if status:
                code = "QuotaExceeded" if status == 429 else "InternalFailure"
                raise _errors(status, rules.err(f"Injected fault {status}", code=code))
            return False
        if not faults.applies(operation):
            return False
        if faults.latency_seconds and (not faults.slow_rate or self._rng.random() < faults.slow_rate):
            time.sleep(faults.latency_seconds)
        if faults.throttle_rate and self._rng.random() < faults.throttle_rate:
            raise _errors(429, rules.err("You exceeded your quota for the requested resource.",
                                         code="QuotaExceeded"))
        if faults.error_rate and self._rng.random() < faults.error_rate:
            status = self._rng.choice([500, 503])
            raise _errors(status, rules.err("Injected fault", code="InternalFailure"))
        return bool(faults.error_after_commit_rate and self._rng.random() < faults.error_after_commit_rate)

    # LWA ---------------------------------------------------------------------

    def _lwa_token(self, request: Request) -> Response:
        form = request.form
        if form.get("grant_type") != "refresh_token":
            return self._lwa_error(400, "unsupported_grant_type", "Only refresh_token is supported")
        if not (hmac.compare_digest(form.get("client_id", ""), self.config.client_id)
                and hmac.compare_digest(form.get("client_secret", ""), self.config.client_secret)):
            return self._lwa_error(401, "invalid_client", "Client authentication failed")
        if not hmac.compare_digest(form.get("refresh_token", ""), self.config.refresh_token):
            return self._lwa_error(400, "invalid_grant", "The request has an invalid grant parameter")
        token = "Atza|" + secrets.token_urlsafe(24)
        now = self.clock.now()
        with self.state.lock:
            self.state.access_tokens[token] = now + timedelta(seconds=self.config.token_ttl_seconds)
            self.state.token_grants += 1
        self.state.expire_tokens(now)
        return self._respond("lwaToken", 200, {
            "access_token": token, "refresh_token": self.config.refresh_token,
            "token_type": "bearer", "expires_in": self.config.token_ttl_seconds,
        })

    def _lwa_error(self, status: int, code: str, description: str) -> Response:
        return self._respond("lwaToken", status, {"error": code, "error_description": description})

    # Operations ----------------------------------------------------------------

    def _op_getServiceJobs(self, request: Request) -> tuple[int, Any]:
        with self.state.lock:
            return list_jobs(self.state, request.args)

    def _job(self, job_id: str) -> SandboxJob | None:
        return self.state.jobs.get(job_id)

    def _op_getServiceJobByServiceJobId(self, request: Request, job_id: str) -> tuple[int, Any]:
        if len(job_id) > 100:
            raise _errors(400, rules.missing(["serviceJobId"]))
        with self.state.lock:
            job = self._job(job_id)
            if job is None:
                raise _errors(404, rules.err(f"Job not found for jobId {job_id}", code="NotFound"))
            return 200, {"payload": json.loads(json.dumps(job.payload))}

    def _op_setAppointmentFulfillmentData(
        self, request: Request, job_id: str, appointment_id: str
    ) -> tuple[int, Any]:
        # This operation's 4xx body is a bare ErrorList, per the model.
        bad = [n for n, v in (("serviceJobId", job_id), ("appointmentId", appointment_id))
               if not 1 <= len(v) <= 100 or (n == "appointmentId" and len(v) < 5)]
        if bad:
            raise _Reply(400, [rules.missing(bad)])
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            raise _Reply(400, [rules.err("Could not parse the JSON payload.")])
        known = ("estimatedArrivalTime", "fulfillmentTime", "appointmentResources", "fulfillmentDocuments")
        if not any(k in body for k in known):
            raise _Reply(400, [rules.err("No fulfillment artifacts provided in JSON payload.")])
        now = self.clock.now()
        with self.state.lock:
            job = self._job(job_id)
            if job is None:
                raise _Reply(422, [rules.err(f"No job exist with jobId : {job_id}")])
            if job.status != "NOT_SERVICED":
                raise _Reply(422, [rules.err(f"Job with id {job_id} can not be updated. "
                                             "Please check if the job is in valid status.")])
            appt = job.appointment(appointment_id)
            if appt is None:
                raise _Reply(422, [rules.err(f"Appointment with id {appointment_id} is not present in "
                                             "the job. Please check the input again.")])
            if appt.get("appointmentStatus") != "ACTIVE":
                raise _Reply(422, [rules.err(f"Appointment with appointment id {appointment_id} is not "
                                             "valid to update. Please check the input again")])
            errors: list[dict[str, str]] = []
            if "appointmentResources" in body:
                errors += rules.check_resources(body["appointmentResources"], self.state.technicians)
            if "fulfillmentTime" in body:
                errors += rules.check_fulfillment_time(body["fulfillmentTime"], now)
            if "estimatedArrivalTime" in body:
                errors += rules.check_arrival_time(body["estimatedArrivalTime"])
            docs = body.get("fulfillmentDocuments")
            if docs is not None:
                if not isinstance(docs, list):
                    errors.append(rules.err("Could not parse fulfillmentDocuments."))
                else:
                    for doc in docs:
                        dest_id = doc.get("uploadDestinationId") if isinstance(doc, dict) else None
                        dest = self.state.destinations.get(dest_id) if isinstance(dest_id, str) else None
                        errors += rules.check_document(doc, dest)
            if errors:
                raise _Reply(422, errors)
            for key in known:
                if key in body:
                    job.fulfillment[key] = json.loads(json.dumps(body[key]))
            job.fulfillment["appointmentId"] = appointment_id
            job.updated_at = now
        return 204, None

    def _op_completeServiceJobByServiceJobId(self, request: Request, job_id: str) -> tuple[int, Any]:
        if len(job_id) > 100:
            raise _errors(400, rules.missing(["serviceJobId"]))
        with self.state.lock:
            job = self._job(job_id)
            if job is None:
                raise _errors(422, rules.err(f"Job not found for jobId {job_id}"))
            if job.status != "NOT_SERVICED":
                raise _errors(422, rules.err(f"Operation not allowed on job with jobId : {job_id} "
                                             f"and jobState : {job.status}"))
            lacking = []
            ft = job.fulfillment.get("fulfillmentTime") or {}
            if not (ft.get("startTime") and ft.get("endTime")):
                lacking.append("fulfillmentTime")
            if not job.fulfillment.get("fulfillmentDocuments"):
                lacking.append("fulfillmentDocuments")
            if lacking:
                raise _errors(422, rules.err(
                    f"Fulfillment data is incomplete for jobId {job_id}: missing [{', '.join(lacking)}]. "
                    "Please set appointment fulfillment data before completing the job."))
            job.set_status("COMPLETED", "COMPLETED", self.clock.now())
            job.completions += 1
        return 200, {}

    def _op_cancelServiceJobByServiceJobId(self, request: Request, job_id: str) -> tuple[int, Any]:
        code = request.args.get("cancellationReasonCode", "")
        bad = ([] if 1 <= len(job_id) <= 100 else ["serviceJobId"]) + (
            [] if rules.REASON_CODE.match(code) else ["cancellationReasonCode"])
        if bad:
            raise _errors(400, rules.missing(bad))
        with self.state.lock:
            job = self._job(job_id)
            if job is None:
                raise _errors(422, rules.err(f"Job not found for jobId {job_id}"))
            if job.status in ("COMPLETED", "CANCELLED"):
                raise _errors(422, rules.err(f"Job with jobId {job_id} and jobStatus {job.status} "
                                             "cannot be cancelled"))
            if code not in allowed_cancellation_codes(job.payload.get("marketplaceId", "")):
                raise _errors(422, rules.err(f"Received invalid input reason code {code} for jobId {job_id}"))
            job.set_status("CANCELLED", "CANCELLED", self.clock.now())
            job.cancellations += 1
            job.cancellation_reason = code
        return 200, {}

    def _op_createServiceDocumentUploadDestination(self, request: Request) -> tuple[int, Any]:
        body = request.get_json(silent=True)
        status, errors = rules.check_upload_request(body)
        if errors:
            raise _errors(status, *errors)
        now = self.clock.now()
        dest = Destination(
            upload_destination_id=(f"amzn1.tortuga.3.{uuid.uuid4()}.T{secrets.token_hex(6).upper()}"
                                   f"<->amzn1.tortuga.1.token.{base64.b64encode(secrets.token_bytes(16)).decode()}"),
            upload_token=secrets.token_urlsafe(18),
            content_type=body["contentType"],
            content_length=int(body["contentLength"]),
            content_md5=body.get("contentMD5"),
            key=secrets.token_bytes(32),
            iv=secrets.token_bytes(16),
            created_at=now,
            url_expires_at=now + timedelta(seconds=self.config.url_ttl_seconds),
        )
        with self.state.lock:
            if self.faults.expired_urls > 0:
                self.faults.expired_urls -= 1
                dest.url_expires_at = now
        self.state.add_destination(dest)
        mime = rules.MIME[dest.content_type]
        return 200, {"payload": {
            "uploadDestinationId": dest.upload_destination_id,
            "url": self._presign(request.host_url, dest, now, mime),
            "encryptionDetails": {
                "standard": "AES",
                "initializationVector": base64.b64encode(dest.iv).decode(),
                "key": base64.b64encode(dest.key).decode(),
            },
            "headers": {"Content-Type": mime},
        }}

    # Upload URL (S3-like, presigned, expiring, Content-Type signed) -------------

    def _signature(self, token: str, amz_date: str, expires: str, content_type: str) -> str:
        message = f"{token}\n{amz_date}\n{expires}\n{content_type}".encode()
        return hmac.new(self._signing_key, message, hashlib.sha256).hexdigest()

    def _presign(self, host_url: str, dest: Destination, now: datetime, mime: str) -> str:
        amz_date = now.strftime("%Y%m%dT%H%M%SZ")
        expires = str(self.config.url_ttl_seconds)
        signature = self._signature(dest.upload_token, amz_date, expires, mime)
        return (f"{host_url.rstrip('/')}/_sandbox/uploads/{dest.upload_token}"
                f"?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date={amz_date}"
                f"&X-Amz-SignedHeaders=content-type%3Bhost&X-Amz-Expires={expires}"
                f"&X-Amz-Signature={signature}")

    def _s3_error(self, status: int, code: str, message: str) -> Response:
        self.state.count("upload", status)
        body = ('<?xml version="1.0" encoding="UTF-8"?>\n'
                f"<Error><Code>{code}</Code><Message>{message}</Message></Error>")
        return Response(body, status=status, mimetype="application/xml")

    def _upload(self, request: Request, token: str) -> Response:
        args = request.args
        with self.state.lock:
            dest = self.state.destinations_by_token.get(token)
        if dest is None:
            return self._s3_error(404, "NoSuchKey", "The specified key does not exist.")
        amz_date, expires = args.get("X-Amz-Date", ""), args.get("X-Amz-Expires", "")
        expected = self._signature(token, amz_date, expires, request.headers.get("Content-Type", ""))
        if not hmac.compare_digest(expected, args.get("X-Amz-Signature", "")):
            return self._s3_error(403, "SignatureDoesNotMatch",
                                  "The request signature we calculated does not match the signature you provided.")
        if self.clock.now() >= dest.url_expires_at:
            return self._s3_error(403, "AccessDenied", "Request has expired")
        data = request.get_data(cache=False)
        if len(data) > plans.MAX_DOCUMENT_BYTES + 16:
            return self._s3_error(400, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size")
        with self.state.lock:
            dest.data = data
            dest.puts += 1
        self.state.count("upload", 200)
        return Response(status=200, headers={"ETag": f"\"{hashlib.md5(data).hexdigest()}\""})

    # Inspection for tests and demos (not part of SP-API) --------------------------

    def _inspect_job(self, request: Request, job_id: str) -> Response:
        with self.state.lock:
            job = self._job(job_id)
            if job is None:
                raise _errors(404, rules.err(f"Job not found for jobId {job_id}", code="NotFound"))
            body = {"payload": job.payload, "fulfillment": job.fulfillment,
                    "completions": job.completions, "cancellations": job.cancellations,
                    "cancellationReasonCode": job.cancellation_reason,
                    "updatedAt": iso_z(job.updated_at)}
        return self._respond("inspect", 200, body)

    def _stats(self, request: Request) -> Response:
        with self.state.lock:
            calls = [{"operation": op, "status": st, "count": n} for (op, st), n in sorted(self.state.calls.items())]
            body = {"calls": calls, "tokenGrants": self.state.token_grants, "throttled": self.state.throttled()}
        return self._respond("stats", 200, body)

    def _set_faults(self, request: Request) -> Response:
        body = request.get_json(silent=True) or {}
        try:
            faults = Faults(
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
        except (TypeError, ValueError, AttributeError):
            raise _errors(400, rules.err("Invalid fault description")) from None
        self.set_faults(faults)
        return self._respond("faults", 204, None)
