"""Demo accounts for the sandbox: never created against real SP-API."""

from __future__ import annotations

from sqlalchemy import select

from techapi.auth.models import User
from techapi.auth.services import create_user
from techapi.context import Deps

DEMO_PASSWORD = "demo"


def ensure_demo_users(deps: Deps) -> list[str]:
    """Create demo-tech and demo-supervisor if missing; returns the usernames."""
    if not deps.settings.sandbox or deps.sandbox is None or deps.sandbox.world is None:
        raise RuntimeError("demo accounts exist in sandbox mode only")
    world = deps.sandbox.world
    wanted = [
        ("demo-tech", "technician", world.demo_technician_id, [world.demo_store_id]),  # its home store
        ("demo-supervisor", "supervisor", None, [world.demo_store_id]),
    ]
    with deps.db.session() as session:
        for username, role, tech_id, stores in wanted:
            if session.scalar(select(User).where(User.username == username)) is None:
                create_user(session, deps.passwords, deps.clock, username, role, DEMO_PASSWORD,
                            technician_id=tech_id, stores=stores, enforce_policy=False)
    return [u for u, *_ in wanted]
