"""The supervisor wall: live figures per queue and site, and the changes made from it."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, select

from allo.domain.contacts import BUSY_STATUSES
from allo.domain.roles import Permission, Role
from allo.domain.values import check_levels
from allo.services.errors import Forbidden
from allo.services.principal import Principal
from allo.services.routing_policy import policy_from_json, policy_to_json
from allo.store.expressions import seconds_between
from allo.store.repository import get_for_tenant
from allo.store.tables import (
    AdviserRow,
    AuditRow,
    ContactRow,
    EventRow,
    QueueRow,
    QueueStatusRow,
    SiteRow,
)
from allo.store.uow import UnitOfWork

LIVE = ("queued", "offered", "in_progress", "wrap_up")


def _start_of_day(now: datetime, timezone: str) -> datetime:
    local = now.astimezone(ZoneInfo(timezone))
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def queue_figures(
    uow: UnitOfWork, tenant_id: int, since: datetime
) -> dict[int, dict[str, float | None]]:
    """Per queue, over the contacts created since `since`, counted by the database (a day
    of a busy center is hundreds of thousands of rows: the wall re-reads on every push).

    SL counts answered-in-target over answered + abandoned (every abandon is a miss)."""
    wait = seconds_between(ContactRow.created_at, ContactRow.answered_at)
    rows = uow.session.execute(
        select(
            ContactRow.queue_id,
            func.count(),
            func.count(ContactRow.answered_at),
            func.sum(case((ContactRow.status == "abandoned", 1), else_=0)),
            func.sum(case((wait <= QueueRow.sl_seconds, 1), else_=0)),
            func.sum(wait),
        )
        .join(QueueRow, QueueRow.id == ContactRow.queue_id)
        .where(ContactRow.tenant_id == tenant_id, ContactRow.created_at >= since)
        .group_by(ContactRow.queue_id)
    )
    figures = {}
    for queue_id, offered, answered, abandoned, within, waited in rows:
        handled = answered + (abandoned or 0)
        figures[queue_id] = {
            "offered": float(offered),
            "service_level": (within or 0) / handled if handled else None,
            "asa": (waited or 0.0) / answered if answered else None,
            "abandon_rate": (abandoned or 0) / handled if handled else None,
        }
    return figures


NO_CONTACTS: dict[str, float | None] = {
    "offered": 0.0,
    "service_level": None,
    "asa": None,
    "abandon_rate": None,
}


def _queue_card(
    uow: UnitOfWork,
    queue: QueueRow,
    figures: tuple[dict[int, dict[str, float | None]], dict[int, dict[str, float | None]]],
    live: list[ContactRow],
) -> dict[str, Any]:
    now = uow.now()
    today, recent = figures
    waiting = [r for r in live if r.queue_id == queue.id and r.status in ("queued", "offered")]
    status = uow.session.get(QueueStatusRow, queue.id)
    return {
        "id": queue.id,
        "name": queue.name,
        "sl_target": {"percent": queue.sl_percent, "seconds": queue.sl_seconds},
        "waiting": len(waiting),
        "longest_wait": max(((now - r.created_at).total_seconds() for r in waiting), default=0),
        "today": today.get(queue.id, NO_CONTACTS),
        "last_30_min": recent.get(queue.id, NO_CONTACTS),
        "estimates": status.estimates if status else [],
        "policy": policy_to_json(policy_from_json(queue.routing_policy)),
    }


def _site_cards(
    sites: list[SiteRow], advisers: list[AdviserRow], live: list[ContactRow]
) -> list[dict[str, Any]]:
    busy = {r.adviser_id for r in live if r.status in BUSY_STATUSES and r.adviser_id is not None}
    cards = []
    for site in sites:
        members = [a for a in advisers if a.site_id == site.id]
        present = [a for a in members if a.state != "logged_out"]
        occupied = sum(1 for a in present if a.id in busy)
        cards.append(
            {
                "id": site.id,
                "name": site.name,
                "country": site.country,
                "groups": sorted(site.groups),
                "states": dict(Counter(a.state for a in members)),
                "occupancy": occupied / len(present) if present else None,
            }
        )
    return cards


def _require_wall(actor: Principal) -> None:
    if actor.role not in (Role.ADMIN, Role.SUPERVISOR):
        raise Forbidden("the wall is for supervisors")


def snapshot(uow: UnitOfWork, actor: Principal) -> dict[str, Any]:
    """Everything a wall shows. `event_id` is the tenant's last event when it was read (read
    first: what that event and those before it changed is in the snapshot)."""
    _require_wall(actor)
    tenant = actor.tenant_id
    last_event = uow.session.scalar(
        select(func.max(EventRow.id)).where(EventRow.tenant_id == tenant)
    )
    queues = list(uow.session.scalars(select(QueueRow).where(QueueRow.tenant_id == tenant)))
    sites = list(uow.session.scalars(select(SiteRow).where(SiteRow.tenant_id == tenant)))
    advisers = list(uow.session.scalars(select(AdviserRow).where(AdviserRow.tenant_id == tenant)))
    zone = queues[0].opening_hours.get("timezone", "Europe/Paris") if queues else "Europe/Paris"
    since = _start_of_day(uow.now(), zone)
    figures = (
        queue_figures(uow, tenant, since),
        queue_figures(uow, tenant, uow.now() - timedelta(minutes=30)),
    )
    live = list(
        uow.session.scalars(
            select(ContactRow).where(ContactRow.tenant_id == tenant, ContactRow.status.in_(LIVE))
        )
    )
    names = {a.id: a.name for a in advisers}
    site_of = {a.id: a.site_id for a in advisers}
    return {
        "at": uow.now().isoformat(),
        "event_id": last_event or 0,
        "queues": [_queue_card(uow, q, figures, live) for q in queues],
        "sites": _site_cards(sites, advisers, live),
        "advisers": [
            {"id": a.id, "name": a.name, "site_id": a.site_id, "state": a.state, "skills": a.skills}
            for a in advisers
        ],
        "contacts": [
            {
                "id": c.id,
                "channel": c.channel,
                "queue_id": c.queue_id,
                "status": c.status,
                "adviser": names.get(c.adviser_id or 0),
                "site_id": site_of.get(c.adviser_id or 0),
                "since": c.created_at.isoformat(),
            }
            for c in live
        ],
    }


class SharedSnapshots:
    """One wall snapshot per tenant, shared by every wall that has seen no later event.

    Every wall of a tenant is pushed the same events and re-reads after them: the first to ask
    computes, the others get its answer. A wall asks with the id of the last event pushed to
    it (`since`); a snapshot that read an id at least as high shows what that event changed.
    A snapshot is kept `max_age` seconds at most, for the figures that move with time alone
    (longest wait, the last 30 minutes)."""

    def __init__(self, max_age: float = 1.0) -> None:
        self.max_age = timedelta(seconds=max_age)
        self._held: dict[int, tuple[datetime, dict[str, Any]]] = {}
        self._locks: dict[int, threading.Lock] = {}
        self._guard = threading.Lock()

    def get(self, uow: UnitOfWork, actor: Principal, since: int | None) -> dict[str, Any]:
        """The shared snapshot if it is recent and saw event `since`; None: a fresh one."""
        _require_wall(actor)
        tenant = actor.tenant_id
        with self._guard:
            lock = self._locks.setdefault(tenant, threading.Lock())
        with lock:  # walls asking together wait for one computation
            held = self._held.get(tenant)
            now = uow.now()
            if (
                since is not None
                and held is not None
                and held[1]["event_id"] >= since
                and now - held[0] < self.max_age
            ):
                return held[1]
            fresh = snapshot(uow, actor)
            self._held[tenant] = (now, fresh)
            return fresh


def _audit(
    uow: UnitOfWork, actor: Principal, action: str, kind: str, ident: int, before: Any, after: Any
) -> None:
    uow.audit(
        AuditRow(
            tenant_id=actor.tenant_id,
            user_id=actor.user_id,
            site_id=actor.site_id,
            action=action,
            subject_type=kind,
            subject_id=ident,
            fields={"before": before, "after": after},
            at=uow.now(),
        )
    )


def _require_tuning(actor: Principal) -> None:
    actor.require(Permission.WRITE_CONTACTS)
    if actor.role not in (Role.ADMIN, Role.SUPERVISOR):
        raise Forbidden("only supervisors tune routing")


def set_skills(
    uow: UnitOfWork, actor: Principal, adviser_id: int, skills: dict[str, int]
) -> AdviserRow:
    """A supervisor changes an adviser's skills; the router hears it at once; audited."""
    _require_tuning(actor)
    row = get_for_tenant(uow.session, AdviserRow, actor.tenant_id, adviser_id)
    checked = check_levels("skills", skills, languages=False)
    before = dict(row.skills)
    row.skills, row.updated_at = checked, uow.now()
    _audit(uow, actor, "config.adviser_skills", "adviser", row.id, before, checked)
    uow.record("adviser.updated", actor.tenant_id, "adviser", row.id, {"skills": checked})
    uow.commit()
    return row


def set_policy(
    uow: UnitOfWork, actor: Principal, queue_id: int, policy: dict[str, Any]
) -> QueueRow:
    """A supervisor changes a queue's routing policy (tiers and timers, selection); audited."""
    _require_tuning(actor)
    row = get_for_tenant(uow.session, QueueRow, actor.tenant_id, queue_id)
    checked = policy_to_json(policy_from_json(policy))
    before = dict(row.routing_policy)
    row.routing_policy, row.updated_at = checked, uow.now()
    _audit(uow, actor, "config.queue_policy", "queue", row.id, before, checked)
    uow.record("queue.updated", actor.tenant_id, "queue", row.id, {"changed": ["routing_policy"]})
    uow.commit()
    return row
