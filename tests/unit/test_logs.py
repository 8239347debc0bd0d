"""Logging never fails and never leaks: records that cannot be formatted as given
still come out as one line, secret-shaped text is masked whoever logs it, and
chatty third-party loggers stay at INFO even at DEBUG."""

from __future__ import annotations

import io
import json
import logging

import pytest
from sqlalchemy.exc import PendingRollbackError

from techapi.config import load_settings
from techapi.logs import CAPPED_AT_INFO, JsonFormatter, RedactingFilter, TextFormatter, configure_logging


class Unprintable:
    def __str__(self) -> str:
        raise RuntimeError("no str")

    def __repr__(self) -> str:
        raise RuntimeError("no repr")


class BrokenUser:
    """A user row whose session is mid-rollback: reading its id raises."""

    @property
    def id(self) -> int:
        raise PendingRollbackError("This Session's transaction has been rolled back", None, None)


def emit(formatter: logging.Formatter, log: callable) -> list[str]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    handler.addFilter(RedactingFilter(["a-configured-secret"]))
    logger = logging.getLogger("tests.unit.test_logs")
    logger.handlers, logger.propagate = [handler], False
    try:
        log(logger)
    finally:
        logger.handlers, logger.propagate = [], True
    return stream.getvalue().splitlines()


def awkward_records(logger: logging.Logger) -> None:
    logger.error("%d tasks failed", "not a number")  # bad %-format argument
    logger.error("%s and %s", "only one")  # too few arguments
    logger.error(Unprintable())  # a message that is not a string and cannot be printed
    logger.error("status", extra={"status": Unprintable(), "task": {1, 2}})  # extras JSON cannot hold
    try:
        raise ValueError(Unprintable(), b"\xff bytes", {1: object()})
    except ValueError:
        logger.exception("duplicate key %s", object())


@pytest.mark.parametrize("formatter", [JsonFormatter(), TextFormatter()], ids=["json", "text"])
def test_records_that_cannot_be_formatted_as_given_are_still_logged(formatter, capsys):
    lines = emit(formatter, awkward_records)
    assert "Logging error" not in capsys.readouterr().err  # logging's own complaint when a formatter raises
    text = "\n".join(lines)
    assert "%d tasks failed" in text and "%s and %s" in text and "duplicate key" in text
    assert "ValueError" in text  # the traceback is there
    if isinstance(formatter, JsonFormatter):
        records = [json.loads(line) for line in lines if line.startswith("{")]
        assert len(records) == 5 and all(r["level"] == "ERROR" for r in records)


def test_a_user_whose_row_cannot_be_read_does_not_stop_the_line(app):
    from flask import g

    with app.test_request_context("/v1/jobs"):
        g.request_id, g.user = "rid-1", BrokenUser()
        record = logging.LogRecord("techapi", logging.ERROR, __file__, 1, "IntegrityError %s", ("dup",), None)
        line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "IntegrityError dup" and line["request_id"] == "rid-1"


BOTOCORE_LINES = [
    # What botocore and urllib3 print at DEBUG (taken from a run against moto, values replaced).
    "Sending http request: <AWSPreparedRequest stream_output=False, method=PUT, url=http://127.0.0.1/b/k, "
    "headers={'x-amz-security-token': b'IQoJb3JpZ2luSESSIONTOKEN/abc+def==', 'Authorization': "
    "b'AWS4-HMAC-SHA256 Credential=ASIAABCDEFGHIJKLMNOP/20261127/us-east-1/s3/aws4_request, "
    "SignedHeaders=host, Signature=82329052567bd9597098ec5247b44e2886b55cd766b6ddaec0a4d21247f7f0af'}>",
    "https://bucket.s3.amazonaws.com/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAABCDEFGHIJKLMNOP"
    "%2F20261127&X-Amz-Security-Token=IQoJb3JpZ2luSESSIONTOKEN&X-Amz-Signature=abcdef0123456789",
    "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.payload.sig",
    "connecting to redis://:r3dis-PASSWORD@cache:6379/0 and postgresql+psycopg://app:db-PASSWORD@db/x",
    "client_secret=a-configured-secret&refresh_token=Atzr|IwEBIrefresh",
]


def test_secret_shaped_text_is_masked_whoever_logs_it():
    lines = emit(JsonFormatter(), lambda log: [log.info("%s", line) for line in BOTOCORE_LINES])
    text = "\n".join(lines)
    for secret in ("SESSIONTOKEN", "ASIAABCDEFGHIJKLMNOP", "AKIAABCDEFGHIJKLMNOP", "82329052567bd9597",
                   "abcdef0123456789", "eyJhbGciOiJIUzI1NiJ9", "r3dis-PASSWORD", "db-PASSWORD",
                   "a-configured-secret", "IwEBIrefresh"):
        assert secret not in text, secret
    assert "redis://:***@cache:6379/0" in text  # what is not secret stays readable


def test_aws_credentials_from_the_environment_are_masked(monkeypatch, tmp_path):
    monkeypatch.setenv("AWS_SESSION_TOKEN", "FwoGZXIvYXdzEBnotshapedlikeanything")
    settings = load_settings(environ={"TECHAPI_INSTANCE_PATH": str(tmp_path)})
    from techapi.logs import secrets_to_mask

    f = RedactingFilter(secrets_to_mask(settings))
    record = logging.LogRecord("x", logging.DEBUG, __file__, 1, "token %s", ("FwoGZXIvYXdzEBnotshapedlikeanything",),
                               None)
    f.filter(record)
    assert "FwoGZXIvYXdzEBnot" not in record.getMessage()


def test_third_party_loggers_stay_at_info_when_techapi_logs_at_debug(tmp_path):
    root = logging.getLogger()
    level = root.level
    try:
        configure_logging(load_settings(environ={"TECHAPI_INSTANCE_PATH": str(tmp_path),
                                                 "TECHAPI_LOG_LEVEL": "DEBUG"}))
        assert logging.getLogger("techapi.worker").isEnabledFor(logging.DEBUG)
        for name in (*CAPPED_AT_INFO, "botocore.endpoint", "PIL.TiffImagePlugin", "urllib3.connectionpool"):
            assert not logging.getLogger(name).isEnabledFor(logging.DEBUG), name
        configure_logging(load_settings(environ={"TECHAPI_INSTANCE_PATH": str(tmp_path),
                                                 "TECHAPI_LOG_LEVEL": "WARNING"}))
        assert not logging.getLogger("botocore").isEnabledFor(logging.INFO)
    finally:
        root.setLevel(level)
