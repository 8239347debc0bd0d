"""Several worker processes on one SP-API account: one shared budget, no doubles,
and a dead worker's work taken over when its lease expires."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import pytest
from sqlalchemy import func, select

from techapi.closures.models import Closure, ClosureState
from techapi.queue.models import Task, TaskState
from techapi.spapi import plans
from techapi.spapi.sandbox import Faults, Sandbox, SandboxConfig, SandboxServer
from tests.conftest import NOW, TEST_DATABASE_URL
from tests.integration.test_closure_pipeline import ROOT, World, plan_minimum
from tests.workers import approve_all, holder_of_a_running_task, ready_and_uploaded

# On SQLite the worker processes share their buckets through Redis; on
# PostgreSQL through the database itself.
SHARED = {} if TEST_DATABASE_URL else {"TECHAPI_REDIS_URL": "redis://127.0.0.1:6379/14"}
# Document uploads happen before the timed part; their plan is raised so the
# set-up does not take as long as the test itself.
FAST_UPLOADS = {**plans.USAGE_PLANS, plans.CREATE_UPLOAD_DESTINATION: plans.UsagePlan(500, 500)}


@pytest.fixture
def scaled(tmp_path, clean_database, clock, storage_env):
    box = Sandbox.demo(NOW.date(), "UTC", "ATVPDKIKX0DER", clock=clock,
                       config=SandboxConfig(usage_plans=dict(FAST_UPLOADS)))
    worlds: list[World] = []
    with SandboxServer(box) as server:
        def make(jobs: int, **extra: str) -> World:
            world = World(tmp_path, clean_database, server, jobs, storage_env, **SHARED, **extra)
            # The untimed set-up's uploads only; every other operation keeps the shared plan.
            world.deps.spapi.limiter.set_plan(plans.CREATE_UPLOAD_DESTINATION,
                                              FAST_UPLOADS[plans.CREATE_UPLOAD_DESTINATION])
            worlds.append(world)
            return world

        yield make
        for world in worlds:
            world.close()


def completed(world: World) -> int:
    with world.deps.db.session() as session:
        return session.scalar(select(func.count()).select_from(Closure).where(Closure.state == ClosureState.COMPLETED))


def start_workers(world: World, n: int) -> list[subprocess.Popen]:
    return [subprocess.Popen([sys.executable, "-m", "techapi", "worker"], env=world.process_env(), cwd=ROOT,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for _ in range(n)]


def wait_for(world: World, count: int, seconds: float) -> float:
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        if completed(world) >= count:
            return time.monotonic() - started
        time.sleep(0.25)
    raise AssertionError(f"only {completed(world)} of {count} closures completed in {seconds} s")


def stop(procs: list[subprocess.Popen]) -> list[int]:
    for proc in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    return [proc.wait(timeout=30) for proc in procs]


@pytest.mark.slow
def test_four_workers_drain_200_closures_near_the_usage_plans_minimum(scaled):
    world = scaled(200)
    ready_and_uploaded(world)
    approve_all(world)
    state = world.sandbox.state
    before = {op: state.calls_of(op, 200) + state.calls_of(op, 204) for op in plans.USAGE_PLANS}
    procs = start_workers(world, 4)
    try:
        elapsed = wait_for(world, 200, 120)
    finally:
        codes = stop(procs)
    calls = {op: state.calls_of(op, 200) + state.calls_of(op, 204) - before[op] for op in plans.USAGE_PLANS}
    minimum = plan_minimum(calls)
    print(f"\n4 workers, 200 closures: {elapsed:.2f} s, usage plans allow {minimum:.2f} s: "
          f"ratio {elapsed / minimum:.3f}")
    assert codes == [0, 0, 0, 0]  # SIGTERM: each finished its step and exited cleanly
    assert state.throttled() == 0, {k: v for k, v in state.calls.items() if k[1] == 429}
    assert world.completions() == [1] * 200
    assert calls[plans.COMPLETE_SERVICE_JOB] == 200
    # The goal is 1.15 (README, Performance: 1.06-1.07 measured on a quiet host). Asserted here with room
    # for a host 2.5 times slower, where the same code took 1.19-1.20 (2026-11-28, before and after the
    # change of that day): what this catches is workers that stop sharing the plans' rate.
    assert elapsed <= minimum * 1.3


@pytest.mark.slow
def test_a_killed_worker_s_task_is_taken_over_after_its_lease_and_nothing_doubles(scaled):
    world = scaled(30, TECHAPI_TASK_LEASE_SECONDS="3")
    ready_and_uploaded(world)
    approve_all(world)
    world.sandbox.set_faults(Faults(latency_seconds=0.3))  # every call is slow: a kill lands mid-task
    procs = start_workers(world, 3)
    try:
        victim = None
        deadline = time.monotonic() + 60
        while victim is None and time.monotonic() < deadline:
            if completed(world) >= 3:
                victim = holder_of_a_running_task(world, procs)
            time.sleep(0.05)
        assert victim is not None, "no worker was ever seen holding a task"
        victim.send_signal(signal.SIGKILL)  # in the middle of its task
        victim.wait(timeout=10)
        wait_for(world, 30, 150)
    finally:
        stop([p for p in procs if p.poll() is None])
    assert world.completions() == [1] * 30
    with world.deps.db.session() as session:
        running = session.scalar(select(func.count()).select_from(Task).where(Task.state == TaskState.RUNNING))
        retried = session.scalar(select(func.count()).select_from(Task).where(Task.kind == "close_job",
                                                                               Task.attempts > 1))
    assert running == 0
    assert retried >= 1  # the task the dead worker held was claimed again after its lease
