"""Sanitizing on the client, before encryption: PDF (pikepdf), JPEG and PNG.

PDF: actions are kept by an allow-list: only GoTo to a destination inside the document and the
Named actions NextPage, PrevPage, FirstPage and LastPage survive; every other action (GoToR,
Launch, URI, SubmitForm, JavaScript, any unknown type, ...) is removed wherever it hangs
(catalog OpenAction, annotations' and outline items' and form fields' A, inside /Next chains),
and additional actions (AA) go whole. Also removed: document JavaScript, embedded files and
attachment annotations; XFA forms; RichMedia, Screen, Movie and Sound annotations; the document
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
    if not head:
        raise SanitizeError("the file is empty")
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


# Actions kept (an allow-list): GoTo to a destination inside this document, and Named actions
# that move between pages. Every other action type is removed and reported, wherever it sits.
ALLOWED_NAMED_ACTIONS = frozenset({"/NextPage", "/PrevPage", "/FirstPage", "/LastPage"})
# Action types of ISO 32000-2 (12.6.4): how an untyped dictionary is recognised as an action
# where no slot says so.
_ACTION_TYPES = frozenset({
    "/GoTo", "/GoToR", "/GoToE", "/GoToDp", "/Launch", "/Thread", "/URI", "/Sound", "/Movie",
    "/Hide", "/Named", "/SubmitForm", "/ResetForm", "/ImportData", "/SetOCGState",
    "/Rendition", "/Trans", "/GoTo3DView", "/JavaScript", "/RichMediaExecute",
})  # fmt: skip
# Keys whose values are actions (handled where they sit, not again by the walk).
_ACTION_SLOTS = ("/A", "/OpenAction", "/AA", "/Next")
_DROPPED_KEYS = (
    ("/Metadata", "XMP metadata"),
    ("/EF", "embedded file"),
    ("/PieceInfo", "private application data"),
)


class _PdfCleaner:
    """One pass over every object of a PDF: removes (``fix``) or only reports what is not
    allowed. Actions are judged by the allow-list; ``/AA`` (actions run by events, without
    the reader asking) goes whole."""

    def __init__(self, pdf: pikepdf.Pdf, report: Report, fix: bool) -> None:
        self.report = report
        self.fix = fix
        self.pages = {page.obj.objgen for page in pdf.pages}
        root = pdf.Root
        dests = root.get("/Dests")
        self.named_dests: set[str] = (
            {str(k) for k in dests.keys()} if isinstance(dests, pikepdf.Dictionary) else set()
        )
        names = root.get("/Names")
        tree = names.get("/Dests") if isinstance(names, pikepdf.Dictionary) else None
        self.string_dests = pikepdf.NameTree(tree) if isinstance(tree, pikepdf.Dictionary) else None
        self.reported: set[tuple[int, int]] = set()

    # ------------------------------------------------------------------ judging
    def _inside(self, dest: Any) -> bool:
        """Whether ``dest`` is a destination in this document (explicit or named)."""
        if isinstance(dest, pikepdf.Array):
            if len(dest) == 0:
                return False
            page = dest[0]
            return isinstance(page, pikepdf.Dictionary) and page.objgen in self.pages
        if isinstance(dest, pikepdf.Name):
            return str(dest) in self.named_dests
        if isinstance(dest, pikepdf.String):
            return self.string_dests is not None and str(dest) in self.string_dests
        return False

    def _allowed(self, action: Any) -> bool:
        """Whether the action itself (not its ``/Next``) is on the allow-list."""
        if not isinstance(action, pikepdf.Dictionary):
            return False
        kind = action.get("/S")
        if kind == "/GoTo":
            return self._inside(action.get("/D"))
        if kind == "/Named":
            return str(action.get("/N")) in ALLOWED_NAMED_ACTIONS
        return False

    @staticmethod
    def _label(action: Any) -> str:
        kind = action.get("/S") if isinstance(action, pikepdf.Dictionary) else None
        if isinstance(kind, pikepdf.Name) and str(kind) in _ACTION_TYPES:
            return f"{str(kind)[1:]} action"
        return "unknown action"

    # ------------------------------------------------------------------ removing
    def _drop_chain(self, action: Any, seen: set[int] | None = None) -> None:
        """Report ``action`` and everything in its ``/Next`` chain; empty indirect ones, so
        that no other reference to them keeps anything."""
        seen = seen if seen is not None else set()
        if not isinstance(action, pikepdf.Dictionary) or id(action) in seen:
            return
        if action.is_indirect:
            if action.objgen in self.reported:
                return
            self.reported.add(action.objgen)
        seen.add(id(action))
        self.report.removed[self._label(action)] += 1
        following = action.get("/Next")
        for item in following if isinstance(following, pikepdf.Array) else [following]:
            self._drop_chain(item, seen)
        if self.fix and action.is_indirect:
            for key in list(action.keys()):
                del action[key]

    def _keep_or_drop(self, action: Any, depth: int = 0) -> bool:
        """Whether ``action`` may stay; an allowed one keeps only the allowed part of its
        ``/Next`` chain (the rest is dropped here)."""
        if depth > 64 or not self._allowed(action):
            return False
        following = action.get("/Next")
        if following is None:
            return True
        if isinstance(following, pikepdf.Array):
            items = list(following)
            flags = [self._keep_or_drop(item, depth + 1) for item in items]
            for item, kept in zip(items, flags, strict=True):
                if not kept:
                    self._drop_chain(item)
            if self.fix and not all(flags):
                kept_items = [item for item, kept in zip(items, flags, strict=True) if kept]
                action["/Next"] = pikepdf.Array(kept_items)
        elif not self._keep_or_drop(following, depth + 1):
            self._drop_chain(following)
            if self.fix:
                del action["/Next"]
        return True

    def _slot(self, parent: Any, key: str, label: str | None = None) -> None:
        """Judge the action at ``parent[key]``; remove it (and report) unless allowed."""
        action = parent[key]
        if self._keep_or_drop(action):
            return
        if label is not None:
            self.report.removed[label] += 1
        self._drop_chain(action)
        if self.fix:
            del parent[key]

    # ------------------------------------------------------------------ walking
    def visit(self, obj: Any) -> None:
        """Clean one dictionary and, recursively, its direct (not indirect) children."""
        for key, label in _DROPPED_KEYS:
            if key in obj:
                self.report.removed[label] += 1
                if self.fix:
                    del obj[key]
        if "/AA" in obj:
            self.report.removed["additional actions"] += 1
            triggers = obj["/AA"]
            if isinstance(triggers, pikepdf.Dictionary):
                for trigger in triggers.values():
                    self._drop_chain(trigger)
            if self.fix:
                del obj["/AA"]
        if "/OpenAction" in obj:
            opening = obj["/OpenAction"]
            if isinstance(opening, pikepdf.Array):
                if not self._inside(opening):
                    self.report.removed["open action"] += 1
                    if self.fix:
                        del obj["/OpenAction"]
            else:
                self._slot(obj, "/OpenAction", "open action")
        action = obj.get("/A")
        if isinstance(action, pikepdf.Dictionary) and ("/S" in action or "/Type" in action):
            self._slot(obj, "/A")
        if self._looks_like_action(obj) and not self._keep_or_drop(obj):
            self._drop_chain(obj)
        for key, value in obj.items():
            if key in _ACTION_SLOTS:
                continue
            self._descend(value)

    def walk_array(self, array: Any) -> None:
        """Clean the direct dictionaries inside an (indirect) array."""
        for item in array:
            self._descend(item)

    def _descend(self, value: Any) -> None:
        if isinstance(value, pikepdf.Dictionary) and not value.is_indirect:
            self.visit(value)
        elif isinstance(value, pikepdf.Array) and not value.is_indirect:
            for item in value:
                self._descend(item)

    @staticmethod
    def _looks_like_action(obj: Any) -> bool:
        if obj.get("/Type") == "/Action":
            return True
        return "/Type" not in obj and str(obj.get("/S")) in _ACTION_TYPES


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
            keep = [
                a
                for a in annots
                if isinstance(a, pikepdf.Dictionary) and a.get("/Subtype") not in _BAD_ANNOTS
            ]
            if len(keep) != len(annots):
                report.removed["attachment or media annotation"] += len(annots) - len(keep)
                if fix:
                    page.obj["/Annots"] = pikepdf.Array(keep)
    cleaner = _PdfCleaner(pdf, report, fix)
    for obj in pdf.objects:
        if isinstance(obj, pikepdf.Stream):
            cleaner.visit(obj.stream_dict)
        elif isinstance(obj, pikepdf.Dictionary):
            cleaner.visit(obj)
        elif isinstance(obj, pikepdf.Array):
            cleaner.walk_array(obj)
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
# kept: SOF0-15, DHT, DAC (0xC0-0xCF), DQT, DNL, DRI, DHP, EXP (0xDB-0xDF), SOS, JFIF (APP0),
# ICC profile (APP2), Adobe (APP14)
_JPEG_KEEP = set(range(0xC0, 0xD0)) | set(range(0xDB, 0xE0)) | {0xDA, 0xE0, 0xE2, 0xEE}
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
    """The JPEG's marker segments by an allow-list (frame, tables, restart interval, JFIF,
    ICC profile, Adobe), the scans' entropy-coded data as it is, and nothing after EOI. A
    metadata segment between scans is dropped too; a marker JPEG does not define is refused.
    """
    out = bytearray(b"\xff\xd8")
    pos = 2
    try:
        while pos < len(data):
            if data[pos] != 0xFF:
                raise SanitizeError("the JPEG is malformed")
            marker = data[pos + 1]
            if marker == 0xFF:  # fill byte
                pos += 1
                continue
            if marker == 0xD9:  # end of image: what follows is not the image's
                out += b"\xff\xd9"
                return bytes(out)
            if marker not in _JPEG_KEEP and marker not in _JPEG_DROP:
                raise SanitizeError("the JPEG is malformed")
            (length,) = struct.unpack(">H", data[pos + 2 : pos + 4])
            segment = data[pos : pos + 2 + length]
            if length < 2 or len(segment) != 2 + length:
                raise SanitizeError("the JPEG is truncated")
            pos += 2 + length
            if marker in _JPEG_DROP:
                report.removed["EXIF/XMP/IPTC/comment segment"] += 1
                continue
            out += segment
            if marker == 0xDA:  # start of scan: entropy-coded data up to the next marker
                end = _scan_end(data, pos)
                out += data[pos:end]
                pos = end
    except (struct.error, IndexError) as exc:
        raise SanitizeError("the JPEG is truncated") from exc
    raise SanitizeError("the JPEG has no end of image")


def _scan_end(data: bytes, pos: int) -> int:
    """Where the entropy-coded data from ``pos`` ends: at the first marker that is not a
    stuffed zero or a restart marker (RST0-7)."""
    while True:
        pos = data.find(b"\xff", pos)
        if pos < 0:
            raise SanitizeError("the JPEG is truncated")
        follower = data[pos + 1]
        if follower == 0x00 or 0xD0 <= follower <= 0xD7:
            pos += 2
            continue
        return pos


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
