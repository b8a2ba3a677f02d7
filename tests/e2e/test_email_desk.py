"""An email sent over SMTP to the demo becomes a contact the adviser answers from the desk."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage
from typing import Any

from tests.e2e.conftest import Server
from tests.e2e.test_chat import login

from allo.demo import DEMO_MAILBOX


def test_an_email_is_answered_from_the_desk(browser: Any, demo_server: Server) -> None:
    desk = login(browser, demo_server, "conseiller.paris@demo.allo.test", "/desk")
    desk.select_option("#state", "ready")
    mail = EmailMessage()
    mail["From"] = "Lucie Bernard <lucie.bernard@example.fr>"
    mail["To"] = DEMO_MAILBOX
    mail["Subject"] = "Facture incorrecte"
    mail["Message-ID"] = "<e2e-1@example.fr>"
    mail.set_content(
        "Bonjour,\nma facture de mars compte deux fois l'option TV.\n\n"
        "> Le 2 mars, Horizon Télécom a écrit :\n> Votre facture est disponible"
    )
    with smtplib.SMTP("127.0.0.1", demo_server.smtp_port, timeout=10) as smtp:
        smtp.send_message(mail)
    desk.wait_for_selector("#offer:not([hidden])", timeout=15_000)
    assert "E-mail" in desk.inner_text("#offer-what")
    desk.click("#offer-accept")
    desk.wait_for_selector(".msg.customer")
    assert "Facture incorrecte" in desk.inner_text(".messages")
    assert "deux fois l'option TV" in desk.inner_text(".msg.customer")
    # The quoted history is there, collapsed.
    assert desk.locator(".msg.customer details").count() == 1
    assert not desk.locator(".msg.customer details pre").is_visible()
    desk.fill(".compose textarea", "Bonjour, nous retirons l'option en double. Cordialement.")
    desk.click(".compose button[type=submit]")
    # The acknowledgement Allo sent on arrival, then the adviser's reply, threaded.
    desk.wait_for_function("document.querySelectorAll('.msg.adviser').length >= 2")
    assert "référence" in desk.locator(".msg.adviser").first.inner_text()
    assert "option en double" in desk.locator(".msg.adviser").last.inner_text()
    desk.click(".wrap button[type=submit]")
    desk.wait_for_selector(".pane", state="detached")
    desk.select_option("#state", "logged_out")
    desk.context.close()
