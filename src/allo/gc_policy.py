"""How often Python's cyclic garbage collector runs where the routing engine lives.

The engine keeps tens of thousands of long-lived objects (its heaps, contacts, advisers,
pools), and each of the collector's passes over the older generations walks them all: with
Python's default thresholds the collector's share of the engine's time grows with the size
of the centre (a fifth of it at 5,000 advisers, a seventh at 500; measured by
bench/routing.py). Nearly all the garbage the engine and the twin make is acyclic and freed
at once by reference counting, so the collector, needed only for the rare cycles, runs a
hundred times less often in the processes that host the engine: `allo serve` and `allo
demo` (the router runs inside them), `allo router`, and each replication of the twin.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

# Python's default first threshold is 700 allocations; this is a hundred times that.
RARE_THRESHOLD = 70_000


def collect_rarely() -> None:
    """For a whole process, once start-up is done (idempotent)."""
    gc.collect()
    gc.freeze()  # modules and the app built at start-up are never garbage: never walked again
    _raise_threshold()


@contextmanager
def collecting_rarely() -> Iterator[None]:
    """For one piece of work (a replication), the previous thresholds restored after."""
    previous = _raise_threshold()
    try:
        yield
    finally:
        gc.set_threshold(*previous)


def _raise_threshold() -> tuple[int, ...]:
    """Set the first threshold to at least RARE_THRESHOLD; the thresholds it replaced."""
    previous = gc.get_threshold()
    first, *older = previous
    gc.set_threshold(max(RARE_THRESHOLD, first), *older)
    return previous
