"""Sentences of the product that the dashboard shows in each user's language.

A Text is the English sentence itself (a ``str``: the HTTP API, the CLI, logs and the database
use it as it is) that also carries its template, the catalog's message id, and the fields
filled into it. A Text with no fields is a fixed phrase (an action, a field's label) that a
sentence takes as a field; the dashboard translates such fields too. Core never translates:
``dashboard.i18n.text`` does, in the signed-in user's language.
"""

from __future__ import annotations

from typing import Any


class Text(str):
    """``Text("No task with id {task_id}.", task_id=7)`` is the str "No task with id 7."."""

    template: str
    params: dict[str, Any]

    def __new__(cls, template: str, /, **params: Any) -> Text:
        sentence = super().__new__(cls, template.format(**params) if params else template)
        sentence.template = str(template)
        sentence.params = params
        return sentence

    def __reduce__(self) -> tuple[Any, ...]:  # cached and copied as what it is, not as a plain str
        return _text, (self.template, self.params)


def _text(template: str, params: dict[str, Any]) -> Text:
    return Text(template, **params)


def phrase(text: str) -> Text:
    """A fixed phrase given to a sentence as a field (``require_admin(actor, "manage users")``)."""
    return text if isinstance(text, Text) else Text(text)
