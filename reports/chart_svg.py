"""The SVG pieces reports/charts.py draws with: escaping, numbers, the document, the axes, the legend.

Pure: no Flask, no database. Markup is built as text; every value that reaches it goes through
esc() (text and attributes) or num() (coordinates, rounded to one decimal), so the result is the
same bytes for the same input and safe to print inline in a page.
"""
from __future__ import annotations

import html
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

SVG_NS = "http://www.w3.org/2000/svg"
WIDTH = 720                       # every chart's viewBox is 720 wide; the page scales it to 100%
FONT = "Helvetica, Arial, sans-serif"
TEXT = "#333333"
MUTED = "#666666"
GRID = "#DDDDDD"
FRAME = "#BBBBBB"
WHITE = "#FFFFFF"
LABEL_SIZE = 12
SMALL_SIZE = 11
EMPTY_HEIGHT = 160

# What XML 1.0 cannot hold: dropped, so a stray control character in a stage name cannot break the page.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_COLOR = re.compile("#[0-9A-Fa-f]{6}")
_LINK_SCHEMES = ("", "http", "https")


def esc(value: object) -> str:
    """Text or an attribute value as XML: & < > " ' escaped, characters XML cannot hold dropped."""
    return html.escape(_NOT_XML.sub("", str(value)), quote=True)


def num(value: float) -> str:
    """A coordinate rounded to one decimal, without a trailing ".0" or a "-0"."""
    text = f"{round(float(value), 1):.1f}"
    if text.endswith(".0"):
        text = text[:-2]
    return "0" if text == "-0" else text


def color(value: str) -> str:
    if not isinstance(value, str) or _COLOR.fullmatch(value) is None:
        raise ValueError(f"a chart colour is #RRGGBB, not {value!r}")
    return value.upper()


def href(value: str) -> str:
    """A click-through link: relative or http(s) only, never javascript: or data:. Browsers ignore
    tabs, line breaks and leading spaces inside a scheme, so any whitespace or control character is
    refused too (the caller's url_for never makes one)."""
    if any(ord(char) <= 0x20 or char in "\\\x7f" for char in value):
        raise ValueError(f"a chart link holds no whitespace or control character: {value!r}")
    if urlsplit(value).scheme.lower() not in _LINK_SCHEMES:
        raise ValueError(f"a chart link is relative or http(s), not {value!r}")
    return value


def el(name: str, attrs: dict[str, object], content: str | None = None) -> str:
    """One element; attributes whose value is None are left out. `content` is markup (already escaped)."""
    parts = [name]
    for key, value in attrs.items():
        if value is None:
            continue
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            parts.append(f'{key}="{num(value)}"')
        else:
            parts.append(f'{key}="{esc(value)}"')
    head = " ".join(parts)
    return f"<{head}/>" if content is None else f"<{head}>{content}</{name}>"


def title(text: str) -> str:
    return f"<title>{esc(text)}</title>" if text else ""


def text(x: float, y: float, content: str, *, size: int = LABEL_SIZE, anchor: str | None = None,
         fill: str = TEXT, cls: str | None = None, full: str | None = None) -> str:
    """A text label; `full` (the untruncated text) becomes its tooltip."""
    inner = esc(content) + (title(full) if full is not None and full != content else "")
    return el("text", {"x": x, "y": y, "font-size": size, "text-anchor": anchor, "fill": fill, "class": cls}, inner)


def text_width(content: str, size: float) -> float:
    """An estimate of the drawn width: the average glyph of Helvetica/Arial is ~0.56 em."""
    return len(content) * size * 0.56


def clip(content: str, max_chars: int) -> str:
    """`content` cut to max_chars with an ellipsis."""
    content = " ".join(str(content).split())
    if len(content) <= max_chars:
        return content
    return content[: max(1, max_chars - 1)].rstrip() + "\u2026"


def document(label: str, height: float, body: str) -> str:
    return (f'<svg xmlns="{SVG_NS}" viewBox="0 0 {WIDTH} {num(height)}" width="100%" role="img" '
            f'aria-label="{esc(label)}" class="chart" font-family="{FONT}" font-size="{LABEL_SIZE}">'
            f"{title(label)}{body}</svg>")


def empty(label: str, empty_text: str) -> str:
    """The chart's frame with `empty_text` in the middle."""
    frame = el("rect", {"class": "chart-frame", "x": 0.5, "y": 0.5, "width": WIDTH - 1, "height": EMPTY_HEIGHT - 1,
                        "fill": "none", "stroke": FRAME})
    return document(label, EMPTY_HEIGHT,
                    frame + text(WIDTH / 2, EMPTY_HEIGHT / 2 + 4, empty_text, anchor="middle", fill=MUTED,
                                 cls="chart-empty"))


# --- scales ------------------------------------------------------------------------------------

def ticks(top: float, *, integer: bool, count: int = 5) -> list[float]:
    """0 and round steps (1, 2, 2.5, 5 x 10^n) up to the first one at or above `top`."""
    top = top if top > 0 else 1.0
    raw = top / count
    power = 10.0 ** math.floor(math.log10(raw))
    step = 10 * power
    for factor in (1, 2, 2.5, 5, 10):
        candidate = factor * power
        if candidate >= raw * (1 - 1e-9) and (not integer or float(candidate).is_integer()):
            step = candidate
            break
    if integer:
        step = max(step, 1.0)
    return _steps_to(top, step)


def minute_ticks(top: float, day_minutes: int | None, count: int = 5) -> list[float]:
    """Steps a person reads as time: minutes and hours; past one working day (when day_minutes is
    known) whole working days, so no tick reads "1 hari 1 jam 30 menit"."""
    top = top if top > 0 else 1.0
    raw = top / count
    if day_minutes and top > day_minutes:
        steps = [day_minutes * m for m in (1, 2, 5, 10, 20, 50, 100)]
    else:
        steps = [1, 2, 5, 10, 15, 30, 60, 120, 240, *(60 * h for h in (8, 24, 48, 120, 240, 480, 1200))]
    step = next((s for s in steps if s >= raw), None)
    if step is None:
        step = steps[-1] * math.ceil(raw / steps[-1])
    return _steps_to(top, float(step))


def _steps_to(top: float, step: float) -> list[float]:
    n = max(1, math.ceil(top / step - 1e-9))
    return [round(i * step, 9) for i in range(n + 1)]


def integer_text(value: float) -> str:
    return str(round(value))


def count_text(value: float) -> str:
    """The value for data-count: an integer without ".0", otherwise as Python writes it."""
    value = float(value)
    return str(int(value)) if value.is_integer() else repr(round(value, 6))


# --- legend ------------------------------------------------------------------------------------

def legend(items: Sequence[tuple[str, str, str]], y: float = 8) -> tuple[str, float]:
    """(text, colour, mark) left to right, wrapping at the chart's width; a mark is "box", "thin",
    "dash" or "tick". Returns the markup and the y below it."""
    parts: list[str] = []
    x, row = 8.0, 18
    for label, colour, mark in items:
        width = 18 + text_width(label, LABEL_SIZE) + 16
        if x > 8 and x + width > WIDTH - 8:
            x, y = 8.0, y + row
        parts.append(_swatch(x, y, color(colour), mark))
        parts.append(text(x + 18, y + 10.5, label))
        x += width
    return el("g", {"class": "chart-legend"}, "".join(parts)), y + row


def _swatch(x: float, y: float, colour: str, mark: str) -> str:
    if mark == "box":
        return el("rect", {"x": x, "y": y, "width": 12, "height": 12, "fill": colour})
    if mark == "thin":
        return el("rect", {"x": x, "y": y + 4, "width": 12, "height": 4, "fill": colour})
    if mark == "dash":
        return el("line", {"x1": x, "y1": y + 6, "x2": x + 14, "y2": y + 6, "stroke": colour, "stroke-width": 2,
                           "stroke-dasharray": "4 3"})
    assert mark == "tick", mark
    return el("line", {"x1": x + 6, "y1": y, "x2": x + 6, "y2": y + 12, "stroke": colour, "stroke-width": 2})


# --- frames: where the categories and the value axis go ------------------------------------------

LABEL_RIGHT = 236   # horizontal charts: category labels end here (text-anchor end) ...
LABEL_CHARS = 34    # ... cut to this many characters (~230 px at 12 px)


@dataclass(frozen=True)
class HorizontalFrame:
    """Categories down the left, values along x from x0 (0) to x1 (top)."""
    x0: float
    x1: float
    y0: float         # top of the first row
    row: float        # height of one row
    top: float        # the value at x1
    height: float     # of the whole chart
    markup: str       # labels, grid and tick labels

    def x(self, value: float) -> float:
        return self.x0 + (self.x1 - self.x0) * min(max(value, 0.0), self.top) / self.top

    def middle(self, index: int) -> float:
        return self.y0 + (index + 0.5) * self.row


def horizontal_frame(categories: Sequence[str], tick_values: Sequence[float], value_text: Callable[[float], str],
                     *, y0: float, right: float, row: float = 28) -> HorizontalFrame:
    x0, x1 = LABEL_RIGHT + 8, WIDTH - right
    bottom = y0 + len(categories) * row
    top = tick_values[-1]
    frame = HorizontalFrame(x0, x1, y0, row, top, bottom + 24, "")
    parts = []
    for value in tick_values:
        x = frame.x(value)
        parts.append(el("line", {"x1": x, "y1": y0, "x2": x, "y2": bottom, "stroke": GRID if value else MUTED}))
        parts.append(text(x, bottom + 15, value_text(value), size=SMALL_SIZE, anchor="middle", fill=MUTED))
    for index, name in enumerate(categories):
        shown = clip(name, LABEL_CHARS)
        parts.append(text(LABEL_RIGHT, frame.middle(index) + 4, shown, anchor="end", full=name, cls="chart-category"))
    return HorizontalFrame(x0, x1, y0, row, top, bottom + 24, el("g", {"class": "chart-axes"}, "".join(parts)))


@dataclass(frozen=True)
class VerticalFrame:
    """Categories along the bottom in equal slots, values up from y1 (0) to y0 (top)."""
    x0: float
    x1: float
    y0: float
    y1: float
    top: float
    count: int
    markup: str

    @property
    def slot(self) -> float:
        return (self.x1 - self.x0) / self.count

    def y(self, value: float) -> float:
        return self.y1 - (self.y1 - self.y0) * min(max(value, 0.0), self.top) / self.top

    def center(self, index: int) -> float:
        return self.x0 + (index + 0.5) * self.slot


def vertical_frame(categories: Sequence[str], tick_values: Sequence[float], value_text: Callable[[float], str],
                   *, y0: float, height: float, right: float = 12) -> VerticalFrame:
    labels = [value_text(value) for value in tick_values]
    x0 = max(40.0, max(text_width(label, SMALL_SIZE) for label in labels) + 14)
    y1 = height - 30
    frame = VerticalFrame(x0, WIDTH - right, y0, y1, tick_values[-1], len(categories), "")
    parts = []
    for value, label in zip(tick_values, labels):
        y = frame.y(value)
        parts.append(el("line", {"x1": x0, "y1": y, "x2": frame.x1, "y2": y, "stroke": GRID if value else MUTED}))
        parts.append(text(x0 - 6, y + 4, label, size=SMALL_SIZE, anchor="end", fill=MUTED))
    chars = max(3, int(frame.slot / (SMALL_SIZE * 0.56)))
    for index, name in enumerate(categories):
        parts.append(text(frame.center(index), y1 + 16, clip(name, chars), size=SMALL_SIZE, anchor="middle",
                          full=name, cls="chart-category"))
    return VerticalFrame(x0, frame.x1, y0, y1, frame.top, frame.count, el("g", {"class": "chart-axes"},
                                                                           "".join(parts)))
