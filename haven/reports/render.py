"""The report in its output formats: JSON and CSV (both languages), HTML and PDF (one).

The figures are computed once (haven/reports/figures.py); this module only words and lays
them out. Labels are translated here, with Django's translation machinery, into Dutch and
English. The JSON format is documented in docs/reports.md.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from typing import Any

from django.template.loader import render_to_string
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from haven.cases import codebook
from haven.core.i18n import whole_number
from haven.reports import charts, figures
from haven.reports.figures import Figure, Report, Value

LANGUAGES = ("nl", "en")


def _both(text: str, **params: Any) -> dict[str, str]:
    """``text`` (an English source string) in Dutch and English, %-formatted with params."""
    out = {}
    for language in LANGUAGES:
        with translation.override(language):
            translated = translation.gettext(text)
            out[language] = translated % params if params else translated
    return out


def _base_params(value: Value) -> dict[str, Any]:
    return {"base": value.base, "unknown": value.unknown_left_out}


def _interval(value: Value) -> list[float] | None:
    if value.low is None or value.high is None:
        return None
    return [round(value.low, 2), round(value.high, 2)]


def _value_dict(value: Value) -> dict[str, Any]:
    return {
        "period": value.label,
        "count": value.count,
        "base": value.base,
        "percent": None if value.percent is None else round(value.percent, 2),
        "interval": _interval(value),
        "withheld": value.withheld,
        "unknown_left_out": value.unknown_left_out,
        "unknown_kept_in_base": value.unknown_kept,
    }


def _change_dict(change: dict[str, Any] | None) -> dict[str, Any] | None:
    if change is None:
        return None
    return {
        key: round(value, 4) if isinstance(value, float) else value for key, value in change.items()
    }


def _figure_dict(figure: Figure) -> dict[str, Any]:
    value = figure.current
    return {
        "key": figure.key,
        "label": _both(figure.label),
        "base_label": None
        if value.base is None
        else _both(figure.base_label, **_base_params(value)),
        **_value_dict(value),
        "phrase": None
        if figure.phrase_nl is None
        else {"nl": figure.phrase_nl, "en": figure.phrase_en},
        "history": [_value_dict(v) for v in figure.history],
        "change": _change_dict(figure.change),
    }


def _band_label(code: str | None) -> dict[str, str] | None:
    if code is None:
        return None
    return _both(codebook.BY_NAME["age_band"].option(code).label)


def as_dict(report: Report) -> dict[str, Any]:
    """The report as a JSON-ready dict (docs/reports.md)."""
    return {
        "format": figures.REPORT_FORMAT,
        "version": figures.REPORT_VERSION,
        "period": {
            "label": report.period_label,
            "start": report.start.isoformat(),
            "end_exclusive": report.end.isoformat(),
        },
        "generated_at": None if report.generated_at is None else report.generated_at.isoformat(),
        "classification": "public" if report.public else "confidential",
        "invented_cases": report.synthetic,
        "disclosure_control": None
        if not report.public
        else {
            "threshold": report.threshold,
            "rules": [{"code": r.code, "nl": r.nl, "en": r.en} for r in report.rules],
        },
        "compared_with": report.history_labels,
        "victims": {
            "count": report.victims.current,
            "history": [{"period": p, "count": c} for p, c in report.victims.history],
            "change": _change_dict(report.victims.change),
        },
        "age_extremes": {
            "youngest": report.youngest,
            "oldest": report.oldest,
            "youngest_band": _band_label(report.youngest_band),
            "oldest_band": _band_label(report.oldest_band),
        },
        "sections": [
            {
                "key": section.key,
                "title": _both(section.title),
                "figures": [_figure_dict(f) for f in section.figures],
            }
            for section in report.sections
        ],
        "estimate": report.estimate,
        "feedback": _feedback_dict(report.feedback),
    }


def to_json(report: Report) -> str:
    return json.dumps(as_dict(report), ensure_ascii=False, indent=2) + "\n"


CSV_COLUMNS = (
    "section",
    "key",
    "label_nl",
    "label_en",
    "period",
    "count",
    "base",
    "percent",
    "ci_low",
    "ci_high",
    "phrase_nl",
    "phrase_en",
    "withheld",
    "unknown_left_out",
    "change_points",
    "change_significant",
)


def to_csv(report: Report) -> str:
    """One row per figure and period (the current period first), after rows that say what
    the file is: its classification, invented cases, and the disclosure rules applied."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    data = as_dict(report)

    def meta(key: str, nl: str, en: str) -> None:
        writer.writerow(["report", key, nl, en, report.period_label] + [""] * 11)

    classification = data["classification"]
    meta("classification", classification, classification)
    if report.synthetic:
        meta("invented_cases", str(report.synthetic), str(report.synthetic))
    for rule in report.rules:
        meta(f"rule:{rule.code}", rule.nl, rule.en)
    victims = data["victims"]
    writer.writerow(
        ["victims", "victims", "slachtoffers", "victims", report.period_label, victims["count"]]
        + [""] * 8
        + [
            "" if not victims["change"] else victims["change"]["difference"],
            "" if not victims["change"] else victims["change"]["significant"],
        ]
    )
    for period, count in report.victims.history:
        writer.writerow(
            ["victims", "victims", "slachtoffers", "victims", period, count] + [""] * 10
        )
    for section in data["sections"]:
        for figure in section["figures"]:
            change = figure["change"] or {}
            for index, value in enumerate([figure, *figure["history"]]):
                interval = value["interval"] or ["", ""]
                writer.writerow(
                    [
                        section["key"],
                        figure["key"],
                        figure["label"]["nl"],
                        figure["label"]["en"],
                        value["period"],
                        _blank(value["count"]),
                        _blank(value["base"]),
                        _blank(value["percent"]),
                        interval[0],
                        interval[1],
                        (figure["phrase"] or {}).get("nl", "") if index == 0 else "",
                        (figure["phrase"] or {}).get("en", "") if index == 0 else "",
                        _blank(value["withheld"]),
                        _blank(value["unknown_left_out"]),
                        _blank(change.get("points")) if index == 0 else "",
                        _blank(change.get("significant")) if index == 0 else "",
                    ]
                )
    for row in _estimate_rows(report):
        writer.writerow(row)
    for row in _feedback_rows(report):
        writer.writerow(row)
    return out.getvalue()


def _blank(value: Any) -> Any:
    return "" if value is None else value


# --- HTML and PDF: one language -----------------------------------------------------------


def _number(value: float, decimals: int = 1) -> str:
    return formats.number_format(round(value, decimals), decimals)


def _signed(value: float, decimals: int = 1) -> str:
    """A change with its sign, as it is read aloud: "+0,7", a true minus sign (U+2212, not a
    hyphen), and "0,0" for no change."""
    rounded = round(value, decimals)
    text = _number(abs(rounded), decimals)
    if rounded > 0:
        return "+" + text
    if rounded < 0:
        return "\N{MINUS SIGN}" + text
    return text


def _withheld_text(reason: str | None) -> str:
    if reason == "no_data":
        return _("no data")
    return _("not published (small numbers)")


def trend_charts(report: Report) -> list[dict[str, str]]:
    """SVG line charts of the trends, in the active language (a gap where withheld)."""
    out = []
    for key, title, description, keys in figures.TRENDS:
        labels, series_values = figures.trend_series(report, keys)
        if len(labels) < 2:
            continue
        series = [
            charts.Series(name=_(report.figure(k).label), values=values)
            for k, values in zip(keys, series_values, strict=True)
        ]
        svg = charts.line_chart(
            title=_(title),
            description=_(description),
            # Every period label starts with its start year, and the periods are whole
            # years apart, so the start years place them on the axis.
            years=[int(label[:4]) for label in labels],
            series=series,
            percent=True,
            chart_id=f"trend-{key}",
            format_value=lambda v: _number(v, 0) + "%",
        )
        out.append({"key": key, "title": _(title), "svg": svg})
    return out


def context(report: Report) -> dict[str, Any]:
    """What the HTML template needs, worded in the active language."""
    language = translation.get_language() or "nl"
    sections = []
    for section in report.sections:
        rows = []
        for figure in section.figures:
            value = figure.current
            rows.append(
                {
                    "key": figure.key,
                    "label": _(figure.label),
                    "value": value,
                    "percent": None if value.percent is None else _number(value.percent),
                    "interval": None
                    if value.low is None or value.high is None
                    else f"{_number(value.low)}\N{EN DASH}{_number(value.high)}",
                    "base_label": None
                    if value.base is None
                    else _(figure.base_label) % _base_params(value),
                    "phrase": figure.phrase_nl if language.startswith("nl") else figure.phrase_en,
                    "withheld": None if value.withheld is None else _withheld_text(value.withheld),
                    "history": [
                        {
                            "label": v.label,
                            "withheld": v.withheld,
                            "text": _withheld_text(v.withheld)
                            if v.withheld
                            else f"{_number(v.percent or 0)}%",
                        }
                        for v in figure.history
                    ],
                    "change": figure.change,
                    "change_points": None
                    if figure.change is None
                    else _signed(figure.change["points"]),
                }
            )
        sections.append({"key": section.key, "title": _(section.title), "rows": rows})
    band = codebook.BY_NAME["age_band"]
    return {
        "report": report,
        "sections": sections,
        "charts": trend_charts(report),
        "rules": [r.nl if language.startswith("nl") else r.en for r in report.rules],
        "youngest_band": None
        if report.youngest_band is None
        else _(band.option(report.youngest_band).label),
        "oldest_band": None
        if report.oldest_band is None
        else _(band.option(report.oldest_band).label),
        "estimate": _estimate_context(report.estimate),
        "feedback": _feedback_context(report.feedback),
        "victims_difference": None
        if not report.victims.change or report.victims.change["difference"] is None
        else _signed(report.victims.change["difference"], 0),
    }


def to_html(report: Report) -> str:
    """A standalone HTML document (inline styles, no external resources)."""
    return render_to_string("reports/document.html", context(report))


def to_pdf(report: Report) -> bytes:
    """A printable PDF of the report in the active language."""
    from haven.reports.pdf import render_pdf

    return render_pdf(context(report))


# --- the attached multiple systems estimate (haven/estimation; docs/reports.md) ---------------


def _interval_label(entry: dict[str, Any]) -> str:
    """English source of the interval's name, with %(level)s."""
    if entry["interval"]["kind"] == "bca":
        return gettext_noop("%(level)s%% BCa bootstrap interval")
    return gettext_noop("%(level)s%% interval from the model")


def _estimate_rows(report: Report) -> list[list[Any]]:
    """CSV rows of the attached estimate (section "estimate"), both languages."""
    entry = report.estimate
    if entry is None:
        return []
    interval = entry["interval"]
    level = round(interval["level"] * 100)
    low, high = round(interval["lower"]), round(interval["upper"])

    def row(key: str, label: dict[str, str], **cells: Any) -> list[Any]:
        phrase = cells.get("phrase") or {}
        return [
            "estimate", key, label["nl"], label["en"], report.period_label,
            cells.get("count", ""), "", cells.get("percent", ""),
            cells.get("low", ""), cells.get("high", ""),
            phrase.get("nl", ""), phrase.get("en", ""), "", "", "", "",
        ]  # fmt: skip

    title = {"nl": entry["title"], "en": entry["title"]}
    rows = [
        row("estimate:title", _both(gettext_noop("Estimate")), phrase=title),
        row(
            "estimate:total",
            _both(gettext_noop("Estimated victims, seen and unseen")),
            count=round(entry["total"]),
            low=low,
            high=high,
            phrase=entry["seen_sentence"],
        ),
        row(
            "estimate:unseen",
            _both(gettext_noop("Estimated victims on no register")),
            count=round(entry["unseen"]),
        ),
        row(
            "estimate:share_seen",
            _both(gettext_noop("Share seen on a register")),
            percent=round(100 * entry["share_seen"], 2),
            phrase=entry["seen_sentence"],
        ),
        row("estimate:interval", _both(_interval_label(entry), level=level), low=low, high=high),
        row("estimate:model", _both(gettext_noop("Model")), phrase=entry["model"]),
    ]
    for warning in entry["warnings"]:
        rows.append(
            row(
                f"estimate:warning:{warning['code']}",
                _both(gettext_noop("Warning")),
                phrase=warning,
            )
        )
    return rows


def _estimate_context(entry: dict[str, Any] | None) -> dict[str, Any] | None:
    """The attached estimate worded in the active language, for the page and the PDF."""
    if entry is None:
        return None
    language = "nl" if (translation.get_language() or "nl").startswith("nl") else "en"
    interval = entry["interval"]
    created = dt.datetime.fromisoformat(entry["created_at"])
    seen = entry["seen_sentence"][language]
    summary = _(
        "An estimated %(total)s victims in all (%(interval_label)s: %(interval)s), of whom "
        "about %(unseen)s are on no register."
    ) % {
        "total": whole_number(entry["total"]),
        "interval_label": _(_interval_label(entry)) % {"level": round(interval["level"] * 100)},
        "interval": "\N{EN DASH}".join(whole_number(interval[end]) for end in ("lower", "upper")),
        "unseen": whole_number(entry["unseen"]),
    }
    return {
        "total": whole_number(entry["total"]),
        "summary": f"{summary} {seen[:1].upper()}{seen[1:]}.",
        "model": _("Model: %(model)s.") % {"model": entry["model"][language]},
        "warnings": [warning[language] for warning in entry["warnings"]],
        "source": _(
            "Multiple systems estimation from how often the same victims appear on several "
            "registers, not from this report's counts (“%(title)s”, %(date)s). The "
            "method and its limits: docs/estimation.md."
        )
        % {
            "title": entry["title"],
            "date": formats.date_format(timezone.localtime(created), "DATE_FORMAT"),
        },
    }


# --- the visitors' feedback (haven/feedback; docs/reports.md) -------------------------------


def _feedback_dict(feedback: dict[str, Any] | None) -> dict[str, Any] | None:
    """The feedback figures for JSON: texts in both languages."""
    if feedback is None:
        return None
    return {
        "questions": [
            {
                "key": question["key"],
                "text": _both(question["text"]),
                "answered": question["answered"],
                "answered_withheld": question["answered_withheld"],
                "options": [
                    {**option, "label": _both(option["label"])} for option in question["options"]
                ],
            }
            for question in feedback["questions"]
        ]
    }


def _feedback_rows(report: Report) -> list[list[Any]]:
    """CSV rows (section "feedback"): one per answer, its base the number who answered."""
    data = _feedback_dict(report.feedback)
    if data is None:
        return []
    rows = []
    for question in data["questions"]:
        for option in question["options"]:
            rows.append(
                [
                    "feedback",
                    f"{question['key']}:{option['code']}",
                    f"{question['text']['nl']} {option['label']['nl']}",
                    f"{question['text']['en']} {option['label']['en']}",
                    report.period_label,
                    _blank(option["count"]),
                    _blank(question["answered"]),
                    _blank(option["percent"]),
                    "",
                    "",
                    "",
                    "",
                    _blank(option["withheld"]),
                    "",
                    "",
                    "",
                ]
            )
    return rows


def _feedback_context(feedback: dict[str, Any] | None) -> list[dict[str, Any]] | None:
    """The feedback worded in the active language, for the page and the PDF."""
    if feedback is None:
        return None
    worded = []
    for question in feedback["questions"]:
        options = []
        for option in question["options"]:
            if option["withheld"]:
                value = _withheld_text(option["withheld"])
            elif option["percent"] is None:
                value = whole_number(option["count"])
            else:
                value = f"{whole_number(option['count'])} ({_number(option['percent'])}%)"
            options.append({"code": option["code"], "label": _(option["label"]), "value": value})
        answered = question["answered"]
        worded.append(
            {
                "key": question["key"],
                "text": _(question["text"]),
                "answered": _withheld_text(question["answered_withheld"])
                if question["answered_withheld"]
                else whole_number(answered or 0),
                "options": options,
            }
        )
    return worded
