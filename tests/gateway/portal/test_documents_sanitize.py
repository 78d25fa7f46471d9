"""The browser's sanitizer (static/js/documents-sanitize.js, pdf-lib) against the Python one
on the Python sanitizer's own hostile fixtures (tests/vault/test_sanitize*.py): the same
findings, label for label and count for count, and an output that the authority's re-check
(``vault.sanitize.revalidate_pdf``) accepts, with nothing of the payloads left. Run under
Node 20 (the same module the page loads)."""

from __future__ import annotations

import json
import subprocess
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


def run_sanitizer(files: list[tuple[str, Path]], out: Path) -> list[dict[str, Any] | None]:
    require_node()
    out.mkdir(exist_ok=True)
    request = out / "request.json"
    body = {"files": [{"name": n, "path": str(p)} for n, p in files], "out": str(out)}
    request.write_text(json.dumps(body))
    proc = subprocess.run(
        [NODE, str(HARNESS), "sanitize", str(request)],
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
