"""/documents in Debian's Chromium against a real server of its own (fresh data directory):
the vault key made in the browser (zxcvbn refuses weak passphrases, the recovery code is
shown once), locked, unlocked on another device with the passphrase and with the recovery
code, ``?unlock=1&next=``; documents uploaded through the chunked API (an aborted piece is
resumed), listed with their decrypted names, downloaded, shared, deleted with a receipt;
axe-core on every state."""

from __future__ import annotations

import os
import re
import struct
import subprocess
import sys
import time
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pikepdf
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Route, expect

from tests.gateway.portal.browserpage import HeapSampler
from tests.gateway.portal.conftest import ROOT, _free_port
from tests.vault import test_sanitize as fixtures
from vault import sanitize

pytestmark = pytest.mark.browser

WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
PASSPHRASE = "Wolke Tinte Fahrrad Kompass 1987"
FILE_NAME = "Kontoauszug Übersicht.bin"


def _port() -> int:
    """A free port for this module's own server: the OS's choice (or OZG_TEST_PORTS), never
    a fixed range that two test workers would both take the first port of."""
    return _free_port()


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
    requested: list[str] = []
    page.on("request", lambda r: requested.append(r.url))
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
    expect(page.locator("#sanitize-summary")).to_have_text(
        "This type of file is not checked; it is encrypted as it is."
    )
    page.get_by_role("button", name="Continue and upload").click()
    expect(page.locator("#upload-progress")).to_be_visible()
    assert axe(page) == []
    expect(page.locator("#page-status")).to_contain_text("encrypted and stored", timeout=90_000)
    assert aborted == [str(4 * 1024 * 1024)]
    assert puts.count(aborted[0]) == 2  # the same piece again, after the break
    row = page.locator("#documents-rows tr").filter(has_text=FILE_NAME)
    expect(row).to_have_count(1)
    expect(row).to_contain_text("application/octet-stream")
    expect(row).to_contain_text("10.2 MB")
    assert axe(page) == []
    # the server never saw the name
    listed = page.evaluate("fetch('/v1/vault/documents').then(r => r.text())")
    assert "Kontoauszug" not in listed
    # the name came from the metadata-only read: nothing of the content was fetched for it
    assert [u for u in requested if "/v1/vault/documents/metadata" in u]
    assert not [u for u in requested if u.endswith("/content")]
    doc_id = row.get_attribute("data-document-id")
    log = page.evaluate("fetch('/v1/me/access-log?limit=200').then(r => r.json())")
    actions = [e["action"] for e in log["entries"] if e.get("document_id") == doc_id]
    assert "vault.document.metadata_read" in actions
    assert "vault.document.read" not in actions
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


def test_a_hostile_pdf_is_sanitized_in_the_browser_before_it_is_sealed(
    browser: Browser, server: str, axe_source: str, tmp_path: Path
) -> None:
    context = new_context(browser, server, axe_source, accept_downloads=True)
    page = open_page(context)
    sign_in(page, "demo-applicant-hoch")
    unlock_or_create(page)
    pdf = fixtures._base()
    fixtures._javascript(pdf)
    fixtures._launch(pdf)
    source = tmp_path / "Antrag.pdf"
    pdf.save(source)
    page.get_by_label("Add a document").set_input_files(str(source))
    page.get_by_role("button", name="Encrypt and upload").click()
    expect(page.locator("#sanitize-report")).to_be_visible(timeout=30_000)
    items = page.locator("#sanitize-list li")
    expect(items).to_contain_text(
        [
            "action “Launch”: 1",
            "action “URI”: 1",
            "actions run by events: 1",
            "an action run on opening: 1",
            "document properties (author, program): 1",
            "JavaScript: 1",
        ]
    )
    assert axe(page) == []
    page.get_by_role("button", name="Cancel").click()  # nothing is sent
    expect(page.locator("#sanitize-report")).to_be_hidden()
    expect(page.locator("#documents-rows tr").filter(has_text="Antrag.pdf")).to_have_count(0)
    page.get_by_role("button", name="Encrypt and upload").click()
    page.get_by_role("button", name="Continue and upload").click()
    expect(page.locator("#page-status")).to_contain_text("encrypted and stored", timeout=60_000)
    row = page.locator("#documents-rows tr").filter(has_text="Antrag.pdf")
    with page.expect_download() as got:
        row.get_by_role("button", name=re.compile("^Download")).click()
    cleaned = Path(got.value.path())
    sanitize.revalidate_pdf(cleaned)  # what the authority's client checks
    assert fixtures.CANARY not in cleaned.read_bytes()
    # a PDF that is encrypted is refused, with a translated reason
    locked = tmp_path / "locked.pdf"
    fixtures._save(tmp_path, lambda p: None, encryption=pikepdf.Encryption(owner="o", user="u"))
    (tmp_path / "in.pdf").replace(locked)
    page.get_by_label("Add a document").set_input_files(str(locked))
    page.get_by_role("button", name="Encrypt and upload").click()
    expect(page.locator("#page-error")).to_contain_text("password", timeout=30_000)
    assert axe(page) == []
    no_csp_problems(page)
    context.close()


def _start_case_with_authority(page: Page, authority: str) -> int:
    return int(
        page.evaluate(
            """async (authority) => {
              const csrf = document.querySelector('meta[name="csrf-token"]').content;
              const headers = {"Content-Type": "application/json", "X-CSRF-Token": csrf};
              const started = await fetch("/v1/cases", {method: "POST", headers,
                body: JSON.stringify({flow_id: "employment"})});
              const id = (await started.json()).id;
              const chosen = await fetch(`/v1/cases/${id}/authority`, {method: "PUT", headers,
                body: JSON.stringify({authority})});
              return chosen.status;
            }""",
            authority,
        )
    )


def test_sharing_with_the_authority_of_an_application_and_withdrawing(
    browser: Browser, server: str, axe_source: str, tmp_path: Path
) -> None:
    context = new_context(browser, server, axe_source)
    page = open_page(context)
    sign_in(page, "demo-applicant-hoch")
    unlock_or_create(page)
    assert _start_case_with_authority(page, "tf") == 200
    source = tmp_path / "Arbeitsvertrag.txt"
    source.write_text("Arbeitsvertrag", encoding="utf-8")
    page.get_by_label("Add a document").set_input_files(str(source))
    page.get_by_role("button", name="Encrypt and upload").click()
    page.get_by_role("button", name="Continue and upload").click()
    expect(page.locator("#page-status")).to_contain_text("encrypted and stored", timeout=60_000)
    row = page.locator("#documents-rows tr").filter(has_text="Arbeitsvertrag.txt")
    row.get_by_label(re.compile("^Authority of an application")).select_option("tf")
    row.get_by_role("button", name=re.compile("^Share")).click()
    row = page.locator("#documents-rows tr").filter(has_text="Arbeitsvertrag.txt")
    expect(row.get_by_role("button", name=re.compile("^Withdraw"))).to_be_visible(timeout=30_000)
    listed = page.evaluate("fetch('/v1/vault/documents').then(r => r.json())")
    assert [
        d["shared_with"] for d in listed if d["id"] == row.get_attribute("data-document-id")
    ] == [["tf"]]
    assert axe(page) == []
    row.get_by_role("button", name=re.compile("^Withdraw")).click()
    expect(row.get_by_role("button", name=re.compile("^Share"))).to_be_visible(timeout=30_000)
    listed = page.evaluate("fetch('/v1/vault/documents').then(r => r.json())")
    assert all(d["shared_with"] == [] for d in listed)
    no_csp_problems(page)
    context.close()


def _large_png(path: Path, width: int = 8192, height: int = 8533) -> None:
    """A real PNG of random pixels (stored deflate: 200 MiB at the default size, 70 megapixels,
    under Pillow's limit) with a tEXt chunk for the sanitizer to drop."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    deflate = zlib.compressobj(level=0)
    with path.open("wb") as handle:
        handle.write(b"\x89PNG\r\n\x1a\n")
        handle.write(chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)))
        handle.write(chunk(b"tEXt", b"Comment\x00" + fixtures.CANARY))
        rows = 128
        for top in range(0, height, rows):
            n = min(rows, height - top)
            raw = b"".join(b"\x00" + os.urandom(width * 3) for _ in range(n))
            data = deflate.compress(raw)
            if data:
                handle.write(chunk(b"IDAT", data))
        handle.write(chunk(b"IDAT", deflate.flush()))
        handle.write(chunk(b"IEND", b""))


@pytest.mark.timeout(900)  # its own deadline for the upload is 600 s (two test workers)
def test_the_js_heap_stays_bounded_while_a_large_image_is_uploaded(
    browser: Browser, server: str, axe_source: str, tmp_path: Path
) -> None:
    """A 200 MiB PNG through the page: sanitized streamed (its tEXt chunk dropped), hashed,
    sealed in the page's Web Workers and sent in pieces. The JS heap of the page **and its
    workers** (CDP Runtime.getHeapUsage: used heap plus ArrayBuffer backing stores, sampled
    every 50 ms, summed) stays under 64 MiB from the click to the end (the idle page included)."""
    context = new_context(browser, server, axe_source)
    page = open_page(context)
    sign_in(page, "demo-applicant-hoch")
    unlock_or_create(page)
    source = tmp_path / "scan.png"
    _large_png(source)
    sampler = HeapSampler(page)
    # four cores, as the page sees it: sealStream seals in two workers (on two it would seal
    # on the page's thread), the case whose heap is the larger
    sampler.cdp.send("Emulation.setHardwareConcurrencyOverride", {"hardwareConcurrency": 4})
    sampler.cdp.send("HeapProfiler.collectGarbage")
    baseline = sampler.sample()
    page.get_by_label("Add a document").set_input_files(str(source))
    page.get_by_role("button", name="Encrypt and upload").click()
    report = page.locator("#sanitize-report")
    status = page.locator("#page-status")
    deadline = time.monotonic() + 600
    while not report.is_visible() and not status.is_visible() and time.monotonic() < deadline:
        sampler.sample()
        time.sleep(0.05)
    expect(page.locator("#sanitize-list")).to_contain_text("tEXt")
    page.get_by_role("button", name="Continue and upload").click()
    workers = 0
    while not status.is_visible() and time.monotonic() < deadline:
        sampler.sample()
        workers = max(workers, len(sampler.workers))
        time.sleep(0.05)
    expect(status).to_contain_text("encrypted and stored")
    peak = sampler.peak / 2**20
    print(f"JS heap: idle page {baseline / 2**20:.1f} MiB, peak {peak:.1f} MiB")
    assert workers >= 1  # the sealing ran in workers, and their heap was counted
    assert peak < 64, peak  # the file is 200 MiB; measured: idle 13 MiB, peak 24 MiB
    context.close()
