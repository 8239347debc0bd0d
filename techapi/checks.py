"""Configuration checks for operators: `techapi check-config`, and the cheap part at start-up."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.exc import SQLAlchemyError

from techapi.context import Deps
from techapi.db import SchemaOutdated
from techapi.spapi.errors import SpApiError


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    message: str


def _database(deps: Deps) -> list[Check]:
    try:
        deps.db.ping()
    except SQLAlchemyError as exc:
        return [Check("database", False, f"cannot connect: {type(exc).__name__}: {str(exc).splitlines()[0][:200]}")]
    out = [Check("database", True, f"reachable ({deps.db.engine.dialect.name})")]
    try:
        deps.db.check_schema()
        out.append(Check("migrations", True, f"schema at {deps.db.head_revision()}"))
    except SchemaOutdated as exc:
        out.append(Check("migrations", False, str(exc)))
    return out


def _blob_store(deps: Deps) -> Check:
    key = f"healthchecks/{uuid.uuid4()}"
    try:
        deps.store.put_bytes(key, b"techapi")
        ok = deps.store.get_bytes(key) == b"techapi"
        deps.store.delete(key)
    except Exception as exc:  # noqa: BLE001 - reported, whatever the backend raised
        return Check("blob store", False, f"{deps.settings.storage_url} not writable: {type(exc).__name__}: {exc}")
    return Check("blob store", ok, f"{deps.settings.storage_url} writable" if ok else "read back different bytes")


def _lwa(deps: Deps) -> Check:
    try:
        deps.spapi.tokens.get()
    except SpApiError as exc:
        return Check("SP-API credentials", False, f"LWA refused them: {exc}")
    where = "in-process sandbox" if deps.settings.sandbox else deps.settings.lwa_token_url
    return Check("SP-API credentials", True, f"accepted by LWA ({where})")


def _allow_list(deps: Deps) -> Check:
    hosts = deps.settings.upload_allowed_hosts
    broad = [h for h in hosts if h.startswith("*.") and h.count(".") < 2]
    if broad:
        return Check("upload allow-list", False, f"too broad for presigned URLs: {', '.join(broad)}")
    note = ""
    if not deps.settings.sandbox and not any(h.endswith("amazonaws.com") for h in hosts):
        note = " (note: no amazonaws.com host, so Amazon's own upload URLs would be refused)"
    return Check("upload allow-list", True, ", ".join(hosts) + note)


def cheap(deps: Deps) -> list[Check]:
    """What web and worker processes check at start-up."""
    return [*_database(deps), _allow_list(deps)]


def full(deps: Deps) -> list[Check]:
    return [*_database(deps), _blob_store(deps), _lwa(deps), _allow_list(deps)]
