"""Who the browser is: the session cookie, single sign-on (st.login), or this Streamlit session alone.

Served by ``streamlit run serve.py`` (dashboard.auth_routes beside Streamlit), a sign-in
lasts: the sign-in form's success hands the browser to /auth/session with a one-time grant,
that route sets the signed, HTTP-only session cookie and sends the browser back to the page
it came from (a deep link such as /review?task=7 included), and every run after that, in
any tab, finds the user through ``st.context.cookies``. Run as plain ``streamlit run
app.py`` (and in AppTest) there are no such routes, and a sign-in lasts as long as the
Streamlit session. With SSO_PROVIDER set, Streamlit's own OIDC sign-in (st.login) signs
users in instead, and core.service maps its claims to a CaseFlow user.
"""

from __future__ import annotations

import json
import os
from urllib.parse import urlencode, urlsplit

import streamlit as st

from core import service
from core.config import get_settings
from core.service import Actor, CaseFlowError, NotFound
from dashboard import i18n
from dashboard.i18n import N_

ROUTES_FLAG = "CASEFLOW_SESSION_ROUTES"
"""Set by serve.py: the cookie routes are served in this process."""
SESSION_PATH = "/auth/session"
SIGN_OUT_PATH = "/auth/signout"
ENDED = N_("Your session ended (signed out, expired, or the password changed): sign in again.")


def cookies_served() -> bool:
    return os.environ.get(ROUTES_FLAG) == "1"


def sso_provider() -> str | None:
    return get_settings().sso_provider or None


def passwords_allowed() -> bool:
    return sso_provider() is None or get_settings().sso_allow_passwords


def session_cookie() -> str | None:
    return st.context.cookies.get(service.SESSION_COOKIE) if cookies_served() else None


def address() -> str | None:
    """The client's address, for the per-address sign-in limit (None on localhost)."""
    found = st.context.ip_address
    return found if isinstance(found, str) else None


def current() -> Actor | None:
    """The signed-in user for this run, from this session, the session cookie or single sign-on; None: signed out.

    A user who was deactivated, whose session was revoked (signed out in another tab, a
    password change) or expired, is signed out here with the reason shown on the sign-in form.
    """
    how = st.session_state.get("signed_in_by")
    if how in (None, "cookie") and (cookie := session_cookie()):
        fresh = service.session_actor(cookie)
        if fresh is not None:
            return _signed_in(fresh, "cookie")
        if how == "cookie":
            return _signed_out(ENDED)
    if how is None and sso_provider() and st.user.get("is_logged_in"):  # mapped once per browser session
        try:
            return _signed_in(service.sso_sign_in(st.user.to_dict()), "sso")
        except CaseFlowError as error:
            return _signed_out(error.message)
    actor = st.session_state.get("actor")
    if actor is None:
        return None
    try:
        return _signed_in(service.current_actor(actor.username), how or "session")
    except NotFound:
        return _signed_out(N_("Your account was deactivated; ask an admin."))


def password_signed_in(actor: Actor) -> None:
    """After a good password: signed in now, and (when the routes are served) the browser is sent for its cookie."""
    _signed_in(actor, "password")
    st.session_state["last_event_id"] = service.latest_event_id()
    st.session_state["notifications"] = []
    if cookies_served():
        grant = service.start_session(actor.username, address=address())
        st.session_state["handoff"] = f"{SESSION_PATH}?{urlencode({'grant': grant, 'next': here()})}"


def sign_out() -> None:
    """Ends the session: its cookie stops working at once, everywhere; the browser then drops it."""
    how = st.session_state.get("signed_in_by")
    if cookie := session_cookie():
        service.end_session(cookie)
    forget()
    if how == "sso":
        st.logout()
    elif cookies_served():
        st.session_state["handoff"] = SIGN_OUT_PATH


def forget() -> None:
    for key in ("actor", "signed_in_by", "last_event_id", "notifications"):
        st.session_state.pop(key, None)
    i18n.forget()


def follow_handoff() -> None:
    """Sends the browser to the cookie route a sign-in or sign-out asked for (once)."""
    target = st.session_state.pop("handoff", None)
    if target is None:
        return
    url = json.dumps(target).replace("<", "\\u003c")
    st.html(f"<script>window.location.replace({url});</script>", unsafe_allow_javascript=True)


def here() -> str:
    """This page's path and query (/review?task=7), where a sign-in comes back to."""
    path = urlsplit(st.context.url or "").path or "/"
    query = urlencode([(name, value) for name in st.query_params for value in st.query_params.get_all(name)])
    return f"{path}?{query}" if query else path


def _signed_in(actor: Actor, how: str) -> Actor:
    if "last_event_id" not in st.session_state:  # a new browser session: notifications start from now
        st.session_state["last_event_id"] = service.latest_event_id()
        st.session_state["notifications"] = []
    st.session_state["actor"] = actor
    st.session_state["signed_in_by"] = how
    return actor


def _signed_out(reason: str) -> None:
    forget()
    st.session_state["signed_out_reason"] = reason
    return None
