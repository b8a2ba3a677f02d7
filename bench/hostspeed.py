"""How fast this host runs plain Python, printed beside each benchmark's results.

Sessions do not always get the same host, and the same code measured 2–4× slower from one to
the next: this line lets a reader tell a slower host from a slower change. The loop runs a
few times and the fastest is kept (other processes only ever make it slower).
"""

from __future__ import annotations

import time

LOOP = 10_000_000


def python_loop_ms(repeats: int = 3) -> float:
    """Milliseconds for the fastest of `repeats` runs of `sum(range(LOOP))`."""
    fastest = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        sum(range(LOOP))
        fastest = min(fastest, time.perf_counter() - started)
    return fastest * 1000


def describe() -> str:
    return f"host speed: sum(range({LOOP:,})) in {python_loop_ms():.0f} ms (fastest of 3)"
