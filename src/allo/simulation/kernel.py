"""The event kernel: one heap of (time, sequence, kind, a, b) entries, popped in order.

No generator or object per customer: an entry is a plain tuple and the twin dispatches on
`kind`; the sequence number makes equal times pop in the order they were pushed, so a run
is deterministic for a seed. Entries are never removed: what they would act on carries a
token, and an entry whose token is no longer current is stale and skipped when popped.

`single_skill` is the same kernel specialised to one FIFO queue (M/M/N+G): there the
line needs no router, and abandonment is a deadline on the waiting contact, checked when
an adviser frees up, instead of an event of its own.
"""

from __future__ import annotations

import heapq
import itertools
import math
import random
from collections import deque
from dataclasses import dataclass

from allo.simulation.model import Sampler

Entry = tuple[float, int, int, int, int]


class EventHeap:
    __slots__ = ("_counter", "entries")

    def __init__(self) -> None:
        self.entries: list[Entry] = []
        self._counter = itertools.count()

    def push(self, at: float, kind: int, a: int = 0, b: int = 0) -> None:
        heapq.heappush(self.entries, (at, next(self._counter), kind, a, b))

    def pop(self) -> Entry:
        return heapq.heappop(self.entries)

    def __len__(self) -> int:
        return len(self.entries)


@dataclass(frozen=True, slots=True)
class SingleSkillResult:
    offered: int
    answered: int
    abandoned: int
    answered_within: int
    wait_sum: float  # every offered contact, abandoners up to their abandonment
    answered_wait_sum: float
    busy_seconds: float
    duration: float
    servers: int

    @property
    def service_level(self) -> float:
        return self.answered_within / self.offered if self.offered else 1.0

    @property
    def abandon_rate(self) -> float:
        return self.abandoned / self.offered if self.offered else 0.0

    @property
    def mean_wait(self) -> float:
        return self.wait_sum / self.offered if self.offered else 0.0

    @property
    def asa(self) -> float:
        return self.answered_wait_sum / self.answered if self.answered else 0.0

    @property
    def occupancy(self) -> float:
        return self.busy_seconds / (self.servers * self.duration) if self.duration else 0.0


# One loop, inlined on purpose: it is the benchmarked hot path.
def single_skill(  # noqa: C901
    servers: int,
    arrival_rate: float,
    handling: Sampler,
    patience: Sampler | None,
    calls: int,
    rng: random.Random,
    answer_within: float = 20.0,
    warmup: int = 0,
) -> SingleSkillResult:
    """Simulate `calls` Poisson arrivals to `servers` advisers answering in FIFO order.

    The first `warmup` arrivals are simulated but not counted (the run starts empty).
    """
    heap: list[tuple[float, int, int]] = []  # (time, sequence, kind): 0 arrival, 1 finish
    push, pop = heapq.heappush, heapq.heappop
    line: deque[tuple[float, float]] = deque()  # (arrived, deadline)
    expo, rate = rng.expovariate, arrival_rate
    free, seq, arrived = servers, 0, 0
    offered = answered = abandoned = within = 0
    wait_sum = answered_wait = busy = 0.0
    first_counted = 0.0
    push(heap, (expo(rate), 0, 0))
    now = 0.0
    while heap:
        now, _, kind = pop(heap)
        if kind == 0:
            counted = arrived >= warmup
            if arrived == warmup:
                first_counted = now
            arrived += 1
            if arrived < calls + warmup:
                seq += 1
                push(heap, (now + expo(rate), seq, 0))
            if counted:
                offered += 1
            if free:
                free -= 1
                service = handling()
                seq += 1
                push(heap, (now + service, seq, 1))
                if counted:
                    answered += 1
                    within += 1
                    busy += service
            else:
                deadline = now + patience() if patience is not None else math.inf
                # Uncounted contacts are marked by a negative arrival time.
                line.append((now if counted else -1.0 - now, deadline))
            continue
        # An adviser is free: contacts whose deadline passed abandoned at that deadline.
        while line:
            stamp, deadline = line.popleft()
            counted = stamp >= 0
            start = stamp if counted else -1.0 - stamp
            if deadline < now:
                if counted:
                    abandoned += 1
                    wait_sum += deadline - start
                continue
            service = handling()
            seq += 1
            push(heap, (now + service, seq, 1))
            if counted:
                wait = now - start
                answered += 1
                wait_sum += wait
                answered_wait += wait
                within += wait <= answer_within
                busy += service
            break
        else:
            free += 1
    for stamp, deadline in line:  # the last ones, after the final departure
        if stamp >= 0:
            abandoned += 1
            wait_sum += deadline - stamp
    return SingleSkillResult(
        offered, answered, abandoned, within, wait_sum, answered_wait, busy,
        now - first_counted, servers,
    )  # fmt: skip
