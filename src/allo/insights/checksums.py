"""Checksums that tell a real card number, IBAN or NIR from any other run of digits."""

from __future__ import annotations

import re

_NON_ALNUM = re.compile(r"[^0-9A-Za-z]")


def digits_of(text: str) -> str:
    return "".join(char for char in text if char.isdigit())


def luhn_valid(number: str) -> bool:
    """Luhn (mod 10) check of a payment card number; separators are ignored."""
    digits = digits_of(number)
    if not 12 <= len(digits) <= 19:
        return False
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 1:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def iban_valid(iban: str) -> bool:
    """ISO 13616 check: country code, two check digits, BBAN; the number mod 97 must be 1."""
    compact = _NON_ALNUM.sub("", iban).upper()
    if not 15 <= len(compact) <= 34:
        return False
    if not (compact[:2].isalpha() and compact[2:4].isdigit()):
        return False
    rearranged = compact[4:] + compact[:4]
    number = "".join(str(int(char, 36)) for char in rearranged)
    return int(number) % 97 == 1


def nir_valid(nir: str) -> bool:
    """French social-security number (NIR): 13 characters and a 2-digit key = 97 − (n mod 97).

    Corsican départements 2A and 2B count as 19 and 18 in the computation.
    """
    compact = _NON_ALNUM.sub("", nir).upper()
    if len(compact) != 15:
        return False
    body, key = compact[:13], compact[13:]
    body = body[:5] + body[5:7].replace("2A", "19").replace("2B", "18") + body[7:]
    if not (body.isdigit() and key.isdigit()):
        return False
    return 97 - int(body) % 97 == int(key)
