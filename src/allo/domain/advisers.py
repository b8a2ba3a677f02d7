"""Advisers (téléconseillers): one site, skills with proficiency, languages with a level."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from allo.domain.channels import DEFAULT_CAPACITY, Channel
from allo.domain.errors import IllegalTransition, InvalidValue
from allo.domain.values import check_levels


class AdviserState(StrEnum):
    LOGGED_OUT = "logged_out"
    READY = "ready"
    NOT_READY = "not_ready"
    BREAK = "break"
    WRAP_UP = "wrap_up"


_PRESENT = {AdviserState.READY, AdviserState.NOT_READY, AdviserState.BREAK, AdviserState.WRAP_UP}
ADVISER_TRANSITIONS: dict[AdviserState, frozenset[AdviserState]] = {
    AdviserState.LOGGED_OUT: frozenset({AdviserState.READY, AdviserState.NOT_READY}),
    **{state: frozenset(_PRESENT | {AdviserState.LOGGED_OUT}) - {state} for state in _PRESENT},
}


def check_adviser_transition(current: AdviserState, target: AdviserState) -> None:
    if target not in ADVISER_TRANSITIONS[current]:
        raise IllegalTransition("adviser", current.value, target.value)


def validate_capacity(capacity: Mapping[str, int]) -> dict[Channel, int]:
    checked: dict[Channel, int] = {}
    for name, slots in capacity.items():
        try:
            channel = Channel(name)
        except ValueError:
            message = "is not a channel (voice, chat, email, callback)"
            raise InvalidValue(f"capacity.{name}", message) from None
        if isinstance(slots, bool) or not isinstance(slots, int) or not 0 <= slots <= 20:
            raise InvalidValue(f"capacity.{name}", "must be an integer between 0 and 20")
        checked[channel] = slots
    return checked


@dataclass(frozen=True, slots=True)
class Adviser:
    id: int
    tenant_id: int
    site_id: int
    name: str
    skills: Mapping[str, int]
    languages: Mapping[str, int]
    capacity: Mapping[Channel, int] = field(default_factory=lambda: dict(DEFAULT_CAPACITY))
    state: AdviserState = AdviserState.LOGGED_OUT

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise InvalidValue("name", "must not be empty")
        check_levels("skills", self.skills, languages=False)
        check_levels("languages", self.languages, languages=True)
        validate_capacity({str(k): v for k, v in self.capacity.items()})

    def has_skills(self, required: Mapping[str, int]) -> bool:
        return all(self.skills.get(skill, 0) >= level for skill, level in required.items())

    def speaks(self, language: str, min_level: int) -> bool:
        return self.languages.get(language, 0) >= min_level
