"""Fixtures of the authority client's tests: two demo authorities (tf, ee) under one CA with
their private keys in the demo layout, an app whose delivery service knows both, and a
sender that makes real FIT-Connect submissions through the API (metadata built and
encrypted with ``gateway.fitconnect``, an ozg-commons manifest, PDF attachments)."""

from __future__ import annotations

import io
import shutil
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pikepdf
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import FastAPI
from fastapi.testclient import TestClient

from account import Principal
from commons.db import Database
from commons.settings import Settings
from gateway.app import create_app
from gateway.client.authority import AuthorityClient
from gateway.client.flowdata import summary_pdf
from gateway.delivery.destinations import Destination, InMemoryDestinations, Service
from gateway.delivery.runtime import pem_of
from gateway.fitconnect import Attachment, build_metadata, dumps_metadata, encrypt
from gateway.fitconnect.demo import DemoAuthority, make_ca, make_demo_authority
from tests import factories
from tests.gateway.cases.conftest import (  # noqa: F401 - fixtures for the case tests
    FakeRegistry,
    alice,
    deliver,
    make_applicant,
    runtime,
)
from tests.gateway.flows.conftest import definition, example

NOW = datetime.now(UTC)
LEIKA = "urn:de:fim:leika:leistung:99010003001000"  # the employment flow's
DESTINATIONS = {
    "tf": "6b7a1f0e-2d8c-4c53-9a7e-0f1e2d3c4b5a",
    "ee": "0c8f7e6d-5b4a-4392-8a1b-2c3d4e5f6a7b",
}
ActAs = Callable[[Principal | None], None]


@dataclass(frozen=True)
class Keys:
    authorities: dict[str, DemoAuthority]
    delivery_pem: str
    key_dir: Path

    def key_file(self, authority: str) -> Path:
        return self.key_dir / f"{authority}-encryption.key.pem"


def _pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


@pytest.fixture(scope="session")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Keys:
    ca_key, ca_cert = make_ca("ozg-commons test CA", NOW)
    made = {a: make_demo_authority(ca_key, ca_cert, a, NOW) for a in DESTINATIONS}
    key_dir = tmp_path_factory.mktemp("authority-keys")
    for authority, demo in made.items():
        (key_dir / f"{authority}-encryption.key.pem").write_bytes(_pem(demo.encryption_key))
        (key_dir / f"{authority}-signing.key.pem").write_bytes(_pem(demo.signing_key))
    return Keys(made, pem_of(rsa.generate_private_key(65537, 4096)), key_dir)


@pytest.fixture
def app(
    tmp_path: Path, database_url: str, database: Database, keys: Keys, demo_data_dir: Path
) -> FastAPI:
    shutil.copytree(demo_data_dir, tmp_path / "var", dirs_exist_ok=True)  # keys made once
    settings = Settings(
        data_dir=tmp_path / "var",
        database_url=database_url,
        sections={"delivery": {"signing_key": keys.delivery_pem}},
    )
    application = create_app(settings, database)
    application.state.delivery.directory = InMemoryDestinations(
        [
            Destination(
                destination_id=destination_id,
                authority=authority,
                encryption_jwk=keys.authorities[authority].encryption_jwk,
                signature_jwk=keys.authorities[authority].signing_jwk,
                metadata_versions=("1.0.0",),
                reply_channels=("eMail",),
                services=(Service(LEIKA, "Aufenthaltserlaubnis zur Beschäftigung"),),
            )
            for authority, destination_id in DESTINATIONS.items()
        ]
    )
    application.state.authorities = FakeRegistry()
    # These submissions come from the test, not from a case: the cases component's manifest
    # rules are tested in tests/gateway/cases; here only the delivery service's own apply.
    application.state.delivery.submit_checks.clear()
    return application


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def authority_client(client: TestClient) -> AuthorityClient:
    """The authority's client over the app (requests act as whoever ``act_as`` chose)."""
    return AuthorityClient(http=client)


# --------------------------------------------------------------------------- documents
def clean_pdf(text: str = "passport page") -> bytes:
    pdf = pikepdf.new()
    pdf.add_blank_page(page_size=(595, 842))
    pdf.pages[0].Contents = pdf.make_stream(f"BT /F1 12 Tf 72 770 Td ({text}) Tj ET".encode())
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


def hostile_pdf() -> bytes:
    """A PDF with an OpenAction that runs JavaScript and a Launch action on a link."""
    pdf = pikepdf.new()
    pdf.add_blank_page(page_size=(595, 842))
    pdf.Root.OpenAction = pdf.make_indirect(
        pikepdf.Dictionary(S=pikepdf.Name.JavaScript, JS=pikepdf.String("app.alert(1)"))
    )
    annot = pikepdf.Dictionary(
        Type=pikepdf.Name.Annot,
        Subtype=pikepdf.Name.Link,
        Rect=[0, 0, 100, 100],
        A=pikepdf.Dictionary(S=pikepdf.Name.Launch, F=pikepdf.String("calc.exe")),
    )
    pdf.pages[0].Annots = pdf.make_indirect(pikepdf.Array([annot]))
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


@dataclass
class Doc:
    filename: str | None
    content: bytes
    document_type: str
    mime_type: str = "application/pdf"
    purpose: str = "attachment"
    attachment_id: str = field(default_factory=lambda: str(uuid.uuid4()))


@dataclass
class Sent:
    submission_id: str
    case_id: str
    docs: list[Doc]


def employment_documents() -> list[Doc]:
    return [
        Doc("Reisepass Müller.pdf", clean_pdf("passport"), "passport"),
        Doc("contract.pdf", clean_pdf("contract"), "employment-contract"),
    ]


@pytest.fixture
def send(client: TestClient, act_as: ActAs, keys: Keys) -> Callable[..., Sent]:
    """Submit through the FIT-Connect API as an applicant: encrypt to the destination's key
    on the 'device', with metadata, data, a summary PDF and the documents."""

    def run(
        authority: str = "tf",
        *,
        form: Any = None,
        docs: list[Doc] | None = None,
        manifest: bool = True,
        summary: bool = True,
        wrong_hash: str | None = None,
        sender: Principal | None = None,
        manifest_edit: Callable[[dict[str, Any]], None] | None = None,
    ) -> Sent:
        act_as(sender or factories.applicant())
        destination_id = DESTINATIONS[authority]
        jwk = keys.authorities[authority].encryption_jwk
        form = example("employment") if form is None else form
        data = form if isinstance(form, bytes) else dumps_metadata(form)
        docs = list(employment_documents() if docs is None else docs)
        if summary:
            pdf = summary_pdf(definition("employment"), form, "de", [(d.document_type,
                              d.filename or "") for d in docs])  # fmt: skip
            docs.insert(0, Doc("Zusammenfassung.pdf", pdf, "summary", purpose="form"))
        encrypted_docs = {d.attachment_id: encrypt(d.content, jwk, d.mime_type) for d in docs}
        attachments = [
            Attachment(
                d.attachment_id,
                "0" * 128
                if d.attachment_id == wrong_hash
                else encrypted_docs[d.attachment_id].plaintext_sha512,
                d.mime_type,
                d.purpose,  # type: ignore[arg-type]
                d.filename,
            )
            for d in docs
        ]
        encrypted_data = encrypt(data, jwk, "application/json")
        metadata = dumps_metadata(
            build_metadata(
                "1.0.0",
                data_hash=encrypted_data.plaintext_sha512,
                data_schema_uri=definition("employment").public_json()["data_schema_uri"],
                data_mime="application/json",
                attachments=attachments,
                public_service={"identifier": LEIKA, "name": "Aufenthaltserlaubnis"},
            )
        )
        body: dict[str, Any] = {
            "destinationId": destination_id,
            "announcedAttachments": [d.attachment_id for d in docs],
            "publicService": {"identifier": LEIKA, "name": "Aufenthaltserlaubnis"},
        }
        if manifest:
            body["ozgManifest"] = {
                "format": "ozg-manifest/1",
                "caseId": str(uuid.uuid4()),
                "flow": "employment",
                "authority": authority,
                "parts": [
                    *(
                        {"attachmentId": d.attachment_id, "documentType": d.document_type,
                         "size": len(d.content)}
                        for d in docs
                    ),
                    {"part": "data", "documentType": "form", "size": len(data)},
                    {"part": "metadata", "documentType": "fit-connect-metadata",
                     "size": len(metadata)},
                ],
            }  # fmt: skip
            if manifest_edit is not None:
                manifest_edit(body["ozgManifest"])
        created = client.post("/fit-connect/v1/submissions", json=body)
        assert created.status_code == 201, created.text
        sid, case_id = created.json()["submissionId"], created.json()["caseId"]
        for attachment_id, enc in encrypted_docs.items():
            response = client.put(
                f"/fit-connect/v1/submissions/{sid}/attachments/{attachment_id}",
                content=enc.compact.encode(),
                headers={"Content-Type": "application/jose"},
            )
            assert response.status_code == 204, response.text
        submitted = client.put(
            f"/fit-connect/v1/submissions/{sid}",
            json={
                "encryptedMetadata": encrypt(metadata, jwk, "application/json").compact,
                "encryptedData": encrypted_data.compact,
            },
        )
        assert submitted.status_code == 202, submitted.text
        return Sent(sid, case_id, docs)

    return run
