"""Imported by the print forkserver only (the last entry of reports.parallel's preload list): warms
what every print worker would otherwise set up on its first document, then freezes the heap.

Each worker is forked from the forkserver, so whatever the forkserver has loaded or cached is
there in every worker for free: xhtml2pdf's default stylesheet and fonts, the PIL image plugins
a logo or QR code needs, segno, pypdf's filters. A first document in a cold worker costs about
half as much again as a warm one.

gc.freeze() then moves everything loaded so far into the permanent generation: a worker's full
collections no longer walk the preloaded modules (hundreds of thousands of objects), nor write to
their pages, which would copy them out of the memory the workers share with the forkserver.

Do not import this module anywhere else: importing it renders a page and freezes the importing
process's heap.
"""
from __future__ import annotations

import gc
import io

import pypdf

from reports.pdf import page_size_css, render_pdf
from reports.qr import qr_data_uri


def warm_up() -> None:
    """One small document through the same path a permit takes: layout, fonts, a PNG, a merge."""
    html = (
        "<html><head><style>"
        f"@page {{ size: {page_size_css('F4')}; margin: 20mm; }}"
        "body { font-family: Helvetica; font-size: 10pt; } .b { font-weight: bold; }"
        "td { border: 0.5pt solid #888888; padding: 2pt; }"
        "</style></head><body>"
        "<p class='b'>Loket</p><p><i>pemanasan</i></p><table><tr><td>1</td><td>2</td></tr></table>"
        f"<img src='{qr_data_uri('https://loket.invalid/verifikasi/0')}' width='80' height='80'>"
        "</body></html>"
    )
    pdf = render_pdf(html, "F4")
    writer = pypdf.PdfWriter()
    writer.append(pypdf.PdfReader(io.BytesIO(pdf)))
    writer.write(io.BytesIO())


try:
    warm_up()
except Exception:  # noqa: BLE001 - the forkserver stops on any error but ImportError; cold workers still print
    pass
gc.collect()
gc.freeze()
