"""The README's story as one automated test: ``gateway.client.demo.run_story`` over HTTP
(an in-process TestClient) with development IdP tokens, the applicant's client, the
embedded demo authorities (keys under the data dir), the delivery service, cases,
payments' sandbox, the vault and the audit log."""

from __future__ import annotations

import json
import uuid
from typing import cast

import httpx
from fastapi import FastAPI
from fastapi.testclient import TestClient

from commons.db import Database
from commons.settings import Settings
from compliance.sequencer import sequence_all
from gateway.client.demo import demo_authority_keys, run_story


def test_the_whole_story(
    app: FastAPI, database: Database, settings: Settings, client: TestClient
) -> None:
    http = cast(httpx.Client, client)
    keys, anchors, crls = demo_authority_keys(http, settings.data_dir, "tf")
    lines: list[str] = []
    result = run_story(
        http, keys, say=lines.append, anchors=anchors, crls=crls,
        public_url=settings.public_base_url,
        settle=lambda: sequence_all(database, app.state.audit.identity),
    )  # fmt: skip
    assert len(lines) == 12, lines
    assert [line.split(".")[0].strip() for line in lines] == [str(n) for n in range(1, 13)]
    assert result.receipt["kind"] == "submission"
    claims = result.receipt["claims"]
    assert claims["case_id"] == result.case_id
    assert claims["authority"] == "tf"
    assert claims["flow"] == "employment"
    assert result.sent is not None
    assert claims["submission_sha512"] == result.sent.submission_sha512
    assert json.loads(result.folder["form.json"])  # the authority's decrypted copy
    assert result.decision.startswith(b"%PDF")
    assert [t["to_state"] for t in result.timeline] == [
        "draft", "submitted", "received", "processing", "action_required", "processing",
        "decided",
    ]  # fmt: skip
    assert uuid.UUID(result.case_id)
