""" "My data" in Debian's Chromium against a real server: consents given and withdrawn, the
profile and e-mail notice, the export shown readable and downloaded (JSON and HTML), and
erasure with its confirmation word and the signed receipt; axe-core on every state."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from commons import receipts
from tests.gateway.portal.conftest import serve_portal
from tests.gateway.portal.test_browser import axe_violations, shoot, sign_in

pytestmark = pytest.mark.browser
CANARY = "Kanarien-Staat-4711"


def _context(browser: Browser, base: str, axe_source: str) -> BrowserContext:
    context = browser.new_context(
        base_url=base,
        viewport={"width": 1280, "height": 900},
        locale="de-DE",
        accept_downloads=True,
    )
    context.add_init_script(script=axe_source)
    return context


def _watch(page: Page) -> list[str]:
    problems: list[str] = []
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("console", lambda m: problems.append(m.text) if "Content Security" in m.text else None)
    return problems


@pytest.fixture
def page(browser: Browser, portal_server: str, axe_source: str) -> Iterator[Page]:
    context = _context(browser, portal_server, axe_source)
    page = context.new_page()
    problems = _watch(page)
    yield page
    context.close()
    assert problems == []


@pytest.fixture(scope="module")
def erasure_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A server of its own: erasure disables the demo user in that server's IdP."""
    with serve_portal(tmp_path_factory.mktemp("mydata-erasure")) as base:
        yield base


def _open_my_data(page: Page) -> None:
    page.goto("/login?next=/account/data")
    sign_in(page, "demo-applicant")
    expect(page.get_by_role("heading", level=1)).to_have_text("Meine Daten")
    expect(page.locator("#profile tbody tr").first).to_be_visible()


def test_consents_profile_notices_and_the_readable_export(page: Page) -> None:
    _open_my_data(page)
    assert axe_violations(page) == []
    # consents: give one to Teltow-Fläming, see it, withdraw it
    page.get_by_label("Die Ausländerbehörde darf mich zu meinem Antrag anrufen.").check()
    page.get_by_label("Ausländerbehörde", exact=True).select_option("tf")
    page.get_by_role("button", name="Einwilligung erteilen").click()
    expect(page.locator("#consent-status")).to_contain_text("Einwilligung erteilt.")
    row = page.locator("#consents tbody tr[data-consent=contact-by-phone]").last
    expect(row).to_have_attribute("data-state", "active")
    expect(row).to_contain_text("Teltow-Fläming")
    assert axe_violations(page) == []
    row.get_by_role("button").click()
    expect(page.locator("#consent-status")).to_contain_text("Einwilligung widerrufen.")
    expect(
        page.locator("#consents tbody tr[data-consent=contact-by-phone]").last
    ).to_have_attribute("data-state", "withdrawn")
    # profile: an empty value is refused on the device, a value is saved
    page.get_by_role("button", name="Speichern").first.click()
    expect(page.locator("#attribute-value")).to_have_attribute("aria-invalid", "true")
    page.get_by_label("Feld zum Ergänzen oder Berichtigen").select_option("nationality")
    page.get_by_label("Neuer Wert").fill(CANARY)
    page.get_by_role("button", name="Speichern").first.click()
    expect(page.locator("#profile tbody tr[data-attribute=nationality]")).to_contain_text(CANARY)
    # an attribute from the sign-in cannot be overwritten here
    page.get_by_label("Feld zum Ergänzen oder Berichtigen").select_option("family_name")
    page.get_by_label("Neuer Wert").fill("Other")
    page.get_by_role("button", name="Speichern").first.click()
    expect(page.locator("#attribute-status")).to_contain_text("Das hat nicht geklappt")
    assert axe_violations(page) == []
    # e-mail notice
    page.get_by_label("Schicken Sie mir eine E-Mail", exact=False).check()
    page.locator("#notices-save").click()
    expect(page.locator("#notices-status")).to_contain_text("Gespeichert.")
    page.reload()
    expect(page.locator("#notices")).to_be_checked()
    # the export, readable here and as files
    page.get_by_role("button", name="Meine Daten anzeigen").click()
    view = page.locator("#export-view")
    expect(view).to_contain_text(CANARY)
    # what is held, why and for how long first (Art. 15(1)), then each domain's records
    expect(view.locator("h3").first).to_have_text("Was wir über Sie speichern, warum und wie lange")
    expect(view.locator("h4", has_text="Nutzerkonto und Postfach")).to_be_visible()
    expect(view.locator("dt", has_text="Wie lange").first).to_be_visible()
    expect(view.locator("h3").nth(1)).to_have_text("account")
    assert axe_violations(page) == []
    shoot(page, "my-data")
    with page.expect_download() as download:
        page.get_by_role("link", name="Als JSON herunterladen").click()
    bundle = json.loads(Path(download.value.path()).read_text(encoding="utf-8"))
    assert bundle["format"] == "ozg-personal-data-export/1"
    assert CANARY in json.dumps(bundle)
    with page.expect_download() as download:
        page.get_by_role("link", name="Als lesbare Datei herunterladen (HTML)").click()
    html = Path(download.value.path()).read_text(encoding="utf-8")
    assert html.startswith("<!doctype html>")
    assert CANARY in html
    assert "Wie lange" in html
    assert "<script" not in html


def test_erasure_needs_the_word_and_returns_the_signed_receipt(
    browser: Browser, erasure_server: str, axe_source: str
) -> None:
    context = _context(browser, erasure_server, axe_source)
    page = context.new_page()
    problems = _watch(page)
    _open_my_data(page)
    erase = page.get_by_role("button", name="Mein Konto jetzt löschen")
    page.get_by_label("Geben Sie zur Bestätigung das Wort LÖSCHEN ein").fill("löschen bitte")
    erase.click()
    expect(page.locator("#erase-error")).to_have_text(
        "Geben Sie das Wort genau wie angezeigt ein, um zu bestätigen."
    )
    expect(page.locator("#erase-confirm")).to_have_attribute("aria-invalid", "true")
    assert axe_violations(page) == []
    page.get_by_label("Geben Sie zur Bestätigung das Wort LÖSCHEN ein").fill("LÖSCHEN")
    erase.click()
    expect(page.locator("#erase-status")).to_contain_text("Ihr Konto wurde gelöscht.")
    expect(page.locator("#receipt-valid")).to_have_text("Signatur der Bestätigung geprüft: gültig.")
    expect(page.locator("#receipt-facts")).to_contain_text("receipt_id")
    expect(page.locator("#receipt-heading")).to_be_focused()
    assert axe_violations(page) == []
    with page.expect_download() as download:
        page.get_by_role("link", name="Die signierte Bestätigung herunterladen").click()
    answer = json.loads(Path(download.value.path()).read_text(encoding="utf-8"))
    jwks = httpx.get(f"{erasure_server}/v1/receipts/keys", timeout=10).json()
    verified = receipts.verify(answer["receipt"], jwks)
    assert verified.kind == "erasure"
    # the account is gone: the session ended, and the user cannot sign in again
    page.goto("/account/data")
    expect(page.get_by_role("heading", level=1)).not_to_have_text("Meine Daten")
    context.close()
    assert problems == []


@pytest.mark.parametrize("width", [320, 640])
def test_my_data_reflows_at_320_px_and_200_percent_zoom(
    browser: Browser, portal_server: str, width: int
) -> None:
    context = browser.new_context(base_url=portal_server, viewport={"width": width, "height": 800})
    page = context.new_page()
    page.goto("/login?next=/account/data")
    sign_in(page, "demo-applicant")
    expect(page.locator("#profile tbody tr").first).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    context.close()
