"""Received email: stored whole first, then threaded, routed as a contact and acknowledged.

`receive` is what the SMTP listener and the IMAP poller call before they say "accepted"
(SMTP 250, IMAP \\Seen): it commits the raw bytes and what was parsed of them. `route`
then joins the message to its thread and to a contact; it may be run again on a message
left `received` by a crash (`route_pending`) and does nothing twice.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from allo.domain.contacts import FINAL_STATUSES, ContactStatus
from allo.domain.email import (
    InboundEmail,
    Verdict,
    base_subject,
    classify,
    hours_text,
    new_reference,
    reference_in,
    reply_subject,
    split_quoted,
)
from allo.i18n import t
from allo.services import contacts, customers, messages
from allo.services.principal import system_principal
from allo.store.tables import (
    ContactRow,
    CustomerRow,
    EmailAttachmentRow,
    EmailRow,
    EmailThreadRow,
    MailboxRow,
    QueueRow,
)
from allo.store.uow import UnitOfWork

EMAIL_PRIORITY = -10  # below voice and chat of the same queue; email is a gap filler too


@dataclass(frozen=True, slots=True)
class MailLimits:
    body_max_bytes: int = 256 * 1024
    acks_per_sender_per_day: int = 3


def mailbox_for(uow: UnitOfWork, address: str) -> MailboxRow | None:
    """The mailbox of any tenant that receives for this address (RCPT TO is checked here)."""
    return uow.session.scalar(
        select(MailboxRow).where(MailboxRow.address == address.strip().lower())
    )


def own_addresses(uow: UnitOfWork, tenant_id: int) -> frozenset[str]:
    rows = uow.session.scalars(select(MailboxRow.address).where(MailboxRow.tenant_id == tenant_id))
    return frozenset(rows)


def _message_key(message: InboundEmail, raw: bytes) -> str:
    """The Message-ID, or a digest of the bytes when a sender forgot it (still deduplicated)."""
    if message.message_id:
        return message.message_id[:500]
    return f"sha256-{hashlib.sha256(raw).hexdigest()}@allo.invalid"


def _meta_of(message: InboundEmail) -> dict[str, Any]:
    return {
        "from_name": message.from_name[:200],
        "reply_to": message.reply_to,
        "to": list(message.to[:20]),
        "in_reply_to": list(message.in_reply_to),
        "references": list(message.references),
        "bounce_of": list(message.bounce_of),
        "is_report": message.is_report,
        "hops": message.hops,
        "headers": dict(message.headers),
        "text": message.text,
        "warnings": list(message.warnings),
    }


def receive(
    uow: UnitOfWork,
    raw: bytes,
    message: InboundEmail,
    envelope_from: str,
    recipients: Sequence[str],
) -> list[int]:
    """Store one received message for each mailbox it is addressed to; duplicates (same
    Message-ID in the same tenant) are dropped. Returns the ids of the new rows."""
    key = _message_key(message, raw)
    stored: list[int] = []
    tenants_done: set[int] = set()
    for address in dict.fromkeys(r.strip().lower() for r in recipients):
        mailbox = mailbox_for(uow, address)
        if mailbox is None or mailbox.tenant_id in tenants_done:
            continue
        tenants_done.add(mailbox.tenant_id)
        row_id = _store_once(uow, raw, message, key, envelope_from, mailbox)
        if row_id is not None:
            stored.append(row_id)
    return stored


def _store_once(
    uow: UnitOfWork,
    raw: bytes,
    message: InboundEmail,
    key: str,
    envelope_from: str,
    mailbox: MailboxRow,
) -> int | None:
    if _known(uow, mailbox.tenant_id, key):
        return None
    row = EmailRow(
        tenant_id=mailbox.tenant_id,
        mailbox_id=mailbox.id,
        direction="in",
        status="received",
        kind="customer",
        message_id=key,
        envelope_from=envelope_from[:254],
        from_address=(message.from_address or "")[:254],
        to_address=mailbox.address,
        subject=message.subject[:500],
        meta=_meta_of(message),
        raw=raw,
        raw_size=len(raw),
        awaits_reply=False,
        attempts=0,
        created_at=uow.now(),
    )
    uow.session.add(row)
    try:
        uow.session.flush()
        for attachment in message.attachments:
            uow.session.add(
                EmailAttachmentRow(
                    tenant_id=mailbox.tenant_id,
                    email_id=row.id,
                    filename=attachment.filename,
                    content_type=attachment.content_type,
                    size=attachment.size,
                    sha256=hashlib.sha256(attachment.content).hexdigest()
                    if attachment.content is not None
                    else None,
                    content=attachment.content,
                )
            )
        uow.commit()
    except IntegrityError:  # the same message arrived twice at once: the other copy won
        uow.session.rollback()
        return None
    return row.id


def _known(uow: UnitOfWork, tenant_id: int, key: str) -> bool:
    found = uow.session.scalar(
        select(EmailRow.id).where(
            EmailRow.tenant_id == tenant_id, EmailRow.direction == "in", EmailRow.message_id == key
        )
    )
    return found is not None


def _verdict(uow: UnitOfWork, row: EmailRow) -> Verdict:
    meta = row.meta
    parsed = InboundEmail(
        message_id=row.message_id,
        in_reply_to=(),
        references=(),
        from_address=row.from_address or None,
        from_name="",
        reply_to=None,
        to=(),
        subject=row.subject,
        text="",
        headers=meta.get("headers", {}),
        hops=int(meta.get("hops", 0)),
        is_report=bool(meta.get("is_report")),
    )
    return classify(parsed, row.envelope_from or None, own_addresses(uow, row.tenant_id))


def _find_thread(uow: UnitOfWork, row: EmailRow) -> EmailThreadRow | None:
    """By the headers first (our own sent ids included), then by the token in the subject."""
    meta = row.meta
    ids = [*meta.get("in_reply_to", []), *meta.get("references", []), *meta.get("bounce_of", [])]
    session = uow.session
    root = session.scalar(
        select(EmailThreadRow).where(
            EmailThreadRow.tenant_id == row.tenant_id,
            EmailThreadRow.root_message_id == row.message_id,
        )
    )
    if root is not None:
        return root  # routing this message was interrupted after its thread was made
    if ids:
        thread_id = session.scalar(
            select(EmailRow.thread_id)
            .where(
                EmailRow.tenant_id == row.tenant_id,
                EmailRow.message_id.in_(ids[-50:]),
                EmailRow.thread_id.is_not(None),
            )
            .order_by(EmailRow.id.desc())
            .limit(1)
        )
        if thread_id is not None:
            return session.get(EmailThreadRow, thread_id)
    reference = reference_in(row.subject)
    if reference is None:
        return None
    return session.scalar(
        select(EmailThreadRow).where(
            EmailThreadRow.tenant_id == row.tenant_id, EmailThreadRow.reference == reference
        )
    )


def route_pending(uow: UnitOfWork, limits: MailLimits, rng: random.Random) -> int:
    """Route what a crash left stored but not routed; returns how many were routed."""
    ids = uow.session.scalars(
        select(EmailRow.id)
        .where(EmailRow.direction == "in", EmailRow.status == "received")
        .order_by(EmailRow.id)
        .limit(500)
    ).all()
    for email_id in ids:
        route(uow, email_id, limits, rng)
    return len(ids)


def route(uow: UnitOfWork, email_id: int, limits: MailLimits, rng: random.Random) -> None:
    row = uow.session.get(EmailRow, email_id)
    if row is None or row.status != "received":
        return
    verdict = _verdict(uow, row)
    thread = _find_thread(uow, row)
    if not verdict.route:
        _keep(uow, row, thread, verdict)
        return
    mailbox = uow.session.get(MailboxRow, row.mailbox_id)
    assert mailbox is not None
    new_thread = thread is None
    if thread is None:
        thread = _new_thread(uow, row, mailbox, rng)
    contact = _contact_for(uow, thread, row)
    _file_message(uow, row, thread, contact, limits)
    if new_thread and mailbox.acknowledge and _may_acknowledge(uow, row, limits):
        _acknowledge(uow, row, thread, contact, mailbox, rng)


def _keep(uow: UnitOfWork, row: EmailRow, thread: EmailThreadRow | None, verdict: Verdict) -> None:
    """A machine's mail: kept and linked to its thread, never work nor an answer."""
    row.status = "kept"
    row.kind = "bounce" if "bounce" in verdict.reasons else "auto"
    row.meta = {**row.meta, "reasons": list(verdict.reasons)}
    if thread is not None:
        row.thread_id = thread.id
        row.contact_id = thread.contact_id
    if row.kind == "bounce":
        _mark_bounced(uow, row)
    payload = {"routed": False, "reasons": list(verdict.reasons), "thread_id": row.thread_id}
    uow.record("email.received", row.tenant_id, "email", row.id, payload)
    uow.commit()


def _mark_bounced(uow: UnitOfWork, row: EmailRow) -> None:
    quoted = row.meta.get("bounce_of", [])
    if not quoted:
        return
    for sent in uow.session.scalars(
        select(EmailRow).where(
            EmailRow.tenant_id == row.tenant_id,
            EmailRow.direction == "out",
            EmailRow.message_id.in_(quoted),
        )
    ):
        sent.status = "bounced"
        sent.last_error = f"bounce received as email {row.id}"
        uow.record("email.bounced", row.tenant_id, "email", sent.id, {"bounce_id": row.id})


def _new_thread(
    uow: UnitOfWork, row: EmailRow, mailbox: MailboxRow, rng: random.Random
) -> EmailThreadRow:
    reference = new_reference(rng)
    while uow.session.scalar(
        select(EmailThreadRow.id).where(EmailThreadRow.reference == reference)
    ):
        reference = new_reference(rng)
    now = uow.now()
    thread = EmailThreadRow(
        tenant_id=row.tenant_id,
        reference=reference,
        mailbox_id=mailbox.id,
        queue_id=mailbox.queue_id,
        contact_id=None,
        customer_id=_customer_for(uow, row),
        customer_address=_answer_address(row),
        subject=base_subject(row.subject)[:500],
        root_message_id=row.message_id,
        created_at=now,
        updated_at=now,
    )
    uow.session.add(thread)
    uow.session.flush()
    return thread


def _answer_address(row: EmailRow) -> str:
    """Replies go where the customer asked (Reply-To), else to the sender."""
    reply_to = row.meta.get("reply_to")
    return str(reply_to or row.from_address)[:254]


def _customer_for(uow: UnitOfWork, row: EmailRow) -> int:
    address = row.from_address.lower()
    found = uow.session.scalar(
        select(CustomerRow.id)
        .where(CustomerRow.tenant_id == row.tenant_id, func.lower(CustomerRow.email) == address)
        .order_by(CustomerRow.id)
        .limit(1)
    )
    if found is not None:
        return found
    name = str(row.meta.get("from_name") or "").split()
    first = (name[0] if name else address.split("@")[0]) or address
    last = " ".join(name[1:]) or "-"
    data = {"first_name": first[:200], "last_name": last[:200], "email": address}
    return customers.create_customer(uow, system_principal(row.tenant_id), data)


def _contact_for(uow: UnitOfWork, thread: EmailThreadRow, row: EmailRow) -> ContactRow:
    """The thread's live contact, or a new one (first message, or the last one was closed)."""
    if thread.contact_id is not None:
        current = uow.session.get(ContactRow, thread.contact_id)
        if current is not None and ContactStatus(current.status) not in FINAL_STATUSES:
            return current
    queue = uow.session.get(QueueRow, thread.queue_id)
    assert queue is not None
    data = {
        "channel": "email",
        "queue_id": thread.queue_id,
        "customer_id": thread.customer_id,
        "subject": (thread.subject or row.subject)[:500] or None,
        "priority": EMAIL_PRIORITY,
    }
    contact = contacts.create_contact(uow, system_principal(thread.tenant_id), data)
    reopened = thread.contact_id is not None
    thread.contact_id = contact.id
    thread.updated_at = uow.now()
    if reopened:
        payload = {"thread_id": thread.id, "contact_id": contact.id}
        uow.record("email.thread_reopened", thread.tenant_id, "email_thread", thread.id, payload)
    uow.commit()
    return contact


def _truncated(text: str, max_bytes: int) -> tuple[str, bool]:
    data = text.encode("utf-8")
    if len(data) <= max_bytes:
        return text, False
    return data[: max_bytes - 64].decode("utf-8", errors="ignore"), True


def _file_message(
    uow: UnitOfWork,
    row: EmailRow,
    thread: EmailThreadRow,
    contact: ContactRow,
    limits: MailLimits,
) -> None:
    text, quoted = split_quoted(str(row.meta.get("text", "")))
    body, cut = _truncated(text, limits.body_max_bytes - 64)
    if cut:
        body += "\n" + t("email.truncated", contact.language)
    if not body.strip():
        body = t("email.no_text", contact.language)
    waiting = uow.session.scalar(
        select(func.count(EmailRow.id)).where(
            EmailRow.thread_id == thread.id,
            EmailRow.awaits_reply.is_(True),
            EmailRow.answered_at.is_(None),
        )
    )
    row.status = "routed"
    row.thread_id = thread.id
    row.contact_id = contact.id
    row.awaits_reply = not waiting  # the reply-time clock starts at the first unanswered mail
    meta = {
        "email_id": row.id,
        "message_id": row.message_id,
        "subject": row.subject,
        "quoted": _truncated(quoted, limits.body_max_bytes)[0],
        "warnings": row.meta.get("warnings", []),
    }
    message = messages.add_message(
        uow, contact, "customer", body, meta=meta, max_bytes=limits.body_max_bytes
    )
    row.contact_message_id = message.id
    payload = {"routed": True, "thread_id": thread.id, "contact_id": contact.id}
    uow.record("email.received", row.tenant_id, "email", row.id, payload)
    uow.commit()


def _may_acknowledge(uow: UnitOfWork, row: EmailRow, limits: MailLimits) -> bool:
    """A few acknowledgements per address a day at most: a loop we did not detect stops."""
    since = uow.now() - timedelta(days=1)
    sent = uow.session.scalar(
        select(func.count(EmailRow.id)).where(
            EmailRow.tenant_id == row.tenant_id,
            EmailRow.direction == "out",
            EmailRow.kind == "ack",
            EmailRow.to_address == _answer_address(row),
            EmailRow.created_at >= since,
        )
    )
    return (sent or 0) < limits.acks_per_sender_per_day


def _acknowledge(
    uow: UnitOfWork,
    row: EmailRow,
    thread: EmailThreadRow,
    contact: ContactRow,
    mailbox: MailboxRow,
    rng: random.Random,
) -> None:
    from allo.services.email_outbound import queue_outgoing

    queue = uow.session.get(QueueRow, thread.queue_id)
    assert queue is not None
    text = t(
        "email.ack_body",
        contact.language,
        reference=thread.reference,
        delay=hours_text(queue.reply_target_seconds),
        subject=thread.subject or "…",
    )
    sent = queue_outgoing(
        uow,
        thread,
        mailbox,
        parent=row,
        kind="ack",
        subject=reply_subject(row.subject, thread.reference),
        text=text,
        rng=rng,
    )
    note = t("email.ack_sent", contact.language, reference=thread.reference)
    messages.add_message(uow, contact, "system", note, meta={"email_id": sent.id, "kind": "ack"})
