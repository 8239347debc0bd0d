"""`techapi status`: what an operator needs to see, read from the database."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, or_, select

from techapi.closures.models import Closure, ClosureState
from techapi.context import Deps
from techapi.worker.queue import Task, TaskState


def status_report(deps: Deps, stuck_minutes: int) -> str:
    now = deps.clock.now()
    lines = ["Queue (kind, state, count, oldest):"]
    with deps.db.session() as session:
        rows = session.execute(select(Task.kind, Task.state, func.count(), func.min(Task.created_at))
                               .group_by(Task.kind, Task.state).order_by(Task.kind, Task.state)).all()
        for kind, state, count, oldest in rows:
            age = f"{(now - oldest).total_seconds() / 60:.0f} min" if oldest else "-"
            lines.append(f"  {kind:<16} {state:<8} {count:>6}  {age}")
        if not rows:
            lines.append("  (empty)")
        expired = session.scalar(select(func.count()).select_from(Task).where(
            Task.state == TaskState.RUNNING, Task.leased_until < now))
        lines.append(f"Running tasks with expired leases (a worker died; they will be taken over): {expired}")
        stuck = session.execute(select(Closure).where(or_(
            Closure.state == ClosureState.FAILED,
            (Closure.state == ClosureState.QUEUED) & (Closure.updated_at < now - timedelta(minutes=stuck_minutes)),
        )).order_by(Closure.updated_at)).scalars().all()
        lines.append(f"Closures needing attention ({len(stuck)}):")
        for closure in stuck:
            lines.append(f"  {closure.service_job_id}  {closure.state:<7} since {closure.updated_at.isoformat()}"
                         f"  {closure.failure_reason or ''}".rstrip())
        failed = session.execute(select(Task.kind, Task.ref, Task.last_error).where(
            Task.state == TaskState.FAILED).order_by(Task.updated_at.desc()).limit(20)).all()
        lines.append(f"Recently failed tasks ({len(failed)} shown):")
        for kind, ref, error in failed:
            lines.append(f"  {kind} {ref}: {(error or '')[:160]}")
    return "\n".join(lines)
