"""Helpers for tests that run workers (threads or `techapi worker` processes)
against a World of test_closure_pipeline: bring closures to the queue, and see
which task a worker holds."""

from __future__ import annotations

import subprocess

from sqlalchemy import select

from techapi.queue.models import Task, TaskState
from techapi.worker.runner import Worker
from tests.closing import ask_closure, make_ready


def ready_and_uploaded(world) -> None:
    """Every job ready and asked to close, its documents already on SP-API: only the closures are left."""
    for job_id in world.job_ids:
        make_ready(world.client, world.tech, job_id)
        assert ask_closure(world.client, world.tech, job_id).status_code == 200
    assert Worker(world.app).drain(max_seconds=120) == 0


def approve_all(world) -> None:
    for job_id in world.job_ids:
        assert world.client.post(f"/v1/jobs/{job_id}/closure/approve", headers=world.boss).status_code == 200


def pid_of(owner: str | None) -> int | None:
    """The process id in a lease owner (host:pid:thread)."""
    return int(owner.split(":")[1]) if owner else None


def running_tasks(world, kind: str | None = None) -> dict[int, int | None]:
    """RUNNING tasks (of `kind`) by id, with the pid of the worker holding each."""
    query = select(Task.id, Task.lease_owner).where(Task.state == TaskState.RUNNING)
    if kind is not None:
        query = query.where(Task.kind == kind)
    with world.deps.db.session() as session:
        return {task_id: pid_of(owner) for task_id, owner in session.execute(query)}


def holder_of_a_running_task(world, procs: list[subprocess.Popen], kind: str | None = None) -> subprocess.Popen | None:
    """A live worker process that holds a RUNNING task (of `kind`) right now, or None."""
    pids = set(running_tasks(world, kind).values())
    return next((p for p in procs if p.pid in pids and p.poll() is None), None)
