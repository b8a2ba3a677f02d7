"""The inbound SMTP listener (aiosmtpd): mail for known addresses is stored, then answered 250.

RCPT TO an address no tenant receives for is refused (550) so nothing is accepted that
cannot be stored; a message larger than `mail_max_bytes` is refused (552) by aiosmtpd; a
database failure answers 451 so the sending server retries later.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiosmtpd.controller import Controller

from allo.channels.email.inbox import accept, is_our_address, route_stored
from allo.settings import Settings
from allo.store.uow import Store

log = logging.getLogger(__name__)


class InboundHandler:
    def __init__(self, store: Store, settings: Settings) -> None:
        self.store = store
        self.settings = settings

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        if len(envelope.rcpt_tos) >= self.settings.mail_max_recipients:
            return "452 4.5.3 Too many recipients"
        try:
            known = await asyncio.to_thread(is_our_address, self.store, address)
        except Exception:
            log.exception("recipient check failed")
            return "451 4.3.0 Temporary failure, please try again later"
        if not known:
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw = envelope.original_content or envelope.content or b""
        if isinstance(raw, str):
            raw = raw.encode("utf-8", errors="surrogateescape")
        sender = envelope.mail_from or ""
        sender = "" if sender == "<>" else sender  # aiosmtpd keeps the brackets of the null path
        try:
            stored = await asyncio.to_thread(
                accept, self.store, self.settings, raw, sender, envelope.rcpt_tos
            )
        except Exception:
            log.exception("could not store a message from %r", envelope.mail_from)
            return "451 4.3.0 Temporary failure, please try again later"
        # Stored and committed: from here on the message is ours, whatever routing does.
        await asyncio.to_thread(route_stored, self.store, self.settings, stored)
        return "250 2.0.0 Message accepted"


def make_listener(store: Store, settings: Settings) -> Controller:
    """A listener to `start()` and `stop()`; it serves from its own thread and event loop."""
    return Controller(
        InboundHandler(store, settings),
        hostname=settings.smtp_listen_host,
        port=settings.smtp_listen_port,
        data_size_limit=settings.mail_max_bytes,
        enable_SMTPUTF8=True,
        decode_data=False,
        ident="Allo",
        timeout=60,
    )
