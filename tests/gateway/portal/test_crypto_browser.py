"""The same modules in real Chromium (Playwright, Debian's chromium), behind the portal's
CSP: seal in the browser and open in Python, seal in Python and open in the browser, and
the vault key created with Argon2id (WASM under 'wasm-unsafe-eval'), kept non-extractable in
IndexedDB across a reload, and used to open a document."""

from __future__ import annotations

import hashlib
import os

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from tests.gateway.portal.browserpage import chromium_available, open_page
from tests.gateway.portal.jsharness import pkcs8_hex
from vault import envelope
from vault.client import keys
from vault.recipients import public_jwk

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def page():  # type: ignore[no-untyped-def]
    reason = chromium_available()
    if reason:
        pytest.skip(reason)
    with open_page() as p:
        yield p


def test_chromium_seals_and_python_opens_and_back(page) -> None:  # type: ignore[no-untyped-def]
    key = ec.generate_private_key(ec.SECP256R1())
    data = os.urandom(3 * 65536 + 99)
    sealed = bytes.fromhex(
        page.evaluate("([h, j]) => ozgTest.seal(h, j)", [data.hex(), public_jwk(key.public_key())])
    )
    meta, plain = envelope.open_bytes(sealed, key)
    assert plain == data
    assert meta.filename == "Übersicht.pdf"

    digest = "sha-256:" + hashlib.sha256(data).hexdigest()
    back = envelope.seal_bytes(
        data, [key.public_key()], filename="b.png", media_type="image/png", content_hash=digest
    )
    opened = page.evaluate("([e, k]) => ozgTest.open(e, k)", [back.hex(), pkcs8_hex(key)])
    assert bytes.fromhex(opened["plainHex"]) == data
    assert opened["metadata"]["content_hash"] == digest
    assert page.errors == []


@pytest.mark.parametrize(
    "size",
    [0, 1, 65536, 16 * 65536, 16 * 65536 + 1, 3 * 1024 * 1024 + 99],
    ids=["empty", "one-byte", "one-chunk", "one-job", "job-and-a-byte", "several-jobs"],
)
def test_a_file_sealed_by_workers_opens_in_python(page, tmp_path, size: int) -> None:  # type: ignore[no-untyped-def]
    """A File is read and sealed by Web Workers in jobs of 16 chunks; the records come back
    in order, the last chunk (and only it) marked final, as the Python client reads them."""
    key = ec.generate_private_key(ec.SECP256R1())
    data = os.urandom(size)
    path = tmp_path / "scan.png"
    path.write_bytes(data)
    page.set_input_files("#file", str(path))
    for workers in (3, 0):  # in workers, and on the page's thread: the same format
        sealed = bytes.fromhex(
            page.evaluate(
                "([j, w]) => ozgTest.sealFile(j, w)", [public_jwk(key.public_key()), workers]
            )
        )
        meta, plain = envelope.open_bytes(sealed, key)
        assert plain == data
        assert (meta.filename, meta.size) == ("scan.png", size)
    assert page.errors == []


def test_vault_key_lives_non_extractable_in_indexeddb(page) -> None:  # type: ignore[no-untyped-def]
    made = page.evaluate(
        "([p, params]) => ozgTest.createAndStore(p, params)",
        ["eine lange Passphrase für den Tresor", dict(keys.ARGON2_MINIMUM)],
    )
    # Python (another device) unlocks what the browser wrapped, both ways.
    unlocked = keys.unwrap_private_key(
        made["register"]["wrapped_by_passphrase"],
        made["kid"],
        passphrase="eine lange Passphrase für den Tresor",
    )
    keys.unwrap_private_key(
        made["register"]["wrapped_by_recovery"], made["kid"], recovery_code=made["recoveryCode"]
    )
    data = os.urandom(10_000)
    sealed = envelope.seal_bytes(
        data, [unlocked.public_key()], filename="c.pdf", media_type="application/pdf"
    )
    page.reload()
    page.wait_for_function("window.ozgTest !== undefined")
    got = page.evaluate("(e) => ozgTest.openWithStored(e)", sealed.hex())
    assert got["kid"] == made["kid"]
    assert got["extractable"] is False
    assert got["exported"] == "refused"
    assert bytes.fromhex(got["plainHex"]) == data
    assert page.evaluate("() => ozgTest.lock()") is True
    assert page.errors == []
