"""Reads of the adviser desk and the queue status: what a (re)loaded page needs."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from allo.domain.contacts import ContactStatus
from allo.domain.roles import Permission, Role
from allo.services.errors import Forbidden
from allo.services.principal import Principal
from allo.store.repository import get_for_tenant
from allo.store.tables import AdviserRow, ContactRow, CustomerRow, QueueRow, QueueStatusRow, SiteRow
from allo.store.uow import UnitOfWork

IN_HAND = (
    ContactStatus.OFFERED.value,
    ContactStatus.IN_PROGRESS.value,
    ContactStatus.WRAP_UP.value,
)
WAITING = (ContactStatus.QUEUED.value, ContactStatus.OFFERED.value)


def queue_status(uow: UnitOfWork, actor: Principal, queue_id: int) -> dict[str, Any]:
    """Counts from the database; wait estimates from the live router's latest snapshot."""
    actor.require(Permission.READ_CONTACTS)
    get_for_tenant(uow.session, QueueRow, actor.tenant_id, queue_id)
    waiting = (
        select(ContactRow)
        .where(ContactRow.queue_id == queue_id, ContactRow.status.in_(WAITING))
        .subquery()
    )
    count = uow.session.scalar(select(func.count()).select_from(waiting)) or 0
    oldest = uow.session.scalar(select(func.min(waiting.c.created_at)))
    snapshot = uow.session.get(QueueStatusRow, queue_id)
    longest = (uow.now() - oldest).total_seconds() if oldest else 0.0
    return {
        "queue_id": queue_id,
        "waiting": count,
        "longest_wait": max(longest, 0.0),
        "estimates": snapshot.estimates if snapshot else [],
        "updated_at": snapshot.updated_at if snapshot else None,
    }


def desk_view(
    uow: UnitOfWork, actor: Principal
) -> tuple[AdviserRow, SiteRow | None, list[ContactRow]]:
    """Who the adviser is, where they sit, and the work in their hands."""
    if actor.role is not Role.ADVISER or actor.adviser_id is None:
        raise Forbidden("the desk is for advisers")
    adviser = get_for_tenant(uow.session, AdviserRow, actor.tenant_id, actor.adviser_id)
    work = uow.session.scalars(
        select(ContactRow)
        .where(ContactRow.adviser_id == adviser.id, ContactRow.status.in_(IN_HAND))
        .order_by(ContactRow.id)
    )
    return adviser, uow.session.get(SiteRow, adviser.site_id), list(work)


def customer_history(
    uow: UnitOfWork, actor: Principal, customer_id: int, limit: int = 50
) -> list[ContactRow]:
    """A customer's latest contacts: channel, queue, outcome; no personal data."""
    actor.require(Permission.READ_CUSTOMERS)
    get_for_tenant(uow.session, CustomerRow, actor.tenant_id, customer_id)
    return list(
        uow.session.scalars(
            select(ContactRow)
            .where(ContactRow.tenant_id == actor.tenant_id, ContactRow.customer_id == customer_id)
            .order_by(ContactRow.id.desc())
            .limit(limit)
        )
    )
