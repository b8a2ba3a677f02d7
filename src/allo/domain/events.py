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
