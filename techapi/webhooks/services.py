"""Receiving a field-app delivery: verify, store, acknowledge; the worker applies it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from techapi.config import decode_webhook_secret
from techapi.context import Deps
from techapi.db import transaction
from techapi.edge.text import loads
from techapi.errors import MalformedWebhook, ValidationError, WebhookNotAuthentic
from techapi.queue.outbox import enqueue
from techapi.webhooks.models import EventStatus, WebhookEvent
from techapi.webhooks.signature import MalformedHeaders, NotAuthentic, verify
from techapi.webhooks.tasks import KNOWN, WEBHOOK_EVENT


@dataclass(frozen=True)
class Ack:
    status: str  # accepted, duplicate, ignored
    webhook_id: str

    @property
    def first_time(self) -> bool:
        return self.status != "duplicate"


def _parse(body: bytes) -> dict[str, Any]:
    # The edge's bounded parser, whatever the Content-Type: a body sent as text/plain
    # gets the same limits on depth, numbers, NUL and lone surrogates as JSON does.
    event = loads(body)
    if not isinstance(event, dict) or not isinstance(event.get("type"), str) or not event["type"]:
        raise ValidationError("An event is a JSON object with a type", errors={"json": {"type": ["required"]}})
    if event["type"] in KNOWN and not isinstance(event.get("data"), dict):
        raise ValidationError("The event has no data object", errors={"json": {"data": ["required"]}})
    return event


def receive(deps: Deps, session: Session, headers: Mapping[str, str], body: bytes) -> Ack:
    """Verified on the raw bytes before anything is parsed; a redelivery is acknowledged, not stored again."""
    keys = [decode_webhook_secret(s.reveal()) for s in deps.settings.webhook_secrets]
    try:
        webhook_id, _ = verify(headers, body, keys, int(deps.clock.now().timestamp()))
    except MalformedHeaders as exc:
        raise MalformedWebhook(str(exc)) from None
    except NotAuthentic as exc:
        raise WebhookNotAuthentic(str(exc)) from None
    if session.get(WebhookEvent, webhook_id) is not None:
        return Ack("duplicate", webhook_id)
    event = _parse(body)
    known = event["type"] in KNOWN
    now = deps.clock.now()
    try:
        with transaction(session):
            session.add(WebhookEvent(webhook_id=webhook_id, type=event["type"][:64], payload=event, received_at=now,
                                     status=EventStatus.RECEIVED if known else EventStatus.IGNORED,
                                     result=None if known else "unknown event type"))
            if known:
                enqueue(session, WEBHOOK_EVENT, webhook_id, now)
    except IntegrityError:  # the same delivery twice at once
        return Ack("duplicate", webhook_id)
    return Ack("accepted" if known else "ignored", webhook_id)
