"""Messages of a conversation: chat lines, emails, announcements."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from allo.domain.errors import InvalidValue
from allo.domain.roles import Permission, Role
from allo.services.errors import Forbidden
from allo.services.principal import Principal
from allo.store.repository import get_for_tenant
from allo.store.tables import ContactRow, MessageRow
from allo.store.uow import UnitOfWork

AUTHOR_KINDS = ("customer", "adviser", "system", "bot")
CHAT_MAX_BYTES = 4096


def check_body(body: str, max_bytes: int = CHAT_MAX_BYTES) -> str:
    text = body.strip()
    if not text:
        raise InvalidValue("body", "a message cannot be empty", key="error.message_empty")
    if len(text.encode("utf-8")) > max_bytes:
        raise InvalidValue(
            "body", f"a message is limited to {max_bytes // 1024} KB", key="error.message_too_long"
        )
    return text


def add_message(
    uow: UnitOfWork,
    contact: ContactRow,
    author_kind: str,
    body: str,
    *,
    adviser_id: int | None = None,
    meta: dict[str, Any] | None = None,
    max_bytes: int = CHAT_MAX_BYTES,
) -> MessageRow:
    """Store one message and record `message.created` (the event carries no text)."""
    if author_kind not in AUTHOR_KINDS:
        raise InvalidValue("author_kind", f"must be one of {', '.join(AUTHOR_KINDS)}")
    row = MessageRow(
        tenant_id=contact.tenant_id,
        contact_id=contact.id,
        author_kind=author_kind,
        adviser_id=adviser_id,
        body=check_body(body, max_bytes),
        meta=meta or {},
        created_at=uow.now(),
    )
    uow.session.add(row)
    uow.session.flush()
    payload = {
        "message_id": row.id,
        "author_kind": author_kind,
        "adviser_id": adviser_id,
        "handled_by": contact.adviser_id,
    }
    uow.record("message.created", contact.tenant_id, "contact", contact.id, payload)
    uow.commit()
    return row


def check_reader(actor: Principal, contact: ContactRow) -> None:
    """An adviser reads the conversations they handle; supervisors and admins read all."""
    actor.require(Permission.READ_CONTACTS)
    if actor.role is Role.PLANNER:
        raise Forbidden("planners do not read conversations")
    if actor.role is Role.ADVISER and contact.adviser_id != actor.adviser_id:
        raise Forbidden("this conversation is handled by another adviser")


def post_as_adviser(uow: UnitOfWork, actor: Principal, contact_id: int, body: str) -> MessageRow:
    contact = get_for_tenant(uow.session, ContactRow, actor.tenant_id, contact_id)
    if actor.role is not Role.ADVISER or contact.adviser_id != actor.adviser_id:
        raise Forbidden("only the adviser handling the contact writes in it")
    if contact.status not in ("in_progress", "wrap_up"):
        raise InvalidValue("contact", f"a contact {contact.status} takes no message")
    return add_message(uow, contact, "adviser", body, adviser_id=actor.adviser_id)


def list_messages(
    uow: UnitOfWork, actor: Principal, contact_id: int, after: int = 0
) -> list[MessageRow]:
    contact = get_for_tenant(uow.session, ContactRow, actor.tenant_id, contact_id)
    check_reader(actor, contact)
    return list(
        uow.session.scalars(
            select(MessageRow)
            .where(MessageRow.contact_id == contact_id, MessageRow.id > after)
            .order_by(MessageRow.id)
        ).all()
    )
