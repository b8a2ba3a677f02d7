"""Each redaction pattern, with numbers whose checksum holds and numbers whose checksum fails."""

from __future__ import annotations

import pytest

from allo.insights.checksums import iban_valid, luhn_valid, nir_valid
from allo.insights.redaction import Redactor, strip_payment_data

redactor = Redactor()  # patterns only; spaCy names are tested in test_names.py


def redacted(text: str) -> str:
    return redactor.redact(text).text


@pytest.mark.parametrize(
    "card",
    ["4111 1111 1111 1111", "5555-5555-5555-4444", "378282246310005", "4970 1012 3456 7893"],
)
def test_card_numbers_with_a_valid_luhn_are_redacted(card: str) -> None:
    assert luhn_valid(card)
    assert redacted(f"ma carte {card} a été débitée") == "ma carte [CARTE] a été débitée"


@pytest.mark.parametrize("number", ["4111 1111 1111 1112", "4970 1012 3456 7899", "1234567890123"])
def test_digit_runs_failing_luhn_stay(number: str) -> None:
    assert not luhn_valid(number)
    assert redacted(f"commande {number}") == f"commande {number}"


@pytest.mark.parametrize(
    "iban",
    [
        "FR76 3000 6000 0112 3456 7890 189",
        "FR7630006000011234567890189",
        "DE89 3704 0044 0532 0130 00",
        "GB82 WEST 1234 5698 7654 32",
        "MA64 0115 1900 0001 2050 0053 4921",
        "TN59 1000 6035 1835 9847 8831",
    ],
)
def test_ibans_with_a_valid_mod97_are_redacted(iban: str) -> None:
    assert iban_valid(iban)
    assert redacted(f"Mon IBAN {iban} est-il le bon ?") == "Mon IBAN [IBAN] est-il le bon ?"


@pytest.mark.parametrize(
    "iban", ["FR77 3000 6000 0112 3456 7890 189", "DE88 3704 0044 0532 0130 00", "FR76 3000"]
)
def test_ibans_failing_mod97_stay(iban: str) -> None:
    assert not iban_valid(iban)
    assert "[IBAN]" not in redacted(f"IBAN {iban} merci")


def test_nir_with_a_valid_key_is_redacted() -> None:
    for nir in ("1 84 01 76 451 089 64", "184017645108964", "2 69 02 99 341 732 85"):
        assert nir_valid(nir)
        assert redacted(f"mon numéro de sécu {nir}.") == "mon numéro de sécu [NIR]."


def test_nir_of_corsica_counts_2a_as_19() -> None:
    assert nir_valid("1 85 05 2A 004 123 56")
    assert redacted("NIR 1 85 05 2A 004 123 56") == "NIR [NIR]"


@pytest.mark.parametrize(
    "nir", ["1 84 01 76 451 089 65", "184017645108900", "2 69 02 99 341 732 00"]
)
def test_nir_with_a_wrong_key_is_not_taken_for_a_nir(nir: str) -> None:
    assert not nir_valid(nir)
    assert "[NIR]" not in redacted(f"numéro {nir}")


@pytest.mark.parametrize(
    "phone",
    [
        "06 12 34 56 78",
        "0612345678",
        "01.45.67.89.12",
        "+33 6 12 34 56 78",
        "+33612345678",
        "0033 6 12 34 56 78",
        "+33 (0)6 12 34 56 78",
        "+212 6 61 23 45 67",  # Morocco
        "00212661234567",
        "+213 5 51 23 45 67",  # Algeria
        "+216 98 123 456",  # Tunisia
        "+21698123456",
    ],
)
def test_french_and_maghreb_phone_numbers_are_redacted(phone: str) -> None:
    assert redacted(f"rappelez-moi au {phone} svp") == "rappelez-moi au [TÉL] svp"


@pytest.mark.parametrize(
    "text",
    [
        "facture de 230,45 € le 12/03/2026",
        "commande n°458721",
        "débit 900 Mb/s",
        "ligne 0 8 ouverte",
        "+216 12",
    ],
)
def test_amounts_dates_and_order_numbers_are_not_phones(text: str) -> None:
    assert redacted(text) == text


def test_emails_are_redacted() -> None:
    text = "écrivez à jeanne.morel@example.org ou J_D+allo@mail.example.co.uk."
    assert redacted(text) == "écrivez à [EMAIL] ou [EMAIL]."


def test_street_addresses_with_a_number_are_redacted_and_cities_stay() -> None:
    assert redacted("J'habite 12 rue de la République, 69002 Lyon depuis mai") == (
        "J'habite [ADRESSE] depuis mai"
    )
    assert redacted("livrez au 3 bis avenue Jean Jaurès svp") == "livrez au [ADRESSE] svp"
    # Without a house number it is a place (an outage), not somebody's address.
    assert redacted("panne rue Victor Hugo à Grenoble") == "panne rue Victor Hugo à Grenoble"


def test_names_after_a_civility_or_an_introduction_are_redacted() -> None:
    assert redacted("Merci Mme Dubois pour vos conseils") == "Merci [NOM] pour vos conseils"
    assert redacted("M. Patrick Germain a reçu ma carte") == "[NOM] a reçu ma carte"
    assert redacted("Bonjour, je m'appelle Inès Benali") == "Bonjour, je m'appelle [NOM]"


def test_redaction_counts_what_it_removed() -> None:
    result = redactor.redact("Carte 4111 1111 1111 1111, tél 06 12 34 56 78 ou 07 81 23 45 67")
    assert result.found == {"CARTE": 1, "TÉL": 2}
    assert result.changed


def test_payment_stripping_keeps_everything_but_cards_and_ibans() -> None:
    text = "IBAN FR76 3000 6000 0112 3456 7890 189, carte 4111111111111111, tél 06 12 34 56 78"
    assert strip_payment_data(text) == "IBAN [IBAN], carte [CARTE], tél 06 12 34 56 78"
