"""The two HTTP routes serve.py adds beside Streamlit: the only places the session cookie is set and dropped.

A Streamlit script cannot set cookies, so the browser visits these: /auth/session
exchanges a sign-in's one-time grant for the signed, HTTP-only session cookie and
redirects to the page the user was on; /auth/signout drops the cookie (the session itself
was already revoked by the sign-out) and redirects to the sign-in form. Redirects go only to
paths of this server, never to another site.

The grant is taken only from a navigation the dashboard's own page started: a browser
that says the request came from another site (``Sec-Fetch-Site``) gets no cookie, so a link
planted elsewhere cannot sign a visitor into someone else's account (login CSRF).
"""

from __future__ import annotations

import re

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse
from starlette.routing import Route

from core import service
from core.config import get_settings
from dashboard.auth import SESSION_PATH, SIGN_OUT_PATH

MAX_NEXT = 2000
_LOCAL_PATH = re.compile(r"/(?![/\\])[^\x00-\x20\x7f\\]*")
"""A path on this server: one leading slash (not "//host" or "/\\host"), no spaces, controls or backslashes."""


def local_path(target: str | None) -> str:
    """``target`` when it is a path on this server, else "/"."""
    if target and len(target) <= MAX_NEXT and _LOCAL_PATH.fullmatch(target):
        return target
    return "/"


async def take_session(request: Request) -> RedirectResponse:
    """GET /auth/session?grant=G&next=/review?task=7: the cookie for a live grant, then back to ``next``."""
    response = _redirect(local_path(request.query_params.get("next")))
    if request.headers.get("sec-fetch-site", "same-origin") != "same-origin":
        return response
    try:
        cookie = await run_in_threadpool(service.redeem_session_grant, request.query_params.get("grant", ""))
    except service.CaseFlowError:  # the database is away: no cookie, the sign-in form says the rest
        cookie = None
    if cookie is not None:
        response.set_cookie(service.SESSION_COOKIE, cookie, max_age=service.session_lifetime_seconds(), path="/",
                            httponly=True, samesite="lax", secure=_secure(request))
    return response


async def drop_session(request: Request) -> RedirectResponse:
    """GET /auth/signout: the browser forgets its session cookie and shows the sign-in form."""
    response = _redirect("/")
    response.delete_cookie(service.SESSION_COOKIE, path="/", httponly=True, samesite="lax", secure=_secure(request))
    return response


def _redirect(target: str) -> RedirectResponse:
    response = RedirectResponse(target, status_code=303)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"  # the grant in this URL goes nowhere else
    return response


def _secure(request: Request) -> bool:
    configured = get_settings().session_cookie_secure
    return request.url.scheme == "https" if configured is None else configured


ROUTES = [Route(SESSION_PATH, take_session, methods=["GET"]), Route(SIGN_OUT_PATH, drop_session, methods=["GET"])]
