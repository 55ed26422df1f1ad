"""CaseFlow's Streamlit entry point: the sign-in gate, navigation, sidebar and in-app notifications.

The in-process worker starts once per server process (st.cache_resource in dashboard.ui);
background code never touches Streamlit: notifications are task_events read by polling.
Every page is listed once, in dashboard.ui.PAGES; its address is its file name (/tasks, /task?task=7).
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from core import service
from core.service import Actor
from dashboard import auth, i18n, preferences, ui
from dashboard.i18n import _, _n

st.set_page_config(page_title="CaseFlow", page_icon="🧪", layout="wide")
st.secrets.load_if_toml_exists()  # root-level secrets become environment variables, read by core.config
ui.start_worker()
actor = auth.current()  # before any string is said: the signed-in user's language
i18n.start(actor)

NOTIFY_SECONDS = 3
TOAST_ICON = {
    "workflow_started": ":material/play_circle:",
    "workflow_need_review": ":material/rate_review:",
    "workflow_failed": ":material/error:",
    "workflow_completed": ":material/check_circle:",
    "review_reminder": ":material/alarm:",
    "review_assigned": ":material/assignment_ind:",
}
MAX_TOASTS = 4
KEPT_NOTIFICATIONS = 8


def pages_for(actor: Actor) -> dict[str, list[st.Page]]:
    """The pages ``actor`` may open, by menu section; the others do not exist for them."""
    sections: dict[str, list[st.Page]] = {}
    for entry in ui.PAGES.values():
        if entry.who(actor):
            sections.setdefault(_(entry.section), []).append(st.Page(
                entry.file, title=_(entry.title), icon=entry.icon, default=entry.address == ui.HOME,
                visibility="hidden" if entry.hidden else "visible"))
    return sections


def sign_in_pages() -> list[st.Page]:
    """The sign-in page, also under every page's address: a link to /review?task=7 opened while
    signed out shows the sign-in form, then (same address, same query) the review."""
    return [st.Page(ui.SIGN_IN, title=_("Sign in"), icon=":material/login:", default=True)] + [
        st.Page(ui.SIGN_IN, title=_("Sign in"), url_path=address, visibility="hidden") for address in ui.PAGES
    ]


@st.fragment(run_every=NOTIFY_SECONDS)
def live_sidebar() -> None:
    """Review count and notifications: a toast for each new event on the user's own tasks."""
    actor = ui.actor()
    if actor is None:
        return
    waiting = service.task_counts()["reviewing"]
    count = f":orange-badge[{ui.count_text(waiting)}]" if waiting else ":gray-badge[0]"
    st.page_link(ui.page_file("review"), label=_("Awaiting review {count}", count=count), icon=":material/rate_review:")
    fresh = service.events_since(actor.username, st.session_state.get("last_event_id", 0), limit=20)
    if fresh:
        st.session_state["last_event_id"] = fresh[-1]["id"]
        for event in fresh[-MAX_TOASTS:]:
            st.toast(f"**#{event['task_id']} {title(event)}** · {ui.escape(event['name'])}",
                     icon=TOAST_ICON.get(event["type"]))
        if len(fresh) > MAX_TOASTS:
            more = len(fresh) - MAX_TOASTS
            st.toast(_n("{count} more update on your tasks", "{count} more updates on your tasks", more, count=more),
                     icon=":material/notifications:")
        kept = st.session_state.get("notifications", [])
        st.session_state["notifications"] = (list(reversed(fresh)) + kept)[:KEPT_NOTIFICATIONS]
    notes = st.session_state.get("notifications", [])
    with st.expander(_("Notifications · {count}", count=len(notes)), icon=":material/notifications:", expanded=False):
        if not notes:
            st.caption(_("Updates on your tasks appear here and as toasts while the dashboard is open."))
        for note in notes:
            label = f"#{note['task_id']} {title(note)} · {ui.escape(note['name'])}"
            ui.page_link_to_task(note["task_id"], label=label, icon=TOAST_ICON.get(note["type"]))
            st.caption(ui.local_time(note["created_at"]))


def title(event: dict[str, Any]) -> str:
    """What happened to the task, in the user's language ("needs review")."""
    return ui.escape(i18n.text(event["title"]))


@st.dialog(_("Change your password"))
def change_password_dialog(actor: Actor) -> None:
    with st.form("change_password_form", border=False):
        current = st.text_input(_("Current password"), type="password")
        new = st.text_input(_("New password"), type="password", help=_("At least 8 characters."))
        again = st.text_input(_("New password again"), type="password")
        if st.form_submit_button(_("Change password"), type="primary"):
            if new != again:
                st.error(_("The two new passwords differ."))
            else:
                done, ended = ui.attempt(lambda: service.change_password(
                    actor.username, current, new, session_cookie=auth.session_cookie()))
                if done:
                    st.success(_("Password changed. Use the new one next time you sign in.") + (
                        " " + _n("Signed out {count} other session.", "Signed out {count} other sessions.", ended,
                                 count=ended) if ended else ""))


def sidebar(actor: Actor) -> None:
    with st.sidebar:
        with st.container(border=True, gap="small"):
            st.markdown(f":material/account_circle: **{ui.escape(actor.username)}** "
                        f":{ui.ROLE_BADGE[actor.role.value]}-badge[{ui.role_text(actor.role.value)}]")
            with st.container(horizontal=True, gap="medium"):
                if st.button(_("Password"), icon=":material/key:", type="tertiary", key="change_password"):
                    change_password_dialog(actor)
                if st.button(_("Sign out"), icon=":material/logout:", type="tertiary", key="sign_out"):
                    auth.sign_out()
                    preferences.forget()
                    st.rerun()
            preferences.switches(actor)
        live_sidebar()


auth.follow_handoff()
if actor is None:
    st.navigation(sign_in_pages(), position="hidden").run()
else:
    navigation = st.navigation(pages_for(actor))
    sidebar(actor)
    navigation.run()
