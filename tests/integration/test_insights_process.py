"""`allo insights` reads what lands from its own process, off the live path."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import select

from allo.services import contacts, messages
from allo.services.principal import system_principal
from allo.store.tables import ContactInsightRow, ContactRow, MessageRow
from allo.store.uow import Store
from tests.integration.conftest import Tenant


def test_the_insights_process_analyses_new_messages(
    store: Store, acme: Tenant, db_url: str, tmp_path: Path
) -> None:
    log = tmp_path / "insights.log"
    with log.open("wb") as out:
        worker = subprocess.Popen(
            [sys.executable, "-m", "allo", "insights", "--database-url", db_url],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        # The worker takes its place at the end of the event stream before anything is written.
        deadline = time.monotonic() + 60
        while "following events" not in log.read_text() and time.monotonic() < deadline:
            time.sleep(0.2)
        with store.unit_of_work() as uow:
            contact = contacts.create_contact(
                uow, system_principal(acme.id), {"channel": "chat", "queue_id": acme.ids["queue"]}
            )
            contact_row = uow.session.get(ContactRow, contact.id)
            assert contact_row is not None
            message = messages.add_message(
                uow, contact_row, "customer", "Je m'appelle Jean Dupont, ma box ne marche plus"
            )
        deadline = time.monotonic() + 90
        found = None
        while time.monotonic() < deadline and found is None:
            with store.unit_of_work() as uow:
                found = uow.session.scalar(
                    select(ContactInsightRow).where(ContactInsightRow.contact_id == contact.id)
                )
            time.sleep(0.5)
        assert found is not None, log.read_text()[-2000:]
        assert found.intent == "problem"
        with store.unit_of_work() as uow:
            stored = uow.session.get(MessageRow, message.id)
            assert stored is not None and "[NOM]" in (stored.body_redacted or "")
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=30)
