"""The form of the estimates page: a title, the year to attach to, the table (uploaded or
typed), the method and the bootstrap. The table itself is checked by the reader
(:func:`haven.estimation.table.parse_csv`) in the service, which names every bad line."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.validators import MaxValueValidator
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _

from haven.core import clock
from haven.estimation import bootstrap as boot
from haven.estimation.selection import AIC, BIC, STEPWISE
from haven.estimation.services import FIRST_YEAR, MAX_BOOTSTRAP, MAX_SEED, TITLE_MAX

# A table of 12 lists (the most) is about 100 kB; anything far larger is not a table.
MAX_TABLE_BYTES = 1024 * 1024

METHOD_CHOICES = [
    (STEPWISE, _("Stepwise, as SparseMSE (recommended)")),
    (AIC, _("Lowest AIC")),
    (BIC, _("Lowest BIC")),
]


class EstimateForm(forms.Form):
    title = forms.CharField(
        label=_("Title"),
        max_length=TITLE_MAX,
        help_text=_("For example: minors, all registers, 2020."),
    )
    year = forms.IntegerField(
        label=_("Attach to the yearly report of"),
        required=False,
        min_value=FIRST_YEAR,
        help_text=_(
            "Optional: a year. The report of that year shows the newest estimate attached to it."
        ),
    )
    table_file = forms.FileField(
        label=_("Upload the table as a CSV file"),
        required=False,
        widget=forms.FileInput(attrs={"accept": ".csv,text/csv,text/plain"}),
    )
    table_text = forms.CharField(
        label=_("Or paste or type the table"),
        required=False,
        # Not stripped: the line numbers of problems must be those of the text as typed.
        strip=False,
        max_length=MAX_TABLE_BYTES,
        widget=forms.Textarea(attrs={"rows": 10, "cols": 40, "spellcheck": "false"}),
    )
    method = forms.ChoiceField(
        label=_("How the model is chosen"),
        choices=METHOD_CHOICES,
        initial=STEPWISE,
        widget=forms.RadioSelect,
        help_text=_("The other two are computed as well and shown side by side."),
    )
    bootstrap = forms.IntegerField(
        label=_("Bootstrap replications"),
        min_value=0,
        max_value=MAX_BOOTSTRAP,
        initial=boot.REPLICATIONS,
        help_text=_(
            "For the BCa bootstrap interval; 1,000 may take a minute. 0: no bootstrap, only "
            "the interval from the model, at once."
        ),
    )
    seed = forms.IntegerField(
        label=_("Seed"),
        min_value=0,
        max_value=MAX_SEED,
        initial=boot.SEED,
        help_text=_("The same seed gives the same bootstrap interval."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        year = self.fields["year"]
        this_year = clock.now().year
        year.validators.append(MaxValueValidator(this_year))
        year.widget.attrs["max"] = this_year
        for name, field in self.fields.items():
            if field.help_text:
                field.widget.attrs["aria-describedby"] = f"id_{name}-hint"
        self.fields["table_text"].widget.attrs["aria-describedby"] = "table-hint table-example"

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        upload = cleaned.get("table_file")
        text = cleaned.get("table_text") or ""
        typed = bool(text.strip())
        if upload is not None and typed:
            self.add_error(
                "table_text", _("Give the table once: upload a file or type it, not both.")
            )
        elif upload is None and not typed:
            if "table_file" not in self.errors and "table_text" not in self.errors:
                self.add_error(
                    "table_file", _("Upload the table as a CSV file, or paste or type it below.")
                )
        elif upload is not None:
            if upload.size is not None and upload.size > MAX_TABLE_BYTES:
                self.add_error(
                    "table_file",
                    _("The file is too large: at most %(size)s.")
                    % {"size": filesizeformat(MAX_TABLE_BYTES)},
                )
            else:
                cleaned["table"] = upload.read(MAX_TABLE_BYTES + 1)
        else:
            cleaned["table"] = text
        return cleaned
