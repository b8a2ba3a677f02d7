"""Estimated wait time (EWT) from position, advisers serving the queue and handling times.

A contact with `ahead` contacts before it is answered when `ahead + 1` contacts have left
service. Contacts leave service at rate `servers / AHT` (Little's law on service), where
`servers` counts the queue's contacts in service at the sites that may answer it: in a
multi-skill centre this is the share of the shared advisers that the queue actually gets,
which a count of eligible advisers would overstate. The rate changes when a tier opens more
sites, so the estimate walks the tiers: `position / rate` within the current tier, and what
is left at the next tier's rate once it opens.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from allo.domain.channels import Channel
from allo.routing.matching import best_adviser
from allo.routing.policy import CapacityRules
from allo.routing.pool import ALL_SITES, EWT_CHANNEL, Pool
from allo.routing.tiers import SiteSet, TierStep


def ewma(previous: float | None, sample: float, alpha: float) -> float:
    return sample if previous is None else previous + alpha * (sample - previous)


def waiting_ahead(pool: Pool, channel: Channel, priority: int) -> int:
    """Contacts waiting in the pool on this channel that will be served no later than one
    arriving now with `priority` (FIFO among equals, so every equal one is ahead)."""
    wanted = EWT_CHANNEL[channel]
    return sum(n for (ch, p), n in pool.waiting.items() if ch is wanted and p >= priority)


# Time constant of the observed service-start rate (seconds).
RATE_MEMORY = 300.0
# A handling time is never taken as shorter than this (a contact finished the instant it
# started would otherwise make the service rate infinite).
MIN_AHT = 1.0


def record_start(pool: Pool, channel: Channel, site_id: int, now: float) -> None:
    """Count one service start at the site and over all sites: rates decaying with
    RATE_MEMORY (starts per second)."""
    for site in (site_id, ALL_SITES):
        key = (EWT_CHANNEL[channel], site)
        held = pool.starts.get(key)
        if held is None:
            pool.starts[key] = [1.0 / RATE_MEMORY, now]
            continue
        held[0] = held[0] * math.exp((held[1] - now) / RATE_MEMORY) + 1.0 / RATE_MEMORY
        held[1] = now


def _decayed(held: list[float] | None, now: float) -> float:
    return 0.0 if held is None else held[0] * math.exp((held[1] - now) / RATE_MEMORY)


def service_rate(pool: Pool, channel: Channel, sites: SiteSet, aht: float, now: float) -> float:
    """Contacts per second the sites will take from this pool's line.

    The larger of two views: contacts in service over the handling time (Little's law), and
    the rate at which service started lately. The second catches advisers shared with other
    queues turning to this one as its contacts become the oldest waiting.
    """
    wanted = EWT_CHANNEL[channel]
    if sites is None:
        busy = pool.in_service.get((wanted, ALL_SITES), 0)
        observed = _decayed(pool.starts.get((wanted, ALL_SITES)), now)
        present = pool.is_present(ALL_SITES)
    else:
        busy, observed, present = 0, 0.0, False
        for site in sites:
            busy += pool.in_service.get((wanted, site), 0)
            observed += _decayed(pool.starts.get((wanted, site)), now)
            present = present or pool.is_present(site)
    if not present:
        return 0.0  # nobody logged in there takes a new contact, whatever they did lately
    aht = max(aht, MIN_AHT)
    # However quiet the queue, one logged-in adviser who could answer will turn to it in time.
    return max(busy / aht, observed, 1.0 / aht)


class WaitProbe:
    """What an estimate asks about one pool and channel now: whether sites have a free
    adviser, and their service rate. Answers are kept, since the options of one announcement
    share most of their tiers."""

    __slots__ = ("aht", "channel", "free", "now", "pool", "rates", "rules")

    def __init__(
        self, pool: Pool, channel: Channel, aht: float, now: float, rules: CapacityRules
    ) -> None:
        self.pool, self.channel, self.aht, self.now, self.rules = pool, channel, aht, now, rules
        self.free: dict[SiteSet, bool] = {}
        self.rates: dict[SiteSet, float] = {}

    def has_free(self, sites: SiteSet) -> bool:
        held = self.free.get(sites)
        if held is None:
            found = best_adviser(self.pool, self.channel, sites, frozenset(), self.rules)
            held = self.free[sites] = found is not None
        return held

    def rate(self, sites: SiteSet) -> float:
        held = self.rates.get(sites)
        if held is None:
            held = service_rate(self.pool, self.channel, sites, self.aht, self.now)
            self.rates[sites] = held
        return held


def estimate(table: Sequence[TierStep], ahead: int, probe: WaitProbe) -> float | None:
    """Seconds until a contact just put in line, behind `ahead` others, is answered.

    A tier that opens onto a free adviser (`probe.has_free`) answers at its opening.
    """
    position = float(ahead + 1)
    clock = 0.0
    for number, step in enumerate(table):
        end = table[number + 1].after if number + 1 < len(table) else math.inf
        if number > 0 and probe.has_free(step.sites):
            return clock
        rate = probe.rate(step.sites)
        if rate > 0:
            if position / rate <= end - clock:
                return clock + position / rate
            position -= rate * (end - clock)
        clock = end
    return None
