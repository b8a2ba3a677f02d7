"""The live router: committed events in, the pure engine's decisions applied through services.

`TenantRouter` keeps one `RoutingEngine` in step with one tenant's database: it is rebuilt
from the tables when it takes over, then fed every committed event; its decisions are
written back with conditional updates (services/offers.py). When a write finds the database
moved on (a race with an adviser or a customer), the engine is rebuilt from the truth.

`RouterHost` reads the global event stream once, leads every tenant whose lock it holds
(store/leader.py) and runs their routers; standbys keep trying the locks and take over.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select

from allo.domain.advisers import AdviserState
from allo.domain.channels import Channel
from allo.domain.contacts import ContactStatus
from allo.domain.events import Event
from allo.routing import (
    AdviserLoggedOut,
    AdviserMissed,
    AdviserNotReady,
    AdviserReady,
    AdviserUpdated,
    AnnounceWait,
    CallbackConfirmed,
    CallbackRequested,
    ContactAbandoned,
    ContactArrived,
    ContactFinished,
    ContactInProgress,
    ContactTransferred,
    Decision,
    Ignored,
    OfferAccepted,
    OfferContact,
    OfferDeclined,
    OfferWithdrawn,
    Overflowed,
    QueueConfigured,
    RoutingEngine,
    RoutingEvent,
    SiteConfigured,
    SiteOption,
    StartCallback,
    Tick,
)
from allo.services import advisers as adviser_service
from allo.services import offers
from allo.services import queues as queue_service
from allo.services import sites as site_service
from allo.services.routing_policy import policy_from_json
from allo.store.leader import Leadership, leadership_for
from allo.store.tables import (
    AdviserRow,
    ContactRow,
    EventRow,
    QueueRow,
    QueueStatusRow,
    SiteRow,
    TenantRow,
)
from allo.store.uow import Store, UnitOfWork

log = logging.getLogger(__name__)
S = ContactStatus
LIVE = (S.QUEUED, S.OFFERED, S.IN_PROGRESS, S.WRAP_UP)
STATUS_EVERY = 1.0  # seconds between queue status snapshots


def epoch(moment: datetime) -> float:
    return moment.timestamp()


def option_of(row: ContactRow) -> SiteOption:
    return SiteOption(row.site_group, only=row.site_only) if row.site_group else SiteOption()


def arrival_of(row: ContactRow) -> ContactArrived:
    return ContactArrived(
        contact_id=row.id,
        queue_id=row.queue_id,
        channel=Channel(row.channel),
        language=row.language,
        priority=row.priority,
        option=option_of(row),
        arrived_at=epoch(row.created_at),
    )


def adviser_event(row: AdviserRow) -> AdviserUpdated:
    return AdviserUpdated(adviser_service.to_domain(row))


def state_event(adviser_id: int, state: str) -> RoutingEvent:
    if state == AdviserState.READY.value:
        return AdviserReady(adviser_id)
    if state == AdviserState.LOGGED_OUT.value:
        return AdviserLoggedOut(adviser_id)
    return AdviserNotReady(adviser_id, reason=state)


def concerns_routing(event: Event) -> bool:
    if event.payload.get("by") == offers.ROUTER:
        return False
    return hasattr(Translator, "_" + event.type.partition(".")[0])


class Translator:
    """Turns one committed event row into the engine events it means."""

    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow
        self._loaded: list[ContactRow] = []

    def load_arrivals(self, rows: Sequence[EventRow]) -> None:
        """Read the contacts these rows create in one query (each would be a round trip)."""
        ids = [r.subject_id for r in rows if r.type == "contact.created" and r.subject_id]
        if ids:
            # Held here: the session's identity map, which `get` reads, keeps rows weakly.
            query = select(ContactRow).where(ContactRow.id.in_(ids))
            self._loaded = list(self.uow.session.scalars(query))

    def __call__(self, row: EventRow) -> list[RoutingEvent]:
        payload = row.payload
        if payload.get("by") == offers.ROUTER:
            return []  # the router's own decisions are already in the engine
        kind, _, action = row.type.partition(".")
        handler = getattr(self, f"_{kind}", None)
        return handler(row, action, payload) if handler and row.subject_id else []

    def _site(self, row: EventRow, action: str, payload: dict[str, Any]) -> list[RoutingEvent]:
        site = self.uow.session.get(SiteRow, row.subject_id)
        return [SiteConfigured(site_service.to_domain(site))] if site else []

    def _queue(self, row: EventRow, action: str, payload: dict[str, Any]) -> list[RoutingEvent]:
        queue = self.uow.session.get(QueueRow, row.subject_id)
        if queue is None:
            return []
        return [
            QueueConfigured(queue_service.to_domain(queue), policy_from_json(queue.routing_policy))
        ]

    def _adviser(self, row: EventRow, action: str, payload: dict[str, Any]) -> list[RoutingEvent]:
        assert row.subject_id is not None
        if action == "state_changed":
            return [state_event(row.subject_id, payload["to"])]
        adviser = self.uow.session.get(AdviserRow, row.subject_id)
        return [adviser_event(adviser)] if adviser else []

    def _contact(self, row: EventRow, action: str, payload: dict[str, Any]) -> list[RoutingEvent]:
        contact_id = row.subject_id
        assert contact_id is not None
        if action == "created":
            contact = self.uow.session.get(ContactRow, contact_id)
            return [arrival_of(contact)] if contact else []
        if action == "in_progress" and payload.get("from") == "offered":
            return [OfferAccepted(contact_id, payload["adviser_id"])]
        if action == "queued" and payload.get("reason") == "declined":
            return [OfferDeclined(contact_id, payload["adviser_id"])]
        if action == "abandoned":
            return [ContactAbandoned(contact_id)]
        if action == "closed":
            satisfaction = payload.get("satisfaction")
            return [ContactFinished(contact_id, payload.get("resolved"), satisfaction)]
        if action == "transferred":
            return [
                ContactTransferred(
                    contact_id,
                    payload["queue_id"],
                    payload.get("to_adviser_id"),
                    answered=payload.get("kind") == "warm",
                )
            ]
        if action == "callback_requested":
            at = payload.get("at")
            return [
                CallbackRequested(contact_id, epoch(datetime.fromisoformat(at)) if at else None)
            ]
        return []


@dataclass
class TenantRouter:
    store: Store
    tenant_id: int
    engine: RoutingEngine = field(init=False)
    needs_rebuild: bool = field(default=True, init=False)
    last_status: float = field(default=0.0, init=False)
    decisions_applied: int = field(default=0, init=False)

    def now(self) -> float:
        return epoch(self.store.clock())

    # -- rebuilding from the tables

    def rebuild(self) -> None:
        """Take the database's word for everything: config, advisers, contacts in flight."""
        with self.store.unit_of_work() as uow:
            self._withdraw_open_offers(uow)
            self.engine = self._engine_from_tables(uow)
            feed = self._contacts_in_flight(uow)
        now = self.now()
        for event in feed:
            self._apply(self.engine.handle(event, now))
        self.needs_rebuild = False
        log.info("router for tenant %s rebuilt with %s contacts", self.tenant_id, len(feed))

    def _withdraw_open_offers(self, uow: UnitOfWork) -> None:
        open_offers = uow.session.scalars(
            select(ContactRow).where(
                ContactRow.tenant_id == self.tenant_id, ContactRow.status == S.OFFERED.value
            )
        ).all()
        for contact in open_offers:
            assert contact.adviser_id is not None
            offers.withdraw_offer(
                uow, self.tenant_id, contact.id, contact.adviser_id, "router takeover"
            )

    def _engine_from_tables(self, uow: UnitOfWork) -> RoutingEngine:
        tenant = (self.tenant_id,)
        site_rows = uow.session.scalars(select(SiteRow).where(SiteRow.tenant_id.in_(tenant)))
        queue_rows = uow.session.scalars(select(QueueRow).where(QueueRow.tenant_id.in_(tenant)))
        adviser_rows = uow.session.scalars(
            select(AdviserRow).where(AdviserRow.tenant_id.in_(tenant))
        )
        return RoutingEngine(
            sites=[site_service.to_domain(r) for r in site_rows],
            queues=[
                (queue_service.to_domain(r), policy_from_json(r.routing_policy)) for r in queue_rows
            ],
            advisers=[adviser_service.to_domain(r) for r in adviser_rows],
            now=self.now(),
        )

    def _contacts_in_flight(self, uow: UnitOfWork) -> list[RoutingEvent]:
        rows = uow.session.scalars(
            select(ContactRow)
            .where(
                ContactRow.tenant_id == self.tenant_id,
                ContactRow.status.in_([s.value for s in LIVE]),
            )
            .order_by(ContactRow.created_at, ContactRow.id)
        ).all()
        feed: list[RoutingEvent] = []
        for row in rows:
            if row.status == S.QUEUED.value:
                feed.append(arrival_of(row))
                if row.channel == Channel.CALLBACK.value:
                    at = epoch(row.callback_at) if row.callback_at else None
                    feed.append(CallbackRequested(row.id, at))
            elif row.adviser_id is not None:
                started = row.answered_at or row.updated_at
                feed.append(
                    ContactInProgress(
                        row.id,
                        row.queue_id,
                        Channel(row.channel),
                        row.adviser_id,
                        epoch(started),
                        row.language,
                    )
                )
        return feed

    # -- following the event stream

    def follow(self, rows: Sequence[EventRow]) -> None:
        if self.needs_rebuild:
            self.rebuild()
            return  # the rebuild read the tables, which already include these events
        with self.store.unit_of_work() as uow:
            translate = Translator(uow)
            translate.load_arrivals(rows)
            feed = [event for row in rows for event in translate(row)]
        now = self.now()
        # The decisions of every event read in this step, in one transaction: a commit is a
        # round trip, and inside `allo serve` each round trip waits for the interpreter lock
        # behind the request threads.
        self._apply([d for event in feed for d in self.engine.handle(event, now)])
        self.tick()

    def tick(self) -> None:
        due = self.engine.next_timer_at()
        now = self.now()
        if due is not None and due <= now:
            self._apply(self.engine.handle(Tick(), now))
        if self.needs_rebuild:
            self.rebuild()
        if now - self.last_status >= STATUS_EVERY:
            self.publish_status()
            self.last_status = now

    # -- applying decisions

    def _apply(self, decisions: Iterable[Decision]) -> None:
        """One transaction for a batch of decisions: one commit, not one per offer."""
        batch = list(decisions)
        if not batch:
            return
        with self.store.unit_of_work() as uow, uow.batch():
            for decision in batch:
                if not self._apply_one(uow, decision):
                    # The database moved on (e.g. the customer left as we offered): resync.
                    log.info("decision %s did not apply; rebuilding", decision)
                    self.needs_rebuild = True
        self.decisions_applied += len(batch)

    def _apply_one(self, uow: UnitOfWork, decision: Decision) -> bool:
        tenant = self.tenant_id
        if isinstance(decision, OfferContact | StartCallback):
            expires = datetime.fromtimestamp(decision.expires_at, UTC)
            return offers.offer_contact(
                uow,
                tenant,
                decision.contact_id,
                decision.adviser_id,
                expires,
                callback=isinstance(decision, StartCallback),
            )
        if isinstance(decision, OfferWithdrawn):
            if decision.reason == "abandoned":
                return True  # the contact is already abandoned in the database
            return offers.withdraw_offer(
                uow, tenant, decision.contact_id, decision.adviser_id, decision.reason
            )
        if isinstance(decision, AdviserMissed):
            offers.withdraw_offer(uow, tenant, decision.contact_id, decision.adviser_id, "missed")
            return offers.mark_missed(uow, tenant, decision.adviser_id, decision.contact_id)
        self._record(uow, decision)
        return True

    def _record(self, uow: UnitOfWork, decision: Decision) -> None:
        """Announcements and overflows are facts for the customer, the wall and analytics."""
        if isinstance(decision, AnnounceWait):
            estimates = [
                {"group": e.option.group, "only": e.option.only, "seconds": e.seconds}
                for e in decision.estimates
            ]
            payload: dict[str, Any] = {"queue_id": decision.queue_id, "estimates": estimates}
            uow.record(
                "contact.wait_estimate",
                self.tenant_id,
                "contact",
                decision.contact_id,
                {**payload, "by": offers.ROUTER},
            )
        elif isinstance(decision, Overflowed):
            sites = sorted(decision.site_ids) if decision.site_ids is not None else None
            uow.record(
                "contact.overflowed",
                self.tenant_id,
                "contact",
                decision.contact_id,
                {"tier": decision.tier, "site_ids": sites, "by": offers.ROUTER},
            )
        elif isinstance(decision, CallbackConfirmed):
            at = datetime.fromtimestamp(decision.at, UTC).isoformat() if decision.at else None
            uow.record(
                "contact.callback_confirmed",
                self.tenant_id,
                "contact",
                decision.contact_id,
                {"at": at, "by": offers.ROUTER},
            )
        elif isinstance(decision, Ignored):
            log.debug("engine ignored %s: %s", decision.event_type, decision.reason)
            return
        uow.commit()

    def publish_status(self) -> None:
        with self.store.unit_of_work() as uow:
            queue_ids = uow.session.scalars(
                select(QueueRow.id).where(QueueRow.tenant_id == self.tenant_id)
            ).all()
            for queue_id in queue_ids:
                status = self.engine.queue_status(queue_id)
                if status is None:
                    continue
                # Per site option and channel: a chat waits less than a call for one adviser.
                estimates = [
                    {
                        "group": e.option.group,
                        "only": e.option.only,
                        "channel": channel.value,
                        "seconds": self.engine.estimate_wait(queue_id, e.option, channel),
                    }
                    for e in status.estimates
                    for channel in (Channel.VOICE, Channel.CHAT, Channel.EMAIL)
                ]
                row = uow.session.get(QueueStatusRow, queue_id) or QueueStatusRow(
                    queue_id=queue_id, tenant_id=self.tenant_id
                )
                row.waiting, row.longest_wait = status.waiting, status.longest_wait
                row.estimates, row.updated_at = estimates, uow.now()
                uow.session.add(row)
            uow.commit()


class EventCursor:
    """Reads the global event stream in id order, waiting briefly at gaps.

    On PostgreSQL an id can become visible after a higher one (two transactions committing
    out of order); a gap is waited for up to `gap_wait` seconds before it is taken as a
    rolled-back id that will never appear.
    """

    def __init__(self, after: int, gap_wait: float = 2.0) -> None:
        self.position = after
        self.gap_wait = gap_wait
        self._gap_since: float | None = None

    def read(self, uow: UnitOfWork, limit: int = 1000) -> list[EventRow]:
        rows = uow.session.scalars(
            select(EventRow).where(EventRow.id > self.position).order_by(EventRow.id).limit(limit)
        ).all()
        taken: list[EventRow] = []
        for row in rows:
            if row.id != self.position + 1 and not self._gap_expired():
                break
            taken.append(row)
            self.position = row.id
            self._gap_since = None
        return taken

    def _gap_expired(self) -> bool:
        now = time.monotonic()
        if self._gap_since is None:
            self._gap_since = now
        return now - self._gap_since >= self.gap_wait


class RouterHost:
    """Runs the routers of the tenants this process leads; the others it keeps trying."""

    def __init__(
        self,
        store: Store,
        tenant_slugs: Sequence[str] | None = None,
        poll_interval: float = 0.05,
        claim_interval: float = 1.0,
    ) -> None:
        self.store = store
        self.slugs = tenant_slugs
        self.poll_interval = poll_interval
        self.claim_interval = claim_interval
        self.leadership: Leadership = leadership_for(store.engine)
        self.routers: dict[int, TenantRouter] = {}
        self._last_claim = 0.0
        with store.unit_of_work() as uow:
            start = uow.session.scalar(select(func.max(EventRow.id))) or 0
        self.cursor = EventCursor(start)
        self._wake = threading.Event()

    def _tenant_ids(self, uow: UnitOfWork) -> list[int]:
        query = select(TenantRow.id)
        if self.slugs:
            query = query.where(TenantRow.slug.in_(self.slugs))
        return list(uow.session.scalars(query).all())

    def claim(self) -> None:
        if not self.leadership.healthy():
            log.warning("lost the router locks; standing by")
            self.routers.clear()
        with self.store.unit_of_work() as uow:
            tenant_ids = self._tenant_ids(uow)
        for tenant_id in tenant_ids:
            if tenant_id not in self.routers and self.leadership.try_lead(tenant_id):
                log.info("leading the router of tenant %s", tenant_id)
                self.routers[tenant_id] = TenantRouter(self.store, tenant_id)

    def step(self) -> None:
        if time.monotonic() - self._last_claim >= self.claim_interval:
            self.claim()
            self._last_claim = time.monotonic()
        with self.store.unit_of_work() as uow:
            rows = self.cursor.read(uow)
        by_tenant: dict[int, list[EventRow]] = {}
        for row in rows:
            by_tenant.setdefault(row.tenant_id, []).append(row)
        for tenant_id, router in list(self.routers.items()):
            router.follow(by_tenant.get(tenant_id, []))

    def run(self, stop: threading.Event) -> None:
        try:
            while not stop.is_set():
                try:
                    self.step()
                except Exception:  # keep routing other tenants; rebuild this one
                    log.exception("router step failed")
                    for router in self.routers.values():
                        router.needs_rebuild = True
                    stop.wait(0.5)
                self._sleep()
        finally:
            self.leadership.release_all()

    def notify(self, events: Sequence[Event]) -> None:
        """Bus subscriber: a commit in this process that routing hears of wakes the router
        at once (a chat line or the router's own decision does not)."""
        if any(concerns_routing(event) for event in events):
            self._wake.set()

    def _sleep(self) -> None:
        """Until woken by a local commit, the next engine timer, or the poll interval."""
        timeout = self.poll_interval
        for router in self.routers.values():
            due = router.engine.next_timer_at() if not router.needs_rebuild else None
            if due is not None:
                timeout = min(timeout, max(0.0, due - router.now()))
        self._wake.wait(timeout)
        self._wake.clear()
