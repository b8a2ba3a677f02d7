"""The email channel end to end: real SMTP in (smtplib to the listener on loopback), real SMTP
out (to an aiosmtpd server standing in for the customer's provider), on SQLite and PostgreSQL."""

from __future__ import annotations

import email.policy
import os
import signal
import smtplib
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from allo.channels.email import inbox, smtp_in
from allo.channels.email.imap_in import poll_once
from allo.channels.email.worker import MailWorker
from allo.domain.roles import Role
from allo.services import accounts, email_desk, offers, queues
from allo.services.bus import EventBus
from allo.services.email_inbound import EMAIL_PRIORITY
from allo.services.principal import system_principal
from allo.settings import Settings
from allo.store.database import make_engine
from allo.store.migrate import upgrade
from allo.store.tables import (
    ContactRow,
    EmailAttachmentRow,
    EmailRow,
    EmailThreadRow,
    MessageRow,
)
from allo.store.uow import Store
from tests.conftest import FakeClock
from tests.integration.conftest import Tenant
from tests.integration.mailfakes import (
    FakeImap,
    Provider,
    free_port,
    start_provider,
    stop_controller,
    wait_until,
)

SUPPORT = "support@acme.test"
JEAN = "jean.dupont@example.fr"


@pytest.fixture
def provider() -> Iterator[Provider]:
    found, controller = start_provider()
    yield found
    stop_controller(controller)


@pytest.fixture
def mail_settings(settings: Settings, provider: Provider) -> Settings:
    return settings.model_copy(
        update={
            "smtp_listen_port": free_port(),
            "smtp_out_port": provider.port,
            "mail_max_bytes": 2_000_000,
            "mail_attachment_max_bytes": 100_000,
        }
    )


@pytest.fixture
def mailbox(store: Store, acme: Tenant) -> int:
    with store.unit_of_work() as uow:
        data = {"address": SUPPORT, "queue_id": acme.ids["queue"], "display_name": "Acme"}
        return email_desk.create_mailbox(uow, system_principal(acme.id), data).id


@pytest.fixture
def worker(store: Store, mail_settings: Settings, mailbox: int) -> Iterator[MailWorker]:
    running = MailWorker(store, mail_settings, send_every=0.05)
    running.start()
    yield running
    running.stop()


def mail(
    message_id: str | None,
    subject: str = "Facture de mars",
    body: str = "Bonjour, ma facture est fausse.",
    sender: str = f"Jean Dupont <{JEAN}>",
    **headers: str,
) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = SUPPORT
    message["Subject"] = subject
    if message_id:
        message["Message-ID"] = f"<{message_id}>"
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(body)
    return message.as_bytes(policy=email.policy.SMTP)


def send(
    settings: Settings, raw: bytes, mail_from: str = JEAN, to: tuple[str, ...] = (SUPPORT,)
) -> None:
    with smtplib.SMTP("127.0.0.1", settings.smtp_listen_port, timeout=10) as client:
        client.sendmail(mail_from, list(to), raw)


def count(store: Store, query: object) -> int:
    with store.unit_of_work() as uow:
        return uow.session.scalar(query) or 0  # type: ignore[call-overload]


def email_contacts(store: Store) -> list[ContactRow]:
    with store.unit_of_work() as uow:
        query = select(ContactRow).where(ContactRow.channel == "email").order_by(ContactRow.id)
        return list(uow.session.scalars(query).all())


def thread_of(store: Store) -> EmailThreadRow:
    with store.unit_of_work() as uow:
        thread = uow.session.scalar(select(EmailThreadRow))
        assert thread is not None
        return thread


def customer_lines(store: Store, contact_id: int) -> list[str]:
    with store.unit_of_work() as uow:
        query = select(MessageRow.body).where(
            MessageRow.contact_id == contact_id, MessageRow.author_kind == "customer"
        )
        return list(uow.session.scalars(query.order_by(MessageRow.id)).all())


def test_three_messages_of_one_thread_make_one_contact(
    store: Store, acme: Tenant, mail_settings: Settings, provider: Provider, worker: MailWorker
) -> None:
    send(mail_settings, mail("m1@example.fr"))
    ack = provider.wait_for(1)[0]
    reference = thread_of(store).reference
    assert ack.mail_from == "<>" and ack.rcpt_tos == [JEAN]  # null return path (RFC 3834)
    assert ack.message["Auto-Submitted"] == "auto-replied"
    assert ack.message["In-Reply-To"] == "<m1@example.fr>"
    assert ack.message["Subject"] == f"Re: Facture de mars [Allo #{reference}]"
    assert reference in ack.message.get_content() and "24 h" in ack.message.get_content()

    # By In-Reply-To (with another subject), then by the token in the subject alone.
    send(mail_settings, mail("m2@example.fr", "Autre", "Et aussi…", In_Reply_To="<m1@example.fr>"))
    send(mail_settings, mail("m3@example.fr", f"Encore [Allo #{reference}]", "Toujours là"))
    contacts = email_contacts(store)
    assert len(contacts) == 1
    assert contacts[0].queue_id == acme.ids["queue"] and contacts[0].priority == EMAIL_PRIORITY
    assert contacts[0].customer_id == acme.ids["customer"]  # found by the sender's address
    assert customer_lines(store, contacts[0].id) == [
        "Bonjour, ma facture est fausse.",
        "Et aussi…",
        "Toujours là",
    ]
    time.sleep(0.3)
    assert len(provider.inbox) == 1  # one acknowledgement per thread


def _take(client: TestClient, store: Store, tenant: Tenant, contact_id: int) -> None:
    """The router's offer, then the adviser's accept through the API."""
    with store.unit_of_work() as uow:
        expires = uow.now() + timedelta(seconds=60)
        offers.offer_contact(uow, tenant.id, contact_id, tenant.ids["paris_adviser"], expires)
    answer = client.post(f"/api/v1/contacts/{contact_id}/accept", headers=tenant.auth(Role.ADVISER))
    assert answer.status_code == 200, answer.text


def test_the_desk_reads_the_thread_and_replies_with_threading_headers(
    store: Store,
    acme: Tenant,
    client: TestClient,
    clock: FakeClock,
    mail_settings: Settings,
    provider: Provider,
    worker: MailWorker,
) -> None:
    body = "Bonjour,\nma facture est fausse.\n\nLe 1 mars, Acme a écrit :\n> Votre facture"
    send(mail_settings, mail("m1@example.fr", body=body))
    ack = provider.wait_for(1)[0]
    contact_id = email_contacts(store)[0].id
    _take(client, store, acme, contact_id)
    adviser = acme.auth(Role.ADVISER)

    thread = client.get(f"/api/v1/contacts/{contact_id}/email", headers=adviser).json()
    first = thread["messages"][0]
    assert (first["kind"], first["body"]) == ("customer", "Bonjour,\nma facture est fausse.")
    assert first["quoted"].startswith("Le 1 mars") and first["awaits_reply"]
    assert [m["kind"] for m in thread["messages"]] == ["customer", "ack"]

    clock.advance(2 * 3600)
    answer = client.post(
        f"/api/v1/contacts/{contact_id}/email/reply",
        headers=adviser,
        json={"body": "Bonjour, la facture est corrigée."},
    )
    assert answer.status_code == 201, answer.text
    reply = provider.wait_for(2)[1]
    assert reply.mail_from == SUPPORT and reply.rcpt_tos == [JEAN]
    assert reply.message["In-Reply-To"] == "<m1@example.fr>"
    assert reply.message["References"] == "<m1@example.fr>"
    assert reply.message["Subject"] == f"Re: Facture de mars [Allo #{thread['reference']}]"
    text = reply.message.get_content()
    assert text.startswith("Bonjour, la facture est corrigée.") and "> Bonjour," in text
    assert reply.message["Auto-Submitted"] is None

    sent = wait_until(lambda: _status(client, contact_id, adviser, answer.json()["id"]) == "sent")
    assert sent
    levels = client.get("/api/v1/email/service-level", headers=acme.auth(Role.SUPERVISOR)).json()
    level = levels["items"][0]
    assert (level["answered"], level["answered_in_time"], level["percent"]) == (1, 1, 100.0)
    assert level["average_reply_seconds"] == 7200 and level["target_seconds"] == 86_400

    # The customer answers our reply: same contact, no new acknowledgement.
    reply_id = reply.message["Message-ID"]
    send(mail_settings, mail("m4@example.fr", "Re: merci", "Merci !", In_Reply_To=reply_id))
    assert customer_lines(store, contact_id)[-1] == "Merci !"

    # Once the contact is closed, the next customer email opens a new contact on the thread.
    closed = client.post(f"/api/v1/contacts/{contact_id}/close", headers=adviser, json={})
    assert closed.status_code == 200
    send(mail_settings, mail("m5@example.fr", "Re: merci", "Finalement non", In_Reply_To=reply_id))
    newer = email_contacts(store)
    assert len(newer) == 2 and thread_of(store).contact_id == newer[1].id
    assert customer_lines(store, newer[1].id) == ["Finalement non"]
    supervisor = acme.auth(Role.SUPERVISOR)
    whole = client.get(f"/api/v1/contacts/{newer[1].id}/email", headers=supervisor).json()
    assert [m["kind"] for m in whole["messages"]] == [
        "customer",
        "ack",
        "reply",
        "customer",
        "customer",
    ]
    time.sleep(0.2)
    assert len(provider.inbox) == 2
    assert ack.message["Message-ID"] != reply_id


def _status(client: TestClient, contact_id: int, auth: dict[str, str], email_id: int) -> str:
    thread = client.get(f"/api/v1/contacts/{contact_id}/email", headers=auth).json()
    return next(m["status"] for m in thread["messages"] if m["id"] == email_id)


def _dsn(original_id: str) -> bytes:
    return (
        b"From: Mail Delivery System <MAILER-DAEMON@mx.example.fr>\r\nTo: support@acme.test\r\n"
        b"Subject: Undelivered Mail Returned to Sender\r\nMessage-ID: <dsn1@mx.example.fr>\r\n"
        b'Content-Type: multipart/report; report-type=delivery-status; boundary="b"\r\n\r\n'
        b"--b\r\nContent-Type: text/plain\r\n\r\nUser unknown\r\n"
        b"--b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx\r\n\r\n"
        b"Final-Recipient: rfc822; jean@example.fr\r\nAction: failed\r\n"
        b"--b\r\nContent-Type: message/rfc822\r\n\r\nMessage-ID: " + original_id.encode() + b"\r\n"
        b"Subject: ack\r\n\r\nbody\r\n--b--\r\n"
    )


def _hostile(ack_id: str) -> list[tuple[str, bytes, str]]:
    """(name, bytes, envelope sender); each name is also its Message-ID's local part."""
    big = EmailMessage()
    big["From"], big["To"], big["Subject"] = JEAN, SUPPORT, "Photos"
    big["Message-ID"] = "<huge@example.fr>"
    big.set_content("voir pièce jointe")
    big.add_attachment(b"\x89PNG" * 125_000, maintype="image", subtype="png", filename="a.png")
    received = "".join(f"Received: from hop{i} by hop{i + 1}\r\n" for i in range(40)).encode()
    return [
        (
            "broken",
            b"From: jean.dupont@example.fr\r\nMessage-ID: <broken@example.fr>\r\n"
            b'Content-Type: multipart/mixed; boundary="x"\r\n\r\n--x\r\nContent-Type: text/plain'
            b"; charset=klingon\r\nContent-Transfer-Encoding: base64\r\n\r\n!!!\r\n",
            JEAN,
        ),
        ("garbage", b"\xff\xfe\x00\x01 not a message at all\r\n", "someone@example.fr"),
        ("huge", big.as_bytes(policy=email.policy.SMTP), JEAN),
        ("bounce", _dsn(ack_id), ""),
        (
            "auto",
            mail(
                "auto@example.fr",
                "Absence",
                "Je suis absent",
                In_Reply_To=ack_id,
                Auto_Submitted="auto-replied",
            ),
            JEAN,
        ),
        ("bulk", mail("bulk@example.fr", "Promo", Precedence="bulk"), "news@shop.example"),
        ("loop", mail("loop@example.fr", X_Allo_Loop="allo tenant=9"), JEAN),
        ("ours", mail("ours@example.fr", sender=SUPPORT), SUPPORT),
        ("hops", received + mail("hops@example.fr"), JEAN),
        ("nul", mail("nul@example.fr", "Nul", "a\x00b é"), JEAN),
        ("long-from", mail("long-from@example.fr", sender="a" * 300 + "@example.fr"), JEAN),
        ("duplicate", mail("m1@example.fr", "Encore", "copie"), JEAN),
        ("no-id", mail(None, "Sans identifiant"), JEAN),
        ("no-id-again", mail(None, "Sans identifiant"), JEAN),
    ]


def _stored(store: Store, message_id: str) -> EmailRow:
    with store.unit_of_work() as uow:
        query = select(EmailRow).where(
            EmailRow.direction == "in", EmailRow.message_id == message_id
        )
        row = uow.session.scalar(query)
        assert row is not None, message_id
        return row


def test_a_hostile_corpus_is_stored_whole_and_never_answered(
    store: Store, mail_settings: Settings, provider: Provider, worker: MailWorker
) -> None:
    send(mail_settings, mail("m1@example.fr"))
    ack_id = provider.wait_for(1)[0].message["Message-ID"]
    for _name, raw, sender in _hostile(ack_id):
        send(mail_settings, raw, sender)
    with pytest.raises(smtplib.SMTPException):  # over mail_max_bytes: refused, not accepted
        send(mail_settings, mail("toobig@example.fr", body="x" * 2_100_000))
    with pytest.raises(smtplib.SMTPDataError):  # a 1000+ character line (RFC 5321 limit)
        send(mail_settings, mail("long@example.fr").replace(b"\r\n", b"\n") + b"y" * 5000)
    with pytest.raises(smtplib.SMTPRecipientsRefused):
        send(mail_settings, mail("lost@example.fr"), to=("nobody@acme.test",))

    # Everything accepted is stored once (duplicates dropped), nothing is left unrouted.
    inbound = select(func.count(EmailRow.id)).where(EmailRow.direction == "in")
    assert count(store, inbound) == 1 + len(_hostile(ack_id)) - 2
    assert count(store, inbound.where(EmailRow.status == "received")) == 0
    for name, reason in [
        ("bounce", "bounce"),
        ("auto", "auto_reply"),
        ("bulk", "auto_reply"),
        ("loop", "loop"),
        ("ours", "loop"),
        ("hops", "loop"),
        ("long-from", "no_sender"),
    ]:
        row = _stored(store, f"{name}@example.fr" if name != "bounce" else "dsn1@mx.example.fr")
        assert row.status == "kept" and reason in row.meta["reasons"], name
    assert _stored(store, "auto@example.fr").thread_id is not None  # kept on its thread
    huge = _stored(store, "huge@example.fr")
    assert huge.status == "routed" and huge.raw_size > 500_000
    with store.unit_of_work() as uow:
        part = uow.session.scalar(
            select(EmailAttachmentRow).where(EmailAttachmentRow.email_id == huge.id)
        )
        assert part is not None and part.content is None and part.size == 500_000
        first_ack = select(EmailRow).where(EmailRow.kind == "ack").order_by(EmailRow.id)
        acked = uow.session.scalar(first_ack.limit(1))
        assert acked is not None and acked.status == "bounced"  # the DSN named it
    garbage = select(EmailRow).where(EmailRow.raw == b"\xff\xfe\x00\x01 not a message at all\r\n")
    with store.unit_of_work() as uow:
        kept = uow.session.scalar(garbage)
        assert kept is not None and kept.status == "kept"

    time.sleep(0.3)
    machines = {"", "<>", SUPPORT, "news@shop.example", "mailer-daemon@mx.example.fr"}
    assert all(d.rcpt_tos[0].lower() not in machines for d in provider.inbox)
    assert all(d.message["Auto-Submitted"] == "auto-replied" for d in provider.inbox)
    send(mail_settings, mail("after@example.fr", "Toujours vivant ?"))  # the listener still serves
    assert _stored(store, "after@example.fr").status == "routed"


def test_a_sender_gets_a_few_acknowledgements_a_day_at_most(
    store: Store, mail_settings: Settings, provider: Provider, worker: MailWorker
) -> None:
    for n in range(5):
        send(mail_settings, mail(f"storm{n}@example.fr", f"Sujet {n}"), "robot@example.com")
    assert len(email_contacts(store)) == 5
    time.sleep(0.3)
    assert len(provider.wait_for(3)) == 3


def test_accepted_mail_is_stored_before_250_and_routed_after_a_crash(
    store: Store, mail_settings: Settings, worker: MailWorker, monkeypatch: pytest.MonkeyPatch
) -> None:
    def crash(*args: object) -> None:
        raise RuntimeError("router crashed")

    monkeypatch.setattr(inbox, "route", crash)
    send(mail_settings, mail("m1@example.fr"))  # still 250: the message is stored
    assert _stored(store, "m1@example.fr").status == "received"
    assert email_contacts(store) == []
    monkeypatch.undo()
    assert inbox.route_leftovers(store, mail_settings) == 1
    assert _stored(store, "m1@example.fr").status == "routed" and len(email_contacts(store)) == 1

    def database_down(*args: object) -> list[int]:
        raise OperationalError("insert", {}, Exception("connection refused"))

    monkeypatch.setattr(smtp_in, "accept", database_down)
    with pytest.raises(smtplib.SMTPDataError) as refused:
        send(mail_settings, mail("m2@example.fr"))
    assert refused.value.smtp_code == 451  # the sender keeps it and tries again


def test_an_unreachable_outbound_server_is_retried_later(
    store: Store, mail_settings: Settings, mailbox: int, clock: FakeClock
) -> None:
    from allo.channels.email.smtp_out import send_due

    down = mail_settings.model_copy(update={"smtp_out_port": free_port()})
    inbox.route_stored(
        store, down, inbox.accept(store, down, mail("m1@example.fr"), JEAN, [SUPPORT])
    )
    assert send_due(store, down) == 0
    with store.unit_of_work() as uow:
        ack = uow.session.scalar(select(EmailRow).where(EmailRow.kind == "ack"))
        assert ack is not None and ack.status == "queued" and ack.attempts == 1
        assert ack.next_attempt_at == clock() + timedelta(seconds=30)
        assert ack.last_error is not None


def test_imap_polling_stores_then_marks_seen(
    store: Store, settings: Settings, mailbox: int
) -> None:
    """Against the small in-process IMAP server of mailfakes (no real one is installed)."""
    with FakeImap() as server:
        server.messages = {1: mail("i1@example.fr"), 2: mail("i2@example.fr", "Autre")}
        polling = settings.model_copy(
            update={
                "imap_host": "127.0.0.1",
                "imap_port": server.port,
                "imap_ssl": False,
                "imap_user": "allo",
                "imap_address": SUPPORT,
            }
        )
        assert poll_once(store, polling) == 2
        assert server.seen == {1, 2} and server.logins[0][0] == "allo"
        assert poll_once(store, polling) == 0
        server.messages[3] = mail("i1@example.fr")  # fetched again after a crash: dropped
        assert poll_once(store, polling) == 0 and 3 in server.seen
    assert len(email_contacts(store)) == 2


def test_mailboxes_are_configured_by_admins(
    client: TestClient, acme: Tenant, globex: Tenant
) -> None:
    body = {"address": "Factures@Acme.test", "queue_id": acme.ids["queue"]}
    created = client.post("/api/v1/email/mailboxes", headers=acme.auth(Role.ADMIN), json=body)
    assert created.status_code == 201 and created.json()["address"] == "factures@acme.test"
    again = client.post("/api/v1/email/mailboxes", headers=globex.auth(Role.ADMIN), json=body)
    assert again.status_code == 404  # another tenant's queue
    body_globex = {"address": "factures@acme.test", "queue_id": globex.ids["queue"]}
    clash = client.post(
        "/api/v1/email/mailboxes", headers=globex.auth(Role.ADMIN), json=body_globex
    )
    assert clash.status_code == 409
    bad = {"address": "not an address", "queue_id": acme.ids["queue"]}
    invalid = client.post("/api/v1/email/mailboxes", headers=acme.auth(Role.ADMIN), json=bad)
    assert invalid.status_code == 422 and invalid.json()["detail"][0]["field"] == "address"
    patched = client.patch(
        f"/api/v1/email/mailboxes/{created.json()['id']}",
        headers=acme.auth(Role.ADMIN),
        json={"acknowledge": False},
    )
    assert patched.json()["acknowledge"] is False
    queue = client.patch(
        f"/api/v1/queues/{acme.ids['queue']}",
        headers=acme.auth(Role.ADMIN),
        json={"reply_target_seconds": 4 * 3600},
    )
    assert queue.json()["reply_target_seconds"] == 4 * 3600


def test_allo_mail_runs_the_listener_until_sigterm(tmp_path: Path, clock: FakeClock) -> None:
    """`allo mail` as a real process: accepts a message, stores it, stops cleanly."""
    url = f"sqlite:///{tmp_path / 'mail.sqlite'}"
    upgrade(url)
    engine = make_engine(url)
    store = Store(engine, EventBus(), clock)
    with store.unit_of_work() as uow:
        tenant = accounts.create_tenant(uow, "acme", "Acme")
        actor = system_principal(tenant.id)
        queue = queues.create_queue(uow, actor, {"name": "Courrier"})
        email_desk.create_mailbox(uow, actor, {"address": SUPPORT, "queue_id": queue.id})
    port = free_port()
    env = {**os.environ, "ALLO_DATABASE_URL": url, "ALLO_SMTP_OUT_PORT": str(free_port())}
    command = [
        sys.executable,
        "-c",
        "from allo.cli import main; main()",
        "mail",
        "--port",
        str(port),
    ]
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        settings = Settings(database_url=url, smtp_listen_port=port)
        wait_until(lambda: _try_send(settings, mail("cli@example.fr")), timeout=20)
        assert _stored(store, "cli@example.fr").status == "routed"
    finally:
        process.send_signal(signal.SIGTERM)
        output = process.communicate(timeout=20)[0].decode()
        engine.dispose()
    assert process.returncode == 0, output
    assert f"127.0.0.1:{port}" in output


def _try_send(settings: Settings, raw: bytes) -> bool:
    try:
        send(settings, raw)
    except OSError:
        return False
    return True
