"""Customers, contacts, the event feed and the audit trail."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query

from allo.api.deps import Actor, Uow, api_router
from allo.api.schemas import (
    AuditPage,
    ContactIn,
    ContactOut,
    CustomerIn,
    CustomerOut,
    CustomerPatch,
    EventPage,
    Page,
    changes_of,
    creation_of,
)
from allo.domain.contacts import ContactStatus
from allo.services import contacts, customers, feeds

router = api_router(prefix="/api/v1")
Offset = Annotated[int, Query(ge=0)]
Limit = Annotated[int, Query(ge=1, le=500)]
Cursor = Annotated[int, Query(ge=0)]
FeedLimit = Annotated[int, Query(ge=1, le=1000)]


@router.get("/customers", response_model=Page[CustomerOut], tags=["customers"])
def list_customers(uow: Uow, actor: Actor, offset: Offset = 0, limit: Limit = 100) -> Any:
    """Customers as the caller may see them (masked by site); every record read is audited."""
    items, total = customers.list_customers(uow, actor, offset, limit)
    return {"items": items, "total": total, "offset": offset, "limit": limit}


@router.post("/customers", response_model=CustomerOut, status_code=201, tags=["customers"])
def create_customer(body: CustomerIn, uow: Uow, actor: Actor) -> Any:
    customer_id = customers.create_customer(uow, actor, creation_of(body))
    return customers.read_customer(uow, actor, customer_id)


@router.get("/customers/{customer_id}", response_model=CustomerOut, tags=["customers"])
def read_customer(customer_id: int, uow: Uow, actor: Actor) -> Any:
    return customers.read_customer(uow, actor, customer_id)


@router.patch("/customers/{customer_id}", response_model=CustomerOut, tags=["customers"])
def update_customer(customer_id: int, body: CustomerPatch, uow: Uow, actor: Actor) -> Any:
    customers.update_customer(uow, actor, customer_id, changes_of(body))
    return customers.read_customer(uow, actor, customer_id)


@router.get("/contacts", response_model=Page[ContactOut], tags=["contacts"])
def list_contacts(
    uow: Uow,
    actor: Actor,
    offset: Offset = 0,
    limit: Limit = 100,
    status: ContactStatus | None = None,
    queue_id: int | None = None,
) -> Any:
    rows, total = contacts.list_contacts(uow, actor, offset, limit, status, queue_id)
    return {"items": rows, "total": total, "offset": offset, "limit": limit}


@router.post("/contacts", response_model=ContactOut, status_code=201, tags=["contacts"])
def create_contact(body: ContactIn, uow: Uow, actor: Actor) -> Any:
    return contacts.create_contact(uow, actor, creation_of(body))


@router.get("/contacts/{contact_id}", response_model=ContactOut, tags=["contacts"])
def read_contact(contact_id: int, uow: Uow, actor: Actor) -> Any:
    return contacts.read_contact(uow, actor, contact_id)


@router.get("/events", response_model=EventPage, tags=["events"])
def list_events(uow: Uow, actor: Actor, after: Cursor = 0, limit: FeedLimit = 100) -> Any:
    """Events of the tenant after a cursor; pass `next_cursor` back as `after` to go on."""
    rows, next_cursor = feeds.events_after(uow, actor, after, limit)
    return {"events": rows, "next_cursor": next_cursor}


@router.get("/audit", response_model=AuditPage, tags=["audit"])
def list_audit(
    uow: Uow,
    actor: Actor,
    after: Cursor = 0,
    limit: FeedLimit = 100,
    subject_id: int | None = None,
) -> Any:
    """Who read or changed which customer record, when and from which site (admins only)."""
    rows, next_cursor = feeds.audit_after(uow, actor, after, limit, subject_id)
    return {"entries": rows, "next_cursor": next_cursor}
