"""Reads of the append-only logs: the event feed (by cursor) and the audit trail."""

from __future__ import annotations

from sqlalchemy import select

from allo.domain.roles import Permission
from allo.services.common import check_page
from allo.services.principal import Principal
from allo.store.tables import AuditRow, EventRow
from allo.store.uow import UnitOfWork


def events_after(
    uow: UnitOfWork, actor: Principal, cursor: int, limit: int
) -> tuple[list[EventRow], int]:
    """Events of the actor's tenant with an id above the cursor, and the cursor to ask next."""
    actor.require(Permission.READ_EVENTS)
    check_page(0, limit, max_limit=1000)
    rows = uow.session.scalars(
        select(EventRow)
        .where(EventRow.tenant_id == actor.tenant_id, EventRow.id > cursor)
        .order_by(EventRow.id)
        .limit(limit)
    ).all()
    next_cursor = rows[-1].id if rows else cursor
    return list(rows), next_cursor


def audit_after(
    uow: UnitOfWork, actor: Principal, cursor: int, limit: int, subject_id: int | None = None
) -> tuple[list[AuditRow], int]:
    actor.require(Permission.READ_AUDIT)
    check_page(0, limit, max_limit=1000)
    query = select(AuditRow).where(AuditRow.tenant_id == actor.tenant_id, AuditRow.id > cursor)
    if subject_id is not None:
        query = query.where(AuditRow.subject_id == subject_id)
    rows = uow.session.scalars(query.order_by(AuditRow.id).limit(limit)).all()
    return list(rows), (rows[-1].id if rows else cursor)
