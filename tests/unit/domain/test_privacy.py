import pytest

from allo.domain.privacy import (
    WITHHELD_TEXT,
    Viewer,
    customer_view,
    mask_email,
    mask_iban,
    mask_name,
    mask_phone,
)
from allo.domain.roles import Role
from allo.domain.sites import TransferBasis

FIELDS: dict[str, str | None] = {
    "first_name": "Jean",
    "last_name": "Dupont",
    "email": "jean.dupont@example.fr",
    "phone": "+33 6 12 34 56 12",
    "address": "12 rue de la Paix",
    "iban": "FR76 3000 6000 0112 3456 7890 189",
    "notes": "client fidèle, appelle le soir",
}


def test_mask_name_keeps_initials() -> None:
    assert mask_name("Jean Dupont") == "J*** D***"


@pytest.mark.parametrize(
    ("phone", "masked"),
    [
        ("+33 6 12 34 56 12", "+33 6 ** ** ** 12"),
        ("+212 6 61 23 45 67", "+212 6 ** ** ** 67"),
        ("0612345612", "061*****12"),
    ],
)
def test_mask_phone(phone: str, masked: str) -> None:
    assert mask_phone(phone) == masked


def test_mask_email_and_iban() -> None:
    assert mask_email("jean.dupont@example.fr") == "j***@e***.fr"
    assert mask_iban("FR76 3000 6000 0112 3456 7890 189").endswith("189")
    assert "3000" not in mask_iban("FR76 3000 6000 0112 3456 7890 189")


def test_adviser_at_a_site_without_transfer_basis_sees_masked_data_and_no_payment() -> None:
    view = customer_view(Viewer(Role.ADVISER, TransferBasis.NONE), FIELDS)
    assert view["first_name"] == "J***"
    assert view["last_name"] == "D***"
    assert view["phone"] == "+33 6 ** ** ** 12"
    assert view["notes"] == WITHHELD_TEXT
    assert "iban" not in view


@pytest.mark.parametrize("basis", [TransferBasis.EEA, TransferBasis.ADEQUACY, TransferBasis.SCC])
def test_adviser_at_a_site_with_a_basis_sees_clear_identity_but_masked_payment(
    basis: TransferBasis,
) -> None:
    view = customer_view(Viewer(Role.ADVISER, basis), FIELDS)
    assert view["first_name"] == "Jean"
    assert view["email"] == "jean.dupont@example.fr"
    assert view["iban"] is not None
    assert view["iban"] != FIELDS["iban"]


def test_planner_sees_nothing() -> None:
    assert customer_view(Viewer(Role.PLANNER, None), FIELDS) == {}


def test_missing_values_stay_missing() -> None:
    view = customer_view(Viewer(Role.ADVISER, TransferBasis.NONE), {"email": None})
    assert view == {"email": None}
