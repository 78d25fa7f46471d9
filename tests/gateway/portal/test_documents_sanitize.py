"""The browser's sanitizer (static/js/documents-sanitize.js, pdf-lib) against the Python one
on the Python sanitizer's own hostile fixtures (tests/vault/test_sanitize*.py): the same
findings, label for label and count for count, and an output that the authority's re-check
(``vault.sanitize.revalidate_pdf``) accepts, with nothing of the payloads left. Run under
Node 20 (the same module the page loads)."""

from __future__ import annotations

import json
import os
import struct
import subprocess
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pikepdf
import pytest

from tests.gateway.portal.jsharness import NODE, ROOT, require_node
from tests.vault import test_sanitize as fixtures
from tests.vault import test_sanitize_actions as actions
from vault import sanitize
from vault.errors import SanitizeError

HARNESS = ROOT / "gateway" / "portal" / "js-tests" / "documents.mjs"
NEEDLES = (
    fixtures.CANARY, b"/JavaScript", b"/Launch", b"/XFA", b"EvilTool", b"/EmbeddedFile",
    b"calc.exe", b"evil.example", b"host", b"/RichMedia",
)  # fmt: skip


def run_sanitizer(
    files: list[tuple[str, Path]], out: Path, command: str = "sanitize"
) -> list[dict[str, Any] | None]:
    require_node()
    out.mkdir(exist_ok=True)
    request = out / "request.json"
    body = {"files": [{"name": n, "path": str(p)} for n, p in files], "out": str(out)}
    request.write_text(json.dumps(body))
    proc = subprocess.run(
        [NODE, str(HARNESS), command, str(request)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    answer = json.loads(proc.stdout)
    assert answer["ok"]
    results: list[dict[str, Any] | None] = answer["results"]
    return results


def _hostile_pdfs(tmp: Path) -> list[tuple[str, Path]]:
    made: list[tuple[str, Path]] = []

    def keep(label: str, path: Path) -> None:
        target = tmp / f"{len(made)}.pdf"
        path.replace(target)
        made.append((label, target))

    for kind in actions.REFUSED:
        for place, put in actions.PLACES.items():
            keep(
                f"{kind} at {place}",
                actions._pdf(tmp, _placed(put, kind)),
            )
    for build in (
        fixtures._javascript,
        fixtures._launch,
        fixtures._embedded,
        fixtures._xfa,
        fixtures._xmp,
        fixtures._richmedia_and_submit,
    ):
        keep(build.__name__, fixtures._save(tmp, build))
    extra: dict[str, Callable[[pikepdf.Pdf], object]] = {
        "GoToR to a share": lambda pdf: actions._link(
            pdf,
            A=pikepdf.Dictionary(
                S=pikepdf.Name.GoToR,
                F=pikepdf.String(actions.SHARE),
                D=pikepdf.Array([0, pikepdf.Name.Fit]),
            ),
        ),
        "GoTo to a page number": lambda pdf: actions._link(
            pdf, A=pikepdf.Dictionary(S=pikepdf.Name.GoTo, D=pikepdf.Array([3, "/Fit"]))
        ),
        "GoTo to a missing name": lambda pdf: actions._link(
            pdf, A=pikepdf.Dictionary(S=pikepdf.Name.GoTo, D=pikepdf.String("nowhere"))
        ),
        "Named Print": lambda pdf: actions._link(
            pdf, A=pikepdf.Dictionary(S=pikepdf.Name.Named, N=pikepdf.Name.Print)
        ),
        "allowed chain with a URI": lambda pdf: actions._link(
            pdf,
            A=actions._goto_page(
                pdf,
                Next=pikepdf.Array(
                    [
                        pikepdf.Dictionary(S=pikepdf.Name.Named, N=pikepdf.Name.NextPage),
                        pikepdf.Dictionary(
                            S=pikepdf.Name.URI, URI=pikepdf.String("http://evil.example")
                        ),
                    ]
                ),
            ),
        ),
        "a cyclic Next chain": _cycle,
        "allowed navigation": _navigation,
    }
    for label, make in extra.items():
        keep(label, actions._pdf(tmp, make))
    return made


def _placed(put: actions.Place, kind: str) -> Callable[[pikepdf.Pdf], object]:
    return lambda pdf: put(pdf, actions._action(kind))


def _cycle(pdf: pikepdf.Pdf) -> None:
    first = pdf.make_indirect(pikepdf.Dictionary(S=pikepdf.Name.URI, URI="http://x.test"))
    second = pdf.make_indirect(pikepdf.Dictionary(S=pikepdf.Name.Launch, Next=first))
    first.Next = second
    actions._link(pdf, A=first)


def _navigation(pdf: pikepdf.Pdf) -> None:
    actions._link(pdf, A=actions._goto_page(pdf))
    for name in ("NextPage", "PrevPage", "FirstPage", "LastPage"):
        actions._link(pdf, A=pikepdf.Dictionary(S=pikepdf.Name.Named, N=pikepdf.Name("/" + name)))
    pdf.Root.Dests = pikepdf.Dictionary(chapter=pikepdf.Array([pdf.pages[1].obj, pikepdf.Name.Fit]))
    actions._outline(pdf, pikepdf.Dictionary(S=pikepdf.Name.GoTo, D=pikepdf.Name.chapter))
    pdf.Root.OpenAction = pikepdf.Array([pdf.pages[0].obj, pikepdf.Name.Fit])


@pytest.mark.filterwarnings("ignore:This document has 1 form widget")
def test_the_browser_sanitizer_finds_and_removes_what_the_python_one_does(
    tmp_path: Path,
) -> None:
    (tmp_path / "in").mkdir()
    made = _hostile_pdfs(tmp_path / "in")
    out = tmp_path / "out"
    results = run_sanitizer([(f"{i}.pdf", path) for i, (_l, path) in enumerate(made)], out)
    for index, ((label, path), result) in enumerate(zip(made, results, strict=True)):
        expected = sanitize.sanitize_file(path, tmp_path / "py.pdf").removed
        assert result is not None, label
        assert "error" not in result, (label, result)
        assert result["mediaType"] == "application/pdf"
        assert result["removed"] == dict(expected), label
        cleaned = out / str(index)
        sanitize.revalidate_pdf(cleaned)  # what the authority's client checks
        data = cleaned.read_bytes()
        for needle in NEEDLES:
            assert needle not in data, (label, needle)
    # allowed navigation survives untouched
    with pikepdf.open(out / str(len(made) - 1)) as pdf:
        kinds = [str(a.A.S) for a in pdf.pages[0].obj.Annots]
        assert kinds == ["/GoTo", "/Named", "/Named", "/Named", "/Named"]
        assert str(pdf.Root.Outlines.First.A.D) == "/chapter"
        assert "/OpenAction" in pdf.Root


def test_encrypted_damaged_mismatched_and_image_files(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    encrypted = fixtures._save(
        src, lambda p: None, encryption=pikepdf.Encryption(owner="o", user="u")
    )
    garbage = src / "broken.pdf"
    garbage.write_bytes(b"%PDF-1.7\n" + bytes(range(256)) * 4)
    jpeg = src / "photo.jpg"
    jpeg.write_bytes(fixtures._jpeg_with_exif())
    png = src / "scan.png"
    png.write_bytes(fixtures._png_with_text())
    other = src / "notes.txt"
    other.write_bytes(b"just text")
    files = [
        ("in.pdf", encrypted),
        ("broken.pdf", garbage),
        ("photo.png", jpeg),  # named PNG, is JPEG
        ("photo.jpg", jpeg),
        ("scan.png", png),
        ("notes.txt", other),
    ]
    results = run_sanitizer(files, tmp_path / "out")
    assert results[0] is not None
    assert results[0]["error"] == "encrypted"
    assert results[1] is not None
    assert results[1]["error"] == "damaged"
    with pytest.raises(SanitizeError):
        sanitize.sanitize_file(garbage, tmp_path / "py")  # the Python one refuses it too
    assert results[2] is not None
    assert results[2]["error"] == "mismatch"
    for index, path in ((3, jpeg), (4, png)):
        result = results[index]
        assert result is not None
        expected = sanitize.sanitize_file(path, tmp_path / "py").removed
        assert result["removed"] == dict(expected)
        cleaned = (tmp_path / "out" / str(index)).read_bytes()
        assert cleaned == (tmp_path / "py").read_bytes()  # the same bytes, losslessly
        assert fixtures.CANARY not in cleaned
    assert results[5] is None  # not a type the sanitizer knows: sealed as it is


@pytest.mark.parametrize("where", ["unknown marker", "after the scan", "after the end"])
def test_jpeg_metadata_outside_the_header_is_not_kept_in_the_browser_either(
    tmp_path: Path, where: str
) -> None:
    """The browser walks a JPEG as vault/sanitize.py does: the same bytes out, or refused."""
    src = tmp_path / "photo.jpg"
    src.write_bytes(fixtures._hidden_in_jpeg(where))
    [result] = run_sanitizer([("photo.jpg", src)], tmp_path / "out")
    try:
        sanitize.sanitize_file(src, tmp_path / "py")
    except SanitizeError:
        assert result is not None
        assert result["error"] == "damaged"
        return
    assert result is not None
    assert "error" not in result
    cleaned = (tmp_path / "out" / "0").read_bytes()
    assert cleaned == (tmp_path / "py").read_bytes()
    assert fixtures.CANARY not in cleaned


WINDOW = 1024 * 1024  # documents-sanitize.js reads a File a window at a time


def _scan_data(size: int, ff_at: tuple[int, ...]) -> bytes:
    """Entropy-coded bytes without markers, with a stuffed 0xFF 0x00 or RST at each offset."""
    data = bytearray(os.urandom(size).replace(b"\xff", b"\x7f"))
    for i, at in enumerate(ff_at):
        data[at : at + 2] = b"\xff\x00" if i % 2 == 0 else b"\xff\xd3"
    return bytes(data)


def _segment(marker: int, body: bytes) -> bytes:
    return bytes([0xFF, marker]) + struct.pack(">H", len(body) + 2) + body


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def test_streamed_images_cross_the_read_windows_as_the_python_walk(tmp_path: Path) -> None:
    """sanitizeFile walks a Blob a window at a time: markers, stuffed bytes and chunks that
    straddle a window's edge give the bytes of the Python walk (vault/sanitize.py), and the
    in-memory sanitize the same; images above Pillow's pixel limit are refused by both."""
    src = tmp_path / "src"
    src.mkdir()
    frame = _segment(0xC0, bytes([8]) + struct.pack(">HH", 1200, 1600) + b"\x01\x01\x11\x00")
    scan_head = _segment(0xDA, b"\x01\x01\x00\x00\x3f\x00")
    # the scan data starts a window: stuffed bytes on its last byte and across the next edge
    data = _scan_data(3 * WINDOW, (WINDOW - 1, 2 * WINDOW - 2, 2 * WINDOW + 5))
    jpeg = (
        b"\xff\xd8" + _segment(0xE1, b"Exif\x00\x00" + fixtures.CANARY * 2000) + frame
        + _segment(0xFE, fixtures.CANARY) + scan_head + data + _segment(0xFE, b"between")
        + scan_head + data[:1000] + b"\xff\xd9" + b"trailing " + fixtures.CANARY
    )  # fmt: skip
    ihdr = _png_chunk(b"IHDR", struct.pack(">IIBBBBB", 2000, 1000, 8, 2, 0, 0, 0))
    idat = [_png_chunk(b"IDAT", os.urandom(WINDOW - 7 + i * 333)) for i in range(3)]
    png = (
        b"\x89PNG\r\n\x1a\n" + ihdr + idat[0] + _png_chunk(b"tEXt", b"k\x00" + fixtures.CANARY)
        + idat[1] + _png_chunk(b"eXIf", fixtures.CANARY * 100) + idat[2] + _png_chunk(b"IEND", b"")
    )  # fmt: skip
    bomb = (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", struct.pack(">IIBBBBB", 10_000, 9_000, 8, 2, 0, 0, 0))
        + _png_chunk(b"IEND", b"")
    )
    files = []
    for name, content in (("big.jpg", jpeg), ("big.png", png), ("bomb.png", bomb)):
        (src / name).write_bytes(content)
        files.append((name, src / name))
    streamed = run_sanitizer(files, tmp_path / "streamed", "sanitize-file")
    whole = run_sanitizer(files, tmp_path / "whole")
    for index, strip in ((0, sanitize._strip_jpeg), (1, sanitize._strip_png)):
        report = sanitize.Report(media_type="")
        expected = strip(files[index][1].read_bytes(), report)
        for results, out in ((streamed, "streamed"), (whole, "whole")):
            result = results[index]
            assert result is not None
            assert "error" not in result, result
            assert result["removed"] == dict(report.removed)
            assert (tmp_path / out / str(index)).read_bytes() == expected
        assert fixtures.CANARY not in expected
    assert streamed[2] == whole[2]
    assert streamed[2] is not None
    assert streamed[2]["error"] == "damaged"
    with pytest.raises(SanitizeError):
        sanitize._check_image(bomb)
