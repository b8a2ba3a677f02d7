"""Events: append-only facts written in the same transaction as the change they record."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class Event:
    type: str
    tenant_id: int
    subject_type: str
    subject_id: int | None
    occurred_at: datetime
    payload: dict[str, Any] = field(default_factory=dict)
    id: int | None = None
    # What the writer already holds (e.g. the message row), for listeners in the same
    # process: they need not read it back. Never stored, never sent; may be None.
    local: Any = field(default=None, compare=False, repr=False)
