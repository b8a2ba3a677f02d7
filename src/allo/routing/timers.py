"""The engine's timers: offer expiries, tier openings and booked callbacks, in due order."""

from __future__ import annotations

import heapq
from collections.abc import Callable
from enum import IntEnum


class TimerKind(IntEnum):
    OFFER_EXPIRY = 0
    TIER_OPENS = 1
    CALLBACK_DUE = 2


# (due, sequence, kind, contact id, token); the sequence keeps equal due times in order.
Timer = tuple[float, int, TimerKind, int, int]


class Timers:
    """A heap of timers; cancelled ones are not removed but recognised as stale when due.

    `is_live(timer)` tells whether a timer still applies (e.g. the offer it would expire is
    still pending), so nothing has to be searched for when a contact moves on.
    """

    def __init__(self, is_live: Callable[[Timer], bool]) -> None:
        self._heap: list[Timer] = []
        self._seq = 0
        self._is_live = is_live

    def add(self, due: float, kind: TimerKind, contact_id: int, token: int) -> None:
        self._seq += 1
        heapq.heappush(self._heap, (due, self._seq, kind, contact_id, token))

    def next_due(self) -> float | None:
        self._drop_stale()
        return self._heap[0][0] if self._heap else None

    def pop_due(self, now: float) -> Timer | None:
        heap = self._heap
        # Stale timers not due yet can wait: most events find nothing due at all.
        while heap and heap[0][0] <= now:
            timer = heapq.heappop(heap)
            if self._is_live(timer):
                return timer
        return None

    def __len__(self) -> int:
        return len(self._heap)

    def _drop_stale(self) -> None:
        heap = self._heap
        while heap and not self._is_live(heap[0]):
            heapq.heappop(heap)
