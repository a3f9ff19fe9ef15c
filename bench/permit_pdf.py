"""Benchmark: printing the permit with reports.papers.render_permit, next to bare xhtml2pdf, and
signing it (TTE) on top.

What it measures
  OURS      reports.papers.render_permit(): the Jinja template filled (autoescaped), the
            verification QR code made, and the HTML rendered by reports.pdf.render_pdf under
            its resource policy (no network, local reads confined to reports/assets), with
            the asset link_callback, ReportLab's invariant mode and the paper-size check.
  BASELINE  xhtml2pdf.pisa.CreatePDF() on the same HTML (from permit_html, made once): no
            policy argument, no link_callback. It runs with reports/assets as the working
            directory so that its default resolution finds the same logo and both sides
            draw the same document.
  SIGNED    what the move out of PENANDATANGANAN does for a signed permit: OURS, then the signer's
            certificate unsealed (Fernet) and opened with its passphrase (app.tte.open_p12: PKCS#12,
            RSA-2048 as BSrE issues), checked (app.tte.check_usable: chain to the trusted root, the
            CRL) and the PDF signed as PAdES B-B (app.tte.sign_pdf, which checks again). The PKI is
            a throw-away one made at start (tests/pki.py); no network, no timestamp server.
The three render the F4 permit --renders times each, interleaved (the order rotates), after a few
warm-up renders; medians are reported. The issue's target: SIGNED - OURS <= 150 ms.

  BATCH (--batch N, default 200; 0 skips it): N permits rendered with the electronic stamp and
            signed as the batch signing job does, through app.tte.workers.render_and_sign in the
            print workers (reports.parallel.worker_pool, --workers, default the CPU count), against
            the same N done one after another in this process (the baseline of this part). Wall
            seconds of each and the speed-up (serial / parallel).

The LAST line printed is one JSON object:
  {"renders", "ours_median_ms", "baseline_median_ms", "ratio" (ours / baseline),
   "signed_median_ms", "signed_ratio" (signed / baseline), "signing_added_ms" (signed - ours, medians),
   "signing_ratio" (signed / ours), "signed_valid" (the last signed PDF checked by app.tte.check_pdf),
   "batch": {"permits", "workers", "serial_seconds", "parallel_seconds", "speedup", "all_valid"} or null}

Usage: python bench/permit_pdf.py [--renders 200] [--batch 200] [--workers 2]
"""
from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import pypdf  # noqa: E402
from xhtml2pdf import pisa  # noqa: E402

from app import tte  # noqa: E402
from reports.papers import permit_html, render_permit  # noqa: E402
from reports.pdf import ASSETS_DIR  # noqa: E402
from tests.paper_samples import LETTERHEAD, PERMIT  # noqa: E402
from tests.pki import build_pki  # noqa: E402

WARMUP = 5


def ours() -> bytes:
    return render_permit(PERMIT, LETTERHEAD)


def baseline(html: str) -> bytes:
    out = io.BytesIO()
    pisa.CreatePDF(html, dest=out)
    return out.getvalue()


class Signing:
    """The signed side: one signer's sealed certificate and the office's trust settings."""

    def __init__(self, directory: Path) -> None:
        pki = build_pki(directory)
        self.passphrase = pki.PASSPHRASE
        self.key = tte.sealing_key({"SECRET_KEY": "bench"})
        self.sealed = tte.seal(pki.p12("signer"), self.key)
        self.trust = tte.TrustSettings.from_config(pki.config)
        self.last = b""

    def signed(self) -> bytes:
        pdf = ours()
        now = dt.datetime.now(dt.timezone.utc)
        credentials = tte.open_p12(tte.unseal(self.sealed, self.key), self.passphrase)
        tte.check_usable(credentials, self.trust, now)  # as the move does before taking a number
        self.last = tte.sign_pdf(pdf, credentials, self.trust, signer_name="Kepala Dinas", reason="Penerbitan izin",
                                 location="Ngabang", now=now).data
        return self.last


def batch(signing: Signing, permits: int, workers: int) -> dict:
    """N stamped permits signed serially here, then by the print workers: the batch signing's two ways."""
    from app.tte.workers import render_and_sign
    from reports.papers import ElectronicStamp
    from reports.parallel import worker_pool

    now = dt.datetime.now(dt.timezone.utc)
    mark = ElectronicStamp(name="Kepala Dinas", nip="197001011990031001", position="Kepala Dinas",
                           signed_at="6 Desember 2026 10.00 WIB")
    p12 = tte.unseal(signing.sealed, signing.key)
    args = (PERMIT, LETTERHEAD, "F4", mark, p12, signing.passphrase, signing.trust, "Penerbitan izin", now)
    started = time.perf_counter()
    serial = [render_and_sign(*args) for _ in range(permits)]
    serial_seconds = time.perf_counter() - started
    with worker_pool(workers) as pool:
        pool.submit(render_and_sign, *args).result()  # the workers started, as the job's pool is before its chunks
        started = time.perf_counter()
        parallel = [future.result() for future in [pool.submit(render_and_sign, *args) for _ in range(permits)]]
        parallel_seconds = time.perf_counter() - started
    valid = all(check.error is None and check.signatures[0].valid
                for check in (tte.check_pdf(signed.data, signing.trust) for signed in (serial[-1], parallel[-1])))
    return {"permits": permits, "workers": workers, "serial_seconds": round(serial_seconds, 2),
            "parallel_seconds": round(parallel_seconds, 2), "speedup": round(serial_seconds / parallel_seconds, 3),
            "all_valid": valid}


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
    parser.add_argument("--batch", type=int, default=200, help="permits of the batch-signing part; 0 skips it")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="print workers of the batch part")
    args = parser.parse_args()

    signing = Signing(Path(tempfile.mkdtemp(prefix="loket-bench-pki-")))
    os.chdir(ASSETS_DIR)  # the baseline's default base directory; see the docstring
    html = permit_html(PERMIT, LETTERHEAD)
    sides: list[tuple[list[float], Callable[[], bytes]]] = [
        ([], ours), ([], lambda: baseline(html)), ([], signing.signed),
    ]
    (pages, images), base_shape, signed_shape = shape(ours()), shape(baseline(html)), shape(signing.signed())
    if not (pages, images) == base_shape == signed_shape:
        raise SystemExit(f"the sides draw different documents: {(pages, images)}, {base_shape}, {signed_shape}")
    for _ in range(WARMUP):
        for _times, render in sides:
            render()

    for round_number in range(args.renders):
        shift = round_number % len(sides)
        for times, render in sides[shift:] + sides[:shift]:
            times.append(timed(render))

    ours_ms, base_ms, signed_ms = (statistics.median(times) for times, _render in sides)
    check = tte.check_pdf(signing.last, signing.trust)
    signed_valid = check.error is None and len(check.signatures) == 1 and check.signatures[0].valid
    print(f"permit: {pages} pages, {images} images (logo, QR code), F4")
    print(f"ours     {ours_ms:8.1f} ms median over {args.renders} renders")
    print(f"baseline {base_ms:8.1f} ms median over {args.renders} renders")
    print(f"signed   {signed_ms:8.1f} ms median over {args.renders} renders (ours + TTE B-B: "
          f"{signed_ms - ours_ms:+.1f} ms; target <= +150 ms); checked: {'valid' if signed_valid else 'NOT VALID'}")
    batch_figures = batch(signing, args.batch, args.workers) if args.batch else None
    if batch_figures:
        print(f"batch    {args.batch} permits signed: {batch_figures['serial_seconds']} s one by one, "
              f"{batch_figures['parallel_seconds']} s in {args.workers} workers ({batch_figures['speedup']}x)")
    print(json.dumps({
        "renders": args.renders,
        "ours_median_ms": round(ours_ms, 2),
        "baseline_median_ms": round(base_ms, 2),
        "ratio": round(ours_ms / base_ms, 3),
        "signed_median_ms": round(signed_ms, 2),
        "signed_ratio": round(signed_ms / base_ms, 3),
        "signing_added_ms": round(signed_ms - ours_ms, 2),
        "signing_ratio": round(signed_ms / ours_ms, 3),
        "signed_valid": signed_valid,
        "batch": batch_figures,
    }))


if __name__ == "__main__":
    main()
