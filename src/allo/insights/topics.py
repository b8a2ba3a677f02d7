"""Topics found across contacts: clusters of redacted texts, labelled by their key terms.

Non-negative matrix factorisation of TF-IDF word vectors (French stop words and placeholders
removed, light plural folding): on short texts it gives more even topics than k-means, which
tends to put most messages in one catch-all cluster. A topic's label is its three heaviest
terms ('fibre · coupure · lyon'). New texts
between two clusterings are put in the topic whose terms they share most.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from allo.insights.textnorm import word_set, words

# Words that carry no topic in customer service talk, on top of spaCy's French stop words.
SERVICE_STOP_WORDS = word_set(
    """
    bonjour bonsoir merci svp stp slt bjr cordialement madame monsieur mme depuis fois
    jour jours mois semaine semaines hier aujourd'hui matin soir toujours encore vraiment
    tres bien super rien tout tous toute toutes aussi alors donc quand comment pourquoi
    est-ce faire fait peut veux voudrais voudrait aimerais savoir possible normal
    ca c'est j'ai n'est qu'il d'un d'une l'on vous votre vos nous notre mon ma mes
    sans avec pour plus moins cette quelqu'un personne deja ete avoir etre
    nom tel email carte iban nir adresse avez dites dite pouvoir pouvez pourriez proposer
    proposez ajoutez ajouter mettez mettre devriez faut faudrait serait idee suggestion
    demande lieu passe passer bravo ancienne ancien fonctionne marche aucun aucune ans bon
    jamais explication merci place chez temps
    """
)
_PLACEHOLDER = re.compile(r"\[[^\]]{1,12}\]")
LABEL_TERMS = 3
KEPT_TERMS = 8


@dataclass(frozen=True, slots=True)
class Topic:
    key: int
    label: str
    terms: tuple[str, ...]
    size: int


def _stop_words() -> frozenset[str]:
    from spacy.lang.fr.stop_words import STOP_WORDS

    folded = {" ".join(words(w)) for w in STOP_WORDS}
    return frozenset(folded) | SERVICE_STOP_WORDS


def topic_tokens(text: str, stop: frozenset[str] | None = None) -> list[str]:
    """Content words of a text, plural folded ('factures' → 'facture')."""
    stop = stop if stop is not None else _stop_words()
    tokens = []
    for word in words(_PLACEHOLDER.sub(" ", text)):
        word = word.split("'")[-1]
        if len(word) < 3 or word.isdigit() or word in stop:
            continue
        if len(word) > 4 and word.endswith("s") and not word.endswith(("is", "us", "as")):
            word = word[:-1]
        tokens.append(word)
    return tokens


def topic_count(n_texts: int, most: int = 12) -> int:
    """A number of topics that grows slowly with the number of contacts."""
    return max(1, min(most, round(math.sqrt(n_texts / 3))))


def find_topics(
    texts: Sequence[str], k: int | None = None, seed: int = 0
) -> tuple[list[Topic], list[int | None]]:
    """Cluster the texts; returns the topics and each text's topic key (None: no content)."""
    from sklearn.decomposition import NMF
    from sklearn.feature_extraction.text import TfidfVectorizer

    stop = _stop_words()
    docs = [" ".join(topic_tokens(text, stop)) for text in texts]
    used = [i for i, doc in enumerate(docs) if doc]
    if not used:
        return [], [None] * len(texts)
    vectoriser = TfidfVectorizer(ngram_range=(1, 1), sublinear_tf=True, token_pattern=r"\S+")
    matrix = vectoriser.fit_transform([docs[i] for i in used])
    components = min(k or topic_count(len(used)), len(used), matrix.shape[1])
    model = NMF(n_components=components, init="nndsvda", random_state=seed, max_iter=400)
    weights = model.fit_transform(matrix)
    assignment: list[int | None] = [None] * len(texts)
    for position, index in enumerate(used):
        if weights[position].max() > 0:
            assignment[index] = int(weights[position].argmax())
    vocabulary = vectoriser.get_feature_names_out()
    return _label_topics(model.components_, vocabulary, assignment), assignment


def _label_topics(components: Any, vocabulary: Any, assignment: list[int | None]) -> list[Topic]:
    topics = []
    for key, component in enumerate(components):
        order = component.argsort()[::-1][:KEPT_TERMS]
        terms = tuple(str(vocabulary[i]) for i in order if component[i] > 0)
        size = assignment.count(key)
        if terms and size:
            topics.append(Topic(key, " · ".join(terms[:LABEL_TERMS]), terms, size))
    return topics


def assign_topic(text: str, topics: Sequence[tuple[int, Sequence[str]]]) -> int | None:
    """The topic (id, terms) sharing the most weighted terms with the text; heavier terms first."""
    tokens = set(topic_tokens(text))
    best: tuple[float, int] | None = None
    for ident, terms in topics:
        score = sum(1.0 / (rank + 1) for rank, term in enumerate(terms) if term in tokens)
        if score > 0 and (best is None or score > best[0]):
            best = (score, ident)
    return best[1] if best else None
