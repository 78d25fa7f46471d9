"""PDF sanitizing speed on a generated 200-page PDF (text, links, annotations, one
JavaScript action per page, metadata).

    .venv/bin/python benchmarks/bench_vault_sanitize.py
    OZG_BENCH_PAGES=2000 .venv/bin/python benchmarks/bench_vault_sanitize.py

Baseline, same run and file: pikepdf open + save with no changes (what any rewrite costs).
Target: >= 1000 pages/s.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

import pikepdf

from vault import sanitize


def make_pdf(path: Path, pages: int) -> None:
    pdf = pikepdf.new()
    font = pdf.make_indirect(
        pikepdf.Dictionary(
            Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1, BaseFont=pikepdf.Name.Helvetica
        )
    )
    for i in range(pages):
        pdf.add_blank_page(page_size=(595, 842))
        page = pdf.pages[-1]
        text = b"".join(
            b"BT /F1 10 Tf 40 %d Td (Line %d of page %d: Aufenthaltstitel) Tj ET\n"
            % (800 - 14 * n, n, i)
            for n in range(50)
        )
        page.Contents = pdf.make_stream(text)
        page.Resources = pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=font))
        js = pikepdf.Dictionary(S=pikepdf.Name.JavaScript, JS=pikepdf.String(f"app.alert({i})"))
        link = pikepdf.Dictionary(
            Type=pikepdf.Name.Annot,
            Subtype=pikepdf.Name.Link,
            Rect=pikepdf.Array([0, 0, 9, 9]),
            A=pikepdf.Dictionary(S=pikepdf.Name.URI, URI=pikepdf.String("http://x.example")),
        )
        page.obj.Annots = pdf.make_indirect(pikepdf.Array([link]))
        page.obj.AA = pikepdf.Dictionary(O=js)
    pdf.docinfo["/Author"] = pikepdf.String("Someone")
    pdf.save(path)


def best(fn: object, runs: int = 5) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    pages = int(os.environ.get("OZG_BENCH_PAGES", "200"))
    with tempfile.TemporaryDirectory() as tmp:
        src, out = Path(tmp) / "in.pdf", Path(tmp) / "out.pdf"
        make_pdf(src, pages)

        def baseline() -> None:
            with pikepdf.open(src) as pdf:
                pdf.save(out)

        def run() -> None:
            sanitize.sanitize_file(src, out)

        t_base, t_run = best(baseline), best(run)
        report = sanitize.sanitize_file(src, out)
    rate = pages / t_run
    print(f"pages                    {pages}")
    print(f"removed                  {'; '.join(report.summary())}")
    print(f"pikepdf open+save        {pages / t_base:8.0f} pages/s")
    print(f"sanitize (incl. re-check and hash) {rate:8.0f} pages/s  ratio {t_base / t_run:.2f}")
    print(
        f"RESULT pages={pages} pages_per_s={rate:.0f} ratio_vs_open_save={t_base / t_run:.2f} "
        f"target_met={rate >= 1000}"
    )


if __name__ == "__main__":
    main()
