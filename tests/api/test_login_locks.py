"""argon2 is slow by design: while a login checks its password it holds no lock
another request could wait for, on SQLite (one writer) or PostgreSQL."""

from __future__ import annotations

import sqlite3

from sqlalchemy import create_engine, text

from techapi.passwords import Passwords
from tests.conftest import PASSWORD


class ProbingPasswords(Passwords):
    """The real hasher; before each check it tries to take what a login could be holding."""

    def __init__(self, database_url: str) -> None:
        super().__init__(time_cost=1, memory_kib=1024)
        self.url = database_url
        self.free: list[bool] = []

    def verify(self, stored: str | None, password: str) -> bool:
        self.free.append(self._nothing_held())
        return super().verify(stored, password)

    def _nothing_held(self) -> bool:
        if self.url.startswith("sqlite"):
            conn = sqlite3.connect(self.url.split("///", 1)[1], timeout=0, isolation_level=None)
            try:
                conn.execute("BEGIN IMMEDIATE")  # fails at once while another writer holds the database
                conn.execute("ROLLBACK")
                return True
            except sqlite3.OperationalError:
                return False
            finally:
                conn.close()
        engine = create_engine(self.url)
        try:
            with engine.begin() as conn:
                # Advisory locks are the whole database's: keys no other test process uses (xdist).
                locks = ("techapi.login.user:lockprobe", "techapi.login.client:198.51.100.77")
                advisory_free = all(conn.execute(text("SELECT pg_try_advisory_xact_lock(hashtext(:k))"),
                                                 {"k": k}).scalar() for k in locks)
                # An open transaction of the login keeps a lock on every table of this schema it touched.
                table_locks = conn.execute(text(
                    "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
                    "JOIN pg_namespace n ON n.oid = c.relnamespace "
                    "WHERE n.nspname = current_schema() AND l.pid <> pg_backend_pid()")).scalar()
                return advisory_free and table_locks == 0
        finally:
            engine.dispose()


def test_no_lock_is_held_while_a_password_is_checked(client, auth, deps):
    auth.user("lockprobe", "technician", technician_id="T1")
    deps.passwords = probe = ProbingPasswords(deps.settings.database_url)
    for password in ("wrong password", PASSWORD):
        client.post("/v1/auth/token", json={"username": "lockprobe", "password": password},
                    environ_base={"REMOTE_ADDR": "198.51.100.77"})
    assert probe.free == [True, True]
