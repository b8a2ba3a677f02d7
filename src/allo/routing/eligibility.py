"""Who may take a queue's contacts: advisers indexed by (skill, level) and (language, level).

An adviser with skill s at level 4 is filed under (s, 1) … (s, 4), so the advisers with s at
level 3 or more are one set; a pool's members are the intersection of a few such sets,
smallest first, instead of a scan of every adviser.
"""

from __future__ import annotations

from collections.abc import Mapping

from allo.domain.advisers import Adviser
from allo.domain.queues import Queue


def skill_score(adviser: Adviser, queue: Queue) -> int:
    """How skilled the adviser is for the queue: the sum of the levels the queue requires."""
    return sum(adviser.skills.get(skill, 0) for skill in queue.required_skills)


def is_eligible(adviser: Adviser, queue: Queue, language: str) -> bool:
    return adviser.has_skills(queue.required_skills) and adviser.speaks(
        language, queue.min_language_level
    )


class EligibilityIndex:
    def __init__(self) -> None:
        self._by_skill: dict[tuple[str, int], set[int]] = {}
        self._by_language: dict[tuple[str, int], set[int]] = {}

    def add(self, adviser: Adviser) -> None:
        _file(self._by_skill, adviser.id, adviser.skills)
        _file(self._by_language, adviser.id, adviser.languages)

    def remove(self, adviser: Adviser) -> None:
        _unfile(self._by_skill, adviser.id, adviser.skills)
        _unfile(self._by_language, adviser.id, adviser.languages)

    def members(self, queue: Queue, language: str) -> list[int]:
        """Ids of the advisers eligible for the queue in this language, in ascending order."""
        empty: set[int] = set()
        sets = [self._by_language.get((language, queue.min_language_level), empty)]
        sets += [self._by_skill.get(item, empty) for item in queue.required_skills.items()]
        sets.sort(key=len)
        found = sets[0].intersection(*sets[1:])
        return sorted(found)


def _file(index: dict[tuple[str, int], set[int]], ident: int, levels: Mapping[str, int]) -> None:
    for name, level in levels.items():
        for at_least in range(1, level + 1):
            index.setdefault((name, at_least), set()).add(ident)


def _unfile(index: dict[tuple[str, int], set[int]], ident: int, levels: Mapping[str, int]) -> None:
    for name, level in levels.items():
        for at_least in range(1, level + 1):
            index.get((name, at_least), set()).discard(ident)
