"""A small in-process token bucket per client address, for the public endpoints."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict

from fastapi import Request

from allo.domain.errors import DomainError


class RateLimited(DomainError):
    """Too many requests from one address."""


class TokenBucket:
    def __init__(self, rate_per_minute: float, burst: int, max_clients: int = 10_000) -> None:
        self.rate = rate_per_minute / 60.0
        self.burst = burst
        self.max_clients = max_clients
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, client: str) -> bool:
        now = time.monotonic()
        with self._lock:
            tokens, since = self._buckets.pop(client, (float(self.burst), now))
            tokens = min(self.burst, tokens + (now - since) * self.rate)
            allowed = tokens >= 1
            self._buckets[client] = (tokens - 1 if allowed else tokens, now)
            if len(self._buckets) > self.max_clients:
                self._buckets.popitem(last=False)
            return allowed

    def check(self, request: Request) -> None:
        client = request.client.host if request.client else "unknown"
        if not self.take(client):
            raise RateLimited("too many requests")
