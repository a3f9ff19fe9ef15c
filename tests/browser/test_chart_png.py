"""The dashboard's "Unduh PNG" (app/static/loket/dashboard.js) in a real chromium, under the app's own
Content-Security-Policy: a chart from reports/charts.py is downloaded as a PNG at twice its size on
white, with no policy violation and no console error.

No app server: Playwright answers a tiny page on an invented origin with the chart, the real
dashboard.js and the policy header built from app/security/headers.py.
"""
from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from app.security.headers import CONTENT_SECURITY_POLICY
from reports.charts import PALETTE, Bar, Series, stacked_bars

pytestmark = pytest.mark.browser

ORIGIN = "http://loket.test"
SCRIPT = Path(__file__).resolve().parents[2] / "app" / "static" / "loket" / "dashboard.js"
_LISTEN = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__cspViolations.push(`${e.effectiveDirective} refused ${e.blockedURI || 'inline'}`);
});
"""


def _chart() -> str:
    return stacked_bars(
        ["Penerimaan Berkas", "Verifikasi Persyaratan Teknis <&> \"Dinas\""],
        [Series("Tepat waktu", PALETTE.on_time, [Bar(12, "/dossierview/list/?a=1&b=2"), Bar(3)]),
         Series("Terlambat", PALETTE.overdue, [Bar(1), Bar(7)])],
        label="Berkas per tahapan", empty_text="Belum ada data")


def _page(chart: str) -> str:
    return ('<!doctype html><html><head><meta charset="utf-8"><title>Dasbor</title></head><body>'
            '<div class="dashboard-panel" data-name="stage-now" style="width:800px">'
            f'{chart}<button type="button" class="btn btn-default btn-xs download-png">Unduh PNG</button></div>'
            '<script src="/static/loket/dashboard.js"></script></body></html>')


def _policy(**changes: str) -> str:
    return "; ".join(f"{name} {value}" for name, value in {**CONTENT_SECURITY_POLICY, **changes}.items())


def _open(browser, policy: str, chart: str):
    context = browser.new_context(accept_downloads=True)
    context.set_default_timeout(10_000)
    context.add_init_script(_LISTEN)

    def answer(route) -> None:
        path = route.request.url.removeprefix(ORIGIN)
        if path == "/":
            route.fulfill(status=200, body=_page(chart), content_type="text/html; charset=utf-8",
                          headers={"Content-Security-Policy": policy})
        elif path == "/static/loket/dashboard.js":
            route.fulfill(status=200, body=SCRIPT.read_text(encoding="utf-8"), content_type="text/javascript")
        else:
            route.fulfill(status=404, body="")

    context.route(f"{ORIGIN}/**", answer)
    page = context.new_page()
    complaints: list[str] = []
    page.on("console", lambda m: complaints.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: complaints.append(str(error)))
    page.goto(f"{ORIGIN}/")
    return context, page, complaints


def test_a_chart_downloads_as_a_png_twice_its_size_on_white_under_the_apps_policy(browser) -> None:
    chart = _chart()
    context, page, complaints = _open(browser, _policy(), chart)
    try:
        with page.expect_download() as info:
            page.click(".download-png")
        download = info.value
        assert download.suggested_filename == "stage-now.png"
        image = Image.open(io.BytesIO(Path(download.path()).read_bytes()))
        assert image.format == "PNG"
        view_box = chart.split('viewBox="0 0 ', 1)[1].split('"', 1)[0].split()
        assert image.size == (int(float(view_box[0])) * 2, int(float(view_box[1])) * 2)
        rgb = image.convert("RGB")
        assert rgb.getpixel((0, 0)) == (255, 255, 255)   # white, not transparent black
        green = tuple(int(PALETTE.on_time[i:i + 2], 16) for i in (1, 3, 5))
        counts = {colour: count for count, colour in rgb.getcolors(maxcolors=1 << 24)}
        assert counts.get(green, 0) > 500   # the bars were drawn
        assert page.evaluate("window.__cspViolations") == [] and complaints == []
    finally:
        context.close()


def test_without_blob_in_img_src_the_policy_refuses_the_drawing(browser) -> None:
    """Why app/security/headers.py allows blob: images: the policy of before refuses them."""
    context, page, _complaints = _open(browser, _policy(**{"img-src": "'self'"}), _chart())
    try:
        page.click(".download-png")
        page.wait_for_function("window.__cspViolations.length > 0")
        assert page.evaluate("window.__cspViolations")[0].startswith("img-src refused blob")
    finally:
        context.close()
