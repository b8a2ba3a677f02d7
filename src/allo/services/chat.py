"""Web chat for customers: start, resume with a token, write, leave, rate.

Customers are not users: the widget key names the tenant and a resume token (stored hashed)
names the chat. Everything they do is written by the platform on their behalf.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from allo.domain.channels import Channel
from allo.domain.errors import InvalidValue
from allo.services import contacts, customers, messages, offers
from allo.services.accounts import EMAIL_PATTERN, digest
from allo.services.errors import Conflict, NotFound, Unauthenticated
from allo.services.principal import system_principal
from allo.services.routing_policy import policy_from_json, site_choice
from allo.store.repository import get_for_tenant
from allo.store.tables import (
    AdviserRow,
    ChatSessionRow,
    ContactRow,
    CustomerRow,
    MessageRow,
    QueueRow,
    QueueStatusRow,
    TenantRow,
)
from allo.store.uow import UnitOfWork

ABANDON_GRACE = timedelta(seconds=30)


def tenant_by_widget_key(uow: UnitOfWork, key: str) -> TenantRow:
    tenant = uow.session.scalar(select(TenantRow).where(TenantRow.widget_key == key))
    if tenant is None:
        raise NotFound("widget key", key[:12])
    return tenant


def widget_config(uow: UnitOfWork, key: str) -> dict[str, Any]:
    """What the widget shows before a chat starts: topics and their estimated waits."""
    tenant = tenant_by_widget_key(uow, key)
    queues = uow.session.scalars(
        select(QueueRow).where(QueueRow.tenant_id == tenant.id).order_by(QueueRow.id)
    ).all()
    topics = []
    for queue in queues:
        status = uow.session.get(QueueStatusRow, queue.id)
        estimates = [e for e in (status.estimates if status else []) if e.get("channel") == "chat"]
        policy = policy_from_json(queue.routing_policy)
        topics.append(
            {
                "queue_id": queue.id,
                "name": queue.name,
                "site_choice": site_choice(policy),
                "callback": Channel.CALLBACK in policy.channels,
                "estimates": estimates,
            }
        )
    return {"tenant": tenant.name, "topics": topics}


@dataclass(frozen=True)
class StartedChat:
    token: str
    contact_id: int


def start_chat(
    uow: UnitOfWork,
    key: str,
    *,
    name: str,
    queue_id: int,
    email: str | None = None,
    site_group: str | None = None,
    site_only: bool = False,
    first_message: str | None = None,
    channel: str = "chat",
) -> StartedChat:
    tenant = tenant_by_widget_key(uow, key)
    actor = system_principal(tenant.id)
    name = name.strip()
    if not name:
        raise InvalidValue("name", "please tell us your name", key="error.name_missing")
    get_for_tenant(uow.session, QueueRow, tenant.id, queue_id)
    # One transaction: the customer, the contact, its chat session and first line appear
    # together, with one commit (the router never sees a contact without its session).
    token = secrets.token_urlsafe(24)
    with uow.batch():
        customer_id = _customer_for(uow, tenant.id, name, email)
        contact = contacts.create_contact(
            uow,
            actor,
            {
                "channel": channel,
                "queue_id": queue_id,
                "customer_id": customer_id,
                "site_group": site_group,
                "site_only": site_only,
            },
        )
        uow.session.add(
            ChatSessionRow(
                tenant_id=tenant.id,
                contact_id=contact.id,
                token_hash=digest(token),
                customer_name=name,
                last_seen_at=uow.now(),
            )
        )
        if first_message:
            messages.add_message(uow, contact, "customer", first_message)
    return StartedChat(token, contact.id)


def _customer_for(uow: UnitOfWork, tenant_id: int, name: str, email: str | None) -> int:
    """Link to the customer with this email if there is one, else create a record."""
    if email:
        email = email.strip().lower()
        if not EMAIL_PATTERN.match(email):
            raise InvalidValue("email", f"{email!r} is not an email address")
        known = uow.session.scalar(
            select(CustomerRow.id).where(
                CustomerRow.tenant_id == tenant_id, CustomerRow.email == email
            )
        )
        if known is not None:
            return known
    first, _, last = name.partition(" ")
    return customers.create_customer(
        uow,
        system_principal(tenant_id),
        {
            "first_name": first,
            "last_name": last,
            "email": email or None,
        },
    )


def session_for(uow: UnitOfWork, token: str) -> tuple[ChatSessionRow, ContactRow]:
    found = uow.session.execute(
        select(ChatSessionRow, ContactRow)
        .join(ContactRow, ContactRow.id == ChatSessionRow.contact_id)
        .where(ChatSessionRow.token_hash == digest(token))
    ).one_or_none()
    if found is None:
        raise Unauthenticated("unknown chat")
    chat, contact = found
    return chat, contact


def chat_state(uow: UnitOfWork, token: str, after: int = 0) -> dict[str, Any]:
    chat, contact = session_for(uow, token)
    return _state(uow, chat, contact, after)


def socket_opened(
    uow: UnitOfWork, token: str, after: int, follow: Callable[[int], None]
) -> dict[str, Any]:
    """The customer's socket is open: they are seen, and get the chat's state (messages after
    `after`). `follow(contact_id)` is called before the state is read, so that whatever is
    committed after the read reaches the socket."""
    chat, contact = session_for(uow, token)
    follow(contact.id)
    # Read again: a change committed between the first read and `follow` (an adviser
    # accepting) reached no follower yet, and must be in the state instead.
    uow.session.refresh(contact)
    chat.last_seen_at = uow.now()
    chat.disconnected_at = None
    state = _state(uow, chat, contact, after)
    uow.commit()
    return state


def _state(
    uow: UnitOfWork, chat: ChatSessionRow, contact: ContactRow, after: int
) -> dict[str, Any]:
    rows = uow.session.scalars(
        select(MessageRow)
        .where(MessageRow.contact_id == contact.id, MessageRow.id > after)
        .order_by(MessageRow.id)
    ).all()
    return {
        "contact_id": contact.id,
        "status": contact.status,
        "name": chat.customer_name,
        "queue_id": contact.queue_id,
        "satisfaction": contact.satisfaction,
        "messages": [public_message(m) for m in rows],
    }


def public_message(row: MessageRow) -> dict[str, Any]:
    """A message as the customer sees it: no adviser ids, no internal metadata."""
    return {
        "id": row.id,
        "author": row.author_kind,
        "body": row.body,
        "at": row.created_at.isoformat(),
        "bot": bool(row.meta.get("bot")),
    }


def customer_writes(uow: UnitOfWork, token: str, body: str, bot: bool = False) -> MessageRow:
    _, contact = session_for(uow, token)
    if contact.status in ("closed", "abandoned"):
        raise Conflict("chat", "this conversation is over")
    return messages.add_message(uow, contact, "customer", body, meta={"bot": True} if bot else None)


def leave(uow: UnitOfWork, token: str) -> None:
    """The customer closes the chat: unanswered, it is abandoned; answered, the adviser is told."""
    _, contact = session_for(uow, token)
    actor = system_principal(contact.tenant_id)
    if contact.status in ("queued", "offered"):
        offers.abandon_contact(uow, actor, contact.id)
    elif contact.status in ("in_progress", "wrap_up"):
        messages.add_message(uow, contact, "system", "customer_left", meta={"code": "left"})


def rate(uow: UnitOfWork, token: str, score: int, comment: str | None) -> None:
    chat, contact = session_for(uow, token)
    if contact.status != "closed":
        raise Conflict("satisfaction", "a conversation is rated once it is over")
    if contact.satisfaction is not None:
        raise Conflict("satisfaction", "this conversation was already rated")
    if not 1 <= score <= 5:
        raise InvalidValue("score", "must be between 1 and 5")
    contact.satisfaction = score
    chat.csat_comment = (comment or "").strip()[:2000] or None
    site_id = None
    if contact.adviser_id is not None:
        adviser = uow.session.get(AdviserRow, contact.adviser_id)
        site_id = adviser.site_id if adviser else None
    payload = {
        "score": score,
        "adviser_id": contact.adviser_id,
        "site_id": site_id,
        "queue_id": contact.queue_id,
        "commented": chat.csat_comment is not None,
    }
    uow.record("contact.rated", contact.tenant_id, "contact", contact.id, payload)
    uow.commit()


def socket_closed(uow: UnitOfWork, token: str) -> None:
    """The customer's socket closed: still waiting after the grace, the chat is abandoned."""
    chat, _ = session_for(uow, token)
    chat.last_seen_at = chat.disconnected_at = uow.now()
    uow.commit()


def abandon_left_chats(uow: UnitOfWork, grace: timedelta = ABANDON_GRACE) -> int:
    """Chats whose customer left the page while still waiting, longer than the grace ago."""
    cutoff = uow.now() - grace
    rows = uow.session.execute(
        select(ChatSessionRow.contact_id, ContactRow.tenant_id)
        .join(ContactRow, ContactRow.id == ChatSessionRow.contact_id)
        .where(
            ChatSessionRow.disconnected_at.is_not(None),
            ChatSessionRow.disconnected_at < cutoff,
            ContactRow.status.in_(("queued", "offered")),
        )
    ).all()
    count = 0
    for contact_id, tenant_id in rows:
        count += offers.abandon_contact(uow, system_principal(tenant_id), contact_id)
    return count
