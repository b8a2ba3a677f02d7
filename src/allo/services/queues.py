"""Use cases for queues."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from allo.domain.queues import OpeningHours, Queue, ServiceLevelTarget
from allo.domain.roles import Permission
from allo.services.common import apply_changes
from allo.services.errors import Conflict
from allo.services.principal import Principal
from allo.services.routing_policy import policy_from_json
from allo.store.repository import get_for_tenant
from allo.store.tables import QueueRow
from allo.store.uow import UnitOfWork


def to_domain(row: QueueRow) -> Queue:
    hours = row.opening_hours
    return Queue(
        id=row.id or 0,
        tenant_id=row.tenant_id,
        name=row.name,
        required_skills=dict(row.required_skills),
        language=row.language,
        min_language_level=row.min_language_level,
        sl_target=ServiceLevelTarget(row.sl_percent, row.sl_seconds),
        opening_hours=OpeningHours(hours.get("timezone", ""), hours.get("weekly", {})),
        priority=row.priority,
    )


def validate(row: QueueRow) -> None:
    to_domain(row)
    policy_from_json(row.routing_policy)


def _check_unique_name(uow: UnitOfWork, tenant_id: int, name: str, own_id: int | None) -> None:
    clash = uow.session.scalar(
        select(QueueRow.id).where(QueueRow.tenant_id == tenant_id, QueueRow.name == name)
    )
    if clash is not None and clash != own_id:
        raise Conflict("name", f"a queue named {name!r} already exists")


def create_queue(uow: UnitOfWork, actor: Principal, data: dict[str, Any]) -> QueueRow:
    actor.require(Permission.CONFIGURE)
    now = uow.now()
    defaults = OpeningHours()
    fields: dict[str, Any] = {
        "required_skills": {},
        "language": "fr",
        "min_language_level": 3,
        "sl_percent": 80.0,
        "sl_seconds": 20,
        "priority": 0,
        "routing_policy": {},
        "reply_target_seconds": 86_400,
        "recording": False,
        "recording_retention_days": 183,
        "opening_hours": {"timezone": defaults.timezone, "weekly": dict(defaults.weekly)},
        **data,
    }
    row = QueueRow(tenant_id=actor.tenant_id, created_at=now, updated_at=now, **fields)
    validate(row)
    _check_unique_name(uow, actor.tenant_id, row.name, None)
    uow.session.add(row)
    uow.session.flush()
    uow.record("queue.created", actor.tenant_id, "queue", row.id, {"name": row.name})
    uow.commit()
    return row


def update_queue(
    uow: UnitOfWork, actor: Principal, queue_id: int, changes: dict[str, Any]
) -> QueueRow:
    actor.require(Permission.CONFIGURE)
    row = get_for_tenant(uow.session, QueueRow, actor.tenant_id, queue_id)
    changed = apply_changes(row, changes)
    validate(row)
    if "name" in changed:
        _check_unique_name(uow, actor.tenant_id, row.name, row.id)
    if changed:
        row.updated_at = uow.now()
        uow.record("queue.updated", actor.tenant_id, "queue", row.id, {"changed": sorted(changed)})
    uow.commit()
    return row
