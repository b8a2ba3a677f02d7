"""Email Allo sends: advisers' replies and acknowledgements, through an outbox.

A reply is committed with its conversation message and its outbox row in one transaction;
the mail worker (`allo mail`) delivers the outbox with retries, so the adviser's answer is
never lost to an SMTP server that is down for a while.
"""

from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy import select, update

from allo.domain.email import references_for_reply, reply_subject
from allo.domain.errors import InvalidValue
from allo.domain.roles import Permission, Role
from allo.i18n import t
from allo.services import messages
from allo.services.errors import Conflict, Forbidden, NotFound
from allo.services.principal import Principal
from allo.store.repository import get_for_tenant
from allo.store.tables import ContactRow, EmailRow, EmailThreadRow, MailboxRow
from allo.store.uow import UnitOfWork

REPLY_MAX_BYTES = 64 * 1024
MAX_BACKOFF = timedelta(hours=1)
# A worker that claimed a message and died leaves it to be sent again after this lease.
SEND_LEASE = timedelta(minutes=5)


def loop_token(tenant_id: int) -> str:
    return f"allo tenant={tenant_id}"


def queue_outgoing(
    uow: UnitOfWork,
    thread: EmailThreadRow,
    mailbox: MailboxRow,
    *,
    parent: EmailRow,
    kind: str,
    subject: str,
    text: str,
    rng: random.Random,
    adviser_id: int | None = None,
) -> EmailRow:
    """Add an outgoing email to the outbox (the caller commits)."""
    domain = mailbox.address.partition("@")[2] or "allo.invalid"
    parent_refs = parent.meta.get("references") or parent.meta.get("in_reply_to") or []
    row = EmailRow(
        tenant_id=thread.tenant_id,
        mailbox_id=mailbox.id,
        thread_id=thread.id,
        contact_id=thread.contact_id,
        direction="out",
        status="queued",
        kind=kind,
        message_id=f"{rng.getrandbits(64):016x}.{thread.reference.lower()}@{domain}",
        # RFC 3834 §3.3: automatic responses go out with a null return path.
        envelope_from="" if kind == "ack" else mailbox.address,
        from_address=mailbox.address,
        to_address=thread.customer_address,
        subject=subject[:500],
        meta={
            "text": text,
            "from_name": mailbox.display_name,
            "in_reply_to": parent.message_id,
            "references": list(references_for_reply(parent.message_id, parent_refs)),
            "adviser_id": adviser_id,
        },
        raw=None,
        raw_size=0,
        awaits_reply=False,
        attempts=0,
        next_attempt_at=uow.now(),
        created_at=uow.now(),
    )
    uow.session.add(row)
    uow.session.flush()
    payload = {"kind": kind, "thread_id": thread.id, "adviser_id": adviser_id}
    uow.record("email.queued", thread.tenant_id, "email", row.id, payload)
    return row


def thread_of_contact(uow: UnitOfWork, contact: ContactRow) -> EmailThreadRow:
    """The thread a contact answers (a reopened thread has older contacts too)."""
    thread = uow.session.scalar(
        select(EmailThreadRow).where(EmailThreadRow.contact_id == contact.id)
    )
    if thread is None:
        thread_id = uow.session.scalar(
            select(EmailRow.thread_id)
            .where(EmailRow.contact_id == contact.id, EmailRow.thread_id.is_not(None))
            .limit(1)
        )
        thread = uow.session.get(EmailThreadRow, thread_id) if thread_id else None
    if thread is None or thread.tenant_id != contact.tenant_id:
        raise NotFound("email_thread", f"of contact {contact.id}")
    return thread


def email_contact(uow: UnitOfWork, actor: Principal, contact_id: int) -> ContactRow:
    contact = get_for_tenant(uow.session, ContactRow, actor.tenant_id, contact_id)
    messages.check_handler_or_supervisor(actor, contact)
    if contact.channel != "email":
        raise Conflict("channel", f"contact {contact_id} is a {contact.channel}, not an email")
    return contact


def _last_customer_email(uow: UnitOfWork, thread: EmailThreadRow) -> EmailRow:
    parent = uow.session.scalar(
        select(EmailRow)
        .where(
            EmailRow.thread_id == thread.id,
            EmailRow.direction == "in",
            EmailRow.kind == "customer",
        )
        .order_by(EmailRow.id.desc())
        .limit(1)
    )
    if parent is None:
        raise Conflict("thread", "this thread has no customer email to answer")
    return parent


def _quoted(parent: EmailRow, language: str) -> str:
    header = t(
        "email.quote_header",
        language,
        date=parent.created_at.strftime("%Y-%m-%d %H:%M UTC"),
        sender=parent.from_address,
    )
    lines = str(parent.meta.get("text", "")).splitlines()[:200]
    return header + "\n" + "\n".join(f"> {line}" for line in lines)


def reply(
    uow: UnitOfWork, actor: Principal, contact_id: int, body: str, rng: random.Random
) -> EmailRow:
    """The adviser handling the contact answers; the reply-time clock of the thread stops."""
    actor.require(Permission.WRITE_CONTACTS)
    get_for_tenant(uow.session, ContactRow, actor.tenant_id, contact_id)  # 404 before 403
    if actor.role is not Role.ADVISER:
        raise Forbidden("only the adviser handling the contact answers it")
    contact = email_contact(uow, actor, contact_id)  # another adviser's contact: Forbidden
    if contact.status not in ("in_progress", "wrap_up"):
        raise Conflict("status", f"a contact {contact.status} takes no reply")
    text = messages.check_body(body, REPLY_MAX_BYTES)
    thread = thread_of_contact(uow, contact)
    if thread.contact_id != contact.id:
        raise Conflict("contact", "the thread was reopened on a newer contact: answer there")
    mailbox = uow.session.get(MailboxRow, thread.mailbox_id)
    if mailbox is None:
        raise InvalidValue("mailbox", "the thread's mailbox no longer exists")
    parent = _last_customer_email(uow, thread)
    sent = queue_outgoing(
        uow,
        thread,
        mailbox,
        parent=parent,
        kind="reply",
        subject=reply_subject(thread.subject or parent.subject, thread.reference),
        text=text + "\n\n" + _quoted(parent, contact.language),
        rng=rng,
        adviser_id=actor.adviser_id,
    )
    now = uow.now()
    uow.session.execute(
        update(EmailRow)
        .where(
            EmailRow.thread_id == thread.id,
            EmailRow.awaits_reply.is_(True),
            EmailRow.answered_at.is_(None),
        )
        .values(answered_at=now)
    )
    thread.updated_at = now
    message = messages.add_message(
        uow,
        contact,
        "adviser",
        text,
        adviser_id=actor.adviser_id,
        meta={"email_id": sent.id, "kind": "reply"},
        max_bytes=REPLY_MAX_BYTES,
    )
    sent.contact_message_id = message.id
    uow.commit()
    return sent


def due_outgoing(uow: UnitOfWork, limit: int = 50) -> list[EmailRow]:
    return list(
        uow.session.scalars(
            select(EmailRow)
            .where(
                EmailRow.direction == "out",
                EmailRow.status == "queued",
                EmailRow.next_attempt_at <= uow.now(),
            )
            .order_by(EmailRow.id)
            .limit(limit)
        ).all()
    )


def claim_outgoing(uow: UnitOfWork, email_id: int) -> bool:
    """Take a due message for sending; False when another worker has it (conditional write)."""
    now = uow.now()
    result = uow.session.execute(
        update(EmailRow)
        .where(
            EmailRow.id == email_id,
            EmailRow.status == "queued",
            EmailRow.next_attempt_at <= now,
        )
        .values(next_attempt_at=now + SEND_LEASE)
    )
    uow.commit()
    return bool(getattr(result, "rowcount", 0) == 1)


def mark_sent(uow: UnitOfWork, email_id: int, raw: bytes) -> None:
    row = uow.session.get(EmailRow, email_id)
    assert row is not None
    if row.status == "queued":  # a bounce may already have come back for it
        row.status = "sent"
    row.raw = raw
    row.raw_size = len(raw)
    row.attempts += 1
    row.sent_at = uow.now()
    row.next_attempt_at = None
    row.last_error = None
    uow.record("email.sent", row.tenant_id, "email", row.id, {"kind": row.kind})
    uow.commit()


def mark_failed(
    uow: UnitOfWork, email_id: int, error: str, *, permanent: bool, max_attempts: int
) -> None:
    """A temporary failure is retried later (doubling delay, at most an hour)."""
    row = uow.session.get(EmailRow, email_id)
    assert row is not None
    row.attempts += 1
    row.last_error = error[:500]
    if permanent or row.attempts >= max_attempts:
        row.status = "failed"
        row.next_attempt_at = None
        payload = {"kind": row.kind, "attempts": row.attempts}
        uow.record("email.failed", row.tenant_id, "email", row.id, payload)
    else:
        delay = min(timedelta(seconds=30 * 2 ** (row.attempts - 1)), MAX_BACKOFF)
        row.next_attempt_at = uow.now() + delay
    uow.commit()
