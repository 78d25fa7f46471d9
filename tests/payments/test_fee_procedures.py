"""Procedures are data: the catalogue's ``[procedures.*]`` tables select the fee rows, the
procedures the reference flows use, and a new procedure that needs no code."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from payments import fees
from payments.errors import FeeRuleError
from payments.fees import CaseFacts, FeeRule, calculate

ADULT = CaseFacts(decision_date=date(2026, 3, 1), applicant_age=30)


def total(rule: FeeRule, **facts: Any) -> int:
    return calculate(rule, replace(ADULT, **facts)).total_cents


@pytest.mark.parametrize(
    ("procedure", "facts", "cents", "section"),
    [
        ("training_permit", {"duration_months": 36}, 10000, "§ 45 Nr. 1 Buchst. b"),
        ("training_permit", {"duration_months": 12}, 10000, "§ 45 Nr. 1 Buchst. a"),
        ("family_reunification", {"duration_months": 24}, 10000, "§ 45 Nr. 1"),
        ("extension", {"duration_months": 24}, 9300, "§ 45 Nr. 2 Buchst. b"),
        ("settlement_permit", {"settlement_category": "highly_qualified"}, 14700, "§ 44 Nr. 1"),
        ("change_of_conditions", {}, 5000, "§ 47 Abs. 1 Nr. 3"),
    ],
)
def test_the_procedures_of_the_reference_flows(
    procedure: str, facts: dict[str, Any], cents: int, section: str
) -> None:
    result = calculate(FeeRule(procedure), replace(ADULT, **facts))
    assert result.total_cents == cents
    assert result.lines[0].legal_reference.startswith(section)


def test_change_of_conditions_half_for_minors_free_on_benefits_and_no_express() -> None:
    rule = FeeRule("change_of_conditions")
    assert total(rule, applicant_age=15) == 2500
    assert total(rule, benefits="sgb2") == 0
    assert calculate(rule, ADULT).unconfirmed is True
    with pytest.raises(FeeRuleError, match="express"):
        calculate(rule, replace(ADULT, express=True))


def test_every_catalogue_defines_the_same_procedures() -> None:
    keys = [set(c.procedures) for c in fees.catalogues()]
    assert all(k == keys[0] for k in keys)
    assert {"issue", "training_permit", "family_reunification", "change_of_conditions"} <= keys[0]
    assert fees.known_procedures() == frozenset(keys[0])


def test_an_unknown_procedure_is_refused_naming_the_known_ones() -> None:
    with pytest.raises(FeeRuleError, match="knows change_of_conditions, change_of_purpose"):
        calculate(FeeRule("citizenship"), ADULT)
    with pytest.raises(FeeRuleError, match="lower-case"):
        FeeRule("Issue; DROP")


EXTRA = """
[fees.fiktionsbescheinigung]
amount_cents = 1300
section = "§ 47 Abs. 1 Nr. 8 AufenthV"
label = "Fiktionsbescheinigung"
category = "other"
benefit_exemption = true
express_surcharge = false
source = "test"

[procedures.fiktionsbescheinigung]
label = "Fiktionsbescheinigung (§ 81 Abs. 5 AufenthG)"
rows = [{ fee = "fiktionsbescheinigung" }]
source = "§ 47 Abs. 1 Nr. 8 AufenthV"

[procedures.visa_extension]
label = "Verlängerung eines nationalen Visums"
requires = ["duration_months"]
rows = [
    { fee = "change_of_purpose", when = { duration_months = { min = 1, max = 6 }, \
permit_type = { in = ["residence_permit"] } } },
    { fee = "eat_card_reissue" },
]
source = "test"
"""


@pytest.fixture
def extra_catalogue(tmp_path: Path) -> tuple[fees.Catalogue, ...]:
    """The shipped catalogues, the newest one with a new fee row and two new procedures:
    only TOML is added."""
    folder = resources.files("payments").joinpath("fee_catalogue")
    for entry in folder.iterdir():
        if entry.name.endswith(".toml"):
            text = entry.read_text(encoding="utf-8")
            if entry.name == "aufenthv-2026-02-07.toml":
                text += EXTRA
            (tmp_path / entry.name).write_text(text, encoding="utf-8")
    return fees.load_catalogues(tmp_path)


def test_a_new_procedure_is_data_only(extra_catalogue: tuple[fees.Catalogue, ...]) -> None:
    rule = FeeRule("fiktionsbescheinigung")
    result = calculate(rule, ADULT, available=extra_catalogue)
    assert (result.total_cents, result.lines[0].code) == (1300, "fiktionsbescheinigung")
    assert (
        calculate(rule, replace(ADULT, applicant_age=10), available=extra_catalogue).total_cents
        == 650
    )
    # only in the newest version: an older decision date does not know it
    with pytest.raises(FeeRuleError, match="unknown procedure"):
        calculate(rule, replace(ADULT, decision_date=date(2025, 1, 1)), available=extra_catalogue)
    # the shipped catalogues do not know it either
    with pytest.raises(FeeRuleError, match="unknown procedure"):
        calculate(rule, ADULT)


def test_row_conditions_combine_bounds_and_lists(
    extra_catalogue: tuple[fees.Catalogue, ...],
) -> None:
    rule = FeeRule("visa_extension")
    facts = replace(ADULT, duration_months=6, permit_type="residence_permit")
    assert calculate(rule, facts, available=extra_catalogue).total_cents == 9800
    for other in (replace(facts, duration_months=7), replace(facts, permit_type="blue_card")):
        assert calculate(rule, other, available=extra_catalogue).total_cents == 6700


@pytest.mark.parametrize(
    ("addition", "message"),
    [
        ('[procedures.x]\nlabel = "x"\nsource = "x"\nrows = [{ fee = "nope" }]\n', "not a fee row"),
        (
            '[procedures.x]\nlabel = "x"\nsource = "x"\n'
            'rows = [{ fee = "change_of_purpose", when = { shoe_size = 3 } }]\n',
            "unknown case facts",
        ),
        ('[procedures.x]\nlabel = "x"\nsource = "x"\nrows = []\n', "needs a label"),
        (
            '[procedures.X]\nlabel = "x"\nsource = "x"\nrows = [{ fee = "change_of_purpose" }]\n',
            "lower-case",
        ),
    ],
)
def test_a_malformed_procedure_is_refused_at_load(
    tmp_path: Path, addition: str, message: str
) -> None:
    source = resources.files("payments").joinpath("fee_catalogue/aufenthv-2026-02-07.toml")
    (tmp_path / "aufenthv-2026-02-07.toml").write_text(
        source.read_text(encoding="utf-8") + "\n" + addition, encoding="utf-8"
    )
    with pytest.raises(ValueError, match=message):
        fees.load_catalogues(tmp_path)
