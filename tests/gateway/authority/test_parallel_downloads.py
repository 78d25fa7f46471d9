"""The fetch downloads several attachments at once (``AuthorityClient.downloads``): the
parts still come in announced order, each hash is still checked, and the first failing
attachment in that order rejects the submission, after every started download ended.

A stub stands for the server here: the authority tests' app shares one database connection
per test, which serves one request at a time (the benchmark runs the real thing)."""

from __future__ import annotations

import hashlib
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from gateway.client.authority import PARALLEL_DOWNLOADS, AuthorityClient
from gateway.client.authority_checks import Rejected
from gateway.client.authority_fetch import Fetcher
from gateway.fitconnect import encrypt
from tests.gateway.authority.conftest import Keys, clean_pdf


class StubServer:
    """``attachment()`` of an :class:`AuthorityClient`, from JWEs held in memory, in small
    blocks with a pause between them, so that downloads overlap."""

    def __init__(self, bodies: dict[str, bytes], downloads: int) -> None:
        self.bodies = bodies
        self.downloads = downloads
        self.lock = threading.Lock()
        self.open = 0
        self.most_open = 0
        self.ended: list[str] = []

    @contextmanager
    def attachment(self, submission_id: str, attachment_id: str) -> Iterator[Iterator[bytes]]:
        with self.lock:
            self.open += 1
            self.most_open = max(self.most_open, self.open)
        try:
            yield self._blocks(self.bodies[attachment_id])
        finally:
            with self.lock:
                self.open -= 1
                self.ended.append(attachment_id)

    @staticmethod
    def _blocks(body: bytes) -> Iterator[bytes]:
        for start in range(0, len(body), 4096):
            time.sleep(0.001)
            yield body[start : start + 4096]


def _submission(
    keys: Keys, count: int, bad: set[int]
) -> tuple[StubServer, dict[str, Any], dict[str, Any]]:
    jwk = keys.authorities["tf"].encryption_jwk
    bodies, announced = {}, []
    for n in range(count):
        attachment_id = str(uuid.uuid4())
        pdf = clean_pdf(f"page {n}") + b"%" + b"x" * 60_000 + b"\n"
        digest = hashlib.sha512(b"not the same" if n in bad else pdf).hexdigest()
        bodies[attachment_id] = encrypt(pdf, jwk, "application/pdf").compact.encode()
        announced.append(
            {
                "attachmentId": attachment_id,
                "hash": {"type": "sha512", "content": digest},
                "purpose": "attachment",
                "mimeType": "application/pdf",
            }
        )
    submission = {"submissionId": str(uuid.uuid4()), "attachments": list(bodies)}
    metadata = {"contentStructure": {"attachments": announced}}
    return StubServer(bodies, PARALLEL_DOWNLOADS), submission, metadata


def _fetcher(stub: StubServer, keys: Keys, out: Path) -> Fetcher:
    demo = keys.authorities["tf"]
    client: AuthorityClient = stub  # type: ignore[assignment]
    return Fetcher(client, "tf", demo.encryption_key, demo.signing_key, out)


def test_downloads_overlap_and_parts_keep_their_order(keys: Keys, tmp_path: Path) -> None:
    stub, submission, metadata = _submission(keys, 6, bad=set())
    work = tmp_path / "work"
    work.mkdir()
    parts = _fetcher(stub, keys, tmp_path)._attachments(submission, metadata, work)
    assert [p.attachment_id for p in parts] == submission["attachments"]
    assert stub.most_open == PARALLEL_DOWNLOADS
    for part, meta in zip(parts, metadata["contentStructure"]["attachments"], strict=True):
        assert hashlib.sha512(part.path.read_bytes()).hexdigest() == meta["hash"]["content"]
        assert part.media == "application/pdf"


def test_the_first_failing_attachment_rejects_after_every_download_ended(
    keys: Keys, tmp_path: Path
) -> None:
    stub, submission, metadata = _submission(keys, 6, bad={2, 4})
    work = tmp_path / "work"
    work.mkdir()
    with pytest.raises(Rejected) as caught:
        _fetcher(stub, keys, tmp_path)._attachments(submission, metadata, work)
    [problem] = caught.value.problems
    assert problem["type"].endswith("/hash-mismatch")
    assert problem["instance"] == f"attachment:{submission['attachments'][2]}"
    assert stub.open == 0  # nothing still downloading when the rejection is raised
    assert not (work / f"{submission['attachments'][2]}.plain").exists()  # discarded


def test_an_injected_http_client_downloads_one_at_a_time() -> None:
    assert AuthorityClient("http://127.0.0.1:1").downloads == PARALLEL_DOWNLOADS
    assert AuthorityClient(http=object()).downloads == 1
    assert AuthorityClient(http=object(), downloads=3).downloads == 3
    with pytest.raises(ValueError, match="at least 1"):
        AuthorityClient(downloads=0)
