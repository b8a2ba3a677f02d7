"""IMAP polling, for a mailbox that already exists (the listener's alternative).

Unseen messages are fetched without marking them (BODY.PEEK), stored, and only then
flagged \\Seen: a crash in between fetches the message again, and the Message-ID drops
the second copy.
"""

from __future__ import annotations

import email.utils
import imaplib
import logging
import re

from allo.channels.email.inbox import accept, route_stored
from allo.settings import Settings
from allo.store.uow import Store

log = logging.getLogger(__name__)
BATCH = 100
_RETURN_PATH = re.compile(rb"^Return-Path:[ \t]*<([^>]*)>", re.IGNORECASE | re.MULTILINE)


def envelope_sender(raw: bytes) -> str:
    """IMAP has no envelope: the Return-Path the delivering server wrote stands for it."""
    head = raw.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
    found = _RETURN_PATH.search(head)
    if found is not None:
        return found.group(1).decode("ascii", errors="replace").strip()
    match = re.search(rb"^From:(.*)$", head, re.IGNORECASE | re.MULTILINE)
    text = match.group(1).decode("utf-8", errors="replace") if match else ""
    return email.utils.parseaddr(text)[1]


def _connect(settings: Settings) -> imaplib.IMAP4:
    if settings.imap_ssl:
        return imaplib.IMAP4_SSL(settings.imap_host, settings.imap_port, timeout=30)
    return imaplib.IMAP4(settings.imap_host, settings.imap_port, timeout=30)


def _fetched_bytes(data: list[object]) -> bytes | None:
    for item in data:
        if isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], bytes):
            return item[1]
    return None


def poll_once(store: Store, settings: Settings) -> int:
    """Fetch, store and mark the unseen messages of the mailbox; returns how many were new."""
    client = _connect(settings)
    new = 0
    try:
        client.login(settings.imap_user, settings.imap_password.get_secret_value())
        client.select(settings.imap_folder)
        _, found = client.uid("SEARCH", "UNSEEN")
        uids = (found[0] or b"").split()[:BATCH] if found else []
        for uid in uids:
            _, data = client.uid("FETCH", uid.decode(), "(BODY.PEEK[])")
            raw = _fetched_bytes(list(data))
            if raw is None:
                log.warning("IMAP message %s came without a body", uid)
                continue
            stored = accept(store, settings, raw, envelope_sender(raw), [settings.imap_address])
            client.uid("STORE", uid.decode(), "+FLAGS", "(\\Seen)")
            route_stored(store, settings, stored)
            new += len(stored)
    finally:
        try:
            client.logout()
        except (imaplib.IMAP4.error, OSError):
            client.shutdown()
    return new
