"""The dashboard's charts as inline SVG: data in, markup (str) out.

Pure: no Flask, no database, no script. The markup is printed inline in the page (Markup(...) in
the template): every text and attribute is XML-escaped, links are relative or http(s) only, there
is no <script>, no on* attribute, no external reference and no style attribute; colours are
presentation attributes, so the chart looks the same when app/static/loket/dashboard.js draws it
onto a canvas for the PNG download (a page's stylesheet does not reach an SVG drawn as an image).

Every chart is `role="img"` with an aria-label and a <title>, a 720-wide viewBox scaled to the
page's width, 11-12 px labels. Numbers are written by the caller's `value_text` (Indonesian
formatting is the caller's). A dataset with nothing to draw (no categories, no series, or only
zeros) draws a frame with `empty_text`. A bar or point with an href is wrapped in
<a href class="chart-link" data-count="value">; its tooltip is Bar.title, or "category – series:
value" when that is empty. Same input, same bytes.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from reports import chart_svg as svg
from reports.chart_svg import count_text, el, integer_text

__all__ = ["PALETTE", "Bar", "Palette", "Series", "grouped_bars", "line_chart", "range_bars", "stacked_bars"]

ValueText = Callable[[float], str]


@dataclass(frozen=True)
class Bar:
    """One bar, one segment of a stacked bar, or one point of a line."""
    value: float
    href: str | None = None   # click-through: the shape is wrapped in <a href class="chart-link" data-count>
    title: str = ""           # tooltip (<title> inside the shape)


@dataclass(frozen=True)
class Series:
    name: str                 # legend text
    color: str                # "#RRGGBB"
    bars: Sequence[Bar]       # one per category


@dataclass(frozen=True)
class Palette:
    """Okabe-Ito colours (safe for the common colour-vision deficiencies)."""
    on_time: str = "#009E73"          # bluish green
    due_soon: str = "#E69F00"         # orange (amber)
    overdue: str = "#D55E00"          # vermillion
    received: str = "#0072B2"         # blue
    issued: str = "#009E73"           # bluish green
    returned: str = "#E69F00"         # orange
    rejected: str = "#CC79A7"         # reddish purple
    within_standard: str = "#0072B2"  # range_bars: a bar within the time standard
    over_standard: str = "#D55E00"    # range_bars: a bar over it (the warning colour)
    marker: str = "#000000"           # target line, time standard tick


PALETTE = Palette()

_BAR = 18              # thickness of a horizontal bar
_VERTICAL_HEIGHT = 300
_LINE_HEIGHT = 280


def _link(shape: str, bar: Bar) -> str:
    if not bar.href:
        return shape
    return el("a", {"href": svg.href(bar.href), "class": "chart-link", "data-count": count_text(bar.value)}, shape)


def _tooltip(bar: Bar, category: str, series: Series, value_text: ValueText) -> str:
    return bar.title or f"{category} \u2013 {series.name}: {value_text(bar.value)}"


def _checked(categories: Sequence[str], series: Sequence[Series], *, gaps: bool = False) -> list[Series]:
    """The series with float values (a database may give Decimal), once lengths agree, colours are
    colours and values are finite and not negative (NaN is a gap where `gaps`). A failure is the
    caller's bug, not the user's: ValueError."""
    for one in series:
        svg.color(one.color)
        if len(one.bars) != len(categories):
            raise ValueError(f"series {one.name!r} has {len(one.bars)} values for {len(categories)} categories")
        for bar in one.bars:
            value = float(bar.value)
            if gaps and math.isnan(value):
                continue
            if not math.isfinite(value) or value < 0:
                raise ValueError(f"series {one.name!r}: a chart value is finite and not negative, not {bar.value!r}")
    return [Series(one.name, one.color, [Bar(float(bar.value), bar.href, bar.title) for bar in one.bars])
            for one in series]


def _integers(series: Sequence[Series]) -> bool:
    return all(float(bar.value).is_integer() for one in series for bar in one.bars if not math.isnan(bar.value))


def _legend(series: Sequence[Series], mark: str = "box") -> tuple[str, float]:
    return svg.legend([(one.name, one.color, mark) for one in series])


def stacked_bars(categories: Sequence[str], series: Sequence[Series], *, label: str, empty_text: str,
                 horizontal: bool = True, value_text: ValueText = integer_text) -> str:
    """One bar per category, one segment per series (e.g. stages x on time / due soon / overdue),
    the total at the end of each bar, a legend above. Horizontal: long category labels are cut to
    34 characters with an ellipsis, the full name in their <title>."""
    series = _checked(categories, series)
    totals = [sum(one.bars[i].value for one in series) for i in range(len(categories))]
    if not series or not any(totals):
        return svg.empty(label, empty_text)
    legend, y0 = _legend(series)
    tick_values = svg.ticks(max(totals), integer=_integers(series))
    parts = [legend]
    if horizontal:
        right = _right_column([value_text(total) for total in totals])
        frame = svg.horizontal_frame(categories, tick_values, value_text, y0=y0 + 8, right=right)
        parts.append(frame.markup)
        for index, category in enumerate(categories):
            y = frame.middle(index) - _BAR / 2
            start = 0.0
            for one in series:
                bar = one.bars[index]
                if bar.value <= 0:
                    continue
                x, end = frame.x(start), frame.x(start + bar.value)
                parts.append(_link(el("rect", {
                    "class": "chart-bar", "x": x, "y": y, "width": end - x, "height": _BAR,
                    "fill": svg.color(one.color), "stroke": svg.WHITE, "stroke-width": 0.5,
                }, svg.title(_tooltip(bar, category, one, value_text))), bar))
                start += bar.value
            parts.append(svg.text(frame.x(totals[index]) + 6, y + _BAR / 2 + 4, value_text(totals[index]),
                                  cls="chart-total"))
        return svg.document(label, frame.height, "".join(parts))

    frame = svg.vertical_frame(categories, tick_values, value_text, y0=y0 + 16, height=_VERTICAL_HEIGHT)
    parts.append(frame.markup)
    width = min(frame.slot * 0.6, 48)
    for index, category in enumerate(categories):
        x = frame.center(index) - width / 2
        start = 0.0
        for one in series:
            bar = one.bars[index]
            if bar.value <= 0:
                continue
            y, base = frame.y(start + bar.value), frame.y(start)
            parts.append(_link(el("rect", {
                "class": "chart-bar", "x": x, "y": y, "width": width, "height": base - y,
                "fill": svg.color(one.color), "stroke": svg.WHITE, "stroke-width": 0.5,
            }, svg.title(_tooltip(bar, category, one, value_text))), bar))
            start += bar.value
        parts.append(svg.text(frame.center(index), frame.y(totals[index]) - 5, value_text(totals[index]),
                              size=svg.SMALL_SIZE, anchor="middle", cls="chart-total"))
    return svg.document(label, _VERTICAL_HEIGHT, "".join(parts))


def grouped_bars(categories: Sequence[str], series: Sequence[Series], *, label: str, empty_text: str,
                 value_text: ValueText = integer_text) -> str:
    """Vertical bars, one group per category and one bar per series in it (e.g. months x received,
    issued, returned, rejected). A zero draws no bar."""
    series = _checked(categories, series)
    if not series or not any(bar.value for one in series for bar in one.bars):
        return svg.empty(label, empty_text)
    legend, y0 = _legend(series)
    top = max(bar.value for one in series for bar in one.bars)
    frame = svg.vertical_frame(categories, svg.ticks(top, integer=_integers(series)), value_text,
                               y0=y0 + 12, height=_VERTICAL_HEIGHT)
    parts = [legend, frame.markup]
    group = frame.slot * 0.8
    width = group / len(series)
    for index, category in enumerate(categories):
        left = frame.center(index) - group / 2
        for number, one in enumerate(series):
            bar = one.bars[index]
            if bar.value <= 0:
                continue
            y = frame.y(bar.value)
            parts.append(_link(el("rect", {
                "class": "chart-bar", "x": left + number * width, "y": y, "width": width, "height": frame.y1 - y,
                "fill": svg.color(one.color),
            }, svg.title(_tooltip(bar, category, one, value_text))), bar))
    return svg.document(label, _VERTICAL_HEIGHT, "".join(parts))


def line_chart(categories: Sequence[str], series: Sequence[Series], *, label: str, empty_text: str,
               target: float | None, target_label: str, y_max: float | None = None,
               value_text: ValueText = integer_text) -> str:
    """One line per series over the categories (e.g. % issued within the standard per month), a
    point on every value (a clickable circle where Bar.href is set), and a dashed horizontal line at
    `target` labelled `target_label`. A value of NaN (nothing to measure that month) leaves a gap.
    The y axis runs from 0 to y_max (e.g. 100) or to a round value above the data and the target;
    values above y_max are drawn at the top."""
    series = _checked(categories, series, gaps=True)
    values = [bar.value for one in series for bar in one.bars if not math.isnan(bar.value)]
    if not series or not values:
        return svg.empty(label, empty_text)
    target = None if target is None else float(target)
    if target is not None and not (math.isfinite(target) and target >= 0):
        raise ValueError(f"target is finite and not negative, not {target!r}")
    legend, y0 = _legend(series, "box")
    top = float(y_max) if y_max is not None else max([*values, target or 0.0]) * 1.05
    integer = _integers(series) and (target is None or float(target).is_integer())
    right = 12 if target is None else svg.text_width(target_label, svg.SMALL_SIZE) + 14   # the target's label
    frame = svg.vertical_frame(categories, svg.ticks(top, integer=integer), value_text, y0=y0 + 12,
                               height=_LINE_HEIGHT, right=right)
    parts = [legend, frame.markup]
    if target is not None:
        y = frame.y(target)
        parts.append(el("line", {"class": "chart-target", "x1": frame.x0, "y1": y, "x2": frame.x1, "y2": y,
                                 "stroke": PALETTE.marker, "stroke-width": 1.5, "stroke-dasharray": "6 4"}))
        parts.append(svg.text(frame.x1 + 6, y + 4, target_label, size=svg.SMALL_SIZE, cls="chart-target-label"))
    points: list[str] = []
    for one in series:
        colour = svg.color(one.color)
        path, pen_down = [], False
        for index, bar in enumerate(one.bars):
            if math.isnan(bar.value):
                pen_down = False
                continue
            x, y = frame.center(index), frame.y(bar.value)
            path.append(f"{'L' if pen_down else 'M'}{svg.num(x)} {svg.num(y)}")
            pen_down = True
            points.append(_link(el("circle", {
                "class": "chart-point", "cx": x, "cy": y, "r": 5 if bar.href else 3.5, "fill": colour,
                "stroke": svg.WHITE, "stroke-width": 1.5,
            }, svg.title(_tooltip(bar, categories[index], one, value_text))), bar))
        parts.append(el("path", {"class": "chart-line", "d": " ".join(path), "fill": "none", "stroke": colour,
                                 "stroke-width": 2, "stroke-linejoin": "round"}))
    parts.extend(points)   # over every line, so no line hides a point
    return svg.document(label, _LINE_HEIGHT, "".join(parts))


def range_bars(categories: Sequence[str], median: Sequence[float | None], p90: Sequence[float | None],
               standard: Sequence[float | None], *, label: str, empty_text: str, value_text: ValueText,
               hrefs: Sequence[str | None] | None = None, day_minutes: int | None = None,
               legend_text: tuple[str, str, str, str] = ("Median", "Persentil ke-90", "Mutu baku",
                                                         "Melebihi mutu baku")) -> str:
    """Per stage (working minutes): a bar to the median, a thinner extension with an end cap to the
    90th percentile, a black tick at the stage's time standard; a bar or extension past the standard
    is drawn in PALETTE.over_standard. The median is written right of the plot. `day_minutes` (the
    working day, e.g. 510) puts the axis on whole working days past one day. `legend_text` is
    (median, 90th percentile, time standard, over the standard)."""
    rows = [median, p90, standard, *([hrefs] if hrefs is not None else [])]
    if any(len(values) != len(categories) for values in rows):
        raise ValueError("median, p90, standard and hrefs need one value per category")
    median, p90, standard = ([None if v is None else float(v) for v in values] for values in (median, p90, standard))
    for value in (*median, *p90, *standard):
        if value is not None and not (math.isfinite(value) and value >= 0):
            raise ValueError(f"a working time is finite and not negative, not {value!r}")
    measured = [v for v in (*median, *p90) if v is not None]
    if not categories or not any(measured):
        return svg.empty(label, empty_text)
    name_median, name_p90, name_standard, name_over = legend_text
    legend, y0 = svg.legend([(name_median, PALETTE.within_standard, "box"), (name_p90, PALETTE.within_standard, "thin"),
                             (name_standard, PALETTE.marker, "tick"), (name_over, PALETTE.over_standard, "box")])
    top = max([*measured, *(v for v in standard if v is not None)])
    right = _right_column([value_text(value) for value in median if value is not None])
    frame = svg.horizontal_frame(categories, svg.minute_ticks(top, day_minutes), value_text, y0=y0 + 8, right=right)
    parts = [legend, frame.markup]
    for index, category in enumerate(categories):
        mid, far, limit = median[index], p90[index], standard[index]
        y = frame.middle(index)
        words = [f"{name}: {value_text(value)}" for name, value in ((name_median, mid), (name_p90, far),
                                                                    (name_standard, limit)) if value is not None]
        tooltip = f"{category} \u2013 {', '.join(words)}"
        shapes = []
        if mid is not None and mid > 0:
            shapes.append(el("rect", {"class": "chart-bar", "x": frame.x0, "y": y - 7, "width": frame.x(mid) - frame.x0,
                                      "height": 14, "fill": _fill(mid, limit)}, svg.title(tooltip)))
        if far is not None and far > (mid or 0):
            start, end, fill = frame.x(mid or 0), frame.x(far), _fill(far, limit)
            shapes.append(el("g", {"class": "chart-p90", "fill": fill, "stroke": fill}, "".join((
                el("rect", {"x": start, "y": y - 2, "width": end - start, "height": 4, "stroke": "none"}),
                el("line", {"x1": end, "y1": y - 6, "x2": end, "y2": y + 6, "stroke-width": 2}),
                svg.title(tooltip)))))
        if shapes:
            link = hrefs[index] if hrefs is not None else None
            parts.append(el("a", {"href": svg.href(link), "class": "chart-link"}, "".join(shapes)) if link
                         else "".join(shapes))
        if limit is not None:
            x = frame.x(limit)
            parts.append(el("line", {"class": "chart-standard", "x1": x, "y1": y - 11, "x2": x, "y2": y + 11,
                                     "stroke": PALETTE.marker, "stroke-width": 2},
                            svg.title(f"{category} \u2013 {name_standard}: {value_text(limit)}")))
        parts.append(svg.text(svg.WIDTH - 8, y + 4, value_text(mid) if mid is not None else "\u2013", anchor="end",
                              cls="chart-total"))
    return svg.document(label, frame.height, "".join(parts))


def _right_column(labels: Sequence[str]) -> float:
    """Room right of the plot for the longest of `labels` (a total, a median)."""
    return max(48.0, max((svg.text_width(text, svg.LABEL_SIZE) for text in labels), default=0) + 16)


def _fill(value: float, standard: float | None) -> str:
    return PALETTE.over_standard if standard is not None and value > standard else PALETTE.within_standard
