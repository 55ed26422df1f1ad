"""Who is calling: the user of the API token in ``Authorization: Bearer TOKEN``.

Only authentication happens here; what a role may do is checked by the service door,
whose Forbidden becomes 403.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from core import service
from core.service import Actor

bearer = HTTPBearer(
    auto_error=False, scheme_name="ApiToken",
    description="A personal API token from `python -m core api-token --username NAME`.",
)


class Unauthorized(Exception):
    """No token, or one that names no live token of an active user (401)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def authenticated(credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> Actor:
    if credentials is None:
        raise Unauthorized("Send an API token: Authorization: Bearer TOKEN (python -m core api-token).")
    actor = service.authenticate_token(credentials.credentials)
    if actor is None:
        raise Unauthorized("The API token is unknown or revoked, or its user is deactivated.")
    return actor


Caller = Annotated[Actor, Depends(authenticated)]
"""The authenticated user, as an endpoint parameter."""
