"""One way in for received mail, whatever brought it (SMTP listener or IMAP poller)."""

from __future__ import annotations

import logging
import random
from collections.abc import Sequence

from allo.channels.email.mime import parse_email
from allo.services.email_inbound import MailLimits, mailbox_for, receive, route, route_pending
from allo.settings import Settings
from allo.store.uow import Store

log = logging.getLogger(__name__)


def limits_of(settings: Settings) -> MailLimits:
    return MailLimits(
        body_max_bytes=settings.mail_body_max_bytes,
        acks_per_sender_per_day=settings.mail_acks_per_sender_per_day,
    )


def is_our_address(store: Store, address: str) -> bool:
    with store.unit_of_work() as uow:
        return mailbox_for(uow, address) is not None


def accept(
    store: Store, settings: Settings, raw: bytes, envelope_from: str, recipients: Sequence[str]
) -> list[int]:
    """Parse and store; raises only when the database could not store the message."""
    message = parse_email(raw, settings.mail_attachment_max_bytes)
    with store.unit_of_work() as uow:
        return receive(uow, raw, message, envelope_from, recipients)


def route_stored(store: Store, settings: Settings, email_ids: Sequence[int]) -> None:
    """Thread and route stored mail; a failure leaves it `received` for `route_leftovers`."""
    for email_id in email_ids:
        try:
            with store.unit_of_work() as uow:
                route(uow, email_id, limits_of(settings), random.SystemRandom())
        except Exception:
            log.exception("email %s stored but not routed yet; it will be retried", email_id)


def route_leftovers(store: Store, settings: Settings) -> int:
    with store.unit_of_work() as uow:
        return route_pending(uow, limits_of(settings), random.SystemRandom())
