"""Charts drawn on the server as SVG. Plain Python, no Django, no JavaScript.

A chart is a string of SVG markup that a page can include inline, a PDF can embed, and a
file can hold. What it promises:

* **Self-contained**: no script, no external font, stylesheet or image, and no ``style``
  attribute or element (the site's Content-Security-Policy allows no inline styles);
  everything is drawn with presentation attributes and the generic ``sans-serif`` font.
* **Accessible**: ``role="img"`` with a ``<title>`` and ``<desc>`` referenced by
  ``aria-labelledby``; every point and bar carries its own ``<title>`` with its value.
* **Readable without colour**: the Okabe-Ito palette (safe for the common forms of colour
  blindness), and every series also has its own marker shape and dash pattern, so a
  black-and-white print still tells the lines apart. A white background keeps dark text
  readable on a dark page and in print.
* **Honest about gaps**: a missing or suppressed value (``None``) is drawn as a gap: no
  point, and the line breaks rather than bridging the missing year.
* **Scalable and deterministic**: sizes go through ``viewBox`` (no width or height, so the
  chart fills its container), coordinates are rounded to 0.1, and the same input gives
  byte-identical output (the element id is derived from the content unless given).

All text passed in is XML-escaped; characters XML cannot hold (control characters) are
dropped.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape

SVG_NAMESPACE = "http://www.w3.org/2000/svg"

# Okabe & Ito (2008), "Color Universal Design", without the yellow (too light on white).
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000")
DASHES = ("", "8 4", "2 3", "8 3 2 3", "4 4", "12 3 2 3 2 3", "1 5")
MARKERS = ("circle", "square", "triangle", "diamond", "triangle-down", "plus", "cross")

TEXT = "#1a1a1a"
GRID = "#d0d0d0"
AXIS = "#4d4d4d"
FONT_SIZE = 12
TITLE_SIZE = 15
# Average glyph width of a sans-serif font as a share of its size: used to reserve room for
# labels without measuring text (which would need the font itself).
GLYPH_WIDTH = 0.6

_ID = re.compile(r"[A-Za-z][A-Za-z0-9_-]*\Z")
# Characters XML 1.0 cannot hold at all, even escaped.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


@dataclass(frozen=True)
class Series:
    """One line: a ``name`` for the legend and one value per year (``None``: no value)."""

    name: str
    values: Sequence[float | None]


@dataclass(frozen=True)
class Bar:
    label: str
    value: float | None  # None: missing or suppressed, drawn as no bar and ``missing`` text


def _text(value: str) -> str:
    """Text made safe for element content and for attribute values in double quotes."""
    return escape(_NOT_XML.sub("", str(value)), {'"': "&quot;", "'": "&apos;"})


def _n(number: float) -> str:
    """A coordinate: rounded to 0.1, without a trailing ".0", never "-0"."""
    text = f"{round(number, 1):.1f}".removesuffix(".0")
    return "0" if text == "-0" else text


def _attrs(**attributes: object) -> str:
    # A trailing underscore lets Python names stand for reserved words (class_); other
    # underscores become hyphens as in SVG (stroke_width -> stroke-width).
    parts = []
    for name, value in attributes.items():
        if value is None:
            continue
        key = name.rstrip("_").replace("_", "-")
        if isinstance(value, float):
            value = _n(value)
        parts.append(f' {key}="{_text(str(value))}"')
    return "".join(parts)


def _element(tag: str, content: str = "", **attributes: object) -> str:
    if content:
        return f"<{tag}{_attrs(**attributes)}>{content}</{tag}>"
    return f"<{tag}{_attrs(**attributes)}/>"


def default_format(value: float, percent: bool) -> str:
    """A value as printed on a chart: whole numbers without decimals, others with one."""
    text = f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}"
    return f"{text}%" if percent else text


def nice_scale(maximum: float, *, whole: bool, ticks: int = 5) -> tuple[float, float]:
    """``(top, step)`` of an axis from 0 that holds ``maximum``: step 1, 2, 2.5 or 5 times a
    power of ten, giving about ``ticks`` intervals; ``whole`` keeps steps whole numbers."""
    if maximum <= 0:
        return (float(ticks) if whole else 1.0, 1.0 if whole else 0.2)
    raw = maximum / ticks
    power = 10 ** math.floor(math.log10(raw))
    step = next(f * power for f in (1, 2, 2.5, 5, 10) if f * power >= raw)
    if whole:
        step = max(1.0, float(math.ceil(step)))
    return (math.ceil(maximum / step - 1e-9) * step, step)


def _chart_id(chart_id: str | None, *parts: object) -> str:
    if chart_id is not None:
        if not _ID.match(chart_id):
            raise ValueError(f"a chart id is a letter then letters, digits, - or _: {chart_id!r}")
        return chart_id
    digest = hashlib.sha256(repr(parts).encode("utf-8")).hexdigest()[:12]
    return f"chart-{digest}"


def _check_value(value: float | None, top: float, what: str) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
        raise ValueError(f"{what} is not a number: {value!r}")
    if not 0 <= value <= top:
        raise ValueError(f"{what} {value} lies outside the axis 0 to {_n(top)}")


def _text_width(text: str, size: float = FONT_SIZE) -> float:
    return len(text) * size * GLYPH_WIDTH


def _marker(shape: str, x: float, y: float, colour: str, tip: str | None) -> str:
    """A marker shape about 8 units across. With a ``tip`` it is a data point (class
    "point", the tip as its tooltip); without, a legend sample."""
    r = 4.0
    content = "" if tip is None else _element("title", _text(tip))
    kind = None if tip is None else "point"
    common = {"fill": colour, "stroke": "#ffffff", "stroke_width": 1.0, "class_": kind}
    if shape == "circle":
        return _element("circle", content, cx=x, cy=y, r=r, **common)
    if shape == "square":
        s = r * 0.9
        return _element("rect", content, x=x - s, y=y - s, width=2 * s, height=2 * s, **common)
    if shape in ("plus", "cross"):
        a = r * 1.2
        if shape == "plus":
            d = f"M{_n(x - a)} {_n(y)}H{_n(x + a)}M{_n(x)} {_n(y - a)}V{_n(y + a)}"
        else:
            b = a * 0.8
            d = (
                f"M{_n(x - b)} {_n(y - b)}L{_n(x + b)} {_n(y + b)}"
                f"M{_n(x - b)} {_n(y + b)}L{_n(x + b)} {_n(y - b)}"
            )
        return _element(
            "path", content, d=d, fill="none", stroke=colour, stroke_width=2.5, class_=kind
        )
    a = r * 1.25
    points = {
        "triangle": [(x, y - a), (x + a, y + a * 0.8), (x - a, y + a * 0.8)],
        "triangle-down": [(x, y + a), (x + a, y - a * 0.8), (x - a, y - a * 0.8)],
        "diamond": [(x, y - a), (x + a, y), (x, y + a), (x - a, y)],
    }[shape]
    d = "M" + "L".join(f"{_n(px)} {_n(py)}" for px, py in points) + "Z"
    return _element("path", content, d=d, **common)


def _frame(chart_id: str, width: float, height: float, title: str, description: str) -> str:
    """The opening of the SVG: root element, title, description and white background."""
    return (
        f'<svg xmlns="{SVG_NAMESPACE}" viewBox="0 0 {_n(width)} {_n(height)}" role="img"'
        f' aria-labelledby="{chart_id}-title {chart_id}-desc" font-family="sans-serif"'
        f' font-size="{FONT_SIZE}" fill="{TEXT}">'
        + _element("title", _text(title), id=f"{chart_id}-title")
        + _element("desc", _text(description), id=f"{chart_id}-desc")
        + _element("rect", x=0, y=0, width=width, height=height, fill="#ffffff")
    )


def _heading(title: str, left: float, show: bool) -> tuple[str, float]:
    """The visible title, if shown, and the height it takes."""
    if not show:
        return ("", 8.0)
    text = _element(
        "text",
        _text(title),
        x=left,
        y=float(TITLE_SIZE + 6),
        font_size=TITLE_SIZE,
        font_weight="bold",
        aria_hidden="true",
    )
    return (text, TITLE_SIZE + 18.0)


def _note(note: str, left: float, y: float) -> tuple[str, float]:
    if not note:
        return ("", 0.0)
    return (
        _element("text", _text(note), x=left, y=y + FONT_SIZE, font_size=FONT_SIZE - 1),
        FONT_SIZE + 8.0,
    )


def line_chart(
    *,
    title: str,
    description: str,
    years: Sequence[int],
    series: Sequence[Series],
    percent: bool = True,
    y_max: float | None = None,
    y_label: str = "",
    note: str = "",
    width: float = 640,
    plot_height: float = 240,
    show_title: bool = True,
    chart_id: str | None = None,
    format_value: Callable[[float], str] | None = None,
) -> str:
    """Several series over years, as SVG.

    ``percent``: the values are percentages and the axis runs from 0 to 100 (or to a
    round number at or above ``y_max``); otherwise they are counts and the axis runs from
    0 to a round number above the largest. Each series has one value per year, ``None``
    where there is none (drawn as a gap). ``description`` is the text alternative: say
    in words what the chart shows. ``format_value`` prints a value for the tooltips and
    the axis (e.g. with a decimal comma for Dutch); by default whole numbers plain,
    others with one decimal, and "%" added for percentages.
    """
    years = list(years)
    if not years:
        raise ValueError("a line chart needs at least one year")
    if sorted(set(years)) != years:
        raise ValueError("the years must be ascending and distinct")
    if not series:
        raise ValueError("a line chart needs at least one series")
    for line in series:
        if len(line.values) != len(years):
            raise ValueError(
                f"series {line.name!r} has {len(line.values)} values, not {len(years)}"
            )

    def fmt(value: float) -> str:
        return format_value(value) if format_value else default_format(value, percent)

    known = [v for line in series for v in line.values if v is not None]
    if y_max is not None:
        top, step = nice_scale(y_max, whole=not percent)
    elif percent:
        top, step = 100.0, 20.0
    else:
        top, step = nice_scale(max(known, default=0.0), whole=True)
    for line in series:
        for value in line.values:
            _check_value(value, top, f"a value of {line.name!r}")

    tick_values = [i * step for i in range(round(top / step) + 1)]
    tick_labels = [fmt(v) for v in tick_values]
    left = 12 + max(_text_width(label) for label in tick_labels)
    right = 16.0
    plot_width = width - left - right
    heading, top_space = _heading(title, 12, show_title)
    label_space = FONT_SIZE + 8.0 if y_label else 0.0
    plot_top = top_space + label_space + 6
    plot_bottom = plot_top + plot_height

    def x_of(year: int) -> float:
        if len(years) == 1:
            return left + plot_width / 2
        inset = min(24.0, plot_width / (2 * len(years)))
        span = plot_width - 2 * inset
        return left + inset + span * (year - years[0]) / (years[-1] - years[0])

    def y_of(value: float) -> float:
        return plot_bottom - plot_height * value / top

    parts: list[str] = [heading]
    if y_label:
        parts.append(_element("text", _text(y_label), x=12.0, y=top_space + FONT_SIZE))
    grid = []
    for value, label in zip(tick_values, tick_labels, strict=True):
        y = y_of(value)
        colour = AXIS if value == 0 else GRID
        grid.append(_element("line", x1=left, y1=y, x2=left + plot_width, y2=y, stroke=colour))
        grid.append(_element("text", _text(label), x=left - 6, y=y + 4, text_anchor="end"))
    parts.append(_element("g", "".join(grid), class_="y-axis", aria_hidden="true"))
    axis = [_element("line", x1=left, y1=plot_top, x2=left, y2=plot_bottom, stroke=AXIS)]
    for year in years:
        x = x_of(year)
        axis.append(_element("line", x1=x, y1=plot_bottom, x2=x, y2=plot_bottom + 5, stroke=AXIS))
        axis.append(_element("text", str(year), x=x, y=plot_bottom + 18, text_anchor="middle"))
    parts.append(_element("g", "".join(axis), class_="x-axis", aria_hidden="true"))

    for index, line in enumerate(series):
        colour = PALETTE[index % len(PALETTE)]
        dash = DASHES[index % len(DASHES)] or None
        shape = MARKERS[index % len(MARKERS)]
        drawn: list[str] = []
        run: list[tuple[float, float]] = []
        runs: list[list[tuple[float, float]]] = []
        for year, value in zip(years, line.values, strict=True):
            if value is None:
                if run:
                    runs.append(run)
                run = []
                continue
            run.append((x_of(year), y_of(value)))
        if run:
            runs.append(run)
        for points in runs:
            if len(points) > 1:
                drawn.append(
                    _element(
                        "polyline",
                        points=" ".join(f"{_n(x)},{_n(y)}" for x, y in points),
                        fill="none",
                        stroke=colour,
                        stroke_width=2.0,
                        stroke_dasharray=dash,
                        stroke_linejoin="round",
                    )
                )
        for year, value in zip(years, line.values, strict=True):
            if value is not None:
                tip = f"{line.name}, {year}: {fmt(value)}"
                drawn.append(_marker(shape, x_of(year), y_of(value), colour, tip))
        parts.append(_element("g", "".join(drawn), class_="series"))

    # Legend: a sample of each line (colour, dash, marker) and its name, wrapped into rows.
    legend: list[str] = []
    x, y = left, plot_bottom + 40
    row_height = FONT_SIZE + 10
    for index, line in enumerate(series):
        item_width = 34 + _text_width(line.name) + 18
        if x > left and x + item_width > width - right:
            x, y = left, y + row_height
        colour = PALETTE[index % len(PALETTE)]
        dash = DASHES[index % len(DASHES)] or None
        sample = _element(
            "line",
            x1=x,
            y1=y,
            x2=x + 28,
            y2=y,
            stroke=colour,
            stroke_width=2.0,
            stroke_dasharray=dash,
        )
        marker = _marker(MARKERS[index % len(MARKERS)], x + 14, y, colour, None)
        name = _element("text", _text(line.name), x=x + 34, y=y + 4)
        legend.append(sample + marker + name)
        x += item_width
    parts.append(_element("g", "".join(legend), class_="legend", aria_hidden="true"))
    note_text, note_height = _note(note, left, y + row_height - 6)
    parts.append(note_text)
    height = y + row_height + note_height

    chart_id = _chart_id(
        chart_id,
        "line",
        title,
        description,
        years,
        [(s.name, list(s.values)) for s in series],
        percent,
        top,
        y_label,
        note,
        width,
        plot_height,
        show_title,
    )
    return _frame(chart_id, width, height, title, description) + "".join(parts) + "</svg>"


def bar_chart(
    *,
    title: str,
    description: str,
    bars: Sequence[Bar],
    percent: bool = False,
    x_max: float | None = None,
    missing: str = "\N{EN DASH}",
    note: str = "",
    width: float = 640,
    bar_height: float = 18,
    show_title: bool = True,
    chart_id: str | None = None,
    format_value: Callable[[float], str] | None = None,
) -> str:
    """Horizontal bars, one per label, in the order given, as SVG.

    ``percent``: the values are percentages and the axis runs 0 to 100 (or to a round
    number at or above ``x_max``); otherwise counts, with the axis up to a round number
    above the largest. A bar whose value is ``None`` is drawn as no bar, with the
    ``missing`` text (e.g. "not shown") in its place.
    """
    if not bars:
        raise ValueError("a bar chart needs at least one bar")

    def fmt(value: float) -> str:
        return format_value(value) if format_value else default_format(value, percent)

    known = [bar.value for bar in bars if bar.value is not None]
    if x_max is not None:
        top, step = nice_scale(x_max, whole=not percent)
    elif percent:
        top, step = 100.0, 20.0
    else:
        top, step = nice_scale(max(known, default=0.0), whole=True)
    for bar in bars:
        _check_value(bar.value, top, f"the value of {bar.label!r}")

    label_width = max(_text_width(bar.label) for bar in bars)
    value_width = max([_text_width(missing)] + [_text_width(fmt(v)) for v in known])
    left = 12 + label_width + 8
    right = 8 + value_width + 12
    # Long labels widen the chart rather than being cut off or leaving no room for bars.
    width = max(width, left + right + 160)
    plot_width = width - left - right
    heading, top_space = _heading(title, 12, show_title)
    plot_top = top_space + 4
    row = bar_height + 8
    plot_bottom = plot_top + row * len(bars)

    def x_of(value: float) -> float:
        return left + plot_width * value / top

    parts: list[str] = [heading]
    grid = []
    tick_count = round(top / step)
    for i in range(tick_count + 1):
        value = i * step
        x = x_of(value)
        colour = AXIS if i == 0 else GRID
        grid.append(_element("line", x1=x, y1=plot_top, x2=x, y2=plot_bottom, stroke=colour))
        grid.append(
            _element("text", _text(fmt(value)), x=x, y=plot_bottom + 16, text_anchor="middle")
        )
    parts.append(_element("g", "".join(grid), class_="x-axis", aria_hidden="true"))

    drawn = []
    for index, bar in enumerate(bars):
        y = plot_top + 4 + index * row
        middle = y + bar_height / 2 + 4
        label = _element("text", _text(bar.label), x=left - 8, y=middle, text_anchor="end")
        if bar.value is None:
            shown = _text(missing)
            body = _element("text", shown, x=left + 6, y=middle, class_="missing")
        else:
            shown = _text(fmt(bar.value))
            length = x_of(bar.value) - left
            body = _element(
                "rect",
                _element("title", _text(f"{bar.label}: {fmt(bar.value)}")),
                x=left,
                y=y,
                width=length,
                height=bar_height,
                fill=PALETTE[0],
                class_="bar",
            ) + _element("text", shown, x=left + length + 6, y=middle)
        drawn.append(_element("g", label + body))
    parts.append(_element("g", "".join(drawn), class_="bars"))
    note_text, note_height = _note(note, 12, plot_bottom + 24)
    parts.append(note_text)
    height = plot_bottom + 28 + note_height

    chart_id = _chart_id(
        chart_id,
        "bar",
        title,
        description,
        [(b.label, b.value) for b in bars],
        percent,
        top,
        missing,
        note,
        width,
        bar_height,
        show_title,
    )
    return _frame(chart_id, width, height, title, description) + "".join(parts) + "</svg>"


def heat_map(
    *,
    title: str,
    description: str,
    rows: Sequence[str],
    columns: Sequence[str],
    values: Sequence[Sequence[int | None]],
    tip: Callable[[str, str, int | None], str],
    colour: str = PALETTE[0],
    show_title: bool = True,
    chart_id: str | None = None,
) -> str:
    """A grid of counts (``values[row][column]``) as SVG: each cell shaded from white (0) to
    ``colour`` (the largest), with its number written in it and ``tip(row, column, value)``
    as its tooltip. A ``None`` cell (missing or withheld) is grey with a dash, never shaded.

    The number in each cell is what carries the meaning; the shade only helps the eye (so
    the chart reads in black and white too). Text on dark cells is white."""
    if not rows or not columns:
        raise ValueError("a heat map needs at least one row and one column")
    if len(values) != len(rows) or any(len(line) != len(columns) for line in values):
        raise ValueError("a heat map needs one value per row and column")
    for line in values:
        for value in line:
            if value is not None and (isinstance(value, bool) or value < 0):
                raise ValueError(f"a heat map counts: {value!r}")
    cid = _chart_id(chart_id, title, rows, columns, values)
    cell = 24.0
    left = 8.0 + max(_text_width(label) for label in rows) + 8.0
    heading, top = _heading(title, 8.0, show_title)
    top += FONT_SIZE + 8.0  # the column labels
    width = left + cell * len(columns) + 8.0
    height = top + cell * len(rows) + 8.0
    largest = max((v for line in values for v in line if v is not None), default=0)
    red, green, blue = (int(colour[i : i + 2], 16) for i in (1, 3, 5))

    def shade(value: int) -> tuple[str, str]:
        share = value / largest if largest else 0.0
        mixed = tuple(round(255 + (c - 255) * share) for c in (red, green, blue))
        fill = "#" + "".join(f"{c:02x}" for c in mixed)
        # Perceived lightness: dark cells get white text.
        light = 0.299 * mixed[0] + 0.587 * mixed[1] + 0.114 * mixed[2]
        return fill, ("#ffffff" if light < 140 else TEXT)

    parts = [_frame(cid, width, height, title, description), heading]
    for index, label in enumerate(columns):
        x = left + cell * index + cell / 2
        parts.append(
            _element("text", _text(label), x=x, y=top - 6, text_anchor="middle", font_size=10)
        )
    for r, label in enumerate(rows):
        y = top + cell * r
        parts.append(
            _element("text", _text(label), x=left - 6, y=y + cell / 2 + 4, text_anchor="end")
        )
        for c, value in enumerate(values[r]):
            x = left + cell * c
            tooltip = _element("title", _text(tip(label, columns[c], value)))
            if value is None:
                fill, ink, shown = "#e6e6e6", AXIS, "\N{EN DASH}"
            else:
                fill, ink = shade(value)
                shown = str(value)
            parts.append(
                _element(
                    "g",
                    tooltip
                    + _element(
                        "rect", x=x, y=y, width=cell, height=cell, fill=fill, stroke=GRID,
                        stroke_width=0.5,
                    )
                    + _element(
                        "text", _text(shown), x=x + cell / 2, y=y + cell / 2 + 4,
                        text_anchor="middle", font_size=10, fill=ink, aria_hidden="true",
                    ),
                    class_="cell",
                )
            )  # fmt: skip
    parts.append("</svg>")
    return "".join(parts)
