"""A small in-process token bucket per client address, for the public endpoints."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict

from starlette.requests import HTTPConnection

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

    def check(self, connection: HTTPConnection) -> None:
        client = connection.client.host if connection.client else "unknown"
        if not self.take(client):
            raise RateLimited("too many requests")


def limit(connection: HTTPConnection, name: str) -> None:
    """The app's bucket `name` ("starts", "messages": public chat, per address), made from
    the settings on first use; raises RateLimited when the address is over its rate."""
    buckets: dict[str, TokenBucket] = connection.app.state.__dict__.setdefault("buckets", {})
    if name not in buckets:
        rate = getattr(connection.app.state.settings, f"chat_{name}_per_minute")
        buckets[name] = TokenBucket(rate_per_minute=rate, burst=max(5, rate // 2))
    buckets[name].check(connection)
