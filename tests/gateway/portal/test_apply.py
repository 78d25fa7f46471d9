"""/apply and /apply/{flow} on the server: the routes with who they are for, the documents
and the fee; the empty form built from the flow's schema (no values, labels from x-i18n in
the page language, lists with an entry template); login required; unknown flows 404."""

from __future__ import annotations

import json
import re

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from markupsafe import escape

from gateway.client.flowdata.validation import DEFAULT_MESSAGES
from gateway.portal.apply import build, steps
from tests.gateway.portal.helpers import sign_in


@pytest.fixture
def client(app: FastAPI) -> TestClient:
    return TestClient(app, base_url="http://127.0.0.1:8000")


def _config(html: str) -> dict[str, object]:
    found = re.search(r'<script type="application/json" id="apply-config">(.*?)</script>', html)
    assert found
    config: dict[str, object] = json.loads(found.group(1))
    return config


def test_apply_lists_every_route_with_audience_documents_and_fee(client: TestClient) -> None:
    html = client.get("/apply", headers={"Accept-Language": "en"}).text
    flows = client.get("/v1/flows").json()["flows"]
    assert flows
    for flow in flows:
        assert f'id="route-{flow["id"]}"' in html
        assert str(escape(flow["audience"]["en"])) in html
        for document in flow["documents"]:
            assert str(escape(document["title"]["en"])) in html
        assert f'href="/apply/{flow["id"]}"' in html
    assert "100 euros for an adult, one-year permit" in html
    german = client.get("/apply").text
    assert "Unterlagen, die Sie brauchen" in german
    assert flows[0]["title"]["de"] in german


def test_the_form_needs_a_login(client: TestClient) -> None:
    response = client.get("/apply/employment", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?next=%2Fapply%2Femployment")


def test_an_unknown_flow_is_404(client: TestClient) -> None:
    sign_in(client, start="/login?next=/apply")
    response = client.get("/apply/no-such-flow")
    assert response.status_code == 404
    assert "/apply" in response.text


def test_the_form_is_empty_and_labelled_from_the_schema(client: TestClient) -> None:
    sign_in(client, start="/login?next=/apply/employment")
    html = client.get("/apply/employment").text
    schema = client.get("/v1/flows/employment").json()["schema"]
    for name in schema["properties"]:
        assert f'data-step="/{name}"' in html
    assert '<label class="kern-label" for="f-applicant-family_name">Familienname</label>' in html
    assert "Wie im Pass geschrieben." in html  # help text from x-i18n
    assert '<option value="female">weiblich</option>' in html
    assert 'type="date"' in html
    assert 'data-pointer="/declarations/truthful" data-type="boolean"' in html
    form = html[
        html.index('<form id="apply-form"') : html.index("</form>", html.index("apply-form"))
    ]
    assert " value=" not in form.replace('<option value="', "")  # no answer is rendered
    assert " selected" not in form
    assert " checked" not in form
    config = _config(html)
    assert config["flow"] == "employment"
    assert config["lang"] == "de"
    assert config["messages"] == DEFAULT_MESSAGES
    client.cookies.set("ozg_lang", "en")
    english = client.get("/apply/employment").text
    assert '<label class="kern-label" for="f-applicant-family_name">Family name</label>' in english
    assert _config(english)["texts"]["problems"] == "There is a problem"  # type: ignore[index]


def test_a_list_gets_an_entry_template_with_add_and_remove(client: TestClient) -> None:
    sign_in(client, start="/login?next=/apply/family")
    html = client.get("/apply/family").text
    assert 'data-items="/family_members"' in html
    assert '<template data-item-template="/family_members">' in html
    assert 'data-pointer="/family_members/__i__/given_names"' in html
    assert 'data-add-item="/family_members"' in html
    assert "data-remove-item" in html


def test_the_field_tree_follows_the_schema() -> None:
    schema = {
        "type": "object",
        "required": ["a"],
        "properties": {
            "a": {"type": "string", "x-i18n": {"title": {"de": "A-de", "en": "A-en"}}},
            "n": {"type": "integer", "minimum": 1},
            "list": {"type": "array", "maxItems": 3, "items": {"type": "string", "enum": ["x"]}},
        },
    }
    root = build(schema, "", "en")
    a, n, items = root.children
    assert (a.kind, a.label, a.required) == ("text", "A-en", True)
    assert (n.kind, n.required, n.attrs) == ("integer", False, {"minimum": 1})
    assert (items.kind, items.attrs) == ("list", {"maxItems": 3})
    assert items.item is not None
    assert items.item.pointer == "/list/__i__"
    assert items.item.options == [("x", "x")]
    assert [s.pointer for s in steps(schema, "de")] == ["/a", "/n", "/list"]
    assert steps(schema, "de")[0].attrs == {"wrapper": True}


def test_the_pinned_roots_and_crls_are_served_for_the_browser(
    client: TestClient, app: FastAPI
) -> None:
    """/apply/trust.json: the anchors and CRLs the registry checks destination keys with."""
    from cryptography import x509

    from gateway.authorities import registry_trust

    answer = client.get("/apply/trust.json")
    assert answer.status_code == 200
    body = answer.json()
    pinned = registry_trust(app.state.settings)
    anchors = [x509.load_pem_x509_certificate(p.encode()) for p in body["anchors"]]
    assert anchors == pinned.anchors
    assert anchors  # the demo CA in development
    crls = [x509.load_pem_x509_crl(p.encode()) for p in body["crls"]]
    assert [c.issuer for c in crls] == [anchors[0].subject]


def test_the_form_offers_a_document_choice_per_flow_document(client: TestClient) -> None:
    sign_in(client)
    html = client.get("/apply/employment").text
    for doc_type in ("passport", "biometric_photo", "employment_contract"):
        assert f'id="doc-{doc_type}" data-document-type="{doc_type}" data-required="true"' in html
    assert 'src="/static/vendor/x509/reflect-metadata.js"' in html
    assert html.index("x509/reflect-metadata.js") < html.index("vendor/x509/x509.js")
