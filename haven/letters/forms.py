from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _


class ReplyForm(forms.Form):
    # The last entry the counsellor saw: an answer to an older state is not stored.
    seen_seq = forms.IntegerField(widget=forms.HiddenInput, min_value=0)
    text = forms.CharField(
        label=_("Your answer"),
        max_length=settings.HAVEN_MAX_LETTER_LENGTH,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_(
            "Write in plain, warm words. The visitor reads this later, maybe on another phone. "
            "Do not ask for a name or a place."
        ),
    )

    def add_error(self, field, error):  # type: ignore[no-untyped-def]
        """Every error of the answer (the field's own, or a refusal the view adds) is read
        out with the field."""
        super().add_error(field, error)
        if field in ("text", "seen_seq", None):
            self.fields["text"].widget.attrs["aria-describedby"] = "id_text_helptext reply-error"
