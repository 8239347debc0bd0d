"""Shared bits of the benchmarks: timing, printing a ratio against its goal, JSON output."""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def best_of(fn: Callable[[], object], repeat: int) -> float:
    """Fastest of `repeat` runs: the least disturbed by a noisy shared machine."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times)


def median_of(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def report(name: str, ratio: float, goal: str, ok: bool, **figures: object) -> dict:
    verdict = "meets" if ok else "MISSES"
    print(f"{name}: ratio {ratio:.3f} ({verdict} the goal {goal})")
    for key, value in figures.items():
        print(f"  {key}: {value}")
    return {"name": name, "ratio": round(ratio, 4), "goal": goal, "meets_goal": ok, **figures}


def arguments(description: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--json", default=None, help="write the figures to this file")
    return parser


def write(path: str | None, results: list[dict]) -> None:
    if path:
        Path(path).write_text(json.dumps(results, indent=2) + "\n")
