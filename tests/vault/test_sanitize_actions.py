"""The PDF sanitizer's action allow-list: only GoTo inside the document and Named page
navigation survive; every other action is removed and reported wherever it sits (issue 14)."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pikepdf
import pytest

from vault import sanitize
from vault.errors import SanitizeError

SHARE = "\\\\host\\share\\x.pdf"
REFUSED = (
    "GoToR", "GoToE", "Launch", "URI", "SubmitForm", "ResetForm", "ImportData", "JavaScript",
    "Sound", "Movie", "Rendition", "Hide", "SetOCGState", "Trans", "GoTo3DView",
    "RichMediaExecute", "Thread", "EvilUnknownAction",
)  # fmt: skip
Place = Callable[[pikepdf.Pdf, pikepdf.Dictionary], object]


def _action(kind: str) -> pikepdf.Dictionary:
    return pikepdf.Dictionary(
        Type=pikepdf.Name.Action,
        S=pikepdf.Name("/" + kind),
        F=pikepdf.String(SHARE),
        D=pikepdf.Array([0, pikepdf.Name.Fit]),
    )


def _link(pdf: pikepdf.Pdf, **entries: Any) -> pikepdf.Dictionary:
    annot = pdf.make_indirect(
        pikepdf.Dictionary(
            Type=pikepdf.Name.Annot,
            Subtype=pikepdf.Name.Link,
            Rect=pikepdf.Array([0, 0, 50, 50]),
            **entries,
        )
    )
    page = pdf.pages[0].obj
    annots = page.get("/Annots") or pikepdf.Array()
    annots.append(annot)
    page.Annots = annots
    return annot


def _goto_page(pdf: pikepdf.Pdf, **entries: Any) -> pikepdf.Dictionary:
    return pikepdf.Dictionary(
        S=pikepdf.Name.GoTo, D=pikepdf.Array([pdf.pages[1].obj, pikepdf.Name.Fit]), **entries
    )


def _outline(pdf: pikepdf.Pdf, action: pikepdf.Dictionary) -> None:
    outlines = pdf.make_indirect(pikepdf.Dictionary(Type=pikepdf.Name.Outlines, Count=1))
    item = pdf.make_indirect(
        pikepdf.Dictionary(Title=pikepdf.String("Chapter"), Parent=outlines, A=action)
    )
    outlines.First = item
    outlines.Last = item
    pdf.Root.Outlines = outlines


def _field(pdf: pikepdf.Pdf, **entries: Any) -> None:
    widget = pdf.make_indirect(
        pikepdf.Dictionary(
            Type=pikepdf.Name.Annot,
            Subtype=pikepdf.Name.Widget,
            FT=pikepdf.Name.Btn,
            T=pikepdf.String("button"),
            Rect=pikepdf.Array([0, 0, 9, 9]),
            **entries,
        )
    )
    pdf.pages[0].obj.Annots = pikepdf.Array([widget])
    pdf.Root.AcroForm = pikepdf.Dictionary(Fields=pikepdf.Array([widget]))


PLACES: dict[str, Place] = {
    "catalog OpenAction": lambda pdf, a: setattr(pdf.Root, "OpenAction", a),
    "catalog AA": lambda pdf, a: setattr(pdf.Root, "AA", pikepdf.Dictionary(WC=a)),
    "page AA": lambda pdf, a: setattr(pdf.pages[0].obj, "AA", pikepdf.Dictionary(O=a)),
    "annotation A": lambda pdf, a: _link(pdf, A=a),
    "annotation A (indirect)": lambda pdf, a: _link(pdf, A=pdf.make_indirect(a)),
    "annotation AA": lambda pdf, a: _link(pdf, AA=pikepdf.Dictionary(E=a)),
    "outline item A": _outline,
    "form field A": lambda pdf, a: _field(pdf, A=a),
    "form field AA": lambda pdf, a: _field(pdf, AA=pikepdf.Dictionary(K=a)),
    "Next of an allowed GoTo": lambda pdf, a: _link(pdf, A=_goto_page(pdf, Next=a)),
    "Next array of an allowed GoTo": lambda pdf, a: _link(
        pdf,
        A=_goto_page(
            pdf, Next=pikepdf.Array([pikepdf.Dictionary(S=pikepdf.Name.Named, N="/NextPage"), a])
        ),
    ),
    "Next of a Next": lambda pdf, a: _link(
        pdf,
        A=pikepdf.Dictionary(
            S=pikepdf.Name.Named,
            N=pikepdf.Name.FirstPage,
            Next=pikepdf.Dictionary(S=pikepdf.Name.Named, N=pikepdf.Name.LastPage, Next=a),
        ),
    ),
}


def _pdf(tmp_path: Path, build: Callable[[pikepdf.Pdf], object]) -> Path:
    pdf = pikepdf.new()
    pdf.add_blank_page(page_size=(200, 200))
    pdf.add_blank_page(page_size=(200, 200))
    build(pdf)
    path = tmp_path / "in.pdf"
    pdf.save(path)
    return path


def _has_action(data: bytes, kind: str) -> bool:
    return re.search(rb"/S\s*/" + kind.encode() + rb"[\s/>\]]", data) is not None


@pytest.mark.filterwarnings("ignore:This document has 1 form widget")
@pytest.mark.parametrize("place", PLACES)
@pytest.mark.parametrize("kind", REFUSED)
def test_every_refused_action_is_removed_and_reported_wherever_it_sits(
    tmp_path: Path, kind: str, place: str
) -> None:
    src = _pdf(tmp_path, lambda pdf: PLACES[place](pdf, _action(kind)))
    assert _has_action(src.read_bytes(), kind)
    with pytest.raises(SanitizeError, match="active content"):
        sanitize.revalidate_pdf(src)
    out = tmp_path / "out.pdf"
    report = sanitize.sanitize_file(src, out)
    label = "unknown action" if kind == "EvilUnknownAction" else f"{kind} action"
    assert report.removed[label] == 1, report.removed
    data = out.read_bytes()
    assert not _has_action(data, kind)
    assert b"host" not in data
    sanitize.revalidate_pdf(out)


def test_a_gotor_to_a_network_share_is_removed_and_reported(tmp_path: Path) -> None:
    """The case from the issue: it used to survive, with nothing reported."""
    remote = pikepdf.Dictionary(
        S=pikepdf.Name.GoToR, F=pikepdf.String(SHARE), D=pikepdf.Array([0, pikepdf.Name.Fit])
    )
    src = _pdf(tmp_path, lambda pdf: _link(pdf, A=remote))
    out = tmp_path / "out.pdf"
    report = sanitize.sanitize_file(src, out)
    assert report.summary() == ["GoToR action: 1"]
    assert b"share" not in out.read_bytes()


def test_allowed_navigation_survives_untouched(tmp_path: Path) -> None:
    def build(pdf: pikepdf.Pdf) -> None:
        _link(pdf, A=_goto_page(pdf))
        for name in ("NextPage", "PrevPage", "FirstPage", "LastPage"):
            _link(pdf, A=pikepdf.Dictionary(S=pikepdf.Name.Named, N=pikepdf.Name("/" + name)))
        pdf.Root.Dests = pikepdf.Dictionary(
            chapter=pikepdf.Array([pdf.pages[1].obj, pikepdf.Name.Fit])
        )
        _outline(pdf, pikepdf.Dictionary(S=pikepdf.Name.GoTo, D=pikepdf.Name.chapter))
        pdf.Root.OpenAction = pikepdf.Array([pdf.pages[0].obj, pikepdf.Name.Fit])

    src = _pdf(tmp_path, build)
    out = tmp_path / "out.pdf"
    report = sanitize.sanitize_file(src, out)
    assert not report.removed, report.removed
    with pikepdf.open(out) as pdf:
        kinds = [str(a.A.S) for a in pdf.pages[0].obj.Annots]
        assert kinds == ["/GoTo", "/Named", "/Named", "/Named", "/Named"]
        assert str(pdf.Root.Outlines.First.A.D) == "/chapter"
        assert "/OpenAction" in pdf.Root


@pytest.mark.parametrize(
    "action",
    [
        # a page number: a destination in some other document (GoToR's form)
        lambda pdf: pikepdf.Dictionary(S=pikepdf.Name.GoTo, D=pikepdf.Array([3, "/Fit"])),
        lambda pdf: pikepdf.Dictionary(S=pikepdf.Name.GoTo, D=pikepdf.Name.nowhere),
        lambda pdf: pikepdf.Dictionary(S=pikepdf.Name.GoTo, D=pikepdf.String("nowhere")),
        lambda pdf: pikepdf.Dictionary(S=pikepdf.Name.GoTo),
        lambda pdf: pikepdf.Dictionary(S=pikepdf.Name.Named, N=pikepdf.Name.Print),
        lambda pdf: pikepdf.Dictionary(S=pikepdf.Name.Named, N=pikepdf.Name.SaveAs),
    ],
)
def test_goto_and_named_outside_the_allow_list_are_removed(
    tmp_path: Path, action: Callable[[pikepdf.Pdf], pikepdf.Dictionary]
) -> None:
    src = _pdf(tmp_path, lambda pdf: _link(pdf, A=action(pdf)))
    out = tmp_path / "out.pdf"
    report = sanitize.sanitize_file(src, out)
    assert sum(report.removed.values()) == 1, report.removed
    with pikepdf.open(out) as pdf:
        assert "/A" not in pdf.pages[0].obj.Annots[0]


def test_an_allowed_action_keeps_only_the_allowed_part_of_its_chain(tmp_path: Path) -> None:
    def build(pdf: pikepdf.Pdf) -> None:
        chain = pikepdf.Array(
            [
                pikepdf.Dictionary(S=pikepdf.Name.Named, N=pikepdf.Name.NextPage),
                pikepdf.Dictionary(S=pikepdf.Name.URI, URI=pikepdf.String("http://evil.example")),
            ]
        )
        _link(pdf, A=_goto_page(pdf, Next=chain))

    src = _pdf(tmp_path, build)
    out = tmp_path / "out.pdf"
    report = sanitize.sanitize_file(src, out)
    assert report.summary() == ["URI action: 1"]
    with pikepdf.open(out) as pdf:
        action = pdf.pages[0].obj.Annots[0].A
        assert action.S == "/GoTo"
        assert [str(a.N) for a in action.Next] == ["/NextPage"]
    assert b"evil.example" not in out.read_bytes()


def test_a_cyclic_next_chain_terminates(tmp_path: Path) -> None:
    def build(pdf: pikepdf.Pdf) -> None:
        first = pdf.make_indirect(pikepdf.Dictionary(S=pikepdf.Name.URI, URI="http://x.test"))
        second = pdf.make_indirect(pikepdf.Dictionary(S=pikepdf.Name.Launch, Next=first))
        first.Next = second
        _link(pdf, A=first)

    src = _pdf(tmp_path, build)
    report = sanitize.sanitize_file(src, tmp_path / "out.pdf")
    assert report.removed["URI action"] == 1
    assert report.removed["Launch action"] == 1
