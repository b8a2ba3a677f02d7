"""Email for the desk (thread, reply, attachments), the wall (reply-time SL) and admins."""

from __future__ import annotations

import random
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Query, Response

from allo.api.deps import Actor, Uow, api_router
from allo.api.schemas import changes_of, creation_of
from allo.api.schemas_email import (
    EmailOut,
    MailboxIn,
    MailboxList,
    MailboxOut,
    MailboxPatch,
    ReplyIn,
    ReplyLevelList,
    ThreadOut,
)
from allo.services import email_desk, email_outbound

router = api_router(prefix="/api/v1", tags=["email"])
Days = Annotated[int, Query(ge=1, le=90)]


@router.get("/contacts/{contact_id}/email", response_model=ThreadOut)
def read_thread(contact_id: int, uow: Uow, actor: Actor) -> Any:
    """The email thread of a contact, oldest first; each message's quoted history apart."""
    return email_desk.thread_view(uow, actor, contact_id)


@router.post("/contacts/{contact_id}/email/reply", response_model=EmailOut, status_code=201)
def reply(contact_id: int, body: ReplyIn, uow: Uow, actor: Actor) -> Any:
    """The handling adviser answers; the mail worker sends it with threading headers."""
    sent = email_outbound.reply(uow, actor, contact_id, body.body, random.SystemRandom())
    thread = email_desk.thread_view(uow, actor, contact_id)
    return next(m for m in thread["messages"] if m["id"] == sent.id)


@router.get("/contacts/{contact_id}/email/attachments/{attachment_id}")
def download_attachment(contact_id: int, attachment_id: int, uow: Uow, actor: Actor) -> Response:
    """Always a download (never rendered inline), whatever type the sender declared."""
    row = email_desk.attachment(uow, actor, contact_id, attachment_id)
    assert row.content is not None
    disposition = f"attachment; filename*=UTF-8''{quote(row.filename)}"
    return Response(
        row.content,
        media_type="application/octet-stream",
        headers={"Content-Disposition": disposition, "X-Content-Type-Options": "nosniff"},
    )


@router.get("/email/service-level", response_model=ReplyLevelList)
def service_level(uow: Uow, actor: Actor, queue_id: int | None = None, days: Days = 7) -> Any:
    """Share of customer emails answered within each email queue's reply-time target."""
    return {"items": email_desk.reply_levels(uow, actor, queue_id, days)}


@router.get("/email/mailboxes", response_model=MailboxList)
def list_mailboxes(uow: Uow, actor: Actor) -> Any:
    return {"items": email_desk.list_mailboxes(uow, actor)}


@router.post("/email/mailboxes", response_model=MailboxOut, status_code=201)
def create_mailbox(body: MailboxIn, uow: Uow, actor: Actor) -> Any:
    """An address Allo receives for (point its MX, or an IMAP poller, at Allo)."""
    return email_desk.create_mailbox(uow, actor, creation_of(body))


@router.patch("/email/mailboxes/{mailbox_id}", response_model=MailboxOut)
def update_mailbox(mailbox_id: int, body: MailboxPatch, uow: Uow, actor: Actor) -> Any:
    return email_desk.update_mailbox(uow, actor, mailbox_id, changes_of(body))
