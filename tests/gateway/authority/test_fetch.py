"""``authority fetch`` end to end over the API: submissions made through the FIT-Connect API
are fetched, decrypted with the key file, checked, written and acknowledged."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from gateway.client.authority import AuthorityClient, load_rsa_private_key
from gateway.client.authority_fetch import FetchReport, fetch, safe_filename
from gateway.fitconnect import InvalidJwe, decrypt, verify_event
from tests import factories
from tests.gateway.authority.conftest import (
    DESTINATIONS,
    ActAs,
    Doc,
    Keys,
    Sent,
    clean_pdf,
    hostile_pdf,
)
from tests.gateway.flows.conftest import example

Send = Callable[..., Sent]


def run_fetch(
    client: AuthorityClient, act_as: ActAs, keys: Keys, out: Path, authority: str = "tf"
) -> FetchReport:
    act_as(factories.caseworker(authority))
    demo = keys.authorities[authority]
    return fetch(
        client,
        authority=authority,
        encryption_key=demo.encryption_key,
        signing_key=demo.signing_key,
        out_dir=out,
        destinations=[DESTINATIONS[authority]],
    )


def events(client: TestClient, keys: Keys, case_id: str, authority: str = "tf") -> list[Any]:
    response = client.get(f"/fit-connect/v1/cases/{case_id}/events")
    assert response.status_code == 200, response.text
    demo = keys.authorities[authority]
    last = response.json()["eventLog"][-1]
    return [verify_event(last, {demo.signing_jwk["kid"]: demo.signing_key.public_key()})]


def test_fetch_writes_the_case_folder_and_accepts_with_the_tags(
    send: Send, authority_client: AuthorityClient, act_as: ActAs, keys: Keys, tmp_path: Path,
    client: TestClient,
) -> None:  # fmt: skip
    sent = send()
    report = run_fetch(authority_client, act_as, keys, tmp_path / "out")
    assert [r.status for r in report.results] == ["accepted"]
    folder = tmp_path / "out" / sent.case_id
    assert report.results[0].folder == folder
    names = sorted(p.name for p in folder.iterdir())
    assert names == sorted(["form.json", "metadata.json", "summary.pdf", "xauslaender.json",
                            "fetch.json", "Reisepass Müller.pdf", "contract.pdf"])  # fmt: skip
    assert json.loads((folder / "form.json").read_text()) == example("employment")
    summary, passport = sent.docs[0], sent.docs[1]
    assert (folder / "summary.pdf").read_bytes() == summary.content
    assert (folder / "Reisepass Müller.pdf").read_bytes() == passport.content
    metadata = json.loads((folder / "metadata.json").read_text())
    assert metadata["publicServiceType"]["identifier"].endswith("99010003001000")
    x = json.loads((folder / "xauslaender.json").read_text())
    assert {"Person", "Ausweisdokument", "Anschrift"} <= set(x["data"]["Antragsteller"]) | set(
        x["data"]
    ) or x["data"]  # the mapping's own groups (docs/flows.md)
    record = json.loads((folder / "fetch.json").read_text())
    assert record["status"] == "accepted"
    assert {d["documentType"] for d in record["documents"]} == {"passport", "employment-contract"}
    assert (folder / "form.json").stat().st_mode & 0o077 == 0
    # the acknowledgement: a signed accept-submission whose tags match what was sent
    act_as(factories.caseworker("tf"))
    (event,) = events(client, keys, sent.case_id)
    assert event.name == "accept-submission"
    tags = event.authentication_tags
    assert tags is not None
    assert set(tags.attachments) == {d.attachment_id for d in sent.docs}
    listed = client.get("/fit-connect/v1/submissions", params={"destinationId": DESTINATIONS["tf"]})
    assert listed.json()["submissions"] == []


def test_a_second_run_fetches_nothing_twice(
    send: Send, authority_client: AuthorityClient, act_as: ActAs, keys: Keys, tmp_path: Path
) -> None:
    send()
    first = run_fetch(authority_client, act_as, keys, tmp_path / "out")
    assert len(first.accepted) == 1
    second = run_fetch(authority_client, act_as, keys, tmp_path / "out")
    assert second.results == []
    assert second.skipped == []
    sent = send()
    third = run_fetch(authority_client, act_as, keys, tmp_path / "out")
    assert [r.case_id for r in third.accepted] == [sent.case_id]


def test_an_unacknowledged_case_is_acknowledged_again_without_refetching(
    send: Send, authority_client: AuthorityClient, act_as: ActAs, keys: Keys, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    send()
    calls: list[str] = []
    original = AuthorityClient.post_event

    def failing(self: AuthorityClient, case_id: str, token: str) -> int:
        calls.append(case_id)
        raise RuntimeError("network down")

    monkeypatch.setattr(AuthorityClient, "post_event", failing)
    with pytest.raises(RuntimeError):
        run_fetch(authority_client, act_as, keys, tmp_path / "out")
    monkeypatch.setattr(AuthorityClient, "post_event", original)
    downloads: list[str] = []
    monkeypatch.setattr(AuthorityClient, "submission", lambda self, sid: downloads.append(sid))
    report = run_fetch(authority_client, act_as, keys, tmp_path / "out")
    assert [r.status for r in report.results] == ["acknowledged-again"]
    assert downloads == []


def _rejected(report: FetchReport) -> list[dict[str, Any]]:
    assert [r.status for r in report.results] == ["rejected"]
    return report.results[0].problems


def test_a_hash_mismatch_is_rejected(
    send: Send, authority_client: AuthorityClient, act_as: ActAs, keys: Keys, tmp_path: Path,
    client: TestClient,
) -> None:  # fmt: skip
    docs = [Doc("p.pdf", clean_pdf(), "passport")]
    sent = send(docs=docs, wrong_hash=docs[0].attachment_id)
    problems = _rejected(run_fetch(authority_client, act_as, keys, tmp_path / "out"))
    assert [p["type"].rsplit("/", 1)[-1] for p in problems] == ["hash-mismatch"]
    assert problems[0]["instance"] == f"attachment:{docs[0].attachment_id}"
    assert not (tmp_path / "out" / sent.case_id).exists()
    record = json.loads((tmp_path / "out" / "rejected" / sent.case_id / "fetch.json").read_text())
    assert record["status"] == "rejected"
    act_as(factories.caseworker("tf"))
    (event,) = events(client, keys, sent.case_id)
    assert event.name == "reject-submission"
    assert event.problems == problems


def test_a_form_that_fails_the_flow_schema_is_rejected_with_data_schema_violation(
    send: Send, authority_client: AuthorityClient, act_as: ActAs, keys: Keys, tmp_path: Path,
    client: TestClient,
) -> None:  # fmt: skip
    form = dict(example("employment"))
    form.pop(next(iter(form)))
    sent = send(form=form)
    problems = _rejected(run_fetch(authority_client, act_as, keys, tmp_path / "out"))
    assert problems
    assert {p["type"].rsplit("/", 1)[-1] for p in problems} == {"data-schema-violation"}
    assert all(p["instance"].startswith("data:/") for p in problems)
    text = json.dumps(problems)
    assert not any(isinstance(v, str) and len(v) > 3 and v in text for v in form.values())
    act_as(factories.caseworker("tf"))
    (event,) = events(client, keys, sent.case_id)
    assert event.name == "reject-submission"


def test_form_data_that_is_not_json_is_a_syntax_violation(
    send: Send, authority_client: AuthorityClient, act_as: ActAs, keys: Keys, tmp_path: Path
) -> None:
    send(form=b"{not json", summary=False, docs=[Doc("p.pdf", clean_pdf(), "passport")])
    problems = _rejected(run_fetch(authority_client, act_as, keys, tmp_path / "out"))
    assert problems[0]["type"].endswith("/syntax-violation")


def test_form_data_nested_too_deeply_is_a_syntax_violation(
    send: Send, authority_client: AuthorityClient, act_as: ActAs, keys: Keys, tmp_path: Path
) -> None:
    """Found by fuzzing (tests/fuzz): 5,000 nested arrays made json.loads raise
    RecursionError, which stopped the authority's client instead of rejecting the case."""
    form = b"[" * 5000 + b"]" * 5000
    send(form=form, summary=False, docs=[Doc("p.pdf", clean_pdf(), "passport")])
    problems = _rejected(run_fetch(authority_client, act_as, keys, tmp_path / "out"))
    assert problems[0]["type"].endswith("/syntax-violation")


def test_a_hostile_pdf_is_rejected_and_quarantined(
    send: Send, authority_client: AuthorityClient, act_as: ActAs, keys: Keys, tmp_path: Path
) -> None:
    bad = Doc("invoice.pdf", hostile_pdf(), "passport")
    sent = send(docs=[bad])
    problems = _rejected(run_fetch(authority_client, act_as, keys, tmp_path / "out"))
    assert [p["type"].rsplit("/", 1)[-1] for p in problems] == ["syntax-violation"]
    assert "JavaScript action" in problems[0]["detail"]
    assert "Launch action" in problems[0]["detail"]
    assert "open action" in problems[0]["detail"]
    out = tmp_path / "out"
    assert not (out / sent.case_id).exists()
    kept = out / "quarantine" / sent.case_id / f"{bad.attachment_id}.pdf.quarantined"
    assert kept.read_bytes() == bad.content
    assert list((out / "quarantine" / sent.case_id).iterdir()) == [kept]


def test_passive_pdf_metadata_is_reported_not_rejected(
    send: Send, authority_client: AuthorityClient, act_as: ActAs, keys: Keys, tmp_path: Path
) -> None:
    import io

    import pikepdf

    pdf = pikepdf.open(io.BytesIO(clean_pdf()))
    pdf.docinfo["/Author"] = "someone"
    buffer = io.BytesIO()
    pdf.save(buffer)
    doc = Doc("p.pdf", buffer.getvalue(), "passport")
    send(docs=[doc], summary=False)
    report = run_fetch(authority_client, act_as, keys, tmp_path / "out")
    assert [r.status for r in report.results] == ["accepted"]
    assert report.results[0].findings == [f"attachment:{doc.attachment_id}: document info"]


def test_path_traversal_file_names_are_neutralised(
    send: Send, authority_client: AuthorityClient, act_as: ActAs, keys: Keys, tmp_path: Path
) -> None:
    docs = [
        Doc("../../../etc/passwd.pdf", clean_pdf("a"), "passport"),
        Doc("..\\..\\boot.pdf", clean_pdf("b"), "passport"),
        Doc("form.json", clean_pdf("c"), "passport"),
        Doc("/abs/x.pdf", clean_pdf("d"), "passport"),
        Doc("x.pdf", clean_pdf("e"), "passport"),
        Doc("X.PDF", clean_pdf("f"), "passport"),
        Doc("..", clean_pdf("g"), "passport"),
    ]
    sent = send(docs=docs)
    report = run_fetch(authority_client, act_as, keys, tmp_path / "out")
    assert [r.status for r in report.results] == ["accepted"]
    folder = tmp_path / "out" / sent.case_id
    files = sorted(p.name for p in folder.iterdir())
    assert "passwd.pdf" in files
    assert "boot.pdf" in files
    assert "x.pdf" in files
    assert "x (2).pdf" in files
    assert "X (3).PDF" in files
    assert "form (2).json" in files
    assert json.loads((folder / "form.json").read_text()) == example("employment")
    assert all(p.parent == folder for p in folder.iterdir())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "var"]
    assert not (tmp_path / "etc").exists()


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("../../a.pdf", "a.pdf"),
        ("C:\\Users\\x\\b.pdf", "b.pdf"),
        ("\x00evil\x1f.pdf", "_evil_.pdf"),
        (".hidden.pdf", "hidden.pdf"),
        ("CON.pdf", "_CON.pdf"),
        ("", "fallback.pdf"),
        (None, "fallback.pdf"),
        ("noext", "noext.pdf"),
        ("a" * 300 + ".pdf", "a" * 116 + ".pdf"),
    ],
)
def test_safe_filename(name: str | None, expected: str) -> None:
    assert safe_filename(name, "fallback", "application/pdf") == expected


def test_a_manifest_that_disagrees_with_the_metadata_is_rejected(
    send: Send, authority_client: AuthorityClient, act_as: ActAs, keys: Keys, tmp_path: Path
) -> None:
    # (sizes are checked by the server against the ciphertexts already; a document type
    # is a claim only the decrypted metadata and the flow can refute)
    def edit(manifest: dict[str, Any]) -> None:
        manifest["parts"][1]["documentType"] = "banana"

    send(manifest_edit=edit)
    problems = _rejected(run_fetch(authority_client, act_as, keys, tmp_path / "out"))
    assert [p["type"].rsplit("/", 1)[-1] for p in problems] == ["attachments-mismatch"]
    assert "banana" in problems[0]["detail"]


def test_a_plain_fit_connect_sender_without_manifest_is_accepted_and_summary_made(
    send: Send, authority_client: AuthorityClient, act_as: ActAs, keys: Keys, tmp_path: Path
) -> None:
    sent = send(manifest=False, summary=False)
    report = run_fetch(authority_client, act_as, keys, tmp_path / "out")
    assert [r.status for r in report.results] == ["accepted"]
    folder = tmp_path / "out" / sent.case_id
    assert (folder / "summary.pdf").read_bytes().startswith(b"%PDF-")
    assert json.loads((folder / "fetch.json").read_text())["summary"].startswith("made")


def test_another_authority_sees_nothing_and_its_key_cannot_decrypt(
    send: Send, authority_client: AuthorityClient, act_as: ActAs, keys: Keys, tmp_path: Path,
    client: TestClient,
) -> None:  # fmt: skip
    sent = send("tf")
    # ee's subscriber lists ee's destination: empty; tf's is refused; tf's submission is 404
    report = run_fetch(authority_client, act_as, keys, tmp_path / "ee", authority="ee")
    assert report.results == []
    act_as(factories.caseworker("ee"))
    listed = client.get("/fit-connect/v1/submissions", params={"destinationId": DESTINATIONS["tf"]})
    assert listed.status_code == 403
    assert client.get(f"/fit-connect/v1/submissions/{sent.submission_id}").status_code == 404
    # ee's private key cannot open tf's JWE (read here as tf)
    act_as(factories.caseworker("tf"))
    body = client.get(f"/fit-connect/v1/submissions/{sent.submission_id}").json()
    with pytest.raises(InvalidJwe):
        decrypt(body["encryptedMetadata"], keys.authorities["ee"].encryption_key)
    # and the client refuses ee's key file for tf's destination before it touches anything
    with pytest.raises(Exception, match="not the encryption key"):
        fetch(
            authority_client,
            authority="tf",
            encryption_key=keys.authorities["ee"].encryption_key,
            signing_key=keys.authorities["tf"].signing_key,
            out_dir=tmp_path / "wrong",
            destinations=[DESTINATIONS["tf"]],
        )
    listed = client.get("/fit-connect/v1/submissions", params={"destinationId": DESTINATIONS["tf"]})
    assert [s["submissionId"] for s in listed.json()["submissions"]] == [sent.submission_id]


def test_the_key_file_loader_refuses_what_it_cannot_use(tmp_path: Path, keys: Keys) -> None:
    from gateway.client.authority import KeyFileError

    with pytest.raises(KeyFileError, match="does not exist"):
        load_rsa_private_key(tmp_path / "missing.pem")
    (tmp_path / "junk.pem").write_text("hello")
    with pytest.raises(KeyFileError, match="not a PEM private key"):
        load_rsa_private_key(tmp_path / "junk.pem")
    assert load_rsa_private_key(keys.key_file("tf")).key_size == 4096
