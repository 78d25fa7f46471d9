"""The DPO console's pages with a TestClient: only DPOs get them; the register page shows
what ``ozg-commons compliance register`` prints."""

from __future__ import annotations

import json
import re

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from compliance import register_json
from tests.gateway.portal.helpers import sign_in


@pytest.fixture
def client(app: FastAPI) -> TestClient:
    return TestClient(app, base_url="http://127.0.0.1:8000")


@pytest.mark.parametrize("path", ["/dpo", "/dpo/register"])
def test_anonymous_visitors_are_sent_to_the_login(client: TestClient, path: str) -> None:
    response = client.get(path, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?next=")


@pytest.mark.parametrize("user", ["demo-applicant", "demo-caseworker-tf", "demo-admin"])
@pytest.mark.parametrize("path", ["/dpo", "/dpo/register"])
def test_everyone_but_a_dpo_gets_a_clear_403_page(client: TestClient, user: str, path: str) -> None:
    sign_in(client, user, start=f"/login?next={path}")
    response = client.get(path, headers={"Accept-Language": "en"})
    assert response.status_code == 403
    assert "This page is for data-protection officers only." in response.text
    assert "page-strings" not in response.text


def test_the_console_is_an_empty_frame_with_translated_script_strings(client: TestClient) -> None:
    sign_in(client, "demo-dpo", start="/login?next=/dpo")
    page = client.get("/dpo", headers={"Accept-Language": "de"})
    assert page.status_code == 200
    assert 'id="dpo-authority">operator<' in page.text
    found = re.search(
        r'<script type="application/json" id="page-strings">(.*?)</script>', page.text
    )
    assert found is not None
    strings = json.loads(found.group(1))
    assert strings["verified"] == "Verifiziert"
    assert "{actor}" in strings["many_opens"]
    assert '<script type="module" src="/static/js/dpo.js">' in page.text


def test_the_register_page_shows_every_declared_activity(app: FastAPI, client: TestClient) -> None:
    sign_in(client, "demo-dpo", start="/login?next=/dpo/register")
    page = client.get("/dpo/register", headers={"Accept-Language": "en"})
    assert page.status_code == 200
    register = register_json(app.state.declarations)
    assert register["processing_activities"]
    for activity in register["processing_activities"]:
        assert f"<code>{activity['id']}</code>" in page.text
    for policy in register["retention_policies"]:
        assert f"<code>{policy['record_type']}</code>" in page.text
    assert "ozg-commons-art30-register/v1" in page.text
