"""The load benchmark's verdicts: each figure against its goal, as ratios to
baselines measured in the same run, and the tables it prints."""

from __future__ import annotations

# (target, scenario, baseline, least ratio)
RATIOS = (
    ("full list / ceiling", "list", "ceiling", 0.25),
    ("304 revalidation / ceiling", "revalidate", "ceiling", 0.5),
    ("delta feed, no changes / ceiling", "delta", "ceiling", 0.5),
    ("full list / hand-written list", "list", "handwritten", 0.7),
)
TECHAPI = ("list", "revalidate", "delta")
P99_MS = 50.0
NAMES = {"ceiling": "ceiling: bare Flask JSON", "handwritten": "hand-written list (psycopg)",
         "list": "techapi GET /v1/jobs (200)", "revalidate": "techapi If-None-Match (304)",
         "delta": "techapi delta feed, no changes"}


def _ratio_target(name: str, ours: dict | None, base: dict | None, goal: float, comparable: bool) -> dict:
    target = {"target": name, "goal": f">= {goal}"}
    if ours is None or base is None:
        return {**target, "value": None, "meets_goal": None, "note": "unavailable (endpoint not there)"}
    rounds = list(zip(ours.get("rps_of_rounds", []), base.get("rps_of_rounds", []), strict=False))
    if len(rounds) > 1 and len(ours["rps_of_rounds"]) == len(base["rps_of_rounds"]):
        # Interleaved rounds: each round's ratio compares figures taken a minute apart; keep the median.
        ratios = sorted(round(o / b, 3) for o, b in rounds if b)
        ratio = ratios[(len(ratios) - 1) // 2]
        target["ratios_of_rounds"] = [round(o / b, 3) for o, b in rounds if b]
    else:
        ratio = round(ours["rps"] / base["rps"], 3)
    ok = ratio >= goal and ours["unexpected"] == 0 and base["unexpected"] == 0
    note = "" if base["unexpected"] == 0 else "the baseline had unexpected answers: ratio not valid"
    if not comparable:
        ok, note = False, "the hand-written body differs from techapi's: ratio not valid"
    return {**target, "value": ratio, "meets_goal": ok, **({"note": note} if note else {})}


def evaluate(scenarios: dict[str, dict], same_body: bool) -> list[dict]:
    """Every target with its value and meets_goal (None: scenario unavailable)."""
    targets = [_ratio_target(name, scenarios.get(ours), scenarios.get(base), goal,
                             comparable=same_body or base != "handwritten")
               for name, ours, base, goal in RATIOS]
    for key in TECHAPI:
        s = scenarios.get(key)
        targets.append({"target": f"p99 at the run's connections: {key}", "goal": f"< {P99_MS} ms",
                        "value": s and s["p99_ms"], "meets_goal": s and s["p99_ms"] < P99_MS})
        targets.append({"target": f"unexpected answers and socket errors: {key}", "goal": "0",
                        "value": s and s["unexpected"], "meets_goal": s and s["unexpected"] == 0})
    return targets


def recycling(scenarios: dict[str, dict], max_requests: list[int]) -> list[dict]:
    """What gunicorn's max_requests costs each techapi scenario: starting a worker (its
    CPU, measured before any load) spread over the requests it serves, against the CPU
    the scenario takes per request."""
    costs = []
    for key in TECHAPI:
        s = scenarios.get(key) or {}
        boot, per_request = s.get("boot_cpu_ms"), s.get("app_cpu_ms_per_request")
        if boot and per_request:
            costs += [{"scenario": key, "max_requests": n, "boot_cpu_ms": boot, "app_cpu_ms_per_request": per_request,
                       "share_of_cpu": round(boot / n / per_request, 3)} for n in max_requests if n > 0]
    return costs


def _or(value: object) -> object:
    return "?" if value is None else value


def _verdict(ok: bool | None) -> str:
    return "unavailable" if ok is None else ("meets" if ok else "MISSES")


def print_tables(run: dict, scenarios: dict[str, dict], targets: list[dict], costs: list[dict]) -> None:
    ceiling, configured = scenarios["ceiling"]["rps"], scenarios["list"]["rps"]
    print(f"\n{run['web_processes']} gunicorn processes x {run['threads_per_process']} threads, "
          f"{run['cores']} cores; wrk -t{run['wrk_threads']} -c{run['connections']} -d{run['seconds']}s; "
          f"load average {run['load_average_before']} before, {run['load_average_after']} after "
          "(a shared machine: figures are noisy); CPU: the app's processes, not PostgreSQL's")
    print(f"{'scenario':<56}{'req/s':>7}{'/ceiling':>9}{'p50 ms':>7}{'p99 ms':>7}{'CPU ms/req':>11}"
          f"{'boot ms':>8}{'workers+':>9}{'bad':>5}")
    for key, s in scenarios.items():
        name = NAMES.get(key, f"techapi GET /v1/jobs, {key.removeprefix('list, ')}")
        print(f"{name:<56}{s['rps']:>7,.0f}{s['rps'] / ceiling:>9.3f}{s['p50_ms']:>7.1f}{s['p99_ms']:>7.1f}"
              f"{_or(s['app_cpu_ms_per_request']):>11}{_or(s['boot_cpu_ms']):>8}{_or(s['worker_restarts']):>9}"
              f"{s['unexpected']:>5}")
    if "delta" not in scenarios:
        print(f"{NAMES['delta']:<58}{'unavailable (GET /v1/sync/changes is 404)':>40}")
    for key, s in scenarios.items():
        if key.startswith("list, "):
            print(f"  {key}: {s['rps'] / configured:.2f}x the list with max_requests as configured")
    for c in costs:
        print(f"  max_requests {c['max_requests']}: starting a worker ({c['boot_cpu_ms']} ms CPU) spread over its "
              f"requests is {c['share_of_cpu']:.1%} of {c['scenario']}'s CPU per request "
              f"({c['app_cpu_ms_per_request']} ms)")
    if not run["handwritten_body_equals_techapi"]:
        print("WARNING: the hand-written list's body differs from techapi's: that ratio is not valid")
    print(f"\n{'target':<52}{'value':>10}{'goal':>12}  verdict")
    for t in targets:
        value = "-" if t["value"] is None else t["value"]
        print(f"{t['target']:<52}{value:>10}{t['goal']:>12}  {_verdict(t['meets_goal'])} {t.get('note', '')}")
