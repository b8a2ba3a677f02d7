"""The mail worker: SMTP listener, outbox sender and IMAP poller, run by `allo mail`."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from allo.channels.email.imap_in import poll_once
from allo.channels.email.inbox import route_leftovers
from allo.channels.email.smtp_in import make_listener
from allo.channels.email.smtp_out import send_due
from allo.settings import Settings
from allo.store.uow import Store

log = logging.getLogger(__name__)


class MailWorker:
    def __init__(
        self,
        store: Store,
        settings: Settings,
        *,
        listen: bool = True,
        send_every: float = 2.0,
    ) -> None:
        self.store = store
        self.settings = settings
        self.listener = make_listener(store, settings) if listen else None
        self.send_every = send_every
        self.stopping = threading.Event()
        self.threads: list[threading.Thread] = []

    def start(self) -> None:
        route_leftovers(self.store, self.settings)
        if self.listener is not None:
            self.listener.start()
        self._every(self.send_every, lambda: send_due(self.store, self.settings), "mail-sender")
        if self.settings.imap_host:
            poll = self.settings.imap_poll_seconds
            self._every(poll, lambda: poll_once(self.store, self.settings), "mail-imap")

    def _every(self, seconds: float, work: Callable[[], object], name: str) -> None:
        def loop() -> None:
            while not self.stopping.is_set():
                try:
                    work()
                except Exception:
                    log.exception("%s failed; trying again in %s s", name, seconds)
                self.stopping.wait(seconds)

        thread = threading.Thread(target=loop, name=name, daemon=True)
        thread.start()
        self.threads.append(thread)

    def stop(self) -> None:
        self.stopping.set()
        for thread in self.threads:
            thread.join(timeout=10)
        if self.listener is not None:
            self.listener.stop()
            self.listener.loop.close()  # aiosmtpd leaves its own loop open
