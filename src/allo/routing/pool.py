"""Pools: the contacts of one queue in one language and the advisers who may take them.

A pool is the unit of eligibility. Its members (every required skill at the minimum level,
the language at the minimum level) are computed once, when the queue, the language or the
adviser changes, so routing a contact never looks at an adviser who could not take it.
Free members sit in one heap per (site, channel), ordered by the queue's adviser choice;
waiting contacts sit in one heap per (channel, site option, priority), ordered by arrival.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Mapping

from allo.domain.channels import Channel
from allo.domain.queues import Queue
from allo.routing.calibration import WaitCalibration
from allo.routing.policy import AdviserSelection, RoutingPolicy, SiteOption
from allo.routing.state import AdviserRecord, ContactPhase, ContactRecord
from allo.routing.tiers import SiteSet, TierStep

# (rank, available since, adviser id, version, adviser): smallest first. `rank` depends on the
# policy (0 for longest idle, minus the skill or quality score, the load); the version tells
# stale entries from live ones. The record itself comes last so that telling them apart needs
# no lookup; comparisons never reach it, since (id, version) is unique within a heap.
AdviserEntry = tuple[float, float, int, int, AdviserRecord]
# (place in line, arrival sequence, queue sequence, contact): smallest first. The first two
# never change for a contact (a callback or a missed offer keeps its place); the queue
# sequence tells the live entry from those of earlier stays in line (and is unique, so the
# record is never compared).
ContactEntry = tuple[float, int, int, ContactRecord]
ClassKey = tuple[Channel, SiteOption, int]
# The site id under which per-site counts keep their sum over every site.
ALL_SITES = -1


# Callbacks wait for the same advisers, in the same line, as calls (a table: an enum member
# looked up on its class costs more than a dict read on the hot paths).
EWT_CHANNEL: dict[Channel, Channel] = {channel: channel for channel in Channel}
EWT_CHANNEL[Channel.CALLBACK] = Channel.VOICE


def ewt_channel(channel: Channel) -> Channel:
    return EWT_CHANNEL[channel]


def contact_entry_live(entry: ContactEntry) -> bool:
    """Whether a line entry is the contact's current stay in line (not an earlier one)."""
    contact = entry[3]
    return contact.queue_seq == entry[2] and contact.phase is ContactPhase.WAITING


class QueueRecord:
    __slots__ = ("aht", "calibration", "policy", "pools", "queue", "tables")

    def __init__(self, queue: Queue, policy: RoutingPolicy) -> None:
        self.queue = queue
        self.policy = policy
        # Exponentially weighted handling time per channel (talk + wrap-up).
        self.aht: dict[Channel, float] = {}
        # Per channel and site option, how the waits seen compare with the model's estimates.
        self.calibration: dict[tuple[Channel, SiteOption], WaitCalibration] = {}
        self.pools: dict[str, Pool] = {}
        # Tier tables per site option, computed on first use; cleared when sites change.
        self.tables: dict[SiteOption, tuple[TierStep, ...]] = {}

    def handling_time(self, channel: Channel) -> float:
        return self.aht.get(EWT_CHANNEL[channel], self.policy.default_aht)

    def wait_calibration(self, channel: Channel, option: SiteOption) -> WaitCalibration:
        key = (EWT_CHANNEL[channel], option)
        held = self.calibration.get(key)
        if held is None:
            held = self.calibration[key] = WaitCalibration()
        return held


# A heap compacted this many times without being asked for an adviser in between goes cold.
COLD_AFTER = 2
# Stale entries a heap may hold beyond twice its members before it is compacted.
COMPACT_SLACK = 16


class FreeHeap:
    """Free advisers of one pool at one site for one channel, best first (stale entries too).

    A heap nobody asks (a queue that takes callbacks nobody requests, a quiet queue) would
    still get an entry every time one of its members frees up. So a heap is born *cold*: in
    no member's filing, empty, and built from its members the first time it is asked. Once
    it has been compacted COLD_AFTER times with no question in between it goes cold again:
    the engine takes it out of its members' filings and empties it. Both cost one pass over
    its members at its site, paid for by the pushes saved.
    """

    __slots__ = ("channel", "cold", "entries", "limit", "pool", "quiet", "site_id")

    def __init__(self, pool: Pool, channel: Channel, site_id: int) -> None:
        self.pool = pool
        self.channel = channel
        self.site_id = site_id
        self.entries: list[AdviserEntry] = []
        self.limit = COMPACT_SLACK
        self.cold = True
        # Compactions since it was last asked.
        self.quiet = 0

    def compact(self) -> None:
        """Drop the stale entries (each member has at most one live entry per heap)."""
        live = [entry for entry in self.entries if entry[4].version == entry[3]]
        heapq.heapify(live)
        self.entries = live
        self.quiet += 1
        if self.quiet == COLD_AFTER:
            # Cooled by the engine once the event is handled (filings are being walked now).
            self.pool.cooling.append(self)


class QualitySlot:
    """A best-quality heap the adviser is filed in, with their (negated) quality rank there."""

    __slots__ = ("heap", "queue_id", "rank")

    def __init__(self, heap: FreeHeap, queue_id: int, rank: float) -> None:
        self.heap = heap
        self.queue_id = queue_id
        self.rank = rank


class ChannelFiling:
    """Where an adviser goes when free for one channel, grouped by how the heap ranks them,
    so that publishing is a few tight loops of pushes (the engine's hot path)."""

    __slots__ = ("idle", "occupied", "quality", "ranked")

    def __init__(self) -> None:
        # Longest idle: rank 0, one shared entry for all of them.
        self.idle: list[FreeHeap] = []
        # Most skilled: a rank fixed while the pools do not change.
        self.ranked: list[tuple[FreeHeap, float]] = []
        # Least occupied: ranked by the adviser's load.
        self.occupied: list[FreeHeap] = []
        # Best quality: ranked by the adviser's quality for the pool's queue (kept up to date
        # by the engine when an outcome is recorded).
        self.quality: list[QualitySlot] = []

    def add(self, heap: FreeHeap, pool: Pool, selection: AdviserSelection, static: float) -> None:
        if selection is AdviserSelection.LEAST_OCCUPIED:
            self.occupied.append(heap)
        elif selection is AdviserSelection.BEST_QUALITY:
            self.quality.append(QualitySlot(heap, pool.queue_id, static))
        elif static == 0.0:
            self.idle.append(heap)
        else:
            self.ranked.append((heap, static))

    def remove(self, heap: FreeHeap) -> None:
        self.idle = [held for held in self.idle if held is not heap]
        self.ranked = [held for held in self.ranked if held[0] is not heap]
        self.occupied = [held for held in self.occupied if held is not heap]
        self.quality = [held for held in self.quality if held.heap is not heap]

    def push(self, shared: AdviserEntry, load: float) -> None:
        """File the adviser in every heap: `shared` is their entry at rank 0 (longest idle)."""
        _, since, ident, version, adviser = shared
        push = heapq.heappush
        for heap in self.idle:
            entries = heap.entries
            push(entries, shared)
            if len(entries) > heap.limit:
                heap.compact()
        for heap, rank in self.ranked:
            entries = heap.entries
            push(entries, (rank, since, ident, version, adviser))
            if len(entries) > heap.limit:
                heap.compact()
        if self.occupied:
            loaded = shared if load == 0.0 else (load, since, ident, version, adviser)
            for heap in self.occupied:
                entries = heap.entries
                push(entries, loaded)
                if len(entries) > heap.limit:
                    heap.compact()
        for slot in self.quality:
            heap = slot.heap
            entries = heap.entries
            push(entries, (slot.rank, since, ident, version, adviser))
            if len(entries) > heap.limit:
                heap.compact()


class ContactClass:
    """Waiting contacts of one channel, option and priority, first come first served."""

    __slots__ = (
        "channel",
        "heap",
        "key",
        "live",
        "option",
        "pool",
        "priority",
        "reach",
        "reach_gen",
    )

    def __init__(self, pool: Pool, key: ClassKey) -> None:
        self.pool = pool
        self.key = key
        self.channel, self.option, self.priority = key
        self.heap: list[ContactEntry] = []
        self.live = 0
        # Every site its contacts may ever be answered from (the last tier), valid while the
        # engine's tier tables are of generation `reach_gen`: advisers elsewhere skip the
        # class without looking at its contacts.
        self.reach: SiteSet = None
        self.reach_gen = -1


class Pool:
    __slots__ = (
        "advisers",
        "channels",
        "classes",
        "cooling",
        "heaps",
        "in_service",
        "language",
        "members",
        "present",
        "queue",
        "site_members",
        "starts",
        "waiting",
        "warm",
    )

    def __init__(
        self,
        queue: QueueRecord,
        language: str,
        advisers: Mapping[int, AdviserRecord],
        cooling: list[FreeHeap],
        warm: Callable[[FreeHeap], None],
    ) -> None:
        # The engine's adviser table, its list of heaps to cool after the event, and how it
        # rebuilds a cold heap when it is asked again.
        self.advisers = advisers
        self.cooling = cooling
        self.warm = warm
        self.queue = queue
        self.language = language
        self.channels = queue.policy.channels
        # Member adviser id -> skill score (sum of levels on what the queue requires).
        self.members: dict[int, int] = {}
        # Member ids per site (a cold heap is rebuilt from them).
        self.site_members: dict[int, dict[int, None]] = {}
        # Members logged in, per site and over ALL_SITES: a wait estimate counts on nobody
        # at a site whose advisers are all logged out.
        self.present: dict[int, int] = {}
        # Free members per channel, then per site.
        self.heaps: dict[Channel, dict[int, FreeHeap]] = {}
        # Only classes with waiting contacts are kept, so an adviser's scan stays short.
        self.classes: dict[ClassKey, ContactClass] = {}
        # Waiting contacts per (channel, priority) and contacts in service per (channel, site):
        # the inputs of the wait estimate.
        self.waiting: dict[tuple[Channel, int], int] = {}
        # Site ALL_SITES holds the sums over every site.
        self.in_service: dict[tuple[Channel, int], int] = {}
        # Decaying rate of service starts per (channel, site): [rate, time of last start].
        self.starts: dict[tuple[Channel, int], list[float]] = {}

    @property
    def queue_id(self) -> int:
        return self.queue.queue.id

    def add_member(self, adviser_id: int, site_id: int, score: int) -> None:
        if adviser_id not in self.members:
            self.site_members.setdefault(site_id, {})[adviser_id] = None
            self._set_limits(site_id)
            if self.advisers[adviser_id].logged_in:
                self.presence_changed(site_id, 1)
        self.members[adviser_id] = score

    def remove_member(self, adviser_id: int, site_id: int) -> None:
        if self.members.pop(adviser_id, None) is not None:
            del self.site_members[site_id][adviser_id]
            self._set_limits(site_id)
            if self.advisers[adviser_id].logged_in:
                self.presence_changed(site_id, -1)

    def presence_changed(self, site_id: int, delta: int) -> None:
        """A member at the site logged in (+1) or out (-1)."""
        for site in (site_id, ALL_SITES):
            self.present[site] = self.present.get(site, 0) + delta

    def is_present(self, site_id: int) -> bool:
        """Whether a member at the site (or at any, for ALL_SITES) is logged in."""
        return self.present.get(site_id, 0) > 0

    def free_heap(self, channel: Channel, site_id: int) -> FreeHeap:
        by_site = self.heaps.setdefault(channel, {})
        heap = by_site.get(site_id)
        if heap is None:
            heap = by_site[site_id] = FreeHeap(self, channel, site_id)
            heap.limit = self._limit(site_id)
        return heap

    def _limit(self, site_id: int) -> int:
        # Each member has at most one live entry per heap; past twice that, compact.
        return 2 * len(self.site_members.get(site_id, ())) + COMPACT_SLACK

    def _set_limits(self, site_id: int) -> None:
        for by_site in self.heaps.values():
            heap = by_site.get(site_id)
            if heap is not None:
                heap.limit = self._limit(site_id)

    def head_contact(self, cls: ContactClass) -> ContactEntry | None:
        heap = cls.heap
        while heap:
            if contact_entry_live(heap[0]):
                return heap[0]
            heapq.heappop(heap)
        return None

    def push_contact(self, key: ClassKey, entry: ContactEntry) -> None:
        cls = self.classes.get(key)
        if cls is None:
            cls = self.classes[key] = ContactClass(self, key)
        heapq.heappush(cls.heap, entry)
        cls.live += 1
        if len(cls.heap) > 2 * cls.live + 16:
            cls.heap[:] = [held for held in cls.heap if contact_entry_live(held)]
            heapq.heapify(cls.heap)
        count_key = (EWT_CHANNEL[key[0]], key[2])
        self.waiting[count_key] = self.waiting.get(count_key, 0) + 1

    def contact_left(self, key: ClassKey) -> None:
        """A waiting contact of class `key` left the line (its heap entry is now stale)."""
        cls = self.classes[key]
        cls.live -= 1
        if cls.live == 0:
            del self.classes[key]
        count_key = (EWT_CHANNEL[key[0]], key[2])
        self.waiting[count_key] -= 1

    def service_changed(self, channel: Channel, site_id: int, delta: int) -> None:
        wanted = EWT_CHANNEL[channel]
        for key in ((wanted, site_id), (wanted, ALL_SITES)):
            self.in_service[key] = self.in_service.get(key, 0) + delta
