"""Tenant-scoped reads shared by the services: every query filters by tenant."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from allo.services.errors import NotFound

Row = TypeVar("Row")


def get_for_tenant(session: Session, model: type[Row], tenant_id: int, ident: int) -> Row:
    """The row with this id in this tenant; a row of another tenant is reported as not found."""
    row = session.get(model, ident)
    if row is None or getattr(row, "tenant_id", None) != tenant_id:
        raise NotFound(model.__tablename__.rstrip("s"), ident)  # type: ignore[attr-defined]
    return row


def list_for_tenant(
    session: Session,
    model: type[Row],
    tenant_id: int,
    *,
    offset: int = 0,
    limit: int = 100,
    filters: tuple[Any, ...] = (),
) -> tuple[list[Row], int]:
    tenant_col = model.tenant_id  # type: ignore[attr-defined]
    query = select(model).where(tenant_col == tenant_id, *filters)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(model.id).offset(offset).limit(limit)).all()  # type: ignore[attr-defined]
    return list(rows), total
