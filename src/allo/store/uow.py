"""Unit of work: one transaction, the rows it changes and the events it records.

Events are written in the same transaction as the change and handed to the bus only after
the commit succeeded (like Zulip's `actions`), so nothing is published for a rolled-back write.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from types import TracebackType
from typing import Any

from sqlalchemy import Engine, Table
from sqlalchemy.orm import Session, sessionmaker

from allo.domain.events import Event
from allo.services.bus import EventBus
from allo.store.tables import AuditRow, EventRow

Clock = Callable[[], datetime]


class UnitOfWork:
    def __init__(self, factory: sessionmaker[Session], bus: EventBus, clock: Clock) -> None:
        self._factory = factory
        self._bus = bus
        self.clock = clock
        self._pending: list[tuple[EventRow, Any]] = []
        self._batched = False

    def __enter__(self) -> UnitOfWork:
        self.session = self._factory()
        self._pending = []
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # close() rolls back what was not committed but, unlike rollback(), leaves the
        # objects already read usable (detached, not expired).
        self.session.close()

    def now(self) -> datetime:
        return self.clock()

    def record(
        self,
        type_: str,
        tenant_id: int,
        subject_type: str,
        subject_id: int | None,
        payload: dict[str, Any] | None = None,
        local: Any = None,
    ) -> None:
        """File an event; `local` travels with it to this process's listeners only."""
        row = EventRow(
            tenant_id=tenant_id,
            type=type_,
            subject_type=subject_type,
            subject_id=subject_id,
            payload=payload or {},
            occurred_at=self.now(),
        )
        # Added to the session at commit only (see `commit`).
        self._pending.append((row, local))

    def audit(self, row: AuditRow) -> None:
        self.session.add(row)

    def release(self) -> None:
        """End a read-only transaction and hand the connection back to the pool.

        Objects already read stay usable. Used between the steps of one request (e.g. after
        authentication) so that a connection is never held while waiting for a thread.
        """
        session = self.session
        if not (self._pending or session.new or session.dirty or session.deleted):
            session.commit()

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Several services' writes in one transaction: their commits only flush, and the
        batch commits (and publishes) once at its end, or not at all if it raises."""
        self._batched = True
        try:
            yield
        finally:
            self._batched = False
        self.commit()

    def commit(self) -> None:
        self.session.flush()
        if self._batched:
            return
        if self._pending:
            # Event rows go in last, just before the commit: their ids are taken from the
            # sequence as late as possible, so a reader of the stream meets few gaps left
            # by transactions still committing, and none by a request that failed halfway.
            self._insert_events()
        events = [as_event(row, local) for row, local in self._pending]
        self.session.commit()
        self._pending = []
        self._bus.publish(events)

    def insert(self, table: Table, values: dict[str, Any]) -> int:
        """Insert one row with a plain statement and return its id: a fraction of what the
        ORM's flush costs, for the rows written on every chat line."""
        statement = table.insert().values(values).returning(table.c.id)
        new_id: int = self.session.connection().execute(statement).scalar_one()
        return new_id

    def _insert_events(self) -> None:
        table = EVENTS
        statement = table.insert().returning(table.c.id, sort_by_parameter_order=True)
        values = [
            {column: getattr(row, column) for column in EVENT_COLUMNS} for row, _ in self._pending
        ]
        ids = self.session.connection().execute(statement, values).scalars().all()
        for (row, _), new_id in zip(self._pending, ids, strict=True):
            row.id = new_id


EVENTS: Table = EventRow.__table__  # type: ignore[assignment]
EVENT_COLUMNS = ("tenant_id", "type", "subject_type", "subject_id", "payload", "occurred_at")


def as_event(row: EventRow, local: Any = None) -> Event:
    return Event(
        id=row.id,
        type=row.type,
        tenant_id=row.tenant_id,
        subject_type=row.subject_type,
        subject_id=row.subject_id,
        payload=dict(row.payload),
        occurred_at=row.occurred_at,
        local=local,
    )


class Store:
    """The database handle services are given: makes units of work sharing one bus and clock."""

    def __init__(self, engine: Engine, bus: EventBus, clock: Clock) -> None:
        self.engine = engine
        self.bus = bus
        self.clock = clock
        self._factory = sessionmaker(engine, expire_on_commit=False)

    def unit_of_work(self) -> UnitOfWork:
        return UnitOfWork(self._factory, self.bus, self.clock)
