"""In-process event bus: subscribers hear about events only after their transaction committed."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence

from allo.domain.events import Event

Subscriber = Callable[[Sequence[Event]], None]
log = logging.getLogger(__name__)


class EventBus:
    def __init__(self) -> None:
        self._subscribers: list[Subscriber] = []
        self._lock = threading.Lock()

    def subscribe(self, subscriber: Subscriber) -> Callable[[], None]:
        with self._lock:
            self._subscribers.append(subscriber)

        def unsubscribe() -> None:
            with self._lock:
                if subscriber in self._subscribers:
                    self._subscribers.remove(subscriber)

        return unsubscribe

    def publish(self, events: Sequence[Event]) -> None:
        if not events:
            return
        with self._lock:
            subscribers = list(self._subscribers)
        for subscriber in subscribers:
            try:
                subscriber(events)
            except Exception:  # a broken listener must not undo a committed write
                log.exception("event subscriber failed")
