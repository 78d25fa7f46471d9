"""The cases, mailbox and access-log pages on the server (no browser): they need a login,
render only texts and public facts (flow titles, authority names, the action registry)
for the page's module, in German and English, and refuse ids that cannot be one."""

from __future__ import annotations

import json
import re

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.gateway.portal.helpers import sign_in

PAGES = ("/cases", "/cases/3f1c2a9e-0000-4000-8000-000000000001", "/messages",
         "/messages/m-1", "/access-log")  # fmt: skip


@pytest.fixture
def client(app: FastAPI) -> TestClient:
    return TestClient(app, base_url="http://127.0.0.1:8000")


def _data(html: str) -> dict[str, object]:
    found = re.search(
        r'<script type="application/json" id="portal-data">(.*?)</script>', html, re.S
    )
    assert found, "the page carries its texts as JSON"
    data: dict[str, object] = json.loads(found.group(1))
    return data


@pytest.mark.parametrize("path", PAGES)
def test_the_pages_need_a_login(client: TestClient, path: str) -> None:
    response = client.get(path, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?next=")


@pytest.mark.parametrize("path", PAGES)
def test_the_pages_render_texts_and_public_facts_only(client: TestClient, path: str) -> None:
    sign_in(client)
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    assert "'unsafe-inline'" not in response.headers["content-security-policy"]
    html = response.text
    assert not re.search(r"<script(?![^>]*\b(src=|type=\"application/json\"))[^>]*>", html)
    assert " style=" not in html
    data = _data(html)
    assert data["lang"] == "de"
    texts = data["texts"]
    assert isinstance(texts, dict)
    assert texts["status"]["COMPLETED"] == "Abgeschlossen"
    assert texts["verified"] == "geprüft"
    authorities = data["authorities"]
    assert isinstance(authorities, dict)
    assert authorities["tf"]["de"] == "Landkreis Teltow-Fläming"
    if path == "/access-log":
        actions = data["actions"]
        assert isinstance(actions, dict)
        assert actions["vault.document.read"]["en"] == "Your encrypted document was downloaded."
        assert actions["vault.document.metadata_read"]["de"].startswith(
            "Der verschlüsselte Name und Typ Ihres Dokuments"
        )
    if path == "/cases":
        flows = data["flows"]
        assert isinstance(flows, dict)
        assert "employment" in flows


def test_english_texts_and_the_navigation(client: TestClient) -> None:
    sign_in(client)
    html = client.get("/cases", headers={"Accept-Language": "en"}).text
    texts = _data(html)["texts"]
    assert isinstance(texts, dict)
    assert texts["reason"]["documents-requested"] == "The authority asked you for more documents."
    for link in ('href="/cases" aria-current="page"', 'href="/messages"', 'href="/access-log"'):
        assert link in html


@pytest.mark.parametrize("path", ["/cases/not%20an%20id", "/messages/" + "x" * 65])
def test_a_malformed_id_is_a_404_page(client: TestClient, path: str) -> None:
    sign_in(client)
    response = client.get(path)
    assert response.status_code == 404
    assert "Nicht gefunden" in response.text
