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
from allo.routing.pool import AdviserEntry, FreeHeap, Pool
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
        heap.quiet = 0
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


ContactKey = tuple[bool, int, float, int]
WAITING = ContactPhase.WAITING


def best_contact(
    adviser: AdviserRecord,
    rules: CapacityRules,
    step_of: Callable[[ContactRecord], TierStep],
) -> ContactRecord | None:
    """The waiting contact the adviser should take next, across every pool they belong to.

    Order: live channels before gap fillers (emails), then priority, then place in line.
    Only the head of each class is looked at: within a class, the contact who waited longest
    is also the one whose tiers allow the most sites.
    """
    # Most pools have nobody waiting: what the adviser can take is asked only when needed.
    takes: dict[Channel, bool] = {}
    best: ContactRecord | None = None
    best_key: ContactKey | None = None
    gap_fillers = rules.gap_fillers
    site_id, adviser_id = adviser.site_id, adviser.id
    pop = heapq.heappop
    for pool in adviser.pools:
        classes = pool.classes
        if not classes:
            continue
        for cls in classes.values():
            channel, _, priority = cls.key
            can = takes.get(channel)
            if can is None:
                can = takes[channel] = adviser.can_take(channel, rules)
            if not can:
                continue
            # The head of the class: stale entries (earlier stays in line) are dropped.
            heap = cls.heap
            while heap:
                head = heap[0]
                contact = head[3]
                if contact.queue_seq == head[2] and contact.phase is WAITING:
                    break
                pop(heap)
            else:
                continue
            key = (channel in gap_fillers, -priority, head[0], head[1])
            if best_key is not None and key >= best_key:
                continue
            if adviser_id in contact.declined:
                continue
            sites = step_of(contact).sites
            if sites is not None and site_id not in sites:
                continue
            best, best_key = contact, key
    return best
