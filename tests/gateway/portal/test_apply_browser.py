"""Applying in Debian's Chromium against a real server: choose the employment route, fill
the form with errors shown and fixed, save the sealed draft, reload and resume, see the fee
facts, pay in the sandbox and come back, choose the vault documents (put through the Python
client), submit and download the receipt; then the authority's client fetches, decrypts,
checks and accepts what the browser sent. axe-core on every step and state, and the form
walked with the keyboard alone."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from gateway.client.authority import AuthorityClient
from gateway.client.authority_fetch import fetch
from gateway.client.demo import OTHER_DOCUMENTS, demo_authority_keys, minimal_pdf, token
from tests.gateway.portal.test_browser import axe_violations, sign_in
from vault.client import VaultClient

pytestmark = pytest.mark.browser

FORM = json.loads(
    (Path(__file__).resolve().parents[3] / "gateway/client/demo_employment.json").read_text()
)
NAME = FORM["applicant"]["family_name"]
PASSPHRASE = "correct horse battery staple 42"
SEED_KEY = """async (passphrase) => {
  const keys = await import('/static/js/keys.js');
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const made = await keys.createVaultKey(passphrase, {params: keys.ARGON2_MINIMUM});
  const put = await fetch('/v1/vault/keys/me', {method: 'PUT', credentials: 'same-origin',
    headers: {'Content-Type': 'application/json', 'X-CSRF-Token': csrf},
    body: JSON.stringify(made.register)});
  if (!put.ok) throw new Error('register: ' + put.status + ' ' + await put.text());
  const stored = await (await fetch('/v1/vault/keys/me', {credentials: 'same-origin'})).json();
  await keys.unlock(stored, {passphrase, store: new keys.IndexedDbKeyStore()});
  return made.kid;
}"""


@pytest.fixture
def context(browser: Browser, portal_server: str, axe_source: str) -> Iterator[BrowserContext]:
    context = browser.new_context(
        base_url=portal_server, viewport={"width": 1280, "height": 900}, locale="en-GB"
    )
    context.add_init_script(script=axe_source)
    yield context
    context.close()


@pytest.fixture
def page(context: BrowserContext) -> Iterator[Page]:
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    yield page
    assert [p for p in problems if "Content Security Policy" in p or "Refused" in p] == []
    assert [p for p in problems if "Error" in p and "404" not in p] == []


DOCUMENTS = (("passport", "reisepass.pdf", "Reisepass / passport (demo)"), *OTHER_DOCUMENTS)
UNCHOSEN = ("notes.pdf", "offered, never attached: never downloaded")


def seed_documents(base: str, workdir: Path) -> None:
    """The applicant's vault documents, put through the Python client with the key the
    browser made (unwrapped here with the same passphrase)."""
    with httpx.Client(base_url=base, timeout=60) as http:
        vault = VaultClient(base, token(http, "demo-applicant"), http=http)
        key = vault.unlock(PASSPHRASE)
        for name, text in [(name, text) for _type, name, text in DOCUMENTS] + [UNCHOSEN]:
            path = workdir / name
            path.write_bytes(minimal_pdf(text))
            vault.put(path, key)


def authority_fetches(base: str, data_dir: Path, out: Path) -> Any:
    """What the authority's own client (ozg-commons authority fetch) makes of it."""
    with httpx.Client(base_url=base, timeout=60) as http:
        keys, _anchors, _crls = demo_authority_keys(http, data_dir, "tf")
        client = AuthorityClient(base, token=token(http, "demo-caseworker-tf"))
        try:
            return fetch(
                client,
                authority="tf",
                encryption_key=keys.encryption_key,
                signing_key=keys.signing_key,
                out_dir=out,
            )
        finally:
            client.close()


def leaves(data: Any, pointer: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(data, dict):
        for name, value in data.items():
            yield from leaves(value, f"{pointer}/{name}")
    else:
        yield pointer, data


def fill_step(page: Page, step: str, overrides: dict[str, Any] | None = None) -> None:
    values = dict(leaves(FORM[step], f"/{step}")) | (overrides or {})
    for pointer, value in values.items():
        field = page.locator(f'[data-pointer="{pointer}"]')
        kind = field.get_attribute("data-type")
        if kind == "boolean":
            field.set_checked(bool(value))
        elif kind == "enum":
            field.select_option(str(value))
        else:
            field.fill(str(value))


def ready(page: Page) -> None:
    expect(page.locator("#apply-form")).to_have_attribute("data-ready", "true", timeout=20_000)


def next_step(page: Page) -> None:
    page.locator("#step-next").click()


def test_the_whole_story_in_the_browser(
    page: Page, portal_server: str, portal_database: Path, tmp_path: Path
) -> None:
    page.goto("/apply")
    expect(page.locator("#route-employment")).to_contain_text("Employment contract")
    assert axe_violations(page) == []
    page.locator("#route-employment").get_by_role("link").click()
    sign_in(page)
    expect(page).to_have_url(re.compile(r"/apply/employment$"))
    ready(page)
    expect(page.locator("#apply-locked")).to_be_visible()  # no vault key on this device yet
    assert axe_violations(page) == []
    page.evaluate(SEED_KEY, PASSPHRASE)
    seed_documents(portal_server, tmp_path)
    page.reload()
    ready(page)
    expect(page.locator("#apply-locked")).to_be_hidden()

    # errors shown, in the page language, at the fields and in the summary, then fixed
    next_step(page)
    summary = page.locator("#error-summary")
    expect(summary).to_be_visible()
    expect(summary).to_be_focused()
    expect(summary.locator("li").first).to_have_text("Family name: Please fill in this field.")
    expect(page.locator("#f-applicant-family_name-error")).to_have_text(
        "Please fill in this field."
    )
    expect(page.locator("#f-applicant-family_name")).to_have_attribute("aria-invalid", "true")
    assert axe_violations(page) == []
    fill_step(page, "applicant", {"/applicant/email": "not an e-mail"})
    next_step(page)
    expect(summary.locator("li")).to_have_count(1)
    expect(summary).to_contain_text("E-mail")
    summary.locator("a").click()
    expect(page.locator("#f-applicant-email")).to_be_focused()
    page.locator("#f-applicant-email").fill(FORM["applicant"]["email"])
    next_step(page)
    expect(summary).to_be_hidden()
    expect(page.locator("#step-progress")).to_have_text("Step 2 of 8")
    assert axe_violations(page) == []

    # saved sealed, resumed after a reload
    fill_step(page, "address")
    page.locator("#save-draft").click()
    expect(page.locator("#apply-status")).to_have_text(re.compile("draft is saved"), timeout=30_000)
    expect(page).to_have_url(re.compile(r"\?case="))
    page.goto("/apply/employment")
    ready(page)
    expect(page.locator("#apply-status")).to_have_text(re.compile("saved draft is loaded"))
    expect(page.locator("#f-applicant-family_name")).to_have_value(NAME)
    expect(page.locator("#f-address-ars")).to_have_value("120720232232")

    # the rest of the steps, each checked by axe
    for step in ("applicant", "address", "passport", "employment", "fee", "declarations"):
        if step not in ("applicant", "address"):
            fill_step(page, step)
        next_step(page)
        expect(page.locator("#error-summary")).to_be_hidden()
        assert axe_violations(page) == []
    expect(page.get_by_role("heading", name="Check your answers")).to_be_visible()
    expect(page.locator("#review")).to_contain_text("Fläming Solartechnik GmbH")
    expect(page.locator("#review")).to_contain_text("Nationality" + "Türkiye")
    next_step(page)

    # the fee facts, shown before they are sent; the quote; the sandbox payment
    facts = page.locator("#fee-facts")
    expect(facts).to_contain_text('nationality = "TUR"')
    expect(facts).to_contain_text("duration_months = 48")
    expect(facts).not_to_contain_text(NAME)
    assert axe_violations(page) == []
    page.locator("#get-quote").click()
    expect(page.locator("#fee-quote")).to_have_text(
        re.compile(r"The fee is \d+ euros\."), timeout=30_000
    )
    assert axe_violations(page) == []
    page.locator("#pay").click()
    page.get_by_role("button", name="Pay (success)").click()
    expect(page).to_have_url(re.compile(r"/apply/employment\?case="))
    ready(page)
    expect(page.locator("#fee-quote")).to_have_text("The fee is paid.", timeout=30_000)
    assert "paid=" not in page.url  # a reload does not link the payment twice
    assert axe_violations(page) == []
    requested: list[str] = []
    page.on("request", lambda r: requested.append(httpx.URL(r.url).path))
    page.reload()  # a paid case, reloaded: paid, and the submission is offered again
    ready(page)
    expect(page.locator("#fee-quote")).to_have_text("The fee is paid.", timeout=30_000)

    # the documents, listed with the metadata-only read (names decrypted here): no content
    # downloaded until submitting, and then only the chosen ones
    panel = page.locator("#submit-panel")
    expect(panel).to_be_visible()
    passport = page.get_by_label("Passport (every page with entries)")
    expect(passport.locator("option")).to_have_count(len(DOCUMENTS) + 2, timeout=30_000)
    unchosen = passport.locator("option", has_text=UNCHOSEN[0]).get_attribute("value")
    assert unchosen
    assert requested.count("/v1/vault/documents/metadata") == 1
    assert [p for p in requested if p.endswith("/content")] == []
    page.locator("#submit-go").click()  # nothing chosen yet: said, nothing sent
    expect(page.locator("#apply-status")).to_have_text(
        re.compile("Choose a document for: Passport")
    )
    expect(passport).to_be_focused()
    for doc_type, name, _text in DOCUMENTS:
        page.locator(f"#doc-{doc_type}").select_option(label=name)
    assert axe_violations(page) == []
    page.locator("#submit-go").click()
    expect(page.locator("#apply-status")).to_have_text(
        "Your application is submitted. Keep the receipt.", timeout=60_000
    )
    expect(page.locator("#receipt-facts")).to_contain_text("sha512")
    downloaded = [p for p in requested if p.endswith("/content")]
    assert len(set(downloaded)) == len(downloaded) == len(DOCUMENTS)
    assert f"/v1/vault/documents/{unchosen}/content" not in downloaded
    assert axe_violations(page) == []
    with page.expect_download() as download:
        page.locator("#receipt-download").click()
    signed = json.loads(Path(download.value.path()).read_text())
    assert signed["kind"] == "submission"
    assert signed["claims"]["case_id"] == page.url.split("case=")[1].split("&")[0]

    # the authority's client decrypts, checks hashes, metadata, manifest and form: accepted
    report = authority_fetches(portal_server, portal_database.parent, tmp_path / "cases")
    assert [r.status for r in report.results] == ["accepted"], report.results
    folder = report.accepted[0].folder
    assert folder is not None
    written = {p.name for p in folder.rglob("*") if p.is_file()}
    assert {name for _type, name, _text in DOCUMENTS} <= written
    assert json.loads((folder / "form.json").read_text())["applicant"]["family_name"] == NAME


def test_the_form_works_with_the_keyboard_alone(page: Page) -> None:
    page.goto("/login?next=/apply/employment")
    sign_in(page)
    ready(page)
    page.locator("#f-applicant-heading").focus()
    typed = {
        "f-applicant-family_name": NAME,
        "f-applicant-given_names": FORM["applicant"]["given_names"],
        "f-applicant-birth_place": FORM["applicant"]["birth_place"],
    }
    seen = []
    for _ in range(60):
        page.keyboard.press("Tab")
        focused = page.evaluate("document.activeElement.id")
        seen.append(focused)
        if focused in typed:
            page.keyboard.type(typed[focused])
        if focused == "step-next":
            break
    assert "f-applicant-birth_date" in seen
    assert "f-applicant-sex" in seen
    page.keyboard.press("Enter")
    expect(page.locator("#error-summary")).to_be_focused()
    expect(page.locator("#error-summary")).not_to_contain_text("Family name")
    expect(page.locator("#error-summary")).to_contain_text("Date of birth")
    # from the summary to the field, by keyboard
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.dataset.pointer").startswith("/applicant/")


def test_list_entries_are_added_removed_and_renumbered(page: Page) -> None:
    page.goto("/login?next=/apply/family")
    sign_in(page)
    ready(page)
    page.evaluate(
        "document.querySelectorAll('.apply-step')"
        ".forEach(s => { s.hidden = s.dataset.step !== '/family_members'; })"
    )
    add = page.get_by_role("button", name="Add an entry")
    add.click()
    expect(page.locator("#f-family_members-0-family_name")).to_be_focused()  # the first field
    add.click()
    page.locator('[data-pointer="/family_members/1/given_names"]').fill("Elif")
    assert axe_violations(page) == []
    page.locator(".apply-list__item").first.get_by_role("button", name="Remove this entry").click()
    expect(add).to_be_focused()
    expect(page.locator(".apply-list__item")).to_have_count(1)
    expect(page.locator('[data-pointer="/family_members/0/given_names"]')).to_have_value("Elif")
    assert page.locator('label[for="f-family_members-0-given_names"]').count() == 1
    data = page.evaluate(
        "async () => (await import('/static/js/apply-dom.js'))"
        ".collect(document.getElementById('apply-form'))"
    )
    assert data["family_members"] == [{"given_names": "Elif"}]


def test_the_form_reflows_at_320_px(browser: Browser, portal_server: str) -> None:
    context = browser.new_context(base_url=portal_server, viewport={"width": 320, "height": 800})
    page = context.new_page()
    page.goto("/login?next=/apply/employment")
    sign_in(page)
    ready(page)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.goto("/apply")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    context.close()


@pytest.mark.parametrize("language", ["de", "ar-XB"])
def test_the_form_and_its_errors_pass_axe_in_every_language(
    context: BrowserContext, page: Page, portal_server: str, language: str
) -> None:
    context.add_cookies([{"name": "ozg_lang", "value": language, "url": portal_server}])
    page.goto("/login?next=/apply/employment")
    sign_in(page)
    ready(page)
    expect(page.locator("html")).to_have_attribute("lang", language)
    assert axe_violations(page) == []
    next_step(page)
    expect(page.locator("#error-summary")).to_be_visible()
    if language == "de":
        expect(page.locator("#error-summary li").first).to_have_text(
            "Familienname: Bitte füllen Sie dieses Feld aus."
        )
    assert axe_violations(page) == []
