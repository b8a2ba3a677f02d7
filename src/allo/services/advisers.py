"""Use cases for advisers: their profile (site, skills, languages, capacity) and their state."""

from __future__ import annotations

from typing import Any

from allo.domain.advisers import (
    Adviser,
    AdviserState,
    check_adviser_transition,
    validate_capacity,
)
from allo.domain.channels import DEFAULT_CAPACITY
from allo.domain.roles import Permission, Role
from allo.services.common import apply_changes
from allo.services.errors import Forbidden
from allo.services.principal import Principal
from allo.store.repository import get_for_tenant
from allo.store.tables import AdviserRow, SiteRow
from allo.store.uow import UnitOfWork


def to_domain(row: AdviserRow) -> Adviser:
    return Adviser(
        id=row.id or 0,
        tenant_id=row.tenant_id,
        site_id=row.site_id,
        name=row.name,
        skills=dict(row.skills),
        languages=dict(row.languages),
        capacity=validate_capacity(row.capacity),
        state=AdviserState(row.state),
    )


def create_adviser(uow: UnitOfWork, actor: Principal, data: dict[str, Any]) -> AdviserRow:
    actor.require(Permission.CONFIGURE)
    get_for_tenant(uow.session, SiteRow, actor.tenant_id, data["site_id"])
    now = uow.now()
    fields = {"skills": {}, "capacity": {c.value: n for c, n in DEFAULT_CAPACITY.items()}, **data}
    row = AdviserRow(
        tenant_id=actor.tenant_id,
        state=AdviserState.LOGGED_OUT.value,
        created_at=now,
        updated_at=now,
        **fields,
    )
    to_domain(row)
    uow.session.add(row)
    uow.session.flush()
    payload = {"site_id": row.site_id, "skills": row.skills, "languages": row.languages}
    uow.record("adviser.created", actor.tenant_id, "adviser", row.id, payload)
    uow.commit()
    return row


def update_adviser(
    uow: UnitOfWork, actor: Principal, adviser_id: int, changes: dict[str, Any]
) -> AdviserRow:
    actor.require(Permission.CONFIGURE)
    row = get_for_tenant(uow.session, AdviserRow, actor.tenant_id, adviser_id)
    if "site_id" in changes:
        get_for_tenant(uow.session, SiteRow, actor.tenant_id, changes["site_id"])
    changed = apply_changes(row, changes)
    to_domain(row)
    if changed:
        row.updated_at = uow.now()
        uow.record("adviser.updated", actor.tenant_id, "adviser", row.id, changed)
    uow.commit()
    return row


def set_adviser_state(
    uow: UnitOfWork, actor: Principal, adviser_id: int, state: AdviserState
) -> AdviserRow:
    """Advisers change their own state; supervisors and admins may change anyone's."""
    row = get_for_tenant(uow.session, AdviserRow, actor.tenant_id, adviser_id)
    is_self = actor.role is Role.ADVISER and actor.adviser_id == adviser_id
    if not (is_self or actor.role in {Role.ADMIN, Role.SUPERVISOR}):
        raise Forbidden("only the adviser or a supervisor may change this state")
    current = AdviserState(row.state)
    if current is state:
        return row
    check_adviser_transition(current, state)
    row.state = state.value
    row.updated_at = uow.now()
    payload = {"from": current.value, "to": state.value, "by": actor.user_id}
    uow.record("adviser.state_changed", actor.tenant_id, "adviser", row.id, payload)
    uow.commit()
    return row
