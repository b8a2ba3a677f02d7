"""One active router per tenant: a PostgreSQL session-level advisory lock, or a file lock
next to the SQLite file. A lock dies with its holder (connection or process), so a
standby that keeps trying takes over as soon as the leader is gone."""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path
from typing import IO, Protocol

from sqlalchemy import Connection, Engine, text
from sqlalchemy.engine import make_url

LOCK_NAMESPACE = 0x416C6C6F  # "Allo"


class Leadership(Protocol):
    def try_lead(self, tenant_id: int) -> bool: ...
    def leads(self, tenant_id: int) -> bool: ...
    def healthy(self) -> bool: ...
    def release_all(self) -> None: ...


def lock_key(tenant_id: int) -> int:
    return (LOCK_NAMESPACE << 31) | tenant_id


class PostgresLeadership:
    """Advisory locks held by one dedicated connection for as long as this process lives."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._connection: Connection | None = None
        self._held: set[int] = set()

    def _conn(self) -> Connection:
        if self._connection is None:
            self._connection = self._engine.connect().execution_options(
                isolation_level="AUTOCOMMIT"
            )
        return self._connection

    def try_lead(self, tenant_id: int) -> bool:
        if tenant_id in self._held:
            return True
        got = (
            self._conn()
            .execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": lock_key(tenant_id)})
            .scalar()
        )
        if got:
            self._held.add(tenant_id)
        return bool(got)

    def leads(self, tenant_id: int) -> bool:
        return tenant_id in self._held

    def healthy(self) -> bool:
        """False once the lock connection is lost: the locks are then someone else's."""
        if self._connection is None:
            return True
        try:
            self._connection.execute(text("SELECT 1"))
        except Exception:
            self._drop()
            return False
        return True

    def _drop(self) -> None:
        self._held.clear()
        if self._connection is not None:
            with contextlib.suppress(Exception):
                self._connection.invalidate()
            self._connection = None

    def release_all(self) -> None:
        """Unlock and close. The close does not depend on the unlock: a failed unlock (a lost
        connection) must not leave the connection checked out, to be deleted open later."""
        connection, self._connection = self._connection, None
        self._held.clear()
        if connection is None:
            return
        with contextlib.suppress(Exception):
            connection.execute(text("SELECT pg_advisory_unlock_all()"))
        try:
            connection.close()
        except Exception:
            connection.invalidate()


class FileLeadership:
    """For SQLite: an exclusive `flock` per tenant on a file beside the database."""

    def __init__(self, database: Path) -> None:
        self._base = database
        self._files: dict[int, IO[bytes]] = {}

    def try_lead(self, tenant_id: int) -> bool:
        if tenant_id in self._files:
            return True
        path = self._base.with_name(f"{self._base.name}.router-{tenant_id}.lock")
        handle = path.open("ab")
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return False
        handle.truncate(0)
        handle.write(f"{os.getpid()}\n".encode())
        handle.flush()
        self._files[tenant_id] = handle
        return True

    def leads(self, tenant_id: int) -> bool:
        return tenant_id in self._files

    def healthy(self) -> bool:
        return True

    def release_all(self) -> None:
        for handle in self._files.values():
            with contextlib.suppress(OSError):
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
                handle.close()
        self._files.clear()


def leadership_for(engine: Engine) -> Leadership:
    if engine.dialect.name == "postgresql":
        return PostgresLeadership(engine)
    database = make_url(str(engine.url)).database or ":memory:"
    return FileLeadership(Path(database).resolve())
