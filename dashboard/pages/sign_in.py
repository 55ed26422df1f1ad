"""Sign in: the only page a visitor who has not signed in can see."""

from __future__ import annotations

import streamlit as st

from core import service
from dashboard import auth, i18n, ui
from dashboard.i18n import _


def sign_in_form() -> None:
    with st.form("login"):
        username = st.text_input(_("Username"), autocomplete="username")
        password = st.text_input(_("Password"), type="password", autocomplete="current-password")
        submitted = st.form_submit_button(_("Sign in"), type="primary", width="stretch")
    if submitted:
        answered, signed_in = ui.attempt(lambda: service.authenticate(username, password, address=auth.address())) \
            if username and password else (True, None)  # a locked username answers with when to try again
        if answered and signed_in is None:
            st.error(_("Wrong username or password."), icon=":material/lock:")
        elif signed_in is not None:
            auth.password_signed_in(signed_in)
            st.rerun()


def single_sign_on(provider: str) -> None:
    if st.user.get("is_logged_in"):  # signed in there, but CaseFlow refused (the reason is shown above)
        st.button(_("Sign out of single sign-on"), icon=":material/logout:", on_click=st.logout, width="stretch")
    else:
        st.button(_("Sign in with single sign-on"), icon=":material/key:", type="primary", width="stretch",
                  on_click=st.login, args=(provider,))


_left, middle, _right = st.columns([1, 1.2, 1])
with middle:
    st.space("large")
    st.markdown("## :material/account_tree: CaseFlow")
    st.caption(_("Manual test cases and API schemas in, reviewed API automation cases out."))
    if reason := st.session_state.pop("signed_out_reason", None):
        st.warning(i18n.said(reason))
    if provider := auth.sso_provider():
        single_sign_on(provider)
    if auth.passwords_allowed():
        sign_in_form()
    st.caption(_(
        "The first admin's password is printed once by `python -m core setup` "
        "(or set with `CASEFLOW_ADMIN_PASSWORD`). Admins add users on the Settings page."
    ))
