"""Intent and sentiment of customer messages: TF-IDF over words and characters, linear SVM.

Character n-grams absorb typos and SMS spellings ('pk', 'jvoudrais', 'factur'); word n-grams
carry the cues ('ce serait bien', 'merci pour'). The models train in well under a second on
the repository's data set, so nothing is persisted and nothing is ever downloaded: each
process trains them on first use.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Generic, TypeVar

from allo.insights.dataset import Example, split
from allo.insights.labels import Intent, Sentiment
from allo.insights.redaction import Redactor
from allo.insights.textnorm import normalise

Label = TypeVar("Label", Intent, Sentiment)
MODEL_VERSION = "svm-wc-1"
# Chosen by 5-fold cross-validation on the train split only (see docs/insights.md).
C_REGULARISATION = 0.5


def _pipeline() -> Any:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import make_pipeline, make_union
    from sklearn.svm import LinearSVC

    word_grams = TfidfVectorizer(
        analyzer="word",
        ngram_range=(1, 2),
        sublinear_tf=True,
        token_pattern=r"(?u)\b\w+\b|[?!]",
    )
    char_grams = TfidfVectorizer(analyzer="char", ngram_range=(2, 5), sublinear_tf=True, min_df=2)
    return make_pipeline(
        make_union(word_grams, char_grams),
        LinearSVC(C=C_REGULARISATION, class_weight="balanced"),
    )


class TextClassifier(Generic[Label]):
    """One label per text, with the margin of the decision as a confidence score."""

    def __init__(self, labels: type[Label]) -> None:
        self.labels: type[Label] = labels
        self._model: Any = None

    def fit(self, texts: Sequence[str], targets: Sequence[Label]) -> TextClassifier[Label]:
        self._model = _pipeline()
        self._model.fit([normalise(t) for t in texts], [str(t) for t in targets])
        return self

    def predict(self, texts: Sequence[str]) -> list[tuple[Label, float]]:
        if self._model is None:
            raise RuntimeError("classifier used before fit")
        if not texts:
            return []
        scores = self._model.decision_function([normalise(t) for t in texts])
        classes = list(self._model.classes_)
        results: list[tuple[Label, float]] = []
        for row in scores:
            best = int(row.argmax())
            results.append((self.labels(classes[best]), float(row[best])))
        return results


@dataclass(frozen=True, slots=True)
class Reading:
    intent: Intent
    intent_score: float
    sentiment: Sentiment
    sentiment_score: float


class Reader:
    """Reads intent and sentiment of already-redacted texts."""

    def __init__(self, intent: TextClassifier[Intent], sentiment: TextClassifier[Sentiment]):
        self.intent = intent
        self.sentiment = sentiment

    def read(self, texts: Sequence[str]) -> list[Reading]:
        intents = self.intent.predict(texts)
        sentiments = self.sentiment.predict(texts)
        return [
            Reading(i, round(i_score, 4), s, round(s_score, 4))
            for (i, i_score), (s, s_score) in zip(intents, sentiments, strict=True)
        ]


# Training texts go through the same pattern redaction as live texts, so placeholders such
# as [TÉL] are features the models have seen.
_TRAINING_REDACTOR = Redactor()


def train_reader(examples: Sequence[Example]) -> Reader:
    texts = [r.text for r in _TRAINING_REDACTOR.redact_many([e.text for e in examples])]
    intent = TextClassifier(Intent).fit(texts, [e.intent for e in examples])
    sentiment = TextClassifier(Sentiment).fit(texts, [e.sentiment for e in examples])
    return Reader(intent, sentiment)


@lru_cache(maxsize=1)
def default_reader() -> Reader:
    """The reader trained on the train split of the repository's data set (once per process)."""
    return train_reader(split("train"))


@dataclass(frozen=True, slots=True)
class ClassScore:
    label: str
    precision: float
    recall: float
    f1: float
    support: int


@dataclass(frozen=True, slots=True)
class Report:
    classes: tuple[ClassScore, ...]
    macro_f1: float
    accuracy: float


def report(truth: Sequence[str], predicted: Sequence[str]) -> Report:
    from sklearn.metrics import accuracy_score, precision_recall_fscore_support

    labels = sorted(set(truth))
    precision, recall, f1, support = precision_recall_fscore_support(
        truth, predicted, labels=labels, zero_division=0
    )
    classes = tuple(
        ClassScore(label, float(p), float(r), float(f), int(s))
        for label, p, r, f, s in zip(labels, precision, recall, f1, support, strict=True)
    )
    macro = sum(c.f1 for c in classes) / len(classes)
    return Report(classes, macro, float(accuracy_score(truth, predicted)))


def evaluate(reader: Reader, examples: Sequence[Example]) -> tuple[Report, Report]:
    """Per-class precision, recall and F1 of intent and sentiment on the given examples."""
    texts = [r.text for r in _TRAINING_REDACTOR.redact_many([e.text for e in examples])]
    readings = reader.read(texts)
    intent = report([e.intent.value for e in examples], [r.intent.value for r in readings])
    sentiment = report([e.sentiment.value for e in examples], [r.sentiment.value for r in readings])
    return intent, sentiment
