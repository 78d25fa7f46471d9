"""Fees under the AufenthV (Aufenthaltsverordnung, the residence ordinance).

The figures are data, not code: one TOML file per legal version in ``fee_catalogue/``, each
with a ``valid_from`` date, its § references, sources and ``unconfirmed`` markers. The
calculator picks the version in force on the decision date and applies, in this order:

1. the base fee for the procedure (§§ 44, 44a, 45, 45c, 47): the catalogue's
   ``[procedures.<key>]`` table names the facts it needs and selects the fee row (the first
   of its ``rows`` whose ``when`` conditions hold), so a new procedure is a data change;
2. § 52a: Turkish nationals with association rights pay no more than the ID-card fee
   (a reduced rate under 24); when it applies, § 50 is not applied on top;
3. § 50: minors pay half;
4. §§ 52, 53 exemptions (recognised refugees; benefit receipt for § 45 nos 1-2), each a
   ``[exemptions.<code>]`` table with its ``when`` conditions, ``applies_to`` and ``order``;
5. § 49: on rejection, a processing fee (settlement / EU long-term: half, others full);
6. § 45a: the express surcharge, added as its own item and not reduced.

Every amount is an ``int`` of euro cents; fractions are integer numerator/denominator and
round down to the cent. No float touches money.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any, Literal

from payments.errors import FeeRuleError

#: A procedure's key in the fee catalogue (``issue``, ``extension``, ...). It is data: the
#: catalogue's ``[procedures.*]`` tables define the known keys and the rows they select.
Procedure = str
PermitType = Literal["residence_permit", "blue_card", "ict_card"]
SettlementCategory = Literal["highly_qualified", "self_employed", "other"]
Benefit = Literal["none", "sgb2", "sgb12", "asylblg"]
Outcome = Literal["grant", "rejection"]


@dataclass(frozen=True, slots=True)
class FeeRule:
    """What a permit flow declares about its fee: the procedure, and whether the express
    procedure (§ 45a) is offered."""

    procedure: Procedure
    express_available: bool = True

    def __post_init__(self) -> None:
        if not isinstance(self.procedure, str) or not _PROCEDURE_KEY.fullmatch(self.procedure):
            raise FeeRuleError("procedure must be a lower-case catalogue key, like 'issue'")
        # Whether the key names a procedure is checked against the catalogue in force on the
        # decision date (:func:`calculate`): a newer catalogue may add procedures.


@dataclass(frozen=True, slots=True)
class CaseFacts:
    """The case facts the fee depends on; nothing else about the applicant is needed.

    ``nationality`` is an ISO 3166-1 alpha-3 code; ``association_rights`` says the
    applicant holds rights under the EEC-Turkey association (ARB 1/80).
    """

    decision_date: date
    applicant_age: int
    permit_type: PermitType | None = None
    duration_months: int | None = None
    settlement_category: SettlementCategory | None = None
    nationality: str | None = None
    association_rights: bool = False
    benefits: Benefit = "none"
    recognised_refugee: bool = False
    express: bool = False
    outcome: Outcome = "grant"


@dataclass(frozen=True, slots=True)
class FeeLine:
    """One line of the itemised explanation. ``amount_cents`` is signed: reductions are
    negative, so the lines add up to the total."""

    code: str
    label: str
    legal_reference: str
    amount_cents: int
    unconfirmed: bool = False


@dataclass(frozen=True, slots=True)
class FeeResult:
    total_cents: int
    currency: str
    catalogue_version: str
    lines: tuple[FeeLine, ...]
    applied: tuple[str, ...] = field(default_factory=tuple)
    """Codes of the exemptions and reductions that applied (``minor``, ``association``...)."""

    @property
    def unconfirmed(self) -> bool:
        return any(line.unconfirmed for line in self.lines)


# --------------------------------------------------------------------------- catalogue
_PROCEDURE_KEY = re.compile(r"[a-z][a-z0-9_]{0,63}")
#: The case facts a procedure's row selection may test (the fields of :class:`CaseFacts`).
SELECTABLE_FACTS = (
    "applicant_age",
    "permit_type",
    "duration_months",
    "settlement_category",
    "nationality",
    "association_rights",
    "benefits",
    "recognised_refugee",
    "express",
    "outcome",
)


@dataclass(frozen=True, slots=True)
class ProcedureRow:
    """One ``rows`` entry of a procedure: the fee row it selects when every condition in
    ``when`` holds (no conditions: always)."""

    fee: str
    when: tuple[tuple[str, Any], ...] = ()

    def matches(self, facts: CaseFacts) -> bool:
        return all(_condition_holds(getattr(facts, fact), test) for fact, test in self.when)


@dataclass(frozen=True, slots=True)
class ProcedureSpec:
    """A procedure as the catalogue defines it (``[procedures.<key>]``)."""

    key: str
    label: str
    requires: tuple[str, ...]
    rows: tuple[ProcedureRow, ...]
    source: str
    unconfirmed: bool = False

    def select(self, facts: CaseFacts) -> str:
        """The fee row for ``facts``: the first row whose conditions hold."""
        missing = [name for name in self.requires if getattr(facts, name) is None]
        if missing:
            raise FeeRuleError(f"{self.key} needs {' and '.join(missing)}")
        for row in self.rows:
            if row.matches(facts):
                return row.fee
        raise FeeRuleError(f"no fee row of {self.key} fits these case facts")


def _condition_holds(value: Any, test: Any) -> bool:
    """A ``when`` condition: a plain value (equality), or a table with ``min``, ``max``
    (inclusive bounds) and/or ``in`` (a list of values)."""
    if not isinstance(test, dict):
        return bool(value == test)
    if value is None:
        return False
    if "min" in test and value < test["min"]:
        return False
    if "max" in test and value > test["max"]:
        return False
    return not ("in" in test and value not in test["in"])


@dataclass(frozen=True, slots=True)
class Catalogue:
    id: str
    valid_from: date
    currency: str
    source: str
    data: dict[str, Any]
    procedures: dict[str, ProcedureSpec] = field(default_factory=dict)

    def fee(self, key: str) -> dict[str, Any]:
        fees: dict[str, dict[str, Any]] = self.data["fees"]
        return fees[key]

    def procedure(self, key: str) -> ProcedureSpec:
        try:
            return self.procedures[key]
        except KeyError:
            raise FeeRuleError(
                f"unknown procedure {key!r}; fee catalogue {self.id} knows "
                + ", ".join(sorted(self.procedures))
            ) from None


def _parse_procedures(data: dict[str, Any], name: str) -> dict[str, ProcedureSpec]:
    """The ``[procedures.*]`` tables of one catalogue file, checked against its fee rows."""
    found: dict[str, ProcedureSpec] = {}
    fee_rows = data.get("fees", {})
    for key, spec in data.get("procedures", {}).items():
        where = f"{name}: procedures.{key}"
        if not _PROCEDURE_KEY.fullmatch(key):
            raise ValueError(f"{where}: a procedure key is lower-case letters, digits and _")
        requires = tuple(spec.get("requires", ()))
        rows: list[ProcedureRow] = []
        for i, row in enumerate(spec.get("rows", ())):
            if row.get("fee") not in fee_rows:
                raise ValueError(f"{where}.rows[{i}]: fee {row.get('fee')!r} is not a fee row")
            when = row.get("when", {})
            unknown = sorted(set(when) - set(SELECTABLE_FACTS))
            if unknown:
                raise ValueError(f"{where}.rows[{i}]: unknown case facts {unknown}")
            rows.append(ProcedureRow(fee=row["fee"], when=tuple(when.items())))
        unknown_required = sorted(set(requires) - set(SELECTABLE_FACTS))
        if not rows or unknown_required or not spec.get("label") or not spec.get("source"):
            raise ValueError(f"{where} needs a label, a source, rows, and known facts in requires")
        found[key] = ProcedureSpec(
            key=key,
            label=spec["label"],
            requires=requires,
            rows=tuple(rows),
            source=spec["source"],
            unconfirmed=bool(spec.get("unconfirmed", False)),
        )
    return found


def load_catalogues(folder: Traversable | Path) -> tuple[Catalogue, ...]:
    """Every ``*.toml`` legal version in ``folder``, checked, oldest first."""
    found: list[Catalogue] = []
    for entry in folder.iterdir():
        if not entry.name.endswith(".toml"):
            continue
        data = tomllib.loads(entry.read_text(encoding="utf-8"))
        version = data["version"]
        found.append(
            Catalogue(
                id=version["id"],
                valid_from=version["valid_from"],
                currency=version["currency"],
                source=version["source"],
                data=data,
                procedures=_parse_procedures(data, entry.name),
            )
        )
    found.sort(key=lambda c: c.valid_from)
    return tuple(found)


@lru_cache(maxsize=1)
def catalogues() -> tuple[Catalogue, ...]:
    """Every legal version shipped in ``fee_catalogue/``, oldest first."""
    return load_catalogues(resources.files("payments").joinpath("fee_catalogue"))


def known_procedures(available: Sequence[Catalogue] | None = None) -> frozenset[str]:
    """Every procedure key some catalogue version defines (a flow's ``fee.procedure`` must
    be one of them)."""
    return frozenset(k for c in (available or catalogues()) for k in c.procedures)


def catalogue_for(on: date, available: Sequence[Catalogue] | None = None) -> Catalogue:
    """The legal version in force on ``on``."""
    current = [c for c in (available or catalogues()) if c.valid_from <= on]
    if not current:
        raise FeeRuleError(f"no fee catalogue is in force on {on.isoformat()}")
    return current[-1]


def _portion(amount_cents: int, numerator: int, denominator: int) -> int:
    """``amount * numerator / denominator`` in whole cents, rounded down."""
    return (amount_cents * numerator) // denominator


# --------------------------------------------------------------------------- calculator
def base_fee_key(
    rule: FeeRule, facts: CaseFacts, available: Sequence[Catalogue] | None = None
) -> str:
    """Which catalogue row a procedure and the case facts select (the procedure's ``rows``
    in the catalogue in force on the decision date)."""
    catalogue = catalogue_for(facts.decision_date, available)
    return catalogue.procedure(rule.procedure).select(facts)


def _exemption(
    exemptions: dict[str, dict[str, Any]], row: dict[str, Any], facts: CaseFacts
) -> tuple[dict[str, Any] | None, str]:
    """The first exemption (by ``order``) whose ``when`` conditions hold and that applies to
    the fee row: ``applies_to = "all"``, or the name of a row flag that must be true."""
    for code, exemption in sorted(exemptions.items(), key=lambda item: item[1]["order"]):
        applies_to = exemption["applies_to"]
        if applies_to != "all" and not row.get(applies_to, False):
            continue
        if all(_condition_holds(getattr(facts, f), t) for f, t in exemption["when"].items()):
            return exemption, code
    return None, ""


def calculate(
    rule: FeeRule, facts: CaseFacts, *, available: Sequence[Catalogue] | None = None
) -> FeeResult:
    """The fee for one case, itemised, in integer cents. ``available``: the catalogue
    versions to use (default: the ones shipped in ``fee_catalogue/``)."""
    if facts.duration_months is not None and facts.duration_months < 1:
        raise FeeRuleError("duration_months must be at least 1")
    if not 0 <= facts.applicant_age <= 150:
        raise FeeRuleError("applicant_age must be between 0 and 150")
    if facts.express and not rule.express_available:
        raise FeeRuleError("this flow does not offer the express procedure")
    catalogue = catalogue_for(facts.decision_date, available)
    data = catalogue.data
    key = catalogue.procedure(rule.procedure).select(facts)
    row = catalogue.fee(key)
    if facts.express and not row.get("express_surcharge", True):
        raise FeeRuleError(f"the express procedure (§ 45a) does not apply to {key}")
    lines = [
        FeeLine(
            key, row["label"], row["section"], row["amount_cents"], row.get("unconfirmed", False)
        )
    ]
    applied: list[str] = []
    amount: int = row["amount_cents"]

    association = data["association"]
    if (
        facts.association_rights
        and (facts.nationality or "").upper() in association["nationalities"]
    ):
        cap: int = (
            association["amount_under_age_cents"]
            if facts.applicant_age < association["under_age"]
            else association["amount_cents"]
        )
        if cap < amount:
            lines.append(
                FeeLine(
                    "association",
                    association["label"],
                    association["section"],
                    cap - amount,
                    association.get("unconfirmed", False),
                )
            )
            amount = cap
            applied.append("association")

    minor = data["reductions"]["minor"]
    if facts.applicant_age < minor["below_age"] and "association" not in applied:
        reduced = _portion(amount, minor["numerator"], minor["denominator"])
        lines.append(FeeLine("minor", minor["label"], minor["section"], reduced - amount))
        amount = reduced
        applied.append("minor")

    exemption, code = _exemption(data["exemptions"], row, facts)
    if exemption is not None and amount > 0:
        lines.append(
            FeeLine(
                code,
                exemption["label"],
                exemption["section"],
                -amount,
                exemption.get("unconfirmed", False),
            )
        )
        amount = 0
        applied.append(code)

    if facts.outcome == "rejection":
        rejection = data["reductions"]["rejection"]
        share = rejection[row["category"]]
        charged = _portion(amount, share["numerator"], share["denominator"])
        if charged != amount:
            lines.append(
                FeeLine("rejection", rejection["label"], rejection["section"], charged - amount)
            )
        amount = charged
        applied.append("rejection")

    if facts.express:
        express = data["surcharges"]["express"]
        lines.append(
            FeeLine(
                "express",
                express["label"],
                express["section"],
                express["amount_cents"],
                express.get("unconfirmed", False),
            )
        )
        amount += express["amount_cents"]

    assert amount == sum(line.amount_cents for line in lines)  # noqa: S101 - invariant
    return FeeResult(
        total_cents=amount,
        currency=catalogue.currency,
        catalogue_version=catalogue.id,
        lines=tuple(lines),
        applied=tuple(applied),
    )


def format_cents(amount_cents: int) -> str:
    """``12345`` -> ``"123.45"``: the decimal text of an amount, without floats."""
    sign = "-" if amount_cents < 0 else ""
    euros, cents = divmod(abs(amount_cents), 100)
    return f"{sign}{euros}.{cents:02d}"
