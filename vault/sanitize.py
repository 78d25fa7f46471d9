"""Sanitizing on the client, before encryption: PDF (pikepdf), JPEG and PNG.

PDF: removes JavaScript, OpenAction and additional actions (AA); Launch, URI, SubmitForm,
ImportData and JavaScript actions wherever they hang; embedded files and attachment
annotations; XFA forms; RichMedia, Screen, Movie and Sound annotations; the document
information dictionary and XMP metadata. Encrypted PDFs and PDFs qpdf cannot repair are
refused. What was removed is reported so the applicant sees it before uploading.

JPEG and PNG: metadata segments and chunks (EXIF with GPS, XMP, IPTC, comments, text) are
dropped losslessly, without re-encoding; the image is then checked to decode. The type is
detected from the content; a filename extension that says otherwise is an error.
"""

from __future__ import annotations

import hashlib
import struct
import warnings
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pikepdf

from vault.errors import SanitizeError

PDF, JPEG, PNG = "application/pdf", "image/jpeg", "image/png"
_EXTENSIONS = {
    ".pdf": PDF,
    ".jpg": JPEG,
    ".jpeg": JPEG,
    ".jpe": JPEG,
    ".png": PNG,
}
_BAD_ACTIONS = {"/JavaScript", "/Launch", "/URI", "/SubmitForm", "/ImportData", "/RichMediaExecute"}
# What a damaged file can make pikepdf or the object walk raise; all mean "refuse it".
_DAMAGED = (pikepdf.PdfError, RuntimeError, ValueError, TypeError, AttributeError, KeyError,
            IndexError, OverflowError)  # fmt: skip
_BAD_ANNOTS = {"/RichMedia", "/FileAttachment", "/Screen", "/Movie", "/Sound", "/3D"}


@dataclass
class Report:
    media_type: str
    removed: Counter[str] = field(default_factory=Counter)
    content_hash: str | None = None
    pages: int = 0

    def summary(self) -> list[str]:
        return [f"{name}: {count}" for name, count in sorted(self.removed.items())]


def detect_type(head: bytes) -> str | None:
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if b"%PDF-" in head[:1024]:
        return PDF
    return None


def sanitize_file(src: Path, dest: Path) -> Report:
    """Write a sanitized copy of ``src`` to ``dest``; raise :class:`SanitizeError`."""
    with src.open("rb") as handle:
        head = handle.read(1024)
    media_type = detect_type(head)
    if media_type is None:
        raise SanitizeError("unsupported file type: only PDF, JPEG and PNG are accepted")
    claimed = _EXTENSIONS.get(src.suffix.lower())
    if src.suffix and claimed != media_type:
        raise SanitizeError(
            f"the file is named {src.suffix!r} but its content is {media_type}; rename it"
        )
    if media_type == PDF:
        report = sanitize_pdf(src, dest)
    else:
        report = Report(media_type)
        data = src.read_bytes()
        clean = _strip_jpeg(data, report) if media_type == JPEG else _strip_png(data, report)
        _check_image(clean)
        dest.write_bytes(clean)
    report.content_hash = _sha256(dest)
    return report


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(1024 * 1024):
            digest.update(block)
    return "sha-256:" + digest.hexdigest()


# --------------------------------------------------------------------------- PDF
def _open_pdf(src: Path) -> pikepdf.Pdf:
    try:
        pdf = pikepdf.open(src)
    except pikepdf.PasswordError:
        raise SanitizeError("the PDF is password-protected; upload an unprotected copy") from None
    except _DAMAGED:
        raise SanitizeError("the PDF is damaged beyond repair") from None
    if pdf.is_encrypted:
        pdf.close()
        raise SanitizeError("the PDF is encrypted; upload an unprotected copy")
    return pdf


def _clean_dict(obj: Any, report: Report, fix: bool) -> None:
    """Drop dangerous entries of one dictionary (an indirect object or a direct child)."""
    for key, label in (
        ("/OpenAction", "open action"),
        ("/AA", "additional actions"),
        ("/Metadata", "XMP metadata"),
        ("/EF", "embedded file"),
        ("/PieceInfo", "private application data"),
    ):
        if key in obj:
            report.removed[label] += 1
            if fix:
                del obj[key]
    action = obj.get("/A")
    if isinstance(action, pikepdf.Dictionary) and action.get("/S") in _BAD_ACTIONS:
        report.removed[f"{str(action.get('/S'))[1:]} action"] += 1
        if fix:
            del obj["/A"]
    if obj.get("/S") in _BAD_ACTIONS and obj.get("/Type", "/Action") == "/Action":
        report.removed[f"{str(obj.get('/S'))[1:]} action"] += 1
        if fix:
            obj["/S"] = pikepdf.Name("/NoOp")
            for key in ("/JS", "/F", "/URI", "/Win", "/Mac", "/Unix", "/Fields"):
                if key in obj:
                    del obj[key]


def _scan(pdf: pikepdf.Pdf, report: Report, fix: bool) -> None:
    root = pdf.Root
    names = root.get("/Names")
    if isinstance(names, pikepdf.Dictionary):
        for key, label in (
            ("/JavaScript", "document JavaScript"),
            ("/EmbeddedFiles", "embedded files"),
        ):
            if key in names:
                report.removed[label] += 1
                if fix:
                    del names[key]
    form = root.get("/AcroForm")
    if isinstance(form, pikepdf.Dictionary) and "/XFA" in form:
        report.removed["XFA form"] += 1
        if fix:
            del form["/XFA"]
            if "/NeedsRendering" in root:
                del root["/NeedsRendering"]
    if "/Collection" in root:
        report.removed["portfolio"] += 1
        if fix:
            del root["/Collection"]
    if "/Info" in pdf.trailer:
        report.removed["document info"] += 1
        if fix:
            del pdf.trailer["/Info"]
    for page in pdf.pages:
        annots = page.obj.get("/Annots")
        if isinstance(annots, pikepdf.Array):
            for annot in annots:
                if isinstance(annot, pikepdf.Dictionary) and not annot.is_indirect:
                    _clean_dict(annot, report, fix)
            keep = [
                a
                for a in annots
                if isinstance(a, pikepdf.Dictionary) and a.get("/Subtype") not in _BAD_ANNOTS
            ]
            if len(keep) != len(annots):
                report.removed["attachment or media annotation"] += len(annots) - len(keep)
                if fix:
                    page.obj["/Annots"] = pikepdf.Array(keep)
    _clean_dict(root, report, fix)
    for obj in pdf.objects:
        if isinstance(obj, pikepdf.Dictionary | pikepdf.Stream):
            if obj.is_indirect and obj.objgen == root.objgen:
                continue
            _clean_dict(obj.stream_dict if isinstance(obj, pikepdf.Stream) else obj, report, fix)
        elif isinstance(obj, pikepdf.Array):
            for item in obj:
                if isinstance(item, pikepdf.Dictionary) and not item.is_indirect:
                    _clean_dict(item, report, fix)
    report.pages = len(pdf.pages)


def sanitize_pdf(src: Path, dest: Path) -> Report:
    report = Report(PDF)
    pdf = _open_pdf(src)
    with pdf:
        try:
            _scan(pdf, report, fix=True)
            pdf.remove_unreferenced_resources()
            with warnings.catch_warnings():  # qpdf's advice on forms is noise here
                warnings.simplefilter("ignore")
                pdf.save(dest, fix_metadata_version=False, linearize=False)
        except _DAMAGED as exc:
            raise SanitizeError("the PDF is damaged beyond repair") from exc
    revalidate_pdf(dest)
    return report


def inspect_pdf(path: Path) -> Report:
    """What :func:`sanitize_pdf` would remove from ``path``, without changing it (the
    authority's client re-checks what it received). A PDF that is encrypted, password-protected
    or damaged raises :class:`SanitizeError`, as for sanitizing."""
    report = Report(PDF)
    with _open_pdf(path) as pdf:
        try:
            _scan(pdf, report, fix=False)
        except _DAMAGED as exc:
            raise SanitizeError("the PDF is damaged beyond repair") from exc
    return report


# What a PDF may carry that the sanitizer strips but that runs nothing: metadata only.
PASSIVE_FINDINGS = frozenset({"document info", "XMP metadata", "private application data"})


def revalidate_pdf(path: Path) -> None:
    """Check a (decrypted) PDF opens, is not encrypted and carries nothing we would strip."""
    report = inspect_pdf(path)
    if report.removed:
        raise SanitizeError("the PDF carries active content: " + ", ".join(report.summary()))


# --------------------------------------------------------------------------- images
_JPEG_DROP = {0xE1, 0xED, 0xFE} | set(range(0xE3, 0xED)) | {0xEF}  # EXIF/XMP, IPTC, COM, APPn
_PNG_KEEP = {
    b"IHDR",
    b"PLTE",
    b"IDAT",
    b"IEND",
    b"tRNS",
    b"gAMA",
    b"cHRM",
    b"sRGB",
    b"iCCP",
    b"sBIT",
    b"pHYs",
    b"bKGD",
    b"acTL",
    b"fcTL",
    b"fdAT",
}


def _strip_jpeg(data: bytes, report: Report) -> bytes:
    out = bytearray(b"\xff\xd8")
    pos = 2
    try:
        while pos < len(data):
            if data[pos] != 0xFF:
                raise SanitizeError("the JPEG is malformed")
            marker = data[pos + 1]
            if marker == 0xFF:
                pos += 1
                continue
            if marker == 0xDA or marker == 0xD9:  # start of scan / end: copy the rest
                out += data[pos:]
                return bytes(out)
            (length,) = struct.unpack(">H", data[pos + 2 : pos + 4])
            segment = data[pos : pos + 2 + length]
            if len(segment) != 2 + length:
                raise SanitizeError("the JPEG is truncated")
            if marker in _JPEG_DROP:
                report.removed["EXIF/XMP/IPTC/comment segment"] += 1
            else:
                out += segment
            pos += 2 + length
    except (struct.error, IndexError) as exc:
        raise SanitizeError("the JPEG is truncated") from exc
    raise SanitizeError("the JPEG has no image data")


def _strip_png(data: bytes, report: Report) -> bytes:
    out = bytearray(data[:8])
    pos = 8
    while pos + 8 <= len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        ctype = data[pos + 4 : pos + 8]
        chunk = data[pos : pos + 12 + length]
        if len(chunk) != 12 + length:
            raise SanitizeError("the PNG is truncated")
        if ctype in _PNG_KEEP:
            out += chunk
        else:
            report.removed[f"PNG {ctype.decode('latin-1')} chunk"] += 1
        pos += 12 + length
        if ctype == b"IEND":
            return bytes(out)
    raise SanitizeError("the PNG is truncated")


def _check_image(data: bytes) -> None:
    import io

    from PIL import Image, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                image.load()
    except (
        UnidentifiedImageError,
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,
        OSError,
        SyntaxError,
        ValueError,
        EOFError,
    ) as exc:
        raise SanitizeError("the image cannot be decoded") from exc
