"""`techapi worker` processes stopped in the middle of a closure: SIGTERM lets the
step finish and exits cleanly; SIGKILL leaves a lease that another worker takes
over. Either way every job is completed exactly once."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time

import pytest
from sqlalchemy import func, select

from techapi.audit.models import AuditEvent
from techapi.queue.models import Task
from techapi.spapi import plans
from techapi.spapi.sandbox import Faults
from techapi.worker.runner import Worker
from tests.integration.test_closure_pipeline import ROOT, World
from tests.workers import approve_all, holder_of_a_running_task, ready_and_uploaded, running_tasks

# The calls a closure makes, slowed so that a step takes a while.
CLOSURE_CALLS = (plans.GET_SERVICE_JOB, plans.CREATE_UPLOAD_DESTINATION, plans.SET_FULFILLMENT_DATA,
                 plans.COMPLETE_SERVICE_JOB)


@pytest.fixture
def make_world(tmp_path, clean_database, http_sandbox, storage_env):
    made: list[World] = []

    def make(jobs: int, **extra: str) -> World:
        made.append(World(tmp_path, clean_database, http_sandbox, jobs, storage_env, **extra))
        return made[-1]

    yield make
    for world in made:
        world.close()


def start_worker(world, stderr=subprocess.DEVNULL) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "techapi", "worker"], env=world.process_env(), cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=stderr)


def wait_until_it_holds_a_closure(world, proc: subprocess.Popen, seconds: float = 30) -> set[int]:
    """The close_job tasks `proc` holds, once it holds one (bounded wait)."""
    deadline = time.monotonic() + seconds
    while holder_of_a_running_task(world, [proc], kind="close_job") is None:
        assert proc.poll() is None, f"the worker exited ({proc.returncode}) before taking a closure"
        assert time.monotonic() < deadline, f"the worker took no closure within {seconds} s"
        time.sleep(0.02)
    return {task for task, pid in running_tasks(world, "close_job").items() if pid == proc.pid}


def closures_completed_on_the_trail(world, job_id: str) -> int:
    with world.deps.db.session() as session:
        return session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.service_job_id == job_id, AuditEvent.action == "closure.completed"))


@pytest.mark.slow
def test_a_worker_stopped_with_sigterm_mid_step_finishes_its_task_exits_0_and_takes_no_other(make_world, tmp_path):
    world = make_world(2)
    ready_and_uploaded(world)
    approve_all(world)
    world.sandbox.set_faults(Faults(latency_seconds=1.0, operations=CLOSURE_CALLS))
    log = (tmp_path / "worker.log").open("w+")
    proc = start_worker(world, stderr=log)
    try:
        held = wait_until_it_holds_a_closure(world, proc)
        time.sleep(0.3)  # inside a one-second SP-API call
        signalled = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=30)
        stopped_after = time.monotonic() - signalled
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
    log.seek(0)
    assert code == 0, log.read()[-2000:]
    assert stopped_after < 15  # one closure's remaining calls, not the whole queue
    assert running_tasks(world) == {}  # nothing left RUNNING under its lease
    with world.deps.db.session() as session:
        tasks = dict(session.execute(select(Task.id, Task.state).where(Task.kind == "close_job")).all())
    assert len(held) == 1 and tasks.pop(held.pop()) in ("DONE", "PENDING")  # finished, or released
    assert list(tasks.values()) == ["PENDING"]  # and it started nothing after the signal
    world.sandbox.set_faults(Faults())
    assert Worker(world.app).drain(max_seconds=60) == 0
    assert set(world.states().values()) == {"COMPLETED"}
    assert world.completions() == [1, 1]
    assert [closures_completed_on_the_trail(world, j) for j in world.job_ids] == [1, 1]


@pytest.mark.slow
def test_workers_killed_in_the_middle_of_a_closure_have_it_taken_over_and_nothing_doubles(make_world):
    # Attempts are not what this test is about: a task killed again and again must not reach the cap.
    world = make_world(12, TECHAPI_TASK_LEASE_SECONDS="2", TECHAPI_TASK_MAX_ATTEMPTS="40")
    world.approve_all()  # the documents go up inside the closures: more places for a kill to land
    world.sandbox.set_faults(Faults(latency_seconds=0.2, operations=CLOSURE_CALLS))  # a closure takes ~1 s
    rng = random.Random(5)
    held_when_killed: set[int] = set()
    kills_in_a_task = 0
    # A worker slow to start (a busy machine) takes the last one's task over first, and may be killed in
    # that same task again: count the kills that landed in a task, and allow a few more tries.
    for _ in range(15):
        if kills_in_a_task >= 3:
            break
        proc = start_worker(world)
        try:
            wait_until_it_holds_a_closure(world, proc)
            time.sleep(rng.uniform(0, 0.5))  # somewhere inside the task
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=10)
        # What the dead worker still holds is what the kill interrupted.
        held = {task for task, pid in running_tasks(world).items() if pid == proc.pid}
        kills_in_a_task += bool(held)
        held_when_killed |= held
    assert kills_in_a_task >= 3, "fewer than three kills landed in the middle of a task"
    world.sandbox.set_faults(Faults())
    assert Worker(world.app).drain(max_seconds=60) == 0  # takes the dead workers' tasks over as leases expire
    assert set(world.states().values()) == {"COMPLETED"}
    assert world.completions() == [1] * 12
    assert world.sandbox.state.calls_of(plans.COMPLETE_SERVICE_JOB, 200) == 12
    assert [closures_completed_on_the_trail(world, j) for j in world.job_ids] == [1] * 12
    with world.deps.db.session() as session:
        taken_over = session.execute(select(Task.state, Task.attempts).where(Task.id.in_(held_when_killed))).all()
    assert len(taken_over) == len(held_when_killed)
    assert all(state == "DONE" and attempts > 1 for state, attempts in taken_over), taken_over
