"""Matching: the best free adviser for a contact, and the best waiting contact for an adviser.

Both look only at the heads of heaps that the pools keep up to date, so the cost of a
match grows with the number of sites, channels and eligible queues, not with the number of
advisers or waiting contacts.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable

from allo.domain.channels import Channel
from allo.routing.policy import CapacityRules
from allo.routing.pool import AdviserEntry, ContactClass, FreeHeap, Pool
from allo.routing.state import AdviserRecord, ContactPhase, ContactRecord
from allo.routing.tiers import SiteSet, TierStep


def _heaps_at(pool: Pool, channel: Channel, sites: SiteSet) -> Iterable[FreeHeap]:
    by_site = pool.heaps.get(channel)
    if not by_site:
        return ()
    if sites is None:
        return by_site.values()
    if len(sites) < len(by_site):
        return [by_site[site] for site in sites if site in by_site]
    return [heap for site, heap in by_site.items() if site in sites]


def _best_top(
    pool: Pool, channel: Channel, sites: SiteSet, rules: CapacityRules
) -> tuple[FreeHeap, AdviserEntry] | None:
    best: tuple[FreeHeap, AdviserEntry] | None = None
    pop = heapq.heappop
    for heap in _heaps_at(pool, channel, sites):
        if heap.cold:
            pool.warm(heap)
        entries = heap.entries
        while entries:
            top = entries[0]
            adviser = top[4]
            # A live entry means "free for this channel"; checking again costs little and
            # keeps a bookkeeping slip from ever becoming an offer beyond capacity.
            if adviser.version == top[3] and adviser.can_take(channel, rules):
                if best is None or top < best[1]:
                    best = (heap, top)
                break
            pop(entries)
        heap.quiet = 0
    return best


def best_adviser(
    pool: Pool,
    channel: Channel,
    sites: SiteSet,
    declined: frozenset[int],
    rules: CapacityRules,
) -> AdviserRecord | None:
    """The free member at one of `sites` ranked first by the queue's choice, if any."""
    skipped: list[tuple[FreeHeap, AdviserEntry]] = []
    found: AdviserRecord | None = None
    while (best := _best_top(pool, channel, sites, rules)) is not None:
        heap, entry = best
        if entry[2] not in declined:
            found = entry[4]
            break
        # Advisers who declined this contact are set aside, then put back for the others.
        skipped.append((heap, heapq.heappop(heap.entries)))
    for heap, entry in skipped:
        heapq.heappush(heap.entries, entry)
    return found


CHANNELS = tuple(Channel)
WAITING = ContactPhase.WAITING


def _may_take(
    adviser: AdviserRecord, contact: ContactRecord, step_of: Callable[[ContactRecord], TierStep]
) -> bool:
    """Whether the adviser may be offered the contact now: not declined, site allowed."""
    if adviser.id in contact.declined:
        return False
    sites = step_of(contact).sites
    return sites is None or adviser.site_id in sites


def best_contact(
    adviser: AdviserRecord,
    rules: CapacityRules,
    step_of: Callable[[ContactRecord], TierStep],
    reach_of: Callable[[ContactClass], SiteSet],
    tables_gen: int,
) -> ContactRecord | None:
    """The waiting contact the adviser should take next, across every pool they belong to.

    Order: live channels before gap fillers (emails), then priority, then place in line.
    Only the head of each class is looked at: within a class, the contact who waited longest
    is also the one whose tiers allow the most sites. A class is skipped before its head is
    looked at when its rank (channel kind, priority) cannot beat the best found so far, or
    when no tier of it will ever reach the adviser's site (`reach_of`, cached on the class
    for the tables' generation `tables_gen`).
    """
    takes = [channel for channel in CHANNELS if adviser.can_take(channel, rules)]
    best: ContactRecord | None = None
    # The best's rank and place: (gap filler, minus priority, place in line, arrival seq).
    best_gap, best_rank, best_place, best_seq = True, 0, 0.0, 0
    gap_fillers = rules.gap_fillers
    site_id = adviser.site_id
    pop = heapq.heappop
    for pool in adviser.pools:
        classes = pool.classes
        if not classes:  # most pools have nobody waiting
            continue
        for cls in classes.values():
            channel = cls.channel
            if channel not in takes:
                continue
            gap, rank = channel in gap_fillers, -cls.priority
            if best is not None and (gap, rank) > (best_gap, best_rank):
                continue
            if cls.reach_gen != tables_gen:
                cls.reach, cls.reach_gen = reach_of(cls), tables_gen
            reach = cls.reach
            if reach is not None and site_id not in reach:
                continue
            # The head of the class: stale entries (earlier stays in line) are dropped.
            heap = cls.heap
            while heap and (heap[0][3].queue_seq != heap[0][2] or heap[0][3].phase is not WAITING):
                pop(heap)
            if not heap:
                continue
            head = heap[0]
            if best is not None and (gap, rank, head[0], head[1]) >= (
                best_gap,
                best_rank,
                best_place,
                best_seq,
            ):
                continue
            if _may_take(adviser, head[3], step_of):
                best = head[3]
                best_gap, best_rank, best_place, best_seq = gap, rank, head[0], head[1]
    return best
