"""Sentences the estimation modules say to people. Plain Python, no Django.

Every sentence is an English source string marked with :func:`gettext_noop` (so Django's
``makemessages`` finds it) and kept untranslated together with its ``%(name)s`` parameters.
Whoever shows it translates the template and then fills it in (:meth:`Message.render`): the
command and the analyst page with Django's ``gettext``, so Dutch (the default language)
works without these modules importing Django. A stored estimate (JSON) keeps templates and
parameters, so it can be shown again later in another language.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any


def gettext_noop(message: str) -> str:
    """Marks a sentence for translation without translating it here (see module docstring)."""
    return message


def untranslated(message: str) -> str:
    """The translate function to use when no translation is wanted: English as written."""
    return message


Translate = Callable[[str], str]


@dataclass(frozen=True)
class Message:
    """One sentence: a stable ``code`` for programs, an English ``template`` for people.

    ``params`` fill the template's ``%(name)s`` places; a parameter may itself be a
    :class:`Message` (for example the model in words inside a sentence), rendered first.
    Templates never contain a bare ``%``: with a mapping every ``%`` starts a placeholder.
    """

    code: str
    template: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def render(self, translate: Translate = untranslated) -> str:
        values = {
            key: value.render(translate) if isinstance(value, Message) else value
            for key, value in self.params.items()
        }
        return translate(self.template) % values

    def __str__(self) -> str:
        return self.render()

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe: the code, the template, the parameters and the English text."""
        return {
            "code": self.code,
            "message": self.template,
            "params": {
                key: value.to_dict() if isinstance(value, Message) else value
                for key, value in self.params.items()
            },
            "text": self.render(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Message:
        params = {
            key: cls.from_dict(value) if isinstance(value, Mapping) else value
            for key, value in data.get("params", {}).items()
        }
        return cls(code=str(data["code"]), template=str(data["message"]), params=params)
