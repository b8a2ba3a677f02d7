"""Email seen from the desk and the wall: threads, attachments, reply-time service level,
and the mailboxes admins configure."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from allo.domain.email import reply_time_level
from allo.domain.errors import InvalidValue
from allo.domain.privacy import customer_view
from allo.domain.roles import Permission
from allo.services.common import apply_changes
from allo.services.email_outbound import email_contact, thread_of_contact
from allo.services.errors import Conflict, NotFound
from allo.services.principal import Principal
from allo.store.repository import get_for_tenant
from allo.store.tables import (
    AuditRow,
    EmailAttachmentRow,
    EmailRow,
    EmailThreadRow,
    MailboxRow,
    QueueRow,
)
from allo.store.uow import UnitOfWork

_ADDRESS = re.compile(r"^[a-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[a-z0-9.-]{1,190}\.[a-z]{2,63}$")


def _customer_address(actor: Principal, address: str) -> str | None:
    """The customer's address as this viewer may see it (masked offshore without a basis)."""
    return customer_view(actor.viewer, {"email": address}).get("email")


def _attachments(uow: UnitOfWork, email_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    found: dict[int, list[dict[str, Any]]] = {}
    if not email_ids:
        return found
    rows = uow.session.execute(
        select(
            EmailAttachmentRow.id,
            EmailAttachmentRow.email_id,
            EmailAttachmentRow.filename,
            EmailAttachmentRow.content_type,
            EmailAttachmentRow.size,
            EmailAttachmentRow.sha256,
        )
        .where(EmailAttachmentRow.email_id.in_(email_ids))
        .order_by(EmailAttachmentRow.id)
    ).all()
    for row in rows:
        found.setdefault(row.email_id, []).append(
            {
                "id": row.id,
                "filename": row.filename,
                "content_type": row.content_type,
                "size": row.size,
                "stored": row.sha256 is not None,
            }
        )
    return found


def _message_view(
    actor: Principal, row: EmailRow, attachments: list[dict[str, Any]], body: dict[int, Any]
) -> dict[str, Any]:
    meta = row.meta
    outgoing = row.direction == "out"
    new_text, quoted = body.get(row.id, (str(meta.get("text", "")), ""))
    return {
        "id": row.id,
        "direction": row.direction,
        "kind": row.kind,
        "status": row.status,
        "contact_id": row.contact_id,
        "from_address": row.from_address
        if outgoing
        else _customer_address(actor, row.from_address),
        "to_address": _customer_address(actor, row.to_address) if outgoing else row.to_address,
        "subject": row.subject,
        "body": new_text,
        "quoted": quoted,
        "attachments": attachments,
        "warnings": meta.get("warnings", []),
        "reasons": meta.get("reasons", []),
        "adviser_id": meta.get("adviser_id"),
        "awaits_reply": row.awaits_reply,
        "answered_at": row.answered_at,
        "last_error": row.last_error,
        "created_at": row.created_at,
        "sent_at": row.sent_at,
    }


def _bodies(uow: UnitOfWork, rows: list[EmailRow]) -> dict[int, tuple[str, str]]:
    """New text and quoted history as filed in the conversation (customer emails)."""
    from allo.store.tables import MessageRow

    ids = [r.contact_message_id for r in rows if r.direction == "in" and r.contact_message_id]
    if not ids:
        return {}
    filed = uow.session.scalars(select(MessageRow).where(MessageRow.id.in_(ids))).all()
    by_id = {m.id: m for m in filed}
    result: dict[int, tuple[str, str]] = {}
    for row in rows:
        message = by_id.get(row.contact_message_id or 0)
        if message is not None:
            result[row.id] = (message.body, str(message.meta.get("quoted", "")))
    return result


def thread_view(uow: UnitOfWork, actor: Principal, contact_id: int) -> dict[str, Any]:
    """The whole thread of an email contact, oldest first, as the desk shows it."""
    contact = email_contact(uow, actor, contact_id)
    thread = thread_of_contact(uow, contact)
    rows = list(
        uow.session.scalars(
            select(EmailRow).where(EmailRow.thread_id == thread.id).order_by(EmailRow.id)
        ).all()
    )
    attachments = _attachments(uow, [r.id for r in rows])
    bodies = _bodies(uow, rows)
    uow.audit(
        AuditRow(
            tenant_id=actor.tenant_id,
            user_id=actor.user_id,
            site_id=actor.site_id,
            action="email.read",
            subject_type="email_thread",
            subject_id=thread.id,
            fields={"contact_id": contact.id, "role": actor.role.value},
            at=uow.now(),
        )
    )
    uow.commit()  # the read is on record before the data leaves
    return {
        "id": thread.id,
        "reference": thread.reference,
        "subject": thread.subject,
        "contact_id": thread.contact_id,
        "queue_id": thread.queue_id,
        "customer_id": thread.customer_id,
        "customer_address": _customer_address(actor, thread.customer_address),
        "mailbox": _mailbox_address(uow, thread),
        "created_at": thread.created_at,
        "messages": [_message_view(actor, r, attachments.get(r.id, []), bodies) for r in rows],
    }


def _mailbox_address(uow: UnitOfWork, thread: EmailThreadRow) -> str:
    mailbox = uow.session.get(MailboxRow, thread.mailbox_id)
    return mailbox.address if mailbox else ""


def attachment(
    uow: UnitOfWork, actor: Principal, contact_id: int, attachment_id: int
) -> EmailAttachmentRow:
    contact = email_contact(uow, actor, contact_id)
    thread = thread_of_contact(uow, contact)
    row = uow.session.get(EmailAttachmentRow, attachment_id)
    email = uow.session.get(EmailRow, row.email_id) if row else None
    if row is None or email is None or email.thread_id != thread.id:
        raise NotFound("attachment", attachment_id)
    if row.content is None:
        raise Conflict("attachment", "too large to be extracted: it is kept in the raw message")
    return row


def reply_levels(
    uow: UnitOfWork, actor: Principal, queue_id: int | None, days: int
) -> list[dict[str, Any]]:
    """Reply-time service level of each queue that receives email, over the last `days`."""
    actor.require(Permission.READ_CONTACTS)
    if not 1 <= days <= 90:
        raise InvalidValue("days", "must be between 1 and 90")
    now = uow.now()
    queue_ids = set(
        uow.session.scalars(
            select(MailboxRow.queue_id).where(MailboxRow.tenant_id == actor.tenant_id)
        )
    )
    if queue_id is not None:
        get_for_tenant(uow.session, QueueRow, actor.tenant_id, queue_id)
        queue_ids = {queue_id}
    levels = []
    for queue in uow.session.scalars(
        select(QueueRow).where(QueueRow.id.in_(queue_ids)).order_by(QueueRow.id)
    ):
        waits = uow.session.execute(
            select(EmailRow.created_at, EmailRow.answered_at)
            .join(EmailThreadRow, EmailThreadRow.id == EmailRow.thread_id)
            .where(
                EmailThreadRow.queue_id == queue.id,
                EmailRow.awaits_reply.is_(True),
                EmailRow.created_at >= now - timedelta(days=days),
            )
        ).all()
        level = reply_time_level([(w[0], w[1]) for w in waits], queue.reply_target_seconds, now)
        levels.append(
            {
                "queue_id": queue.id,
                "queue_name": queue.name,
                "days": days,
                "target_seconds": level.target_seconds,
                "percent": level.percent,
                "answered": level.answered,
                "answered_in_time": level.answered_in_time,
                "overdue": level.overdue,
                "pending": level.pending,
                "oldest_waiting_seconds": level.oldest_waiting_seconds,
                "average_reply_seconds": level.average_reply_seconds,
            }
        )
    return levels


def _check_address(address: str) -> str:
    address = address.strip().lower()
    if not _ADDRESS.match(address):
        raise InvalidValue("address", f"{address!r} is not an email address")
    return address


def create_mailbox(uow: UnitOfWork, actor: Principal, data: dict[str, Any]) -> MailboxRow:
    actor.require(Permission.CONFIGURE)
    address = _check_address(data["address"])
    get_for_tenant(uow.session, QueueRow, actor.tenant_id, data["queue_id"])
    if uow.session.scalar(select(MailboxRow.id).where(MailboxRow.address == address)):
        raise Conflict("address", f"{address} already receives mail for a tenant")
    row = MailboxRow(
        tenant_id=actor.tenant_id,
        address=address,
        display_name=data.get("display_name") or "",
        queue_id=data["queue_id"],
        acknowledge=data.get("acknowledge", True),
        created_at=uow.now(),
    )
    uow.session.add(row)
    uow.session.flush()
    payload = {"queue_id": row.queue_id}
    uow.record("email.mailbox_created", actor.tenant_id, "email_mailbox", row.id, payload)
    uow.commit()
    return row


def update_mailbox(
    uow: UnitOfWork, actor: Principal, mailbox_id: int, changes: dict[str, Any]
) -> MailboxRow:
    actor.require(Permission.CONFIGURE)
    row = get_for_tenant(uow.session, MailboxRow, actor.tenant_id, mailbox_id)
    if "queue_id" in changes:
        get_for_tenant(uow.session, QueueRow, actor.tenant_id, changes["queue_id"])
    changed = apply_changes(row, changes)
    if changed:
        payload = {"changed": sorted(changed)}
        uow.record("email.mailbox_updated", actor.tenant_id, "email_mailbox", row.id, payload)
    uow.commit()
    return row


def list_mailboxes(uow: UnitOfWork, actor: Principal) -> list[MailboxRow]:
    actor.require(Permission.READ_CONFIG)
    return list(
        uow.session.scalars(
            select(MailboxRow)
            .where(MailboxRow.tenant_id == actor.tenant_id)
            .order_by(MailboxRow.id)
        ).all()
    )
