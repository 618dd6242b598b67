"""The SVG charts: well-formed, accessible, self-contained, escaped, gaps where values are
missing, and byte-identical for the same input. Each chart is parsed with xml.etree."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from haven.reports.charts import (
    DASHES,
    MARKERS,
    PALETTE,
    Bar,
    Series,
    bar_chart,
    line_chart,
    nice_scale,
)

NS = "{http://www.w3.org/2000/svg}"
YEARS = [2019, 2020, 2021, 2022]


def trend(**overrides: object) -> str:
    arguments: dict[str, object] = {
        "title": "Trends 2019-2022",
        "description": "Share of victims recruited through social media, by year.",
        "years": YEARS,
        "series": [
            Series("Social media", [20.0, 25.5, None, 42.0]),
            Series("Parents involved", [6.7, 14.3, 12.0, 11.0]),
        ],
    }
    arguments.update(overrides)
    return line_chart(**arguments)  # type: ignore[arg-type]


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)  # noqa: S314 (our own output, parsed to check it)


def points(root: ET.Element) -> list[ET.Element]:
    return [element for element in root.iter() if element.get("class") == "point"]


def test_a_line_chart_is_an_accessible_image() -> None:
    """role="img", labelled by its own <title> and <desc>, which come first."""
    root = parse(trend())
    assert root.tag == f"{NS}svg"
    assert root.get("role") == "img"
    title, desc = root[0], root[1]
    assert (title.tag, desc.tag) == (f"{NS}title", f"{NS}desc")
    assert title.text == "Trends 2019-2022"
    assert desc.text == "Share of victims recruited through social media, by year."
    assert root.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"


def test_a_chart_scales_through_its_viewbox() -> None:
    root = parse(trend())
    assert re.fullmatch(r"0 0 [\d.]+ [\d.]+", root.get("viewBox", ""))
    assert root.get("width") is None and root.get("height") is None


def test_every_known_value_is_a_point_with_its_value_as_tooltip() -> None:
    root = parse(trend())
    marks = points(root)
    assert len(marks) == 7  # 3 + 4 values; the missing one is not drawn
    tips = [mark.find(f"{NS}title").text for mark in marks]  # type: ignore[union-attr]
    assert "Social media, 2020: 25.5%" in tips
    assert "Parents involved, 2019: 6.7%" in tips
    assert not any("2021" in tip and "Social media" in tip for tip in tips)  # type: ignore[operator]


def test_a_missing_value_breaks_the_line() -> None:
    """Social media has no 2021: two pieces (2019-2020, and 2022 alone as a point only),
    never a line bridging the gap. Parents involved is one line through four points."""
    root = parse(trend())
    groups = [g for g in root.iter(f"{NS}g") if g.get("class") == "series"]
    social, parents = groups
    social_lines = social.findall(f"{NS}polyline")
    assert [len(line.get("points", "").split()) for line in social_lines] == [2]
    parents_lines = parents.findall(f"{NS}polyline")
    assert [len(line.get("points", "").split()) for line in parents_lines] == [4]


def test_isolated_values_are_points_without_lines() -> None:
    root = parse(trend(series=[Series("Sparse", [10.0, None, 30.0, None])]))
    assert len(points(root)) == 2
    assert root.findall(f".//{NS}polyline") == []


def test_a_series_with_nothing_known_draws_nothing_but_its_legend() -> None:
    svg = trend(series=[Series("Suppressed", [None] * 4), Series("Known", [1.0, 2, 3, 4])])
    root = parse(svg)
    assert len(points(root)) == 4
    assert "Suppressed" in svg


def test_text_is_escaped() -> None:
    """Markup in a title, description, series name or note stays text."""
    hostile = "<script>alert(\"x\")</script> & 'quotes'"
    svg = trend(
        title=hostile,
        description=hostile,
        series=[Series(hostile, [1.0, 2.0, 3.0, 4.0])],
        note=hostile,
        y_label=hostile,
    )
    root = parse(svg)
    assert "<script" not in svg
    assert root.find(f"{NS}title").text == hostile  # type: ignore[union-attr]
    assert root.find(f"{NS}desc").text == hostile  # type: ignore[union-attr]
    texts = [element.text for element in root.iter(f"{NS}text")]
    assert hostile in texts
    assert not list(root.iter(f"{NS}script"))


def test_control_characters_are_dropped_so_the_svg_stays_valid() -> None:
    root = parse(trend(title="a\x00b\x1bc"))
    assert root.find(f"{NS}title").text == "abc"  # type: ignore[union-attr]


def test_nothing_is_loaded_from_elsewhere_and_nothing_runs() -> None:
    """No script, no style (the CSP forbids inline styles), no links, fonts or images."""
    for svg in (trend(), bar_chart(title="t", description="d", bars=[Bar("a", 3)])):
        root = parse(svg)
        for element in root.iter():
            assert element.tag not in {f"{NS}script", f"{NS}style", f"{NS}image", f"{NS}a"}
            assert "style" not in element.attrib
            assert not any(name.startswith("on") for name in element.attrib)
            assert not any("href" in name for name in element.attrib)
        assert "url(" not in svg and "@import" not in svg
        assert re.findall(r"https?://[^\"]+", svg) == ["http://www.w3.org/2000/svg"]


def test_the_same_input_gives_the_same_bytes() -> None:
    assert trend() == trend()
    assert trend() != trend(series=[Series("Social media", [20.0, 25.5, 30.0, 42.0])])


def test_different_charts_get_different_ids() -> None:
    """Two charts on one page must not share the ids that aria-labelledby points at."""
    first = parse(trend()).get("aria-labelledby")
    second = parse(trend(title="Another")).get("aria-labelledby")
    assert first != second
    assert parse(trend(chart_id="trend-1")).get("aria-labelledby") == "trend-1-title trend-1-desc"
    with pytest.raises(ValueError):
        trend(chart_id='x" onload="alert(1)')


def test_series_differ_in_colour_dash_and_marker() -> None:
    """Seven series: seven colours, dash patterns and marker shapes, so a black-and-white
    print still tells them apart."""
    assert len(set(PALETTE)) == len(set(DASHES)) == len(set(MARKERS)) == 7
    series = [
        Series(f"s{i}", [float(i), float(i + 1), float(i + 2), float(i + 3)]) for i in range(7)
    ]
    root = parse(trend(series=series))
    lines = root.findall(f".//{NS}polyline")
    assert len({line.get("stroke") for line in lines}) == 7
    assert len({line.get("stroke-dasharray") for line in lines}) == 7
    groups = [g for g in root.iter(f"{NS}g") if g.get("class") == "series"]
    assert len({shape(g[-1]) for g in groups}) == 7


def shape(marker: ET.Element) -> tuple[str, tuple[float, ...]]:
    """A marker's element and its outline moved to the origin: the same for every point of
    a series, different between series."""
    numbers = [float(n) for n in re.findall(r"-?[\d.]+", marker.get("d", ""))]
    xs, ys = numbers[0::2], numbers[1::2]
    relative = [round(v - min(xs), 1) for v in xs] + [round(v - min(ys), 1) for v in ys]
    return (marker.tag, tuple(relative))


def test_the_legend_names_every_series() -> None:
    root = parse(trend())
    legend = next(g for g in root.iter(f"{NS}g") if g.get("class") == "legend")
    assert [t.text for t in legend.iter(f"{NS}text")] == ["Social media", "Parents involved"]


def test_a_percentage_axis_runs_from_0_to_100() -> None:
    root = parse(trend())
    axis = next(g for g in root.iter(f"{NS}g") if g.get("class") == "y-axis")
    assert [t.text for t in axis.iter(f"{NS}text")] == ["0%", "20%", "40%", "60%", "80%", "100%"]


def test_a_count_axis_ends_at_a_round_number() -> None:
    svg = trend(series=[Series("Victims", [180, 250, 231, None])], percent=False)
    axis = next(g for g in parse(svg).iter(f"{NS}g") if g.get("class") == "y-axis")
    assert [t.text for t in axis.iter(f"{NS}text")] == ["0", "50", "100", "150", "200", "250"]


def test_a_custom_format_writes_dutch_numbers() -> None:
    svg = trend(format_value=lambda v: f"{v:.1f}".replace(".", ",") + "%")
    assert "Social media, 2020: 25,5%" in svg


def test_a_single_year_is_drawn_in_the_middle() -> None:
    root = parse(line_chart(title="t", description="d", years=[2020], series=[Series("a", [5.0])]))
    assert len(points(root)) == 1


@pytest.mark.parametrize(
    "overrides",
    [
        {"years": [2020, 2019, 2021, 2022]},
        {"years": []},
        {"series": []},
        {"series": [Series("short", [1.0, 2.0])]},
        {"series": [Series("above", [1.0, 2.0, 3.0, 101.0])]},
        {"series": [Series("negative", [1.0, -2.0, 3.0, 4.0])]},
        {"series": [Series("nan", [1.0, float("nan"), 3.0, 4.0])]},
    ],
)
def test_bad_input_is_refused(overrides: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        trend(**overrides)


def test_nice_scales() -> None:
    assert nice_scale(250, whole=True) == (250, 50)
    assert nice_scale(231, whole=True) == (250, 50)
    assert nice_scale(3, whole=True) == (3, 1)
    assert nice_scale(0, whole=True) == (5, 1)
    assert nice_scale(42.0, whole=False) == (50, 10)
    assert nice_scale(0.3, whole=False) == pytest.approx((0.3, 0.1))


# --- Bars -------------------------------------------------------------------------------


def bars(**overrides: object) -> str:
    arguments: dict[str, object] = {
        "title": "Recruitment route, 2020",
        "description": "Share of victims by recruitment route.",
        "bars": [Bar("Social media", 45.2), Bar("Family", None), Bar("Unknown", 12.5)],
        "percent": True,
        "missing": "not shown",
    }
    arguments.update(overrides)
    return bar_chart(**arguments)  # type: ignore[arg-type]


def test_a_bar_per_known_value_and_a_note_for_a_missing_one() -> None:
    root = parse(bars())
    rects = [r for r in root.iter(f"{NS}rect") if r.get("class") == "bar"]
    assert len(rects) == 2
    assert [r.find(f"{NS}title").text for r in rects] == [  # type: ignore[union-attr]
        "Social media: 45.2%",
        "Unknown: 12.5%",
    ]
    missing = [t for t in root.iter(f"{NS}text") if t.get("class") == "missing"]
    assert [t.text for t in missing] == ["not shown"]


def test_bar_lengths_are_proportional() -> None:
    root = parse(bars(bars=[Bar("a", 50.0), Bar("b", 25.0)]))
    widths = [float(r.get("width", "0")) for r in root.iter(f"{NS}rect") if r.get("class") == "bar"]
    assert widths[0] == pytest.approx(2 * widths[1], abs=0.2)


def test_a_bar_chart_is_accessible_and_deterministic() -> None:
    root = parse(bars())
    assert root.get("role") == "img"
    assert root.find(f"{NS}title").text == "Recruitment route, 2020"  # type: ignore[union-attr]
    assert bars() == bars()


def test_long_labels_widen_the_chart_instead_of_being_cut() -> None:
    short = parse(bars(bars=[Bar("a", 10)]))
    long = parse(bars(bars=[Bar("a" * 120, 10)]))
    assert float(long.get("viewBox", "").split()[2]) > float(short.get("viewBox", "").split()[2])
    for text in long.iter(f"{NS}text"):
        assert float(text.get("x", "0")) >= 0


def test_bar_labels_are_escaped() -> None:
    root = parse(bars(bars=[Bar("<b>&amp;", 10.0)]))
    assert "<b>&amp;" in [t.text for t in root.iter(f"{NS}text")]


def test_an_empty_bar_chart_is_refused() -> None:
    with pytest.raises(ValueError):
        bars(bars=[])
