"""Use cases for sites."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from allo.domain.roles import Permission
from allo.domain.sites import Site, TransferBasis, effective_basis
from allo.services.common import apply_changes
from allo.services.errors import Conflict
from allo.services.principal import Principal
from allo.store.repository import get_for_tenant
from allo.store.tables import SiteRow
from allo.store.uow import UnitOfWork

SITE_FIELDS = (
    "name",
    "country",
    "timezone",
    "languages",
    "hourly_cost",
    "currency",
    "transfer_basis",
    "transfer_module",
    "transfer_assessed_on",
    "groups",
)


def to_domain(row: SiteRow) -> Site:
    return Site(
        id=row.id or 0,
        tenant_id=row.tenant_id,
        name=row.name,
        country=row.country,
        timezone=row.timezone,
        languages=tuple(row.languages),
        hourly_cost=row.hourly_cost,
        currency=row.currency,
        transfer_basis=TransferBasis(row.transfer_basis),
        groups=tuple(row.groups),
    )


def site_basis(row: SiteRow, uow: UnitOfWork) -> TransferBasis:
    """The basis the site may rely on today, from its register entry."""
    return effective_basis(
        TransferBasis(row.transfer_basis),
        row.transfer_module,
        row.transfer_assessed_on,
        uow.now().date(),
    )


def _check_unique_name(uow: UnitOfWork, tenant_id: int, name: str, own_id: int | None) -> None:
    clash = uow.session.scalar(
        select(SiteRow.id).where(SiteRow.tenant_id == tenant_id, SiteRow.name == name)
    )
    if clash is not None and clash != own_id:
        raise Conflict("name", f"a site named {name!r} already exists")


def create_site(uow: UnitOfWork, actor: Principal, data: dict[str, Any]) -> SiteRow:
    actor.require(Permission.CONFIGURE)
    now = uow.now()
    fields = {"groups": [], "currency": "EUR", "transfer_basis": TransferBasis.EEA.value, **data}
    row = SiteRow(tenant_id=actor.tenant_id, created_at=now, updated_at=now, **fields)
    to_domain(row)  # validates every field, naming the first wrong one
    _check_unique_name(uow, actor.tenant_id, row.name, None)
    uow.session.add(row)
    uow.session.flush()
    uow.record("site.created", actor.tenant_id, "site", row.id, {"name": row.name})
    uow.commit()
    return row


def update_site(
    uow: UnitOfWork, actor: Principal, site_id: int, changes: dict[str, Any]
) -> SiteRow:
    actor.require(Permission.CONFIGURE)
    row = get_for_tenant(uow.session, SiteRow, actor.tenant_id, site_id)
    changed = apply_changes(row, changes)
    to_domain(row)
    if "name" in changed:
        _check_unique_name(uow, actor.tenant_id, row.name, row.id)
    if changed:
        row.updated_at = uow.now()
        payload = {"changed": sorted(changed)}
        uow.record("site.updated", actor.tenant_id, "site", row.id, payload)
    uow.commit()
    return row
