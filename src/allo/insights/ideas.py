"""Rules of the idea board: the life of an idea and what customers may see of it."""

from __future__ import annotations

import re
from enum import StrEnum

from allo.domain.errors import IllegalTransition


class IdeaStatus(StrEnum):
    PROPOSED = "proposed"  # found in a contact, waiting for staff; not public
    PUBLISHED = "published"  # on the public board, open to votes
    PLANNED = "planned"  # the company's answer: we will do it
    DONE = "done"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"  # taken off the board by staff


class IdeaOrigin(StrEnum):
    CONTACT = "contact"
    CUSTOMER = "customer"


S = IdeaStatus
IDEA_TRANSITIONS: dict[IdeaStatus, frozenset[IdeaStatus]] = {
    S.PROPOSED: frozenset({S.PUBLISHED, S.PLANNED, S.DECLINED, S.WITHDRAWN}),
    S.PUBLISHED: frozenset({S.PLANNED, S.DONE, S.DECLINED, S.WITHDRAWN}),
    S.PLANNED: frozenset({S.DONE, S.DECLINED, S.WITHDRAWN}),
    S.DONE: frozenset({S.WITHDRAWN}),
    S.DECLINED: frozenset({S.PLANNED, S.WITHDRAWN}),
    S.WITHDRAWN: frozenset({S.PUBLISHED}),
}
PUBLIC_STATUSES = frozenset({S.PUBLISHED, S.PLANNED, S.DONE, S.DECLINED})
VOTABLE_STATUSES = frozenset({S.PUBLISHED, S.PLANNED})
ANSWERS = frozenset({S.PLANNED, S.DONE, S.DECLINED})
TITLE_LENGTH = 120
_SENTENCE_END = re.compile(r"(?<=[.!?])\s")


def check_idea_transition(current: IdeaStatus, target: IdeaStatus) -> None:
    if target not in IDEA_TRANSITIONS[current]:
        raise IllegalTransition("idea", current.value, target.value)


def make_title(text: str) -> str:
    """The first sentence, cut at a word boundary to fit a title."""
    first = _SENTENCE_END.split(text.strip(), maxsplit=1)[0].strip()
    if len(first) <= TITLE_LENGTH:
        return first
    cut = first[: TITLE_LENGTH - 1].rsplit(" ", 1)[0]
    return cut + "…"
