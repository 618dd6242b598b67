"""The language switch every page shows: a link to the same page in the other language."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from django.urls import translate_url
from django.utils.translation import get_language

# Dutch is the default, English the second; each page links to the one it is not in.
LANGUAGES = (("nl", "Nederlands"), ("en", "English"))


def language_switch(request: HttpRequest) -> dict[str, str]:
    """The other language's code, its name in itself, and this page's address in it."""
    current = get_language() or settings.LANGUAGE_CODE
    code, name = next(((code, name) for code, name in LANGUAGES if code != current), LANGUAGES[0])
    return {"code": code, "name": name, "url": translate_url(request.path, code)}
