"""Use cases for contacts: creation and lifecycle moves, each recorded as an event."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from allo.domain.channels import Channel
from allo.domain.contacts import ContactStatus, check_contact_transition
from allo.domain.errors import InvalidValue
from allo.domain.roles import Permission
from allo.domain.values import check_language
from allo.services.common import check_page
from allo.services.principal import Principal
from allo.store.repository import get_for_tenant, list_for_tenant
from allo.store.tables import AdviserRow, ContactRow, CustomerRow, QueueRow
from allo.store.uow import UnitOfWork


def create_contact(uow: UnitOfWork, actor: Principal, data: dict[str, Any]) -> ContactRow:
    actor.require(Permission.WRITE_CONTACTS)
    queue = get_for_tenant(uow.session, QueueRow, actor.tenant_id, data["queue_id"])
    if data.get("customer_id") is not None:
        get_for_tenant(uow.session, CustomerRow, actor.tenant_id, data["customer_id"])
    language = check_language("language", data.get("language") or queue.language)
    if data.get("site_only") and not data.get("site_group"):
        raise InvalidValue("site_only", "needs a site_group, e.g. 'france'")
    now = uow.now()
    row = ContactRow(
        tenant_id=actor.tenant_id,
        channel=Channel(data["channel"]).value,
        queue_id=queue.id,
        customer_id=data.get("customer_id"),
        language=language,
        status=ContactStatus.QUEUED.value,
        priority=data.get("priority", queue.priority),
        subject=data.get("subject"),
        site_group=data.get("site_group"),
        site_only=bool(data.get("site_only", False)),
        created_at=now,
        updated_at=now,
    )
    uow.session.add(row)
    uow.session.flush()
    payload = {
        "channel": row.channel,
        "queue_id": row.queue_id,
        "language": row.language,
        "priority": row.priority,
        "customer_id": row.customer_id,
    }
    uow.record("contact.created", actor.tenant_id, "contact", row.id, payload)
    uow.commit()
    return row


def move_contact(
    uow: UnitOfWork,
    actor: Principal,
    contact_id: int,
    target: ContactStatus,
    adviser_id: int | None = None,
    details: dict[str, Any] | None = None,
) -> ContactRow:
    """Move a contact along its lifecycle; an illegal move raises IllegalTransition."""
    actor.require(Permission.WRITE_CONTACTS)
    row = get_for_tenant(uow.session, ContactRow, actor.tenant_id, contact_id)
    current = ContactStatus(row.status)
    check_contact_transition(current, target)
    if adviser_id is not None:
        get_for_tenant(uow.session, AdviserRow, actor.tenant_id, adviser_id)
        row.adviser_id = adviser_id
    if target in {ContactStatus.QUEUED, ContactStatus.ABANDONED}:
        row.adviser_id = None
    row.status = target.value
    row.updated_at = uow.now()
    payload = {"from": current.value, "to": target.value, "adviser_id": row.adviser_id}
    payload.update(details or {})
    uow.record(f"contact.{target.value}", actor.tenant_id, "contact", row.id, payload)
    uow.commit()
    return row


def read_contact(uow: UnitOfWork, actor: Principal, contact_id: int) -> ContactRow:
    actor.require(Permission.READ_CONTACTS)
    return get_for_tenant(uow.session, ContactRow, actor.tenant_id, contact_id)


def list_contacts(
    uow: UnitOfWork,
    actor: Principal,
    offset: int,
    limit: int,
    status: ContactStatus | None = None,
    queue_id: int | None = None,
) -> tuple[list[ContactRow], int]:
    actor.require(Permission.READ_CONTACTS)
    check_page(offset, limit)
    filters: list[Any] = []
    if status is not None:
        filters.append(ContactRow.status == status.value)
    if queue_id is not None:
        filters.append(ContactRow.queue_id == queue_id)
    return list_for_tenant(
        uow.session,
        ContactRow,
        actor.tenant_id,
        offset=offset,
        limit=limit,
        filters=tuple(filters),
    )


def record_past_contact(
    uow: UnitOfWork,
    actor: Principal,
    data: dict[str, Any],
    *,
    created_at: datetime,
    answered_at: datetime | None,
    ended_at: datetime,
) -> ContactRow:
    """Import a finished contact from another system (or the demo's history) as it was."""
    actor.require(Permission.CONFIGURE)
    queue = get_for_tenant(uow.session, QueueRow, actor.tenant_id, data["queue_id"])
    status = ContactStatus.CLOSED if answered_at is not None else ContactStatus.ABANDONED
    row = ContactRow(
        tenant_id=actor.tenant_id,
        channel=Channel(data["channel"]).value,
        queue_id=queue.id,
        customer_id=data.get("customer_id"),
        language=data.get("language") or queue.language,
        status=status.value,
        priority=queue.priority,
        subject=data.get("subject"),
        wrap_code=data.get("wrap_code"),
        resolved=data.get("resolved"),
        satisfaction=data.get("satisfaction"),
        answered_at=answered_at,
        ended_at=ended_at,
        created_at=created_at,
        updated_at=ended_at,
    )
    uow.session.add(row)
    uow.session.flush()
    payload = {
        "channel": row.channel,
        "queue_id": row.queue_id,
        "status": row.status,
        "imported": True,
    }
    uow.record("contact.imported", actor.tenant_id, "contact", row.id, payload)
    uow.commit()
    return row
