"""The delta feed's opaque cursor: what the client last received, encoded so it
survives restarts (it holds no per-process secret) and is refused when it belongs
to another database or another caller, or is older than the offline window.

Forging one gains nothing: every page is read through the caller's visibility
rule, so a cursor only ever chooses which of the caller's own jobs come back."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import asdict, dataclass
from datetime import date

PREFIX = "c1."


class BadCursor(ValueError):
    """A cursor that is not one of ours (truncated, altered, another version)."""


@dataclass(frozen=True)
class Cursor:
    epoch: str  # the database's (techapi.jobs.models.ChangeCounter)
    caller: str  # a digest of who the caller is and what they may see
    since: int  # changes above this counter value are still to come
    window: date  # the first day of the window it was issued for
    upto: int | None = None  # while paging: the counter value the pages stop at
    after: str = ""  # while paging: the last job ID sent
    full: bool = False  # while paging: the pages hold the whole window

    @property
    def paging(self) -> bool:
        return self.upto is not None


def caller_digest(parts: tuple[object, ...]) -> str:
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:16]


def encode(cursor: Cursor) -> str:
    raw = asdict(cursor)
    raw["window"] = cursor.window.isoformat()
    body = json.dumps(raw, separators=(",", ":"), sort_keys=True).encode()
    return PREFIX + base64.urlsafe_b64encode(body).decode().rstrip("=")


def decode(text: str) -> Cursor:
    if not text.startswith(PREFIX) or len(text) > 1024:
        raise BadCursor("not a cursor of this API")
    body = text[len(PREFIX):]
    try:
        raw = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        cursor = Cursor(epoch=str(raw["epoch"]), caller=str(raw["caller"]), since=_whole(raw["since"]),
                        window=date.fromisoformat(raw["window"]),
                        upto=None if raw.get("upto") is None else _whole(raw["upto"]),
                        after=_job_id(raw.get("after", "")), full=bool(raw.get("full", False)))
    except (binascii.Error, ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
        raise BadCursor("not a cursor of this API") from exc
    return cursor


def _whole(value: object) -> int:
    if type(value) is not int or not 0 <= value < 2**63:  # a BIGINT
        raise ValueError("not a counter value")
    return value


def _job_id(value: object) -> str:
    if not isinstance(value, str) or len(value) > 100 or "\x00" in value:
        raise ValueError("not a job ID")
    value.encode()  # a lone surrogate raises UnicodeEncodeError, a ValueError
    return value
