"""SQLAlchemy tables: the database is the truth (DESIGN.md, principle 2)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from allo.store.types import UTCDateTime

# Stable constraint names so that Alembic migrations are the same on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# BIGINT on PostgreSQL, INTEGER on SQLite (where only INTEGER PRIMARY KEY autoincrements).
BigId = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        dict[str, Any]: JSON,
        list[Any]: JSON,
        datetime: UTCDateTime,
    }


class TenantRow(Base):
    __tablename__ = "tenants"
    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    widget_key: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]


class SiteRow(Base):
    __tablename__ = "sites"
    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    country: Mapped[str] = mapped_column(String(2))
    timezone: Mapped[str] = mapped_column(String(64))
    languages: Mapped[list[Any]]
    hourly_cost: Mapped[float] = mapped_column(Float)
    currency: Mapped[str] = mapped_column(String(3))
    transfer_basis: Mapped[str] = mapped_column(String(16))
    transfer_module: Mapped[int | None] = mapped_column(Integer, nullable=True)
    transfer_assessed_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    groups: Mapped[list[Any]]
    # Planning settings (services/planning.py): shrinkage, subdiv, Ramadan hours, Friday
    # prayer, Islamic-date shift, holiday overrides, legal-limit overrides.
    planning: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)


class UserRow(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id"), nullable=True)
    adviser_id: Mapped[int | None] = mapped_column(ForeignKey("advisers.id"), nullable=True)
    language: Mapped[str] = mapped_column(String(8), default="fr")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]


class ApiTokenRow(Base):
    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    name: Mapped[str] = mapped_column(String(200))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)


class SessionRow(Base):
    __tablename__ = "sessions"
    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]


class AdviserRow(Base):
    __tablename__ = "advisers"
    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    skills: Mapped[dict[str, Any]]
    languages: Mapped[dict[str, Any]]
    capacity: Mapped[dict[str, Any]]
    state: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class QueueRow(Base):
    __tablename__ = "queues"
    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    required_skills: Mapped[dict[str, Any]]
    language: Mapped[str] = mapped_column(String(8))
    min_language_level: Mapped[int] = mapped_column(Integer)
    sl_percent: Mapped[float] = mapped_column(Float)
    sl_seconds: Mapped[int] = mapped_column(Integer)
    opening_hours: Mapped[dict[str, Any]]
    priority: Mapped[int] = mapped_column(Integer)
    # The routing policy as JSON (see services/routing_policy.py); {} is the default policy.
    routing_policy: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Email reply-time target: a customer email should get an adviser's reply within it.
    reply_target_seconds: Mapped[int] = mapped_column(Integer, default=86_400)
    # Voice calls of this queue are recorded (after the notice is played); off by default
    # (CNIL: recording is not systematic), kept at most `recording_retention_days`.
    recording: Mapped[bool] = mapped_column(Boolean, default=False)
    recording_retention_days: Mapped[int] = mapped_column(Integer, default=183)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)


class CustomerRow(Base):
    __tablename__ = "customers"
    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
    first_name: Mapped[str] = mapped_column(String(200))
    last_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254), nullable=True)
    phone: Mapped[str | None] = mapped_column(String(40), nullable=True)
    address: Mapped[str | None] = mapped_column(String(500), nullable=True)
    iban: Mapped[str | None] = mapped_column(String(40), nullable=True)
    notes: Mapped[str | None] = mapped_column(Text, nullable=True)
    language: Mapped[str] = mapped_column(String(8))
    external_ref: Mapped[str | None] = mapped_column(String(100), nullable=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class ContactRow(Base):
    __tablename__ = "contacts"
    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    queue_id: Mapped[int] = mapped_column(ForeignKey("queues.id"), index=True)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), nullable=True)
    language: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(16))
    adviser_id: Mapped[int | None] = mapped_column(ForeignKey("advisers.id"), nullable=True)
    priority: Mapped[int] = mapped_column(Integer)
    subject: Mapped[str | None] = mapped_column(String(500), nullable=True)
    # The customer's choice of site group ("france"), and whether it is "France only".
    site_group: Mapped[str | None] = mapped_column(String(64), nullable=True)
    site_only: Mapped[bool] = mapped_column(Boolean, default=False)
    offer_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    callback_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    wrap_code: Mapped[str | None] = mapped_column(String(64), nullable=True)
    wrap_notes: Mapped[str | None] = mapped_column(Text, nullable=True)
    resolved: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    satisfaction: Mapped[int | None] = mapped_column(Integer, nullable=True)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    __table_args__ = (
        Index("ix_contacts_tenant_status", "tenant_id", "status"),
        Index("ix_contacts_tenant_created", "tenant_id", "created_at"),
    )


class EventRow(Base):
    __tablename__ = "events"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"))
    type: Mapped[str] = mapped_column(String(64))
    subject_type: Mapped[str] = mapped_column(String(32))
    subject_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
    payload: Mapped[dict[str, Any]]
    occurred_at: Mapped[datetime]
    __table_args__ = (Index("ix_events_tenant_id_id", "tenant_id", "id"),)


class AuditRow(Base):
    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id"), nullable=True)
    action: Mapped[str] = mapped_column(String(32))
    subject_type: Mapped[str] = mapped_column(String(32))
    subject_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
    fields: Mapped[dict[str, Any]]
    at: Mapped[datetime]
    __table_args__ = (Index("ix_audit_tenant_id_id", "tenant_id", "id"),)


class QueueStatusRow(Base):
    """The live router's latest view of a queue, for API workers that do not host it."""

    __tablename__ = "queue_status"
    queue_id: Mapped[int] = mapped_column(ForeignKey("queues.id"), primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
    waiting: Mapped[int] = mapped_column(Integer)
    longest_wait: Mapped[float] = mapped_column(Float)
    estimates: Mapped[list[Any]]
    updated_at: Mapped[datetime]


class MessageRow(Base):
    """One message of a conversation (chat line, email, transcript turn), in order."""

    __tablename__ = "contact_messages"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"))
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id"))
    # customer, adviser, system (announcements) or bot (demo traffic)
    author_kind: Mapped[str] = mapped_column(String(16))
    adviser_id: Mapped[int | None] = mapped_column(ForeignKey("advisers.id"), nullable=True)
    # Never holds payment data in clear: card numbers and IBANs are replaced on the way in.
    body: Mapped[str] = mapped_column(Text)
    # Every personal datum replaced ([NOM], [TÉL]…): what viewers without a transfer basis
    # and the analytics read. Filled by patterns at once, then with names by the insights
    # worker.
    body_redacted: Mapped[str | None] = mapped_column(Text, nullable=True)
    # Channel details: email headers and attachment references, chat client ids…
    meta: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime]
    __table_args__ = (Index("ix_contact_messages_contact_id_id", "contact_id", "id"),)


class ChatSessionRow(Base):
    """A customer's web chat: the resume token (hashed) that lets them come back to it."""

    __tablename__ = "chat_sessions"
    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"))
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id"), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    customer_name: Mapped[str] = mapped_column(String(200))
    # When the customer last opened or closed the chat (its start, its socket).
    last_seen_at: Mapped[datetime]
    disconnected_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    csat_comment: Mapped[str | None] = mapped_column(Text, nullable=True)


class MailboxRow(Base):
    """An address Allo receives mail for (e.g. support@acme.fr), and the queue it feeds."""

    __tablename__ = "email_mailboxes"
    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
    address: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    queue_id: Mapped[int] = mapped_column(ForeignKey("queues.id"))
    acknowledge: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]


class EmailThreadRow(Base):
    """A conversation by email: its reference token and the contact currently answering it."""

    __tablename__ = "email_threads"
    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
    reference: Mapped[str] = mapped_column(String(16), unique=True)
    mailbox_id: Mapped[int] = mapped_column(ForeignKey("email_mailboxes.id"))
    queue_id: Mapped[int] = mapped_column(ForeignKey("queues.id"), index=True)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"), index=True)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), nullable=True)
    customer_address: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(500))
    root_message_id: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class EmailRow(Base):
    """One email in or out, with its raw bytes: what was accepted is kept whole."""

    __tablename__ = "email_messages"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"))
    mailbox_id: Mapped[int] = mapped_column(ForeignKey("email_mailboxes.id"))
    thread_id: Mapped[int | None] = mapped_column(ForeignKey("email_threads.id"), nullable=True)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"), nullable=True)
    contact_message_id: Mapped[int | None] = mapped_column(
        ForeignKey("contact_messages.id"), nullable=True
    )
    direction: Mapped[str] = mapped_column(String(8))  # in, out
    # in: received, routed, kept (machine mail, not routed); out: queued, sent, failed, bounced
    status: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(16))  # customer, bounce, auto, ack, reply
    message_id: Mapped[str] = mapped_column(String(500))
    envelope_from: Mapped[str] = mapped_column(String(254))
    from_address: Mapped[str] = mapped_column(String(254))
    to_address: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(500))
    # Parsed headers, text, warnings and safety reasons (in); text and threading (out).
    meta: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    raw: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    raw_size: Mapped[int] = mapped_column(Integer)
    # A customer email that starts a wait for a reply, and when that reply went out.
    awaits_reply: Mapped[bool] = mapped_column(Boolean, default=False)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_error: Mapped[str | None] = mapped_column(String(500), nullable=True)
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    __table_args__ = (
        UniqueConstraint("tenant_id", "direction", "message_id"),
        Index("ix_email_messages_thread_id_id", "thread_id", "id"),
        Index("ix_email_messages_status", "direction", "status"),
    )


class EmailAttachmentRow(Base):
    __tablename__ = "email_attachments"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"))
    email_id: Mapped[int] = mapped_column(ForeignKey("email_messages.id"), index=True)
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # None when over the size limit: the part then exists only inside the raw message.
    content: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)


# --- Conversation insights (issue 9) -------------------------------------------------------


class InsightTopicRow(Base):
    __tablename__ = "insight_topics"
    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
    label: Mapped[str] = mapped_column(String(200))
    terms: Mapped[list[Any]]
    size: Mapped[int] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime]


class MessageInsightRow(Base):
    """What one customer message says; analytics only ever hold redacted text."""

    __tablename__ = "message_insights"
    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
    message_id: Mapped[int] = mapped_column(BigId, ForeignKey("contact_messages.id"), unique=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id"), index=True)
    intent: Mapped[str] = mapped_column(String(16))
    intent_score: Mapped[float] = mapped_column(Float)
    sentiment: Mapped[str] = mapped_column(String(16))
    sentiment_score: Mapped[float] = mapped_column(Float)
    topic_id: Mapped[int | None] = mapped_column(ForeignKey("insight_topics.id"), nullable=True)
    text_redacted: Mapped[str] = mapped_column(Text)
    redactions: Mapped[dict[str, Any]]
    model_version: Mapped[str] = mapped_column(String(32))
    analysed_at: Mapped[datetime]


class ContactInsightRow(Base):
    """What a whole contact says, with the queue, site and time the voice of the customer
    counts by."""

    __tablename__ = "contact_insights"
    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"))
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id"), unique=True)
    queue_id: Mapped[int] = mapped_column(ForeignKey("queues.id"))
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id"), nullable=True)
    channel: Mapped[str] = mapped_column(String(16))
    intent: Mapped[str] = mapped_column(String(16))
    intent_score: Mapped[float] = mapped_column(Float)
    sentiment: Mapped[str] = mapped_column(String(16))
    sentiment_score: Mapped[float] = mapped_column(Float)
    topic_id: Mapped[int | None] = mapped_column(ForeignKey("insight_topics.id"), nullable=True)
    text_redacted: Mapped[str] = mapped_column(Text)
    model_version: Mapped[str] = mapped_column(String(32))
    contact_at: Mapped[datetime]
    analysed_at: Mapped[datetime]
    __table_args__ = (Index("ix_contact_insights_tenant_at", "tenant_id", "contact_at"),)


class IdeaRow(Base):
    """An idea on the board: proposed from a contact (staff publish it) or submitted by a
    customer on the public page. Text is redacted and screened before it is stored."""

    __tablename__ = "ideas"
    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    origin: Mapped[str] = mapped_column(String(16))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"), nullable=True)
    status: Mapped[str] = mapped_column(String(16))
    answer: Mapped[str | None] = mapped_column(Text, nullable=True)
    votes: Mapped[int] = mapped_column(Integer)
    submitter_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    __table_args__ = (Index("ix_ideas_submitter_at", "submitter_hash", "created_at"),)


class IdeaVoteRow(Base):
    """One vote per voter and idea; voter and address are kept only as salted hashes."""

    __tablename__ = "idea_votes"
    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
    idea_id: Mapped[int] = mapped_column(ForeignKey("ideas.id"))
    voter_hash: Mapped[str] = mapped_column(String(64))
    ip_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    __table_args__ = (
        UniqueConstraint("idea_id", "voter_hash"),
        Index("ix_idea_votes_ip_at", "ip_hash", "created_at"),
    )


class PlanRow(Base):
    """A workforce plan run: what was asked, and the result (summary and per-interval series)."""

    __tablename__ = "plans"
    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"))
    created_at: Mapped[datetime]
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    parameters: Mapped[dict[str, Any]]
    result: Mapped[dict[str, Any]]
    __table_args__ = (Index("ix_plans_tenant_id_id", "tenant_id", "id"),)


class RecordingRow(Base):
    """One voice call's recording: a WAV file under the data dir, removed at `expires_at`."""

    __tablename__ = "recordings"
    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"))
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id"), index=True)
    path: Mapped[str] = mapped_column(String(500))
    duration_seconds: Mapped[float] = mapped_column(Float)
    # [[start, end], ...] seconds from the start of the file where recording was paused.
    paused_spans: Mapped[list[Any]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    __table_args__ = (Index("ix_recordings_tenant_id_id", "tenant_id", "id"),)
