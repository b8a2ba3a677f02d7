"""MIME parsing never raises, keeps what it can and says what it could not read."""

from __future__ import annotations

import email
import email.policy

from allo.channels.email.mime import Outgoing, compose, html_to_text, parse_email

LIMIT = 1000


def test_plain_mail_with_threading_headers() -> None:
    raw = (
        b"From: Jean Dupont <Jean.Dupont@Example.fr>\r\nTo: support@acme.test\r\n"
        b"Subject: =?utf-8?q?Facture_d=C3=A9c?=\r\nMessage-ID: <m2@example.fr>\r\n"
        b"In-Reply-To: <m1@example.fr>\r\nReferences: <m0@x> <m1@example.fr>\r\n\r\nBonjour\r\n"
    )
    mail = parse_email(raw, LIMIT)
    assert mail.from_address == "jean.dupont@example.fr" and mail.from_name == "Jean Dupont"
    assert mail.subject == "Facture déc"
    assert mail.message_id == "m2@example.fr"
    assert mail.in_reply_to == ("m1@example.fr",)
    assert mail.references == ("m0@x", "m1@example.fr")
    assert mail.text.strip() == "Bonjour" and mail.warnings == ()


def test_html_only_becomes_safe_text() -> None:
    markup = "<html><head><style>p{}</style></head><body><p>Bonjour&nbsp;<b>vous</b></p>"
    markup += "<script>alert(1)</script><div>Ligne 2</div></body></html>"
    assert html_to_text(markup) == "Bonjour\xa0vous\n\nLigne 2"
    raw = b"From: a@b.fr\r\nContent-Type: text/html; charset=utf-8\r\n\r\n" + markup.encode()
    assert "alert" not in parse_email(raw, LIMIT).text


def test_attachments_over_the_limit_stay_in_raw_only() -> None:
    message = email.message.EmailMessage()
    message["From"] = "a@b.fr"
    message.set_content("voir pièces jointes")
    message.add_attachment(b"x" * 10, maintype="application", subtype="pdf", filename="ok.pdf")
    message.add_attachment(b"y" * 5000, maintype="image", subtype="png", filename="../big.png")
    mail = parse_email(message.as_bytes(), LIMIT)
    small, big = mail.attachments
    assert (small.filename, small.size, small.content) == ("ok.pdf", 10, b"x" * 10)
    assert (big.filename, big.size, big.content) == (".._big.png", 5000, None)
    assert any("over 1000 bytes" in w for w in mail.warnings)


def test_broken_mime_gives_warnings_not_errors() -> None:
    corpus = [
        b"",
        b"\x00\xff\xfe garbage without headers",
        b'From: a@b.fr\r\nContent-Type: multipart/mixed; boundary="nope"\r\n\r\nno parts',
        b"From: a@b.fr\r\nContent-Type: text/plain; charset=klingon\r\n\r\nqapla'",
        b"From: a@b.fr\r\nContent-Transfer-Encoding: base64\r\n\r\n!!!not base64",
        b"From: =?utf-8?b?////?= <\xff@b.fr>\r\nSubject: \xc3\x28\r\n\r\nbody",
        b"From: " + b"a" * 20000 + b"\r\n\r\nlong header",
        b"Content-Type: multipart/mixed; boundary=b\r\n\r\n" + b"--b\r\n" * 500,
    ]
    for raw in corpus:
        mail = parse_email(raw, LIMIT)
        assert isinstance(mail.text, str)
        assert len(mail.subject) <= 2000


def test_a_delivery_report_names_the_original_message() -> None:
    raw = (
        b"From: MAILER-DAEMON@mx.example\r\nContent-Type: multipart/report; "
        b'report-type=delivery-status; boundary="r"\r\n\r\n--r\r\nContent-Type: text/plain\r\n\r\n'
        b"Delivery failed\r\n--r\r\nContent-Type: message/delivery-status\r\n\r\n"
        b"Reporting-MTA: dns; mx.example\r\n\r\nFinal-Recipient: rfc822; x@y\r\nAction: failed\r\n"
        b"--r\r\nContent-Type: message/rfc822\r\n\r\nMessage-ID: <ours@acme.test>\r\n"
        b"Subject: hi\r\n\r\nbody\r\n--r--\r\n"
    )
    mail = parse_email(raw, LIMIT)
    assert mail.is_report and "ours@acme.test" in mail.bounce_of


def test_composed_reply_carries_threading_and_automatic_headers() -> None:
    outgoing = Outgoing(
        message_id="r1@acme.test",
        from_address="support@acme.test",
        from_name="Acme",
        to="jean@example.fr",
        subject="Re: Facture\r\nBcc: victim@x",
        text="Bonjour",
        in_reply_to="m2@example.fr",
        references=("m1@example.fr", "m2@example.fr"),
        loop_token="allo tenant=1",
        automatic=True,
    )
    parsed = email.message_from_bytes(
        compose(outgoing, "Mon, 02 Mar 2026 09:00:00 +0000"), policy=email.policy.default
    )
    assert parsed["In-Reply-To"] == "<m2@example.fr>"
    assert parsed["References"] == "<m1@example.fr> <m2@example.fr>"
    assert parsed["Auto-Submitted"] == "auto-replied"
    assert parsed["Bcc"] is None and "Bcc" in str(parsed["Subject"])
