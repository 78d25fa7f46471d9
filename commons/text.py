"""What text and numbers the API accepts: one rule for every schema, path and query.

SQLite stores a NUL character and PostgreSQL raises on it; a lone surrogate cannot be
encoded as UTF-8 at all. So the edge decides, the same on both databases:

- an **identifier** (ids, codes, names of things, filters, keys, path and query values)
  refuses every control character (Unicode category ``Cc``: U+0000-U+001F, U+007F-U+009F)
  and every surrogate;
- **free text** (titles, bodies, reasons) refuses the same except tab, line feed and
  carriage return.

Schemas use :data:`Identifier` and :data:`FreeText` (pydantic), the gateway's edge applies
:func:`identifier_problem` to every path and query value and :func:`free_text_problem` to
every string of every JSON body, so a schema that forgets the types still gets the floor.

Money is :data:`Cents`: a strict integer (``true`` and ``"100"`` are refused) within
:data:`MAX_CENTS`. :data:`Int64` bounds integers that reach a ``BIGINT`` column.
"""

from __future__ import annotations

import unicodedata
from typing import Annotated

from pydantic import AfterValidator, Field, StrictInt

TEXT_CONTROLS_ALLOWED = frozenset("\t\n\r")
MAX_INT64 = 2**63 - 1
MAX_CENTS = 10**11
"""A billion euros: far above any fee or refund, far below every integer column."""


def _bad_char(value: str, allowed: frozenset[str]) -> bool:
    return any(
        unicodedata.category(ch) in ("Cc", "Cs") and ch not in allowed
        for ch in value
        if not (" " <= ch <= "~")  # the printable ASCII fast path
    )


def identifier_problem(value: str) -> str | None:
    """Why ``value`` is no acceptable identifier, or ``None``."""
    if _bad_char(value, frozenset()):
        return "identifiers contain no control characters"
    return None


def free_text_problem(value: str) -> str | None:
    """Why ``value`` is no acceptable free text, or ``None``."""
    if _bad_char(value, TEXT_CONTROLS_ALLOWED):
        return "text contains no control characters other than tab, line feed, carriage return"
    return None


def _identifier(value: str) -> str:
    problem = identifier_problem(value)
    if problem:
        raise ValueError(problem)
    return value


def _free_text(value: str) -> str:
    problem = free_text_problem(value)
    if problem:
        raise ValueError(problem)
    return value


Identifier = Annotated[str, AfterValidator(_identifier)]
"""A string without any control character (ids, codes, keys, recipients, filters)."""

FreeText = Annotated[str, AfterValidator(_free_text)]
"""A string whose only control characters are tab, line feed and carriage return."""

Cents = Annotated[StrictInt, Field(ge=0, le=MAX_CENTS)]
"""An amount in integer cents: a JSON integer, never a boolean, string or float."""

PositiveCents = Annotated[StrictInt, Field(gt=0, le=MAX_CENTS)]

Int64 = Annotated[int, Field(ge=0, le=MAX_INT64)]
"""A non-negative integer that fits a signed 64-bit column (path and query numbers)."""


def human_bytes(n: int) -> str:
    """``n`` bytes for people: ``512 bytes``, ``1.5 MB``, ``2 GB`` (decimal units, as the
    size limits are given in the documentation); error details of limits use it."""
    if n < 1000:
        return f"{n} bytes"
    units = ("kB", "MB", "GB", "TB", "PB")
    power = 1
    while power < len(units) and n >= 1000 ** (power + 1):
        power += 1
    text = f"{n / 1000**power:.1f}".removesuffix(".0")
    return f"{text} {units[power - 1]}"
