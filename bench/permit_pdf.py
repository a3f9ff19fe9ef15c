"""Benchmark: printing the permit with reports.papers.render_permit, next to bare xhtml2pdf.

What it measures
  OURS      reports.papers.render_permit(): the Jinja template filled (autoescaped), the
            verification QR code made, and the HTML rendered by reports.pdf.render_pdf under
            its resource policy (no network, local reads confined to reports/assets), with
            the asset link_callback, ReportLab's invariant mode and the paper-size check.
  BASELINE  xhtml2pdf.pisa.CreatePDF() on the same HTML (from permit_html, made once): no
            policy argument, no link_callback. It runs with reports/assets as the working
            directory so that its default resolution finds the same logo and both sides
            draw the same document.
Both render the two-page F4 permit --renders times each, interleaved (which one goes first
alternates), after a few warm-up renders; medians are reported.

The LAST line printed is one JSON object:
  {"renders", "ours_median_ms", "baseline_median_ms", "ratio" (ours / baseline)}

Usage: python bench/permit_pdf.py [--renders 200]
"""
from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import pypdf  # noqa: E402
from xhtml2pdf import pisa  # noqa: E402

from reports.papers import permit_html, render_permit  # noqa: E402
from reports.pdf import ASSETS_DIR  # noqa: E402
from tests.paper_samples import LETTERHEAD, PERMIT  # noqa: E402

WARMUP = 5


def ours() -> bytes:
    return render_permit(PERMIT, LETTERHEAD)


def baseline(html: str) -> bytes:
    out = io.BytesIO()
    pisa.CreatePDF(html, dest=out)
    return out.getvalue()


def shape(pdf: bytes) -> tuple[int, int]:
    """(pages, images): both sides must draw the same document for the comparison to hold."""
    pages = pypdf.PdfReader(io.BytesIO(pdf)).pages
    return len(pages), sum(len(page.images) for page in pages)


def timed(render: Callable[[], bytes]) -> float:
    started = time.perf_counter()
    render()
    return (time.perf_counter() - started) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--renders", type=int, default=200, help="renders of each side, interleaved; default 200")
    args = parser.parse_args()

    os.chdir(ASSETS_DIR)  # the baseline's default base directory; see the docstring
    html = permit_html(PERMIT, LETTERHEAD)
    sides: list[tuple[list[float], Callable[[], bytes]]] = [([], ours), ([], lambda: baseline(html))]
    (pages, images), base_shape = shape(ours()), shape(baseline(html))
    if (pages, images) != base_shape:
        raise SystemExit(f"the two sides draw different documents: {(pages, images)} vs {base_shape}")
    for _ in range(WARMUP):
        for _times, render in sides:
            render()

    for round_number in range(args.renders):
        order = sides if round_number % 2 == 0 else sides[::-1]
        for times, render in order:
            times.append(timed(render))

    ours_ms, base_ms = (statistics.median(times) for times, _render in sides)
    print(f"permit: {pages} pages, {images} images (logo, QR code), F4")
    print(f"ours     {ours_ms:8.1f} ms median over {args.renders} renders")
    print(f"baseline {base_ms:8.1f} ms median over {args.renders} renders")
    print(json.dumps({
        "renders": args.renders,
        "ours_median_ms": round(ours_ms, 2),
        "baseline_median_ms": round(base_ms, 2),
        "ratio": round(ours_ms / base_ms, 3),
    }))


if __name__ == "__main__":
    main()
