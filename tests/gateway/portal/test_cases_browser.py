"""The applicant's side of a whole case in Debian's Chromium: a case submitted, answered and
decided through the Python clients (the demo story, gateway/client/demo.py) on a server of
its own, then in the browser the cases list, the timeline, the receipt, the mailbox with
the decision letter opened on the device, and the access log verified on the device, with
a tampered entry shown as not verified; axe-core on every page and state."""

from __future__ import annotations

import base64
import json
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Route, expect

from gateway.client.applicant import ApplicantClient, Document
from gateway.client.demo import (
    OTHER_DOCUMENTS,
    PASSPHRASE,
    AuthorityKeys,
    accept_as_authority,
    demo_authority_keys,
    example_form,
    minimal_pdf,
    run_story,
    seal_for_applicant,
    token,
)
from tests.gateway.portal.conftest import ROOT, _free_port
from tests.gateway.portal.test_browser import SCREENSHOTS, axe_violations, shoot, sign_in
from vault import envelope

pytestmark = pytest.mark.browser

USER = "demo-applicant-hoch"  # a user no other browser test gives a vault key


def _port() -> int:
    """A free port for this module's own server: the OS's choice (or OZG_TEST_PORTS), never
    a fixed range that two test workers would both take the first port of."""
    return _free_port()


def _checkpoint_size(base: str) -> int:
    size: int = httpx.get(f"{base}/v1/audit/checkpoint").json().get("size", 0)
    return size


def _await_checkpoint(base: str, size: int) -> None:
    """Until the audit log's signed checkpoint covers at least ``size`` leaves."""
    deadline = time.monotonic() + 30
    while _checkpoint_size(base) < size:
        if time.monotonic() > deadline:
            raise RuntimeError("the sequencer published no checkpoint")
        time.sleep(0.2)


def _case_awaiting_documents(
    http: httpx.Client, keys: AuthorityKeys, anchors: list[Any], crls: list[Any], tmp: Path
) -> str:
    """A second case of USER, submitted, accepted and waiting for a payslip (the demo
    story's steps 4-8 with the Python clients)."""
    client = ApplicantClient(
        str(http.base_url), token(http, USER), http=http, anchors=anchors, crls=crls
    )
    key = client.vault.unlock(PASSPHRASE)
    flow, form = client.flow("employment"), example_form()
    case_id: str = client.start_case("employment")["id"]
    client.choose_authority(case_id, keys.authority)
    quote = client.declare_fee_facts(case_id, client.fee_facts(flow, form))["quote"]
    payment = client.pay_in_sandbox(case_id, quote["id"])
    documents = []
    for doc_type, name, text in (("passport", "pass.pdf", "passport"), *OTHER_DOCUMENTS):
        (tmp / name).write_bytes(minimal_pdf(text))
        documents.append(Document(client.vault.put(tmp / name, key)[0], doc_type))
    client.submit(
        case_id, flow, form, documents, key, destination_id=keys.destination_id,
        authority=keys.authority, payment_id=payment,
    )  # fmt: skip
    caseworker = token(http, "demo-caseworker-tf")
    accept_as_authority(http, caseworker, keys)
    public_jwk = client.http.get("/v1/vault/keys/me").json()["public_jwk"]
    message = seal_for_applicant(http, caseworker, public_jwk, b"Please send a payslip.",
                                 "request.txt", "text/plain")  # fmt: skip
    headers = {"Authorization": f"Bearer {caseworker}"}
    http.post(f"/v1/authority/cases/{case_id}/processing", headers=headers).raise_for_status()
    http.post(
        f"/v1/authority/cases/{case_id}/request-documents", headers=headers,
        json={"document_types": ["payslip"], "message": message},
    ).raise_for_status()  # fmt: skip
    return case_id


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A server with one decided case of USER; a caseworker also opened a shared document."""
    data_dir = tmp_path_factory.mktemp("cases-server")
    port = _port()
    log = (data_dir / "server.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.gateway.portal.serve_portal", str(port), str(data_dir)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=log,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 240
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError((data_dir / "server.log").read_text())
            time.sleep(0.3)
        with httpx.Client(base_url=base, timeout=120) as http:
            keys, anchors, crls = demo_authority_keys(http, data_dir, "tf")
            result = run_story(
                http, keys, say=lambda _line: None, anchors=anchors, crls=crls,
                applicant_user=USER,
            )  # fmt: skip
            caseworker = {"Authorization": f"Bearer {token(http, 'demo-caseworker-tf')}"}
            shared = [
                d
                for d in http.get("/v1/vault/documents", headers=caseworker).json()
                if d["shared_with"] == ["tf"]
            ]
            assert len(shared) == 1  # the payslip the applicant sent on request
            before = _checkpoint_size(base)
            http.get(f"/v1/vault/documents/{shared[0]['id']}/content", headers=caseworker)
            _await_checkpoint(base, before + 1)
            open_case = _case_awaiting_documents(http, keys, anchors, crls, data_dir)

        def authority_opens(document_id: str) -> tuple[str, bytes]:
            """The caseworker's client: its detached stanza and the envelope, opened with
            the authority's own private key."""
            with httpx.Client(base_url=base, timeout=60) as client:
                auth = {"Authorization": f"Bearer {token(client, 'demo-caseworker-tf')}"}
                wrapped = client.get(f"/v1/vault/documents/{document_id}/key", headers=auth)
                content = client.get(f"/v1/vault/documents/{document_id}/content", headers=auth)
            stanza = base64.b64decode(wrapped.json()["stanza"])
            meta, plain = envelope.open_bytes(content.content, keys.encryption_key, stanza=stanza)
            return meta.filename, plain

        yield {
            "base": base, "case_id": result.case_id, "open_case": open_case,
            "authority_opens": authority_opens,
        }  # fmt: skip
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


@pytest.fixture
def context(browser: Browser, seeded: dict[str, Any], axe_source: str) -> Iterator[BrowserContext]:
    context = browser.new_context(
        base_url=seeded["base"], viewport={"width": 1280, "height": 900}, locale="de-DE",
        accept_downloads=True,
    )  # fmt: skip
    context.add_init_script(script=axe_source)
    yield context
    context.close()


@pytest.fixture
def page(context: BrowserContext) -> Iterator[Page]:
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.goto("/login?next=/cases")
    sign_in(page, USER)
    expect(page).to_have_url(f"{page.url.split('/cases')[0]}/cases")
    yield page
    assert [p for p in problems if "Content Security Policy" in p or "Refused" in p] == []
    assert [p for p in problems if "Uncaught" in p] == []


def unlock_vault(page: Page) -> None:
    """The vault key on this device, as the documents page leaves it: unwrapped from
    GET /v1/vault/keys/me with the passphrase and kept non-extractable in IndexedDB."""
    kid = page.evaluate(
        """async (passphrase) => {
          const keys = await import("/static/js/keys.js");
          const stored = await (await fetch("/v1/vault/keys/me")).json();
          const store = new keys.IndexedDbKeyStore();
          return (await keys.unlock(stored, {passphrase, store})).kid;
        }""",
        PASSPHRASE,
    )
    assert kid


def no_axe_violations(page: Page) -> None:
    assert axe_violations(page) == []


# --------------------------------------------------------------------------- cases
def test_cases_list_timeline_and_receipt(page: Page, seeded: dict[str, Any]) -> None:
    expect(page.locator("#case-list > li")).to_have_count(2)
    item = page.locator("#case-list > li", has_text="Abgeschlossen (genehmigt)")
    expect(item).to_have_count(1)
    no_axe_violations(page)
    item.get_by_role("link").click()
    expect(page).to_have_url(f"{seeded['base']}/cases/{seeded['case_id']}")
    expect(page.locator("#case-status")).to_have_text("Abgeschlossen (genehmigt)")
    expect(page.locator("#case-authority")).to_have_text("Landkreis Teltow-Fläming")
    steps = page.locator("#timeline li")
    expect(steps).to_have_count(7)
    expect(steps.nth(0)).to_contain_text("Sie haben den Antrag begonnen.")
    expect(steps.nth(4)).to_contain_text("Die Behörde hat weitere Unterlagen angefordert.")
    expect(steps.nth(6)).to_contain_text("Die Behörde hat Ihren Antrag genehmigt.")
    expect(page.locator("#withdraw")).to_be_hidden()  # decided: nothing to withdraw
    shoot(page, "case-timeline")
    # six status notices, the request for documents and the decision letter
    expect(page.locator("#case-messages li")).to_have_count(8)
    no_axe_violations(page)
    with page.expect_download() as download:
        page.get_by_role("button", name="Eingangsbestätigung herunterladen").click()
    receipt = json.loads(Path(download.value.path()).read_text())
    assert receipt["kind"] == "submission"
    assert receipt["claims"]["case_id"] == seeded["case_id"]


# --------------------------------------------------------------------------- mailbox
def test_the_decision_letter_is_opened_on_the_device(page: Page) -> None:
    page.goto("/messages")
    decision = page.locator("#messages li", has_text="Bescheid ·")
    expect(decision).to_have_count(1)
    no_axe_violations(page)
    decision.get_by_role("link").click()
    expect(page.locator("#message-category")).to_have_text("Bescheid")
    expect(page.locator("#vault-locked")).to_be_visible()  # no key on this device yet
    no_axe_violations(page)
    unlock_vault(page)
    page.reload()
    link = page.get_by_role("link", name="Schreiben herunterladen: bescheid.pdf")
    expect(link).to_be_visible()
    expect(page.locator("#message-sealed")).to_contain_text("Auf diesem Gerät geöffnet.")
    shoot(page, "message-decision")
    no_axe_violations(page)
    with page.expect_download() as download:
        link.click()
    letter = Path(download.value.path()).read_bytes()
    assert letter.startswith(b"%PDF")
    assert b"Bescheid: genehmigt / approved" in letter


def test_the_request_for_documents_shows_it_was_answered(page: Page) -> None:
    unlock_vault(page)
    page.goto("/messages")
    page.locator("#messages li", has_text="Nachforderung").last.get_by_role("link").click()
    expect(page.locator("#message-body")).to_contain_text("Please send a current payslip.")
    expect(page.locator("#answer-status")).to_have_text(
        "Sie haben diese Nachforderung beantwortet."
    )
    no_axe_violations(page)


# --------------------------------------------------------------------------- access log
def _marks(page: Page) -> list[str]:
    """Every entry's verification mark, after loading the older pages too."""
    settled = (
        "() => document.querySelectorAll('#access-log > li').length > {}"
        " && !document.getElementById('access-log').hasAttribute('aria-busy')"
    )
    page.wait_for_function(settled.format(0))
    more = page.locator("#more")
    while more.is_visible():
        count = page.locator("#access-log > li").count()
        more.click()
        page.wait_for_function(settled.format(count))
    script = "els => els.map(e => e.dataset.verification)"
    return list(page.eval_on_selector_all("#access-log > li", script))


def test_the_access_log_is_verified_on_the_device(page: Page) -> None:
    unlock_vault(page)
    requested: list[str] = []
    page.on("request", lambda r: requested.append(r.url))
    page.goto("/access-log")
    marks = _marks(page)
    assert "failed" not in marks
    assert marks.count("verified") >= 10
    opened = page.locator("#access-log > li", has_text="Landkreis Teltow-Fläming, Sachbearbeitung")
    read = opened.filter(has_text="Ihr verschlüsseltes Dokument wurde heruntergeladen.")
    expect(read).to_have_count(1)
    expect(read.locator(".document-name")).to_have_text("gehaltsnachweis.pdf")  # from the device
    expect(read.locator(".mark")).to_contain_text("geprüft")
    # the name came from the metadata-only read, not from downloading the document
    assert [u for u in requested if re.search(r"/v1/vault/documents/[^/]+/metadata$", u)]
    assert not [u for u in requested if u.endswith("/content")]
    if SCREENSHOTS:  # the first screen only: the whole log is very long
        read.scroll_into_view_if_needed()
        page.screenshot(path=str(Path(SCREENSHOTS) / "access-log.png"))
    no_axe_violations(page)


def test_a_tampered_entry_shows_as_not_verified(page: Page, context: BrowserContext) -> None:
    def tamper(route: Route) -> None:
        response = route.fetch()
        body = response.json()
        for entry in body["entries"]:
            if entry["role"] == "caseworker" and entry["action"] == "vault.document.read":
                entry["who"] = "ee"  # "another authority read it": not what the log says
        route.fulfill(response=response, body=json.dumps(body))

    page.route("**/v1/me/access-log*", tamper)
    page.goto("/access-log")
    marks = _marks(page)
    assert marks.count("failed") == 1
    assert marks.count("verified") >= 10
    bad = page.locator("#access-log > li[data-verification='failed']")
    expect(bad.locator(".mark")).to_contain_text("nicht geprüft")
    no_axe_violations(page)


# --------------------------------------------------------------------------- answering
def test_a_request_is_answered_with_an_upload_sealed_on_the_device(
    page: Page, seeded: dict[str, Any], tmp_path: Path
) -> None:
    unlock_vault(page)
    page.goto(f"/cases/{seeded['open_case']}")
    expect(page.locator("#case-status")).to_have_text("Die Behörde braucht etwas von Ihnen")
    page.locator("#case-messages a", has_text="Nachforderung").click()
    expect(page.locator("#message-body")).to_have_text("Please send a payslip.")
    form = page.locator("#answer-form")
    expect(form).to_be_visible()
    no_axe_violations(page)
    page.get_by_role("button", name="Verschlüsseln und senden").click()
    expect(page.locator("#answer-status")).to_have_text("Wählen Sie zuerst eine Datei aus.")
    no_axe_violations(page)  # the error state
    payslip = tmp_path / "Lohnzettel März.pdf"
    payslip.write_bytes(minimal_pdf("payslip (browser)"))
    page.get_by_label("Dokument zum Senden").set_input_files(str(payslip))
    page.get_by_role("button", name="Verschlüsseln und senden").click()
    expect(page.locator("#answer-status")).to_have_text(
        "Ihr Dokument wurde verschlüsselt, für die Behörde freigegeben und gesendet."
    )
    page.goto(f"/cases/{seeded['open_case']}")
    expect(page.locator("#timeline li").last).to_contain_text(
        "Sie haben die angeforderten Unterlagen gesendet."
    )
    # the authority opens what the browser sealed and shared, with its own key
    with httpx.Client(base_url=seeded["base"], timeout=60) as http:
        case = http.get(
            f"/v1/authority/cases/{seeded['open_case']}",
            headers={"Authorization": f"Bearer {token(http, 'demo-caseworker-tf')}"},
        ).json()
    linked = [d for d in case["documents"] if d["document_type"] == "payslip"]
    assert len(linked) == 1
    assert seeded["authority_opens"](linked[0]["document_id"]) == (
        "Lohnzettel März.pdf",
        payslip.read_bytes(),
    )


def test_withdrawal_asks_for_confirmation(page: Page, seeded: dict[str, Any]) -> None:
    page.goto(f"/cases/{seeded['open_case']}")
    withdraw = page.get_by_role("button", name="Antrag zurückziehen")
    expect(withdraw).to_be_visible()
    withdraw.click()
    dialog = page.get_by_role("dialog", name="Diesen Antrag zurückziehen?")
    expect(dialog).to_be_visible()
    no_axe_violations(page)  # the dialog open
    page.get_by_role("button", name="Nein, behalten").click()
    expect(dialog).to_be_hidden()
    expect(withdraw).to_be_focused()
    withdraw.click()
    page.get_by_role("button", name="Ja, zurückziehen").click()
    expect(page.locator("#cases-status")).to_have_text("Ihr Antrag wurde zurückgezogen.")
    expect(page.locator("#case-status")).to_have_text("Abgeschlossen (zurückgezogen)")
    expect(page.locator("#timeline li").last).to_contain_text(
        "Sie haben Ihren Antrag zurückgezogen."
    )
    expect(withdraw).to_be_hidden()
    no_axe_violations(page)


# --------------------------------------------------------------------------- layout
@pytest.mark.parametrize("language", ["en", "ar-XB"])
def test_the_pages_reflow_at_320_px_and_pass_axe_in_every_language(
    browser: Browser, seeded: dict[str, Any], axe_source: str, language: str
) -> None:
    context = browser.new_context(base_url=seeded["base"], viewport={"width": 320, "height": 800})
    context.add_init_script(script=axe_source)
    context.add_cookies([{"name": "ozg_lang", "value": language, "url": seeded["base"]}])
    page = context.new_page()
    page.goto("/login?next=/cases")
    sign_in(page, USER)
    unlock_vault(page)
    loaded = {
        "/cases": "#case-list > li",
        f"/cases/{seeded['case_id']}": "#timeline > li",
        "/messages": "#messages > li",
    }
    for path in (*loaded, "/access-log"):
        page.goto(path)
        rtl = "rtl" if language == "ar-XB" else "ltr"
        expect(page.locator("html")).to_have_attribute("dir", rtl)
        if path in loaded:
            expect(page.locator(loaded[path]).first).to_be_visible()
        else:
            _marks(page)
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), path
        no_axe_violations(page)
    context.close()
