"""Delivery of the outbox through the configured SMTP server, with retries."""

from __future__ import annotations

import email.utils
import logging
import smtplib
import ssl

from allo.channels.email.mime import Outgoing, compose
from allo.services.email_outbound import (
    claim_outgoing,
    due_outgoing,
    loop_token,
    mark_failed,
    mark_sent,
)
from allo.settings import Settings
from allo.store.tables import EmailRow
from allo.store.uow import Store

log = logging.getLogger(__name__)


def outgoing_of(row: EmailRow) -> Outgoing:
    meta = row.meta
    return Outgoing(
        message_id=row.message_id,
        from_address=row.from_address,
        from_name=str(meta.get("from_name") or ""),
        to=row.to_address,
        subject=row.subject,
        text=str(meta.get("text", "")),
        in_reply_to=meta.get("in_reply_to"),
        references=tuple(meta.get("references") or ()),
        loop_token=loop_token(row.tenant_id),
        automatic=row.kind == "ack",
    )


def _connect(settings: Settings) -> smtplib.SMTP:
    host, port, timeout = settings.smtp_out_host, settings.smtp_out_port, settings.smtp_out_timeout
    if settings.smtp_out_ssl:
        return smtplib.SMTP_SSL(host, port, timeout=timeout, context=ssl.create_default_context())
    client = smtplib.SMTP(host, port, timeout=timeout)
    if settings.smtp_out_starttls:
        client.starttls(context=ssl.create_default_context())
    return client


def send_one(settings: Settings, envelope_from: str, to: str, raw: bytes) -> None:
    client = _connect(settings)
    try:
        if settings.smtp_out_user:
            client.login(settings.smtp_out_user, settings.smtp_out_password.get_secret_value())
        client.sendmail(envelope_from, [to], raw)
    finally:
        try:
            client.quit()
        except smtplib.SMTPException:
            client.close()


def _failure(error: Exception) -> tuple[str, bool]:
    """The error text and whether retrying cannot help (an SMTP 5xx answer)."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in error.recipients.values()]
        return f"recipient refused: {error.recipients}", all(c >= 500 for c in codes)
    if isinstance(error, smtplib.SMTPResponseException):
        return f"{error.smtp_code} {error.smtp_error!r}", error.smtp_code >= 500
    return f"{type(error).__name__}: {error}", False


def send_due(store: Store, settings: Settings) -> int:
    """Send what is due in the outbox; returns how many were sent."""
    with store.unit_of_work() as uow:
        due = [(row.id, row.envelope_from, outgoing_of(row)) for row in due_outgoing(uow)]
    sent = 0
    for email_id, envelope_from, outgoing in due:
        with store.unit_of_work() as uow:
            if not claim_outgoing(uow, email_id):
                continue  # another worker took it
        raw = compose(outgoing, email.utils.format_datetime(store.clock()))
        try:
            send_one(settings, envelope_from, outgoing.to, raw)
        except (OSError, smtplib.SMTPException) as error:
            text, permanent = _failure(error)
            log.warning("email %s not sent: %s", email_id, text)
            with store.unit_of_work() as uow:
                mark_failed(
                    uow,
                    email_id,
                    text,
                    permanent=permanent,
                    max_attempts=settings.smtp_out_max_attempts,
                )
            continue
        with store.unit_of_work() as uow:
            mark_sent(uow, email_id, raw)
        sent += 1
    return sent
