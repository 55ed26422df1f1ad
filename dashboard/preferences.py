"""The sidebar's language and time-zone switches; the choice is kept with the user (dashboard.i18n.choose)."""

from __future__ import annotations

from functools import cache
from zoneinfo import available_timezones

import streamlit as st

from core.service import Actor
from dashboard import i18n
from dashboard.i18n import _

LANGUAGE = "pref_language"
TIME_ZONE = "pref_time_zone"
BROWSER = ""  # the time-zone option "the browser's"


@cache
def zones() -> list[str]:
    return sorted(zone for zone in available_timezones() if "/" in zone or zone == "UTC")


def switches(actor: Actor) -> None:
    """Language (shown as a select box) and time zone (in a popover beside it)."""
    stored = i18n.preferences(actor.username)
    names = list(i18n.LANGUAGE_NAMES)
    options = [BROWSER, *zones()]
    chosen_zone = stored.get("time_zone") or BROWSER
    with st.container(horizontal=True, vertical_alignment="center", gap="small"):
        st.selectbox(_("Language"), names, index=names.index(i18n.current_locale()),
                     format_func=i18n.LANGUAGE_NAMES.get, key=LANGUAGE, label_visibility="collapsed",
                     on_change=_save, args=(actor.username,), width=150)
        with st.popover(i18n.zone_name(), icon=":material/schedule:", type="tertiary", help=_("Time zone")):
            browser = st.context.timezone or "UTC"
            st.selectbox(_("Time zone"), options, index=options.index(chosen_zone) if chosen_zone in options else 0,
                         key=TIME_ZONE, on_change=_save, args=(actor.username,),
                         format_func=lambda zone: zone or _("The browser's ({zone})", zone=browser),
                         help=_("Times on every page are shown in this zone."))


def _save(username: str) -> None:
    i18n.choose(username, locale=st.session_state[LANGUAGE], time_zone=st.session_state[TIME_ZONE] or None)


def forget() -> None:
    for key in (LANGUAGE, TIME_ZONE):
        st.session_state.pop(key, None)
