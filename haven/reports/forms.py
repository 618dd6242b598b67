"""The choice of report: a year or any period, public or confidential."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator
from django.utils.translation import gettext_lazy as _

from haven.core import clock
from haven.reports.selectors import FIRST_YEAR, publishable

# The first day a period may start on; the last is the end of this year. Both keep the
# earlier years of the comparison (three back by default) within the calendar.
FIRST_DAY = dt.date(FIRST_YEAR, 1, 1)


class ReportForm(forms.Form):
    year = forms.IntegerField(label=_("Year"), required=False, min_value=FIRST_YEAR)
    start = forms.DateField(
        label=_("Or from"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        validators=[MinValueValidator(FIRST_DAY)],
    )
    end = forms.DateField(
        label=_("to (inclusive)"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        validators=[MinValueValidator(FIRST_DAY)],
    )
    public = forms.BooleanField(label=_("Public version (small numbers protected)"), required=False)

    def __init__(self, *args: Any, confidential_allowed: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.confidential_allowed = confidential_allowed
        # The latest year allowed is this year; set per form, as the clock moves on.
        self.fields["year"].validators.append(MaxValueValidator(clock.now().year))
        self.fields["year"].widget.attrs["max"] = clock.now().year
        last_day = dt.date(clock.now().year, 12, 31)
        for name in ("start", "end"):
            self.fields[name].validators.append(MaxValueValidator(last_day))
        if not confidential_allowed:
            self.fields["public"].disabled = True
            self.fields["public"].initial = True
            self.fields["public"].help_text = _("Your role shows the public version only.")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        year, start, end = data.get("year"), data.get("start"), data.get("end")
        if year is not None and (start or end):
            raise forms.ValidationError(_("Choose a year, or a period, not both."))
        if year is None and not (start and end):
            if start or end:
                raise forms.ValidationError(_("A period needs a first and a last day."))
            year = clock.now().year - 1
            data["year"] = year
        if year is not None:
            data["period_start"] = dt.date(year, 1, 1)
            data["period_end"] = dt.date(year + 1, 1, 1)
        else:
            assert start is not None and end is not None
            if end < start:
                raise forms.ValidationError(_("The last day is before the first day."))
            data["period_start"] = start
            data["period_end"] = end + dt.timedelta(days=1)
        if not self.confidential_allowed:
            data["public"] = True
        if data.get("public") and not publishable(
            data["period_start"], data["period_end"], today=clock.now().date()
        ):
            raise forms.ValidationError(
                _(
                    "Public figures are made for a whole year that has ended, never for "
                    "another period: two reports over overlapping periods could be "
                    "subtracted from each other and give small numbers away."
                )
            )
        return data
