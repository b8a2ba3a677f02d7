"""The WebSocket hub: committed events pushed to the connections that follow their topics.

Events reach the hub from the in-process bus (at once, after commit) and from the event
table's tail (for writes made by other processes, such as a separate `allo router`); each
event is delivered once, by id. Typing indicators are ephemeral and never stored.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from allo.domain.events import Event

log = logging.getLogger(__name__)
QUEUE_LIMIT = 1000
SEEN_LIMIT = 20_000
LOCALS_LIMIT = 2_000  # enough for the pushes in flight, at most a few MB of rows


def wall_topic(tenant_id: int) -> str:
    return f"tenant:{tenant_id}:wall"


def contact_topic(contact_id: int) -> str:
    return f"contact:{contact_id}"


def adviser_topic(adviser_id: int) -> str:
    return f"adviser:{adviser_id}"


# Events no wall shows: a wall re-reads its whole snapshot after a push, and a busy chat
# floor writes several lines a second per adviser.
NOT_FOR_THE_WALL = frozenset({"message.created"})


def topics_of(event: Event) -> set[str]:
    """Who hears an event: the wall of its tenant, the contact, the advisers concerned."""
    topics = set() if event.type in NOT_FOR_THE_WALL else {wall_topic(event.tenant_id)}
    payload = event.payload
    if event.subject_type == "contact" and event.subject_id is not None:
        topics.add(contact_topic(event.subject_id))
        for key in ("adviser_id", "handled_by"):
            if isinstance(payload.get(key), int):
                topics.add(adviser_topic(payload[key]))
    if event.subject_type == "adviser" and event.subject_id is not None:
        topics.add(adviser_topic(event.subject_id))
    return topics


def event_message(event: Event) -> dict[str, Any]:
    return {
        "kind": "event",
        "id": event.id,
        "type": event.type,
        "subject_type": event.subject_type,
        "subject_id": event.subject_id,
        "payload": event.payload,
        "at": event.occurred_at.isoformat(),
    }


@dataclass(eq=False)
class Subscription:
    topics: set[str]
    queue: asyncio.Queue[dict[str, Any]] = field(default_factory=lambda: asyncio.Queue(QUEUE_LIMIT))
    dropped: int = 0

    def offer(self, message: dict[str, Any]) -> None:
        try:
            self.queue.put_nowait(message)
        except asyncio.QueueFull:
            # A client too slow to read loses pushes, not the server its memory; it
            # re-reads state over REST when it sees `resync`.
            self.dropped += 1


class Hub:
    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._subscriptions: set[Subscription] = set()
        # Topic → its followers: an event reaches its few followers without a walk over
        # every open connection.
        self._followers: dict[str, set[Subscription]] = {}
        self._seen: OrderedDict[int, None] = OrderedDict()
        self._locals: OrderedDict[int, Any] = OrderedDict()

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop

    def subscribe(self, topics: Iterable[str]) -> Subscription:
        subscription = Subscription(set(topics))
        self._register(subscription)
        return subscription

    def subscribe_from_thread(self, subscription: Subscription, topics: Iterable[str]) -> None:
        """Add `topics` to `subscription` from a worker thread. Registered on the loop ahead of
        any event committed after this call (callbacks run in order), so a reader that
        subscribes, then reads the database, misses nothing."""
        assert self._loop is not None
        self._loop.call_soon_threadsafe(self._add_topics, subscription, set(topics))

    def _add_topics(self, subscription: Subscription, topics: set[str]) -> None:
        self.unsubscribe(subscription)
        subscription.topics |= topics
        self._register(subscription)

    def _register(self, subscription: Subscription) -> None:
        self._subscriptions.add(subscription)
        for topic in subscription.topics:
            self._followers.setdefault(topic, set()).add(subscription)

    def unsubscribe(self, subscription: Subscription) -> None:
        self._subscriptions.discard(subscription)
        for topic in subscription.topics:
            followers = self._followers.get(topic)
            if followers is not None:
                followers.discard(subscription)
                if not followers:
                    del self._followers[topic]

    def publish_from_thread(self, events: Sequence[Event]) -> None:
        """Called by the bus or the tail, from any thread."""
        if self._loop is None or self._loop.is_closed():
            return
        with contextlib.suppress(RuntimeError):  # the loop is shutting down
            self._loop.call_soon_threadsafe(self.publish, list(events))

    def publish(self, events: Sequence[Event]) -> None:
        for event in events:
            if event.id is not None:
                if event.id in self._seen:
                    continue
                self._seen[event.id] = None
                if len(self._seen) > SEEN_LIMIT:
                    self._seen.popitem(last=False)
                self._keep_local(event)
            self.send(topics_of(event), event_message(event))

    def _keep_local(self, event: Event) -> None:
        if event.local is None or event.id is None:
            return
        self._locals[event.id] = event.local
        if len(self._locals) > LOCALS_LIMIT:
            self._locals.popitem(last=False)

    def local_of(self, event_id: int | None) -> Any:
        """What the writer attached to an event of this process (`Event.local`), or None:
        then the reader loads it from the database."""
        return self._locals.get(event_id) if event_id is not None else None

    def send(self, topics: set[str], message: dict[str, Any]) -> None:
        reached: set[Subscription] = set()
        for topic in topics:
            reached.update(self._followers.get(topic, ()))
        for subscription in reached:
            subscription.offer(message)

    @property
    def connections(self) -> int:
        return len(self._subscriptions)
