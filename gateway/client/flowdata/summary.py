"""The PDF summary of an application, laid out by the flow's ``summary.json``.

A small dependency-free PDF writer: A4 pages, the standard Helvetica fonts with
WinAnsiEncoding (German umlauts, ß, §, € and typographic quotes print; other Latin letters
print as their base letter, ş as s), uncompressed text so
that the summary stays readable by any tool, and no dates or ids in the file: the same form
gives the same bytes.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence
from typing import Any

from commons.flows import LANGUAGES, resolve, schema_at
from gateway.client.flowdata._flow import FlowLike, public, text

PAGE_WIDTH, PAGE_HEIGHT, MARGIN = 595, 842, 56
_STYLES = {"title": ("F2", 16, 24), "heading": ("F2", 12, 20), "body": ("F1", 10, 14)}
_WRAP = {"title": 60, "heading": 80, "body": 98}
_YES_NO = {"de": ("Ja", "Nein"), "en": ("Yes", "No")}
_ATTACHED = {"de": "Beigefügte Dokumente", "en": "Attached documents"}
_NONE_ATTACHED = {"de": "Keine Dokumente beigefügt.", "en": "No documents attached."}
_FOOTER = {"de": "Seite {page} von {pages}", "en": "Page {page} of {pages}"}


def _display(field_schema: Mapping[str, Any] | None, value: Any, lang: str) -> str:
    if isinstance(value, bool):
        return _YES_NO[lang][0 if value else 1]
    labels = ((field_schema or {}).get("x-i18n") or {}).get("enum") or {}
    if str(value) in labels:
        return text(labels[str(value)], lang)
    return str(value)


def _label(schema: Mapping[str, Any], pointer: str, item: Mapping[str, Any], lang: str) -> str:
    if "label" in item:
        return text(item["label"], lang)
    field_schema = schema_at(schema, pointer) or {}
    return text((field_schema.get("x-i18n") or {}).get("title"), lang) or pointer


def _lines(
    flow: Mapping[str, Any], data: Any, lang: str, attachments: Sequence[tuple[str, str]]
) -> list[tuple[str, str]]:
    """The summary as (style, text) lines, before wrapping."""
    schema, layout = flow["schema"], flow["summary_layout"]
    lines = [("title", text(layout["title"], lang)), ("body", text(flow["title"], lang))]
    for section in layout["sections"]:
        lines.append(("heading", text(section["heading"], lang)))
        for item in section["fields"]:
            pointer = item["pointer"]
            value = resolve(data, pointer)
            if value is None or value == "":
                continue
            label = _label(schema, pointer, item, lang)
            if "each" in item and isinstance(value, list):
                for number, entry in enumerate(value, start=1):
                    lines.append(("body", f"{label} {number}:"))
                    for sub in item["each"]:
                        sub_value = resolve(entry, sub)
                        if sub_value is None or sub_value == "":
                            continue
                        at = f"{pointer}/0{sub}"
                        sub_label = _label(schema, at, {}, lang)
                        shown = _display(schema_at(schema, at), sub_value, lang)
                        lines.append(("body", f"    {sub_label}: {shown}"))
                continue
            lines.append(("body", f"{label}: {_display(schema_at(schema, pointer), value, lang)}"))
    lines.append(("heading", _ATTACHED[lang]))
    titles = {d["type"]: text(d["title"], lang) for d in flow["documents"]}
    for kind, filename in attachments:
        lines.append(("body", f"{titles.get(kind, kind)}: {filename}"))
    if not attachments:
        lines.append(("body", _NONE_ATTACHED[lang]))
    return lines


def _wrap(line: str, width: int) -> list[str]:
    words, out, current = line.split(" "), [], ""
    for word in words:
        while len(word) > width:  # a very long word (a file name) is cut
            if current:
                out.append(current)
                current = ""
            out.append(word[:width])
            word = word[width:]
        candidate = f"{current} {word}" if current else word
        if len(candidate) > width and current:
            out.append(current)
            current = word
        else:
            candidate = candidate if current else word
            current = candidate
    out.append(current)
    return out


_FALLBACK = {"\u0131": "i", "ł": "l", "Ł": "L", "đ": "d", "Đ": "D", "ħ": "h", "ŀ": "l", "ə": "e"}


def _printable(char: str) -> str:
    """``char`` if the standard fonts print it, else its base letter (ş -> s, the dotless
    i -> i), else ``?``. The summary is for reading; the exact spelling is in the form data."""
    try:
        char.encode("cp1252")
        return char
    except UnicodeEncodeError:
        pass
    base = "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c))
    try:
        return _FALLBACK.get(char) or base.encode("cp1252").decode("cp1252") or "?"
    except UnicodeEncodeError:
        return "?"


def _escape(value: str) -> bytes:
    raw = "".join(_printable(c) for c in value).encode("cp1252")
    return raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")


def _pages(lines: list[tuple[str, str]]) -> list[list[tuple[str, int, str]]]:
    """Lines placed on pages: (style, y, text)."""
    pages: list[list[tuple[str, int, str]]] = [[]]
    y = PAGE_HEIGHT - MARGIN
    for style, line in lines:
        _, _, leading = _STYLES[style]
        for part in _wrap(line, _WRAP[style]):
            if style == "heading":
                y -= 6
            if y - leading < MARGIN + 20:
                pages.append([])
                y = PAGE_HEIGHT - MARGIN
            y -= leading
            pages[-1].append((style, y, part))
    return pages


def _content(placed: list[tuple[str, int, str]], footer: str) -> bytes:
    out = [b"BT"]
    for style, y, line in placed:
        font, size, _ = _STYLES[style]
        out.append(
            b"/%s %d Tf 1 0 0 1 %d %d Tm (%s) Tj" % (font.encode(), size, MARGIN, y, _escape(line))
        )
    out.append(b"/F1 8 Tf 1 0 0 1 %d %d Tm (%s) Tj" % (MARGIN, MARGIN, _escape(footer)))
    out.append(b"ET")
    return b"\n".join(out) + b"\n"


def _pdf(page_streams: list[bytes], title: str) -> bytes:
    count = len(page_streams)
    objects: list[bytes] = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [%s] /Count %d >>"
        % (b" ".join(b"%d 0 R" % (6 + 2 * i) for i in range(count)), count),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>",
        b"<< /Title (%s) /Producer (ozg-commons flowdata) >>" % _escape(title),
    ]
    for i, stream in enumerate(page_streams):
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %d %d] "
            b"/Resources << /Font << /F1 3 0 R /F2 4 0 R >> >> /Contents %d 0 R >>"
            % (PAGE_WIDTH, PAGE_HEIGHT, 7 + 2 * i)
        )
        objects.append(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream))
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R /Info 5 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def summary_pdf(
    flow: FlowLike, data: Any, lang: str = "de", attachments: Sequence[tuple[str, str]] = ()
) -> bytes:
    """The application's summary as PDF bytes, in ``lang``; ``attachments`` are the
    documents sent with it, as (document type, file name)."""
    if lang not in LANGUAGES:
        raise ValueError(f"lang must be one of {LANGUAGES}")
    definition = public(flow)
    pages = _pages(_lines(definition, data, lang, attachments))
    streams = [
        _content(
            placed,
            _FOOTER[lang].format(page=n, pages=len(pages))
            + f" · {definition['id']} {definition['version']}",
        )
        for n, placed in enumerate(pages, start=1)
    ]
    return _pdf(streams, text(definition["summary_layout"]["title"], lang))
