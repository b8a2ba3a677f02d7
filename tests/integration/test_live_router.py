"""The live router over a real database, stepped by hand with a fake clock."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from allo.domain.advisers import AdviserState
from allo.domain.roles import Role
from allo.services import advisers, contacts, offers
from allo.services.principal import Principal, system_principal
from allo.services.router import RouterHost
from allo.store.tables import AdviserRow, ContactRow, EventRow
from allo.store.uow import Store
from tests.conftest import FakeClock
from tests.integration.conftest import Tenant


def adviser_actor(tenant: Tenant, key: str) -> Principal:
    return Principal(
        user_id=None, tenant_id=tenant.id, role=Role.ADVISER, adviser_id=tenant.ids[key]
    )


def set_ready(store: Store, tenant: Tenant, key: str, state: AdviserState) -> None:
    with store.unit_of_work() as uow:
        advisers.set_adviser_state(uow, system_principal(tenant.id), tenant.ids[key], state)


def new_contact(store: Store, tenant: Tenant, **extra: Any) -> int:
    with store.unit_of_work() as uow:
        row = contacts.create_contact(
            uow,
            system_principal(tenant.id),
            {"channel": "chat", "queue_id": tenant.ids["queue"], **extra},
        )
        return row.id


def contact(store: Store, contact_id: int) -> ContactRow:
    with store.unit_of_work() as uow:
        row = uow.session.get(ContactRow, contact_id)
        assert row is not None
        return row


def step(host: RouterHost, times: int = 2) -> None:
    for _ in range(times):
        host.step()


@pytest.fixture
def host(store: Store, acme: Tenant) -> Iterator[RouterHost]:
    router_host = RouterHost(store, claim_interval=0)
    router_host.step()
    yield router_host
    router_host.leadership.release_all()


def test_offer_accept_close_and_next(store: Store, acme: Tenant, host: RouterHost) -> None:
    set_ready(store, acme, "paris_adviser", AdviserState.READY)
    first = new_contact(store, acme)
    step(host)
    offered = contact(store, first)
    assert (offered.status, offered.adviser_id) == ("offered", acme.ids["paris_adviser"])
    assert offered.offer_expires_at is not None
    with store.unit_of_work() as uow:
        offers.accept_offer(uow, adviser_actor(acme, "paris_adviser"), first)
    with store.unit_of_work() as uow:
        offers.close_contact(
            uow,
            adviser_actor(acme, "paris_adviser"),
            first,
            wrap_code="facture-expliquee",
            resolved=True,
        )
    assert contact(store, first).status == "closed"
    second = new_contact(store, acme)
    step(host)
    assert contact(store, second).status == "offered"


def test_france_choice_prefers_france_then_overflows(
    store: Store, acme: Tenant, host: RouterHost, clock: FakeClock
) -> None:
    set_ready(store, acme, "tana_adviser", AdviserState.READY)
    chosen = new_contact(store, acme, site_group="france")
    step(host)
    assert contact(store, chosen).status == "queued"
    clock.advance(91)
    step(host)
    moved = contact(store, chosen)
    assert (moved.status, moved.adviser_id) == ("offered", acme.ids["tana_adviser"])
    with store.unit_of_work() as uow:
        types = [
            e.type
            for e in uow.session.scalars(
                select(EventRow).where(EventRow.subject_id == chosen)
            ).all()
        ]
    assert "contact.overflowed" in types
    assert "contact.wait_estimate" in types


def test_france_only_is_honoured_whatever_the_wait(
    store: Store, acme: Tenant, host: RouterHost, clock: FakeClock
) -> None:
    set_ready(store, acme, "tana_adviser", AdviserState.READY)
    only = new_contact(store, acme, site_group="france", site_only=True)
    for _ in range(5):
        clock.advance(100)
        step(host)
    assert contact(store, only).status == "queued"
    set_ready(store, acme, "paris_adviser", AdviserState.READY)
    step(host)
    assert contact(store, only).adviser_id == acme.ids["paris_adviser"]


def test_missed_offer_goes_back_and_adviser_is_not_ready(
    store: Store, acme: Tenant, host: RouterHost, clock: FakeClock
) -> None:
    set_ready(store, acme, "paris_adviser", AdviserState.READY)
    waiting = new_contact(store, acme)
    step(host)
    assert contact(store, waiting).status == "offered"
    clock.advance(16)
    step(host)
    assert contact(store, waiting).status == "queued"
    with store.unit_of_work() as uow:
        adviser = uow.session.get(AdviserRow, acme.ids["paris_adviser"])
        assert adviser is not None and adviser.state == "not_ready"
    with store.unit_of_work() as uow:
        late = pytest.raises(Exception)
        with late:
            offers.accept_offer(uow, adviser_actor(acme, "paris_adviser"), waiting)


def test_declined_offer_goes_to_another_adviser(
    store: Store, acme: Tenant, host: RouterHost
) -> None:
    set_ready(store, acme, "paris_adviser", AdviserState.READY)
    waiting = new_contact(store, acme)
    step(host)
    first = contact(store, waiting).adviser_id
    set_ready(store, acme, "tana_adviser", AdviserState.READY)
    key = "paris_adviser" if first == acme.ids["paris_adviser"] else "tana_adviser"
    with store.unit_of_work() as uow:
        offers.decline_offer(uow, adviser_actor(acme, key), waiting)
    step(host, 3)
    again = contact(store, waiting)
    assert again.status == "offered"


def test_abandon_while_offered_frees_the_adviser(
    store: Store, acme: Tenant, host: RouterHost
) -> None:
    set_ready(store, acme, "paris_adviser", AdviserState.READY)
    gone = new_contact(store, acme)
    step(host)
    with store.unit_of_work() as uow:
        assert offers.abandon_contact(uow, system_principal(acme.id), gone)
    nxt = new_contact(store, acme)
    step(host, 3)
    assert contact(store, gone).status == "abandoned"
    assert contact(store, nxt).status == "offered"


def test_a_new_router_rebuilds_from_the_database_and_keeps_the_order(
    store: Store, acme: Tenant, host: RouterHost
) -> None:
    early = new_contact(store, acme, channel="voice")
    late = new_contact(store, acme, channel="voice")
    step(host)
    host.leadership.release_all()
    successor = RouterHost(store, claim_interval=0)
    step(successor)
    set_ready(store, acme, "paris_adviser", AdviserState.READY)
    step(successor)
    successor.leadership.release_all()
    assert contact(store, early).status == "offered"
    assert contact(store, late).status == "queued"


def test_queue_status_shows_waits_per_option(
    client: TestClient, store: Store, acme: Tenant, host: RouterHost, clock: FakeClock
) -> None:
    set_ready(store, acme, "tana_adviser", AdviserState.READY)
    new_contact(store, acme, site_group="france", site_only=True)
    clock.advance(30)
    step(host)
    status = client.get(
        f"/api/v1/queues/{acme.ids['queue']}/status", headers=acme.auth(Role.SUPERVISOR)
    ).json()
    assert status["waiting"] == 1
    assert status["longest_wait"] == pytest.approx(30, abs=1)
    assert status["estimates"], status


def test_callback_keeps_the_place(store: Store, acme: Tenant, host: RouterHost) -> None:
    early = new_contact(store, acme, channel="voice")
    later = new_contact(store, acme, channel="voice")
    step(host)
    with store.unit_of_work() as uow:
        offers.request_callback(uow, system_principal(acme.id), early, None)
    step(host)
    set_ready(store, acme, "paris_adviser", AdviserState.READY)
    step(host)
    called = contact(store, early)
    assert (called.status, called.channel) == ("offered", "callback")
    assert contact(store, later).status == "queued"
