"""Request and response bodies of the REST API. Unknown fields are refused (422)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from allo.domain.advisers import AdviserState
from allo.domain.channels import Channel
from allo.domain.contacts import ContactStatus
from allo.domain.errors import InvalidValue
from allo.domain.roles import Role
from allo.domain.sites import TransferBasis

Name = Annotated[str, Field(min_length=1, max_length=200)]
Level = Annotated[int, Field(ge=1, le=5)]
Item = TypeVar("Item")


# Fields that may be cleared by sending null; any other null in a body is refused.
NULLABLE = frozenset(
    {
        "transfer_module",
        "transfer_assessed_on",
        "email",
        "phone",
        "address",
        "iban",
        "notes",
        "external_ref",
        "customer_id",
        "subject",
        "site_id",
        "adviser_id",
    }
)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def changes_of(body: BaseModel) -> dict[str, Any]:
    """The fields the caller sent; an explicit null where a value is required is an error."""
    sent = body.model_dump(exclude_unset=True)
    for name, value in sent.items():
        if value is None and name not in NULLABLE:
            raise InvalidValue(name, "must not be null")
    return sent


def creation_of(body: BaseModel) -> dict[str, Any]:
    """Every field of a creation body with its default; unset optional ones are left out."""
    return {k: v for k, v in body.model_dump().items() if v is not None or k in NULLABLE}


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class Page(BaseModel, Generic[Item]):
    items: list[Item]
    total: int
    offset: int
    limit: int


class SiteIn(Strict):
    name: Name
    country: Annotated[str, Field(min_length=2, max_length=2)]
    timezone: Annotated[str, Field(min_length=1, max_length=64)]
    languages: Annotated[list[str], Field(min_length=1, max_length=20)]
    hourly_cost: Annotated[float, Field(ge=0, le=10_000)]
    currency: Annotated[str, Field(min_length=3, max_length=3)] = "EUR"
    transfer_basis: TransferBasis = TransferBasis.EEA
    transfer_module: Annotated[int, Field(ge=1, le=4)] | None = None
    transfer_assessed_on: date | None = None
    groups: Annotated[list[str], Field(max_length=20)] = []


class SitePatch(Strict):
    name: Name | None = None
    country: Annotated[str, Field(min_length=2, max_length=2)] | None = None
    timezone: Annotated[str, Field(min_length=1, max_length=64)] | None = None
    languages: Annotated[list[str], Field(min_length=1, max_length=20)] | None = None
    hourly_cost: Annotated[float, Field(ge=0, le=10_000)] | None = None
    currency: Annotated[str, Field(min_length=3, max_length=3)] | None = None
    transfer_basis: TransferBasis | None = None
    transfer_module: Annotated[int, Field(ge=1, le=4)] | None = None
    transfer_assessed_on: date | None = None
    groups: Annotated[list[str], Field(max_length=20)] | None = None


class SiteOut(Out):
    id: int
    name: str
    country: str
    timezone: str
    languages: list[str]
    hourly_cost: float
    currency: str
    transfer_basis: TransferBasis
    transfer_module: int | None
    transfer_assessed_on: date | None
    groups: list[str]
    created_at: datetime
    updated_at: datetime


class AdviserIn(Strict):
    site_id: int
    name: Name
    skills: dict[str, Level] = {}
    languages: dict[str, Level] = Field(min_length=1)
    capacity: dict[Channel, Annotated[int, Field(ge=0, le=20)]] | None = None


class AdviserPatch(Strict):
    site_id: int | None = None
    name: Name | None = None
    skills: dict[str, Level] | None = None
    languages: dict[str, Level] | None = None
    capacity: dict[Channel, Annotated[int, Field(ge=0, le=20)]] | None = None


class AdviserOut(Out):
    id: int
    site_id: int
    name: str
    skills: dict[str, int]
    languages: dict[str, int]
    capacity: dict[str, int]
    state: AdviserState
    created_at: datetime
    updated_at: datetime


class AdviserStateIn(Strict):
    state: AdviserState


class OpeningHoursIn(Strict):
    timezone: str = "Europe/Paris"
    weekly: dict[str, list[Annotated[list[str], Field(min_length=2, max_length=2)]]]


class QueueIn(Strict):
    name: Name
    required_skills: dict[str, Level] = {}
    language: Annotated[str, Field(min_length=2, max_length=3)] = "fr"
    min_language_level: Level = 3
    sl_percent: Annotated[float, Field(gt=0, le=100)] = 80.0
    sl_seconds: Annotated[int, Field(gt=0, le=86_400 * 7)] = 20
    opening_hours: OpeningHoursIn | None = None
    priority: Annotated[int, Field(ge=-100, le=100)] = 0
    routing_policy: dict[str, Any] | None = None
    reply_target_seconds: Annotated[int, Field(gt=0, le=86_400 * 30)] | None = None
    # CNIL: recordings for quality are kept at most 6 months.
    recording: bool | None = None
    recording_retention_days: Annotated[int, Field(ge=1, le=183)] | None = None


class QueuePatch(Strict):
    name: Name | None = None
    required_skills: dict[str, Level] | None = None
    language: Annotated[str, Field(min_length=2, max_length=3)] | None = None
    min_language_level: Level | None = None
    sl_percent: Annotated[float, Field(gt=0, le=100)] | None = None
    sl_seconds: Annotated[int, Field(gt=0, le=86_400 * 7)] | None = None
    opening_hours: OpeningHoursIn | None = None
    priority: Annotated[int, Field(ge=-100, le=100)] | None = None
    routing_policy: dict[str, Any] | None = None
    reply_target_seconds: Annotated[int, Field(gt=0, le=86_400 * 30)] | None = None
    # CNIL: recordings for quality are kept at most 6 months.
    recording: bool | None = None
    recording_retention_days: Annotated[int, Field(ge=1, le=183)] | None = None


class QueueOut(Out):
    id: int
    name: str
    required_skills: dict[str, int]
    language: str
    min_language_level: int
    sl_percent: float
    sl_seconds: int
    opening_hours: dict[str, Any]
    priority: int
    routing_policy: dict[str, Any]
    reply_target_seconds: int
    recording: bool
    recording_retention_days: int
    created_at: datetime
    updated_at: datetime


Text200 = Annotated[str, Field(max_length=200)]


class CustomerIn(Strict):
    first_name: Name
    last_name: Name
    email: Annotated[str, Field(max_length=254)] | None = None
    phone: Annotated[str, Field(max_length=40)] | None = None
    address: Annotated[str, Field(max_length=500)] | None = None
    iban: Annotated[str, Field(max_length=40)] | None = None
    notes: Annotated[str, Field(max_length=4000)] | None = None
    language: Annotated[str, Field(min_length=2, max_length=3)] = "fr"
    external_ref: Annotated[str, Field(max_length=100)] | None = None


class CustomerPatch(Strict):
    first_name: Name | None = None
    last_name: Name | None = None
    email: Annotated[str, Field(max_length=254)] | None = None
    phone: Annotated[str, Field(max_length=40)] | None = None
    address: Annotated[str, Field(max_length=500)] | None = None
    iban: Annotated[str, Field(max_length=40)] | None = None
    notes: Annotated[str, Field(max_length=4000)] | None = None
    language: Annotated[str, Field(min_length=2, max_length=3)] | None = None
    external_ref: Annotated[str, Field(max_length=100)] | None = None


class CustomerOut(BaseModel):
    """Fields a viewer may not see are absent; masked ones carry the masked text."""

    id: int
    language: str
    external_ref: str | None
    masked: bool
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    phone: str | None = None
    address: str | None = None
    iban: str | None = None
    notes: str | None = None
    created_at: datetime
    updated_at: datetime


class ContactIn(Strict):
    channel: Channel
    queue_id: int
    customer_id: int | None = None
    language: Annotated[str, Field(min_length=2, max_length=3)] | None = None
    priority: Annotated[int, Field(ge=-100, le=100)] | None = None
    subject: Annotated[str, Field(max_length=500)] | None = None
    site_group: Annotated[str, Field(min_length=1, max_length=64)] | None = None
    site_only: bool = False


class ContactOut(Out):
    id: int
    channel: Channel
    queue_id: int
    customer_id: int | None
    language: str
    status: ContactStatus
    adviser_id: int | None
    priority: int
    subject: str | None
    site_group: str | None
    site_only: bool
    offer_expires_at: datetime | None
    callback_at: datetime | None
    wrap_code: str | None
    resolved: bool | None
    created_at: datetime
    updated_at: datetime


class EventOut(Out):
    id: int
    type: str
    subject_type: str
    subject_id: int | None
    payload: dict[str, Any]
    occurred_at: datetime


class EventPage(BaseModel):
    events: list[EventOut]
    next_cursor: int


class AuditOut(Out):
    id: int
    user_id: int | None
    site_id: int | None
    action: str
    subject_type: str
    subject_id: int | None
    fields: dict[str, Any]
    at: datetime


class AuditPage(BaseModel):
    entries: list[AuditOut]
    next_cursor: int


class LoginIn(Strict):
    email: Annotated[str, Field(min_length=3, max_length=254)]
    password: Annotated[str, Field(min_length=1, max_length=200)]


class UserIn(Strict):
    email: Annotated[str, Field(min_length=3, max_length=254)]
    password: Annotated[str, Field(min_length=8, max_length=200)]
    role: Role
    display_name: Text200 = ""
    site_id: int | None = None
    adviser_id: int | None = None


class UserOut(Out):
    id: int
    email: str
    display_name: str
    role: Role
    site_id: int | None
    adviser_id: int | None


class MeOut(BaseModel):
    user: UserOut
    tenant: str
    csrf_token: str | None = None


class TokenIn(Strict):
    user_id: int
    name: Annotated[str, Field(min_length=1, max_length=200)]


class TokenOut(BaseModel):
    token: str


class CloseIn(Strict):
    wrap_code: Annotated[str, Field(min_length=1, max_length=64)] | None = None
    notes: Annotated[str, Field(max_length=4000)] | None = None
    resolved: bool | None = None


class CallbackIn(Strict):
    """`at` omitted: keep my place and call me back; `at` given: call me at that time."""

    at: datetime | None = None


class WaitOut(BaseModel):
    group: str | None
    only: bool
    channel: str = "voice"
    seconds: float | None


class QueueStatusOut(BaseModel):
    queue_id: int
    waiting: int
    longest_wait: float
    estimates: list[WaitOut]
    updated_at: datetime | None
