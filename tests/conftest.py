"""Fixtures shared by the test tiers: databases (SQLite and PostgreSQL), a store, a clock."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

PG_ADMIN_URL = os.environ.get(
    "ALLO_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
REQUIRE_POSTGRES = os.environ.get("ALLO_REQUIRE_POSTGRES") == "1"


class FakeClock:
    """A clock the test moves by hand; services read time only through it."""

    def __init__(self, start: datetime = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)) -> None:
        self.current = start

    def __call__(self) -> datetime:
        return self.current

    def advance(self, seconds: float) -> None:
        self.current += timedelta(seconds=seconds)


def _postgres_or_skip() -> str:
    engine = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(text("select 1"))
    except Exception as error:
        engine.dispose()
        reason = f"PostgreSQL not reachable at {PG_ADMIN_URL}: {type(error).__name__}"
        if REQUIRE_POSTGRES:
            pytest.fail(reason + " (ALLO_REQUIRE_POSTGRES=1)")
        pytest.skip(reason)
    engine.dispose()
    return PG_ADMIN_URL


@pytest.fixture(scope="session")
def postgres_server() -> str:
    return _postgres_or_skip()


def create_pg_database(admin_url: str) -> str:
    name = f"allo_test_{uuid.uuid4().hex[:12]}"
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def drop_pg_database(admin_url: str, url: str) -> None:
    name = make_url(url).database
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


@pytest.fixture
def empty_pg_url(postgres_server: str) -> Iterator[str]:
    url = create_pg_database(postgres_server)
    yield url
    drop_pg_database(postgres_server, url)


@pytest.fixture(scope="session")
def migrated_pg_url(postgres_server: str) -> Iterator[str]:
    from allo.store.migrate import upgrade

    url = create_pg_database(postgres_server)
    upgrade(url)
    yield url
    drop_pg_database(postgres_server, url)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from allo.store.migrate import upgrade

    path = tmp_path_factory.mktemp("template") / "allo.sqlite"
    upgrade(f"sqlite:///{path}")
    return path


def _truncate_all(url: str) -> None:
    from allo.store.tables import Base

    engine = create_engine(url)
    names = ", ".join(f'"{table.name}"' for table in Base.metadata.sorted_tables)
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> str:
    """A migrated, empty database: a fresh SQLite file, or the shared PostgreSQL one emptied."""
    if request.param == "sqlite":
        path = tmp_path / "allo.sqlite"
        shutil.copy(sqlite_template, path)
        return f"sqlite:///{path}"
    url: str = request.getfixturevalue("migrated_pg_url")
    _truncate_all(url)
    return url


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()
