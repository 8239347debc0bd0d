"""Compressed JSON for phones on cellular data: gzip or brotli, as the client accepts.

flask-compress does the work, for `application/json` only (never a document's
JPEG, PNG or PDF bytes: already compressed, and a PDF is better left as signed)
and only from 1 KiB on, where it pays. Every response says `Vary: Accept-Encoding`.

Strong ETags: a compressed body is another representation, so flask-compress
gives it its own validator, `"<tag>:gzip"` or `"<tag>:br"`. A client sends that
back in `If-None-Match`; the suffix is taken off before any view sees the header,
so a view's cheap revalidation compares its own tag and answers 304 without
building the body, and the 304 carries the tag the client holds.

Idempotent replays: `@idempotent` stores the view's body before compression, so
a replay is compressed (or not) for the client that asks this time.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, request
from flask_compress import Compress
from werkzeug.http import parse_etags, quote_etag

ALGORITHMS = ("br", "gzip")  # brotli first when both are welcome: smaller JSON
SUFFIXES = tuple(f":{algorithm}" for algorithm in ALGORITHMS)
SENT_TAGS = "techapi.if_none_match"  # WSGI environ key: the tags as the client sent them


def representation(tag: str) -> tuple[str, str]:
    """`abc:gzip` -> (`abc`, `:gzip`); a tag of ours without a suffix -> (tag, "")."""
    for suffix in SUFFIXES:
        if tag.endswith(suffix):
            return tag[: -len(suffix)], suffix
    return tag, ""


def _strip_suffixes() -> None:
    sent = request.environ.get("HTTP_IF_NONE_MATCH")
    if not sent:
        return
    tags = parse_etags(sent)
    if tags.star_tag:
        return
    # A malformed header parses to empty entries (None): they match nothing, so they are dropped.
    strong = [quote_etag(representation(tag)[0]) for tag in tags.as_set(include_weak=False) if tag]
    weak = [quote_etag(representation(tag)[0], weak=True) for tag in tags.as_set(include_weak=True)
            if tag and not tags.is_strong(tag)]
    request.environ[SENT_TAGS] = sent
    request.environ["HTTP_IF_NONE_MATCH"] = ", ".join(strong + weak)


def _echo_suffix(response: Response) -> Response:
    """A 304 names the representation the client holds, as RFC 9110 asks."""
    sent = request.environ.get(SENT_TAGS)
    tag, weak = response.get_etag()
    if response.status_code == 304 and sent and tag and not weak:
        for held in filter(None, parse_etags(sent).as_set(include_weak=False)):
            base, suffix = representation(held)
            if base == tag and suffix:
                response.set_etag(held)
                break
    return response


def init_app(app: Flask, **config: Any) -> None:
    app.config.update(
        COMPRESS_MIMETYPES=["application/json"],
        COMPRESS_MIN_SIZE=1024,
        COMPRESS_ALGORITHM=list(ALGORITHMS),
        # Streamed bodies are document bytes (never JSON); leave them alone.
        COMPRESS_STREAMS=False,
        **config,
    )
    # Registered first, so the tags are rewritten before any other hook or view reads them.
    app.before_request_funcs.setdefault(None, []).insert(0, _strip_suffixes)
    Compress(app)
    app.after_request(_echo_suffix)
