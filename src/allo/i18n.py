"""One translation layer for every user-facing text: French by default, English available.

Catalogs are JSON files in `allo/locale/` mapping a message key to its text, with
`{placeholders}` filled by keyword arguments.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

LOCALE_DIR = Path(__file__).parent / "locale"
DEFAULT_LANGUAGE = "fr"
LANGUAGES = ("fr", "en")


@lru_cache(maxsize=len(LANGUAGES))
def catalog(language: str) -> dict[str, str]:
    path = LOCALE_DIR / f"{language}.json"
    data: dict[str, str] = json.loads(path.read_text(encoding="utf-8"))
    return data


def pick_language(accept_language: str | None, default: str = DEFAULT_LANGUAGE) -> str:
    """The first supported language of an Accept-Language header (q-values in order)."""
    if not accept_language:
        return default
    for part in accept_language.split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if code in LANGUAGES:
            return code
    return default


def t(key: str, language: str = DEFAULT_LANGUAGE, **values: object) -> str:
    """The text of `key` in `language`, falling back to French, then to the key itself."""
    language = language if language in LANGUAGES else DEFAULT_LANGUAGE
    text = catalog(language).get(key) or catalog(DEFAULT_LANGUAGE).get(key) or key
    return text.format(**values) if values else text


def texts(prefix: str, language: str = DEFAULT_LANGUAGE, *prefixes: str) -> dict[str, str]:
    """Every text whose key starts with one of the prefixes, for pages' scripts."""
    wanted = (prefix, *prefixes)
    keys = [k for k in catalog(DEFAULT_LANGUAGE) if k.startswith(wanted)]
    return {k: t(k, language) for k in keys}
