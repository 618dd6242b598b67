from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _


class ReplyForm(forms.Form):
    text = forms.CharField(
        label=_("Your answer"),
        max_length=settings.HAVEN_MAX_LETTER_LENGTH,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_(
            "Write in plain, warm words. The visitor reads this later, maybe on another phone. "
            "Do not ask for a name or a place."
        ),
    )
