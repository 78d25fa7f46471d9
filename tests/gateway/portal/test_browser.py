"""The portal in Debian's Chromium (Playwright) against a real server with the dev IdP:
axe-core on every page and state (WCAG 2.1 AA, 0 violations), the keyboard alone, 320 px
and 200 % zoom, no CSP violation, and login, step-up, session expiry and logout."""

from __future__ import annotations

import os
import re
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

pytestmark = pytest.mark.browser

WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
PUBLIC_PAGES = ("/", "/easy-read", "/accessibility", "/imprint", "/privacy", "/apply")
LANGUAGES = ("de", "en", "ar-XB")
SCREENSHOTS = os.environ.get("OZG_PORTAL_SCREENSHOTS")  # a directory, e.g. docs/screenshots


@pytest.fixture
def context(browser: Browser, portal_server: str, axe_source: str) -> Iterator[BrowserContext]:
    context = browser.new_context(
        base_url=portal_server, viewport={"width": 1280, "height": 900}, locale="de-DE"
    )
    context.add_init_script(script=axe_source)  # outside the page's CSP, as an extension would
    yield context
    context.close()


@pytest.fixture
def page(context: BrowserContext) -> Iterator[Page]:
    page = context.new_page()
    problems: list[str] = []
    page.on(
        "console",
        lambda m: problems.append(m.text) if m.type == "error" else None,
    )
    page.on("pageerror", lambda e: problems.append(str(e)))
    yield page
    assert [p for p in problems if "Content Security Policy" in p or "Refused" in p] == []


def axe_violations(page: Page) -> list[dict[str, Any]]:
    result = page.evaluate(
        "async (tags) => (await axe.run(document, {runOnly: {type: 'tag', values: tags}}))"
        ".violations.map(v => ({id: v.id, help: v.help, nodes: v.nodes.map(n => n.target)}))",
        WCAG_AA,
    )
    return list(result)


def set_language(context: BrowserContext, base: str, code: str) -> None:
    context.add_cookies([{"name": "ozg_lang", "value": code, "url": base}])


def sign_in(page: Page, user: str = "demo-applicant") -> None:
    page.get_by_label("User name").fill(user)
    page.get_by_label("Password").fill(user)
    page.get_by_role("button", name="Sign in").click()


def shoot(page: Page, name: str) -> None:
    if SCREENSHOTS:
        Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SCREENSHOTS) / f"{name}.png"), full_page=True)


# --------------------------------------------------------------------------- accessibility
@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("path", PUBLIC_PAGES)
def test_every_public_page_passes_axe(
    context: BrowserContext, page: Page, portal_server: str, path: str, language: str
) -> None:
    set_language(context, portal_server, language)
    page.goto(path)
    expect(page.locator("html")).to_have_attribute("lang", language)
    expect(page.locator("html")).to_have_attribute("dir", "rtl" if language == "ar-XB" else "ltr")
    assert axe_violations(page) == []
    if path == "/" and language in ("de", "en"):
        shoot(page, f"start-{language}")
    if path == "/" and language == "ar-XB":
        shoot(page, "start-pseudo-rtl")


def test_the_docs_render_offline(page: Page) -> None:
    page.goto("/docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("ozg-commons")
    expect(page.get_by_role("button", name="Authorize")).to_be_visible()
    page.goto("/redoc")
    expect(page.locator("redoc h1").first).to_contain_text("ozg-commons", timeout=20_000)


@pytest.mark.parametrize("width", [320, 640])  # 640 CSS px = 1280 px at 200 % zoom
@pytest.mark.parametrize("path", ["/", "/easy-read", "/accessibility", "/imprint"])
def test_pages_reflow_at_320_px_and_200_percent_zoom(
    browser: Browser, portal_server: str, path: str, width: int
) -> None:
    context = browser.new_context(base_url=portal_server, viewport={"width": width, "height": 800})
    page = context.new_page()
    page.goto(path)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    if width == 320 and path == "/":
        shoot(page, "start-320px")
    context.close()


def test_the_keyboard_alone_reaches_everything_in_order_with_visible_focus(page: Page) -> None:
    page.goto("/")
    expected = page.evaluate(
        "[...document.querySelectorAll('a[href], button, input:not([type=hidden]), video')].length"
    )
    seen: list[str] = []
    positions: list[int] = []
    in_view = (
        "() => { const b = document.activeElement.getBoundingClientRect();"
        " return b.bottom > 0 && b.top < innerHeight && b.right > 0 && b.left < innerWidth; }"
    )
    for _ in range(expected):
        page.keyboard.press("Tab")
        page.wait_for_function(in_view, timeout=3000)  # smooth scrolling may still run
        focus = page.evaluate(
            """() => {
              const el = document.activeElement;
              const all = [...document.querySelectorAll('*')];
              const style = getComputedStyle(el);
              const box = el.getBoundingClientRect();
              return {
                tag: el.tagName, text: (el.textContent || '').trim().slice(0, 40),
                index: all.indexOf(el),
                outline: style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2,
                visible: box.width > 0 && box.height > 0 && box.bottom > 0 &&
                         box.top < innerHeight && box.right > 0 && box.left < innerWidth,
              };
            }"""
        )
        assert focus["tag"] != "BODY", f"focus lost after {seen}"
        assert focus["outline"], f"no visible focus indicator on {focus}"
        assert focus["visible"], f"focused element not scrolled into view: {focus}"
        seen.append(focus["text"])
        positions.append(focus["index"])
    assert positions == sorted(positions), "focus order does not follow the reading order"
    assert seen[0] in ("Zum Hauptinhalt springen", "Skip to main content")
    # the skip link jumps to the main content
    page.goto("/")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"


# --------------------------------------------------------------------------- sessions
def test_login_step_up_and_logout_in_the_browser(page: Page) -> None:
    page.goto("/")
    page.get_by_role("link", name="Anmelden").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in to your account")
    assert axe_violations(page) == []  # the development login page
    sign_in(page, "demo-applicant")
    page.goto("/account")
    expect(page.locator("#trust-level")).to_have_text("basis")
    assert axe_violations(page) == []
    shoot(page, "account")
    # a page that demands trust level hoch sends the user through the step-up and back
    page.get_by_role("link", name="Mit Vertrauensniveau hoch anmelden").click()
    expect(page.get_by_text("Trust level hoch requested.")).to_be_visible()
    sign_in(page, "demo-applicant")
    expect(page).to_have_url(re.compile(r"/account/hoch$"))
    expect(page.locator("#trust-level")).to_have_text("hoch")
    assert axe_violations(page) == []
    page.get_by_role("button", name="Abmelden").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sie sind abgemeldet")
    assert axe_violations(page) == []
    page.goto("/account")
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in to your account")


def test_a_wrong_password_is_announced_and_passes_axe(page: Page) -> None:
    page.goto("/login?next=/account")
    page.get_by_label("User name").fill("demo-applicant")
    page.get_by_label("Password").fill("wrong")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_have_text("Invalid username or password.")
    assert axe_violations(page) == []


def test_an_expired_session_brings_the_user_back_to_the_page(
    page: Page, portal_database: Path
) -> None:
    page.goto("/login?next=/account")
    sign_in(page)
    expect(page.locator("#trust-level")).to_have_text("basis")
    past = (datetime.now(UTC) - timedelta(hours=2)).strftime("%Y-%m-%d %H:%M:%S.%f")
    with sqlite3.connect(portal_database) as db:
        db.execute("UPDATE portal_session SET last_seen_at = ?", (past,))
    page.goto("/account?tab=documents")
    expect(page.get_by_role("heading", level=1)).to_have_text("Ihre Sitzung ist abgelaufen")
    assert axe_violations(page) == []
    page.get_by_role("link", name="Wieder anmelden").click()
    sign_in(page)
    expect(page).to_have_url(re.compile(r"/account\?tab=documents$"))
    expect(page.locator("#trust-level")).to_have_text("basis")
