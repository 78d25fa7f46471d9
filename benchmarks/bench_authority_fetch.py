"""The authority's fetch of many cases: constant memory, and its cost against the raw
primitives, in one run.

    .venv/bin/python benchmarks/bench_authority_fetch.py                 # 10 x 5 MB PDFs a case
    OZG_BENCH_SMALL=1 .venv/bin/python benchmarks/bench_authority_fetch.py   # 3 x 256 KB

A real server process (uvicorn, SQLite, filesystem store, the development IdP) serves the
FIT-Connect API for the demo destination ``tf``. The benchmark submits cases through the API
as the ``demo-flow`` sender (each: the employment flow's example form, an ozg-commons
manifest, N PDF documents of random content), then runs ``ozg-commons authority fetch``
(client credentials ``demo-subscriber-tf``) in a subprocess, for 10 cases and then for 100
more, and reports the wall time and the fetch process's peak RSS for each.

Baseline, in the same run over the same bytes: the raw primitives, in memory, one JWE at a
time: RSA-OAEP-256 unwrap of the CEK, AES-256-GCM decryption and SHA-512 of the plaintext
(``raw``); and the same plus the base64url decoding that every compact JWE needs
(``raw+b64``). Targets: ``fetch_ratio`` = fetch time / raw ≤ 1.5; peak RSS of the 100-case
run no larger than the 10-case run's (+10 %).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SMALL = os.environ.get("OZG_BENCH_SMALL") == "1"
DOCS = 3 if SMALL else 10
DOC_BYTES = 256 * 1024 if SMALL else 5 * 1024 * 1024
DESTINATION = "6b7a1f0e-2d8c-4c53-9a7e-0f1e2d3c4b5a"
LEIKA = "urn:de:fim:leika:leistung:99010003001000"
TOKEN_PATH = "/dev-idp/realms/ozg-dev/protocol/openid-connect/token"  # noqa: S105 - a path


# --------------------------------------------------------------------------- server
def serve(data_dir: Path, port: int) -> None:
    """The server process: the app with one destination (tf) whose keys are in data_dir."""
    import uvicorn

    from commons.settings import Settings
    from gateway.app import create_app
    from gateway.delivery.destinations import Destination, InMemoryDestinations, Service
    from gateway.migrations import upgrade

    keys = json.loads((data_dir / "keys.json").read_text())
    settings = Settings(
        data_dir=data_dir / "srv",
        public_base_url=f"http://127.0.0.1:{port}",
        sections={"delivery": {"signing_key": keys["delivery_pem"]}},
    )
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(settings.effective_database_url)
    app = create_app(settings)
    app.state.delivery.directory = InMemoryDestinations(
        [
            Destination(
                destination_id=DESTINATION,
                authority="tf",
                encryption_jwk=keys["encryption_jwk"],
                signature_jwk=keys["signing_jwk"],
                metadata_versions=("1.0.0",),
                services=(Service(LEIKA, "Aufenthaltserlaubnis zur Beschäftigung"),),
            )
        ]
    )
    uvicorn.run(app, host="127.0.0.1", port=port, log_config=None, access_log=False)


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _keys(work: Path) -> dict[str, Any]:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    from gateway.delivery.runtime import pem_of
    from gateway.fitconnect.demo import make_self_signed_key

    enc = rsa.generate_private_key(65537, 4096)
    sig = rsa.generate_private_key(65537, 4096)
    now = __import__("datetime").datetime.now(__import__("datetime").UTC)
    for name, key in (("tf-encryption.key.pem", enc), ("tf-signing.key.pem", sig)):
        (work / name).write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
    keys = {
        "encryption_jwk": make_self_signed_key(enc, "tf", now),
        "signing_jwk": make_self_signed_key(sig, "tf", now, purpose="verify"),
        "delivery_pem": pem_of(rsa.generate_private_key(65537, 4096)),
    }
    (work / "keys.json").write_text(json.dumps(keys))
    return keys


# --------------------------------------------------------------------------- documents
def _pdf(path: Path, size: int) -> None:
    """A valid PDF of about ``size`` bytes: one page and one incompressible stream."""
    import pikepdf

    pdf = pikepdf.new()
    pdf.add_blank_page(page_size=(595, 842))
    pdf.Root.Payload = pdf.make_stream(os.urandom(size - 600))
    pdf.save(path, compress_streams=False)


class Sender:
    """Submits cases as ``demo-flow``; each document's JWE is made once and uploaded for
    every case (the server cannot tell, and the fetch decrypts each copy)."""

    def __init__(self, base: str, work: Path, keys: dict[str, Any]) -> None:
        import httpx

        from gateway.fitconnect import encrypt_stream
        from tests.gateway.flows.conftest import definition, example

        token = httpx.post(
            base + TOKEN_PATH,
            data={"grant_type": "client_credentials", "client_id": "demo-flow",
                  "client_secret": "demo-flow-secret"},
        ).json()["access_token"]  # fmt: skip
        self.http = httpx.Client(
            base_url=base + "/fit-connect/v1",
            headers={"Authorization": f"Bearer {token}"},
            timeout=300,
        )
        self.jwk = keys["encryption_jwk"]
        self.form = json.dumps(example("employment")).encode()
        self.schema_uri = definition("employment").public_json()["data_schema_uri"]
        self.docs: list[tuple[Path, str, int]] = []
        for n in range(DOCS):
            plain, jwe = work / f"doc{n}.pdf", work / f"doc{n}.jwe"
            _pdf(plain, DOC_BYTES)
            with plain.open("rb") as source, jwe.open("wb") as out:
                result = encrypt_stream(source, out, self.jwk, "application/pdf")
            self.docs.append((jwe, result.plaintext_sha512, result.plaintext_length))
            plain.unlink()

    def send(self) -> None:
        from gateway.fitconnect import Attachment, build_metadata, dumps_metadata, encrypt

        ids = [str(uuid.uuid4()) for _ in self.docs]
        data = encrypt(self.form, self.jwk, "application/json")
        metadata = dumps_metadata(
            build_metadata(
                "1.0.0",
                data_hash=data.plaintext_sha512,
                data_schema_uri=self.schema_uri,
                data_mime="application/json",
                attachments=[Attachment(i, d[1], "application/pdf", "attachment", f"d{n}.pdf")
                             for n, (i, d) in enumerate(zip(ids, self.docs, strict=True))],
                public_service={"identifier": LEIKA, "name": "Aufenthaltserlaubnis"},
            )
        )  # fmt: skip
        parts = [{"attachmentId": i, "documentType": "passport", "size": d[2]}
                 for i, d in zip(ids, self.docs, strict=True)]  # fmt: skip
        parts += [
            {"part": "data", "documentType": "form", "size": len(self.form)},
            {"part": "metadata", "documentType": "fit-connect-metadata", "size": len(metadata)},
        ]
        created = self.http.post(
            "/submissions",
            json={
                "destinationId": DESTINATION,
                "announcedAttachments": ids,
                "publicService": {"identifier": LEIKA, "name": "Aufenthaltserlaubnis"},
                "ozgManifest": {"format": "ozg-manifest/1", "caseId": str(uuid.uuid4()),
                                "flow": "employment", "authority": "tf", "parts": parts},
            },
        )  # fmt: skip
        created.raise_for_status()
        sid = created.json()["submissionId"]
        for attachment_id, (jwe, _hash, _size) in zip(ids, self.docs, strict=True):
            with jwe.open("rb") as body:
                self.http.put(
                    f"/submissions/{sid}/attachments/{attachment_id}",
                    content=body,
                    headers={"Content-Type": "application/jose"},
                ).raise_for_status()
        self.http.put(
            f"/submissions/{sid}",
            json={
                "encryptedMetadata": encrypt(metadata, self.jwk, "application/json").compact,
                "encryptedData": data.compact,
            },
        ).raise_for_status()


# --------------------------------------------------------------------------- measuring
FETCH = r"""
import json, resource, sys, time
sys.argv = ["ozg-commons", "authority", *sys.argv[1:]]
from gateway.cli import app
t = time.perf_counter()
try:
    app()
except SystemExit as exc:
    code = exc.code
seconds = time.perf_counter() - t
sys.stderr.write(json.dumps({"code": code, "seconds": seconds,
    "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}) + "\n")
"""


def fetch(base: str, work: Path, out: Path) -> dict[str, Any]:
    args = ["fetch", "--authority", "tf", "--key-file", str(work / "tf-encryption.key.pem"),
            "--destination", DESTINATION, "--out", str(out), "--server", base,
            "--client-id", "demo-subscriber-tf", "--client-secret", "demo-subscriber-tf-secret",
            "--json"]  # fmt: skip
    done = subprocess.run(
        [sys.executable, "-c", FETCH, *args], capture_output=True, text=True, cwd=ROOT,
        check=False,
    )  # fmt: skip
    result: dict[str, Any] = json.loads(done.stderr.strip().splitlines()[-1])
    report = json.loads(done.stdout)
    statuses = [r["status"] for r in report["results"]]
    if result["code"] not in (0, None) or set(statuses) != {"accepted"}:
        raise SystemExit(f"fetch failed: {done.stderr[-2000:]}")
    result["cases"] = len(statuses)
    return result


def raw(work: Path, cases: int) -> tuple[float, float]:
    """Seconds for the raw primitives over ``cases`` cases' JWEs, without and with the
    base64url decoding (each document's JWE parsed once, then decrypted ``cases`` times)."""
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    key = serialization.load_pem_private_key(
        (work / "tf-encryption.key.pem").read_bytes(), password=None
    )
    oaep = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)
    table = bytes.maketrans(b"-_", b"+/")

    def b64(part: bytes) -> bytes:
        return binascii.a2b_base64(part.translate(table) + b"=" * (-len(part) % 4))

    parsed = []
    texts = []
    for n in range(DOCS):
        text = (work / f"doc{n}.jwe").read_bytes()
        header, wrapped, iv, body, tag = text.split(b".")
        texts.append(text)
        parsed.append((header, b64(wrapped), b64(iv), b64(body) + b64(tag)))
    plain_seconds = 0.0
    b64_seconds = 0.0
    for _ in range(cases):
        t = time.perf_counter()
        for header, wrapped, iv, sealed in parsed:
            cek = key.decrypt(wrapped, oaep)  # type: ignore[union-attr]
            hashlib.sha512(AESGCM(cek).decrypt(iv, sealed, header)).digest()
        plain_seconds += time.perf_counter() - t
        t = time.perf_counter()
        for text in texts:
            header, wrapped_t, iv_t, body_t, tag_t = text.split(b".")
            cek = key.decrypt(b64(wrapped_t), oaep)  # type: ignore[union-attr]
            sealed = b64(body_t) + b64(tag_t)
            hashlib.sha512(AESGCM(cek).decrypt(b64(iv_t), sealed, header)).digest()
        b64_seconds += time.perf_counter() - t
    return plain_seconds, b64_seconds


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--serve":
        serve(Path(sys.argv[2]), int(sys.argv[3]))
        return
    import httpx

    with tempfile.TemporaryDirectory(prefix="ozg-bench-fetch-") as tmp:
        work = Path(tmp)
        keys = _keys(work)
        port = _port()
        base = f"http://127.0.0.1:{port}"
        server = subprocess.Popen(
            [sys.executable, __file__, "--serve", str(work), str(port)], cwd=ROOT,
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    httpx.get(base + "/healthz", timeout=1)
                    break
                except httpx.HTTPError:
                    if time.monotonic() > deadline or server.poll() is not None:
                        raise SystemExit("the server did not start") from None
                    time.sleep(0.2)
            sender = Sender(base, work, keys)
            mib = DOCS * DOC_BYTES * 1.0 / 2**20
            print(f"{DOCS} documents of {DOC_BYTES // 1024} KiB a case ({mib:.1f} MiB)")
            results = {}
            for count in (10, 100):
                t = time.perf_counter()
                for _ in range(count):
                    sender.send()
                print(f"submitted {count} cases in {time.perf_counter() - t:.1f} s")
                measured = fetch(base, work, work / f"out{count}")
                raw_s, raw_b64_s = raw(work, count)
                measured |= {"raw_s": raw_s, "raw_b64_s": raw_b64_s}
                results[count] = measured
                print(
                    f"fetch {count:>3} cases: {measured['seconds']:.2f} s, peak RSS "
                    f"{measured['peak_mib']:.0f} MiB; raw primitives {raw_s:.2f} s "
                    f"(ratio {measured['seconds'] / raw_s:.2f}), with base64url "
                    f"{raw_b64_s:.2f} s (ratio {measured['seconds'] / raw_b64_s:.2f})"
                )
                for child in (work / f"out{count}").iterdir():
                    if child.is_dir() and not child.name.startswith("."):
                        for f in child.iterdir():
                            f.unlink()
        finally:
            server.terminate()
            server.wait(timeout=30)
    big = results[100]
    ratio = big["seconds"] / big["raw_s"]
    print(
        f"RESULT fetch_ratio={ratio:.2f} fetch_ratio_b64={big['seconds'] / big['raw_b64_s']:.2f} "
        f"peak_rss_10_mib={results[10]['peak_mib']:.0f} "
        f"peak_rss_100_mib={results[100]['peak_mib']:.0f}"
    )


if __name__ == "__main__":
    main()
    _ = base64, resource
