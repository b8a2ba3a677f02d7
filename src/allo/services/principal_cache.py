"""Who a credential belongs to, remembered for a minute.

Every request of a desk or an API client presents the same token or session cookie, and
resolving it costs three queries and a thread hop. The answer is forgotten at once when this
process commits a change that could alter it (a user, a token, a site's transfer basis, an
adviser's site, a logout), and within the event tail's interval when another process does
(realtime/tail.py); `ttl` only bounds what no event tells. An adviser's desk asks every
few seconds to a few minutes, so a short `ttl` made most of their requests resolve again.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from allo.domain.events import Event
from allo.services.principal import Principal

DEFAULT_TTL = 60.0
MAX_ENTRIES = 10_000
# Events after which any cached answer may be wrong.
CHANGES = ("user.", "token.", "site.", "tenant.")


@dataclass(frozen=True, slots=True)
class Credential:
    """What a credential resolved to; `csrf_token` for browser sessions only."""

    principal: Principal
    csrf_token: str | None = None


class PrincipalCache:
    def __init__(self, ttl: float = DEFAULT_TTL, clock: Callable[[], float] = time.monotonic):
        self.ttl = ttl
        self._clock = clock
        self._entries: dict[str, tuple[float, Credential]] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> Credential | None:
        with self._lock:
            entry = self._entries.get(key)
        if entry is None or entry[0] <= self._clock():
            return None
        return entry[1]

    def put(self, key: str, credential: Credential, valid_for: float | None = None) -> None:
        """Remember for `ttl` seconds, or less when the credential expires sooner."""
        lifetime = self.ttl if valid_for is None else min(self.ttl, valid_for)
        with self._lock:
            if len(self._entries) >= MAX_ENTRIES:
                self._entries.clear()
            self._entries[key] = (self._clock() + lifetime, credential)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def hear(self, events: Sequence[Event]) -> None:
        """Bus subscriber: forget everything after a change that may alter an answer."""
        if any(_may_change_principals(event) for event in events):
            self.clear()


def _may_change_principals(event: Event) -> bool:
    if event.type.startswith(CHANGES):
        return True
    return event.type == "adviser.updated" and "site_id" in event.payload
