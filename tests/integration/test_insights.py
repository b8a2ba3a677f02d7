"""Insights over a real database: messages, analyses, privacy of texts, topics, the voice of
the customer, problem-rate alerts (on SQLite and PostgreSQL)."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text

from allo.domain.roles import Role
from allo.insights.checksums import iban_valid, luhn_valid
from allo.insights.classify import Reading
from allo.insights.engine import Analyser, default_analyser
from allo.insights.redaction import Redacted
from allo.realtime.runtime import insights_worker
from allo.services import contacts, insights, messages
from allo.services.principal import system_principal
from allo.store.tables import AuditRow, ContactRow, EventRow, MessageInsightRow
from allo.store.uow import Store
from tests.conftest import FakeClock
from tests.integration.conftest import Tenant

A, S, P, V = Role.ADMIN, Role.SUPERVISOR, Role.PLANNER, Role.ADVISER
CARD = "4970 1012 3456 7893"
IBAN = "FR76 3000 6000 0112 3456 7890 189"
ANALYTICS_TEXT = {
    "contact_messages": ["body", "body_redacted"],
    "message_insights": ["text_redacted"],
    "contact_insights": ["text_redacted"],
    "insight_topics": ["label"],
    "ideas": ["title", "body", "answer"],
}


def new_contact(client: TestClient, tenant: Tenant, subject: str | None = None) -> int:
    body: dict[str, Any] = {"channel": "chat", "queue_id": tenant.ids["queue"]}
    if subject is not None:
        body["subject"] = subject
    answer = client.post("/api/v1/contacts", headers=tenant.auth(A), json=body)
    assert answer.status_code == 201, answer.text
    contact_id: int = answer.json()["id"]
    settle(client)
    return contact_id


def settle(client: TestClient) -> None:
    """Wait for the insights worker to read what was just committed."""
    insights_worker(client.app.state.store).drain()  # type: ignore[attr-defined]


def say(
    client: TestClient, tenant: Tenant, contact_id: int, body: str, author: str = "customer"
) -> dict[str, Any]:
    """A message as the chat, email or desk would store it, then read by the worker."""
    store: Store = client.app.state.store  # type: ignore[attr-defined]
    with store.unit_of_work() as uow:
        contact = uow.session.get(ContactRow, contact_id)
        assert contact is not None
        row = messages.add_message(uow, contact, author, body)
        created = {"id": row.id, "body": row.body}
    settle(client)
    return created


def payment_numbers_in(store: Store) -> list[tuple[str, str]]:
    """Every card number (Luhn) or IBAN (mod 97) found in clear in the insight tables."""
    found = []
    digits = re.compile(r"\d(?:[ -]?\d){11,18}")
    ibans = re.compile(r"[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}")
    with store.engine.connect() as connection:
        for table, columns in ANALYTICS_TEXT.items():
            for column in columns:
                for (value,) in connection.execute(text(f"select {column} from {table}")):
                    for match in digits.findall(value or ""):
                        if luhn_valid(match):
                            found.append((f"{table}.{column}", match))
                    for match in ibans.findall(value or ""):
                        if any(iban_valid(match[:n]) for n in range(15, len(match) + 1)):
                            found.append((f"{table}.{column}", match))
    return found


def test_a_customer_message_is_analysed_per_message_and_per_contact(
    client: TestClient, acme: Tenant, store: Store
) -> None:
    contact = new_contact(client, acme)
    say(
        client, acme, contact, "Bonjour, je suis Jean Dupont, ma box ne marche plus depuis hier !!!"
    )
    say(client, acme, contact, "Je regarde ça tout de suite.", author="adviser")
    insight = client.get(f"/api/v1/contacts/{contact}/insight", headers=acme.auth(S)).json()
    assert insight["intent"] == "problem"
    assert insight["sentiment"] == "negative"
    assert "[NOM]" in insight["text_redacted"] and "Dupont" not in insight["text_redacted"]
    messages = client.get(f"/api/v1/contacts/{contact}/messages", headers=acme.auth(S)).json()
    assert [m["intent"] for m in messages] == ["problem", None]  # advisers' words are not read
    with store.unit_of_work() as uow:
        types = [
            e.type
            for e in uow.session.scalars(select(EventRow).where(EventRow.subject_id == contact))
        ]
    assert types.count("message.created") == 2
    assert "insights.contact_analysed" in types


def test_no_unredacted_card_number_or_iban_reaches_the_analytics_tables(
    client: TestClient, acme: Tenant, store: Store
) -> None:
    contact = new_contact(client, acme, subject=f"Remboursement sur l'IBAN {IBAN}")
    say(client, acme, contact, f"On a débité ma carte {CARD} deux fois, remboursez sur {IBAN}")
    say(client, acme, contact, "ma carte 5555-5555-5555-4444 et DE89370400440532013000 svp")
    say(client, acme, contact, "Ce serait bien de payer par carte 4111111111111111 dans l'appli")
    client.post("/api/v1/insights/topics/refresh", headers=acme.auth(S), json={"k": 2})
    client.post(
        "/api/public/ideas/acme", json={"text": f"Idée : rembourser sur mon IBAN {IBAN} direct"}
    )
    assert payment_numbers_in(store) == []
    messages = client.get(f"/api/v1/contacts/{contact}/messages", headers=acme.auth(A)).json()
    assert "[CARTE]" in messages[0]["body"] and "[IBAN]" in messages[0]["body"]


def test_message_text_follows_the_privacy_rules_of_the_viewer_site(
    client: TestClient, acme: Tenant, store: Store
) -> None:
    contact = new_contact(client, acme)
    say(client, acme, contact, "Rappelez-moi au 06 12 34 56 78, c'est Mme Martin")
    paris = client.get(f"/api/v1/contacts/{contact}/messages", headers=acme.auth(V)).json()
    tana_headers = {"Authorization": f"Bearer {acme.extra_tokens['tana']}"}
    tana = client.get(f"/api/v1/contacts/{contact}/messages", headers=tana_headers).json()
    planner = client.get(f"/api/v1/contacts/{contact}/messages", headers=acme.auth(P)).json()
    assert paris[0]["body"] == "Rappelez-moi au 06 12 34 56 78, c'est Mme Martin"
    assert not paris[0]["redacted"]
    assert tana[0]["body"] == "Rappelez-moi au [TÉL], c'est [NOM]" and tana[0]["redacted"]
    assert planner[0]["body"] is None
    insight = client.get(f"/api/v1/contacts/{contact}/insight", headers=acme.auth(P)).json()
    assert insight["text_redacted"] is None and insight["intent"]
    with store.unit_of_work() as uow:
        reads = uow.session.scalars(
            select(AuditRow).where(AuditRow.action == "contact.messages.read")
        ).all()
        assert sorted(r.fields["visibility"] for r in reads) == ["clear", "masked"]


def test_contacts_created_with_a_subject_are_analysed_as_they_land(
    client: TestClient, acme: Tenant
) -> None:
    contact = new_contact(client, acme, subject="Comment changer le mot de passe du wifi ?")
    insight = client.get(f"/api/v1/contacts/{contact}/insight", headers=acme.auth(A)).json()
    assert insight["intent"] == "question"
    bare = new_contact(client, acme)
    assert client.get(f"/api/v1/contacts/{bare}/insight", headers=acme.auth(A)).status_code == 404


def test_topics_and_voice_of_the_customer_count_by_queue_site_topic_and_day(
    client: TestClient, acme: Tenant, clock: FakeClock
) -> None:
    subjects = [
        "coupure de la fibre à Lyon depuis ce matin",
        "plus de fibre à Lyon, tout le quartier est coupé",
        "fibre coupée à Lyon 7, c'est inadmissible",
        "mon colis n'est jamais arrivé, livreur absent",
        "colis abîmé à la livraison, je veux un échange",
        "ce serait bien de suivre le colis en temps réel",
        "merci pour la livraison rapide du colis",
    ]
    for subject in subjects:
        new_contact(client, acme, subject)
        clock.advance(3600)
    topics = client.post(
        "/api/v1/insights/topics/refresh", headers=acme.auth(S), json={"k": 2}
    ).json()
    assert len(topics) == 2
    assert any("fibre" in t["label"] for t in topics) and any("colis" in t["label"] for t in topics)
    voc = client.get("/api/v1/insights/voc?days=7", headers=acme.auth(P)).json()
    assert sum(voc["totals"].values()) == len(subjects)
    assert voc["totals"]["problem"] >= 4
    assert voc["by_queue"][0]["name"] == "Facturation"
    assert voc["by_queue"][0]["total"] == len(subjects)
    assert voc["by_site"][0]["id"] is None  # no adviser took them yet
    assert sorted(row["total"] for row in voc["by_topic"]) == [3, 4]
    assert sum(sum(day.values()) for day in voc["by_day"].values()) == len(subjects)
    fibre = next(t for t in topics if "fibre" in t["label"])
    problems = client.get(
        f"/api/v1/insights/contacts?topic_id={fibre['id']}&intent=problem", headers=acme.auth(P)
    ).json()
    assert problems["total"] == 3


def test_a_jump_of_a_topic_problem_rate_raises_one_alert(
    client: TestClient, acme: Tenant, clock: FakeClock, store: Store
) -> None:
    base = clock.current
    clock.current = base - timedelta(days=5)
    calm = [
        "comment activer la fibre chez moi ?",
        "la fibre est-elle disponible à Lyon ?",
        "merci pour l'installation de la fibre",
        "quel débit pour la fibre à Lyon ?",
        "ce serait bien une offre fibre moins chère",
        "combien coûte la fibre à Lyon ?",
    ]
    for subject in calm:
        new_contact(client, acme, subject)
        clock.advance(1800)
    new_contact(client, acme, "colis perdu")
    client.post("/api/v1/insights/topics/refresh", headers=acme.auth(S), json={"k": 2})
    clock.current = base
    for n in range(6):
        new_contact(client, acme, f"plus de fibre à Lyon depuis ce matin, coupure totale ({n})")
        clock.advance(300)
    with store.unit_of_work() as uow:
        alerts = [
            (e.subject_id, e.payload)
            for e in uow.session.scalars(select(EventRow).where(EventRow.type == "insights.alert"))
        ]
    assert len(alerts) == 1
    topic_id, payload = alerts[0]
    assert "fibre" in payload["label"]
    assert payload["problem_rate"] >= 0.8
    assert payload["baseline_rate"] < 0.3
    voc = client.get("/api/v1/insights/voc", headers=acme.auth(S)).json()
    assert voc["alerts"][0]["topic_id"] == topic_id


def test_analyse_pending_backfills_contacts_without_analysis(
    client: TestClient, acme: Tenant, store: Store
) -> None:
    from allo.services import contacts
    from allo.services.principal import system_principal

    # Written without the app's listener, as an import or another worker would.
    bare_store = Store(store.engine, type(store.bus)(), store.clock)
    with bare_store.unit_of_work() as uow:
        contacts.create_contact(
            uow,
            system_principal(acme.id),
            {"channel": "email", "queue_id": acme.ids["queue"], "subject": "facture fausse !"},
        )
    answer = client.post("/api/v1/insights/analyse", headers=acme.auth(S), json={})
    assert answer.json() == {"analysed": 1}
    again = client.post("/api/v1/insights/analyse", headers=acme.auth(S), json={})
    assert again.json() == {"analysed": 0}


class ProbingAnalyser(Analyser):
    """The real model, which before each of its runs checks whether another connection could
    take SQLite's write lock at once."""

    def __init__(self, path: str) -> None:
        real = default_analyser()
        super().__init__(real.redactor, real.reader, real.version)
        self.path = path
        self.runs = 0
        self.locked_out = 0

    def _probe(self) -> None:
        self.runs += 1
        other = sqlite3.connect(self.path, timeout=0)
        try:
            other.execute("BEGIN IMMEDIATE")
            other.rollback()
        except sqlite3.OperationalError:
            self.locked_out += 1
        finally:
            other.close()

    def redact(self, texts: Sequence[str]) -> list[Redacted]:
        self._probe()
        return super().redact(texts)

    def read(self, redacted_texts: Sequence[str]) -> list[Reading]:
        self._probe()
        return super().read(redacted_texts)


def test_the_language_model_never_runs_under_the_sqlite_write_lock(
    acme: Tenant, store: Store, db_url: str
) -> None:
    if not db_url.startswith("sqlite"):
        pytest.skip("SQLite's single write lock")
    with store.unit_of_work() as uow:
        contact = contacts.create_contact(
            uow, system_principal(acme.id), {"channel": "chat", "queue_id": acme.ids["queue"]}
        )
        ids = [
            messages.add_message(uow, contact, "customer", body).id
            for body in ("Bonjour, ma box ne marche plus.", "Toujours en panne ce matin !")
        ]
    probe = ProbingAnalyser(db_url.removeprefix("sqlite:///"))
    with store.unit_of_work() as uow:
        assert insights.analyse_messages(uow, ids, probe) == 2
    with store.unit_of_work() as uow:
        stored = uow.session.scalars(select(MessageInsightRow.message_id)).all()
    assert sorted(stored) == sorted(ids)  # the analysis was written…
    assert probe.runs >= 3 and probe.locked_out == 0  # …and no run of the model held the lock
