"""Read a recorded day from the database and replay it through another routing policy."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from allo.domain.errors import InvalidValue
from allo.services import advisers as adviser_service
from allo.services import queues as queue_service
from allo.services import sites as site_service
from allo.services.accounts import tenant_by_slug
from allo.services.errors import NotFound
from allo.services.router import option_of
from allo.services.routing_policy import policy_from_json
from allo.simulation.replay import RecordedContact, ReplayReport, day_bounds, replay_day
from allo.store.tables import AdviserRow, ContactRow, QueueRow, SiteRow
from allo.store.uow import Store


def replay(
    store: Store,
    tenant: str,
    day: date,
    overflow_after: float,
    timezone: str = "Europe/Paris",
    seed: int = 1,
) -> ReplayReport:
    """The tenant's contacts created on `day` (in `timezone`), replayed; read-only."""
    if overflow_after < 0:
        raise InvalidValue("overflow_after", "must not be negative")
    start, end = day_bounds(day, timezone)
    with store.unit_of_work() as uow:
        row = tenant_by_slug(uow, tenant)
        if row is None:
            raise NotFound("tenant", tenant)
        session, tid = uow.session, row.id
        sites = [
            site_service.to_domain(r)
            for r in session.scalars(
                select(SiteRow).where(SiteRow.tenant_id == tid).order_by(SiteRow.id)
            )
        ]
        queue_rows = list(
            session.scalars(select(QueueRow).where(QueueRow.tenant_id == tid).order_by(QueueRow.id))
        )
        queues = [
            (queue_service.to_domain(q), policy_from_json(q.routing_policy)) for q in queue_rows
        ]
        advisers = [
            adviser_service.to_domain(r)
            for r in session.scalars(
                select(AdviserRow).where(AdviserRow.tenant_id == tid).order_by(AdviserRow.id)
            )
        ]
        rows = session.scalars(
            select(ContactRow)
            .where(
                ContactRow.tenant_id == tid,
                ContactRow.created_at >= start,
                ContactRow.created_at < end,
            )
            .order_by(ContactRow.created_at, ContactRow.id)
        )
        contacts = [
            RecordedContact(r.queue_id, r.created_at, r.answered_at, r.ended_at, r.adviser_id,
                            option_of(r))
            for r in rows
        ]  # fmt: skip
    if not contacts:
        raise InvalidValue("day", f"tenant {tenant!r} has no contacts on {day.isoformat()}")
    return replay_day(day, timezone, sites, queues, advisers, contacts, overflow_after, seed)
