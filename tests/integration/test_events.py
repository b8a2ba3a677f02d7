"""Every state change appends an event in its own transaction; rollbacks publish nothing."""

from collections.abc import Sequence

import pytest
from sqlalchemy import func, select

from allo.domain.events import Event
from allo.services import sites
from allo.services.accounts import create_tenant
from allo.services.errors import Conflict
from allo.services.principal import system_principal
from allo.store.tables import EventRow, SiteRow
from allo.store.uow import Store

PARIS = dict(
    name="Paris", country="FR", timezone="Europe/Paris", languages=["fr"], hourly_cost=55.0
)


def count(store: Store, model: type) -> int:
    with store.unit_of_work() as uow:
        return uow.session.scalar(select(func.count()).select_from(model)) or 0


def test_change_and_event_are_written_together_and_published_after_commit(store: Store) -> None:
    heard: list[Event] = []

    def listen(events: Sequence[Event]) -> None:
        heard.extend(events)

    store.bus.subscribe(listen)
    with store.unit_of_work() as uow:
        tenant = create_tenant(uow, "acme", "Acme")
    with store.unit_of_work() as uow:
        site = sites.create_site(uow, system_principal(tenant.id), PARIS)
    assert [e.type for e in heard] == ["tenant.created", "site.created"]
    assert heard[1].subject_id == site.id
    assert heard[1].id is not None
    with store.unit_of_work() as uow:
        stored = uow.session.scalars(select(EventRow).order_by(EventRow.id)).all()
        assert [(e.type, e.subject_id) for e in stored][-1] == ("site.created", site.id)


def test_a_failed_write_leaves_neither_row_nor_event_and_publishes_nothing(
    store: Store,
) -> None:
    with store.unit_of_work() as uow:
        tenant = create_tenant(uow, "acme", "Acme")
    actor = system_principal(tenant.id)
    with store.unit_of_work() as uow:
        sites.create_site(uow, actor, PARIS)
    events_before, sites_before = count(store, EventRow), count(store, SiteRow)
    heard: list[Event] = []
    store.bus.subscribe(heard.extend)
    with store.unit_of_work() as uow, pytest.raises(Conflict):
        sites.create_site(uow, actor, PARIS)
    assert (count(store, EventRow), count(store, SiteRow)) == (events_before, sites_before)
    assert heard == []


def test_an_exception_before_commit_rolls_back_the_event(store: Store) -> None:
    with store.unit_of_work() as uow:
        tenant = create_tenant(uow, "acme", "Acme")
    before = count(store, EventRow)
    with pytest.raises(RuntimeError), store.unit_of_work() as uow:
        uow.record("site.created", tenant.id, "site", None, {})
        uow.session.flush()
        raise RuntimeError("crash between the write and the commit")
    assert count(store, EventRow) == before
