"""The apply page's validation and fee facts (static/js/apply-schema.js, under Node 20) give
exactly what the Python reference gives (gateway/client/flowdata): the same pointers and
messages for every broken form, the same fee facts; the same FIT-Connect metadata; a PDF
summary that shows the same lines."""

from __future__ import annotations

import copy
import hashlib
import json
import re
import subprocess
import zlib
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from gateway.client import flowdata
from gateway.client.applicant import ApplicantClient
from gateway.client.flowdata.validation import DEFAULT_MESSAGES
from tests.gateway.portal.jsharness import NODE, ROOT, require_node

HARNESS = ROOT / "gateway" / "portal" / "js-tests" / "apply.mjs"
DEMO = json.loads((ROOT / "gateway/client/demo_employment.json").read_text(encoding="utf-8"))
TODAY = date(2026, 12, 1)


def _broken(form: dict[str, Any]) -> list[dict[str, Any]]:
    """The demo form, whole and broken in every way a browser form can be."""

    def changed(change: Any) -> dict[str, Any]:
        doc = copy.deepcopy(form)
        change(doc)
        return doc

    return [
        form,
        {},
        {"applicant": {}, "address": {}, "passport": {}, "employment": {}, "fee": {}},
        changed(lambda d: d["applicant"].pop("family_name")),
        changed(lambda d: d["applicant"].update(family_name="", email="not an e-mail")),
        changed(lambda d: d["applicant"].update(birth_date="17.05.1994", sex="other")),
        changed(lambda d: d["address"].update(postcode="1494", ars="12")),
        changed(lambda d: d["passport"].update(valid_until="2032-13-40")),
        changed(lambda d: d["employment"].update(gross_annual_salary_eur="viel")),
        changed(lambda d: d["employment"].update(weekly_hours=-1, contract_months=0)),
        changed(lambda d: d["declarations"].update(truthful=False)),
        changed(lambda d: d.update(extra={"x": 1})),
        changed(lambda d: d["fee"].update(express=True, benefits="citizens_income")),
        changed(lambda d: d["applicant"].update(birth_date="2010-12-02")),
        changed(lambda d: d["applicant"].update(birth_date="2008-12-01")),
    ]


@pytest.fixture
def client(app: FastAPI) -> TestClient:
    return TestClient(app, base_url="http://127.0.0.1:8000")


def _run(request: dict[str, Any], tmp_path: Path) -> list[dict[str, Any]]:
    require_node()
    path = tmp_path / "apply-request.json"
    path.write_text(json.dumps(request), encoding="utf-8")
    proc = subprocess.run(
        [NODE, str(HARNESS), str(path)], capture_output=True, text=True, timeout=300, check=False
    )
    assert proc.returncode == 0, proc.stderr
    results: list[dict[str, Any]] = json.loads(proc.stdout)["results"]
    return results


@pytest.mark.parametrize("flow_id", ["employment", "family", "extension", "training"])
def test_the_browser_validates_and_derives_fee_facts_like_the_python_client(
    client: TestClient, tmp_path: Path, flow_id: str
) -> None:
    flow = client.get(f"/v1/flows/{flow_id}").json()
    forms = _broken(DEMO)
    if flow_id == "family":
        forms.append({**DEMO, "family_members": [{"given_names": "Elif"}, {"family_name": 3}, "x"]})
    cases: list[dict[str, Any]] = [
        {"data": f, "lang": lang} for f in forms for lang in ("de", "en")
    ]
    request = {"flow": flow, "messages": DEFAULT_MESSAGES, "today": TODAY.isoformat(),
               "cases": cases}  # fmt: skip
    results = _run(request, tmp_path)
    assert len(results) == len(cases)
    for case, result in zip(cases, results, strict=True):
        expected = [
            [e.pointer, e.message] for e in flowdata.validate(flow, case["data"], case["lang"])
        ]
        assert result["errors"] == expected, case
        try:
            facts: dict[str, Any] = ApplicantClient.fee_facts(flow, case["data"], TODAY)
        except ValueError as exc:
            facts = {"error": str(exc)}
        if "error" not in facts or "error" not in result["facts"]:
            assert result["facts"] == facts, case
    assert results[0]["errors"] == [] or flow_id != "employment"


def test_the_browser_builds_the_metadata_the_python_client_builds(tmp_path: Path) -> None:
    from gateway.fitconnect import Attachment, build_metadata, validate_metadata
    from gateway.fitconnect.metadata import versions

    data = json.dumps(DEMO, ensure_ascii=False, sort_keys=True)
    attachments = [
        Attachment("0b8a7f3e-8f1d-4c55-9f53-5a0b0f7f1a01", "ab" * 64, "application/pdf",
                   purpose="report", filename="summary.pdf", description="summary"),
        Attachment("0b8a7f3e-8f1d-4c55-9f53-5a0b0f7f1a02", "cd" * 64, "image/jpeg",
                   filename="passport.jpg", description="passport"),
    ]  # fmt: skip
    common = {
        "data_schema_uri": "urn:ozg-commons:flow:employment:1.0.0:schema",
        "data_mime": "application/json",
        "public_service": {"identifier": "urn:de:fim:leika:leistung:99010003001000",
                           "name": "Aufenthaltserlaubnis"},
        "additional_reference_info": {"senderReference": "01a2318d-f4f7-72d1-99ba-d12f8b0d8b09"},
    }  # fmt: skip
    expected = build_metadata(
        "1.0.0",
        data_hash=hashlib.sha512(data.encode("utf-8")).hexdigest(),
        attachments=attachments,
        **common,  # type: ignore[arg-type]
    )
    entry = versions()["1.0.0"]
    request = {
        "metadata": {
            "version": {"version": entry.version, "schemaUri": entry.schema_uri,
                        "dollarSchema": entry.dollar_schema},
            "dataText": data,
            "dataSchemaUri": common["data_schema_uri"],
            "dataMime": common["data_mime"],
            "publicService": common["public_service"],
            "additionalReferenceInfo": common["additional_reference_info"],
            "attachments": [
                {"attachmentId": a.attachment_id, "sha512": a.sha512, "mimeType": a.mime_type,
                 "purpose": a.purpose, "filename": a.filename, "description": a.description}
                for a in attachments
            ],
        }
    }  # fmt: skip
    require_node()
    path = tmp_path / "metadata-request.json"
    path.write_text(json.dumps(request), encoding="utf-8")
    proc = subprocess.run(
        [NODE, str(HARNESS), str(path)], capture_output=True, text=True, timeout=300, check=False
    )
    assert proc.returncode == 0, proc.stderr
    built = json.loads(proc.stdout)["metadata"]
    assert built == expected
    assert list(built) == list(expected)
    assert validate_metadata(built) == "1.0.0"


def _pdf_texts(pdf: bytes) -> list[str]:
    """The strings a pdf-lib PDF shows (its content streams are Flate, text as hex)."""
    shown = []
    for stream in re.findall(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S):
        try:
            content = zlib.decompress(stream)
        except zlib.error:
            continue
        for hex_text in re.findall(rb"<([0-9A-Fa-f]*)> Tj", content):
            shown.append(bytes.fromhex(hex_text.decode()).decode("cp1252"))
    return shown


@pytest.mark.parametrize("lang", ["de", "en"])
def test_the_browser_summary_pdf_says_what_the_python_summary_says(
    client: TestClient, tmp_path: Path, lang: str
) -> None:
    from gateway.client.flowdata import summary  # the private line layout, for comparison

    flow = client.get("/v1/flows/employment").json()
    attachments = [["passport", "pass-ayşe.pdf"], ["biometric_photo", "foto.jpg"]]
    out = tmp_path / "summary.pdf"
    request = {"summary": {"flow": flow, "data": DEMO, "lang": lang,
                           "attachments": attachments, "out": str(out)}}  # fmt: skip
    require_node()
    path = tmp_path / "summary-request.json"
    path.write_text(json.dumps(request), encoding="utf-8")
    proc = subprocess.run(
        [NODE, str(HARNESS), str(path)], capture_output=True, text=True, timeout=300, check=False
    )
    assert proc.returncode == 0, proc.stderr
    pairs = [tuple(p) for p in attachments]
    expected = summary._lines(flow, DEMO, lang, pairs)  # type: ignore[arg-type]
    assert [tuple(line) for line in json.loads(proc.stdout)["lines"]] == expected
    pdf = out.read_bytes()
    assert pdf.startswith(b"%PDF-")
    python_pages = summary._pages(expected)
    shown = _pdf_texts(pdf)
    wanted = [
        "".join(summary._printable(c) for c in text)
        for page in python_pages
        for _style, _y, text in page
    ]
    assert [s for s in shown if not s.startswith(("Seite ", "Page "))] == wanted
    assert f"1 von {len(python_pages)}" in shown[-1] or f"1 of {len(python_pages)}" in "".join(
        shown
    )
