"""wrk, the load generator of bench/load.py: finding it, the Lua script every
scenario runs (the same one for the baselines, so the generator costs them all
alike) and reading what it prints.

Each request carries its own caller: the script round-robins over its entries
(path, Authorization, If-None-Match), thread k taking entries k, k+n, k+2n...
Every response's status is counted, so a 200 where a 304 was expected shows."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

INSTALL = "wrk is not on PATH: install it (Debian/Ubuntu: `apt-get install wrk`; macOS: `brew install wrk`)"

SCRIPT = """
local threads, counter = {}, 0
function setup(thread)
  thread:set("offset", counter)
  counter = counter + 1
  table.insert(threads, thread)
end
function init(args)
  requests_, statuses, i = {}, {}, offset
  for j, e in ipairs(entries) do
    local headers = {["Authorization"] = e[2]}
    if e[3] ~= "" then headers["If-None-Match"] = e[3] end
    requests_[j] = wrk.format("GET", e[1], headers)
  end
end
function request()
  local r = requests_[(i % #requests_) + 1]
  i = i + nthreads
  return r
end
function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT requests=%d duration_us=%d p50_us=%d p90_us=%d p99_us=%d max_us=%d "
    .. "connect=%d read=%d write=%d timeout=%d\\n", summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    e.connect, e.read, e.write, e.timeout))
  for _, t in ipairs(threads) do
    for s, n in pairs(t:get("statuses")) do io.write(string.format("STATUS %d %d\\n", s, n)) end
  end
end
"""


@dataclass(frozen=True)
class Figures:
    rps: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    statuses: dict[int, int]
    socket_errors: int

    def unexpected(self, expected: int) -> int:
        """Answers other than `expected` (a 200 where a 304 was due counts too), plus socket errors."""
        return sum(n for s, n in self.statuses.items() if s != expected) + self.socket_errors


def find_wrk() -> str:
    found = shutil.which("wrk")
    if not found:
        raise SystemExit(INSTALL)
    return found


def lua_string(value: str) -> str:
    if not (value.isascii() and value.isprintable()):
        raise ValueError(f"not printable ASCII: {value!r}")
    return json.dumps(value)  # escapes only " and \\ here, as Lua does


def script(entries: list[tuple[str, str, str]], threads: int) -> str:
    """The Lua script for `entries` of (path, Authorization value, If-None-Match value or "")."""
    rows = ",\n".join("{" + ", ".join(lua_string(v) for v in e) + "}" for e in entries)
    return f"nthreads = {threads}\nentries = {{\n{rows}\n}}\n{SCRIPT}"


def parse(output: str) -> Figures:
    """The figures from what the script's done() printed."""
    m = re.search(r"^RESULT (.*)$", output, re.M)
    if not m:
        raise ValueError(f"no RESULT line in wrk's output:\n{output}")
    f = {k: int(v) for k, v in (kv.split("=") for kv in m.group(1).split())}
    statuses: dict[int, int] = {}
    for status, count in re.findall(r"^STATUS (\d+) (\d+)$", output, re.M):
        statuses[int(status)] = statuses.get(int(status), 0) + int(count)
    return Figures(rps=round(f["requests"] / (f["duration_us"] / 1e6), 1), p50_ms=f["p50_us"] / 1000,
                   p90_ms=f["p90_us"] / 1000, p99_ms=f["p99_us"] / 1000, max_ms=f["max_us"] / 1000,
                   statuses=statuses, socket_errors=f["connect"] + f["read"] + f["write"] + f["timeout"])


def run(wrk: str, base: str, entries: list[tuple[str, str, str]], seconds: int, connections: int,
        threads: int, tmp: Path) -> Figures:
    path = tmp / "entries.lua"
    path.write_text(script(entries, threads))
    out = subprocess.run([wrk, f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "-s", str(path), base],
                         capture_output=True, text=True, timeout=seconds + 60)
    if out.returncode != 0:
        raise RuntimeError(f"wrk failed ({out.returncode}): {out.stderr}")
    return parse(out.stdout)
