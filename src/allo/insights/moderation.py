"""Screening of free text that customers publish or staff write (CNIL: no insults, no health data).

A simple, explainable word screen: the text is folded (lowercase, no accents) and split into
words; a hit names the category so the submitter can be told why the text was refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from allo.insights.textnorm import fold, word_set, words


class Concern(StrEnum):
    INSULT = "insult"
    HEALTH = "health"


INSULTS = word_set(
    """
    con cons conne connes connard connards connasse connasses abruti abrutis abrutie
    cretin cretins cretine debile debiles idiot idiots idiote imbecile imbeciles
    encule encules enculer salaud salauds salope salopes pute putes putain merde merdique
    batard batards batarde fdp ntm tg ordure ordures bouffon bouffons guignol guignols
    escroc escrocs voleur voleurs
    voleuse incompetent incompetents incompetente
    """
)
# Words that say something about a person's health (GDPR art. 9 special category).
HEALTH = word_set(
    """
    malade malades maladie maladies cancer cancers tumeur chimio chimiotherapie diabete
    diabetique enceinte grossesse handicap handicape handicapee handicapes vih sida
    seropositif seropositive depression depressif depressive hopital hospitalise
    hospitalisee hospitalisation medicament medicaments traitement psychiatre psychiatrique
    alzheimer parkinson epilepsie epileptique asthme asthmatique avc infarctus dialyse
    autiste autisme therapie invalidite
    """
)
HEALTH_PHRASES = (
    "arret maladie",
    "affection longue duree",
    "dossier medical",
    "mi-temps therapeutique",
)


@dataclass(frozen=True, slots=True)
class Screening:
    concerns: frozenset[Concern]
    terms: tuple[str, ...]

    @property
    def acceptable(self) -> bool:
        return not self.concerns


def screen(text: str) -> Screening:
    """What a text contains that may not be published or kept as written. Harsh words about a
    service ('nul', 'pourri') are allowed; words insulting people are not."""
    tokens = [word.split("'")[-1] for word in words(text)]  # d'abrutis → abrutis
    insults = [w for w in tokens if w in INSULTS]
    folded = fold(text)
    health = [w for w in tokens if w in HEALTH]
    health += [p for p in HEALTH_PHRASES if p in folded]
    concerns = {Concern.INSULT} if insults else set()
    if health:
        concerns.add(Concern.HEALTH)
    return Screening(frozenset(concerns), tuple(dict.fromkeys(insults + health)))
