"""The DPO console in Debian's Chromium against a real server: queries with the API's cursor,
the summary highlighting a seeded unusual pattern, export, the log verified in the browser
(and not verified when a checkpoint or a consistency proof is tampered with on the way),
co-signing, the Art. 30 register, a refused non-DPO; axe-core on every page and state."""

from __future__ import annotations

import base64
import csv
import io
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Route, expect

from commons.clock import FixedClock
from commons.db import Database
from compliance import AccessEvent, Actor, record_access
from tests.gateway.portal.conftest import serve_portal
from tests.gateway.portal.test_browser import axe_violations, shoot, sign_in

pytestmark = pytest.mark.browser

TUESDAY_10_BERLIN = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
SATURDAY_03_BERLIN = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)
SEEDED = 60 + 2 + 3 + 3


def _read(actor: str, authority: str, subject: str) -> AccessEvent:
    return AccessEvent(
        actor=Actor(subject=actor, role="caseworker", authority=authority),
        data_subject=subject,
        action="vault.document.read",
        resource=f"document:{subject}",
        purpose="deciding the application",
        legal_basis="§ 86 AufenthG",
    )


def _size(base: str) -> int:
    response = httpx.get(f"{base}/v1/audit/checkpoint", timeout=10)
    return int(response.json()["size"]) if response.status_code == 200 else 0


def _wait_sequenced(base: str, at_least: int) -> None:
    deadline = time.monotonic() + 30
    while _size(base) < at_least:
        assert time.monotonic() < deadline, "the server did not sequence the seeded entries"
        time.sleep(0.2)


@pytest.fixture(scope="module")
def dpo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """A portal server of this module's own: the console counts every entry of a week, so
    no other test's entries may share its log (the session-wide server's are not all from
    now). Under pytest-xdist a module's tests may come in several runs: each gets a server
    and seeds it anew."""
    data = tmp_path_factory.mktemp("dpo-server")
    with serve_portal(data) as base:
        yield base, data / "ozg-commons.sqlite3"


@pytest.fixture(scope="module")
def portal_server(dpo_server: tuple[str, Path]) -> str:
    return dpo_server[0]


@pytest.fixture(scope="module")
def portal_database(dpo_server: tuple[str, Path]) -> Path:
    return dpo_server[1]


@pytest.fixture(scope="module")
def seeded(portal_server: str, portal_database: Path) -> None:
    """cw-busy (tf) opens 60 documents on a Tuesday; its peers 2, 3 and 3; cw-c opens one
    of its three on a Saturday at 03:00 in Berlin. Three transactions, so the log publishes
    several checkpoints."""
    database = Database.from_url(f"sqlite:///{portal_database}")
    batches = [
        (TUESDAY_10_BERLIN, [_read("cw-busy", "tf", f"app-{i}") for i in range(60)]),
        (
            TUESDAY_10_BERLIN + timedelta(hours=1),
            [_read("cw-a", "ee", f"ee-{i}") for i in range(2)]
            + [_read("cw-b", "p", f"p-{i}") for i in range(3)]
            + [_read("cw-c", "tf", f"c-{i}") for i in range(2)],
        ),
        (SATURDAY_03_BERLIN, [_read("cw-c", "tf", "c-night")]),
    ]
    try:
        for at, events in batches:
            before = _size(portal_server)
            with database.transaction() as session:
                for e in events:
                    record_access(session, e, clock=FixedClock(at))
            _wait_sequenced(portal_server, before + len(events))
    finally:
        database.dispose()


@pytest.fixture
def context(browser: Browser, portal_server: str, axe_source: str) -> Iterator[BrowserContext]:
    context = browser.new_context(
        base_url=portal_server,
        viewport={"width": 1280, "height": 900},
        locale="de-DE",
        timezone_id="Europe/Berlin",
        accept_downloads=True,
    )
    context.add_init_script(script=axe_source)
    yield context
    context.close()


@pytest.fixture
def page(context: BrowserContext) -> Iterator[Page]:
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("console", lambda m: problems.append(m.text) if "Content Security" in m.text else None)
    yield page
    assert problems == []


def _dpo_console(page: Page) -> None:
    page.goto("/login?next=/dpo")
    sign_in(page, "demo-dpo")
    expect(page.get_by_role("heading", level=1)).to_have_text("Datenschutz-Konsole")


def _query(page: Page, **fields: str) -> None:
    page.get_by_label("Von (Ihre Ortszeit)").fill("2026-11-23T00:00")
    page.get_by_label("Bis (Ihre Ortszeit, ausschließlich)").fill("2026-11-29T00:00")
    for label, value in fields.items():
        page.get_by_label(label).fill(value)
    page.get_by_role("button", name="Einträge anzeigen", exact=True).click()


def test_a_non_dpo_gets_a_clear_refusal(page: Page) -> None:
    page.goto("/login?next=/dpo")
    sign_in(page, "demo-caseworker-tf")
    expect(page.get_by_role("heading", level=1)).to_have_text("Zugriff verweigert")
    expect(page.locator("#refused")).to_contain_text("nur für Datenschutzbeauftragte")
    assert page.locator("#page-strings").count() == 0
    assert axe_violations(page) == []


def test_the_dpo_queries_pages_sees_the_unusual_pattern_and_exports(
    page: Page, seeded: None
) -> None:
    _dpo_console(page)
    status = page.locator("#verify-status")
    expect(status).to_have_attribute("data-state", "verified", timeout=20_000)
    assert page.locator("#checkpoints tbody tr[data-ok=true]").count() >= 2
    _query(page)
    rows = page.locator("#entries tbody tr")
    expect(rows).to_have_count(50)
    more = page.get_by_role("button", name="Weitere Einträge anzeigen")
    expect(more).to_be_visible()
    more.click()
    expect(rows).to_have_count(SEEDED)
    expect(more).to_be_hidden()
    unusual = page.locator("#unusual-list li")
    expect(unusual).to_have_count(2)
    expect(unusual.nth(0)).to_have_text(
        "cw-busy hat 60 Dokumente geöffnet; der Median von 3 Vergleichspersonen ist 3."
    )
    expect(unusual.nth(1)).to_contain_text("cw-c: 1 Zugriffe außerhalb der Bürozeiten")
    expect(page.locator("#rules-text")).to_have_text(
        "Ungewöhnlich heißt: mehr als das 3-Fache des Medians der Dokumentöffnungen der "
        "Vergleichsgruppe (vault.document.read; mindestens 2 Vergleichspersonen derselben "
        "Rolle), oder Zugriff durch Personal (caseworker, admin) außerhalb von Mon-Fri 07-19, "
        "Europe/Berlin."
    )
    flagged = page.locator("#summary tbody tr[data-unusual=true]")
    expect(flagged.first).to_contain_text("cw-busy")
    expect(flagged.first).to_contain_text("Ungewöhnlich")
    assert axe_violations(page) == []
    shoot(page, "dpo-console")
    # the export carries the same filter
    with page.expect_download() as download:
        page.locator("#export-csv").click()
    text = Path(download.value.path()).read_text(encoding="utf-8")
    exported = list(csv.DictReader(io.StringIO(text)))
    assert len(exported) == SEEDED
    assert {r["action"] for r in exported} == {"vault.document.read"}
    with page.expect_download() as download:
        page.locator("#export-json").click()
    bundle = json.loads(Path(download.value.path()).read_text(encoding="utf-8"))
    assert bundle["format"] == "ozg-audit-export/v1"
    assert len(bundle["entries"]) == SEEDED
    # narrower: one authority; and rules that flag nothing
    _query(page, **{"Behörde (z. B. tf)": "ee"})
    expect(rows).to_have_count(2)
    page.get_by_label("Bürozeiten (z. B. Mon-Fri 07-19)").fill("Mon-Sun 00-24")
    _query(page, **{"Behörde (z. B. tf)": ""})
    expect(page.locator("#unusual")).to_contain_text("cw-busy hat 60")
    expect(page.locator("#unusual-list li")).to_have_count(1)
    # a bad rule is shown as an error, announced
    page.get_by_label("Zeitzone").fill("Mars/Olympus")
    page.get_by_role("button", name="Einträge anzeigen", exact=True).click()
    expect(page.locator("#query-error")).to_contain_text("Die Anfrage ist fehlgeschlagen")
    assert axe_violations(page) == []


def _flip_b64(value: str) -> str:
    raw = bytearray(base64.b64decode(value))
    raw[0] ^= 1
    return base64.b64encode(bytes(raw)).decode()


def _tamper_checkpoint(route: Route) -> None:
    response = route.fetch()
    body: dict[str, Any] = response.json()
    forged = _flip_b64(body["root"])
    body["checkpoint"] = body["checkpoint"].replace(body["root"], forged)
    body["root"] = forged
    route.fulfill(response=response, json=body)


def _tamper_consistency(route: Route) -> None:
    response = route.fetch()
    body: dict[str, Any] = response.json()
    body["proof"][0] = _flip_b64(body["proof"][0])
    route.fulfill(response=response, json=body)


@pytest.mark.parametrize(
    ("pattern", "handler"),
    [
        ("**/v1/audit/checkpoint", _tamper_checkpoint),
        ("**/v1/audit/proofs/consistency*", _tamper_consistency),
    ],
    ids=["checkpoint", "consistency-proof"],
)
def test_a_tampered_log_shows_as_not_verified(
    page: Page, seeded: None, pattern: str, handler: Any
) -> None:
    page.route(pattern, handler)
    _dpo_console(page)
    status = page.locator("#verify-status")
    expect(status).to_have_attribute("data-state", "not-verified", timeout=20_000)
    expect(status).to_contain_text("Nicht verifiziert")
    expect(page.locator("#checkpoints tbody tr[data-ok=false]")).to_have_count(1)
    assert page.get_by_role("button", name="Den neuesten Checkpoint mitsignieren").is_disabled()
    assert axe_violations(page) == []
    page.unroute(pattern)
    page.get_by_role("button", name="Erneut prüfen").click()
    expect(status).to_have_attribute("data-state", "verified", timeout=20_000)


def test_the_dpo_co_signs_the_latest_checkpoint(page: Page, seeded: None) -> None:
    _dpo_console(page)
    expect(page.locator("#verify-status")).to_have_attribute("data-state", "verified")
    cosign = page.get_by_role("button", name="Den neuesten Checkpoint mitsignieren")
    expect(cosign).to_be_disabled()  # no key yet
    page.get_by_label("Name Ihres Schlüssels (z. B. dpo.example.org/jane)").fill("bad name")
    page.get_by_role("button", name="Meinen Mitsignatur-Schlüssel erzeugen").click()
    expect(page.locator("#cosign-name")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#cosign-verifier-key")).to_have_text("")
    page.get_by_label("Name Ihres Schlüssels (z. B. dpo.example.org/jane)").fill("dpo.example/jane")
    page.get_by_role("button", name="Meinen Mitsignatur-Schlüssel erzeugen").click()
    expect(page.locator("#cosign-verifier-key")).to_contain_text("dpo.example/jane+")
    expect(cosign).to_be_enabled()
    cosign.click()
    expect(page.locator("#cosign-result")).to_contain_text("als dpo.example/jane mitsigniert")
    expect(page.locator("#cosigned-list li[data-ok=true]")).to_contain_text(
        "dpo.example/jane: gültig"
    )
    assert axe_violations(page) == []
    # the key stays in this browser: a reload can co-sign again without a new key
    page.reload()
    expect(page.locator("#cosign-verifier-key")).to_contain_text("dpo.example/jane+")
    expect(page.locator("#verify-status")).to_have_attribute("data-state", "verified")


def test_the_register_is_a_readable_page(page: Page) -> None:
    page.goto("/login?next=/dpo/register")
    sign_in(page, "demo-dpo")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Verzeichnis von Verarbeitungstätigkeiten"
    )
    expect(page.locator("section.register-section").first).to_contain_text("Zweck")
    assert page.locator("#retention tbody tr").count() > 3
    assert axe_violations(page) == []


@pytest.mark.parametrize("path", ["/dpo", "/dpo/register"])
def test_the_console_reflows_at_320_px(browser: Browser, portal_server: str, path: str) -> None:
    context = browser.new_context(base_url=portal_server, viewport={"width": 320, "height": 800})
    page = context.new_page()
    page.goto(f"/login?next={path}")
    sign_in(page, "demo-dpo")
    page.wait_for_load_state("networkidle")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    context.close()
