"""The dashboard's two languages and each user's time zone: gettext catalogs and formatting, both by Babel.

Every string the dashboard shows goes through ``_`` ("Tasks"; fields by name:
``_("Task #{id} cancelled.", id=7)``) or ``_n`` for counts; ``N_`` marks a string kept in
a constant and translated where shown. Sentences from core (errors, a task's explanation)
are core.messages.Text and go through ``text``. The catalog is
dashboard/locales/zh_CN/LC_MESSAGES/messages.po; ``python -m dashboard.messages`` adds new
strings to it (see docs/dashboard.md, "Languages").

The language is the one the user chose (kept with the user), else the browser's
(st.context.locale, then the Accept-Language header), else English; the time zone likewise.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime, tzinfo
from functools import cache
from gettext import NullTranslations
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import streamlit as st
from babel import Locale
from babel.dates import format_date, format_skeleton
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal, format_percent
from babel.support import Translations
from streamlit.runtime.scriptrunner import get_script_run_ctx

from core import service
from core.messages import Text
from core.service import Actor, CaseFlowError

LOCALES = Path(__file__).parent / "locales"
DOMAIN = "messages"
ENGLISH = "en"
LANGUAGE_NAMES = {"en": "English", "zh_CN": "简体中文"}
"""Each language in its own words, as the switch in the sidebar lists them."""
LOCALE_KEY = "locale"  # session state: the language of this session
PREFERENCES_KEY = "preferences"  # session state: the signed-in user's stored {locale, time_zone}


def catalog_path(locale: str) -> Path:
    return LOCALES / locale / "LC_MESSAGES" / f"{DOMAIN}.po"


@cache
def translations(locale: str) -> NullTranslations:
    """The catalog of ``locale``, compiled in memory from its .po file once per process (English: none)."""
    path = catalog_path(locale)
    if locale == ENGLISH or not path.exists():
        return NullTranslations()
    with path.open("rb") as source:
        catalog = read_po(source, locale=locale)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(compiled, domain=DOMAIN)


# --- the language ------------------------------------------------------------------------


_last_run_locale = ENGLISH


def current_locale() -> str:
    """This session's language. Outside a script run (AppTest formats select-box options between runs),
    the language of the last run that started."""
    if get_script_run_ctx(suppress_warning=True) is None:
        return _last_run_locale
    return st.session_state.get(LOCALE_KEY) or ENGLISH


def _(message: str, /, **fields: Any) -> str:
    """``message`` in the user's language, its {fields} filled in."""
    translated = translations(current_locale()).gettext(message)
    return translated.format(**fields) if fields else translated


def _n(singular: str, plural: str, n: int, /, **fields: Any) -> str:
    """The singular or plural of a message about ``n`` things (Chinese has one form)."""
    translated = translations(current_locale()).ngettext(singular, plural, n)
    return translated.format(**fields) if fields else translated


def N_(message: str, /) -> str:  # noqa: N802 (gettext's name)
    """Marks ``message`` for the catalog where it is defined; ``_`` translates it where it is shown."""
    return message


def text(value: object) -> str:
    """A sentence from core in the user's language: a Text by its template, its fixed phrases translated too."""
    if not isinstance(value, Text):
        return str(value)
    if not value.params:
        return _(value.template)
    fields = {name: text(field) if isinstance(field, Text) else field for name, field in value.params.items()}
    try:
        return _(value.template, **fields)
    except (KeyError, IndexError, ValueError):  # a translation that names a field the sentence lacks
        return str(value)


def said(value: object) -> str:
    """A message kept for a later run (a sign-out's reason): core's Text, or a dashboard string marked with N_."""
    return text(value) if isinstance(value, Text) else _(str(value))


def browser_locale() -> str | None:
    """The language the browser asks for, as a locale the dashboard speaks; None when it asks for neither."""
    asked = [st.context.locale or ""]
    header = st.context.headers.get("Accept-Language") or ""
    asked += [part.split(";")[0].strip() for part in header.split(",")]
    for tag in asked:
        language = tag.split("-")[0].split("_")[0].lower()
        if language == "zh":
            return "zh_CN"
        if language == "en":
            return ENGLISH
    return None


def start(actor: Actor | None) -> str:
    """Sets this run's language: the signed-in user's choice, else the browser's, else English."""
    stored: dict[str, str | None] = {}
    if actor is not None:
        try:
            stored = preferences(actor.username)
        except CaseFlowError:  # deactivated meanwhile: app.py signs them out
            stored = {}
    chosen = stored.get("locale") or browser_locale() or ENGLISH
    return _use(chosen if chosen in LANGUAGE_NAMES else ENGLISH)


def _use(locale: str) -> str:
    global _last_run_locale
    st.session_state[LOCALE_KEY] = _last_run_locale = locale
    return locale


def preferences(username: str) -> dict[str, str | None]:
    """The user's stored language and time zone, read once per browser session."""
    stored = st.session_state.get(PREFERENCES_KEY)
    if stored is None or stored.get("username") != username:
        stored = {"username": username, **service.user_preferences(username)}
        st.session_state[PREFERENCES_KEY] = stored
    return stored


def choose(username: str, *, locale: str | None, time_zone: str | None) -> None:
    """Keeps the user's choice with the user (None: follow the browser) and uses it from now on."""
    saved = service.set_user_preferences(username, locale=locale, time_zone=time_zone)
    st.session_state[PREFERENCES_KEY] = {"username": username, **saved}
    _use(saved["locale"] or browser_locale() or ENGLISH)


def forget() -> None:
    """Signing out: the next user's preferences are read afresh."""
    st.session_state.pop(PREFERENCES_KEY, None)


# --- the time zone -----------------------------------------------------------------------


def zone_name() -> str:
    """The user's time zone: their choice, else the browser's, else UTC."""
    stored = st.session_state.get(PREFERENCES_KEY) or {}
    for name in (stored.get("time_zone"), st.context.timezone):
        if name and _zone(name) is not None:
            return name
    return "UTC"


def zone() -> tzinfo:
    return _zone(zone_name()) or UTC


@cache
def _zone(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


# --- formatting --------------------------------------------------------------------------


def babel_locale() -> Locale:
    return Locale.parse(current_locale())


def datetime_text(moment: datetime, *, seconds: bool = True) -> str:
    """A moment in the user's zone and language, 24-hour clock: "Feb 5, 2026, 18:30:00", "2026年2月5日 18:30:00"."""
    local, locale = moment.astimezone(zone()), babel_locale()
    clock = format_skeleton("Hms" if seconds else "Hm", local, locale=locale)
    return locale.datetime_formats["medium"].format(clock, format_date(local, "medium", locale=locale))


def number(value: float, *, digits: int = 0) -> str:
    """1,234 / 1,234.5 with the language's separators."""
    return format_decimal(value, format=f"#,##0.{'0' * digits}" if digits else "#,##0", locale=babel_locale())


def percent(value: float | None, *, digits: int = 1) -> str:
    """0.875 as "87.5%"; None as "—"."""
    if value is None:
        return "—"
    return format_percent(value, format=f"#,##0.{'0' * digits}%" if digits else "#,##0%", locale=babel_locale())
