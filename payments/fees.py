"""Fees under the AufenthV (Aufenthaltsverordnung, the residence ordinance).

The figures are data, not code: one TOML file per legal version in ``fee_catalogue/``, each
with a ``valid_from`` date, its § references, sources and ``unconfirmed`` markers. The
calculator picks the version in force on the decision date and applies, in this order:

1. the base fee for the procedure (§§ 44, 44a, 45, 45c);
2. § 52a: Turkish nationals with association rights pay no more than the ID-card fee
   (a reduced rate under 24); when it applies, § 50 is not applied on top;
3. § 50: minors pay half;
4. §§ 52, 53 exemptions (recognised refugees; benefit receipt for § 45 nos 1-2);
5. § 49: on rejection, a processing fee (settlement / EU long-term: half, others full);
6. § 45a: the express surcharge, added as its own item and not reduced.

Every amount is an ``int`` of euro cents; fractions are integer numerator/denominator and
round down to the cent. No float touches money.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from importlib import resources
from typing import Any, Literal

from payments.errors import FeeRuleError

Procedure = Literal[
    "issue",
    "extension",
    "change_of_purpose",
    "settlement_permit",
    "eu_long_term",
    "eat_reissue",
]
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
@dataclass(frozen=True, slots=True)
class Catalogue:
    id: str
    valid_from: date
    currency: str
    source: str
    data: dict[str, Any]

    def fee(self, key: str) -> dict[str, Any]:
        fees: dict[str, dict[str, Any]] = self.data["fees"]
        return fees[key]


@lru_cache(maxsize=1)
def catalogues() -> tuple[Catalogue, ...]:
    """Every legal version shipped in ``fee_catalogue/``, oldest first."""
    found: list[Catalogue] = []
    folder = resources.files("payments").joinpath("fee_catalogue")
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
            )
        )
    found.sort(key=lambda c: c.valid_from)
    return tuple(found)


def catalogue_for(on: date) -> Catalogue:
    """The legal version in force on ``on``."""
    current = [c for c in catalogues() if c.valid_from <= on]
    if not current:
        raise FeeRuleError(f"no fee catalogue is in force on {on.isoformat()}")
    return current[-1]


def _portion(amount_cents: int, numerator: int, denominator: int) -> int:
    """``amount * numerator / denominator`` in whole cents, rounded down."""
    return (amount_cents * numerator) // denominator


# --------------------------------------------------------------------------- calculator
def base_fee_key(rule: FeeRule, facts: CaseFacts) -> str:
    """Which catalogue row a procedure and the case facts select."""
    if rule.procedure == "issue":
        if facts.permit_type is None or facts.duration_months is None:
            raise FeeRuleError("issue needs permit_type and duration_months")
        if facts.duration_months <= 12:
            return "permit_issue_up_to_1_year"
        return "permit_issue_over_1_year"
    if rule.procedure == "extension":
        if facts.duration_months is None:
            raise FeeRuleError("extension needs duration_months (the extension's length)")
        if facts.duration_months <= 3:
            return "permit_extension_up_to_3_months"
        return "permit_extension_over_3_months"
    if rule.procedure == "change_of_purpose":
        return "change_of_purpose"
    if rule.procedure == "settlement_permit":
        if facts.settlement_category is None:
            raise FeeRuleError("settlement_permit needs settlement_category")
        return f"settlement_permit_{facts.settlement_category}"
    if rule.procedure == "eu_long_term":
        return "eu_long_term_residence"
    return "eat_card_reissue"


def calculate(rule: FeeRule, facts: CaseFacts) -> FeeResult:
    """The fee for one case, itemised, in integer cents."""
    if facts.duration_months is not None and facts.duration_months < 1:
        raise FeeRuleError("duration_months must be at least 1")
    if not 0 <= facts.applicant_age <= 150:
        raise FeeRuleError("applicant_age must be between 0 and 150")
    if facts.express and not rule.express_available:
        raise FeeRuleError("this flow does not offer the express procedure")
    catalogue = catalogue_for(facts.decision_date)
    data = catalogue.data
    key = base_fee_key(rule, facts)
    row = catalogue.fee(key)
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

    exemptions = data["exemptions"]
    exemption: dict[str, Any] | None = None
    code = ""
    if facts.recognised_refugee:
        exemption, code = exemptions["refugee"], "refugee"
    elif facts.benefits in exemptions["benefits"]["benefits"] and row.get(
        "benefit_exemption", False
    ):
        exemption, code = exemptions["benefits"], "benefits"
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
