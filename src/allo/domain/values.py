"""Small validated values shared by the model: proficiency levels, languages, time zones."""

from __future__ import annotations

import re
import zoneinfo
from collections.abc import Mapping

from allo.domain.errors import InvalidValue

MIN_LEVEL = 1
MAX_LEVEL = 5
_LANGUAGE = re.compile(r"^[a-z]{2,3}$")
_SKILL = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")


def check_level(field: str, level: int) -> int:
    if isinstance(level, bool) or not isinstance(level, int):
        raise InvalidValue(field, "must be an integer")
    if not MIN_LEVEL <= level <= MAX_LEVEL:
        raise InvalidValue(field, f"must be between {MIN_LEVEL} and {MAX_LEVEL}, got {level}")
    return level


def check_language(field: str, code: str) -> str:
    if not _LANGUAGE.match(code):
        raise InvalidValue(field, f"{code!r} is not an ISO 639 language code such as 'fr'")
    return code


def check_skill(field: str, name: str) -> str:
    if not _SKILL.match(name):
        raise InvalidValue(field, f"{name!r} is not a skill name (lowercase letters, digits, _.-)")
    return name


def check_levels(field: str, levels: Mapping[str, int], *, languages: bool) -> dict[str, int]:
    """Validate a mapping of skill or language names to a level 1–5."""
    checked: dict[str, int] = {}
    for name, level in levels.items():
        if languages:
            check_language(f"{field}.{name}", name)
        else:
            check_skill(f"{field}.{name}", name)
        checked[name] = check_level(f"{field}.{name}", level)
    return checked


def check_timezone(field: str, name: str) -> str:
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        message = f"{name!r} is not an IANA time zone such as 'Europe/Paris'"
        raise InvalidValue(field, message) from None
    return name
