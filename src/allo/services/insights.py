"""Use cases of conversation insights: messages, analyses, topics, voice of the customer, alerts.

Every text is redacted before it is analysed; the analytics tables (`message_insights`,
`contact_insights`, `insight_topics`, `ideas`) only ever receive redacted text. The stored
message keeps what the customer wrote except payment data, which is replaced on the way in.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from allo.domain.contacts import FINAL_STATUSES, ContactStatus
from allo.domain.customers import PrivacyClass
from allo.domain.errors import InvalidValue
from allo.domain.events import Event
from allo.domain.privacy import Visibility, visibility
from allo.domain.roles import Permission
from allo.insights.chart import stacked_bars
from allo.insights.classify import Reading
from allo.insights.engine import Analyser, default_analyser
from allo.insights.ideas import IdeaOrigin, IdeaStatus, make_title
from allo.insights.labels import Intent
from allo.insights.moderation import screen
from allo.insights.names import spacy_names
from allo.insights.topics import assign_topic, find_topics
from allo.insights.trends import AlertRule, ProblemRate, problem_rate_jumped, rising_topics
from allo.services.common import check_page
from allo.services.errors import NotFound
from allo.services.principal import Principal, system_principal
from allo.store.repository import get_for_tenant
from allo.store.tables import (
    AdviserRow,
    ContactInsightRow,
    ContactRow,
    EventRow,
    IdeaRow,
    InsightTopicRow,
    MessageInsightRow,
    MessageRow,
    QueueRow,
    SiteRow,
)
from allo.store.uow import Store, UnitOfWork

log = logging.getLogger(__name__)
BATCH_LIMIT = 500  # events the insights worker reads at once
ALERT_RULE = AlertRule()
INTENTS = tuple(i.value for i in Intent)


def _analyser(analyser: Analyser | None) -> Analyser:
    return analyser if analyser is not None else default_analyser()


# --- messages -------------------------------------------------------------------------------
# Messages are written by services/messages.py (chat, email, desk), which replaces payment
# data and redacts by patterns on the way in; here each customer message is read again with
# the name finder, classified, and its contact analysed. The insights worker calls this after
# the commit, off the request and router threads. Each use case reads and runs the
# language model first and writes after: on SQLite the first write takes the database's
# single write lock until the commit, and a model running under it would hold up every
# other writer (the live router among them).


def analyse_messages(
    uow: UnitOfWork, message_ids: Sequence[int], analyser: Analyser | None = None
) -> int:
    """`analyse_message` for many at once: one spaCy batch, each contact analysed once."""
    rows = list(uow.session.scalars(select(MessageRow).where(MessageRow.id.in_(message_ids))))
    if not rows:
        return 0
    engine = _analyser(analyser)
    redactions = list(zip(rows, engine.redact([r.body for r in rows]), strict=True))
    said = [(row, red) for row, red in redactions if row.author_kind == "customer"]
    readings = engine.read([red.text for _, red in said]) if said else []
    redacted_now = {row.id: red.text for row, red in redactions}
    contact_ids = sorted({r.contact_id for r in rows})
    contacts = uow.session.scalars(select(ContactRow).where(ContactRow.id.in_(contact_ids))).all()
    contact_readings = _read_per_tenant(uow, contacts, engine, redacted_now)
    for message, redacted in redactions:
        message.body_redacted = redacted.text
    for (message, redacted), reading in zip(said, readings, strict=True):
        _store_message_insight(uow, message, redacted.found, reading, engine.version)
    for read in contact_readings:
        store_contact_readings(uow, read, engine.version)
    uow.commit()
    return len(rows)


def analyse_message(
    uow: UnitOfWork, message_id: int, analyser: Analyser | None = None
) -> MessageRow | None:
    """Fully redact one stored message (names included), read it, re-analyse its contact."""
    analyse_messages(uow, [message_id], analyser)
    return uow.session.get(MessageRow, message_id)


def _active_topics(uow: UnitOfWork, tenant_id: int) -> list[tuple[int, list[str]]]:
    rows = uow.session.scalars(
        select(InsightTopicRow).where(
            InsightTopicRow.tenant_id == tenant_id, InsightTopicRow.active.is_(True)
        )
    ).all()
    return [(row.id, list(row.terms)) for row in rows]


def _store_message_insight(
    uow: UnitOfWork, message: MessageRow, found: dict[str, int], reading: Reading, version: str
) -> None:
    assert message.body_redacted is not None
    known = uow.session.scalar(
        select(MessageInsightRow).where(MessageInsightRow.message_id == message.id)
    )
    if known is not None:
        uow.session.delete(known)
        uow.session.flush()
    uow.session.add(
        MessageInsightRow(
            tenant_id=message.tenant_id,
            message_id=message.id,
            contact_id=message.contact_id,
            intent=reading.intent.value,
            intent_score=reading.intent_score,
            sentiment=reading.sentiment.value,
            sentiment_score=reading.sentiment_score,
            topic_id=assign_topic(message.body_redacted, _active_topics(uow, message.tenant_id)),
            text_redacted=message.body_redacted,
            redactions=dict(found),
            model_version=version,
            analysed_at=uow.now(),
        )
    )


def _contact_texts(
    uow: UnitOfWork,
    contacts: Sequence[ContactRow],
    engine: Analyser,
    redacted_now: dict[int, str],
) -> list[str]:
    """Per contact, its redacted subject followed by its customers' redacted messages (those
    in `redacted_now` as redacted in this unit of work, not yet written)."""
    ids = [c.id for c in contacts]
    messages: dict[int, list[str]] = defaultdict(list)
    for message_id, contact_id, stored in uow.session.execute(
        select(MessageRow.id, MessageRow.contact_id, MessageRow.body_redacted)
        .where(MessageRow.contact_id.in_(ids), MessageRow.author_kind == "customer")
        .order_by(MessageRow.id)
    ):
        text = redacted_now.get(message_id, stored)
        if text:
            messages[contact_id].append(text)
    subjects = engine.redact([c.subject or "" for c in contacts])
    return [
        "\n".join(part for part in [s.text.strip(), *messages[c.id]] if part)
        for c, s in zip(contacts, subjects, strict=True)
    ]


ContactReading = tuple[ContactRow, str, Reading]


def analyse_contacts(
    uow: UnitOfWork, contacts: Sequence[ContactRow], engine: Analyser | None = None
) -> list[ContactInsightRow]:
    """(Re)analyse contacts that have something to read; the caller commits."""
    engine = _analyser(engine)
    return store_contact_readings(uow, read_contacts(uow, contacts, engine), engine.version)


def read_contacts(
    uow: UnitOfWork,
    contacts: Sequence[ContactRow],
    engine: Analyser,
    redacted_now: dict[int, str] | None = None,
) -> list[ContactReading]:
    """The model's reading of each contact that has something to read (no write)."""
    texts = _contact_texts(uow, contacts, engine, redacted_now or {})
    pairs = [(c, t) for c, t in zip(contacts, texts, strict=True) if t]
    readings = engine.read([t for _, t in pairs]) if pairs else []
    return [(c, t, r) for (c, t), r in zip(pairs, readings, strict=True)]


def _read_per_tenant(
    uow: UnitOfWork,
    contacts: Sequence[ContactRow],
    engine: Analyser,
    redacted_now: dict[int, str] | None = None,
) -> list[list[ContactReading]]:
    """`read_contacts` for each tenant's share (topics and alerts are per tenant)."""
    by_tenant: dict[int, list[ContactRow]] = defaultdict(list)
    for contact in contacts:
        by_tenant[contact.tenant_id].append(contact)
    return [read_contacts(uow, group, engine, redacted_now) for group in by_tenant.values()]


def store_contact_readings(
    uow: UnitOfWork, read: Sequence[ContactReading], version: str
) -> list[ContactInsightRow]:
    """Upsert the contacts' insights, announce them, propose ideas, check problem alerts."""
    if not read:
        return []
    tenant_id = read[0][0].tenant_id
    topics = _active_topics(uow, tenant_id)
    stored = []
    for contact, text, reading in read:
        row = _upsert_insight(uow, contact, text, version, reading)
        row.topic_id = assign_topic(text, topics)
        stored.append(row)
        uow.session.flush()
        payload = {
            "intent": row.intent,
            "sentiment": row.sentiment,
            "topic_id": row.topic_id,
            "queue_id": row.queue_id,
            "site_id": row.site_id,
        }
        uow.record("insights.contact_analysed", contact.tenant_id, "contact", contact.id, payload)
        if row.intent == Intent.IDEA.value:
            _propose_idea(uow, contact, row)
    for topic_id in {r.topic_id for r in stored if r.topic_id is not None}:
        check_problem_alert(uow, tenant_id, topic_id)
    return stored


def _site_of(uow: UnitOfWork, contact: ContactRow) -> int | None:
    if contact.adviser_id is None:
        return None
    adviser = uow.session.get(AdviserRow, contact.adviser_id)
    return adviser.site_id if adviser else None


def _upsert_insight(
    uow: UnitOfWork, contact: ContactRow, text: str, version: str, reading: Reading
) -> ContactInsightRow:
    site_id = _site_of(uow, contact)  # read before adding a half-filled row (autoflush)
    row = uow.session.scalar(
        select(ContactInsightRow).where(ContactInsightRow.contact_id == contact.id)
    )
    if row is None:
        row = ContactInsightRow(
            tenant_id=contact.tenant_id, contact_id=contact.id, contact_at=contact.created_at
        )
    row.queue_id = contact.queue_id
    row.site_id = site_id or row.site_id
    row.channel = contact.channel
    row.intent, row.intent_score = reading.intent.value, reading.intent_score
    row.sentiment, row.sentiment_score = reading.sentiment.value, reading.sentiment_score
    row.text_redacted = text
    row.model_version = version
    row.analysed_at = uow.now()
    uow.session.add(row)
    return row


def analyse_pending(
    uow: UnitOfWork, actor: Principal, limit: int = 500, analyser: Analyser | None = None
) -> int:
    """Analyse the tenant's contacts that have a subject or messages but no analysis yet."""
    actor.require(Permission.MANAGE_INSIGHTS)
    check_page(0, limit, max_limit=5000)
    analysed = select(ContactInsightRow.contact_id).where(
        ContactInsightRow.tenant_id == actor.tenant_id
    )
    with_messages = select(MessageRow.contact_id).where(MessageRow.tenant_id == actor.tenant_id)
    contacts = uow.session.scalars(
        select(ContactRow)
        .where(
            ContactRow.tenant_id == actor.tenant_id,
            ContactRow.id.not_in(analysed),
            (ContactRow.subject.is_not(None)) | ContactRow.id.in_(with_messages),
        )
        .order_by(ContactRow.id)
        .limit(limit)
    ).all()
    stored = analyse_contacts(uow, contacts, analyser)
    uow.commit()
    return len(stored)


def read_contact_insight(uow: UnitOfWork, actor: Principal, contact_id: int) -> dict[str, Any]:
    actor.require(Permission.READ_CONTACTS)
    contact = get_for_tenant(uow.session, ContactRow, actor.tenant_id, contact_id)
    row = uow.session.scalar(
        select(ContactInsightRow).where(ContactInsightRow.contact_id == contact.id)
    )
    if row is None:
        raise NotFound("insight", contact_id)
    hidden = visibility(actor.viewer, PrivacyClass.FREE_TEXT) is Visibility.HIDDEN
    return {**insight_view(row), "text_redacted": None if hidden else row.text_redacted}


def insight_view(row: ContactInsightRow) -> dict[str, Any]:
    return {
        "contact_id": row.contact_id,
        "queue_id": row.queue_id,
        "site_id": row.site_id,
        "channel": row.channel,
        "intent": row.intent,
        "intent_score": row.intent_score,
        "sentiment": row.sentiment,
        "sentiment_score": row.sentiment_score,
        "topic_id": row.topic_id,
        "model_version": row.model_version,
        "contact_at": row.contact_at,
        "analysed_at": row.analysed_at,
    }


def list_contact_insights(
    uow: UnitOfWork,
    actor: Principal,
    offset: int,
    limit: int,
    filters: dict[str, Any],
) -> tuple[list[dict[str, Any]], int]:
    """Analysed contacts filtered by intent, sentiment, topic, queue or site (no text)."""
    actor.require(Permission.READ_INSIGHTS)
    check_page(offset, limit)
    query = select(ContactInsightRow).where(ContactInsightRow.tenant_id == actor.tenant_id)
    for name, value in filters.items():
        if value is not None:
            query = query.where(getattr(ContactInsightRow, name) == value)
    rows = uow.session.scalars(query.order_by(ContactInsightRow.contact_id)).all()
    page = rows[offset : offset + limit]
    return [insight_view(r) for r in page], len(rows)


# --- topics ---------------------------------------------------------------------------------


def refresh_topics(
    uow: UnitOfWork, actor: Principal, k: int | None = None, seed: int = 0
) -> list[InsightTopicRow]:
    """Cluster the tenant's analysed contacts again; older topics are kept but deactivated."""
    actor.require(Permission.MANAGE_INSIGHTS)
    if k is not None and not 1 <= k <= 50:
        raise InvalidValue("k", "must be between 1 and 50")
    rows = uow.session.scalars(
        select(ContactInsightRow)
        .where(ContactInsightRow.tenant_id == actor.tenant_id)
        .order_by(ContactInsightRow.contact_at.desc())
        .limit(5000)
    ).all()
    topics, assignment = find_topics([r.text_redacted for r in rows], k=k, seed=seed)
    for old in uow.session.scalars(
        select(InsightTopicRow).where(
            InsightTopicRow.tenant_id == actor.tenant_id, InsightTopicRow.active.is_(True)
        )
    ):
        old.active = False
    created = {
        topic.key: InsightTopicRow(
            tenant_id=actor.tenant_id,
            label=topic.label,
            terms=list(topic.terms),
            size=topic.size,
            active=True,
            created_at=uow.now(),
        )
        for topic in topics
    }
    uow.session.add_all(created.values())
    uow.session.flush()
    for row, key in zip(rows, assignment, strict=True):
        row.topic_id = created[key].id if key in created else None
    _reassign_messages(uow, actor.tenant_id)
    payload = {"topics": len(created), "contacts": len(rows)}
    uow.record("insights.topics_refreshed", actor.tenant_id, "tenant", actor.tenant_id, payload)
    uow.commit()
    return list(created.values())


def _reassign_messages(uow: UnitOfWork, tenant_id: int) -> None:
    topics = _active_topics(uow, tenant_id)
    for message in uow.session.scalars(
        select(MessageInsightRow).where(MessageInsightRow.tenant_id == tenant_id)
    ):
        message.topic_id = assign_topic(message.text_redacted, topics)


def list_topics(uow: UnitOfWork, actor: Principal) -> list[InsightTopicRow]:
    actor.require(Permission.READ_INSIGHTS)
    return list(
        uow.session.scalars(
            select(InsightTopicRow)
            .where(InsightTopicRow.tenant_id == actor.tenant_id, InsightTopicRow.active.is_(True))
            .order_by(InsightTopicRow.size.desc(), InsightTopicRow.id)
        )
    )


# --- alerts ---------------------------------------------------------------------------------


def problem_rate(
    uow: UnitOfWork, tenant_id: int, topic_id: int, now: datetime, rule: AlertRule
) -> ProblemRate:
    recent_from = now - timedelta(hours=rule.recent_hours)
    baseline_from = recent_from - timedelta(days=rule.baseline_days)
    rows = uow.session.execute(
        select(ContactInsightRow.intent, ContactInsightRow.contact_at).where(
            ContactInsightRow.tenant_id == tenant_id,
            ContactInsightRow.topic_id == topic_id,
            ContactInsightRow.contact_at >= baseline_from,
        )
    ).all()
    recent = [intent for intent, at in rows if at >= recent_from]
    baseline = [intent for intent, at in rows if at < recent_from]
    problem = Intent.PROBLEM.value
    return ProblemRate(len(recent), recent.count(problem), len(baseline), baseline.count(problem))


def check_problem_alert(
    uow: UnitOfWork, tenant_id: int, topic_id: int, rule: AlertRule = ALERT_RULE
) -> bool:
    """Record an `insights.alert` event when the topic's problem rate jumped, once per window."""
    now = uow.now()
    rate = problem_rate(uow, tenant_id, topic_id, now, rule)
    if not problem_rate_jumped(rate, rule):
        return False
    already = uow.session.scalar(
        select(EventRow.id).where(
            EventRow.tenant_id == tenant_id,
            EventRow.type == "insights.alert",
            EventRow.subject_type == "topic",
            EventRow.subject_id == topic_id,
            EventRow.occurred_at >= now - timedelta(hours=rule.recent_hours),
        )
    )
    if already is not None:
        return False
    topic = uow.session.get(InsightTopicRow, topic_id)
    payload = {
        "topic_id": topic_id,
        "label": topic.label if topic else "",
        "problem_rate": round(rate.recent, 3),
        "baseline_rate": round(rate.baseline, 3),
        "contacts": rate.recent_contacts,
        "problems": rate.recent_problems,
        "window_hours": rule.recent_hours,
    }
    uow.record("insights.alert", tenant_id, "topic", topic_id, payload)
    return True


# --- voice of the customer ------------------------------------------------------------------


def voice_of_customer(uow: UnitOfWork, actor: Principal, days: int = 14) -> dict[str, Any]:
    """Counts of each intent per queue, site, topic and day; rising topics; recent alerts."""
    actor.require(Permission.READ_INSIGHTS)
    if not 1 <= days <= 366:
        raise InvalidValue("days", "must be between 1 and 366")
    until = uow.now()
    window = max(days, 14)
    rows = uow.session.execute(
        select(
            ContactInsightRow.intent,
            ContactInsightRow.queue_id,
            ContactInsightRow.site_id,
            ContactInsightRow.topic_id,
            ContactInsightRow.contact_at,
        ).where(
            ContactInsightRow.tenant_id == actor.tenant_id,
            ContactInsightRow.contact_at >= until - timedelta(days=window),
        )
    ).all()
    since = until - timedelta(days=days)
    in_range = [r for r in rows if r.contact_at >= since]
    names = _names(uow, actor.tenant_id)
    day_keys = [(since + timedelta(days=i + 1)).date().isoformat() for i in range(days)]
    return {
        "since": since,
        "until": until,
        "totals": dict(Counter(r.intent for r in in_range)),
        "by_queue": _count_by(in_range, "queue_id", names["queue"]),
        "by_site": _count_by(in_range, "site_id", names["site"]),
        "by_topic": _count_by(in_range, "topic_id", names["topic"]),
        "days": day_keys,
        "by_day": _count_days(in_range),
        "rising": _rising(rows, until, names["topic"]),
        "alerts": _recent_alerts(uow, actor.tenant_id, since),
    }


def _names(uow: UnitOfWork, tenant_id: int) -> dict[str, dict[int, str]]:
    def of(model: Any, column: Any) -> dict[int, str]:
        rows = uow.session.execute(select(model.id, column).where(model.tenant_id == tenant_id))
        return {ident: name for ident, name in rows}

    return {
        "queue": of(QueueRow, QueueRow.name),
        "site": of(SiteRow, SiteRow.name),
        "topic": of(InsightTopicRow, InsightTopicRow.label),
    }


def _count_by(rows: Sequence[Any], field: str, names: dict[int, str]) -> list[dict[str, Any]]:
    counts: dict[int | None, Counter[str]] = defaultdict(Counter)
    for row in rows:
        counts[getattr(row, field)][row.intent] += 1
    ordered = sorted(counts.items(), key=lambda kv: (-kv[1].total(), kv[0] is None, kv[0] or 0))
    return [
        {
            "id": key,
            "name": names.get(key, "") if key is not None else None,
            "counts": {intent: counter.get(intent, 0) for intent in INTENTS},
            "total": counter.total(),
        }
        for key, counter in ordered
    ]


def _count_days(rows: Sequence[Any]) -> dict[str, dict[str, int]]:
    days: dict[str, Counter[str]] = defaultdict(Counter)
    for row in rows:
        days[row.contact_at.date().isoformat()][row.intent] += 1
    return {day: dict(counter) for day, counter in sorted(days.items())}


def _rising(rows: Sequence[Any], until: datetime, names: dict[int, str]) -> list[dict[str, Any]]:
    cut = until - timedelta(days=7)
    start = cut - timedelta(days=7)
    recent = Counter(r.topic_id for r in rows if r.topic_id is not None and r.contact_at >= cut)
    before = Counter(
        r.topic_id for r in rows if r.topic_id is not None and start <= r.contact_at < cut
    )
    return [
        {
            "topic_id": rise.topic_id,
            "label": names.get(rise.topic_id, ""),
            "recent": rise.recent,
            "before": rise.before,
            "growth": round(rise.growth, 2),
        }
        for rise in rising_topics(recent, before)
    ]


def _recent_alerts(uow: UnitOfWork, tenant_id: int, since: datetime) -> list[dict[str, Any]]:
    rows = uow.session.scalars(
        select(EventRow)
        .where(
            EventRow.tenant_id == tenant_id,
            EventRow.type == "insights.alert",
            EventRow.occurred_at >= since,
        )
        .order_by(EventRow.id.desc())
        .limit(20)
    ).all()
    return [{"id": r.id, "occurred_at": r.occurred_at, **r.payload} for r in rows]


def voc_chart(voc: dict[str, Any], labels: dict[str, str], title: str) -> str:
    return stacked_bars(voc["days"], voc["by_day"], INTENTS, labels, title)


# --- ideas found in contacts ----------------------------------------------------------------


def _propose_idea(uow: UnitOfWork, contact: ContactRow, insight: ContactInsightRow) -> None:
    """An idea read in a contact is proposed to staff, unless its text may not be kept."""
    exists = uow.session.scalar(select(IdeaRow.id).where(IdeaRow.contact_id == contact.id))
    if exists is not None or not screen(insight.text_redacted).acceptable:
        return
    now = uow.now()
    idea = IdeaRow(
        tenant_id=contact.tenant_id,
        title=make_title(insight.text_redacted),
        body=insight.text_redacted,
        origin=IdeaOrigin.CONTACT.value,
        contact_id=contact.id,
        status=IdeaStatus.PROPOSED.value,
        votes=0,
        created_at=now,
        updated_at=now,
    )
    uow.session.add(idea)
    uow.session.flush()
    payload = {"contact_id": contact.id, "origin": idea.origin}
    uow.record("idea.proposed", contact.tenant_id, "idea", idea.id, payload)


# --- feeding from the event bus -------------------------------------------------------------

_ASSIGNING = frozenset({f"contact.{s.value}" for s in ContactStatus if s not in FINAL_STATUSES})


class InsightsWorker:
    """Reads what lands, off the request and router threads: contacts created with a subject,
    customer messages, and the site of the adviser who takes a contact.

    It hears committed events from the bus, queues them and works through them in its own
    thread, so the first spaCy load or a slow analysis never delays a reply or an offer.
    """

    def __init__(self, store: Store) -> None:
        self.store = store
        self._queue: queue.Queue[Sequence[Event]] = queue.Queue()
        self._idle = threading.Event()
        self._idle.set()

    def hear(self, events: Sequence[Event]) -> None:
        wanted = [e for e in events if _wanted(e)]
        if wanted:
            self._idle.clear()
            self._queue.put(wanted)

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                batch = list(self._queue.get(timeout=0.2))
            except queue.Empty:
                self._idle.set()
                continue
            # Coalesce what piled up: spaCy reads a batch far faster than one text at a time,
            # and a contact with several new messages is analysed once.
            while len(batch) < BATCH_LIMIT:
                try:
                    batch.extend(self._queue.get_nowait())
                except queue.Empty:
                    break
            try:
                self.handle(batch)
            except Exception:
                log.exception("insights worker failed on %s events", len(batch))

    def handle(self, events: Sequence[Event]) -> None:
        created = [e for e in events if e.type == "contact.created"]
        moved = [e for e in events if e.type in _ASSIGNING]
        message_ids = [e.payload["message_id"] for e in events if e.type == "message.created"]
        if message_ids:
            with self.store.unit_of_work() as uow:
                analyse_messages(uow, message_ids)
        if created or moved:
            _follow(self.store, created, moved)

    def warm_up(self) -> None:
        """Train the reader and load the language model before the first event, so that
        neither delays the first contacts (nor takes its CPU while they arrive)."""
        default_analyser()
        spacy_names().warm_up()

    def drain(self, timeout: float = 30.0) -> None:
        """Wait until every event heard so far is handled (tests, shutdown)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._queue.empty() and self._idle.wait(0.05) and self._queue.empty():
                return
        raise TimeoutError("insights worker did not drain")


def follow_events(store: Store, worker: InsightsWorker, stop: threading.Event) -> None:
    """`allo insights`: feed the worker from the event table, in a process of its own."""
    from allo.services.router import EventCursor
    from allo.store.uow import as_event

    with store.unit_of_work() as uow:
        start = uow.session.scalar(select(func.max(EventRow.id))) or 0
    cursor = EventCursor(start, gap_wait=1.0)
    worker.warm_up()
    log.info("insights worker following events after %s", start)
    reader = threading.Thread(target=worker.run, args=(stop,), daemon=True)
    reader.start()
    while not stop.is_set():
        with store.unit_of_work() as uow:
            rows = cursor.read(uow, limit=2000)
        if rows:
            worker.hear([as_event(row) for row in rows])
        stop.wait(0.5)
    reader.join(timeout=10)


def _wanted(event: Event) -> bool:
    if event.type == "contact.created":
        return True
    if event.type == "message.created":
        return event.payload.get("author_kind") == "customer"
    return event.type in _ASSIGNING and bool(event.payload.get("adviser_id"))


def _follow(store: Store, created: Sequence[Event], moved: Sequence[Event]) -> None:
    with store.unit_of_work() as uow:
        ids = [e.subject_id for e in created]
        query = select(ContactRow).where(ContactRow.id.in_(ids), ContactRow.subject.is_not(None))
        contacts = uow.session.scalars(query).all() if ids else []
        if contacts:
            engine = default_analyser()
            for read in _read_per_tenant(uow, contacts, engine):
                store_contact_readings(uow, read, engine.version)
        for event in moved:
            _update_site(uow, event)
        uow.commit()


def _update_site(uow: UnitOfWork, event: Event) -> None:
    row = uow.session.scalar(
        select(ContactInsightRow).where(ContactInsightRow.contact_id == event.subject_id)
    )
    adviser = uow.session.get(AdviserRow, event.payload["adviser_id"])
    if row is not None and adviser is not None and row.site_id != adviser.site_id:
        row.site_id = adviser.site_id


def analyse_as_platform(store: Store, tenant_id: int) -> int:
    """Back-fill every pending contact of a tenant (CLI, demo)."""
    with store.unit_of_work() as uow:
        return analyse_pending(uow, system_principal(tenant_id), limit=5000)
