"""The labelled French data set of customer messages kept in `insights/data/messages.jsonl`.

Each line: id, domain (telecom, energy, banking, ecommerce), text, intent, sentiment and a
fixed split (train or test) so that evaluations are comparable from one run to the next.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from allo.insights.labels import Intent, Sentiment

DATA_FILE = "messages.jsonl"


@dataclass(frozen=True, slots=True)
class Example:
    id: str
    domain: str
    text: str
    intent: Intent
    sentiment: Sentiment
    split: str


def parse_line(line: str) -> Example:
    data = json.loads(line)
    return Example(
        id=data["id"],
        domain=data["domain"],
        text=data["text"],
        intent=Intent(data["intent"]),
        sentiment=Sentiment(data["sentiment"]),
        split=data["split"],
    )


@lru_cache(maxsize=1)
def load_examples() -> tuple[Example, ...]:
    text = resources.files("allo.insights").joinpath("data", DATA_FILE).read_text("utf-8")
    return tuple(parse_line(line) for line in text.splitlines() if line.strip())


def split(name: str) -> tuple[Example, ...]:
    return tuple(example for example in load_examples() if example.split == name)
