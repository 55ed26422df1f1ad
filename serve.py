"""The dashboard as served in production: app.py plus the routes that set the session cookie.

    streamlit run serve.py --server.port 8501

Streamlit finds the ``st.App`` below and serves app.py with dashboard.auth_routes beside it,
so a sign-in survives reloads, new tabs and shared links. ``streamlit run app.py`` still
works, with sign-ins that last only as long as the browser tab's session.
"""

from __future__ import annotations

import os

import streamlit as st

from dashboard import auth, auth_routes

os.environ[auth.ROUTES_FLAG] = "1"
app = st.App("app.py", routes=auth_routes.ROUTES)
