"""Language helpers shared by the pages: the switch to the other language, and numbers
written as the active language writes them."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from django.urls import translate_url
from django.utils.formats import number_format
from django.utils.translation import get_language

# Dutch is the default, English the second; each page links to the one it is not in.
LANGUAGES = (("nl", "Nederlands"), ("en", "English"))


def language_switch(request: HttpRequest) -> dict[str, str]:
    """The other language's code, its name in itself, and this page's address in it."""
    current = get_language() or settings.LANGUAGE_CODE
    code, name = next(((code, name) for code, name in LANGUAGES if code != current), LANGUAGES[0])
    return {"code": code, "name": name, "url": translate_url(request.path, code)}


def whole_number(value: float) -> str:
    """A whole number in the active language's grouping: 11.313 in Dutch, 11,313 in English."""
    return number_format(round(value), decimal_pos=0, force_grouping=True)
