"""Conversations for the demo tenant: two weeks of telecom contacts with customer messages,
a fibre outage in Lyon this morning (so the wall shows an alert) and a few answered ideas.

Messages come from the telecom part of the labelled data set. To keep `allo demo` quick, the
contacts are then closed by an adviser and spread over the past fourteen days by rewriting
their rows directly (no lifecycle events), which only a demo may do.
"""

from __future__ import annotations

import random
import re
from datetime import timedelta

from sqlalchemy import select

from allo.domain.contacts import ContactStatus
from allo.insights.dataset import load_examples
from allo.insights.ideas import IdeaStatus
from allo.services import contacts, ideas, insights, messages
from allo.services.principal import Principal, system_principal
from allo.store.tables import AdviserRow, ContactInsightRow, ContactRow, IdeaRow
from allo.store.uow import Store

DAYS = 14
HISTORY = 45
OUTAGE_WORDS = re.compile(r"coup|panne|\bHS\b|plus d'internet|plus de réseau", re.IGNORECASE)
OUTAGE = [
    "Plus de fibre à Lyon 7 depuis ce matin, toute la rue est coupée !",
    "coupure fibre lyon part-dieu depuis 7h, je télétravaille, c'est la cata",
    "Fibre coupée à Lyon Croix-Rousse, aucune info de votre part",
    "Encore une coupure de la fibre à Lyon, ça devient insupportable",
    "Box rouge, plus d'internet à Lyon 3 depuis ce matin, panne fibre ?",
    "fibre HS à Villeurbanne et Lyon 6, quand est-ce que ça revient ???",
    "Lyon 8 : coupure totale de la fibre, ni internet ni télé",
    "Toujours pas de fibre à Lyon depuis 6h, c'est inadmissible",
]
# The week before: fibre talked about calmly, the baseline the outage is compared with.
FIBRE_WEEK = [
    "Combien de temps pour activer la fibre à Lyon après l'installation ?",
    "La fibre est-elle disponible rue Garibaldi à Lyon ?",
    "Merci pour l'installation de la fibre à Lyon, rapide et propre !",
    "Quel est le débit de la fibre sur l'offre de base à Lyon ?",
    "Ce serait bien une offre fibre moins chère pour les étudiants de Lyon",
    "Je déménage à Lyon, comment transférer mon abonnement fibre ?",
]
ANSWERS = {
    IdeaStatus.PLANNED: "Bonne idée : c'est prévu dans l'application pour le printemps.",
    IdeaStatus.DONE: "C'est fait depuis la dernière mise à jour, merci de l'avoir proposé !",
    IdeaStatus.DECLINED: "Nous ne pouvons pas le proposer pour l'instant, merci pour l'idée.",
}


def seed_insights(store: Store, tenant_id: int, queue_ids: list[int], seed: int = 9) -> None:
    rng = random.Random(seed)
    # Outage-like complaints are kept for this morning, so that the jump shows on the wall.
    telecom = [
        e.text for e in load_examples() if e.domain == "telecom" and not OUTAGE_WORDS.search(e.text)
    ]
    history = rng.sample(telecom, min(HISTORY, len(telecom)))
    actor = system_principal(tenant_id)
    with store.unit_of_work() as uow:
        advisers = list(
            uow.session.scalars(select(AdviserRow.id).where(AdviserRow.tenant_id == tenant_id))
        )
    ages: dict[int, timedelta] = {}
    for text in history:
        contact_id = _contact_with_message(store, actor, rng, queue_ids, text)
        ages[contact_id] = timedelta(hours=rng.uniform(26, DAYS * 24))
    for index, text in enumerate(FIBRE_WEEK):
        contact_id = _contact_with_message(store, actor, rng, queue_ids, text)
        ages[contact_id] = timedelta(days=2 + index * 0.8)
    for index, text in enumerate(OUTAGE):
        contact_id = _contact_with_message(store, actor, rng, queue_ids[1:2], text)
        ages[contact_id] = timedelta(minutes=20 + 25 * index)
    _close_and_spread(store, ages, rng, advisers)
    with store.unit_of_work() as uow:
        insights.refresh_topics(uow, actor)
    with store.unit_of_work() as uow:
        for topic in insights.list_topics(uow, actor):
            insights.check_problem_alert(uow, tenant_id, topic.id)
        uow.commit()
    _answer_some_ideas(store, tenant_id)


def _contact_with_message(
    store: Store,
    actor: Principal,
    rng: random.Random,
    queue_ids: list[int],
    text: str,
) -> int:
    channel = rng.choice(["chat", "email", "voice"])
    with store.unit_of_work() as uow:
        data = {"channel": channel, "queue_id": rng.choice(queue_ids)}
        contact = contacts.create_contact(uow, actor, data)
        message = messages.add_message(uow, contact, "customer", text)
        insights.analyse_message(uow, message.id)
        return contact.id


def _close_and_spread(
    store: Store, ages: dict[int, timedelta], rng: random.Random, advisers: list[int]
) -> None:
    with store.unit_of_work() as uow:
        now = uow.now()
        for contact_id, age in ages.items():
            contact = uow.session.get(ContactRow, contact_id)
            insight = uow.session.scalar(
                select(ContactInsightRow).where(ContactInsightRow.contact_id == contact_id)
            )
            adviser = uow.session.get(AdviserRow, rng.choice(advisers))
            if contact is None or insight is None or adviser is None:
                continue
            contact.created_at = contact.updated_at = insight.contact_at = now - age
            contact.adviser_id, contact.status = adviser.id, ContactStatus.CLOSED.value
            insight.site_id = adviser.site_id
        uow.commit()


def _answer_some_ideas(store: Store, tenant_id: int) -> None:
    actor = system_principal(tenant_id)
    with store.unit_of_work() as uow:
        proposed = list(
            uow.session.scalars(
                select(IdeaRow.id)
                .where(IdeaRow.tenant_id == tenant_id, IdeaRow.status == IdeaStatus.PROPOSED.value)
                .order_by(IdeaRow.id)
            )
        )
    statuses = [IdeaStatus.PLANNED, IdeaStatus.DONE, IdeaStatus.DECLINED]
    for index, idea_id in enumerate(proposed[:6]):
        with store.unit_of_work() as uow:
            ideas.update_idea(uow, actor, idea_id, IdeaStatus.PUBLISHED)
            if index < len(statuses):
                status = statuses[index]
                ideas.update_idea(uow, actor, idea_id, status, answer=ANSWERS[status])
