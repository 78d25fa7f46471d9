"""docs/flows.md section 9: the external-flow example is the guide's code, verbatim, and it
runs against the app in process with real development-IdP tokens (``demo-flow``)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import cast

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import select

from commons.db import Database
from commons.settings import Settings
from gateway.cases.models import Draft
from gateway.client.demo import token
from tests.gateway.flows import external_flow_example as example
from tests.gateway.flows.conftest import example as example_form

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = Path(example.__file__)
ISSUER = "/dev-idp/realms/ozg-dev"  # the in-process development IdP
INCLUDE = re.compile(
    r"<!-- verbatim: (?P<path>[^ ]+) -->\n```[a-z]+\n(?P<code>.*?)```\n", re.DOTALL
)


def test_the_guide_shows_the_examples_verbatim() -> None:
    """Section 1's plug-in and section 9's external flow are the tested files, as they are."""
    guide = (ROOT / "docs" / "flows.md").read_text("utf-8")
    blocks = {m["path"]: m["code"] for m in INCLUDE.finditer(guide)}
    assert EXAMPLE.relative_to(ROOT).as_posix() in blocks
    assert "tests/gateway/flows/plugin_example/ozg_flow_demo/__init__.py" in blocks
    for path, code in blocks.items():
        assert code == (ROOT / path).read_text("utf-8"), f"docs/flows.md differs from {path}"


def test_the_external_flow_example_runs(
    client: TestClient, settings: Settings, database: Database
) -> None:
    http = cast(httpx.Client, client)
    flow = example.FlowServer(
        http,
        example.flow_token(
            http, ISSUER, "demo-flow", "demo-flow-secret", scope="cases:read cases:write"
        ),
    )
    assert flow.cases() == []  # nothing before an applicant allows it
    form = example_form("employment")
    seen = example.run(
        http,
        token(http, "demo-applicant"),
        flow,
        form,
        passphrase="the applicant's own passphrase",
        public_url=settings.public_base_url,
    )
    assert seen["flow_client"] == "demo-flow"
    assert seen["authority"] == "tf"
    assert seen["has_draft"] is True
    assert seen["payment_id"] is not None
    assert seen["fee_facts"]["nationality"] == form["applicant"]["nationality"]
    assert [t["reason"] for t in seen["timeline"]] == ["created"]
    with database.transaction() as session:
        stored = session.scalars(select(Draft.envelope)).one()
    family_name = form["applicant"]["family_name"]
    assert family_name.encode() not in stored  # the server holds the draft sealed
    assert json.dumps(form).encode() not in stored


def test_a_narrowed_flow_token_is_refused_outside_its_scopes(client: TestClient) -> None:
    http = cast(httpx.Client, client)
    narrow = example.flow_token(http, ISSUER, "demo-flow", "demo-flow-secret", scope="cases:read")
    flow = example.FlowServer(http, narrow)
    refused = http.post(
        "/v1/payments",
        json={"quote_id": "0193c2a4-f001-7a2b-8c3d-4e5f60718293", "return_url": "http://x/"},
        headers={**flow.auth, "Idempotency-Key": "narrow"},
    )
    assert refused.status_code == 403
    assert refused.json()["reason"] == "insufficient-scope"
