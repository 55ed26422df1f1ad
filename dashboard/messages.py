"""The message catalog: every string the dashboard can show, extracted from the source by Babel.

``python -m dashboard.messages`` adds new strings to each language's .po file (and marks
strings no longer used as obsolete); translate the empty ``msgstr`` entries it leaves, and
tests/unit/test_catalog.py checks that none is left. Two sources feed it:

- the dashboard (app.py, dashboard/): ``_()``, ``_n()`` and ``N_()``;
- core's sentences that reach the dashboard: the messages of core.errors' errors, ``Text``
  and ``phrase``, and the fixed phrases given to core.inputs' checks and the permission checks.
  core/cli.py speaks to the terminal only, in English.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract
from babel.messages.pofile import read_po, write_po

from dashboard.i18n import ENGLISH, LANGUAGE_NAMES, catalog_path

ROOT = Path(__file__).resolve().parents[1]
DASHBOARD_KEYWORDS = {"_": None, "_n": (1, 2), "N_": None}
ERRORS = ("CaseFlowError", "NotFound", "InvalidInput", "InvalidField", "Conflict", "Forbidden", "TransientError",
          "LeaseLost", "RateLimited", "DatabaseUnavailable", "AIProviderError", "AIProviderUnavailable",
          "ReviewRoundsExhausted")
CORE_KEYWORDS: dict[str, tuple[int, ...] | None] = {
    **dict.fromkeys(ERRORS), "Text": None, "phrase": None,
    **dict.fromkeys(("whole_number", "record_id", "seconds", "text", "optional_text", "text_problem", "label",
                     "plain_json", "require_operator", "require_admin"), (2,)),
    "_own_or_admin": (3,),
}
"""Which calls' which arguments are messages (1-based; None: the first)."""
NOT_SHOWN = ("core/cli.py",)


def sources() -> Iterator[tuple[Path, dict[str, tuple[int, ...] | None]]]:
    """Each source file with the keywords that mark its messages."""
    yield ROOT / "app.py", DASHBOARD_KEYWORDS
    for path in sorted((ROOT / "dashboard").rglob("*.py")):
        yield path, DASHBOARD_KEYWORDS
    for path in sorted((ROOT / "core").rglob("*.py")):
        if path.relative_to(ROOT).as_posix() not in NOT_SHOWN:
            yield path, CORE_KEYWORDS


def template() -> Catalog:
    """Every message id in the source, with where it is used."""
    catalog = Catalog(project="CaseFlow", locale=ENGLISH)
    for path, keywords in sources():
        with path.open("rb") as source:
            for line, message, comments, context in extract("python", source, keywords=keywords,
                                                            options={"encoding": "utf-8"}):
                first = message if isinstance(message, str) else message[0]
                if not first.strip():  # the joiner of InvalidInput(" ".join(problems)): no message of its own
                    continue
                flags = ("python-brace-format",) if "{" in first else ()
                catalog.add(message, locations=[(path.relative_to(ROOT).as_posix(), line)],
                            auto_comments=comments, context=context, flags=flags)
    return catalog


def read(locale: str) -> Catalog:
    path = catalog_path(locale)
    if not path.exists():
        catalog = Catalog(locale=locale, project="CaseFlow", version="", copyright_holder="CaseFlow",
                          msgid_bugs_address="", last_translator="CaseFlow", language_team="CaseFlow")
        catalog.fuzzy = False
        return catalog
    with path.open("rb") as source:
        return read_po(source, locale=locale)


def update() -> dict[str, int]:
    """Merges the source's messages into every language's catalog; the untranslated count per language."""
    source = template()
    left: dict[str, int] = {}
    for locale in LANGUAGE_NAMES:
        if locale == ENGLISH:
            continue
        catalog = read(locale)
        created = catalog.creation_date
        catalog.update(source, no_fuzzy_matching=True, update_creation_date=False)
        catalog.creation_date = created
        catalog.obsolete.clear()  # git keeps the history
        path = catalog_path(locale)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as target:  # sorted, files without line numbers: merges stay small
            write_po(target, catalog, width=120, sort_output=True, include_lineno=False, include_previous=False)
        left[locale] = sum(1 for message in catalog if message.id and not _translated(message.string))
    return left


def _translated(string: str | tuple[str, ...]) -> bool:
    return all(string) if isinstance(string, tuple) else bool(string)


if __name__ == "__main__":
    untranslated = update()
    for name, count in untranslated.items():
        print(f"{catalog_path(name).relative_to(ROOT)}: {count} message(s) to translate")
    sys.exit(0)
