"""The wall's figures of the day, counted by the database, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from allo.domain.advisers import AdviserState
from allo.domain.roles import Role
from allo.services import advisers, wall
from allo.services.errors import Forbidden
from allo.services.principal import Principal
from allo.store.tables import ContactRow, EventRow, QueueRow
from allo.store.uow import Store
from tests.conftest import FakeClock
from tests.integration.conftest import Tenant


def add_contact(
    store: Store,
    tenant: Tenant,
    ago: float,
    status: str,
    answered_after: float | None = None,
) -> None:
    """A contact created `ago` seconds before now, answered `answered_after` seconds later."""
    with store.unit_of_work() as uow:
        created = uow.now() - timedelta(seconds=ago)
        answered = None if answered_after is None else created + timedelta(seconds=answered_after)
        uow.session.add(
            ContactRow(
                tenant_id=tenant.id,
                channel="chat",
                queue_id=tenant.ids["queue"],
                language="fr",
                status=status,
                priority=0,
                site_only=False,
                answered_at=answered,
                created_at=created,
                updated_at=created,
            )
        )
        uow.commit()


def test_service_level_speed_of_answer_and_abandons(
    store: Store, acme: Tenant, clock: FakeClock
) -> None:
    clock.advance(12 * 3600)  # midday, Paris: the morning is "today"
    with store.unit_of_work() as uow:
        queue = uow.session.get(QueueRow, acme.ids["queue"])
        assert queue is not None
        queue.sl_seconds = 20
        uow.commit()
    add_contact(store, acme, 3 * 3600, "closed", answered_after=10)  # within target
    add_contact(store, acme, 2 * 3600, "closed", answered_after=30.5)  # answered late
    add_contact(store, acme, 600, "abandoned")
    add_contact(store, acme, 120, "queued")  # still waiting: neither answered nor lost
    add_contact(store, acme, 40 * 3600, "closed", answered_after=1)  # the day before
    supervisor = Principal(user_id=None, tenant_id=acme.id, role=Role.SUPERVISOR)
    with store.unit_of_work() as uow:
        card = wall.snapshot(uow, supervisor)["queues"][0]
    today = card["today"]
    assert today["offered"] == 4
    assert today["service_level"] == pytest.approx(1 / 3)
    assert today["asa"] == pytest.approx(20.25, abs=1e-3)
    assert today["abandon_rate"] == pytest.approx(1 / 3)
    recent = card["last_30_min"]
    assert (recent["offered"], recent["service_level"], recent["asa"]) == (2, 0.0, None)
    assert recent["abandon_rate"] == 1.0
    assert (card["waiting"], card["longest_wait"]) == (1, 120)


def test_walls_that_saw_the_same_events_share_one_reading(
    store: Store, acme: Tenant, clock: FakeClock
) -> None:
    shared = wall.SharedSnapshots(max_age=1.0)
    supervisor = Principal(user_id=None, tenant_id=acme.id, role=Role.SUPERVISOR)
    with store.unit_of_work() as uow:
        first = shared.get(uow, supervisor, None)
    seen = first["event_id"]
    clock.advance(0.5)
    with store.unit_of_work() as uow:
        assert shared.get(uow, supervisor, seen) is first  # nothing new: the same reading
        assert shared.get(uow, supervisor, None) is not first  # no event named: fresh
    with store.unit_of_work() as uow:
        advisers.set_adviser_state(uow, supervisor, acme.ids["tana_adviser"], AdviserState.READY)
    with store.unit_of_work() as uow:
        pushed = uow.session.scalar(select(func.max(EventRow.id)))
        assert pushed is not None and pushed > seen
        after = shared.get(uow, supervisor, pushed)  # a wall pushed the change reads it
    assert after["event_id"] >= pushed
    states = {a["id"]: a["state"] for a in after["advisers"]}
    assert states[acme.ids["tana_adviser"]] == "ready"
    with store.unit_of_work() as uow:
        assert shared.get(uow, supervisor, pushed) is after
    clock.advance(1.5)  # too old for the figures that move with time alone
    with store.unit_of_work() as uow:
        assert shared.get(uow, supervisor, pushed) is not after
    adviser = Principal(user_id=None, tenant_id=acme.id, role=Role.ADVISER, adviser_id=1)
    with store.unit_of_work() as uow, pytest.raises(Forbidden):
        shared.get(uow, adviser, pushed)
