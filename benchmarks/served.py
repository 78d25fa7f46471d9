"""What the submission benchmarks share: a real server process on a fresh data directory
(``ozg-commons serve`` in development: uvicorn, SQLite, filesystem store, the development
IdP, the embedded demo authorities), the demo applicant with a vault key, test PDFs, and
cases prepared exactly as the applicant's client prepares them (start, sealed draft,
authority, fee facts, paid in the sandbox).

``OZG_BENCH_PORT`` picks the port (default: a free one).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from gateway.client.applicant import ApplicantClient, Document  # noqa: E402
from gateway.client.demo import (  # noqa: E402
    LEIKA_EMPLOYMENT,
    PASSPHRASE,
    AuthorityKeys,
    demo_authority_keys,
    example_form,
    token,
)

AUTHORITY = "tf"
ARS = "120720000000"  # Teltow-Fläming


def port() -> int:
    if os.environ.get("OZG_BENCH_PORT"):
        return int(os.environ["OZG_BENCH_PORT"])
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def server(
    data_dir: Path, *, env: dict[str, str] | None = None, workers: int = 1
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """``ozg-commons serve`` on 127.0.0.1 with ``data_dir`` (and ``env`` on top, e.g. an
    ``OZG_DATABASE_URL``), ``workers`` worker processes; yields its base URL."""
    number = port()
    base = f"http://127.0.0.1:{number}"
    env = {**os.environ, "OZG_DATA_DIR": str(data_dir), "OZG_PUBLIC_BASE_URL": base,
           "OZG_LOG_LEVEL": "WARNING", **(env or {})}  # fmt: skip
    log = data_dir.with_name(data_dir.name + ".log")
    with log.open("wb") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "gateway", "serve", "--host", "127.0.0.1", "--port",
             str(number), "--workers", str(workers)],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=stderr,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 600  # the first start makes the demo authorities' keys
        while True:
            try:
                httpx.get(base + "/healthz", timeout=5)
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline or process.poll() is not None:
                    process.kill()
                    tail = log.read_text(errors="replace")[-2000:]
                    raise SystemExit(f"the server did not start: {tail}") from None
                time.sleep(0.3)
        yield base, process
    finally:
        process.terminate()
        process.wait(timeout=30)


@dataclass
class Applicant:
    """The demo applicant's client, vault key, the flow, and the route to ``tf``."""

    client: ApplicantClient
    key: Any
    flow: dict[str, Any]
    form: dict[str, Any]
    authority: AuthorityKeys
    destination_id: str
    since: float = field(default_factory=time.monotonic)  # of the token

    @classmethod
    def sign_up(cls, base: str, data_dir: Path) -> Applicant:
        from vault.client import keys as vault_keys

        http = httpx.Client(base_url=base, timeout=600)
        authority, anchors, crls = demo_authority_keys(http, data_dir, AUTHORITY)
        client = ApplicantClient(base, token(http, "demo-applicant"), http=http,
                                 anchors=anchors, crls=crls)  # fmt: skip
        client.vault.keygen(PASSPHRASE, vault_keys.ARGON2_MINIMUM)
        key = client.vault.unlock(PASSPHRASE)
        route = client.route(LEIKA_EMPLOYMENT, ARS)
        return cls(client, key, client.flow("employment"), example_form(), authority,
                   route["destinationId"])  # fmt: skip

    def fresh_token(self) -> None:
        """A new development IdP token every few minutes (they last five)."""
        if time.monotonic() - self.since > 180:
            http = self.client.http
            http.headers["Authorization"] = f"Bearer {token(http, 'demo-applicant')}"
            self.since = time.monotonic()

    def prepare_case(self) -> tuple[str, str]:
        """A case ready to submit, as the applicant's client makes it: (case id, payment)."""
        self.fresh_token()
        client = self.client
        case_id = client.start_case("employment")["id"]
        client.save_draft(case_id, self.form, self.key)
        client.choose_authority(case_id, AUTHORITY)
        quote = client.declare_fee_facts(case_id, client.fee_facts(self.flow, self.form))
        return case_id, client.pay_in_sandbox(case_id, quote["quote"]["id"])

    def document_types(self, count: int) -> list[str]:
        """``count`` document types of the flow, every required one among them."""
        docs = self.flow["documents"]
        ordered = [d["type"] for d in docs if d.get("required")]
        ordered += [d["type"] for d in docs if not d.get("required")]
        return [ordered[n % len(ordered)] for n in range(count)]

    def documents(self, doc_ids: list[str]) -> list[Document]:
        return [Document(i, t) for i, t in zip(doc_ids, self.document_types(len(doc_ids)),
                                               strict=True)]  # fmt: skip


def make_pdf(path: Path, size: int) -> None:
    """A valid PDF of about ``size`` bytes: one page and one incompressible stream."""
    import pikepdf

    pdf = pikepdf.new()
    pdf.add_blank_page(page_size=(595, 842))
    pdf.Root.Payload = pdf.make_stream(os.urandom(max(size - 600, 1)))
    pdf.save(path, compress_streams=False)
