"""Engine creation for SQLite (embedded) and PostgreSQL (production) from one URL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url


def normalise_url(url: str) -> str:
    """Accept plain `postgresql://` URLs and use psycopg 3 for them."""
    parsed = make_url(url)
    if parsed.drivername in {"postgresql", "postgres"}:
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def _enable_sqlite_rules(dbapi_connection: Any, _: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    # With WAL, NORMAL keeps the database consistent on a crash and only risks the last
    # transactions on a power loss; FULL would fsync every commit of the live router.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def make_engine(url: str) -> Engine:
    url = normalise_url(url)
    if url.startswith("sqlite"):
        # Enough pooled connections for the request threads, the router and the workers, so
        # that connections (and their PRAGMAs) are not opened and closed under load.
        engine = create_engine(
            url, connect_args={"check_same_thread": False}, pool_size=20, max_overflow=20
        )
        event.listen(engine, "connect", _enable_sqlite_rules)
        return engine
    # Room for the request threads (ALLO_REQUEST_THREADS, up to anyio's 40) and the
    # background threads; connections are opened lazily, so a quiet server keeps few.
    return create_engine(url, pool_pre_ping=True, pool_size=20, max_overflow=30)


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"
