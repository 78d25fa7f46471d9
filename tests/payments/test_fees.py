"""Every row of the AufenthV fee table, the reductions, exemptions and surcharge."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

import pytest

from payments import fees
from payments.errors import FeeRuleError
from payments.fees import CaseFacts, FeeRule, calculate

BEFORE = date(2026, 2, 6)
AFTER = date(2026, 2, 7)
ADULT = CaseFacts(decision_date=AFTER, applicant_age=30)


def total(rule: FeeRule, **facts: Any) -> int:
    return calculate(rule, replace(ADULT, **facts)).total_cents


@pytest.mark.parametrize(
    ("rule", "facts", "cents", "section"),
    [
        (FeeRule("settlement_permit"), {"settlement_category": "highly_qualified"}, 14700, "§ 44"),
        (FeeRule("settlement_permit"), {"settlement_category": "self_employed"}, 12400, "§ 44"),
        (FeeRule("settlement_permit"), {"settlement_category": "other"}, 11300, "§ 44"),
        (FeeRule("eu_long_term"), {}, 10900, "§ 44a"),
        (
            FeeRule("issue"),
            {"permit_type": "residence_permit", "duration_months": 12},
            10000,
            "§ 45",
        ),
        (
            FeeRule("issue"),
            {"permit_type": "residence_permit", "duration_months": 13},
            10000,
            "§ 45",
        ),
        (FeeRule("issue"), {"permit_type": "blue_card", "duration_months": 48}, 10000, "§ 45"),
        (FeeRule("issue"), {"permit_type": "ict_card", "duration_months": 6}, 10000, "§ 45"),
        (FeeRule("extension"), {"duration_months": 3}, 9600, "§ 45 Nr. 2 Buchst. a"),
        (FeeRule("extension"), {"duration_months": 4}, 9300, "§ 45 Nr. 2 Buchst. b"),
        (FeeRule("change_of_purpose"), {}, 9800, "§ 45 Nr. 3"),
        (FeeRule("eat_reissue"), {}, 6700, "§ 45c"),
    ],
)
def test_every_row_of_the_fee_table(
    rule: FeeRule, facts: dict[str, Any], cents: int, section: str
) -> None:
    result = calculate(rule, replace(ADULT, **facts))
    assert result.total_cents == cents
    assert isinstance(result.total_cents, int)
    assert result.currency == "EUR"
    assert result.lines[0].legal_reference.startswith(section)
    assert result.applied == ()
    # the same figures under both legal versions
    assert total(rule, decision_date=BEFORE, **facts) == cents


def test_the_explanation_adds_up_and_names_the_version() -> None:
    result = calculate(
        FeeRule("extension"), replace(ADULT, duration_months=6, applicant_age=10, express=True)
    )
    assert sum(line.amount_cents for line in result.lines) == result.total_cents
    assert [line.code for line in result.lines] == [
        "permit_extension_over_3_months",
        "minor",
        "express",
    ]
    assert result.catalogue_version == "aufenthv-2026-02-07"
    assert result.unconfirmed  # the express surcharge is marked unconfirmed


@pytest.mark.parametrize(
    ("rule", "facts", "cents"),
    [
        (FeeRule("eu_long_term"), {}, 5450),
        (FeeRule("extension"), {"duration_months": 3}, 4800),
        (FeeRule("change_of_purpose"), {}, 4900),
        (FeeRule("settlement_permit"), {"settlement_category": "other"}, 5650),
        (FeeRule("eat_reissue"), {}, 3350),
    ],
)
def test_minors_pay_half(rule: FeeRule, facts: dict[str, Any], cents: int) -> None:
    assert total(rule, applicant_age=17, **facts) == cents
    assert total(rule, applicant_age=18, **facts) == cents * 2
    result = calculate(rule, replace(ADULT, applicant_age=0, **facts))
    assert result.applied == ("minor",)
    assert result.lines[-1].legal_reference == "§ 50 AufenthV"


@pytest.mark.parametrize(
    ("day", "age", "cents"),
    [
        (BEFORE, 30, 3700),
        (BEFORE, 23, 2280),
        (BEFORE, 24, 3700),
        (AFTER, 30, 4600),
        (AFTER, 23, 2760),
        (AFTER, 24, 4600),
        (date(2030, 1, 1), 40, 4600),
    ],
)
def test_association_rule_is_dated(day: date, age: int, cents: int) -> None:
    facts = replace(
        ADULT, nationality="TUR", association_rights=True, decision_date=day, applicant_age=age
    )
    result = calculate(FeeRule("change_of_purpose"), facts)
    assert result.total_cents == cents
    assert result.applied == ("association",)
    assert result.lines[-1].legal_reference == "§ 52a AufenthV"
    expected_version = "aufenthv-2021-01-01" if day < AFTER else "aufenthv-2026-02-07"
    assert result.catalogue_version == expected_version


def test_association_needs_turkish_nationality_and_the_status() -> None:
    rule = FeeRule("change_of_purpose")
    assert total(rule, nationality="TUR") == 9800
    assert total(rule, nationality="SYR", association_rights=True) == 9800
    # a minor with association rights gets the under-24 rate, not half of it
    assert total(rule, nationality="TUR", association_rights=True, applicant_age=10) == 2760


def test_association_never_raises_a_fee() -> None:
    # 50 % of the eAT fee for a minor is below the cap; the cap must not increase it
    result = calculate(
        FeeRule("eat_reissue"),
        replace(ADULT, nationality="TUR", association_rights=True, applicant_age=30),
    )
    assert result.total_cents == 4600
    assert (
        calculate(
            FeeRule("eat_reissue"),
            replace(ADULT, nationality="TUR", association_rights=True, decision_date=BEFORE),
        ).total_cents
        == 3700
    )


@pytest.mark.parametrize("benefit", ["sgb2", "sgb12", "asylblg"])
def test_benefit_receipt_exempts_issue_and_extension(benefit: fees.Benefit) -> None:
    issue = FeeRule("issue")
    assert total(issue, permit_type="residence_permit", duration_months=12, benefits=benefit) == 0
    assert total(FeeRule("extension"), duration_months=2, benefits=benefit) == 0
    result = calculate(FeeRule("extension"), replace(ADULT, duration_months=6, benefits=benefit))
    assert result.applied == ("benefits",)
    assert result.lines[-1].legal_reference.startswith("§ 53")


def test_benefit_receipt_does_not_exempt_other_fees() -> None:
    assert total(FeeRule("change_of_purpose"), benefits="sgb2") == 9800
    assert (
        total(FeeRule("settlement_permit"), settlement_category="other", benefits="sgb2") == 11300
    )
    assert total(FeeRule("eat_reissue"), benefits="asylblg") == 6700


def test_recognised_refugees_are_exempt() -> None:
    cases: list[tuple[FeeRule, dict[str, Any]]] = [
        (FeeRule("change_of_purpose"), {}),
        (FeeRule("settlement_permit"), {"settlement_category": "highly_qualified"}),
        (FeeRule("issue"), {"permit_type": "residence_permit", "duration_months": 36}),
    ]
    for rule, facts in cases:
        result = calculate(rule, replace(ADULT, recognised_refugee=True, **facts))
        assert result.total_cents == 0
        assert result.applied == ("refugee",)
        assert result.lines[-1].legal_reference == "§ 52 AufenthV"


def test_express_surcharge_is_added_and_not_reduced() -> None:
    rule = FeeRule("change_of_purpose")
    assert total(rule, express=True) == 9800 + 3500
    assert total(rule, express=True, applicant_age=12) == 4900 + 3500
    assert total(rule, express=True, recognised_refugee=True) == 3500
    result = calculate(rule, replace(ADULT, express=True))
    assert result.lines[-1].legal_reference == "§ 45a AufenthV"
    assert result.lines[-1].unconfirmed


def test_express_refused_when_the_flow_does_not_offer_it() -> None:
    with pytest.raises(FeeRuleError):
        calculate(
            FeeRule("change_of_purpose", express_available=False), replace(ADULT, express=True)
        )


@pytest.mark.parametrize(
    ("rule", "facts", "cents"),
    [
        (FeeRule("settlement_permit"), {"settlement_category": "highly_qualified"}, 7350),
        (FeeRule("settlement_permit"), {"settlement_category": "other"}, 5650),
        (FeeRule("eu_long_term"), {}, 5450),
        (FeeRule("issue"), {"permit_type": "blue_card", "duration_months": 24}, 10000),
        (FeeRule("extension"), {"duration_months": 2}, 9600),
        (FeeRule("change_of_purpose"), {}, 9800),
    ],
)
def test_rejection_processing_fee(rule: FeeRule, facts: dict[str, Any], cents: int) -> None:
    result = calculate(rule, replace(ADULT, outcome="rejection", **facts))
    assert result.total_cents == cents
    assert "rejection" in result.applied


def test_rejection_of_a_minors_settlement_permit_is_a_quarter() -> None:
    facts = replace(ADULT, outcome="rejection", applicant_age=16, settlement_category="other")
    assert calculate(FeeRule("settlement_permit"), facts).total_cents == 2825


@pytest.mark.parametrize(
    ("rule", "facts"),
    [
        (FeeRule("issue"), {}),
        (FeeRule("issue"), {"permit_type": "residence_permit"}),
        (FeeRule("extension"), {}),
        (FeeRule("settlement_permit"), {}),
        (FeeRule("extension"), {"duration_months": 0}),
        (FeeRule("change_of_purpose"), {"applicant_age": -1}),
    ],
)
def test_incomplete_facts_are_refused(rule: FeeRule, facts: dict[str, Any]) -> None:
    with pytest.raises(FeeRuleError):
        calculate(rule, replace(ADULT, **facts))


def test_no_catalogue_before_the_first_version() -> None:
    with pytest.raises(FeeRuleError):
        calculate(FeeRule("change_of_purpose"), replace(ADULT, decision_date=date(2000, 1, 1)))


def test_catalogue_rows_are_sourced_and_integer() -> None:
    for catalogue in fees.catalogues():
        assert catalogue.source
        for key, row in catalogue.data["fees"].items():
            assert isinstance(row["amount_cents"], int), key
            assert row["section"].startswith("§")
            assert row["source"]
        assert catalogue.data["association"]["unconfirmed"] is True
        assert catalogue.data["surcharges"]["express"]["unconfirmed"] is True


def test_format_cents() -> None:
    assert fees.format_cents(0) == "0.00"
    assert fees.format_cents(2280) == "22.80"
    assert fees.format_cents(-5) == "-0.05"
