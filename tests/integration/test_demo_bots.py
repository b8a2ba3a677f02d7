"""The demo's bots make a living contact center through the same services as people."""

from collections import Counter

from sqlalchemy import select

from allo.demo import seed_demo
from allo.demo_bots import DemoBots
from allo.domain.advisers import AdviserState
from allo.domain.roles import Role
from allo.services import advisers
from allo.services.principal import Principal
from allo.services.router import RouterHost
from allo.store.tables import AdviserRow, ContactRow, EventRow, MessageRow
from allo.store.uow import Store
from tests.conftest import FakeClock


def run(store: Store, clock: FakeClock, tenant_id: int, bots: DemoBots, seconds: float) -> None:
    """The bots and the live router side by side, on the test clock, half a second a step."""
    host = RouterHost(store, claim_interval=0)
    start = bots.started or 0.0
    try:
        for tick in range(int(seconds / 0.5)):
            clock.advance(0.5)
            bots.step(tenant_id, start + tick * 0.5)
            host.step()
    finally:
        host.leadership.release_all()


def test_bots_chat_answer_close_and_rate(store: Store, clock: FakeClock) -> None:
    tenant = seed_demo(store)
    started = clock()
    run(store, clock, tenant.id, DemoBots(store, chat_every=2.0, reply_delay=(0.5, 1.5)), 40)
    with store.unit_of_work() as uow:
        chats = uow.session.scalars(select(ContactRow).where(ContactRow.channel == "chat")).all()
        closed = [c for c in chats if c.status == "closed" and c.created_at >= started]
        assert closed, [c.status for c in chats]
        lines = uow.session.scalars(
            select(MessageRow).where(MessageRow.contact_id == closed[0].id)
        ).all()
        assert {m.author_kind for m in lines} == {"customer", "adviser"}
        assert all(m.meta.get("bot") for m in lines if m.author_kind == "adviser")
        rated = uow.session.scalars(select(EventRow).where(EventRow.type == "contact.rated")).all()
        assert rated


def test_bot_advisers_are_off_shift_on_break_and_wrap_up_like_people(
    store: Store, clock: FakeClock
) -> None:
    tenant = seed_demo(store)
    bots = DemoBots(store, chat_every=1.0, reply_delay=(0.5, 1.5), break_every=60.0)
    run(store, clock, tenant.id, bots, 60)
    with store.unit_of_work() as uow:
        moves = uow.session.scalars(
            select(EventRow.payload).where(EventRow.type == "adviser.state_changed")
        ).all()
        states = Counter(
            uow.session.scalars(select(AdviserRow.state).where(AdviserRow.tenant_id == tenant.id))
        )
    reached = Counter(move["to"] for move in moves)
    assert reached["break"] > 0 and reached["wrap_up"] > 0, reached
    assert states["logged_out"] > 0 and states["ready"] > 0, states


def test_a_state_set_from_the_wall_is_kept_by_the_bots(store: Store, clock: FakeClock) -> None:
    tenant = seed_demo(store)
    bots = DemoBots(store, chat_every=1000.0, break_every=1.0)
    run(store, clock, tenant.id, bots, 1)
    bot_id = next(i for i, plan in bots.presence.items() if plan.state is AdviserState.READY)
    supervisor = Principal(user_id=None, tenant_id=tenant.id, role=Role.SUPERVISOR)
    with store.unit_of_work() as uow:
        advisers.set_adviser_state(uow, supervisor, bot_id, AdviserState.BREAK)
    run(store, clock, tenant.id, bots, 30)
    with store.unit_of_work() as uow:
        row = uow.session.get(AdviserRow, bot_id)
        assert row is not None and row.state == "break"
