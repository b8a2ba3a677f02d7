"""Sites: where advisers sit, with country, clock, languages, cost and transfer status."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from allo.domain.countries import EEA_COUNTRIES, is_country
from allo.domain.errors import InvalidValue
from allo.domain.values import check_language, check_timezone


class TransferBasis(StrEnum):
    """The GDPR ground on which customer data may be seen from a site.

    `eea` and `adequacy` need no transfer tool; `scc` means standard contractual clauses
    (2021/914) with a transfer impact assessment; `none` means no valid ground, so the site
    only ever sees masked customer data.
    """

    EEA = "eea"
    ADEQUACY = "adequacy"
    SCC = "scc"
    NONE = "none"

    @property
    def allows_clear_data(self) -> bool:
        return self is not TransferBasis.NONE


@dataclass(frozen=True, slots=True)
class Site:
    id: int
    tenant_id: int
    name: str
    country: str
    timezone: str
    languages: tuple[str, ...]
    hourly_cost: float
    currency: str = "EUR"
    transfer_basis: TransferBasis = TransferBasis.EEA
    groups: tuple[str, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        validate_site_fields(
            name=self.name,
            country=self.country,
            timezone=self.timezone,
            languages=self.languages,
            hourly_cost=self.hourly_cost,
            currency=self.currency,
            transfer_basis=self.transfer_basis,
        )


def validate_site_fields(
    *,
    name: str,
    country: str,
    timezone: str,
    languages: tuple[str, ...] | list[str],
    hourly_cost: float,
    currency: str,
    transfer_basis: TransferBasis,
) -> None:
    if not name.strip():
        raise InvalidValue("name", "must not be empty")
    if not is_country(country):
        raise InvalidValue("country", f"{country!r} is not an ISO 3166 alpha-2 code such as 'FR'")
    check_timezone("timezone", timezone)
    if not languages:
        raise InvalidValue("languages", "a site speaks at least one language")
    for index, language in enumerate(languages):
        check_language(f"languages[{index}]", language)
    if hourly_cost < 0:
        raise InvalidValue("hourly_cost", "must not be negative")
    if len(currency) != 3 or not currency.isupper():
        raise InvalidValue("currency", f"{currency!r} is not an ISO 4217 code such as 'EUR'")
    if transfer_basis is TransferBasis.EEA and country not in EEA_COUNTRIES:
        raise InvalidValue("transfer_basis", f"'eea' does not apply to a site in {country}")


SCC_MODULES = (2, 3)


def effective_basis(
    basis: TransferBasis, module: int | None, assessed_on: date | None, today: date
) -> TransferBasis:
    """The basis that actually holds, from the site's entry in the transfer register.

    Standard contractual clauses count only with a module (2: the company contracts the
    offshore provider; 3: an EU provider's own offshore site) and a transfer impact
    assessment already made; otherwise the site is treated as having no basis at all.
    """
    if basis is not TransferBasis.SCC:
        return basis
    if module not in SCC_MODULES or assessed_on is None or assessed_on > today:
        return TransferBasis.NONE
    return basis
