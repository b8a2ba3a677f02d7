"""The demo's bots make a living contact center through the same services as people."""

from sqlalchemy import select

from allo.demo import seed_demo
from allo.demo_bots import DemoBots
from allo.services.router import RouterHost
from allo.store.tables import ContactRow, EventRow, MessageRow
from allo.store.uow import Store
from tests.conftest import FakeClock


def test_bots_chat_answer_close_and_rate(store: Store, clock: FakeClock) -> None:
    tenant = seed_demo(store)
    started = clock()
    host = RouterHost(store, claim_interval=0)
    bots = DemoBots(store, chat_every=2.0)
    try:
        for tick in range(80):
            clock.advance(0.5)
            bots.step(tenant.id, tick * 0.5)
            host.step()
    finally:
        host.leadership.release_all()
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
