"""Schema migrations run from empty to head (and back) on SQLite and PostgreSQL."""

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from allo.store.database import make_engine
from allo.store.migrate import current_revision, downgrade, head_revision, upgrade
from allo.store.tables import Base


def check_empty_to_head(url: str) -> None:
    upgrade(url)
    engine = make_engine(url)
    try:
        assert current_revision(engine) == head_revision(url)
        assert set(Base.metadata.tables) <= set(inspect(engine).get_table_names())
        with engine.connect() as connection:
            diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
        assert diff == [], f"tables and migrations disagree: {diff}"
    finally:
        engine.dispose()
    downgrade(url, "base")
    engine = make_engine(url)
    try:
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    finally:
        engine.dispose()
    upgrade(url)


def test_sqlite_from_empty_to_head(tmp_path: Path) -> None:
    check_empty_to_head(f"sqlite:///{tmp_path / 'fresh.sqlite'}")


@pytest.mark.postgres
def test_postgres_from_empty_to_head(empty_pg_url: str) -> None:
    check_empty_to_head(empty_pg_url)
