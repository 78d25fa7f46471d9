"""Each reference flow loads, its schema is valid draft 2020-12 with the x-i18n convention,
its example form validates, and its fee facts give the AufenthV fee."""

from __future__ import annotations

import copy
from dataclasses import fields
from datetime import date
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from commons.flows import FEE_FACTS, subschemas
from gateway.client.flowdata import FieldError, fee_facts, validate
from gateway.declarations import all_declarations, installed_components
from gateway.flows.service import definitions
from payments import CaseFacts, FeeRule, calculate
from tests.gateway.flows.conftest import FLOW_IDS, definition, example, reference_flow

TODAY = date(2026, 12, 1)


def test_every_reference_flow_is_installed() -> None:
    assert sorted(definitions(installed_components())) == list(FLOW_IDS)


def test_it_loads_without_startup_problems(flow_id: str) -> None:
    flow = reference_flow(flow_id)
    assert flow.startup_problems(None) == []
    d = flow.definition
    assert d.id == flow_id
    assert d.leika.startswith("urn:de:fim:leika:leistung:99")
    assert d.unconfirmed  # the placeholder LeiKa key says so
    assert {"passport"} <= {doc.type for doc in d.documents if doc.required}
    assert d.trust_to_start in ("basis", "substantiell")


def test_its_schema_meta_validates_and_every_text_is_bilingual(flow_id: str) -> None:
    schema = definition(flow_id).schema
    Draft202012Validator.check_schema(schema)
    meta = Draft202012Validator(Draft202012Validator.META_SCHEMA)
    assert list(meta.iter_errors(schema)) == []
    titled = [sub for _, sub in subschemas(schema) if "title" in sub]
    assert len(titled) > 25
    for sub in titled:
        assert sub["title"] == sub["x-i18n"]["title"]["en"]
        assert sub["x-i18n"]["title"]["de"]


def test_the_example_form_is_valid(flow_id: str) -> None:
    assert validate(definition(flow_id), example(flow_id), "de") == []


def test_the_public_json_validates_the_same(flow_id: str) -> None:
    public = definition(flow_id).public_json()
    assert validate(public, example(flow_id), "en") == []


def _broken(flow_id: str) -> dict[str, Any]:
    data = copy.deepcopy(example(flow_id))
    del data["applicant"]["family_name"]
    data["address"]["postcode"] = "1494"
    data["applicant"]["email"] = "not-an-address"
    data["declarations"]["truthful"] = False
    return data


def test_broken_forms_give_errors_per_field_in_german_and_english(flow_id: str) -> None:
    flow = definition(flow_id)
    de = validate(flow, _broken(flow_id), "de")
    en = validate(flow, _broken(flow_id), "en")
    assert [e.pointer for e in de] == [e.pointer for e in en]
    by_pointer = {e.pointer: (e.message, f.message) for e, f in zip(de, en, strict=True)}
    assert by_pointer["/address/postcode"] == (
        "Die Postleitzahl hat 5 Ziffern.",
        "The postcode has 5 digits.",
    )
    assert by_pointer["/applicant/family_name"] == (
        "Bitte füllen Sie dieses Feld aus.",
        "Please fill in this field.",
    )
    assert by_pointer["/applicant/email"][1] == "Please enter a valid e-mail address."
    assert by_pointer["/declarations/truthful"][0].startswith("Bitte bestätigen Sie")
    assert set(by_pointer) == {
        "/address/postcode",
        "/applicant/family_name",
        "/applicant/email",
        "/declarations/truthful",
    }


def test_messages_never_echo_the_input() -> None:
    data = _broken("employment")
    data["address"]["postcode"] = "canary-4711"
    for lang in ("de", "en"):
        assert "canary" not in repr(validate(definition("employment"), data, lang))


def test_arrays_and_conditions_report_the_item_field() -> None:
    data = copy.deepcopy(example("family"))
    data["family_members"][0]["passport_number"] = "u-1"
    data["family_members"].append({"family_name": "Y\u0131lmaz"})
    errors = validate(definition("family"), data, "en")
    assert (
        FieldError(
            "/family_members/0/passport_number",
            "The passport number is 5 to 20 capital letters or digits.",
        )
        in errors
    )
    assert FieldError("/family_members/1/birth_date", "Please fill in this field.") in errors
    coc = copy.deepcopy(example("change-of-conditions"))
    del coc["condition"]["requested_wording"]
    assert validate(definition("change-of-conditions"), coc, "de") == [
        FieldError("/condition/requested_wording", "Bitte füllen Sie dieses Feld aus.")
    ]
    coc["condition"]["request"] = "remove"
    assert validate(definition("change-of-conditions"), coc, "de") == []


# --------------------------------------------------------------------------- fee facts
EXPECTED_CENTS = {
    "employment": 10000,  # § 45 Nr. 1 Buchst. b, 48 months
    "extension": 9300,  # § 45 Nr. 2 Buchst. b, 24 months
    "settlement": 11300,  # § 44 Nr. 3 (§ 18c(1) is "other")
    "family": 10000,  # § 45 Nr. 1
    "training": 10000,  # § 45 Nr. 1 (§ 16a)
    "change-of-conditions": 5000,  # § 47(1) Nr. 3
}


def quote(flow_id: str, data: dict[str, Any], today: date = TODAY) -> int:
    flow = definition(flow_id)
    facts = fee_facts(flow, data, today)
    rule = FeeRule(flow.fee["procedure"], flow.fee["express_available"])
    return calculate(rule, CaseFacts(decision_date=today, **facts)).total_cents


def test_the_fee_facts_give_the_aufenthv_fee(flow_id: str) -> None:
    assert quote(flow_id, example(flow_id)) == EXPECTED_CENTS[flow_id]


def test_the_server_learns_only_the_declared_facts(flow_id: str) -> None:
    flow = definition(flow_id)
    facts = fee_facts(flow, example(flow_id), TODAY)
    assert set(facts) == set(flow.fee["facts"]) | set(flow.fee.get("fixed", {}))
    assert set(facts) <= set(FEE_FACTS) <= {f.name for f in fields(CaseFacts)}
    assert "1994-05-17" not in repr(facts)  # the age band, never the birth date
    assert facts["applicant_age"] in (0, 18, 24)


def test_a_minor_pays_half_and_benefits_exempt() -> None:
    data = copy.deepcopy(example("employment"))
    data["applicant"]["birth_date"] = "2010-01-01"
    assert quote("employment", data) == 5000
    coc = copy.deepcopy(example("change-of-conditions"))
    coc["applicant"]["birth_date"] = "2010-12-02"  # 16 on TODAY
    assert quote("change-of-conditions", coc) == 2500
    coc["applicant"]["birth_date"] = "2008-12-01"  # 18 on TODAY
    assert quote("change-of-conditions", coc) == 5000
    coc["fee"]["benefits"] = "sgb2"
    assert quote("change-of-conditions", coc) == 0


def test_express_association_and_derived_facts() -> None:
    data = copy.deepcopy(example("employment"))
    data["fee"]["express"] = True
    assert quote("employment", data) == 13500
    data["fee"] = {"benefits": "none", "association_rights": True}
    assert quote("employment", data) == 4600  # § 52a: the ID-card fee
    settle = copy.deepcopy(example("settlement"))
    settle["settlement"]["category"] = "section_18c_3"
    assert quote("settlement", settle) == 14700
    family = copy.deepcopy(example("family"))
    family["reference_person"]["status"] = "recognised_refugee"
    assert fee_facts(definition("family"), family, TODAY)["recognised_refugee"] is True


# --------------------------------------------------------------------------- declarations
def test_each_flow_declares_its_activity_actions_and_draft_retention(flow_id: str) -> None:
    decls = all_declarations()
    activity = next(a for a in decls.activities if a.id == f"flow.{flow_id}")
    assert activity.purpose == definition(flow_id).processing.purpose
    assert "Art. 6(1)(e) GDPR" in activity.legal_basis
    policy = next(r for r in decls.retention if r.record_type == f"flow.{flow_id}.draft")
    assert policy.keep_for.days == definition(flow_id).draft_retention_days
    assert f"flow.{flow_id}.submission.send" in {a.name for a in decls.actions}


@pytest.mark.parametrize("lang", ["fr", ""])
def test_an_unknown_language_is_refused(lang: str) -> None:
    with pytest.raises(ValueError, match="lang"):
        validate(definition("employment"), {}, lang)
