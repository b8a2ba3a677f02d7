"""Follows the event table so that writes of other processes reach this process's hub."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence

from sqlalchemy import func, select

from allo.domain.events import Event
from allo.realtime.hub import Hub
from allo.services.router import EventCursor
from allo.store.tables import EventRow
from allo.store.uow import Store, as_event

log = logging.getLogger(__name__)


class EventTail:
    def __init__(
        self,
        store: Store,
        hub: Hub,
        interval: float = 0.2,
        listeners: Sequence[Callable[[Sequence[Event]], None]] = (),
    ) -> None:
        self.store = store
        self.hub = hub
        self.interval = interval
        # Told of every event, this process's own included (e.g. the principal cache).
        self.listeners = tuple(listeners)
        with store.unit_of_work() as uow:
            start = uow.session.scalar(select(func.max(EventRow.id))) or 0
        # Same gap rule as the router: ids committed out of order are waited for briefly.
        self.cursor = EventCursor(start, gap_wait=1.0)

    def poll(self) -> int:
        with self.store.unit_of_work() as uow:
            rows = self.cursor.read(uow, limit=2000)
        if rows:
            events = [as_event(row) for row in rows]
            for listener in self.listeners:
                listener(events)
            self.hub.publish_from_thread(events)
        return len(rows)

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                self.poll()
            except Exception:
                log.exception("event tail failed")
            stop.wait(self.interval)
