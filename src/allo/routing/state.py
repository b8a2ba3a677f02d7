"""Mutable runtime records the engine keeps for advisers and contacts (never shared outside)."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import TYPE_CHECKING

from allo.domain.advisers import Adviser
from allo.domain.channels import Channel
from allo.routing.policy import CapacityRules, SiteOption
from allo.routing.tiers import UNCACHED_STEP, TierStep

if TYPE_CHECKING:
    from allo.routing.pool import ChannelFiling, Pool


class ContactPhase(StrEnum):
    WAITING = "waiting"
    OFFERED = "offered"
    IN_PROGRESS = "in_progress"
    # A callback booked for a later slot: out of the line until then.
    BOOKED = "booked"


class AdviserRecord:
    """One adviser's work in hand and readiness.

    `version` changes whenever anything that decides which contacts the adviser may take, or
    how they rank, changes: heap entries carry the version they were pushed with, so stale
    entries are recognised and dropped lazily instead of being searched for.
    """

    __slots__ = (
        "adviser",
        "available_since",
        "capacity",
        "counts",
        "filing",
        "fill_load",
        "id",
        "limits",
        "live_load",
        "logged_in",
        "offers",
        "pools",
        "ready",
        "site_id",
        "version",
    )

    def __init__(self, adviser: Adviser, now: float) -> None:
        self.adviser = adviser
        self.id = adviser.id
        self.site_id = adviser.site_id
        self.set_capacity(adviser.capacity)
        self.ready = False
        self.logged_in = False
        self.counts: dict[Channel, int] = dict.fromkeys(Channel, 0)
        self.live_load = 0
        self.fill_load = 0
        self.available_since = now
        self.version = 0
        self.pools: list[Pool] = []
        # Per channel the adviser may be filed for, where they go when free for it.
        self.filing: list[tuple[Channel, ChannelFiling]] = []
        # Pending offers, by contact id, to withdraw them at logout.
        self.offers: dict[int, None] = {}

    def set_capacity(self, capacity: Mapping[Channel, int]) -> None:
        self.capacity = capacity
        # Every channel's limit, 0 if none (read on the hottest path: a plain subscript).
        self.limits = {channel: capacity.get(channel, 0) for channel in Channel}

    def can_take(self, channel: Channel, rules: CapacityRules) -> bool:
        if not self.ready or self.counts[channel] >= self.limits[channel]:
            return False
        weight = rules.weights[channel]
        if channel in rules.gap_fillers:
            return self.live_load + self.fill_load + weight <= rules.budget
        return self.live_load + weight <= rules.budget

    def take(self, channel: Channel, rules: CapacityRules) -> None:
        self.counts[channel] += 1
        self._add_load(channel, rules, rules.weights[channel])

    def release(self, channel: Channel, rules: CapacityRules) -> None:
        self.counts[channel] -= 1
        self._add_load(channel, rules, -rules.weights[channel])

    def _add_load(self, channel: Channel, rules: CapacityRules, delta: int) -> None:
        if channel in rules.gap_fillers:
            self.fill_load += delta
        else:
            self.live_load += delta

    def recompute_load(self, rules: CapacityRules) -> None:
        """After the capacity rules change."""
        self.live_load = self.fill_load = 0
        for channel, count in self.counts.items():
            self._add_load(channel, rules, count * rules.weights[channel])


class ContactRecord:
    """A contact the engine is routing, from arrival until it finishes or is abandoned."""

    __slots__ = (
        "adviser_id",
        "arrival_seq",
        "arrived_at",
        "channel",
        "declined",
        "id",
        "model_wait",
        "offer_seq",
        "offered_at",
        "option",
        "order_time",
        "phase",
        "pool",
        "priority",
        "queue_seq",
        "service_site",
        "started_at",
        "step",
        "step_gen",
        "step_until",
        "tier_base",
        "tier_gen",
    )

    def __init__(
        self,
        contact_id: int,
        pool: Pool,
        channel: Channel,
        priority: int,
        option: SiteOption,
        arrived_at: float,
        arrival_seq: int = 0,
    ) -> None:
        self.id = contact_id
        self.pool = pool
        self.channel = channel
        self.priority = priority
        self.option = option
        self.arrived_at = arrived_at
        # Place in line: a callback, a declined or missed offer keep the original arrival.
        self.order_time = arrived_at
        # FIFO among equal places: the order the engine learnt of the arrivals, kept as well.
        self.arrival_seq = arrival_seq
        # Tier timers count from here (a booked callback starts afresh at its slot).
        self.tier_base = arrived_at
        self.tier_gen = 0
        # The tier step in force, cached until `step_until` while the tables' generation is
        # `step_gen` (the engine's; -1: not cached).
        self.step: TierStep = UNCACHED_STEP
        self.step_until = 0.0
        self.step_gen = -1
        self.phase = ContactPhase.WAITING
        self.queue_seq = -1
        self.adviser_id: int | None = None
        self.offer_seq = 0
        self.offered_at = 0.0
        self.started_at = 0.0
        self.service_site = 0
        self.declined: frozenset[int] = frozenset()
        # The model's wait estimate announced at arrival (-1: none, or already compared).
        self.model_wait = -1.0
