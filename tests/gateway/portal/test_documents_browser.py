"""/documents in Debian's Chromium against a real server of its own (fresh data directory):
the vault key made in the browser (zxcvbn refuses weak passphrases, the recovery code is
shown once), locked, unlocked on another device with the passphrase and with the recovery
code, ``?unlock=1&next=``; documents uploaded through the chunked API (an aborted piece is
resumed), listed with their decrypted names, downloaded, shared, deleted with a receipt;
axe-core on every state."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Route, expect

from tests.gateway.portal.conftest import ROOT

pytestmark = pytest.mark.browser

WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
PASSPHRASE = "Wolke Tinte Fahrrad Kompass 1987"
FILE_NAME = "Mietvertrag Übersicht.pdf"


def _port() -> int:
    """A free port of this suite's range (OZG_TEST_PORTS=first-last, default 20500-20599)."""
    first, last = (int(p) for p in os.environ.get("OZG_TEST_PORTS", "20500-20599").split("-"))
    for port in range(first, last + 1):
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {first}-{last}")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    data_dir = tmp_path_factory.mktemp("documents-server")
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
        deadline = time.monotonic() + 240  # a busy machine: the demo PKI takes a while
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError((data_dir / "server.log").read_text())
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def new_context(browser: Browser, server: str, axe_source: str, **kw: Any) -> BrowserContext:
    context = browser.new_context(
        base_url=server, viewport={"width": 1280, "height": 900}, locale="en-GB", **kw
    )
    context.add_init_script(script=axe_source)
    return context


def open_page(context: BrowserContext) -> Page:
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.problems = problems  # type: ignore[attr-defined]
    return page


def no_csp_problems(page: Page) -> None:
    problems = page.problems  # type: ignore[attr-defined]
    assert [p for p in problems if "Content Security Policy" in p or "Refused" in p] == []


def axe(page: Page) -> list[dict[str, Any]]:
    result = page.evaluate(
        "async (tags) => (await axe.run(document, {runOnly: {type: 'tag', values: tags}}))"
        ".violations.map(v => ({id: v.id, help: v.help, nodes: v.nodes.map(n => n.target)}))",
        WCAG_AA,
    )
    return list(result)


def sign_in(page: Page, user: str, path: str = "/documents") -> None:
    page.goto(path)
    page.get_by_label("User name").fill(user)
    page.get_by_label("Password").fill(user)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(re.escape(path) + "$"))


def create_key(page: Page) -> str:
    """Make the vault key through the page; returns the recovery code it showed."""
    expect(page.locator("#state-create")).to_be_visible(timeout=20_000)
    page.locator("#state-create").get_by_label("Passphrase", exact=True).fill(PASSPHRASE)
    page.get_by_label("Repeat the passphrase").fill(PASSPHRASE)
    page.get_by_role("button", name="Create vault key").click()
    expect(page.locator("#state-recovery")).to_be_visible(timeout=60_000)
    code = page.locator("#recovery-code").inner_text()
    assert re.fullmatch(r"([A-Z2-7]{4}-){7}[A-Z2-7]{4}", code)
    page.get_by_label("I have printed or saved the recovery code.").check()
    page.get_by_role("button", name="Continue").click()
    expect(page.locator("#state-ready")).to_be_visible(timeout=20_000)
    return code


def unlock_or_create(page: Page) -> None:
    page.wait_for_selector(
        "#state-create:not([hidden]), #state-unlock:not([hidden]), #state-ready:not([hidden])",
        timeout=20_000,
    )
    if page.locator("#state-create").is_visible():
        create_key(page)
    elif page.locator("#state-unlock").is_visible():
        page.locator("#unlock-passphrase").fill(PASSPHRASE)
        page.get_by_role("button", name="Unlock", exact=True).click()
        expect(page.locator("#state-ready")).to_be_visible(timeout=60_000)


def test_the_vault_key_is_made_locked_and_unlocked_in_the_browser(
    browser: Browser, server: str, axe_source: str
) -> None:
    context = new_context(browser, server, axe_source)
    page = open_page(context)
    sign_in(page, "demo-applicant")
    expect(page.locator("#state-create")).to_be_visible(timeout=20_000)
    assert axe(page) == []
    # a weak passphrase is refused, with advice
    page.locator("#state-create").get_by_label("Passphrase", exact=True).fill("password123")
    expect(page.locator("#strength-text")).to_have_text("This passphrase is too easy to guess.")
    expect(page.locator("#strength-advice li").first).to_be_visible()
    page.get_by_label("Repeat the passphrase").fill("password123")
    page.get_by_role("button", name="Create vault key").click()
    expect(page.locator("#page-error")).to_contain_text("too easy to guess")
    assert axe(page) == []
    page.locator("#state-create").get_by_label("Passphrase", exact=True).fill(PASSPHRASE)
    expect(page.locator("#strength-text")).to_have_text("This passphrase is strong enough.")
    page.get_by_label("Repeat the passphrase").fill(PASSPHRASE + "x")
    page.get_by_role("button", name="Create vault key").click()
    expect(page.locator("#page-error")).to_contain_text("differ")
    # the key is made; the recovery code is shown once, with print and save
    page.get_by_label("Repeat the passphrase").fill(PASSPHRASE)
    page.get_by_role("button", name="Create vault key").click()
    expect(page.locator("#state-recovery")).to_be_visible(timeout=60_000)
    assert axe(page) == []
    code = page.locator("#recovery-code").inner_text()
    with page.expect_download() as saved:
        page.get_by_role("button", name="Save as file").click()
    assert code in Path(saved.value.path()).read_text(encoding="utf-8")
    expect(page.get_by_role("button", name="Continue")).to_be_disabled()
    page.get_by_label("I have printed or saved the recovery code.").check()
    page.get_by_role("button", name="Continue").click()
    expect(page.locator("#state-ready")).to_be_visible()
    expect(page.locator("#documents-empty")).to_be_visible()
    assert axe(page) == []
    # the server has the public key and the two wrapped forms, never the secrets
    stored = page.evaluate("fetch('/v1/vault/keys/me').then(r => r.json())")
    assert stored["public_jwk"]["kty"] == "EC"
    assert "d" not in stored["public_jwk"]
    for secret in (PASSPHRASE, code, code.replace("-", "")):
        assert secret not in str(stored)
    kid = stored["kid"]
    # the key stays unlocked across a reload, and is a non-extractable CryptoKey
    page.reload()
    expect(page.locator("#state-ready")).to_be_visible(timeout=20_000)
    held = page.evaluate(
        "import('/static/js/vault-session.js').then(async m => {"
        " const id = await m.currentIdentity();"
        " return {kid: id.kid, extractable: id.privateKey.extractable}; })"
    )
    assert held == {"kid": kid, "extractable": False}
    # lock: the key is gone from this browser
    page.get_by_role("button", name="Lock").click()
    expect(page.locator("#state-unlock")).to_be_visible()
    assert axe(page) == []
    assert (
        page.evaluate("import('/static/js/vault-session.js').then(m => m.currentIdentity())")
        is None
    )
    page.locator("#unlock-passphrase").fill("not the passphrase at all")
    page.get_by_role("button", name="Unlock", exact=True).click()
    expect(page.locator("#page-error")).to_contain_text("wrong", timeout=60_000)
    assert axe(page) == []
    no_csp_problems(page)
    context.close()

    # another device: unlock with the recovery code, sent back to where it was asked for
    other = new_context(browser, server, axe_source)
    page = open_page(other)
    sign_in(page, "demo-applicant", "/documents?unlock=1&next=%2Faccount")
    expect(page.locator("#state-unlock")).to_be_visible(timeout=20_000)
    page.get_by_text("I forgot my passphrase").click()
    assert axe(page) == []
    page.get_by_label("Recovery code", exact=True).fill(code.lower().replace("-", " "))
    page.get_by_role("button", name="Unlock with the recovery code").click()
    expect(page).to_have_url(re.compile(r"/account$"), timeout=60_000)
    # and with the passphrase on a third one
    page.evaluate("import('/static/js/keys.js').then(m => m.lock(new m.IndexedDbKeyStore()))")
    page.goto("/documents?unlock=1&next=https%3A%2F%2Fevil.example%2F")  # not an open redirect
    page.locator("#unlock-passphrase").fill(PASSPHRASE)
    page.get_by_role("button", name="Unlock", exact=True).click()
    expect(page).to_have_url(re.compile(r"127\.0\.0\.1:\d+/$"), timeout=60_000)
    no_csp_problems(page)
    other.close()


def test_documents_upload_resume_list_download_and_delete(
    browser: Browser, server: str, axe_source: str, tmp_path: Path
) -> None:
    context = new_context(browser, server, axe_source, accept_downloads=True)
    page = open_page(context)
    sign_in(page, "demo-applicant-hoch")
    unlock_or_create(page)
    data = bytes(range(256)) * 40_000  # 10 MB: three pieces of 4 MiB
    source = tmp_path / FILE_NAME
    source.write_bytes(data)
    # the second piece's connection breaks once; the page asks where to resume and goes on
    aborted: list[str] = []
    puts: list[str] = []

    def flaky(route: Route) -> None:
        if route.request.method == "PUT":
            offset = route.request.headers.get("upload-offset", "")
            puts.append(offset)
            if offset != "0" and not aborted:
                aborted.append(offset)
                route.abort("connectionreset")
                return
        route.continue_()

    page.route(re.compile(r"/v1/vault/uploads/[^/]+$"), flaky)
    page.get_by_label("Add a document").set_input_files(str(source))
    page.get_by_role("button", name="Encrypt and upload").click()
    expect(page.locator("#upload-progress")).to_be_visible()
    assert axe(page) == []
    expect(page.locator("#page-status")).to_contain_text("encrypted and stored", timeout=90_000)
    assert aborted == [str(4 * 1024 * 1024)]
    assert puts.count(aborted[0]) == 2  # the same piece again, after the break
    row = page.locator("#documents-rows tr").filter(has_text=FILE_NAME)
    expect(row).to_have_count(1)
    expect(row).to_contain_text("application/pdf")
    expect(row).to_contain_text("10.2 MB")
    assert axe(page) == []
    # the server never saw the name
    listed = page.evaluate("fetch('/v1/vault/documents').then(r => r.text())")
    assert "Mietvertrag" not in listed
    # download: decrypted in the browser, byte for byte
    with page.expect_download() as got:
        row.get_by_role("button", name=re.compile("^Download")).click()
    assert got.value.suggested_filename == FILE_NAME
    assert Path(got.value.path()).read_bytes() == data
    # delete, with a confirmation and a signed receipt
    row.get_by_role("button", name=re.compile("^Delete")).click()
    expect(page.locator("#delete-dialog")).to_be_visible()
    assert axe(page) == []
    page.get_by_role("button", name="Cancel").click()
    expect(row).to_have_count(1)
    row.get_by_role("button", name=re.compile("^Delete")).click()
    page.get_by_role("button", name="Delete for good").click()
    expect(page.locator("#receipt")).to_be_visible()
    receipt = page.locator("#receipt-text").inner_text()
    assert '"kind": "vault-deletion"' in receipt
    with page.expect_download() as saved:
        page.get_by_role("button", name="Save the receipt").click()
    assert '"receipt"' in Path(saved.value.path()).read_text(encoding="utf-8")
    expect(page.locator("#documents-rows tr").filter(has_text=FILE_NAME)).to_have_count(0)
    assert axe(page) == []
    no_csp_problems(page)
    context.close()


def test_the_documents_page_reflows_at_320_px(
    browser: Browser, server: str, axe_source: str
) -> None:
    context = new_context(browser, server, axe_source)
    page = open_page(context)
    page.set_viewport_size({"width": 320, "height": 800})
    sign_in(page, "demo-applicant-hoch")
    unlock_or_create(page)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    context.close()
