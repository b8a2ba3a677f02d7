"""Follows the event table so that writes of other processes reach this process's hub."""

from __future__ import annotations

import logging
import threading

from sqlalchemy import func, select

from allo.realtime.hub import Hub
from allo.services.router import EventCursor
from allo.store.tables import EventRow
from allo.store.uow import Store, as_event

log = logging.getLogger(__name__)


class EventTail:
    def __init__(self, store: Store, hub: Hub, interval: float = 0.2) -> None:
        self.store = store
        self.hub = hub
        self.interval = interval
        with store.unit_of_work() as uow:
            start = uow.session.scalar(select(func.max(EventRow.id))) or 0
        # Same gap rule as the router: ids committed out of order are waited for briefly.
        self.cursor = EventCursor(start, gap_wait=1.0)

    def poll(self) -> int:
        with self.store.unit_of_work() as uow:
            rows = self.cursor.read(uow, limit=2000)
        if rows:
            self.hub.publish_from_thread([as_event(row) for row in rows])
        return len(rows)

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                self.poll()
            except Exception:
                log.exception("event tail failed")
            stop.wait(self.interval)
