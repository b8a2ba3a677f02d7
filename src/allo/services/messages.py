"""Messages of a conversation: chat lines, emails, announcements."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table, select

from allo.domain.customers import PrivacyClass
from allo.domain.errors import InvalidValue
from allo.domain.privacy import Viewer, Visibility, visibility
from allo.domain.roles import Permission, Role
from allo.insights.redaction import Redactor, strip_payment_data
from allo.services.errors import Forbidden
from allo.services.principal import Principal
from allo.store.repository import get_for_tenant
from allo.store.tables import AuditRow, ContactRow, MessageInsightRow, MessageRow
from allo.store.uow import UnitOfWork

MESSAGES: Table = MessageRow.__table__  # type: ignore[assignment]
AUTHOR_KINDS = ("customer", "adviser", "system", "bot")
CHAT_MAX_BYTES = 4096
PATTERN_REDACTOR = Redactor()  # no name finder: cheap enough for the request path


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
    # Payment data never stored in clear; the pattern redaction is there at once for viewers
    # without a transfer basis, the insights worker adds names afterwards.
    stored = strip_payment_data(check_body(body, max_bytes))
    values = {
        "tenant_id": contact.tenant_id,
        "contact_id": contact.id,
        "author_kind": author_kind,
        "adviser_id": adviser_id,
        "body": stored,
        "body_redacted": PATTERN_REDACTOR.redact(stored).text,
        "meta": meta or {},
        "created_at": uow.now(),
    }
    # Written with a plain insert (the hottest write of the live path); the row returned is
    # a detached copy of what was stored, for the caller and this process's pushes.
    uow.session.flush()  # the contact's pending changes first
    row = MessageRow(id=uow.insert(MESSAGES, values), **values)
    payload = {
        "message_id": row.id,
        "author_kind": author_kind,
        "adviser_id": adviser_id,
        "handled_by": contact.adviser_id,
    }
    uow.record("message.created", contact.tenant_id, "contact", contact.id, payload, local=row)
    uow.commit()
    return row


def check_reader(actor: Principal, contact: ContactRow) -> None:
    """Whoever reads contacts may list a conversation; what its text shows depends on the
    viewer (`message_view`) and every read of text is audited."""
    actor.require(Permission.READ_CONTACTS)


def check_handler_or_supervisor(actor: Principal, contact: ContactRow) -> None:
    """For views that show the text as it is (an email thread): supervisors and admins, or the
    adviser handling the contact."""
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


def message_view(
    row: MessageRow, viewer: Viewer, insight: MessageInsightRow | None = None
) -> dict[str, Any]:
    """A message as this viewer may read it: clear, redacted ([NOM], [TÉL]…) for a site
    without a transfer basis, or without its text for roles that read no customer file."""
    seen = visibility(viewer, PrivacyClass.FREE_TEXT)
    if seen is Visibility.CLEAR:
        body: str | None = row.body
    elif seen is Visibility.MASKED:
        body = row.body_redacted or PATTERN_REDACTOR.redact(row.body).text
    else:
        body = None
    return {
        "id": row.id,
        "contact_id": row.contact_id,
        "author": row.author_kind,
        "body": body,
        "redacted": seen is not Visibility.CLEAR,
        "at": row.created_at.isoformat(),
        "bot": bool(row.meta.get("bot")),
        "adviser_id": row.adviser_id,
        "intent": insight.intent if insight else None,
        "sentiment": insight.sentiment if insight else None,
    }


def list_messages(
    uow: UnitOfWork, actor: Principal, contact_id: int, after: int = 0
) -> list[dict[str, Any]]:
    """The conversation as the actor may read it; every read of its text is audited."""
    contact = get_for_tenant(uow.session, ContactRow, actor.tenant_id, contact_id)
    check_reader(actor, contact)
    rows = uow.session.scalars(
        select(MessageRow)
        .where(MessageRow.contact_id == contact_id, MessageRow.id > after)
        .order_by(MessageRow.id)
    ).all()
    readings = {
        m.message_id: m
        for m in uow.session.scalars(
            select(MessageInsightRow).where(MessageInsightRow.contact_id == contact_id)
        )
    }
    out = [message_view(row, actor.viewer, readings.get(row.id)) for row in rows]
    seen = visibility(actor.viewer, PrivacyClass.FREE_TEXT)
    if rows and seen is not Visibility.HIDDEN:
        uow.audit(
            AuditRow(
                tenant_id=actor.tenant_id,
                user_id=actor.user_id,
                site_id=actor.site_id,
                action="contact.messages.read",
                subject_type="contact",
                subject_id=contact_id,
                fields={
                    "messages": len(rows),
                    "visibility": seen.value,
                    "role": actor.role.value,
                },
                at=uow.now(),
            )
        )
        uow.commit()  # the audit entry is stored before the text leaves
    return out
