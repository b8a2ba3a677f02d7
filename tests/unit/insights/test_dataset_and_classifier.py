"""The labelled data set and the intent and sentiment models trained on it."""

from __future__ import annotations

from collections import Counter

from allo.insights.classify import default_reader, evaluate
from allo.insights.dataset import load_examples, split
from allo.insights.labels import Intent, Sentiment
from allo.insights.textnorm import normalise


def test_the_data_set_is_large_varied_and_split_once() -> None:
    examples = load_examples()
    assert len(examples) >= 500
    assert {e.domain for e in examples} == {"telecom", "energy", "banking", "ecommerce"}
    assert {e.intent for e in examples} == set(Intent)
    assert {e.sentiment for e in examples} == set(Sentiment)
    assert {e.split for e in examples} == {"train", "test"}
    assert len({e.id for e in examples}) == len(examples)
    texts = [normalise(e.text) for e in examples]
    assert len(set(texts)) == len(texts), "a test message repeated in train is no fair test"
    test = Counter(e.intent for e in split("test"))
    assert min(test.values()) >= 20


def test_intent_reaches_the_macro_f1_goal_on_the_held_out_split() -> None:
    intent, sentiment = evaluate(default_reader(), split("test"))
    assert intent.macro_f1 >= 0.85, intent
    assert {c.label for c in intent.classes} == {i.value for i in Intent}
    assert sentiment.macro_f1 >= 0.75, sentiment


def test_reader_reads_typical_messages() -> None:
    readings = default_reader().read(
        [
            "ma box ne marche plus depuis hier, c'est inadmissible !!!",
            "ce serait bien de pouvoir choisir le créneau de livraison",
            "merci beaucoup au conseiller, problème réglé en 5 minutes",
            "comment je fais pour changer mon mot de passe ?",
        ]
    )
    assert [r.intent for r in readings] == [
        Intent.PROBLEM,
        Intent.IDEA,
        Intent.PRAISE,
        Intent.QUESTION,
    ]
    assert readings[0].sentiment is Sentiment.NEGATIVE
    assert readings[2].sentiment is Sentiment.POSITIVE


def test_normalise_evens_out_shouting_and_accents() -> None:
    assert normalise("NUUUUL !!!!! Électricité???") == "nuul  !  electricite ? "
