"""The phone's read path under load, in one run on PostgreSQL, every app served
by gunicorn with the production config (gunicorn.conf.py), wrk as the load
generator, 200 technicians with 5 jobs each, each request with its own caller:

- ceiling: a bare Flask JSON endpoint (bench/bare_app.py), no database;
- hand-written: the same job list by hand (bench/handwritten_app.py): the same
  token check and ONE SQL query through psycopg, json.dumps;
- techapi: the full list GET /v1/jobs (200), its revalidation (If-None-Match
  with each technician's ETag: 304), the delta feed with no changes
  (GET /v1/sync/changes?since=<each technician's cursor>; "unavailable" if 404);
- worker recycling: the full list again with gunicorn's max_requests disabled
  and at the former 2,000 (WEB_MAX_REQUESTS); and, steadier than throughput on
  a short run, what starting a worker costs (its CPU before any load) spread
  over max_requests, against the CPU the list takes per request.

Goals: list >= 0.25 of the ceiling, 304 and delta >= 0.5, list >= 0.7 of the
hand-written list; p99 < 50 ms at 16 connections and no unexpected answer or
socket error for each techapi scenario. The machine may be shared: the load
average before and after is recorded with the figures.

The machine's speed drifts over minutes (a shared host): the three apps are served
side by side and measured in interleaved rounds (ceiling, hand-written, techapi's
three scenarios, again): each ratio is the median of the rounds' ratios, each
comparing figures taken a minute apart; each scenario's figures are its median
round's, its errors and worker restarts those of every round.

Usage: python bench/load.py [--seconds 10] [--rounds 3] [--connections 16] [--threads 2] [--json out.json]
  TECHAPI_BENCH_DATABASE_URL (default postgresql+psycopg://postgres@127.0.0.1:5432/test)
  Needs wrk on PATH (Debian/Ubuntu: apt-get install wrk).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

import httpx
import loadgen
from common import ROOT, arguments
from load_report import evaluate, print_tables, recycling
from load_serve import Server, serve

LIST = "/v1/jobs?date=2026-06-15"
# gunicorn settings compared for the full list, on top of the environment's (gunicorn.conf.py's defaults).
RECYCLING = {
    "max_requests disabled": {"WEB_MAX_REQUESTS": "0"},
    "max_requests 2000 (the first default)": {"WEB_MAX_REQUESTS": "2000", "WEB_MAX_REQUESTS_JITTER": "200"},
}


class Bench:
    def __init__(self, wrk: str, args, tmp: Path, env: dict[str, str]) -> None:
        self.wrk, self.args, self.tmp, self.env = wrk, args, tmp, env
        self.scenarios: dict[str, dict] = {}
        self.rounds: dict[str, list[dict]] = {}

    def measure(self, server, name: str, entries: list[tuple[str, str, str]], expected: int, **extra) -> None:
        a = self.args
        loadgen.run(self.wrk, server.base, entries, min(3, a.seconds), a.connections, a.threads, self.tmp)  # warm
        cpu = server.cpu_seconds()
        with server.counting_restarts() as workers:
            f = loadgen.run(self.wrk, server.base, entries, a.seconds, a.connections, a.threads, self.tmp)
        cpu = server.cpu_seconds() - cpu
        requests = sum(f.statuses.values())
        self.rounds.setdefault(name, []).append({
            "rps": f.rps, "p50_ms": f.p50_ms, "p90_ms": f.p90_ms, "p99_ms": f.p99_ms, "max_ms": f.max_ms,
            "expected_status": expected, "statuses": {str(k): v for k, v in sorted(f.statuses.items())},
            "socket_errors": f.socket_errors, "unexpected": f.unexpected(expected),
            "worker_restarts": workers["restarts"], "boot_cpu_ms": server.boot_ms,
            "app_cpu_ms_per_request": round(1000 * cpu / requests, 3) if requests and cpu else None, **extra})
        runs = sorted(self.rounds[name], key=lambda r: r["rps"])
        every = self.rounds[name]
        self.scenarios[name] = {**runs[(len(runs) - 1) // 2], "rounds": len(runs),
                                "rps_of_rounds": [r["rps"] for r in every],
                                "p99_ms_of_rounds": [r["p99_ms"] for r in every],
                                # errors and restarts of every round, not the median's only
                                "unexpected": sum(r["unexpected"] for r in every),
                                "socket_errors": sum(r["socket_errors"] for r in every),
                                "worker_restarts": sum(r["worker_restarts"] or 0 for r in every)}
        print(f"  {name}: {f.rps:,.0f} req/s, p99 {f.p99_ms:.1f} ms, statuses {f.statuses}, "
              f"socket errors {f.socket_errors}, workers started {workers['restarts']}", flush=True)

    @contextmanager
    def serve(self, app_path: str, label: str, **env: str) -> Iterator[Server]:
        with serve(app_path, {**self.env, **env}, self.tmp / f"{label}.log") as server:
            time.sleep(2)  # every worker booted, none loaded yet: what starting one costs
            boot = server.boot_cpu_seconds()
            server.boot_ms = boot and round(1000 * boot)
            yield server


def body(base: str, token: str) -> object:
    answer = httpx.get(f"{base}{LIST}", headers={"Authorization": f"Bearer {token}"}, timeout=10)
    answer.raise_for_status()
    return answer.json()


def main() -> None:
    parser = arguments(__doc__)
    parser.add_argument("--seconds", type=int, default=10, help="per scenario (after a warm-up of 3)")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds; each scenario's median is kept")
    args = parser.parse_args()
    wrk = loadgen.find_wrk()  # before any set-up: a fresh machine learns what to install at once
    from load_data import fresh_schema  # imports techapi: only once wrk is known to be there

    base_url = os.environ.get("TECHAPI_BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
    with fresh_schema(base_url) as url:
        run, scenarios, targets = measure_all(wrk, args, url)
    others = [20000, *(int(env["WEB_MAX_REQUESTS"]) for env in RECYCLING.values())]  # 20,000: the second default
    costs = recycling(scenarios, sorted({configured_max_requests(), *others}))
    print_tables(run, scenarios, targets, costs)
    if args.json:
        Path(args.json).write_text(json.dumps({"run": run, "scenarios": scenarios, "targets": targets,
                                               "recycling": costs}, indent=2) + "\n")


def configured_max_requests() -> int:
    """gunicorn's max_requests as the run has it: WEB_MAX_REQUESTS, else gunicorn.conf.py's default."""
    default = re.search(r'"WEB_MAX_REQUESTS", "(\d+)"', (ROOT / "gunicorn.conf.py").read_text())
    return int(os.environ.get("WEB_MAX_REQUESTS") or (default.group(1) if default else 0))


def measure_all(wrk: str, args, url: str) -> tuple[dict, dict[str, dict], list[dict]]:
    from load_data import cursors, etags, prepare

    tmp = Path(tempfile.mkdtemp(prefix="techapi-load-"))
    load_before = os.getloadavg()
    tokens = prepare(url, tmp)
    env = {**{k: v for k, v in os.environ.items() if not k.startswith(("TECHAPI_", "PROMETHEUS_"))},
           "TECHAPI_DATABASE_URL": url, "TECHAPI_INSTANCE_PATH": str(tmp), "TECHAPI_LOG_LEVEL": "WARNING"}
    bench = Bench(wrk, args, tmp, env)
    plain = [(LIST, f"Bearer {t}", "") for t in tokens]

    with (bench.serve("bench.bare_app:app", "bare") as bare,
          bench.serve("bench.handwritten_app:app", "handwritten") as by_hand_server,
          bench.serve("app:app", "techapi") as server):
        by_hand = [body(by_hand_server.base, t) for t in tokens[:3]]
        same_body = [body(server.base, t) for t in tokens[:3]] == by_hand
        tags = etags(server.base, LIST, tokens)
        marks = cursors(server.base, tokens)
        for n in range(1, args.rounds + 1):
            print(f"round {n} of {args.rounds}: ceiling (bare Flask JSON endpoint)", flush=True)
            bench.measure(bare, "ceiling", plain, 200)
            print("hand-written job list (psycopg, one query, json.dumps)", flush=True)
            bench.measure(by_hand_server, "handwritten", plain, 200)
            print("techapi (gunicorn.conf.py as configured)", flush=True)
            bench.measure(server, "list", plain, 200)
            bench.measure(server, "revalidate", [(LIST, f"Bearer {t}", e) for t, e in zip(tokens, tags, strict=True)],
                          304)
            if marks is None:
                print("  delta: GET /v1/sync/changes is 404 here: unavailable", flush=True)
            else:
                bench.measure(server, "delta", [(f"/v1/sync/changes?since={quote(c, safe='')}", f"Bearer {t}", "")
                                                for t, c in zip(tokens, marks, strict=True)], 200)
    for label, settings in RECYCLING.items():
        print(f"techapi, {label}", flush=True)
        with bench.serve("app:app", label.split(",")[0].replace(" ", "-"), **settings) as server:
            bench.measure(server, f"list, {label}", plain, 200, gunicorn=settings)

    run = {"at": datetime.now(UTC).isoformat(timespec="seconds"),
           "commit": subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                                    text=True).stdout.strip(),
           "seconds": args.seconds, "rounds": args.rounds, "connections": args.connections,
           "wrk_threads": args.threads,
           "web_processes": int(env.get("WEB_CONCURRENCY", (os.cpu_count() or 1) * 2)),
           "threads_per_process": int(env.get("WEB_THREADS", "4")), "cores": os.cpu_count(),
           "load_average_before": round(load_before[0], 2), "load_average_after": round(os.getloadavg()[0], 2),
           "handwritten_body_equals_techapi": same_body, "technicians": len(tokens)}
    return run, bench.scenarios, evaluate(bench.scenarios, same_body)


if __name__ == "__main__":
    main()
