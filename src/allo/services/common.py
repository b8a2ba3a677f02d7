"""Small helpers shared by the use cases."""

from __future__ import annotations

from typing import Any

from allo.domain.errors import InvalidValue


def apply_changes(row: object, changes: dict[str, Any]) -> dict[str, Any]:
    """Set the given attributes on a row; returns those whose value really changed."""
    changed: dict[str, Any] = {}
    for name, value in changes.items():
        if getattr(row, name) != value:
            setattr(row, name, value)
            changed[name] = value
    return changed


def check_page(offset: int, limit: int, max_limit: int = 500) -> None:
    if offset < 0:
        raise InvalidValue("offset", "must not be negative")
    if not 1 <= limit <= max_limit:
        raise InvalidValue("limit", f"must be between 1 and {max_limit}")
