"""The dashboard's SVG charts (reports/charts.py): what each draws, its links, its escaping, and
that the markup is safe to print inline in a page under the CSP.

No Flask app: reports/ is pure, data in and markup out. Every chart is parsed back as XML.
"""
from __future__ import annotations

import math
import re
from decimal import Decimal
from xml.etree import ElementTree

import pytest

from reports.charts import PALETTE, Bar, Series, grouped_bars, line_chart, range_bars, stacked_bars

NS = "{http://www.w3.org/2000/svg}"
HOSTILE = '<script>alert("x")</script> & \'kutip\''
EMPTY = "Belum ada data"


def parse(svg: str) -> ElementTree.Element:
    root = ElementTree.fromstring(svg)
    assert root.tag == f"{NS}svg"
    return root


def shapes(root: ElementTree.Element, tag: str, cls: str) -> list[ElementTree.Element]:
    return [e for e in root.iter(f"{NS}{tag}") if e.get("class") == cls]


def links(root: ElementTree.Element) -> list[tuple[str, str | None]]:
    return [(a.get("href"), a.get("data-count")) for a in root.iter(f"{NS}a")]


def texts(root: ElementTree.Element) -> list[str]:
    return ["".join(e.itertext()) if e.find(f"{NS}title") is None else (e.text or "") for e in root.iter(f"{NS}text")]


def thousands(value: float) -> str:
    return f"{round(value):,}".replace(",", ".")


def minutes_text(value: float) -> str:
    days, rest = divmod(round(value), 510)
    hours, minutes = divmod(rest, 60)
    words = [f"{days} hari" if days else "", f"{hours} jam" if hours else "", f"{minutes} menit" if minutes else ""]
    return " ".join(w for w in words if w) or "0 menit"


STAGES = ["Penerimaan Berkas", "Verifikasi Persyaratan Teknis oleh Tim Dinas Lingkungan Hidup", "Penandatanganan"]


def stage_series() -> list[Series]:
    return [
        Series("Tepat waktu", PALETTE.on_time, [Bar(12, "/dossierview/list/?stage=1&sla=ok"), Bar(3), Bar(1200)]),
        Series("Jatuh tempo", PALETTE.due_soon, [Bar(0, "/never"), Bar(2, "/dossierview/list/?stage=2&sla=soon"),
                                                 Bar(5)]),
        Series("Terlambat", PALETTE.overdue, [Bar(1, title="Satu berkas terlambat"), Bar(0), Bar(0)]),
    ]


MONTHS = ["Jan 2026", "Feb 2026", "Mar 2026"]


def month_series() -> list[Series]:
    return [
        Series("Diterima", PALETTE.received, [Bar(40, "/m/1/diterima"), Bar(35), Bar(0)]),
        Series("Terbit", PALETTE.issued, [Bar(30), Bar(31, "/m/2/terbit"), Bar(2)]),
        Series("Dikembalikan", PALETTE.returned, [Bar(4), Bar(0), Bar(1)]),
        Series("Ditolak", PALETTE.rejected, [Bar(1), Bar(0), Bar(0)]),
    ]


def all_charts() -> dict[str, str]:
    return {
        "stacked": stacked_bars(STAGES, stage_series(), label="Berkas per tahapan", empty_text=EMPTY),
        "stacked_vertical": stacked_bars(MONTHS, month_series(), label="Per bulan", empty_text=EMPTY,
                                         horizontal=False),
        "grouped": grouped_bars(MONTHS, month_series(), label="Per bulan", empty_text=EMPTY),
        "line": line_chart(MONTHS, [Series("% tepat waktu", PALETTE.received, [Bar(80, "/l/1"), Bar(math.nan),
                                                                               Bar(95.5)])],
                           label="Tepat waktu", empty_text=EMPTY, target=90, target_label="Target 90%", y_max=100),
        "range": range_bars(STAGES, [10, 700, None], [25, 1300, None], [15, 1020, 510], label="Waktu per tahap",
                            empty_text=EMPTY, value_text=minutes_text, hrefs=["/r/1", None, "/r/3"],
                            day_minutes=510),
    }


# --- every chart --------------------------------------------------------------------------------

@pytest.mark.parametrize("name", list(all_charts()))
def test_every_chart_is_an_accessible_scalable_svg(name: str) -> None:
    root = parse(all_charts()[name])
    assert root.get("role") == "img"
    assert root.get("aria-label")
    assert root.find(f"{NS}title").text == root.get("aria-label")
    assert root.get("width") == "100%"
    assert re.fullmatch(r"0 0 720 \d+(\.\d)?", root.get("viewBox"))
    sizes = {e.get("font-size") for e in root.iter(f"{NS}text")} | {root.get("font-size")}
    assert sizes <= {"11", "12"}


@pytest.mark.parametrize("name", list(all_charts()))
def test_every_chart_is_safe_to_print_inline_under_the_policy(name: str) -> None:
    svg = all_charts()[name]
    root = parse(svg)
    for element in root.iter():
        assert element.tag.removeprefix(NS) not in {"script", "foreignObject", "image", "use", "style", "iframe"}
        for attribute, value in element.attrib.items():
            assert not attribute.lower().startswith("on"), attribute
            assert attribute != "style"
            if attribute == "href":
                assert value.startswith("/"), value
    assert "url(" not in svg and "xlink" not in svg and "http" not in svg.replace('xmlns="http://www.w3.org/', "")


@pytest.mark.parametrize("name", list(all_charts()))
def test_every_chart_rounds_coordinates_to_one_decimal_and_is_the_same_bytes_every_time(name: str) -> None:
    svg = all_charts()[name]
    assert svg == all_charts()[name]
    numbers = re.findall(r'(?:x|y|x1|x2|y1|y2|cx|cy|r|width|height)="(-?[\d.]+)"', svg)
    assert numbers and all(re.fullmatch(r"-?\d+(\.\d)?", n) for n in numbers)
    for d in re.findall(r' d="([^"]+)"', svg):
        assert all(re.fullmatch(r"-?\d+(\.\d)?", n) for n in re.findall(r"-?[\d.]+", d))


def test_an_empty_dataset_draws_the_frame_with_the_empty_text() -> None:
    nothing = [Series("Tepat waktu", PALETTE.on_time, [Bar(0), Bar(0)])]
    charts = [
        stacked_bars([], [], label="a", empty_text=EMPTY),
        stacked_bars(["A", "B"], nothing, label="a", empty_text=EMPTY),   # only zeros: nothing to draw
        stacked_bars(["A", "B"], nothing, label="a", empty_text=EMPTY, horizontal=False),
        grouped_bars([], [], label="b", empty_text=EMPTY),
        line_chart(["A", "B"], [Series("x", PALETTE.received, [Bar(math.nan), Bar(math.nan)])], label="c",
                   empty_text=EMPTY, target=90, target_label="Target"),
        range_bars(["A"], [None], [None], [30], label="d", empty_text=EMPTY, value_text=minutes_text),
    ]
    for svg in charts:
        root = parse(svg)
        assert texts(root) == [EMPTY]
        assert len(shapes(root, "rect", "chart-frame")) == 1
        assert not shapes(root, "rect", "chart-bar") and not list(root.iter(f"{NS}a"))


def test_hostile_text_is_escaped_everywhere_it_is_printed() -> None:
    series = [Series(HOSTILE, PALETTE.on_time, [Bar(3, title=HOSTILE)])]
    charts = [
        stacked_bars([HOSTILE], series, label=HOSTILE, empty_text=EMPTY),
        stacked_bars([HOSTILE], series, label=HOSTILE, empty_text=EMPTY, horizontal=False),
        grouped_bars([HOSTILE], series, label=HOSTILE, empty_text=EMPTY, value_text=lambda v: HOSTILE),
        line_chart([HOSTILE], series, label=HOSTILE, empty_text=EMPTY, target=1, target_label=HOSTILE),
        range_bars([HOSTILE], [3], [4], [5], label=HOSTILE, empty_text=EMPTY, value_text=lambda v: HOSTILE),
        stacked_bars([], [], label=HOSTILE, empty_text=HOSTILE),
    ]
    for svg in charts:
        root = parse(svg)   # would fail on a stray "<" or "&"
        assert "<script" not in svg and "</script>" not in svg
        assert root.get("aria-label") == HOSTILE
        assert HOSTILE in [e.text for e in root.iter(f"{NS}title")] + texts(root)
        assert not list(root.iter(f"{NS}script"))


def test_characters_xml_cannot_hold_are_dropped_not_fatal() -> None:
    root = parse(stacked_bars(["Tahap\x00 satu\x1b"], [Series("x", "#112233", [Bar(1)])], label="a\x07",
                              empty_text=EMPTY))
    assert "Tahap satu" in texts(root)


def test_bad_input_from_the_caller_is_refused() -> None:
    good = [Series("x", PALETTE.received, [Bar(1)])]
    with pytest.raises(ValueError, match="relative or http"):
        stacked_bars(["A"], [Series("x", PALETTE.received, [Bar(1, "javascript:alert(1)")])], label="a",
                     empty_text=EMPTY)
    with pytest.raises(ValueError, match="whitespace"):
        grouped_bars(["A"], [Series("x", PALETTE.received, [Bar(1, "java\tscript:alert(1)")])], label="a",
                     empty_text=EMPTY)
    with pytest.raises(ValueError, match="RRGGBB"):
        grouped_bars(["A"], [Series("x", 'red" onload="x', [Bar(1)])], label="a", empty_text=EMPTY)
    with pytest.raises(ValueError, match="2 values for 1 categories"):
        stacked_bars(["A"], [Series("x", PALETTE.received, [Bar(1), Bar(2)])], label="a", empty_text=EMPTY)
    with pytest.raises(ValueError, match="not negative"):
        grouped_bars(["A"], [Series("x", PALETTE.received, [Bar(-1)])], label="a", empty_text=EMPTY)
    with pytest.raises(ValueError, match="not negative"):
        stacked_bars(["A"], [Series("x", PALETTE.received, [Bar(math.nan)])], label="a", empty_text=EMPTY)
    with pytest.raises(ValueError, match="one value per category"):
        range_bars(["A", "B"], [1, 2], [3], [4, 5], label="a", empty_text=EMPTY, value_text=minutes_text)
    assert parse(grouped_bars(["A"], good, label="a", empty_text=EMPTY))   # and the good one draws


def test_decimal_values_from_the_database_draw_exactly_like_floats() -> None:
    def with_decimals(series: list[Series]) -> list[Series]:
        return [Series(s.name, s.color, [Bar(Decimal(str(b.value)), b.href, b.title) for b in s.bars]) for s in series]

    assert stacked_bars(STAGES, with_decimals(stage_series()), label="a", empty_text=EMPTY) == \
        stacked_bars(STAGES, stage_series(), label="a", empty_text=EMPTY)
    assert line_chart(MONTHS, with_decimals(month_series()), label="a", empty_text=EMPTY, target=Decimal("2.5"),
                      target_label="T") == \
        line_chart(MONTHS, month_series(), label="a", empty_text=EMPTY, target=2.5, target_label="T")
    assert range_bars(["A"], [Decimal("10.5")], [Decimal(20)], [Decimal(15)], label="a", empty_text=EMPTY,
                      value_text=minutes_text) == \
        range_bars(["A"], [10.5], [20.0], [15.0], label="a", empty_text=EMPTY, value_text=minutes_text)


def test_palette_colours_are_distinct_okabe_ito_hex_colours() -> None:
    okabe_ito = {"#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7", "#000000"}
    assert {PALETTE.on_time, PALETTE.due_soon, PALETTE.overdue} <= okabe_ito
    monthly = [PALETTE.received, PALETTE.issued, PALETTE.returned, PALETTE.rejected]
    assert len(set(monthly)) == 4 and set(monthly) <= okabe_ito
    assert len({PALETTE.on_time, PALETTE.due_soon, PALETTE.overdue}) == 3
    assert PALETTE.over_standard != PALETTE.within_standard


# --- stacked bars -------------------------------------------------------------------------------

def test_stacked_bars_draw_a_segment_per_non_zero_value_with_its_links_and_totals() -> None:
    root = parse(stacked_bars(STAGES, stage_series(), label="Berkas per tahapan", empty_text=EMPTY,
                              value_text=thousands))
    bars = shapes(root, "rect", "chart-bar")
    assert len(bars) == 6   # 9 values, 3 of them zero
    assert links(root) == [("/dossierview/list/?stage=1&sla=ok", "12"), ("/dossierview/list/?stage=2&sla=soon", "2")]
    assert [a.get("class") for a in root.iter(f"{NS}a")] == ["chart-link", "chart-link"]
    assert [e.text for e in root.iter(f"{NS}text") if e.get("class") == "chart-total"] == ["13", "5", "1.205"]
    assert [b.get("fill") for b in bars] == [PALETTE.on_time, PALETTE.overdue, PALETTE.on_time, PALETTE.due_soon,
                                             PALETTE.on_time, PALETTE.due_soon]
    tooltips = [b.find(f"{NS}title").text for b in bars]
    assert tooltips[0] == "Penerimaan Berkas \u2013 Tepat waktu: 12"
    assert tooltips[1] == "Satu berkas terlambat"   # Bar.title wins
    legend = [e.text for e in root.iter(f"{NS}text") if e.get("class") is None and e.text in
              {"Tepat waktu", "Jatuh tempo", "Terlambat"}]
    assert legend == ["Tepat waktu", "Jatuh tempo", "Terlambat"]


def test_stacked_segments_follow_each_other_and_are_as_long_as_their_share() -> None:
    root = parse(stacked_bars(["A"], [Series("x", PALETTE.on_time, [Bar(30)]), Series("y", PALETTE.overdue,
                                                                                        [Bar(10)])],
                              label="a", empty_text=EMPTY))
    first, second = shapes(root, "rect", "chart-bar")
    assert float(first.get("x")) + float(first.get("width")) == pytest.approx(float(second.get("x")), abs=0.11)
    assert float(first.get("width")) == pytest.approx(3 * float(second.get("width")), abs=0.3)


def test_a_long_stage_name_is_cut_with_an_ellipsis_and_kept_whole_in_its_title() -> None:
    root = parse(stacked_bars(STAGES, stage_series(), label="a", empty_text=EMPTY))
    labels = [e for e in root.iter(f"{NS}text") if e.get("class") == "chart-category"]
    assert [e.text for e in labels][0] == "Penerimaan Berkas" and labels[0].find(f"{NS}title") is None
    long = labels[1]
    assert long.text.endswith("\u2026") and len(long.text) <= 34 and STAGES[1].startswith(long.text[:-1])
    assert long.find(f"{NS}title").text == STAGES[1]


def test_vertical_stacked_bars_stack_upwards() -> None:
    root = parse(stacked_bars(MONTHS, month_series(), label="a", empty_text=EMPTY, horizontal=False))
    bars = shapes(root, "rect", "chart-bar")
    assert len(bars) == 8   # 12 values, 4 of them zero
    first, second = bars[0], bars[1]   # January: received, then issued on top
    assert float(second.get("y")) + float(second.get("height")) == pytest.approx(float(first.get("y")), abs=0.11)
    assert ("/m/1/diterima", "40") in links(root)


# --- grouped bars -------------------------------------------------------------------------------

def test_grouped_bars_draw_a_bar_per_non_zero_value_side_by_side() -> None:
    root = parse(grouped_bars(MONTHS, month_series(), label="Per bulan", empty_text=EMPTY))
    bars = shapes(root, "rect", "chart-bar")
    assert len(bars) == 8   # 12 values, 4 of them zero
    assert links(root) == [("/m/1/diterima", "40"), ("/m/2/terbit", "31")]
    january = bars[:4]
    xs = [float(b.get("x")) for b in january]
    assert xs == sorted(xs) and len(set(xs)) == 4
    bottoms = {round(float(b.get("y")) + float(b.get("height")), 1) for b in bars}
    assert len(bottoms) == 1   # all stand on the axis
    heights = {b.find(f"{NS}title").text: float(b.get("height")) for b in january}
    assert heights["Jan 2026 \u2013 Diterima: 40"] == pytest.approx(40 * heights["Jan 2026 \u2013 Ditolak: 1"],
                                                                      rel=0.01)
    assert [e.text for e in root.iter(f"{NS}text") if e.get("class") == "chart-category"] == MONTHS


# --- line chart ---------------------------------------------------------------------------------

def test_line_chart_draws_points_a_gap_for_nan_and_a_labelled_dashed_target() -> None:
    values = [Bar(80, "/l/1"), Bar(math.nan), Bar(95.5), Bar(100, "/l/4", title="April")]
    root = parse(line_chart(MONTHS + ["Apr 2026"], [Series("% tepat waktu", PALETTE.received, values)],
                            label="Tepat waktu", empty_text=EMPTY, target=90, target_label="Target 90%", y_max=100,
                            value_text=lambda v: f"{v:.1f}%".replace(".", ",")))
    points = shapes(root, "circle", "chart-point")
    assert len(points) == 3
    assert links(root) == [("/l/1", "80"), ("/l/4", "100")]
    (line,) = shapes(root, "path", "chart-line")
    assert line.get("d").count("M") == 2 and line.get("d").count("L") == 1   # broken at the gap
    (target,) = shapes(root, "line", "chart-target")
    assert target.get("stroke-dasharray")
    assert [e.text for e in root.iter(f"{NS}text") if e.get("class") == "chart-target-label"] == ["Target 90%"]
    # 100 % is the top of the axis, 90 % sits a tenth of the way down, 0 % at the bottom
    ys = {p.find(f"{NS}title").text: float(p.get("cy")) for p in points}
    top, bottom = ys["April"], float(target.get("y1"))
    assert ys["Jan 2026 \u2013 % tepat waktu: 80,0%"] - top == pytest.approx(2 * (bottom - top), abs=0.2)
    assert "100,0%" in texts(root) and "0,0%" in texts(root)


def test_line_chart_without_target_draws_no_target_line() -> None:
    root = parse(line_chart(MONTHS, [Series("x", PALETTE.received, [Bar(1), Bar(2), Bar(3)])], label="a",
                            empty_text=EMPTY, target=None, target_label="Target"))
    assert not shapes(root, "line", "chart-target") and "Target" not in texts(root)
    assert len(shapes(root, "circle", "chart-point")) == 3 and not links(root)


# --- range bars ---------------------------------------------------------------------------------

def test_range_bars_draw_median_p90_and_standard_and_warn_past_the_standard() -> None:
    root = parse(range_bars(STAGES, [10, 700, None], [25, 1000, None], [15, 1020, 510], label="Waktu",
                            empty_text=EMPTY, value_text=minutes_text, hrefs=["/r/1", None, "/r/3"],
                            day_minutes=510))
    medians = shapes(root, "rect", "chart-bar")
    extensions = shapes(root, "g", "chart-p90")
    standards = shapes(root, "line", "chart-standard")
    assert len(medians) == 2 and len(extensions) == 2 and len(standards) == 3
    # Stage 1: median 10 within its standard 15, P90 25 past it; stage 2: both within 1020.
    assert [m.get("fill") for m in medians] == [PALETTE.within_standard, PALETTE.within_standard]
    assert [e.get("fill") for e in extensions] == [PALETTE.over_standard, PALETTE.within_standard]
    # the third stage has no measure: no bar, so no link, but its standard is marked
    assert [a.get("href") for a in root.iter(f"{NS}a")] == ["/r/1"]
    assert [e.text for e in root.iter(f"{NS}text") if e.get("class") == "chart-total"] == [
        "10 menit", "1 hari 3 jam 10 menit", "\u2013"]
    assert medians[1].find(f"{NS}title").text == (
        f"{STAGES[1]} \u2013 Median: 1 hari 3 jam 10 menit, Persentil ke-90: 1 hari 8 jam 10 menit, "
        "Mutu baku: 2 hari")
    assert {"1 hari", "2 hari"} <= set(texts(root))   # the axis counts working days


def test_range_bars_draw_a_median_over_the_standard_in_the_warning_colour() -> None:
    root = parse(range_bars(["A", "B"], [40, 5], [60, 8], [30, 10], label="a", empty_text=EMPTY,
                            value_text=minutes_text))
    medians = shapes(root, "rect", "chart-bar")
    assert [m.get("fill") for m in medians] == [PALETTE.over_standard, PALETTE.within_standard]
    standard_x = float(shapes(root, "line", "chart-standard")[0].get("x1"))
    assert float(medians[0].get("x")) + float(medians[0].get("width")) > standard_x
    assert [e.get("fill") for e in shapes(root, "g", "chart-p90")] == [PALETTE.over_standard,
                                                                       PALETTE.within_standard]
    assert {"0 menit", "15 menit", "30 menit", "45 menit", "1 jam"} <= set(texts(root))   # an hour: minute steps
