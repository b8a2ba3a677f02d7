"""The routing engine: state of queues, advisers and contacts; an event and the time in,
decisions out. Pure: no I/O, no clock, no randomness, so the live router and the simulator
drive the very same code (DESIGN.md, principle 1).
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from allo.domain.advisers import Adviser, AdviserState
from allo.domain.channels import Channel
from allo.domain.queues import Queue
from allo.domain.sites import Site
from allo.routing import events as ev
from allo.routing.calibration import WaitCalibration
from allo.routing.decisions import (
    AdviserMissed,
    AnnounceWait,
    CallbackConfirmed,
    Decision,
    Ignored,
    OfferContact,
    OfferWithdrawn,
    Overflowed,
    StartCallback,
    WaitEstimate,
)
from allo.routing.eligibility import EligibilityIndex, is_eligible, skill_score
from allo.routing.ewt import WaitProbe, estimate, ewma, record_start, waiting_ahead
from allo.routing.matching import best_adviser, best_contact
from allo.routing.policy import (
    ANY_SITE,
    AdviserSelection,
    CapacityRules,
    RoutingPolicy,
    SiteOption,
)
from allo.routing.pool import (
    EWT_CHANNEL,
    AdviserEntry,
    ChannelFiling,
    ContactClass,
    FreeHeap,
    Pool,
    QueueRecord,
    contact_entry_live,
)
from allo.routing.quality import QualityBook
from allo.routing.state import AdviserRecord, ContactPhase, ContactRecord
from allo.routing.tiers import SiteSet, TierStep, step_span, tier_table
from allo.routing.timers import Timer, TimerKind, Timers

CHANNELS = tuple(Channel)
CALLBACK = Channel.CALLBACK


@dataclass(frozen=True, slots=True)
class QueueStatus:
    queue_id: int
    waiting: int
    longest_wait: float
    estimates: tuple[WaitEstimate, ...]


class RoutingEngine:
    """Routes contacts to advisers; see docs/routing.md for events, decisions and policies.

    Configure with the constructor or with SiteConfigured / QueueConfigured / AdviserUpdated
    events, then feed every fact with `handle(event, now)` and apply the decisions returned.
    Call `handle(Tick(), now)` at `next_timer_at()` (or any later time).
    """

    def __init__(
        self,
        *,
        sites: Iterable[Site] = (),
        queues: Iterable[tuple[Queue, RoutingPolicy]] = (),
        advisers: Iterable[Adviser] = (),
        capacity: CapacityRules | None = None,
        aht_alpha: float = 0.1,
        now: float = 0.0,
    ) -> None:
        self._rules = capacity or CapacityRules()
        self._aht_alpha = aht_alpha
        self._now = now
        self._sites: dict[int, Site] = {}
        self._groups: dict[str, frozenset[int]] = {}
        self._queues: dict[int, QueueRecord] = {}
        self._advisers: dict[int, AdviserRecord] = {}
        self._contacts: dict[int, ContactRecord] = {}
        self._index = EligibilityIndex()
        # Bumped whenever tier tables are dropped, so that steps cached on contacts are too.
        self._tables_gen = 0
        self._quality = QualityBook()
        self._timers = Timers(self._timer_live)
        self._unsettled: set[int] = set()
        # Free heaps to take out of the filings once the event is handled (pool.FreeHeap).
        self._cooling: list[FreeHeap] = []
        # Wait-estimate calibration over every queue, per channel and site option (quiet
        # queues lean on it).
        self._calibration: dict[tuple[Channel, SiteOption], WaitCalibration] = {}
        self._configuring = True
        self._seq = 0
        self._out: list[Decision] = []
        self._handlers: dict[type, Callable[[Any], None]] = self._handler_table()
        for site in sites:
            self._on_site(ev.SiteConfigured(site))
        # Advisers before queues: each pool is then built once, from the index.
        for adviser in advisers:
            self._on_adviser_updated(ev.AdviserUpdated(adviser))
        for queue, policy in queues:
            self._on_queue(ev.QueueConfigured(queue, policy))
        self._configuring = False
        self._settle()
        self._out = []

    def _handler_table(self) -> dict[type, Callable[[Any], None]]:
        return {
            ev.SiteConfigured: self._on_site,
            ev.QueueConfigured: self._on_queue,
            ev.AdviserUpdated: self._on_adviser_updated,
            ev.CapacityChanged: self._on_capacity,
            ev.ContactArrived: self._on_arrived,
            ev.ContactInProgress: self._on_in_progress,
            ev.ContactAbandoned: self._on_abandoned,
            ev.ContactFinished: self._on_finished,
            ev.CallbackRequested: self._on_callback,
            ev.ContactTransferred: self._on_transferred,
            ev.OfferAccepted: self._on_accepted,
            ev.OfferDeclined: self._on_declined,
            ev.OfferTimedOut: self._on_timed_out,
            ev.AdviserReady: self._on_ready,
            ev.AdviserNotReady: self._on_not_ready,
            ev.AdviserLoggedOut: self._on_logged_out,
            ev.Tick: lambda _: None,
        }

    # ------------------------------------------------------------------ driving

    def handle(self, event: ev.RoutingEvent, now: float) -> list[Decision]:
        """Apply one event at time `now` (seconds); timers due by then fire first.

        Time never goes back: an earlier `now` is taken as the latest time already seen.
        """
        if now > self._now:
            self._now = now
        self._out = []
        self._fire_timers()
        handler = self._handlers.get(type(event))
        if handler is None:
            raise TypeError(f"not a routing event: {event!r}")
        handler(event)
        if self._cooling:
            self._cool_heaps()
        return self._out

    def next_timer_at(self) -> float | None:
        """When the engine next needs a Tick (an offer expires, a tier opens, a callback is due)."""
        return self._timers.next_due()

    # ------------------------------------------------------------------ queries

    def estimate_wait(
        self,
        queue_id: int,
        option: SiteOption = ANY_SITE,
        channel: Channel = Channel.VOICE,
        priority: int = 0,
        language: str | None = None,
    ) -> float | None:
        """EWT of a contact arriving now; None when no adviser who could answer is known."""
        queue = self._queues.get(queue_id)
        if queue is None:
            return None
        pool = self._pool(queue, language or queue.queue.language)
        table = self._table(queue, option)
        if best_adviser(pool, channel, table[0].sites, frozenset(), self._rules) is not None:
            return 0.0
        ahead = waiting_ahead(pool, channel, queue.queue.priority + priority)
        raw = self._model_estimate(queue, option, ahead, self._probe(queue, pool, channel))
        return None if raw is None else self._calibrated(queue, channel, option, raw)

    def _model_estimate(
        self, queue: QueueRecord, option: SiteOption, ahead: int, probe: WaitProbe
    ) -> float | None:
        """The model's estimate, before the queue's calibration against observed waits."""
        return estimate(self._table(queue, option), ahead, probe)

    def _probe(self, queue: QueueRecord, pool: Pool, channel: Channel) -> WaitProbe:
        return WaitProbe(pool, channel, queue.handling_time(channel), self._now, self._rules)

    def _calibrated(
        self, queue: QueueRecord, channel: Channel, option: SiteOption, model: float
    ) -> float:
        """The queue's correction of the model (ewt.py, calibration.py)."""
        every_queue = self._calibration.get((EWT_CHANNEL[channel], option))
        return queue.wait_calibration(channel, option).correct(model, every_queue)

    def _calibrate(self, contact: ContactRecord, seen: float) -> None:
        channel, option = contact.channel, contact.option
        contact.pool.queue.wait_calibration(channel, option).record(contact.model_wait, seen)
        key = (EWT_CHANNEL[channel], option)
        every_queue = self._calibration.get(key)
        if every_queue is None:
            every_queue = self._calibration[key] = WaitCalibration()
        every_queue.record(contact.model_wait, seen)

    def queue_status(self, queue_id: int) -> QueueStatus | None:
        queue = self._queues.get(queue_id)
        if queue is None:
            return None
        waiting, oldest = 0, self._now
        for pool in queue.pools.values():
            for cls in pool.classes.values():
                waiting += cls.live
                head = pool.head_contact(cls)
                if head is not None:
                    oldest = min(oldest, head[0])
        options = (ANY_SITE, *queue.policy.announce_options)
        estimates = tuple(WaitEstimate(o, self.estimate_wait(queue_id, o)) for o in options)
        return QueueStatus(queue_id, waiting, self._now - oldest, estimates)

    def contact_phase(self, contact_id: int) -> ContactPhase | None:
        """Where a contact is; None once it finished or was abandoned (or was never seen)."""
        contact = self._contacts.get(contact_id)
        return None if contact is None else contact.phase

    def contact_adviser(self, contact_id: int) -> int | None:
        contact = self._contacts.get(contact_id)
        return None if contact is None else contact.adviser_id

    def adviser_work(self, adviser_id: int) -> Mapping[Channel, int]:
        """Contacts offered to or handled by the adviser, per channel."""
        adviser = self._advisers.get(adviser_id)
        return {} if adviser is None else dict(adviser.counts)

    def adviser_ready(self, adviser_id: int) -> bool:
        adviser = self._advisers.get(adviser_id)
        return adviser is not None and adviser.ready

    def waiting_count(self) -> int:
        return sum(
            cls.live
            for queue in self._queues.values()
            for pool in queue.pools.values()
            for cls in pool.classes.values()
        )

    def allowed_sites(self, contact_id: int) -> frozenset[int] | None:
        """Sites allowed to answer the contact now (None: every site)."""
        return self._step(self._contacts[contact_id]).sites

    # ------------------------------------------------------------------ configuration

    def _on_site(self, event: ev.SiteConfigured) -> None:
        self._sites[event.site.id] = event.site
        groups: dict[str, set[int]] = {}
        for site in self._sites.values():
            for group in site.groups:
                groups.setdefault(group, set()).add(site.id)
        self._groups = {name: frozenset(ids) for name, ids in groups.items()}
        for queue in self._queues.values():
            queue.tables.clear()
        self._tables_gen += 1

    def _on_queue(self, event: ev.QueueConfigured) -> None:
        queue = self._queues.get(event.queue.id)
        if queue is None:
            queue = self._queues[event.queue.id] = QueueRecord(event.queue, event.policy)
            self._pool(queue, event.queue.language)
            return
        queue.queue, queue.policy = event.queue, event.policy
        queue.tables.clear()
        self._tables_gen += 1
        for pool in queue.pools.values():
            pool.channels = event.policy.channels
            self._rebuild_members(pool)
        self._settle()
        for pool in queue.pools.values():
            self._reroute_waiting(pool)

    def _pool(self, queue: QueueRecord, language: str) -> Pool:
        pool = queue.pools.get(language)
        if pool is None:
            pool = queue.pools[language] = Pool(
                queue, language, self._advisers, self._cooling, self._warm
            )
            self._rebuild_members(pool)
            # A new pool has nobody waiting: filing its members is enough (and emits nothing,
            # so that a query may create one).
            self._settle(pull=False)
        return pool

    def _rebuild_members(self, pool: Pool) -> None:
        for adviser_id in list(pool.members):
            adviser = self._advisers[adviser_id]
            adviser.pools.remove(pool)
            pool.remove_member(adviser_id, adviser.site_id)
            self._unsettled.add(adviser_id)
        pool.heaps.clear()
        for adviser_id in self._index.members(pool.queue.queue, pool.language):
            self._join(self._advisers[adviser_id], pool)

    def _join(self, adviser: AdviserRecord, pool: Pool) -> None:
        pool.add_member(adviser.id, adviser.site_id, skill_score(adviser.adviser, pool.queue.queue))
        adviser.pools.append(pool)
        self._unsettled.add(adviser.id)

    def _settle(self, pull: bool = True) -> None:
        """Re-file the advisers whose pools changed (once each, even after many changes)."""
        if self._configuring:
            return
        for adviser_id in sorted(self._unsettled):
            adviser = self._advisers[adviser_id]
            adviser.filing = self._filing(adviser)
            if pull:
                self._refresh(adviser)
            else:
                self._publish(adviser)
        self._unsettled.clear()

    def _filing(self, adviser: AdviserRecord) -> list[tuple[Channel, ChannelFiling]]:
        """Where the adviser goes when free for a channel: one heap per pool, at their site
        (but for cold heaps, rebuilt when next asked)."""
        filing = {channel: ChannelFiling() for channel in CHANNELS}
        for pool in adviser.pools:
            for channel in CHANNELS:
                if channel in pool.channels:
                    heap = pool.free_heap(channel, adviser.site_id)
                    if not heap.cold:
                        self._file_in(filing[channel], adviser, heap)
        return [
            (channel, held)
            for channel, held in filing.items()
            if held.idle or held.ranked or held.occupied or held.quality
        ]

    def _file_in(self, filing: ChannelFiling, adviser: AdviserRecord, heap: FreeHeap) -> float:
        """Add the heap to the adviser's filing for its channel; returns their fixed rank
        there (0 when the rank is the time idle or the load)."""
        pool = heap.pool
        selection = pool.queue.policy.selection
        static = 0.0
        if selection is AdviserSelection.MOST_SKILLED:
            static = -float(pool.members[adviser.id])
        elif selection is AdviserSelection.BEST_QUALITY:
            static = -self._quality_score(adviser.id, pool.queue)
        filing.add(heap, pool, selection, static)
        return static

    def _cool_heaps(self) -> None:
        """Take the heaps nobody asked lately out of their members' filings (pool.py)."""
        for heap in self._cooling:
            pool = heap.pool
            if heap.cold or pool.heaps.get(heap.channel, {}).get(heap.site_id) is not heap:
                continue  # cooled already, or dropped when the pool was rebuilt
            heap.cold = True
            heap.entries = []
            for adviser_id in pool.site_members.get(heap.site_id, ()):
                for channel, filing in self._advisers[adviser_id].filing:
                    if channel is heap.channel:
                        filing.remove(heap)
        self._cooling.clear()

    def _warm(self, heap: FreeHeap) -> None:
        """A cold heap is asked for an adviser: file its members in it again, and push the
        free ones (with the rank and version `_publish` would have pushed)."""
        heap.cold, heap.quiet = False, 0
        pool, channel, rules = heap.pool, heap.channel, self._rules
        selection = pool.queue.policy.selection
        entries: list[AdviserEntry] = []
        for adviser_id in pool.site_members.get(heap.site_id, ()):
            adviser = self._advisers[adviser_id]
            filing = next((held for ch, held in adviser.filing if ch is channel), None)
            if filing is None:
                filing = ChannelFiling()
                adviser.filing.append((channel, filing))
            rank = self._file_in(filing, adviser, heap)
            if adviser.ready and adviser.can_take(channel, rules):
                if selection is AdviserSelection.LEAST_OCCUPIED:
                    rank = float(adviser.live_load + adviser.fill_load)
                since, version = adviser.available_since, adviser.version
                entries.append((rank, since, adviser.id, version, adviser))
        heapq.heapify(entries)
        heap.entries = entries

    def _reroute_waiting(self, pool: Pool) -> None:
        waiting = [
            entry[3]
            for cls in pool.classes.values()
            for entry in cls.heap
            if contact_entry_live(entry)
        ]
        for contact in sorted(waiting, key=lambda c: (-c.priority, c.order_time, c.arrival_seq)):
            if contact.phase is ContactPhase.WAITING:
                self._route_waiting(contact)

    def _on_adviser_updated(self, event: ev.AdviserUpdated) -> None:
        adviser = self._advisers.get(event.adviser.id)
        if adviser is None:
            adviser = self._advisers[event.adviser.id] = AdviserRecord(event.adviser, self._now)
            # Not yet in any pool: the pools it joins below count it as present or not.
            adviser.logged_in = event.adviser.state is not AdviserState.LOGGED_OUT
            adviser.ready = event.adviser.state is AdviserState.READY
        else:
            self._index.remove(adviser.adviser)
            for pool in adviser.pools:
                pool.remove_member(adviser.id, adviser.site_id)
            adviser.pools = []
            adviser.adviser, adviser.site_id = event.adviser, event.adviser.site_id
            adviser.set_capacity(event.adviser.capacity)
        self._index.add(event.adviser)
        self._unsettled.add(adviser.id)
        for queue in self._queues.values():
            for pool in queue.pools.values():
                if is_eligible(event.adviser, queue.queue, pool.language):
                    self._join(adviser, pool)
        self._settle()

    def _on_capacity(self, event: ev.CapacityChanged) -> None:
        self._rules = event.rules
        for adviser in self._advisers.values():
            adviser.recompute_load(event.rules)
        for adviser in list(self._advisers.values()):
            self._refresh(adviser)

    # ------------------------------------------------------------------ contacts

    def _on_arrived(self, event: ev.ContactArrived) -> None:
        if event.contact_id in self._contacts:
            return self._ignore(event, "contact already known")
        queue = self._queues.get(event.queue_id)
        if queue is None:
            return self._ignore(event, f"unknown queue {event.queue_id}")
        if event.channel not in queue.policy.channels:
            return self._ignore(event, f"queue {event.queue_id} takes no {event.channel}")
        arrived = self._now if event.arrived_at is None else min(event.arrived_at, self._now)
        pool = self._pool(queue, event.language or queue.queue.language)
        priority = queue.queue.priority + event.priority
        self._seq += 1
        contact = ContactRecord(
            event.contact_id, pool, event.channel, priority, event.option, arrived, self._seq
        )
        self._contacts[contact.id] = contact
        adviser = self._find_adviser(contact)
        if adviser is not None:
            self._offer(contact, adviser)
            self._publish(adviser)
            return None
        self._enqueue(contact)
        self._announce(contact)
        return None

    def _on_in_progress(self, event: ev.ContactInProgress) -> None:
        queue = self._queues.get(event.queue_id)
        adviser = self._advisers.get(event.adviser_id)
        if queue is None or adviser is None or event.contact_id in self._contacts:
            return self._ignore(event, "unknown queue or adviser, or contact already known")
        pool = self._pool(queue, event.language or queue.queue.language)
        contact = ContactRecord(
            event.contact_id, pool, event.channel, queue.queue.priority, ANY_SITE, event.started_at
        )
        self._contacts[contact.id] = contact
        self._serve(contact, adviser, event.started_at)
        return None

    def _serve(self, contact: ContactRecord, adviser: AdviserRecord, started_at: float) -> None:
        """The adviser handles the contact from `started_at` (no offer: it is theirs already)."""
        contact.phase, contact.adviser_id = ContactPhase.IN_PROGRESS, adviser.id
        contact.started_at, contact.service_site = started_at, adviser.site_id
        adviser.take(contact.channel, self._rules)
        contact.pool.service_changed(contact.channel, adviser.site_id, +1)
        self._publish(adviser)

    def _on_transferred(self, event: ev.ContactTransferred) -> None:
        contact = self._contacts.get(event.contact_id)
        queue = self._queues.get(event.queue_id)
        if contact is None or contact.phase is not ContactPhase.IN_PROGRESS or queue is None:
            return self._ignore(event, "contact not in progress, or unknown queue")
        if contact.channel not in queue.policy.channels:
            return self._ignore(event, f"queue {event.queue_id} takes no {contact.channel}")
        target = self._advisers.get(event.adviser_id) if event.adviser_id is not None else None
        self._end_service(contact)  # the first adviser is free (no handling-time sample)
        moved = self._moved_to(contact, queue)
        if event.answered and target is not None:
            self._serve(moved, target, self._now)
        elif (
            target is not None and target.logged_in and target.can_take(moved.channel, self._rules)
        ):
            self._offer(moved, target)  # a named transfer goes to that adviser first
            self._publish(target)
        else:
            self._route_or_enqueue(moved)
        return None

    def _moved_to(self, contact: ContactRecord, queue: QueueRecord) -> ContactRecord:
        """The contact as a new arrival of `queue` (same language, site option and extra
        priority); its place in that line counts from the transfer."""
        extra = contact.priority - contact.pool.queue.queue.priority
        self._seq += 1
        moved = ContactRecord(
            contact.id,
            self._pool(queue, contact.pool.language),
            contact.channel,
            queue.queue.priority + extra,
            contact.option,
            self._now,
            self._seq,
        )
        self._contacts[contact.id] = moved
        return moved

    def _on_abandoned(self, event: ev.ContactAbandoned) -> None:
        contact = self._contacts.get(event.contact_id)
        if contact is None:
            return self._ignore(event, "unknown contact")
        if contact.phase is ContactPhase.WAITING:
            self._leave_line(contact)
        elif contact.phase is ContactPhase.OFFERED:
            adviser = self._take_back(contact)
            self._out.append(OfferWithdrawn(contact.id, adviser.id, "abandoned"))
            self._refresh(adviser)
        elif contact.phase is ContactPhase.IN_PROGRESS:
            # Hung up while being served: the adviser is free again, no handling sample.
            self._end_service(contact)
        del self._contacts[contact.id]
        return None

    def _on_finished(self, event: ev.ContactFinished) -> None:
        contact = self._contacts.get(event.contact_id)
        if contact is None or contact.phase is not ContactPhase.IN_PROGRESS:
            return self._ignore(event, "contact is not in progress")
        queue = contact.pool.queue
        channel = EWT_CHANNEL[contact.channel]
        handled = self._now - contact.started_at
        queue.aht[channel] = ewma(queue.aht.get(channel), handled, self._aht_alpha)
        assert contact.adviser_id is not None
        if (
            self._quality.record(
                contact.adviser_id, queue.queue.id, event.resolved, event.satisfaction
            )
            and queue.policy.selection is AdviserSelection.BEST_QUALITY
        ):
            self._rerank_quality(self._advisers[contact.adviser_id], queue)
        del self._contacts[contact.id]
        self._end_service(contact)
        return None

    def _end_service(self, contact: ContactRecord) -> None:
        adviser = self._advisers[contact.adviser_id] if contact.adviser_id is not None else None
        contact.pool.service_changed(contact.channel, contact.service_site, -1)
        if adviser is not None:
            adviser.release(contact.channel, self._rules)
            adviser.available_since = self._now
            self._refresh(adviser)

    def _on_callback(self, event: ev.CallbackRequested) -> None:
        contact = self._contacts.get(event.contact_id)
        if contact is None or contact.phase is not ContactPhase.WAITING:
            return self._ignore(event, "contact is not waiting")
        queue = contact.pool.queue
        if Channel.CALLBACK not in queue.policy.channels:
            return self._ignore(event, f"queue {queue.queue.id} takes no callbacks")
        if event.at is not None and not self._bookable(queue.queue, event.at):
            return self._ignore(event, "the slot is past or outside the queue's opening hours")
        self._leave_line(contact)
        contact.channel = Channel.CALLBACK
        self._out.append(CallbackConfirmed(contact.id, event.at))
        if event.at is None:
            # Keeps its place: same order time, back in line as a callback.
            self._route_or_enqueue(contact)
        else:
            contact.phase = ContactPhase.BOOKED
            contact.model_wait = -1.0  # its wait is now the customer's choice
            contact.tier_gen += 1
            self._timers.add(event.at, TimerKind.CALLBACK_DUE, contact.id, contact.tier_gen)
        return None

    def _bookable(self, queue: Queue, at: float) -> bool:
        return at > self._now and queue.opening_hours.is_open(datetime.fromtimestamp(at, UTC))

    # ------------------------------------------------------------------ offers

    def _on_accepted(self, event: ev.OfferAccepted) -> None:
        contact = self._pending_offer(event, event.contact_id, event.adviser_id)
        if contact is None:
            return
        contact.phase = ContactPhase.IN_PROGRESS
        contact.started_at = self._now
        self._advisers[event.adviser_id].offers.pop(contact.id, None)

    def _on_declined(self, event: ev.OfferDeclined) -> None:
        contact = self._pending_offer(event, event.contact_id, event.adviser_id)
        if contact is None:
            return
        adviser = self._take_back(contact)
        contact.declined = contact.declined | {adviser.id}
        self._refresh(adviser)
        self._route_or_enqueue(contact)

    def _on_timed_out(self, event: ev.OfferTimedOut) -> None:
        contact = self._pending_offer(event, event.contact_id, event.adviser_id)
        if contact is not None:
            self._missed(contact)

    def _missed(self, contact: ContactRecord) -> None:
        """Not answered in time: back to the head of its class, the adviser not ready."""
        adviser = self._take_back(contact)
        adviser.ready = False
        self._out.append(AdviserMissed(adviser.id, contact.id))
        self._publish(adviser)
        self._route_or_enqueue(contact)

    def _pending_offer(
        self, event: object, contact_id: int, adviser_id: int
    ) -> ContactRecord | None:
        contact = self._contacts.get(contact_id)
        if contact is None or contact.phase is not ContactPhase.OFFERED:
            self._ignore(event, "no pending offer for this contact")
            return None
        if contact.adviser_id != adviser_id:
            self._ignore(event, f"contact is offered to adviser {contact.adviser_id}")
            return None
        return contact

    def _offer(self, contact: ContactRecord, adviser: AdviserRecord) -> None:
        """Hold the adviser's capacity for the contact and tell the driver to offer it."""
        now = self._now
        if contact.model_wait >= 0.0:
            # First offer of a contact that was announced a wait: a calibration sample.
            self._calibrate(contact, now - contact.arrived_at)
            contact.model_wait = -1.0
        contact.phase, contact.adviser_id = ContactPhase.OFFERED, adviser.id
        contact.offer_seq += 1
        contact.offered_at, contact.service_site = now, adviser.site_id
        adviser.take(contact.channel, self._rules)
        adviser.offers[contact.id] = None
        adviser.available_since = now
        contact.pool.service_changed(contact.channel, adviser.site_id, +1)
        record_start(contact.pool, contact.channel, adviser.site_id, now)
        expires = now + contact.pool.queue.policy.offer_timeout
        self._timers.add(expires, TimerKind.OFFER_EXPIRY, contact.id, contact.offer_seq)
        queue_id = contact.pool.queue_id
        if contact.channel is CALLBACK:
            self._out.append(StartCallback(contact.id, adviser.id, queue_id, expires))
        else:
            self._out.append(
                OfferContact(contact.id, adviser.id, queue_id, contact.channel, expires)
            )

    def _take_back(self, contact: ContactRecord) -> AdviserRecord:
        """End a pending offer: the adviser's capacity is released (caller re-files them)."""
        assert contact.adviser_id is not None
        adviser = self._advisers[contact.adviser_id]
        adviser.release(contact.channel, self._rules)
        adviser.offers.pop(contact.id, None)
        adviser.available_since = self._now
        contact.pool.service_changed(contact.channel, contact.service_site, -1)
        contact.adviser_id = None
        return adviser

    # ------------------------------------------------------------------ advisers

    def _on_ready(self, event: ev.AdviserReady) -> None:
        adviser = self._advisers.get(event.adviser_id)
        if adviser is None:
            return self._ignore(event, "unknown adviser")
        if not adviser.ready:
            adviser.ready = True
            self._set_logged_in(adviser, True)
            adviser.available_since = self._now
        self._refresh(adviser)
        return None

    def _on_not_ready(self, event: ev.AdviserNotReady) -> None:
        adviser = self._advisers.get(event.adviser_id)
        if adviser is None:
            return self._ignore(event, "unknown adviser")
        adviser.ready = False
        self._set_logged_in(adviser, True)  # on a break or busy elsewhere, but here
        self._publish(adviser)
        return None

    def _on_logged_out(self, event: ev.AdviserLoggedOut) -> None:
        adviser = self._advisers.get(event.adviser_id)
        if adviser is None:
            return self._ignore(event, "unknown adviser")
        adviser.ready = False
        self._set_logged_in(adviser, False)
        self._publish(adviser)
        for contact_id in list(adviser.offers):
            contact = self._contacts[contact_id]
            self._take_back(contact)
            self._out.append(OfferWithdrawn(contact.id, adviser.id, "adviser logged out"))
            self._route_or_enqueue(contact)
        return None

    def _set_logged_in(self, adviser: AdviserRecord, logged_in: bool) -> None:
        if adviser.logged_in is not logged_in:
            adviser.logged_in = logged_in
            for pool in adviser.pools:
                pool.presence_changed(adviser.site_id, 1 if logged_in else -1)

    def _refresh(self, adviser: AdviserRecord) -> None:
        """The adviser may take more: give them waiting work first, then file them as free."""
        if adviser.ready:
            while contact := best_contact(
                adviser, self._rules, self._step, self._reach, self._tables_gen
            ):
                self._leave_line(contact)
                self._offer(contact, adviser)
        self._publish(adviser)

    def _publish(self, adviser: AdviserRecord) -> None:
        """New version of the adviser: older heap entries go stale; push the current ones.

        This is the hot path (every time an adviser frees up): one push per eligible pool
        and free channel, through the filing list built when the pools changed.
        """
        adviser.version += 1
        if not adviser.ready:
            return
        shared: AdviserEntry = (0.0, adviser.available_since, adviser.id, adviser.version, adviser)
        rules = self._rules
        for channel, filing in adviser.filing:
            if adviser.can_take(channel, rules):
                filing.push(shared, float(adviser.live_load + adviser.fill_load))

    def _quality_score(self, adviser_id: int, queue: QueueRecord) -> float:
        return self._quality.score(adviser_id, queue.queue.id, queue.policy.quality)

    def _rerank_quality(self, adviser: AdviserRecord, queue: QueueRecord) -> None:
        """An outcome changed the adviser's quality for the queue: their rank in its heaps too.

        Entries already in the heaps keep the old rank until the adviser is next published
        (the finish that recorded the outcome publishes them right after).
        """
        rank = -self._quality_score(adviser.id, queue)
        queue_id = queue.queue.id
        for _, filing in adviser.filing:
            for slot in filing.quality:
                if slot.queue_id == queue_id:
                    slot.rank = rank

    # ------------------------------------------------------------------ the line

    def _enqueue(self, contact: ContactRecord) -> None:
        self._seq += 1
        contact.phase, contact.queue_seq = ContactPhase.WAITING, self._seq
        contact.pool.push_contact(
            (contact.channel, contact.option, contact.priority),
            (contact.order_time, contact.arrival_seq, self._seq, contact),
        )
        self._schedule_next_tier(contact)

    def _leave_line(self, contact: ContactRecord) -> None:
        contact.pool.contact_left((contact.channel, contact.option, contact.priority))
        contact.queue_seq = -1

    def _find_adviser(self, contact: ContactRecord) -> AdviserRecord | None:
        sites = self._step(contact).sites
        return best_adviser(contact.pool, contact.channel, sites, contact.declined, self._rules)

    def _route_or_enqueue(self, contact: ContactRecord) -> None:
        adviser = self._find_adviser(contact)
        if adviser is None:
            self._enqueue(contact)
            return
        self._offer(contact, adviser)
        self._publish(adviser)

    def _route_waiting(self, contact: ContactRecord) -> None:
        adviser = self._find_adviser(contact)
        if adviser is not None:
            self._leave_line(contact)
            self._offer(contact, adviser)
            self._publish(adviser)

    def _table(self, queue: QueueRecord, option: SiteOption) -> tuple[TierStep, ...]:
        table = queue.tables.get(option)
        if table is None:
            table = queue.tables[option] = tier_table(queue.policy.tiers, option, self._groups)
        return table

    def _reach(self, cls: ContactClass) -> SiteSet:
        """Every site a class's contacts may ever be answered from: its last tier (tiers only
        ever add sites)."""
        return self._table(cls.pool.queue, cls.option)[-1].sites

    def _step(self, contact: ContactRecord) -> TierStep:
        """The contact's tier step now, cached on it until its next tier is due (advisers who
        look for work ask for it many times between two tier openings)."""
        if contact.step_gen == self._tables_gen and self._now < contact.step_until:
            return contact.step
        table = self._table(contact.pool.queue, contact.option)
        step, until = step_span(table, contact.tier_base, self._now)
        contact.step, contact.step_until, contact.step_gen = step, until, self._tables_gen
        return step

    def _schedule_next_tier(self, contact: ContactRecord) -> None:
        contact.tier_gen += 1
        for step in self._table(contact.pool.queue, contact.option):
            due = contact.tier_base + step.after
            if due > self._now:
                self._timers.add(due, TimerKind.TIER_OPENS, contact.id, contact.tier_gen)
                return

    def _announce(self, contact: ContactRecord) -> None:
        queue = contact.pool.queue
        options = (
            contact.option,
            *(o for o in queue.policy.announce_options if o != contact.option),
        )
        # The contact is in line already: the others ahead are all counted but itself.
        ahead = waiting_ahead(contact.pool, contact.channel, contact.priority) - 1
        estimates = []
        probe = self._probe(queue, contact.pool, contact.channel)
        for number, option in enumerate(options):
            raw = self._model_estimate(queue, option, ahead, probe)
            if number == 0 and raw is not None:
                # Compared with the wait this contact will see, to calibrate later estimates.
                contact.model_wait = raw
            seconds = None if raw is None else self._calibrated(queue, contact.channel, option, raw)
            estimates.append(WaitEstimate(option, seconds))
        self._out.append(AnnounceWait(contact.id, queue.queue.id, tuple(estimates)))

    # ------------------------------------------------------------------ timers

    def _timer_live(self, timer: Timer) -> bool:
        _, _, kind, contact_id, token = timer
        contact = self._contacts.get(contact_id)
        if contact is None:
            return False
        if kind is TimerKind.OFFER_EXPIRY:
            return contact.phase is ContactPhase.OFFERED and contact.offer_seq == token
        wanted = ContactPhase.WAITING if kind is TimerKind.TIER_OPENS else ContactPhase.BOOKED
        return contact.phase is wanted and contact.tier_gen == token

    def _fire_timers(self) -> None:
        while (timer := self._timers.pop_due(self._now)) is not None:
            contact = self._contacts[timer[3]]
            if timer[2] is TimerKind.OFFER_EXPIRY:
                self._missed(contact)
            elif timer[2] is TimerKind.TIER_OPENS:
                self._tier_opened(contact)
            else:
                contact.tier_base = self._now
                contact.step_gen = -1
                self._route_or_enqueue(contact)

    def _tier_opened(self, contact: ContactRecord) -> None:
        step = self._step(contact)
        self._out.append(Overflowed(contact.id, contact.pool.queue_id, step.number, step.sites))
        self._schedule_next_tier(contact)
        self._route_waiting(contact)

    def _ignore(self, event: object, reason: str) -> None:
        self._out.append(Ignored(type(event).__name__, reason))
