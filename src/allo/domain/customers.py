"""Customers, with every field tagged by its privacy class."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class PrivacyClass(StrEnum):
    IDENTITY = "identity"
    CONTACT_DETAILS = "contact_details"
    PAYMENT = "payment"
    FREE_TEXT = "free_text"


# The one place that says which class each customer field belongs to.
CUSTOMER_FIELD_CLASSES: dict[str, PrivacyClass] = {
    "first_name": PrivacyClass.IDENTITY,
    "last_name": PrivacyClass.IDENTITY,
    "email": PrivacyClass.CONTACT_DETAILS,
    "phone": PrivacyClass.CONTACT_DETAILS,
    "address": PrivacyClass.CONTACT_DETAILS,
    "iban": PrivacyClass.PAYMENT,
    "notes": PrivacyClass.FREE_TEXT,
}
CUSTOMER_FIELDS = tuple(CUSTOMER_FIELD_CLASSES)


@dataclass(frozen=True, slots=True)
class Customer:
    id: int
    tenant_id: int
    first_name: str
    last_name: str
    email: str | None = None
    phone: str | None = None
    address: str | None = None
    iban: str | None = None
    notes: str | None = None
    language: str = "fr"
    external_ref: str | None = None

    def personal_fields(self) -> dict[str, str | None]:
        return {name: getattr(self, name) for name in CUSTOMER_FIELDS}
