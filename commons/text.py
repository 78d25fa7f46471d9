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
:data:`MAX_CENTS`. :data:`Int64` is every integer of a path or a query: the decimal ASCII
form only (``0`` or ``-?[1-9][0-9]*``, so ``+1``, `` 1``, ``01``, ``1_000``, ``1e3`` and
other scripts' digits are refused, which Python's ``int()`` and pydantic's lax mode take),
within a ``BIGINT`` column; :func:`decimal_int` is the same rule for a header value.

Every request body is a :class:`RequestModel`: unknown fields are refused, and no scalar is
coerced (pydantic's lax mode reads ``"24"`` and ``24.0`` as the integer 24, ``true`` as 1
and a number as a Unix time). Times are :data:`DateTime` (an RFC 3339 date-time with its
offset), dates :data:`Date` (``YYYY-MM-DD``), in bodies and in queries alike.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime
from typing import Annotated

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    Strict,
    StrictInt,
)

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

#: The decimal ASCII form of an integer: ``[0-9]``, not ``\d`` (which matches U+0661, an
#: Arabic-Indic 1).
_DECIMAL = re.compile(r"0|-?[1-9][0-9]*")
_MAX_DIGITS = len(str(MAX_INT64)) + 1  # with a sign; longer is out of range anyway


def decimal_int(value: str) -> int | None:
    """``value`` read as an integer in the decimal ASCII form, or ``None`` for anything else
    (``int()`` also takes ``" 1"``, ``"+1"``, ``"1_000"`` and ``"\\u0661"``, ``str.isdigit``
    also ``"²"``, which ``int()`` then refuses)."""
    if len(value) > _MAX_DIGITS or not _DECIMAL.fullmatch(value):
        return None
    return int(value)


def _decimal_int(value: object) -> object:
    if isinstance(value, str):  # from the URL
        number = decimal_int(value)
        if number is None:
            raise ValueError("an integer in the digits 0-9: no +, spaces, separators or leading 0")
        return number
    if isinstance(value, int) and not isinstance(value, bool):  # from Python (defaults)
        return value
    raise ValueError("an integer")


Int64 = Annotated[
    int,
    Field(ge=0, le=MAX_INT64, json_schema_extra={"format": "int64"}),
    BeforeValidator(_decimal_int),
]
"""A non-negative integer that fits a signed 64-bit column: the type of every integer in a
path or a query (narrow it with ``Query(ge=..., le=...)``)."""


#: RFC 3339 ``date-time``: a full date, ``T``, a full time and its offset (``Z`` or ±hh:mm).
_RFC3339 = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?([Zz]|[+-][0-9]{2}:[0-9]{2})"
)
_FULL_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _rfc3339(value: object) -> object:
    if isinstance(value, datetime):  # from Python, not from the wire
        return value
    if not isinstance(value, str) or not _RFC3339.fullmatch(value):
        raise ValueError("a date-time as in RFC 3339, with its offset: 2026-11-28T12:00:00Z")
    return value


def _full_date(value: object) -> object:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not _FULL_DATE.fullmatch(value):
        raise ValueError("a date as in RFC 3339: 2026-11-28")
    return value


DateTime = Annotated[AwareDatetime, Strict(False), BeforeValidator(_rfc3339)]
"""A timezone-aware time, sent as an RFC 3339 date-time string (``2026-11-28T12:00:00Z``);
a number (a Unix time to pydantic), a date alone or a time without offset is refused."""

Date = Annotated[date, Strict(False), BeforeValidator(_full_date)]
"""A calendar date, sent as ``YYYY-MM-DD``; a number or a date-time is refused."""


class RequestModel(BaseModel):
    """The base of every request body: unknown fields are refused and every scalar is
    strict (a JSON integer for ``int``, a string for ``str``, ``true``/``false`` for
    ``bool``, a number for ``float``); times and dates are :data:`DateTime` and
    :data:`Date`. Subclasses add to ``model_config``; pydantic merges it with this one."""

    model_config = ConfigDict(extra="forbid", strict=True)


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
