"""Metadata: built documents validate for every supported version; invalid ones are refused."""

from __future__ import annotations

import hashlib
import json
import uuid
from importlib import resources
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.fitconnect import metadata
from gateway.fitconnect.errors import InvalidMetadata
from payments.money import Euros

SERVICE = {"identifier": "urn:de:fim:leika:leistung:99010003001006", "name": "Aufenthaltserlaubnis"}
DATA = b'{"given_name": "Ada"}'
SCHEMA_SHA256 = {
    "metadata.schema.v1.0.0.json": (
        "d61ad55c5d084195dbd403f512b39c0ff40ca66471b3d5902cb4401982948916"
    ),
}


def _attachment(**kw: Any) -> metadata.Attachment:
    options: dict[str, Any] = {
        "attachment_id": str(uuid.uuid4()),
        "sha512": hashlib.sha512(b"%PDF-1.7").hexdigest(),
        "mime_type": "application/pdf",
        "purpose": "attachment",
        "filename": "passport.pdf",
    }
    options.update(kw)
    return metadata.Attachment(**options)


def _payment() -> dict[str, Any]:
    return {
        "transactionId": "tx-123",
        "transactionReference": "KZ-2026-000123",
        "transactionTimestamp": "2026-12-01T12:00:00Z",
        "paymentMethod": "CREDITCARD",
        "status": "BOOKED",
        "grossAmount": Euros(10000),
    }


def _build(version: str, **kw: Any) -> dict[str, Any]:
    options: dict[str, Any] = {
        "data_hash": hashlib.sha512(DATA).hexdigest(),
        "data_schema_uri": "https://schema.fim.fitko.net/schema/S1234",
        "data_mime": "application/json",
        "attachments": [_attachment(), _attachment(purpose="form", filename=None)],
        "public_service": SERVICE,
        "payment_information": _payment(),
        "reply_channel": {"eMail": {"address": "ada@example.org"}},
        "additional_reference_info": {"senderReference": "case-1", "applicationDate": "2026-12-01"},
    }
    options.update(kw)
    return metadata.build_metadata(version, **options)


def test_versions_are_data_and_files_are_unmodified() -> None:
    known = metadata.versions()
    assert list(known) == ["1.0.0", "1.1.0", "1.2.0", "1.3.0", "2.0.0", "2.1.0"]
    assert all(v.schema_uri.endswith(f"/{v.version}/metadata.schema.json") for v in known.values())
    assert metadata.supported_versions() == ["1.0.0"]
    folder = resources.files("gateway.fitconnect").joinpath("schemas")
    for version in metadata.supported_versions():
        name = known[version].file
        assert name is not None
        raw = folder.joinpath(name).read_bytes()
        assert hashlib.sha256(raw).hexdigest() == SCHEMA_SHA256[name]
        assert json.loads(raw)["$id"] == known[version].schema_uri
    assert "SOURCES.md" in [p.name for p in folder.iterdir()]


@pytest.mark.parametrize("version", metadata.supported_versions())
def test_built_document_is_valid(version: str) -> None:
    doc = _build(version)
    assert metadata.validate_metadata(doc) == version
    assert metadata.validate_metadata(doc, version) == version
    text = metadata.dumps_metadata(doc)
    assert b'"grossAmount":100.00' in text
    assert b'"transactionTimestamp":"2026-12-01T12:00:00Z"' in text
    parsed = json.loads(text)
    assert parsed["contentStructure"]["data"]["hash"]["content"] == hashlib.sha512(DATA).hexdigest()
    minimal = _build(
        version,
        attachments=[],
        payment_information=None,
        reply_channel=None,
        additional_reference_info=None,
    )
    assert metadata.validate_metadata(minimal) == version
    assert minimal["contentStructure"]["attachments"] == []


def test_unsupported_versions_are_refused() -> None:
    for version in ("1.1.0", "2.1.0", "9.9.9"):
        with pytest.raises(ValueError, match=r"supported: 1\.0\.0"):
            _build(version)
        with pytest.raises(ValueError, match="not supported"):
            metadata.validate_metadata({"contentStructure": {"attachments": []}}, version)
    with pytest.raises(InvalidMetadata, match=r"\$schema"):
        metadata.validate_metadata({"$schema": "https://example.org/x.json"})


def _invalid_docs() -> dict[str, dict[str, Any]]:
    cases: dict[str, dict[str, Any]] = {}

    def case(name: str, change: Any) -> None:
        doc = json.loads(metadata.dumps_metadata(_build("1.0.0")))
        change(doc)
        cases[name] = doc

    data = ("contentStructure", "data")
    case("no contentStructure", lambda d: d.pop("contentStructure"))
    case("no attachments", lambda d: d["contentStructure"].pop("attachments"))
    case("hash upper-case", lambda d: d[data[0]][data[1]]["hash"].update(content="A" * 128))
    case("hash short", lambda d: d[data[0]][data[1]]["hash"].update(content="a" * 127))
    case("hash sha256", lambda d: d[data[0]][data[1]]["hash"].update(type="sha256"))
    case("data mime", lambda d: d[data[0]][data[1]]["submissionSchema"].update(mimeType="text/csv"))
    case("schema uri", lambda d: d[data[0]][data[1]]["submissionSchema"].update(schemaUri="no uri"))
    case("purpose", lambda d: d["contentStructure"]["attachments"][0].update(purpose="photo"))
    case(
        "attachment id", lambda d: d["contentStructure"]["attachments"][0].update(attachmentId="x")
    )
    case(
        "attachment mime", lambda d: d["contentStructure"]["attachments"][0].update(mimeType="pdf")
    )
    case("leika urn", lambda d: d["publicServiceType"].update(identifier="99010003001006"))
    case("payment status", lambda d: d["paymentInformation"].update(status="PAID"))
    case("payment amount", lambda d: d["paymentInformation"].update(grossAmount=100.001))
    case("payment zero", lambda d: d["paymentInformation"].update(grossAmount=0))
    case("payment time", lambda d: d["paymentInformation"].update(transactionTimestamp="today"))
    case("payment no reference", lambda d: d["paymentInformation"].pop("transactionReference"))
    case("two reply channels", lambda d: d["replyChannel"].update(deMail={"address": "a@b.de"}))
    case("reply email", lambda d: d["replyChannel"]["eMail"].update(address="not an address"))
    case("application date", lambda d: d["additionalReferenceInfo"].update(applicationDate="1.12."))
    return cases


def test_invalid_documents_are_refused_with_a_path() -> None:
    for name, doc in _invalid_docs().items():
        with pytest.raises(InvalidMetadata) as caught:
            metadata.validate_metadata(doc, "1.0.0")
        assert caught.value.detail.startswith("/"), name
    same = _attachment()
    with pytest.raises(InvalidMetadata, match="unique"):
        _build("1.0.0", attachments=[same, same])


@settings(max_examples=40, deadline=None)
@given(
    data=st.binary(max_size=200),
    files=st.lists(
        st.tuples(
            st.binary(max_size=50),
            st.sampled_from(["application/pdf", "image/jpeg", "application/xml"]),
            st.sampled_from(["form", "attachment", "report"]),
            st.one_of(st.none(), st.text(max_size=30)),
        ),
        max_size=5,
    ),
    cents=st.integers(min_value=1, max_value=10**9),
    reference=st.text(min_size=1, max_size=40),
)
def test_builder_property(
    data: bytes, files: list[tuple[bytes, str, str, str | None]], cents: int, reference: str
) -> None:
    attachments = [
        metadata.Attachment(
            attachment_id=str(uuid.uuid4()),
            sha512=hashlib.sha512(content).hexdigest(),
            mime_type=mime,
            purpose=purpose,  # type: ignore[arg-type]
            filename=filename,
        )
        for content, mime, purpose, filename in files
    ]
    payment = {**_payment(), "grossAmount": Euros(cents), "transactionReference": reference}
    doc = _build(
        "1.0.0",
        data_hash=hashlib.sha512(data).hexdigest(),
        attachments=attachments,
        payment_information=payment,
    )
    again = json.loads(metadata.dumps_metadata(doc))
    assert metadata.validate_metadata(again) == "1.0.0"
    assert [a["attachmentId"] for a in again["contentStructure"]["attachments"]] == [
        a.attachment_id for a in attachments
    ]


def test_metadata_nested_too_deeply_is_invalid_metadata() -> None:
    """Found by fuzzing (tests/fuzz): 600 nested arrays, which ``json.loads`` takes, made
    the money-aware re-serialization recurse past the limit: a RecursionError that stopped
    the authority's client at a hostile submission."""
    nested: list[Any] = []
    for _ in range(600):
        nested = [nested]
    doc = {**_build("1.0.0"), "replyChannel": {"eMail": {"address": "a@b.de", "x": nested}}}
    with pytest.raises(InvalidMetadata):
        metadata.validate_metadata(doc)
