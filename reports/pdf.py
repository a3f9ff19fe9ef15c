"""HTML to PDF with xhtml2pdf, confined to reports/assets and deterministic."""
from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from reportlab import rl_config
from reportlab.lib.units import mm
from xhtml2pdf import pisa
from xhtml2pdf.config.resources import ResourceAccessPolicy
from xhtml2pdf.default import PML_ERROR

ASSETS_DIR = Path(__file__).resolve().parent / "assets"

# Width x height in millimetres. F4 (folio) is what most Indonesian government offices print on.
PAPER_SIZES_MM: dict[str, tuple[int, int]] = {"A4": (210, 297), "F4": (215, 330)}

# The gate for everything a document may fetch (images, stylesheets, @import, fonts):
# no network at all, and local reads only inside reports/assets. link_callback cannot be the
# gate: when it returns None xhtml2pdf fetches the original URL anyway. server() also turns on
# xhtml2pdf's limits on resource size, image pixels, nesting depth and render time.
POLICY = ResourceAccessPolicy.server(ASSETS_DIR, allow_remote=False)

# Tolerance when checking the laid-out page against the paper asked for (mm -> pt rounding).
_SIZE_TOLERANCE_PT = 0.5

_invariant_lock = threading.Lock()


class PaperRenderError(RuntimeError):
    """xhtml2pdf reported errors, or the HTML is not laid out on the paper asked for."""


def paper_size_mm(paper: str) -> tuple[int, int]:
    """(width, height) in mm; ValueError for a paper we do not print on."""
    try:
        return PAPER_SIZES_MM[paper]
    except KeyError:
        raise ValueError(f"unknown paper {paper!r}; expected one of {sorted(PAPER_SIZES_MM)}") from None


def page_size_css(paper: str, *, landscape: bool = False) -> str:
    """The value for `@page { size: ... }`, e.g. "215mm 330mm" ("330mm 215mm" in landscape)."""
    width, height = paper_size_mm(paper)
    if landscape:
        width, height = height, width
    return f"{width}mm {height}mm"


def asset_link(uri: str, _base: str | None) -> str | None:
    """link_callback: a bare file name ("logo.png") names a file in reports/assets.

    Anything else is left as written, for POLICY to refuse.
    """
    if not uri or ":" in uri or Path(uri).name != uri:
        return None
    path = ASSETS_DIR / uri
    return str(path) if path.is_file() else None


@contextmanager
def _invariant_output() -> Iterator[None]:
    """ReportLab's invariant mode: fixed creation date and document ID, so the same HTML
    gives the same bytes. A process-wide setting, so it is on only while we render."""
    with _invariant_lock:
        previous = rl_config.invariant
        rl_config.invariant = 1
        try:
            yield
        finally:
            rl_config.invariant = previous


def render_pdf(html: str, paper: str = "F4", *, landscape: bool = False) -> bytes:
    """Render HTML whose `@page` is sized with `page_size_css(paper, landscape=...)`; return the PDF bytes.

    Raises ValueError for an unknown paper and PaperRenderError if xhtml2pdf reports errors or
    the HTML lays itself out on another page size. Refused resources (network, files outside
    reports/assets) are left out of the document with a logged warning, as xhtml2pdf does.
    """
    width_mm, height_mm = paper_size_mm(paper)
    if landscape:
        width_mm, height_mm = height_mm, width_mm
    out = io.BytesIO()
    with _invariant_output():
        context = pisa.pisaDocument(html, dest=out, link_callback=asset_link, resource_policy=POLICY)
    if context.err:
        errors = "; ".join(msg for mode, _line, msg, _fragment in context.log if mode == PML_ERROR)
        raise PaperRenderError(f"xhtml2pdf reported {context.err} error(s): {errors}")
    width_pt, height_pt = context.pageSize
    if abs(width_pt - width_mm * mm) > _SIZE_TOLERANCE_PT or abs(height_pt - height_mm * mm) > _SIZE_TOLERANCE_PT:
        raise PaperRenderError(
            f"HTML is laid out on {width_pt:.1f} x {height_pt:.1f} pt, not on {paper}"
            f"{' landscape' if landscape else ''}; its @page needs `size: {page_size_css(paper, landscape=landscape)}`"
        )
    return out.getvalue()
