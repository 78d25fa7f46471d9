"""Sanitizing: a generated set of malicious PDFs, and JPEG/PNG metadata."""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from pathlib import Path

import pikepdf
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from vault import sanitize
from vault.errors import SanitizeError

CANARY = b"CANARY-METADATA-7f3a"


def _base() -> pikepdf.Pdf:
    pdf = pikepdf.new()
    pdf.add_blank_page(page_size=(200, 200))
    pdf.docinfo["/Author"] = pikepdf.String(CANARY.decode())
    pdf.docinfo["/Producer"] = pikepdf.String("EvilTool 1.0")
    return pdf


def _javascript(pdf: pikepdf.Pdf) -> None:
    js = pdf.make_indirect(
        pikepdf.Dictionary(S=pikepdf.Name.JavaScript, JS=pikepdf.String("app.alert(1)"))
    )
    pdf.Root.OpenAction = js
    pdf.Root.Names = pikepdf.Dictionary(
        JavaScript=pikepdf.Dictionary(Names=pikepdf.Array([pikepdf.String("x"), js]))
    )
    pdf.pages[0].obj.AA = pikepdf.Dictionary(O=js)


def _launch(pdf: pikepdf.Pdf) -> None:
    annot = pikepdf.Dictionary(
        Type=pikepdf.Name.Annot,
        Subtype=pikepdf.Name.Link,
        Rect=pikepdf.Array([0, 0, 50, 50]),
        A=pikepdf.Dictionary(S=pikepdf.Name.Launch, F=pikepdf.String("calc.exe")),
    )
    uri = pikepdf.Dictionary(
        Type=pikepdf.Name.Annot,
        Subtype=pikepdf.Name.Link,
        Rect=pikepdf.Array([0, 0, 9, 9]),
        A=pikepdf.Dictionary(S=pikepdf.Name.URI, URI=pikepdf.String("http://evil.example")),
    )
    pdf.pages[0].obj.Annots = pdf.make_indirect(pikepdf.Array([annot, uri]))


def _embedded(pdf: pikepdf.Pdf) -> None:
    spec = pikepdf.AttachedFileSpec(pdf, b"MZ evil payload " + CANARY, filename="evil.exe")
    pdf.attachments["evil.exe"] = spec


def _xfa(pdf: pikepdf.Pdf) -> None:
    xfa = pdf.make_stream(b"<xdp:xdp>" + CANARY + b"</xdp:xdp>")
    pdf.Root.AcroForm = pikepdf.Dictionary(Fields=pikepdf.Array(), XFA=xfa)


def _xmp(pdf: pikepdf.Pdf) -> None:
    with pdf.open_metadata(set_pikepdf_as_editor=False) as meta:
        meta["dc:creator"] = [CANARY.decode()]


def _save(tmp_path: Path, build: Callable[[pikepdf.Pdf], None], **kw: object) -> Path:
    pdf = _base()
    build(pdf)
    path = tmp_path / "in.pdf"
    pdf.save(path, **kw)  # type: ignore[arg-type]
    return path


@pytest.mark.parametrize(
    ("build", "expected"),
    [
        (_javascript, {"open action", "document JavaScript", "additional actions"}),
        (_launch, {"Launch action", "URI action"}),
        (_embedded, {"embedded files"}),
        (_xfa, {"XFA form"}),
        (_xmp, {"XMP metadata"}),
    ],
)
def test_malicious_pdfs_are_sanitized_and_reported(
    tmp_path: Path, build: Callable[[pikepdf.Pdf], None], expected: set[str]
) -> None:
    src = _save(tmp_path, build)
    out = tmp_path / "out.pdf"
    report = sanitize.sanitize_file(src, out)
    assert expected <= set(report.removed), report.removed
    assert "document info" in report.removed
    data = out.read_bytes()
    for needle in (
        CANARY,
        b"/JavaScript",
        b"/Launch",
        b"/OpenAction",
        b"/XFA",
        b"EvilTool",
        b"/EmbeddedFile",
        b"calc.exe",
        b"evil.example",
    ):
        assert needle not in data, needle
    sanitize.revalidate_pdf(out)
    assert report.content_hash
    assert report.content_hash.startswith("sha-256:")


def test_encrypted_pdf_is_refused(tmp_path: Path) -> None:
    src = _save(tmp_path, lambda p: None, encryption=pikepdf.Encryption(owner="o", user="u"))
    with pytest.raises(SanitizeError, match="password"):
        sanitize.sanitize_file(src, tmp_path / "out.pdf")
    owner_only = _save(tmp_path, lambda p: None, encryption=pikepdf.Encryption(owner="o", user=""))
    with pytest.raises(SanitizeError, match=r"encrypted|password"):
        sanitize.sanitize_file(owner_only, tmp_path / "out.pdf")


def test_malformed_xref_is_repaired_or_refused(tmp_path: Path) -> None:
    src = _save(tmp_path, _javascript)
    data = bytearray(src.read_bytes())
    start = data.rindex(b"startxref")
    data[start + 10 : start + 14] = b"9999"  # xref offset points nowhere
    src.write_bytes(bytes(data))
    out = tmp_path / "out.pdf"
    report = sanitize.sanitize_file(src, out)  # qpdf rebuilds the xref table
    assert "open action" in report.removed
    sanitize.revalidate_pdf(out)
    garbage = tmp_path / "broken.pdf"
    garbage.write_bytes(b"%PDF-1.7\n" + b"\x00garbage" * 50)
    with pytest.raises(SanitizeError, match="damaged"):
        sanitize.sanitize_file(garbage, out)


def test_revalidation_catches_active_content(tmp_path: Path) -> None:
    src = _save(tmp_path, _javascript)
    with pytest.raises(SanitizeError, match="active content"):
        sanitize.revalidate_pdf(src)


def _jpeg_with_exif() -> bytes:
    image = Image.new("RGB", (16, 16), "red")
    exif = Image.Exif()
    exif[0x010E] = CANARY.decode()  # ImageDescription
    exif[0x8825] = {2: (52.0, 31.0, 0.0)}  # GPS latitude
    buf = io.BytesIO()
    image.save(buf, "JPEG", exif=exif.tobytes(), comment=CANARY)
    return buf.getvalue()


def _png_with_text() -> bytes:
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("Author", CANARY.decode())
    info.add_itxt("XML:com.adobe.xmp", CANARY.decode())
    buf = io.BytesIO()
    Image.new("RGB", (16, 16), "blue").save(buf, "PNG", pnginfo=info, exif=b"Exif\x00\x00" + CANARY)
    return buf.getvalue()


@pytest.mark.parametrize(
    ("name", "maker"), [("photo.jpg", _jpeg_with_exif), ("scan.png", _png_with_text)]
)
def test_image_metadata_is_stripped(tmp_path: Path, name: str, maker: Callable[[], bytes]) -> None:
    src = tmp_path / name
    src.write_bytes(maker())
    assert CANARY in src.read_bytes()
    out = tmp_path / "out"
    report = sanitize.sanitize_file(src, out)
    assert report.removed
    clean = out.read_bytes()
    assert CANARY not in clean
    with Image.open(out) as image:
        assert image.size == (16, 16)
        assert not image.getexif()


def test_type_by_content_mismatch_and_unsupported(tmp_path: Path) -> None:
    fake = tmp_path / "passport.pdf"
    fake.write_bytes(_jpeg_with_exif())
    with pytest.raises(SanitizeError, match="image/jpeg"):
        sanitize.sanitize_file(fake, tmp_path / "out")
    doc = tmp_path / "cv.docx"
    doc.write_bytes(b"PK\x03\x04 zip")
    with pytest.raises(SanitizeError, match="unsupported"):
        sanitize.sanitize_file(doc, tmp_path / "out")
    truncated = tmp_path / "cut.png"
    truncated.write_bytes(_png_with_text()[:60])
    with pytest.raises(SanitizeError):
        sanitize.sanitize_file(truncated, tmp_path / "out")


def _richmedia_and_submit(pdf: pikepdf.Pdf) -> None:
    media = pikepdf.Dictionary(
        Type=pikepdf.Name.Annot, Subtype=pikepdf.Name.RichMedia, Rect=pikepdf.Array([0, 0, 9, 9])
    )
    submit = pikepdf.Dictionary(
        Type=pikepdf.Name.Annot, Subtype=pikepdf.Name.Widget, Rect=pikepdf.Array([0, 0, 9, 9]),
        A=pikepdf.Dictionary(S=pikepdf.Name.SubmitForm, F=pikepdf.String("http://evil.example")),
    )  # fmt: skip
    pdf.pages[0].obj.Annots = pikepdf.Array([pdf.make_indirect(media), pdf.make_indirect(submit)])


@pytest.mark.filterwarnings("ignore:This document has 1 form widget")  # building the sample
def test_richmedia_and_submit_form(tmp_path: Path) -> None:
    src = _save(tmp_path, _richmedia_and_submit)
    out = tmp_path / "out.pdf"
    report = sanitize.sanitize_file(src, out)
    assert {"attachment or media annotation", "SubmitForm action"} <= set(report.removed)
    data = out.read_bytes()
    assert b"/RichMedia" not in data
    assert b"evil.example" not in data


_FUZZ_BASE: dict[str, bytes] = {}


@settings(max_examples=int(os.environ.get("OZG_FUZZ_EXAMPLES", "60")), deadline=None)
@given(
    edits=st.lists(
        st.tuples(st.integers(min_value=0), st.integers(min_value=0, max_value=255)), max_size=8
    ),
    cut=st.integers(min_value=0),
)
def test_damaged_pdfs_never_crash_the_client(
    tmp_path_factory: pytest.TempPathFactory, edits: list[tuple[int, int]], cut: int
) -> None:
    tmp = tmp_path_factory.mktemp("fuzz")
    if not _FUZZ_BASE:
        pdf = _base()
        _javascript(pdf)
        _launch(pdf)
        _embedded(pdf)
        buf = io.BytesIO()
        pdf.save(buf)
        _FUZZ_BASE["pdf"] = buf.getvalue()
    data = bytearray(_FUZZ_BASE["pdf"])
    for pos, value in edits:
        data[pos % len(data)] = value
    data = data[: max(8, len(data) - cut % len(data))]
    src = tmp / "f.pdf"
    src.write_bytes(bytes(data))
    try:
        report = sanitize.sanitize_file(src, tmp / "out.pdf")
    except SanitizeError:
        return
    assert report.media_type == sanitize.PDF
    sanitize.revalidate_pdf(tmp / "out.pdf")


@settings(max_examples=int(os.environ.get("OZG_FUZZ_EXAMPLES", "60")), deadline=None)
@given(
    kind=st.sampled_from(["photo.jpg", "scan.png"]),
    edits=st.lists(
        st.tuples(st.integers(min_value=0), st.integers(min_value=0, max_value=255)), max_size=6
    ),
    cut=st.integers(min_value=0),
)
def test_damaged_images_never_crash_the_client(
    tmp_path_factory: pytest.TempPathFactory, kind: str, edits: list[tuple[int, int]], cut: int
) -> None:
    tmp = tmp_path_factory.mktemp("fuzz")
    data = bytearray(_jpeg_with_exif() if kind.endswith("jpg") else _png_with_text())
    for pos, value in edits:
        data[8 + pos % (len(data) - 8)] = value  # keep the magic bytes
    data = data[: max(9, len(data) - cut % len(data))]
    src = tmp / kind
    src.write_bytes(bytes(data))
    try:
        sanitize.sanitize_file(src, tmp / "out")
    except SanitizeError:
        return
    assert CANARY not in (tmp / "out").read_bytes()


def _hidden_in_jpeg(where: str) -> bytes:
    """A decodable JPEG with the canary where a marker walk that keeps unknown markers, or
    copies everything from the first scan on, would keep it."""
    plain = io.BytesIO()
    Image.new("RGB", (16, 16), "green").save(plain, "JPEG")
    data = plain.getvalue()
    comment = b"\xff\xfe" + (len(CANARY) + 2).to_bytes(2, "big") + CANARY
    eoi = data.rindex(b"\xff\xd9")
    if where == "unknown marker":  # a COM segment whose marker byte was damaged to 0x00
        return data[:2] + b"\xff\x00" + comment[2:] + data[2:]
    if where == "after the scan":  # a comment between the scan data and EOI
        return data[:eoi] + comment + data[eoi:]
    return data + CANARY  # after the end of the image


@pytest.mark.parametrize("where", ["unknown marker", "after the scan", "after the end"])
def test_jpeg_metadata_outside_the_header_is_not_kept(tmp_path: Path, where: str) -> None:
    src = tmp_path / "photo.jpg"
    src.write_bytes(_hidden_in_jpeg(where))
    try:
        sanitize.sanitize_file(src, tmp_path / "out")
    except SanitizeError:
        return  # refused: nothing kept either
    out = (tmp_path / "out").read_bytes()
    assert CANARY not in out
    with Image.open(io.BytesIO(out)) as image:
        image.load()
