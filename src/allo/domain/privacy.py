"""What a viewer may see of a customer, according to role and the transfer basis of their site.

Rules (see ../shared/DOMAIN.md, GDPR Chapter V and CNIL need-to-know):
- payment data is never shown in clear to anyone through the application; advisers at a site
  without a transfer basis do not receive it at all;
- identity and contact details are masked for a viewer whose site has no transfer basis;
- free text may hold anything personal, so it is withheld from such a viewer;
- planners never read customer files.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from allo.domain.customers import CUSTOMER_FIELD_CLASSES, PrivacyClass
from allo.domain.roles import Permission, Role, can
from allo.domain.sites import TransferBasis

WITHHELD_TEXT = "[masqué]"


class Visibility(StrEnum):
    CLEAR = "clear"
    MASKED = "masked"
    HIDDEN = "hidden"


@dataclass(frozen=True, slots=True)
class Viewer:
    """Who is looking: a role and the transfer basis of the site they sit at (None: no site)."""

    role: Role
    site_basis: TransferBasis | None

    @property
    def site_allows_clear_data(self) -> bool:
        return self.site_basis is None or self.site_basis.allows_clear_data


def visibility(viewer: Viewer, privacy_class: PrivacyClass) -> Visibility:
    if not can(viewer.role, Permission.READ_CUSTOMERS):
        return Visibility.HIDDEN
    if privacy_class is PrivacyClass.PAYMENT:
        if viewer.role is Role.ADVISER and not viewer.site_allows_clear_data:
            return Visibility.HIDDEN
        return Visibility.MASKED
    if viewer.site_allows_clear_data:
        return Visibility.CLEAR
    return Visibility.MASKED


def mask_word(word: str) -> str:
    return f"{word[0]}***" if word else word


def mask_name(name: str) -> str:
    """'Jean Dupont' → 'J*** D***'."""
    return " ".join(mask_word(part) for part in name.split())


def mask_phone(phone: str) -> str:
    """'+33 6 12 34 56 12' → '+33 6 ** ** ** 12': country code, first digit and last two stay."""
    groups = phone.split()
    digits = sum(c.isdigit() for c in phone)
    if len(groups) >= 2 and len(groups[1]) == 1:
        keep_head = sum(c.isdigit() for c in groups[0]) + 1
    else:
        keep_head = min(3, max(digits - 4, 0))
    keep_tail = 2 if digits > keep_head + 2 else 0
    out: list[str] = []
    seen = 0
    for char in phone:
        if char.isdigit():
            seen += 1
            keep = seen <= keep_head or seen > digits - keep_tail
            out.append(char if keep else "*")
        else:
            out.append(char)
    return "".join(out)


def mask_email(email: str) -> str:
    """'jean.dupont@example.fr' → 'j***@e***.fr'."""
    local, _, domain = email.partition("@")
    host, _, tld = domain.rpartition(".")
    if not host:
        return mask_word(local) + ("@***" if domain else "")
    return f"{mask_word(local)}@{mask_word(host)}.{tld}"


def mask_iban(iban: str) -> str:
    """'FR76 3000 6000 0112 3456 7890 189' → 'FR** **** … *189': only the last 3 stay."""
    compact = re.sub(r"\s", "", iban)
    return compact[:2] + "*" * max(len(compact) - 5, 0) + compact[-3:]


def mask_text(_: str) -> str:
    return WITHHELD_TEXT


_MASKERS = {
    "first_name": mask_name,
    "last_name": mask_name,
    "email": mask_email,
    "phone": mask_phone,
    "address": lambda text: mask_name(text),
    "iban": mask_iban,
    "notes": mask_text,
}


def customer_view(viewer: Viewer, fields: dict[str, str | None]) -> dict[str, str | None]:
    """The customer's personal fields as this viewer may receive them; hidden fields are omitted."""
    view: dict[str, str | None] = {}
    for name, value in fields.items():
        seen = visibility(viewer, CUSTOMER_FIELD_CLASSES[name])
        if seen is Visibility.HIDDEN:
            continue
        if value is None or seen is Visibility.CLEAR:
            view[name] = value
        else:
            view[name] = _MASKERS[name](value)
    return view
