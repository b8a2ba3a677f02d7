"""Email rules: reference tokens, subjects, safety verdicts, quoted history, reply-time SL."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from allo.domain.email import (
    InboundEmail,
    base_subject,
    classify,
    message_ids,
    new_reference,
    reference_in,
    references_for_reply,
    reply_subject,
    reply_time_level,
    split_quoted,
)

MAIL = InboundEmail(
    message_id="a@example.fr",
    in_reply_to=(),
    references=(),
    from_address="jean@example.fr",
    from_name="Jean",
    reply_to=None,
    to=("support@acme.test",),
    subject="Facture",
    text="Bonjour",
)
OURS = frozenset({"support@acme.test"})


def test_a_reference_survives_reply_prefixes_and_case() -> None:
    reference = new_reference(random.Random(4))
    assert len(reference) == 8 and set(reference) <= set("0123456789ABCDEFGHJKMNPQRSTVWXYZ")
    subject = reply_subject("RE: Tr: Facture", reference)
    assert subject == f"Re: Facture [Allo #{reference}]"
    assert reference_in(("re: " + subject).lower()) == reference
    assert base_subject("Re: Re: Fwd: Facture [Allo #" + reference + "]") == "Facture"
    assert reference_in("Facture [Allo #ILOU0000]") is None  # not in the alphabet


def test_message_ids_and_references_chain() -> None:
    assert message_ids("<a@x> junk <b@y>") == ("a@x", "b@y")
    assert message_ids(None) == ()
    assert references_for_reply("c@z", ("a@x", "b@y")) == ("a@x", "b@y", "c@z")
    assert references_for_reply("c@z", ("c@z",)) == ("c@z",)


def test_a_customer_mail_is_routed_and_acknowledged() -> None:
    verdict = classify(MAIL, "jean@example.fr", OURS)
    assert verdict.route and verdict.acknowledge and verdict.reasons == ()


def test_machines_bounces_and_loops_are_never_answered() -> None:
    cases = {
        "bounce": (MAIL, ""),
        "auto_reply": (replace(MAIL, headers={"auto-submitted": "auto-replied"}), "j@x.fr"),
        "mailing_list": (replace(MAIL, headers={"list-id": "<news.x.fr>"}), "j@x.fr"),
        "loop": (replace(MAIL, headers={"x-allo-loop": "allo tenant=1"}), "j@x.fr"),
    }
    for reason, (mail, sender) in cases.items():
        verdict = classify(mail, sender, OURS)
        assert not verdict.route and not verdict.acknowledge, reason
        assert reason in verdict.reasons
    precedence = replace(MAIL, headers={"precedence": "bulk"})
    assert "auto_reply" in classify(precedence, "j@x.fr", OURS).reasons
    ourselves = replace(MAIL, from_address="support@acme.test")
    assert "loop" in classify(ourselves, "support@acme.test", OURS).reasons
    too_many_hops = replace(MAIL, hops=31)
    assert "loop" in classify(too_many_hops, "j@x.fr", OURS).reasons
    report = replace(MAIL, is_report=True)
    assert "bounce" in classify(report, "j@x.fr", OURS).reasons
    assert classify(replace(MAIL, headers={"auto-submitted": "no"}), "j@x.fr", OURS).route


def test_quoted_history_is_set_apart() -> None:
    text = "Merci, c'est réglé.\n\nLe 2 mars 2026, Allo a écrit :\n> Bonjour\n> Votre facture"
    assert split_quoted(text) == (
        "Merci, c'est réglé.",
        "Le 2 mars 2026, Allo a écrit :\n> Bonjour\n> Votre facture",
    )
    assert split_quoted("Top\n> quoted\n>\n> more") == ("Top", "> quoted\n>\n> more")
    interleaved = "> question ?\nréponse\n> autre ?\nautre réponse"
    assert split_quoted(interleaved) == (interleaved, "")
    assert split_quoted("> only a quote") == ("> only a quote", "")


def test_reply_time_level_counts_overdue_as_missed_and_pending_apart() -> None:
    t0 = datetime(2026, 3, 2, 9, tzinfo=UTC)
    now = t0 + timedelta(hours=30)
    day = 86_400
    waits = [
        (t0, t0 + timedelta(hours=2)),  # in time
        (t0, t0 + timedelta(hours=25)),  # late
        (t0, None),  # 30 h without a reply: overdue
        (now - timedelta(hours=1), None),  # still within target: pending
    ]
    level = reply_time_level(waits, day, now)
    assert (level.answered, level.answered_in_time, level.overdue, level.pending) == (2, 1, 1, 1)
    assert level.percent == 33.3
    assert level.oldest_waiting_seconds == 30 * 3600
    assert level.average_reply_seconds == 13.5 * 3600
    assert reply_time_level([], day, now).percent is None
