"""Request and response bodies of the email endpoints (kept apart from schemas.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field

from allo.api.schemas import Out, Strict

Address = Annotated[str, Field(min_length=3, max_length=254)]


class MailboxIn(Strict):
    address: Address
    queue_id: int
    display_name: Annotated[str, Field(max_length=200)] = ""
    acknowledge: bool = True


class MailboxPatch(Strict):
    queue_id: int | None = None
    display_name: Annotated[str, Field(max_length=200)] | None = None
    acknowledge: bool | None = None


class MailboxOut(Out):
    id: int
    address: str
    display_name: str
    queue_id: int
    acknowledge: bool
    created_at: datetime


class MailboxList(BaseModel):
    items: list[MailboxOut]


class AttachmentOut(BaseModel):
    id: int
    filename: str
    content_type: str
    size: int
    stored: bool  # false: over the size limit, kept only inside the raw message


class EmailOut(BaseModel):
    id: int
    direction: str  # in, out
    kind: str  # customer, bounce, auto (in); ack, reply (out)
    status: str  # routed, kept (in); queued, sent, failed, bounced (out)
    contact_id: int | None
    from_address: str | None
    to_address: str | None
    subject: str
    body: str  # new text only, plain (HTML was turned into text)
    quoted: str  # the quoted history, to show collapsed
    attachments: list[AttachmentOut]
    warnings: list[str]
    reasons: list[str]  # why a machine's mail was kept and not routed
    adviser_id: int | None
    awaits_reply: bool
    answered_at: datetime | None
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None


class ThreadOut(BaseModel):
    id: int
    reference: str
    subject: str
    contact_id: int | None  # the contact answering the thread now
    queue_id: int
    customer_id: int | None
    customer_address: str | None
    mailbox: str
    created_at: datetime
    messages: list[EmailOut]


class ReplyIn(Strict):
    body: Annotated[str, Field(min_length=1, max_length=60_000)]


class ReplyLevelOut(BaseModel):
    queue_id: int
    queue_name: str
    days: int
    target_seconds: int
    percent: float | None  # answered within target / (answered + overdue); None if none due
    answered: int
    answered_in_time: int
    overdue: int
    pending: int
    oldest_waiting_seconds: float
    average_reply_seconds: float | None


class ReplyLevelList(BaseModel):
    items: list[ReplyLevelOut]
