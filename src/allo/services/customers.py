"""Use cases for customers: writes, and reads filtered by privacy rules and audited."""

from __future__ import annotations

from typing import Any

from allo.domain.customers import CUSTOMER_FIELDS
from allo.domain.errors import InvalidValue
from allo.domain.privacy import customer_view
from allo.domain.roles import Permission
from allo.domain.values import check_language
from allo.services.common import apply_changes, check_page
from allo.services.principal import Principal
from allo.store.repository import get_for_tenant, list_for_tenant
from allo.store.tables import AuditRow, CustomerRow
from allo.store.uow import UnitOfWork


def _validate(row: CustomerRow) -> None:
    # A web chat customer may give a single name; a record needs at least one of the two.
    if not (row.first_name.strip() or row.last_name.strip()):
        raise InvalidValue("first_name", "a customer needs a first or a last name")
    check_language("language", row.language)


def create_customer(uow: UnitOfWork, actor: Principal, data: dict[str, Any]) -> int:
    actor.require(Permission.WRITE_CUSTOMERS)
    now = uow.now()
    row = CustomerRow(
        tenant_id=actor.tenant_id, created_at=now, updated_at=now, **{"language": "fr", **data}
    )
    _validate(row)
    uow.session.add(row)
    uow.session.flush()
    # Events carry field names, never personal values: the event log is read widely.
    payload = {"fields": sorted(k for k, v in data.items() if v is not None)}
    uow.record("customer.created", actor.tenant_id, "customer", row.id, payload)
    uow.commit()
    return row.id


def update_customer(
    uow: UnitOfWork, actor: Principal, customer_id: int, changes: dict[str, Any]
) -> None:
    actor.require(Permission.WRITE_CUSTOMERS)
    row = get_for_tenant(uow.session, CustomerRow, actor.tenant_id, customer_id)
    changed = apply_changes(row, changes)
    _validate(row)
    if changed:
        row.updated_at = uow.now()
        uow.record(
            "customer.updated", actor.tenant_id, "customer", row.id, {"fields": sorted(changed)}
        )
        uow.audit(_audit_row(uow, actor, "customer.update", row.id, sorted(changed)))
    uow.commit()


def _audit_row(
    uow: UnitOfWork, actor: Principal, action: str, customer_id: int, fields: list[str]
) -> AuditRow:
    return AuditRow(
        tenant_id=actor.tenant_id,
        user_id=actor.user_id,
        site_id=actor.site_id,
        action=action,
        subject_type="customer",
        subject_id=customer_id,
        fields={"fields": fields, "role": actor.role.value, "via_token": actor.via_token},
        at=uow.now(),
    )


def _seen(uow: UnitOfWork, actor: Principal, row: CustomerRow) -> dict[str, Any]:
    """The record as this actor may see it, with the read written to the audit log."""
    personal = {name: getattr(row, name) for name in CUSTOMER_FIELDS}
    view = customer_view(actor.viewer, personal)
    uow.audit(_audit_row(uow, actor, "customer.read", row.id, sorted(view)))
    return {
        "id": row.id,
        "language": row.language,
        "external_ref": row.external_ref,
        "created_at": row.created_at,
        "updated_at": row.updated_at,
        "masked": any(view.get(k) != v for k, v in personal.items() if v is not None),
        **view,
    }


def read_customer(uow: UnitOfWork, actor: Principal, customer_id: int) -> dict[str, Any]:
    actor.require(Permission.READ_CUSTOMERS)
    row = get_for_tenant(uow.session, CustomerRow, actor.tenant_id, customer_id)
    seen = _seen(uow, actor, row)
    uow.commit()  # the audit entry must be stored before the data leaves
    return seen


def list_customers(
    uow: UnitOfWork, actor: Principal, offset: int, limit: int
) -> tuple[list[dict[str, Any]], int]:
    actor.require(Permission.READ_CUSTOMERS)
    check_page(offset, limit)
    rows, total = list_for_tenant(
        uow.session, CustomerRow, actor.tenant_id, offset=offset, limit=limit
    )
    seen = [_seen(uow, actor, row) for row in rows]
    uow.commit()
    return seen, total
