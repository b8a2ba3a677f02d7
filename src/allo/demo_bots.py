"""Demo traffic: simulated customers chatting in French and simulated advisers answering.

Everything they write is marked as bot traffic (`meta.bot`, names ending in "(bot)") and
goes through the same services as real people, so the wall shows a living contact center
while a real person takes real chats from /demo/shop. `allo demo --no-bots` turns them off.
"""

from __future__ import annotations

import logging
import math
import random
import threading
import time
from dataclasses import dataclass, field

from sqlalchemy import select

from allo.demo import DEMO_SLUG
from allo.domain.advisers import AdviserState
from allo.domain.contacts import BUSY_STATUSES
from allo.domain.roles import Role
from allo.services import accounts, advisers, chat, messages, offers
from allo.services.errors import Conflict
from allo.services.principal import Principal, system_principal
from allo.store.tables import AdviserRow, ContactRow, MessageRow, QueueRow, TenantRow, UserRow
from allo.store.uow import Store

log = logging.getLogger(__name__)
OPENINGS = [
    "Bonjour, ma facture de ce mois est deux fois plus élevée que d'habitude, pourquoi ?",
    "Bonsoir, plus d'internet depuis ce matin, la box clignote en rouge.",
    "Je voudrais résilier mon abonnement mobile, comment faire ?",
    "Bjr, est-ce que je peux passer à la fibre à mon adresse ?",
    "Bonjour, j'ai été prélevé deux fois ce mois-ci.",
    "Le débit est très lent le soir, c'est normal ?",
    "Je déménage le mois prochain, comment transférer ma ligne ?",
    "Merci pour l'intervention d'hier, tout fonctionne !",
]
CUSTOMER_FOLLOW_UPS = [
    "D'accord, merci.",
    "Et ça prendra combien de temps ?",
    "Ok je vais essayer.",
    "Parfait, merci beaucoup !",
]
ADVISER_LINES = [
    "Bonjour, je suis là pour vous aider. Je regarde votre dossier.",
    "Je vois le problème, je m'en occupe tout de suite.",
    "C'est réglé de mon côté, pouvez-vous vérifier ?",
    "Je vous remercie de votre patience, bonne journée !",
]
FIRST_NAMES = ["Camille", "Julien", "Sarah", "Nicolas", "Emma", "Karim", "Lina", "Paul"]
LAST_NAMES = ["Martin", "Bernard", "Dubois", "Moreau", "Laurent", "Haddad", "Girard", "Roux"]
MAX_LIVE_CHATS = 40
# Demand comes in waves (a 10-minute period, from half to one and a half times the mean), so
# the wall shows queues forming and draining and service levels moving.
WAVE_PERIOD = 600.0
WAVE_DEPTH = 0.5
OFF_SHIFT_SHARE = 0.25  # bot advisers not on shift, logged out for the whole demo
BREAK_LENGTH = (30.0, 90.0)
WRAP_UP_LENGTH = (3.0, 8.0)


@dataclass
class Presence:
    """The state a bot adviser was last put in by the bots, and until when."""

    state: AdviserState
    until: float | None = None


@dataclass
class BotChat:
    token: str
    queue_id: int
    customer_lines: int = 1
    rated: bool = False
    write_at: float | None = None  # when the customer sends their next line


@dataclass
class DemoBots:
    store: Store
    seed: int = 7
    tick: float = 0.5
    chat_every: float = 2.5  # mean seconds between two new bot customers
    reply_delay: tuple[float, float] = (3.0, 9.0)  # a bot reads, thinks, types
    break_every: float = 300.0  # mean seconds between two breaks of an idle bot adviser
    rng: random.Random = field(init=False)
    chats: dict[int, BotChat] = field(default_factory=dict)
    seen_offer: dict[int, float] = field(default_factory=dict)
    reply_at: dict[int, float] = field(default_factory=dict)  # contact → adviser's next line
    presence: dict[int, Presence] = field(default_factory=dict)
    next_chat: float | None = None
    started: float | None = None

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)

    def run(self, stop: threading.Event) -> None:
        tenant_id = self._tenant_id()
        if tenant_id is None:
            return
        log.info("demo bots started")
        while not stop.is_set():
            try:
                self.step(tenant_id, time.monotonic())
            except Exception:
                log.exception("demo bots step failed")
            stop.wait(self.tick)

    def _tenant_id(self) -> int | None:
        with self.store.unit_of_work() as uow:
            tenant = accounts.tenant_by_slug(uow, DEMO_SLUG)
            return tenant.id if tenant else None

    def step(self, tenant_id: int, now: float) -> None:
        bot_ids = self._bot_advisers(tenant_id)
        self._keep_shifts(tenant_id, bot_ids, now)
        self._answer_offers(tenant_id, bot_ids, now)
        self._talk(tenant_id, bot_ids, now)
        self._customers_write(now)
        if self.started is None:
            self.started, self.next_chat = now, now
        if self.next_chat is not None and now >= self.next_chat:
            if len(self.chats) < MAX_LIVE_CHATS:
                self._new_customer(tenant_id)
            self.next_chat = now + self.rng.expovariate(self._arrival_rate(now))

    def _arrival_rate(self, now: float) -> float:
        """New customers per second at this moment of the demand wave."""
        assert self.started is not None
        phase = 2 * math.pi * (now - self.started) / WAVE_PERIOD
        return (1 + WAVE_DEPTH * math.sin(phase)) / self.chat_every

    def _pause(self) -> float:
        return self.rng.uniform(*self.reply_delay)

    def _bot_advisers(self, tenant_id: int) -> list[int]:
        """Every demo adviser that no real login is attached to."""
        with self.store.unit_of_work() as uow:
            humans = set(
                uow.session.scalars(
                    select(UserRow.adviser_id).where(
                        UserRow.tenant_id == tenant_id, UserRow.adviser_id.is_not(None)
                    )
                )
            )
            ids = uow.session.scalars(
                select(AdviserRow.id).where(AdviserRow.tenant_id == tenant_id)
            )
            return [i for i in ids if i not in humans]

    def _keep_shifts(self, tenant_id: int, bot_ids: list[int], now: float) -> None:
        """Bot advisers work as people do: some are off shift, the others take breaks and wrap
        up after a contact. A state someone else set (a supervisor on the wall) is kept."""
        with self.store.unit_of_work() as uow:
            rows = uow.session.execute(
                select(AdviserRow.id, AdviserRow.state).where(AdviserRow.id.in_(bot_ids))
            )
            current = {adviser_id: state for adviser_id, state in rows}
        busy = self._busy(bot_ids)
        for adviser_id in bot_ids:
            state = AdviserState(current[adviser_id])
            wanted = self._wanted_state(adviser_id, state, adviser_id in busy, now)
            if wanted is not state:
                self._set_state(tenant_id, adviser_id, wanted)

    def _busy(self, adviser_ids: list[int]) -> set[int]:
        """The advisers among these who hold a contact."""
        with self.store.unit_of_work() as uow:
            return set(
                uow.session.scalars(
                    select(ContactRow.adviser_id).where(
                        ContactRow.adviser_id.in_(adviser_ids),
                        ContactRow.status.in_([s.value for s in BUSY_STATUSES]),
                    )
                )
            )

    def _wanted_state(
        self, adviser_id: int, state: AdviserState, busy: bool, now: float
    ) -> AdviserState:
        plan = self.presence.get(adviser_id)
        if plan is None:  # first sight: on shift or not, for the whole demo
            off = not busy and self.rng.random() < OFF_SHIFT_SHARE
            plan = Presence(AdviserState.LOGGED_OUT if off else AdviserState.READY)
        elif plan.state is not state:  # a person changed it: keep it so
            plan = Presence(state)
        elif plan.until is not None and now >= plan.until:
            plan = Presence(AdviserState.READY)
        elif self._takes_a_break(plan, busy):
            plan = Presence(AdviserState.BREAK, now + self.rng.uniform(*BREAK_LENGTH))
        self.presence[adviser_id] = plan
        return plan.state

    def _takes_a_break(self, plan: Presence, busy: bool) -> bool:
        idle = plan.state is AdviserState.READY and not busy
        return idle and self.rng.random() < self.tick / self.break_every

    def _wrap_up(self, tenant_id: int, adviser_id: int, now: float) -> None:
        """After closing their last contact, a bot adviser takes a few seconds of wrap-up."""
        plan = self.presence.get(adviser_id)
        if plan is None or plan.state is not AdviserState.READY:
            return
        if not self._busy([adviser_id]):
            until = now + self.rng.uniform(*WRAP_UP_LENGTH)
            self.presence[adviser_id] = Presence(AdviserState.WRAP_UP, until)
            self._set_state(tenant_id, adviser_id, AdviserState.WRAP_UP)

    def _set_state(self, tenant_id: int, adviser_id: int, wanted: AdviserState) -> None:
        with self.store.unit_of_work() as uow:
            advisers.set_adviser_state(uow, system_principal(tenant_id), adviser_id, wanted)

    def _answer_offers(self, tenant_id: int, bot_ids: list[int], now: float) -> None:
        with self.store.unit_of_work() as uow:
            offered = uow.session.execute(
                select(ContactRow.id, ContactRow.adviser_id).where(
                    ContactRow.status == "offered", ContactRow.adviser_id.in_(bot_ids)
                )
            ).all()
        for contact_id, adviser_id in offered:
            first_seen = self.seen_offer.setdefault(contact_id, now)
            if now - first_seen < 1.5:
                continue  # a bot takes a moment to pick up, like a person
            try:
                with self.store.unit_of_work() as uow:
                    offers.accept_offer(uow, _as_adviser(tenant_id, adviser_id), contact_id)
                    contact = uow.session.get(ContactRow, contact_id)
                    assert contact is not None
                    messages.add_message(
                        uow,
                        contact,
                        "adviser",
                        ADVISER_LINES[0],
                        adviser_id=adviser_id,
                        meta={"bot": True},
                    )
            except Conflict:
                pass
            self.seen_offer.pop(contact_id, None)

    def _talk(self, tenant_id: int, bot_ids: list[int], now: float) -> None:
        with self.store.unit_of_work() as uow:
            handled = uow.session.execute(
                select(ContactRow.id, ContactRow.adviser_id).where(
                    ContactRow.status == "in_progress", ContactRow.adviser_id.in_(bot_ids)
                )
            ).all()
        for contact_id, adviser_id in handled:
            lines = self._lines(contact_id)
            if not lines:
                lines = ["customer"]  # a call or an email: the bot answers it all the same
            if lines[-1] == "adviser":
                continue
            due = self.reply_at.setdefault(contact_id, now + self._pause())
            if now < due:
                continue
            del self.reply_at[contact_id]
            said = lines.count("adviser")
            actor = _as_adviser(tenant_id, adviser_id)
            with self.store.unit_of_work() as uow:
                contact = uow.session.get(ContactRow, contact_id)
                assert contact is not None
                line = ADVISER_LINES[min(said, len(ADVISER_LINES) - 1)]
                messages.add_message(
                    uow, contact, "adviser", line, adviser_id=adviser_id, meta={"bot": True}
                )
                done = said >= len(ADVISER_LINES) - 1
                if done:
                    resolved = self.rng.random() < 0.8
                    offers.close_contact(
                        uow, actor, contact_id, wrap_code="information", resolved=resolved
                    )
            if done and adviser_id is not None:
                self._wrap_up(tenant_id, adviser_id, now)

    def _lines(self, contact_id: int) -> list[str]:
        with self.store.unit_of_work() as uow:
            return list(
                uow.session.scalars(
                    select(MessageRow.author_kind)
                    .where(MessageRow.contact_id == contact_id)
                    .order_by(MessageRow.id)
                )
            )

    def _customers_write(self, now: float) -> None:
        for contact_id, bot in list(self.chats.items()):
            if bot.write_at is not None and now < bot.write_at:
                continue
            with self.store.unit_of_work() as uow:
                state = chat.chat_state(uow, bot.token)
            if state["status"] == "closed":
                if not bot.rated:
                    with self.store.unit_of_work() as uow:
                        chat.rate(uow, bot.token, self.rng.choice([3, 4, 5, 5]), None)
                del self.chats[contact_id]
                continue
            if state["status"] == "abandoned":
                del self.chats[contact_id]
                continue
            authors = [m["author"] for m in state["messages"]]
            if authors and authors[-1] == "adviser" and bot.customer_lines < 4:
                if bot.write_at is None:  # the adviser's answer just came: read, then type
                    bot.write_at = now + self._pause()
                    continue
                with self.store.unit_of_work() as uow:
                    chat.customer_writes(
                        uow, bot.token, self.rng.choice(CUSTOMER_FOLLOW_UPS), bot=True
                    )
                bot.customer_lines += 1
            bot.write_at = None

    def _new_customer(self, tenant_id: int) -> None:
        with self.store.unit_of_work() as uow:
            queue_ids = list(
                uow.session.scalars(select(QueueRow.id).where(QueueRow.tenant_id == tenant_id))
            )
            key = uow.session.scalar(select(TenantRow.widget_key).where(TenantRow.id == tenant_id))
            assert key is not None
            france = self.rng.random() < 0.5
            started = chat.start_chat(
                uow,
                key,
                name=f"{self.rng.choice(FIRST_NAMES)} {self.rng.choice(LAST_NAMES)} (bot)",
                queue_id=self.rng.choice(queue_ids),
                site_group="france" if france else None,
                first_message=self.rng.choice(OPENINGS),
            )
        self.chats[started.contact_id] = BotChat(started.token, 0)


def _as_adviser(tenant_id: int, adviser_id: int | None) -> Principal:
    assert adviser_id is not None
    return Principal(user_id=None, tenant_id=tenant_id, role=Role.ADVISER, adviser_id=adviser_id)
