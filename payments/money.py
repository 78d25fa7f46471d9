"""Money in JSON without floats.

XBezahldienste and FIT-Connect write amounts as JSON numbers in euros (``100.00``). Python's
``json`` would go through ``float`` for that; these helpers write the decimal text from
integer cents and read numbers as :class:`~decimal.Decimal`, refusing anything that is not a
whole number of cents.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from payments.fees import format_cents


@dataclass(frozen=True, slots=True)
class Euros:
    """An amount to be written as a JSON number in euros, from integer cents."""

    cents: int


def dumps(value: Any) -> str:
    """``json.dumps`` that writes :class:`Euros` as exact decimal numbers (``100.00``)."""
    marker = "@@euros-" + secrets.token_hex(8) + "-"
    amounts: list[int] = []

    def replace(item: Any) -> Any:
        if isinstance(item, Euros):
            amounts.append(item.cents)
            return f"{marker}{len(amounts) - 1}@@"
        if isinstance(item, dict):
            return {k: replace(v) for k, v in item.items()}
        if isinstance(item, list | tuple):
            return [replace(v) for v in item]
        return item

    text = json.dumps(replace(value), ensure_ascii=False, separators=(",", ":"))
    for index, cents in enumerate(amounts):
        text = text.replace(f'"{marker}{index}@@"', format_cents(cents))
    return text


def loads(text: str | bytes) -> Any:
    """``json.loads`` reading every number with a fraction as :class:`Decimal`."""
    return json.loads(text, parse_float=Decimal)


def cents_from_euros(value: object) -> int:
    """A JSON euro amount (``Decimal`` or ``int``) as integer cents; refuses fractions of a
    cent, booleans and anything else."""
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise ValueError("amount is not a number")
    scaled = Decimal(value) * 100
    if scaled != scaled.to_integral_value():
        raise ValueError("amount has fractions of a cent")
    return int(scaled)
