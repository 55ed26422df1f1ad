"""The message catalog: every string the dashboard can show has a Chinese translation with the same fields.

The messages are extracted from the source (dashboard.messages, the tool that updates the
catalog), so a new string without a translation fails here; so does a message that Babel
cannot extract (an f-string where a template with fields belongs).
"""

from __future__ import annotations

import ast
from pathlib import Path
from string import Formatter

import pytest

from core.errors import NotFound
from core.messages import Text, phrase
from dashboard import messages
from dashboard.i18n import translations

ROOT = Path(__file__).resolve().parents[2]
CHINESE = "zh_CN"


def fields(message: str) -> set[str]:
    """The names of the {fields} of a brace-format message ("{count:,}" names "count")."""
    return {name.split(".")[0].split("[")[0] for _, name, _, _ in Formatter().parse(message) if name}


def test_every_message_has_a_chinese_translation_with_the_same_fields() -> None:
    chinese = messages.read(CHINESE)
    untranslated, mismatched = [], []
    for message in messages.template():
        if not message.id:
            continue
        found = chinese.get(message.id)
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = () if found is None else (found.string if isinstance(found.string, tuple) else (found.string,))
        if found is None or found.fuzzy or not all(strings):
            untranslated.append(f"{ids[0]!r} ({', '.join(path for path, _ in message.locations)})")
            continue
        wanted = set().union(*(fields(text) for text in ids)) if "{" in ids[0] else set()
        if any(fields(string) != wanted for string in strings) and wanted:
            mismatched.append(f"{ids[0]!r}: {strings!r}")
    assert not untranslated, (f"{len(untranslated)} message(s) without a Chinese translation; run "
                              "`python -m dashboard.messages` and translate them:\n" + "\n".join(untranslated))
    assert not mismatched, "translations whose {fields} differ from the message's:\n" + "\n".join(mismatched)


def calls(keywords: dict[str, tuple[int, ...] | None], paths: list[Path]) -> list[tuple[Path, ast.Call]]:
    found = []
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Call):
                name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", None)
                if name in keywords:
                    found.append((path, node))
    return found


def built(node: ast.expr) -> bool:
    """A message made at run time: Babel cannot extract it, and the catalog cannot hold it."""
    return isinstance(node, (ast.JoinedStr, ast.BinOp, ast.IfExp)) or (
        isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "format")


def inside_f_strings(path: Path) -> list[ast.Call]:
    """_() calls inside f-strings: Babel does not look into f-strings, so their messages never reach the catalog."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.JoinedStr):
            found += [call for call in ast.walk(node) if isinstance(call, ast.Call)
                      and getattr(call.func, "id", None) in messages.DASHBOARD_KEYWORDS]
    return found


def test_messages_are_literal_templates_babel_can_extract() -> None:
    """_("...") in the dashboard and core's error messages are templates, never built strings (f-strings, + or %).

    A variable is fine: it holds an N_("...") (or core's phrase) marked where it is defined.
    """
    dashboard = [path for path, keywords in messages.sources() if keywords is messages.DASHBOARD_KEYWORDS]
    core = [path for path, keywords in messages.sources() if keywords is messages.CORE_KEYWORDS]
    wrong = [f"{path.relative_to(ROOT)}:{call.lineno}"
             for path, call in calls(messages.DASHBOARD_KEYWORDS, dashboard) if not call.args or built(call.args[0])]
    wrong += [f"{path.relative_to(ROOT)}:{call.lineno}"
              for path, call in calls(dict.fromkeys((*messages.ERRORS, "Text", "phrase")), core)
              if call.args and built(call.args[0])]
    wrong += [f"{path.relative_to(ROOT)}:{node.lineno}" for path in dashboard for node in inside_f_strings(path)]
    assert not wrong, "messages Babel cannot extract (use a literal template with {fields}):\n" + "\n".join(wrong)


def test_every_field_of_an_error_template_is_given() -> None:
    core = [path for path, keywords in messages.sources() if keywords is messages.CORE_KEYWORDS]
    wrong = []
    for path, call in calls(dict.fromkeys((*messages.ERRORS, "Text")), core):
        first = call.args[0] if call.args else None
        if not (isinstance(first, ast.Constant) and isinstance(first.value, str)):
            continue
        given = {keyword.arg for keyword in call.keywords}
        if None in given:  # **fields
            continue
        if fields(first.value) - given or (given and not fields(first.value) >= given):
            wrong.append(f"{path.relative_to(ROOT)}:{call.lineno}: {first.value!r} given {sorted(given)}")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("locale", [CHINESE])
def test_the_catalog_compiles(locale: str) -> None:
    assert translations(locale).gettext("Tasks") != "Tasks"


def test_core_sentences_keep_their_english_and_their_template() -> None:
    error = NotFound("No task with id {task_id}.", task_id=7)
    assert error.message == "No task with id 7." and str(error) == "No task with id 7."
    assert isinstance(error.message, Text) and error.message.template == "No task with id {task_id}."
    assert phrase("manage users").params == {} and NotFound(error.message).message.params == {"task_id": 7}
