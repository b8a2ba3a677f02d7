"""The life of a contact once routing starts: offers, answers, wrap-up, callbacks, abandons.

Offer writes are conditional updates (`... WHERE status = 'offered' AND adviser_id = …`), so
two routers that both believe they lead can never offer one contact to two advisers at once,
and an adviser's late accept cannot overwrite a withdrawn offer.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import update

from allo.domain.channels import Channel
from allo.domain.contacts import ContactStatus
from allo.domain.errors import InvalidValue
from allo.domain.roles import Permission, Role
from allo.services.errors import Conflict, Forbidden
from allo.services.principal import Principal
from allo.services.queues import to_domain as queue_domain
from allo.services.routing_policy import policy_from_json
from allo.store.repository import get_for_tenant
from allo.store.tables import AdviserRow, ContactRow, QueueRow
from allo.store.uow import UnitOfWork

S = ContactStatus
# The adviser's accept closes a little before the router's timer, so that an accept the
# router has not read yet cannot cross the router's timeout.
ACCEPT_MARGIN = timedelta(milliseconds=500)
ROUTER = "router"


def _conditional_move(
    uow: UnitOfWork,
    tenant_id: int,
    contact_id: int,
    expected: tuple[ContactStatus, int | None],
    values: dict[str, Any],
) -> bool:
    status, adviser_id = expected
    query = update(ContactRow).where(
        ContactRow.id == contact_id,
        ContactRow.tenant_id == tenant_id,
        ContactRow.status == status.value,
    )
    if adviser_id is not None:
        query = query.where(ContactRow.adviser_id == adviser_id)
    # The ORM update also sets these values on the row already loaded in the session, so
    # callers return it as it now is without reading it back.
    result = uow.session.execute(query.values(updated_at=uow.now(), **values))
    return bool(getattr(result, "rowcount", 0) == 1)


def offer_contact(
    uow: UnitOfWork,
    tenant_id: int,
    contact_id: int,
    adviser_id: int,
    expires_at: datetime,
    callback: bool = False,
) -> bool:
    """The router's offer; False when the contact is no longer waiting (nothing written)."""
    moved = _conditional_move(
        uow,
        tenant_id,
        contact_id,
        (S.QUEUED, None),
        {"status": S.OFFERED.value, "adviser_id": adviser_id, "offer_expires_at": expires_at},
    )
    if moved:
        payload = {
            "from": "queued",
            "to": "offered",
            "adviser_id": adviser_id,
            "expires_at": expires_at.isoformat(),
            "callback": callback,
            "by": ROUTER,
        }
        uow.record("contact.offered", tenant_id, "contact", contact_id, payload)
    uow.commit()
    return moved


def withdraw_offer(
    uow: UnitOfWork, tenant_id: int, contact_id: int, adviser_id: int, reason: str
) -> bool:
    """The router takes an unanswered offer back; the contact keeps its place in line."""
    moved = _conditional_move(
        uow,
        tenant_id,
        contact_id,
        (S.OFFERED, adviser_id),
        {"status": S.QUEUED.value, "adviser_id": None, "offer_expires_at": None},
    )
    if moved:
        payload = {
            "from": "offered",
            "to": "queued",
            "adviser_id": adviser_id,
            "reason": reason,
            "by": ROUTER,
        }
        uow.record("contact.queued", tenant_id, "contact", contact_id, payload)
    uow.commit()
    return moved


def _own_adviser(actor: Principal) -> int:
    if actor.role is not Role.ADVISER or actor.adviser_id is None:
        raise Forbidden("only the adviser the contact is offered to may answer it")
    return actor.adviser_id


def accept_offer(uow: UnitOfWork, actor: Principal, contact_id: int) -> ContactRow:
    actor.require(Permission.WRITE_CONTACTS)
    row = get_for_tenant(uow.session, ContactRow, actor.tenant_id, contact_id)
    adviser_id = _own_adviser(actor)
    now = uow.now()
    late = row.offer_expires_at is not None and now >= row.offer_expires_at - ACCEPT_MARGIN
    if late or not _conditional_move(
        uow,
        actor.tenant_id,
        contact_id,
        (S.OFFERED, adviser_id),
        {"status": S.IN_PROGRESS.value, "offer_expires_at": None, "answered_at": now},
    ):
        raise Conflict("offer", "this offer has expired or was not made to you")
    payload = {"from": "offered", "to": "in_progress", "adviser_id": adviser_id}
    uow.record("contact.in_progress", actor.tenant_id, "contact", contact_id, payload)
    uow.commit()
    return row


def decline_offer(uow: UnitOfWork, actor: Principal, contact_id: int) -> None:
    actor.require(Permission.WRITE_CONTACTS)
    get_for_tenant(uow.session, ContactRow, actor.tenant_id, contact_id)
    adviser_id = _own_adviser(actor)
    if not _conditional_move(
        uow,
        actor.tenant_id,
        contact_id,
        (S.OFFERED, adviser_id),
        {"status": S.QUEUED.value, "adviser_id": None, "offer_expires_at": None},
    ):
        raise Conflict("offer", "this offer has expired or was not made to you")
    payload = {"from": "offered", "to": "queued", "adviser_id": adviser_id, "reason": "declined"}
    uow.record("contact.queued", actor.tenant_id, "contact", contact_id, payload)
    uow.commit()


def _handled_by_actor(uow: UnitOfWork, actor: Principal, contact_id: int) -> ContactRow:
    actor.require(Permission.WRITE_CONTACTS)
    row = get_for_tenant(uow.session, ContactRow, actor.tenant_id, contact_id)
    if actor.role is Role.ADVISER and row.adviser_id != actor.adviser_id:
        raise Forbidden("this contact is handled by another adviser")
    return row


def wrap_up(uow: UnitOfWork, actor: Principal, contact_id: int) -> ContactRow:
    """The conversation is over; the adviser writes the wrap-up (capacity is still held)."""
    row = _handled_by_actor(uow, actor, contact_id)
    if not _conditional_move(
        uow,
        actor.tenant_id,
        contact_id,
        (S.IN_PROGRESS, row.adviser_id),
        {"status": S.WRAP_UP.value},
    ):
        raise Conflict("status", f"a contact {row.status} cannot go to wrap-up")
    payload = {"from": "in_progress", "to": "wrap_up", "adviser_id": row.adviser_id}
    uow.record("contact.wrap_up", actor.tenant_id, "contact", contact_id, payload)
    uow.commit()
    return row


def close_contact(
    uow: UnitOfWork,
    actor: Principal,
    contact_id: int,
    *,
    wrap_code: str | None = None,
    notes: str | None = None,
    resolved: bool | None = None,
) -> ContactRow:
    row = _handled_by_actor(uow, actor, contact_id)
    current = S(row.status)
    if current not in (S.IN_PROGRESS, S.WRAP_UP):
        raise Conflict("status", f"a contact {row.status} cannot be closed")
    values = {
        "status": S.CLOSED.value,
        "wrap_code": wrap_code,
        "wrap_notes": notes,
        "resolved": resolved,
        "ended_at": uow.now(),
    }
    if not _conditional_move(uow, actor.tenant_id, contact_id, (current, row.adviser_id), values):
        raise Conflict("status", "the contact changed meanwhile, try again")
    payload = {
        "from": current.value,
        "to": "closed",
        "adviser_id": row.adviser_id,
        "wrap_code": wrap_code,
        "resolved": resolved,
    }
    uow.record("contact.closed", actor.tenant_id, "contact", contact_id, payload)
    uow.commit()
    return row


def abandon_contact(uow: UnitOfWork, actor: Principal, contact_id: int) -> bool:
    """The customer left before being answered; False if they had been answered already."""
    actor.require(Permission.WRITE_CONTACTS)
    row = get_for_tenant(uow.session, ContactRow, actor.tenant_id, contact_id)
    current = S(row.status)
    if current not in (S.QUEUED, S.OFFERED):
        return False
    values = {
        "status": S.ABANDONED.value,
        "adviser_id": None,
        "offer_expires_at": None,
        "ended_at": uow.now(),
    }
    if not _conditional_move(uow, actor.tenant_id, contact_id, (current, None), values):
        return False
    payload = {"from": current.value, "to": "abandoned", "adviser_id": row.adviser_id}
    uow.record("contact.abandoned", actor.tenant_id, "contact", contact_id, payload)
    uow.commit()
    return True


def request_callback(
    uow: UnitOfWork, actor: Principal, contact_id: int, at: datetime | None
) -> ContactRow:
    """Virtual hold: the customer hangs up and keeps their place, or books a time slot."""
    actor.require(Permission.WRITE_CONTACTS)
    row = get_for_tenant(uow.session, ContactRow, actor.tenant_id, contact_id)
    if S(row.status) is not S.QUEUED:
        raise Conflict("status", f"a contact {row.status} cannot ask for a callback")
    if at is not None:
        _check_slot(uow, row, at)
    row.channel = "callback"
    row.callback_at = at
    row.updated_at = uow.now()
    payload = {"at": at.isoformat() if at else None}
    uow.record("contact.callback_requested", actor.tenant_id, "contact", contact_id, payload)
    uow.commit()
    return row


def transfer_contact(
    uow: UnitOfWork,
    actor: Principal,
    contact_id: int,
    *,
    queue_id: int | None = None,
    adviser_id: int | None = None,
) -> ContactRow:
    """Blind transfer: the contact in progress goes back to routing on `queue_id` (its own
    queue when None), offered first to `adviser_id` when given. The adviser is free at once."""
    row = _handled_by_actor(uow, actor, contact_id)
    previous = row.adviser_id
    target_queue = _transfer_queue(uow, row, queue_id)
    if adviser_id is not None:
        _transfer_adviser(uow, row, adviser_id)
    values = {"status": S.QUEUED.value, "adviser_id": None, "queue_id": target_queue}
    if not _conditional_move(uow, actor.tenant_id, contact_id, (S.IN_PROGRESS, previous), values):
        raise Conflict("status", f"a contact {row.status} cannot be transferred")
    payload = {
        "from": "in_progress",
        "to": "queued",
        "kind": "blind",
        "adviser_id": previous,
        "queue_id": target_queue,
        "to_adviser_id": adviser_id,
    }
    uow.record("contact.transferred", actor.tenant_id, "contact", contact_id, payload)
    uow.commit()
    return row


def hand_over(uow: UnitOfWork, actor: Principal, contact_id: int, adviser_id: int) -> ContactRow:
    """Warm transfer completed: the consulted adviser has the contact, in progress; the first
    adviser is free."""
    row = _handled_by_actor(uow, actor, contact_id)
    previous = row.adviser_id
    _transfer_adviser(uow, row, adviser_id)
    values = {"adviser_id": adviser_id}
    if not _conditional_move(uow, actor.tenant_id, contact_id, (S.IN_PROGRESS, previous), values):
        raise Conflict("status", f"a contact {row.status} cannot be transferred")
    payload = {
        "from": "in_progress",
        "to": "in_progress",
        "kind": "warm",
        "adviser_id": previous,
        "queue_id": row.queue_id,
        "to_adviser_id": adviser_id,
        "handled_by": adviser_id,
    }
    uow.record("contact.transferred", actor.tenant_id, "contact", contact_id, payload)
    uow.commit()
    return row


def _transfer_queue(uow: UnitOfWork, row: ContactRow, queue_id: int | None) -> int:
    queue = get_for_tenant(uow.session, QueueRow, row.tenant_id, queue_id or row.queue_id)
    if Channel(row.channel) not in policy_from_json(queue.routing_policy).channels:
        raise InvalidValue(
            "queue_id", f"the queue takes no {row.channel}", key="error.transfer_channel"
        )
    return queue.id


def transfer_target(
    uow: UnitOfWork, tenant_id: int, adviser_id: int, current: int | None
) -> AdviserRow:
    """An adviser a contact may be handed to: another one, logged in."""
    target = get_for_tenant(uow.session, AdviserRow, tenant_id, adviser_id)
    if target.id == current:
        raise InvalidValue(
            "adviser_id", "is the adviser already handling it", key="error.transfer_self"
        )
    if target.state == "logged_out":
        raise Conflict("adviser_id", "this adviser is not logged in", key="error.transfer_away")
    return target


def _transfer_adviser(uow: UnitOfWork, row: ContactRow, adviser_id: int) -> None:
    transfer_target(uow, row.tenant_id, adviser_id, row.adviser_id)


def _check_slot(uow: UnitOfWork, row: ContactRow, at: datetime) -> None:
    if at.tzinfo is None:
        raise InvalidValue("at", "must carry a time zone offset")
    if at <= uow.now():
        raise InvalidValue("at", "must be in the future")
    queue = queue_domain(get_for_tenant(uow.session, QueueRow, row.tenant_id, row.queue_id))
    if not queue.opening_hours.is_open(at):
        raise InvalidValue("at", "is outside the queue's opening hours")


def mark_missed(uow: UnitOfWork, tenant_id: int, adviser_id: int, contact_id: int) -> bool:
    """An offer timed out: the adviser is set not ready ("missed") until they come back."""
    adviser = uow.session.get(AdviserRow, adviser_id)
    if adviser is None or adviser.tenant_id != tenant_id:
        return False
    if adviser.state == "ready":
        adviser.state = "not_ready"
        adviser.updated_at = uow.now()
        payload = {
            "from": "ready",
            "to": "not_ready",
            "reason": "missed",
            "contact_id": contact_id,
            "by": ROUTER,
        }
        uow.record("adviser.state_changed", tenant_id, "adviser", adviser_id, payload)
    uow.commit()
    return True
