from django import forms

from haven.canned.models import CannedResponse


class CannedForm(forms.ModelForm):
    class Meta:
        model = CannedResponse
        fields = ["language", "shortcut", "title", "text"]
        widgets = {"text": forms.Textarea(attrs={"rows": 6})}
