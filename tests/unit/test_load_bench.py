"""The load benchmark's own parts, without load: reading wrk's output, the Lua
script it runs, the verdicts, and the hand-written baseline answering as techapi
does (bench/load.py runs them for real)."""

from __future__ import annotations

import pytest

from bench import handwritten_app, load_report, loadgen
from techapi.jobs.address import with_one_line
from techapi.jobs.readiness import Evidence, still_needed

WRK_OUTPUT = """Running 10s test @ http://127.0.0.1:41234
  2 threads and 16 connections
RESULT requests=3152 duration_us=10004512 p50_us=41210 p90_us=60002 p99_us=98765 max_us=150001 connect=0 read=2 \
write=0 timeout=1
STATUS 304 1570
STATUS 304 1572
STATUS 200 10
"""


def test_wrk_output_gives_rate_latency_statuses_and_errors():
    figures = loadgen.parse(WRK_OUTPUT)
    assert figures.rps == pytest.approx(315.1, abs=0.1)
    assert (figures.p50_ms, figures.p99_ms, figures.max_ms) == (41.21, 98.765, 150.001)
    assert figures.statuses == {304: 3142, 200: 10}
    assert figures.socket_errors == 3
    assert figures.unexpected(304) == 13  # a 200 where a 304 was due counts, as do socket errors


def test_wrk_output_without_the_scripts_result_is_refused():
    with pytest.raises(ValueError, match="no RESULT line"):
        loadgen.parse("Running 10s test @ http://127.0.0.1:1\n")


def test_the_script_carries_each_callers_path_token_and_etag_and_refuses_what_would_break_lua():
    script = loadgen.script([("/v1/jobs?date=2026-06-15", "Bearer abc", '"tag-1"'), ("/x", "Bearer d", "")], 2)
    assert 'nthreads = 2' in script
    assert '{"/v1/jobs?date=2026-06-15", "Bearer abc", "\\"tag-1\\""}' in script
    with pytest.raises(ValueError):
        loadgen.script([("/v1/jobs", "Bearer a\nb", "")], 2)


def test_without_wrk_the_bench_says_what_to_install(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(SystemExit, match="apt-get install wrk"):
        loadgen.find_wrk()


def figures(rps: float, p99: float = 10.0, unexpected: int = 0) -> dict:
    return {"rps": rps, "p99_ms": p99, "unexpected": unexpected}


def test_verdicts_are_ratios_to_the_same_runs_baselines_and_an_absent_feed_is_unavailable():
    scenarios = {"ceiling": figures(1000), "handwritten": figures(400), "list": figures(300),
                 "revalidate": figures(600, p99=60.0)}
    targets = {t["target"]: t for t in load_report.evaluate(scenarios, same_body=True)}
    assert (targets["full list / ceiling"]["value"], targets["full list / ceiling"]["meets_goal"]) == (0.3, True)
    assert targets["full list / hand-written list"]["meets_goal"] is True  # 0.75
    assert targets["p99 at the run's connections: revalidate"]["meets_goal"] is False
    assert targets["delta feed, no changes / ceiling"]["meets_goal"] is None
    differing = {t["target"]: t for t in load_report.evaluate(scenarios, same_body=False)}
    assert differing["full list / hand-written list"]["meets_goal"] is False


@pytest.mark.parametrize("address", [
    None, {}, {"addressLine1": "12 Pine St", "city": "Seattle", "stateOrRegion": "WA", "postalCode": 98101},
    {"addressLine1": " 1 Rue X ", "addressLine2": None, "city": "Paris", "countryCode": "fr", "name": "A"},
])
def test_the_hand_written_address_is_techapis(address):
    assert handwritten_app.address(address) == with_one_line(address)


@pytest.mark.parametrize("args", [
    ("NOT_SERVICED", "ACTIVE", True, False, 0, 0), ("NOT_SERVICED", "CANCELLED", False, True, 2, 5),
    ("NOT_SERVICED", None, True, True, 1, 0), ("COMPLETED", "ACTIVE", False, False, 0, 0),
])
def test_the_hand_written_still_needed_is_techapis(args):
    status, appointment, start, finish, poa, photos = args
    assert handwritten_app.still_needed(*args) == still_needed(
        status, appointment, Evidence(start, finish, poa, photos), handwritten_app.MIN_PHOTOS)
