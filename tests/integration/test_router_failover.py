"""Kill the active router in the middle of a stream of arrivals (PostgreSQL, real processes).

Two `allo router` processes share one database; the first leads, the second stands by on the
advisory lock. Simulated advisers accept and close what they are offered. Half-way through
the arrivals the leader is killed with SIGKILL. Checked: the standby leads within 5 s, no
contact is lost, no contact is ever offered to two advisers at once, no adviser ever holds
more than one call.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from allo.domain.advisers import AdviserState
from allo.domain.roles import Role
from allo.services import accounts, advisers, contacts, offers, queues, sites
from allo.services.bus import EventBus
from allo.services.errors import Conflict
from allo.services.principal import Principal, system_principal
from allo.store.database import make_engine
from allo.store.migrate import upgrade
from allo.store.tables import ContactRow, EventRow
from allo.store.uow import Store

pytestmark = pytest.mark.postgres
ADVISERS = 6
ARRIVALS = 60
ARRIVAL_GAP = 0.1


def wall_clock() -> datetime:
    return datetime.now(UTC)


@pytest.fixture
def world(empty_pg_url: str) -> Iterator[tuple[str, Store, int, list[int], int]]:
    upgrade(empty_pg_url)
    engine = make_engine(empty_pg_url)
    try:
        yield _populate(empty_pg_url, Store(engine, EventBus(), wall_clock))
    finally:
        engine.dispose()


def _populate(url: str, store: Store) -> tuple[str, Store, int, list[int], int]:
    with store.unit_of_work() as uow:
        tenant = accounts.create_tenant(uow, "failover", "Failover SA")
    actor = system_principal(tenant.id)
    with store.unit_of_work() as uow:
        site = sites.create_site(
            uow,
            actor,
            dict(
                name="Lille",
                country="FR",
                timezone="Europe/Paris",
                languages=["fr"],
                hourly_cost=28.0,
            ),
        )
        queue = queues.create_queue(uow, actor, {"name": "Assistance"})
        ids = [
            advisers.create_adviser(
                uow, actor, {"site_id": site.id, "name": f"A{i}", "languages": {"fr": 5}}
            ).id
            for i in range(ADVISERS)
        ]
        for adviser_id in ids:
            advisers.set_adviser_state(uow, actor, adviser_id, AdviserState.READY)
    return url, store, tenant.id, ids, queue.id


def start_router(url: str, log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "allo", "router", "--database-url", url],
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def wait_for(predicate: object, timeout: float) -> float:
    """Seconds until predicate() is true; fails after timeout."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if predicate():  # type: ignore[operator]
            return time.monotonic() - start
        time.sleep(0.05)
    raise AssertionError("timed out")


def leads(log: Path) -> bool:
    return "leading the router of tenant" in log.read_text(errors="replace")


def simulated_advisers(store: Store, tenant_id: int, stop: threading.Event) -> None:
    """Each adviser accepts what it is offered and closes it 0.2 s later."""
    accepted: dict[int, float] = {}
    while not stop.is_set():
        with store.unit_of_work() as uow:
            offered = uow.session.execute(
                select(ContactRow.id, ContactRow.adviser_id).where(ContactRow.status == "offered")
            ).all()
        for contact_id, adviser_id in offered:
            actor = Principal(None, tenant_id, Role.ADVISER, adviser_id=adviser_id)
            try:
                with store.unit_of_work() as uow:
                    offers.accept_offer(uow, actor, contact_id)
                accepted[contact_id] = time.monotonic()
            except Conflict:
                pass  # withdrawn meanwhile (takeover): it will be offered again
        for contact_id, since in list(accepted.items()):
            if time.monotonic() - since >= 0.2:
                with store.unit_of_work() as uow:
                    row = uow.session.get(ContactRow, contact_id)
                    assert row is not None and row.adviser_id is not None
                    actor = Principal(None, tenant_id, Role.ADVISER, adviser_id=row.adviser_id)
                    offers.close_contact(uow, actor, contact_id, resolved=True)
                del accepted[contact_id]
        stop.wait(0.05)


def check_offers_and_capacity(store: Store) -> None:
    with store.unit_of_work() as uow:
        events = uow.session.scalars(
            select(EventRow).where(EventRow.subject_type == "contact").order_by(EventRow.id)
        ).all()
    holder: dict[int, int | None] = {}  # contact → adviser holding it
    load: dict[int, int] = {}
    for event in events:
        contact_id = event.subject_id
        assert contact_id is not None
        if event.type == "contact.offered":
            assert holder.get(contact_id) is None, f"contact {contact_id} offered twice at once"
            adviser = event.payload["adviser_id"]
            holder[contact_id] = adviser
            load[adviser] = load.get(adviser, 0) + 1
            assert load[adviser] <= 1, f"adviser {adviser} over capacity"
        elif event.type in ("contact.queued", "contact.closed", "contact.abandoned"):
            adviser = holder.pop(contact_id, None)
            if adviser is not None:
                load[adviser] -= 1


def test_standby_takes_over_within_5_s_and_nothing_is_lost(
    world: tuple[str, Store, int, list[int], int], tmp_path: Path
) -> None:
    url, store, tenant_id, _, queue_id = world
    first_log, second_log = tmp_path / "first.log", tmp_path / "second.log"
    first = start_router(url, first_log)
    wait_for(lambda: leads(first_log), 30)
    second = start_router(url, second_log)
    stop = threading.Event()
    agents = threading.Thread(target=simulated_advisers, args=(store, tenant_id, stop))
    agents.start()
    created: list[int] = []
    takeover = None
    try:
        actor = system_principal(tenant_id)
        for n in range(ARRIVALS):
            with store.unit_of_work() as uow:
                created.append(
                    contacts.create_contact(
                        uow, actor, {"channel": "voice", "queue_id": queue_id}
                    ).id
                )
            if n == ARRIVALS // 2:
                assert not leads(second_log), "the standby must not lead while the first lives"
                os.kill(first.pid, signal.SIGKILL)
                first.wait()
                killed_at = time.monotonic()
            if n > ARRIVALS // 2 and takeover is None and leads(second_log):
                takeover = time.monotonic() - killed_at
            time.sleep(ARRIVAL_GAP)
        if takeover is None:
            takeover = wait_for(lambda: leads(second_log), 10) + time.monotonic() - killed_at

        def all_closed() -> bool:
            with store.unit_of_work() as uow:
                statuses = uow.session.scalars(select(ContactRow.status)).all()
            return len(statuses) == ARRIVALS and all(s == "closed" for s in statuses)

        wait_for(all_closed, 60)
    finally:
        stop.set()
        agents.join()
        for process in (first, second):
            if process.poll() is None:
                process.terminate()
                process.wait(timeout=10)
    print(f"takeover after {takeover:.2f} s")
    assert takeover < 5.0, f"takeover took {takeover:.1f} s"
    check_offers_and_capacity(store)
