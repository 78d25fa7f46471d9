"""Pseudonymous references: what the payment provider and the cash office see.

The provider learns a random *Kassenzeichen* (the cash office's booking reference) and a
fixed purpose text; never the applicant's name, the permit type or the case reference.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable

KASSENZEICHEN_DIGITS = 15
PURPOSE_MAX = 27
PURPOSE_PREFIX = "Gebuehr "


def luhn_check_digit(digits: str) -> str:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 0:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return str((10 - total % 10) % 10)


def is_valid_kassenzeichen(value: str) -> bool:
    return (
        len(value) == KASSENZEICHEN_DIGITS + 1
        and value.isdigit()
        and luhn_check_digit(value[:-1]) == value[-1]
    )


def new_kassenzeichen(randbelow: Callable[[int], int] = secrets.randbelow) -> str:
    """16 digits: 15 random (about 50 bits) plus a Luhn check digit against typing errors."""
    body = f"{randbelow(10**KASSENZEICHEN_DIGITS):0{KASSENZEICHEN_DIGITS}d}"
    return body + luhn_check_digit(body)


def purpose_for(kassenzeichen: str) -> str:
    """The purpose text (Verwendungszweck) shown on bank statements: at most 27 characters,
    ASCII, and nothing but the Kassenzeichen."""
    purpose = PURPOSE_PREFIX + kassenzeichen
    if len(purpose) > PURPOSE_MAX or not purpose.isascii():
        raise ValueError("purpose text too long or not ASCII")
    return purpose
