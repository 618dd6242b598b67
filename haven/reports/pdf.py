"""The report as a printable PDF (fpdf2, pure Python). Precondition: the context comes from
:func:`haven.reports.render.context`, already worded in the active language."""

from __future__ import annotations

import io
import logging
from pathlib import Path
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from fpdf import FPDF

# A font with the en dash, "≥" and accented letters; Debian's fonts-dejavu-core. Without
# it the PDF falls back to a built-in font and plain Latin-1 punctuation.
_FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
_FONT_BOLD = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf")
_LATIN1 = str.maketrans(
    {
        "\N{EN DASH}": "-",
        "\N{EM DASH}": "-",
        "\N{MINUS SIGN}": "-",
        "≥": ">=",
        "≤": "<=",
        "\N{RIGHT SINGLE QUOTATION MARK}": "'",
    }
)

# What an earlier year's withheld share shows in its narrow column.
_SMALL = "\N{EN DASH}"

# fpdf2 warns about every <title>/<desc> in an SVG (accessibility markup it cannot use).
logging.getLogger("fpdf.svg").setLevel(logging.ERROR)
# fontTools narrates every font subset at INFO: noise in the server log.
logging.getLogger("fontTools").setLevel(logging.WARNING)

# The most earlier years the PDF's tables show (see render_pdf).
PDF_HISTORY = 4


class _Document(FPDF):
    def __init__(self, classification: str) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.classification = classification
        self.unicode = _FONT.exists() and _FONT_BOLD.exists()
        if self.unicode:
            self.add_font("haven", "", str(_FONT))
            self.add_font("haven", "B", str(_FONT_BOLD))
        self.family = "haven" if self.unicode else "helvetica"
        self.set_auto_page_break(auto=True, margin=15)
        self.set_title("Haven")

    def text_of(self, text: object) -> str:
        value = "" if text is None else str(text)
        return (
            value
            if self.unicode
            else value.translate(_LATIN1).encode("latin-1", "replace").decode("latin-1")
        )

    def header(self) -> None:
        self.set_font(self.family, "B", 8)
        self.set_text_color(110, 20, 20)
        self.cell(0, 5, self.text_of(self.classification), align="R")
        self.ln(6)
        self.set_text_color(0, 0, 0)

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(self.family, "", 8)
        self.cell(0, 5, self.text_of(f"Haven · {self.page_no()}"), align="C")


def render_pdf(context: dict[str, Any]) -> bytes:
    report = context["report"]
    # The same words as the page's banner (reports/_report.html), so one translation serves.
    invented = (
        _("Invented data.")
        + " "
        + ngettext(
            "This report counts %(n)s invented demonstration case. These are not real figures.",
            "This report counts %(n)s invented demonstration cases. These are not real figures.",
            report.synthetic,
        )
        % {"n": report.synthetic}
    )
    classification = (
        _("Public report. Small numbers are protected.")
        if report.public
        else _("CONFIDENTIAL: internal report with exact figures. Do not publish.")
    )
    pdf = _Document(classification)
    t = pdf.text_of
    pdf.add_page()
    pdf.set_font(pdf.family, "B", 18)
    pdf.cell(
        0,
        10,
        t(_("Figures %(period)s") % {"period": report.period_label}),
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.set_font(pdf.family, "", 10)
    if report.synthetic:
        pdf.set_text_color(122, 75, 0)
        pdf.multi_cell(
            0,
            5,
            t(invented),
            new_x="LMARGIN",
            new_y="NEXT",
        )
        pdf.set_text_color(0, 0, 0)
    victims = "-" if report.victims.current is None else str(report.victims.current)
    youngest = report.youngest if report.youngest is not None else context["youngest_band"]
    oldest = report.oldest if report.oldest is not None else context["oldest_band"]
    headline = "    ".join(
        (
            f"{_('Victims')}: {victims}",
            f"{_('Youngest')}: {youngest or '-'}",
            f"{_('Oldest')}: {oldest or '-'}",
        )
    )
    pdf.multi_cell(
        0,
        6,
        t(headline),
        new_x="LMARGIN",
        new_y="NEXT",
    )
    estimate = context.get("estimate")
    if estimate:
        pdf.ln(2)
        pdf.set_font(pdf.family, "B", 12)
        title = _("Estimate of all victims, seen and unseen")
        pdf.cell(0, 8, t(title), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(pdf.family, "", 9)
        lines = [estimate["summary"], estimate["model"], *(f"- {w}" for w in estimate["warnings"])]
        for line in [*lines, estimate["source"]]:
            pdf.multi_cell(0, 4.5, t(line), new_x="LMARGIN", new_y="NEXT")
    feedback = context.get("feedback")
    if feedback:
        pdf.ln(2)
        pdf.set_font(pdf.family, "B", 12)
        pdf.cell(0, 8, t(_("Feedback from visitors")), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(pdf.family, "", 9)
        for question in feedback:
            answers = ", ".join(f"{o['label']}: {o['value']}" for o in question["options"])
            line = f"{question['text']} ({_('Answered')}: {question['answered']}) {answers}"
            pdf.multi_cell(0, 4.5, t(line), new_x="LMARGIN", new_y="NEXT")
    # A4 portrait holds four earlier years beside the figures; more would squeeze the label
    # column to nothing. The most recent ones are shown (history is newest first).
    history = report.history_labels[:PDF_HISTORY]
    # Column widths in mm within the 190 mm between the margins: the label takes what the
    # others leave, and long texts wrap within their cell instead of running into the next.
    fixed = [20, 11, 20, 30] + [12] * len(history) + [24]
    widths = [pdf.epw - sum(fixed), *fixed]
    headers = [
        _("Figure"),
        _("Count"),
        "%",
        _("95% interval"),
        _("In words"),
        *history,
        # On two lines: "Verandering (procentpunt)" does not fit the column on one.
        f"{_('Change')}\n({_('pt')})",
    ]
    for section in context["sections"]:
        pdf.ln(3)
        pdf.set_font(pdf.family, "B", 12)
        pdf.cell(0, 8, t(section["title"]), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(pdf.family, "", 7)
        with pdf.table(
            col_widths=widths,
            width=pdf.epw,
            text_align="LEFT",
            line_height=3.6,
            borders_layout="HORIZONTAL_LINES",
            padding=(0.6, 1),
        ) as table:
            heading = table.row()
            for header in headers:
                heading.cell(t(header))
            previous_base = None
            for row in section["rows"]:
                # The page gives every count its base ("of 36 victims with a (step)parent
                # involved"); the narrow PDF says it under the label where the base changes.
                label = row["label"]
                base = None if row["withheld"] else row["value"].base
                if row.get("base_label") and base != previous_base:
                    label = f"{label}\n{row['base_label']}"
                previous_base = base
                if row["withheld"]:
                    cells = [label, row["withheld"], "", "", ""]
                else:
                    cells = [
                        label,
                        f"{row['value'].count} / {row['value'].base}",
                        row["percent"],
                        row["interval"],
                        row["phrase"],
                    ]
                # A withheld earlier year is a dash (explained below the tables): the words
                # would not fit the narrow column.
                cells += [
                    _SMALL if past["withheld"] not in (None, "no_data") else past["text"]
                    for past in row["history"][:PDF_HISTORY]
                ]
                change = ""
                if row["change"]:
                    change = row["change_points"]
                    if row["change"]["significant"]:
                        change += " *"
                cells.append(change)
                line = table.row()
                for cell in cells:
                    line.cell(t(cell))
    if history:
        pdf.set_font(pdf.family, "", 7)
        notes = [
            f"{_SMALL} {_('not published (small numbers)')}",
            "* " + _("larger than chance would give (p < 0.05)"),
        ]
        if len(report.history_labels) > PDF_HISTORY:
            notes.append(
                _(
                    "This PDF shows the %(count)s most recent earlier years; the CSV and "
                    "JSON hold all of them."
                )
                % {"count": PDF_HISTORY}
            )
        for note in notes:
            pdf.multi_cell(0, 4, t(note), new_x="LMARGIN", new_y="NEXT")
    if context["charts"]:
        pdf.add_page()
        pdf.set_font(pdf.family, "B", 12)
        pdf.cell(0, 8, t(_("Trends")), new_x="LMARGIN", new_y="NEXT")
        for index, chart in enumerate(context["charts"]):
            x = 10 if index % 2 == 0 else 108
            if index % 2 == 0 and index:
                pdf.set_y(pdf.get_y() + 75)
            pdf.image(io.BytesIO(chart["svg"].encode("utf-8")), x=x, y=pdf.get_y(), w=92)
        pdf.set_y(pdf.get_y() + 80)
    if context["rules"]:
        pdf.set_font(pdf.family, "B", 10)
        pdf.cell(0, 6, t(_("Disclosure control")), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(pdf.family, "", 8)
        for rule in context["rules"]:
            pdf.multi_cell(0, 4, t(f"- {rule}"), new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
