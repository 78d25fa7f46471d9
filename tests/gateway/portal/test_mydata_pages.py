""" "My data" with a TestClient: sign-in needed, an empty frame with translated strings, and
the profile fields the page offers are exactly the API's self-entered attributes."""

from __future__ import annotations

import json
import re
from typing import get_args

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from account.schemas import AttributeName, ConsentIn
from gateway.portal.mydata import ATTRIBUTES, CONSENT_LEGAL_BASIS, CONSENT_TEXT_VERSION, CONSENTS
from tests.gateway.portal.helpers import sign_in


@pytest.fixture
def client(app: FastAPI) -> TestClient:
    return TestClient(app, base_url="http://127.0.0.1:8000")


def test_my_data_needs_a_sign_in(client: TestClient) -> None:
    response = client.get("/account/data", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=%2Faccount%2Fdata"


def test_my_data_is_a_frame_with_translated_strings(client: TestClient) -> None:
    sign_in(client, "demo-applicant", start="/login?next=/account/data")
    page = client.get("/account/data", headers={"Accept-Language": "de"})
    assert page.status_code == 200
    found = re.search(
        r'<script type="application/json" id="page-strings">(.*?)</script>', page.text
    )
    assert found is not None
    assert json.loads(found.group(1))["confirm_word"] == "LÖSCHEN"
    assert "Geben Sie zur Bestätigung das Wort LÖSCHEN ein" in page.text
    labels = re.search(r'id="attribute-labels">(.*?)</script>', page.text)
    assert labels is not None
    assert json.loads(labels.group(1))["nationality"] == "Staatsangehörigkeit"
    english = client.get("/account/data", headers={"Accept-Language": "en"})
    assert "To confirm, type the word ERASE" in english.text
    assert 'href="/account/data"' in client.get("/account").text


def test_the_page_offers_what_the_api_accepts() -> None:
    assert set(ATTRIBUTES) == set(get_args(AttributeName))
    for purpose in CONSENTS:
        ConsentIn(
            purpose=purpose, legal_basis=CONSENT_LEGAL_BASIS, text_version=CONSENT_TEXT_VERSION
        )
