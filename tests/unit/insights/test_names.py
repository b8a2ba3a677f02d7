"""Person names found by spaCy's French model (loaded once for the session)."""

from __future__ import annotations

from allo.insights.names import spacy_names
from allo.insights.redaction import Redactor


def test_spacy_finds_person_names_and_spares_brands_and_streets() -> None:
    redactor = Redactor(spacy_names())
    texts = [
        "Bonjour, je suis Marie Lefèvre et ma box ne marche plus.",
        "Merci à Karim pour son aide, super conseiller !",
        "bravo Orange vraiment",
        "coupure rue Victor Hugo à Grenoble",
    ]
    out = [r.text for r in redactor.redact_many(texts)]
    assert out[0] == "Bonjour, je suis [NOM] et ma box ne marche plus."
    assert out[1] == "Merci à [NOM] pour son aide, super conseiller !"
    assert out[2] == "bravo Orange vraiment"
    assert out[3] == "coupure rue Victor Hugo à Grenoble"
