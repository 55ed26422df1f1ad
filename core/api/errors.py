"""Every error as JSON {"error": code, "message": ...}: CaseFlow's typed errors, bad requests, unknown routes.

Nothing unexpected reaches a client as a traceback: it is logged here and answered as a
plain 500.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from core.api.auth import Unauthorized
from core.errors import (
    CaseFlowError,
    Conflict,
    DatabaseUnavailable,
    Forbidden,
    InvalidField,
    InvalidInput,
    LeaseLost,
    NotFound,
    SecretKeyError,
    TransientError,
)

log = logging.getLogger(__name__)

STATUS_OF = {InvalidField: 422, NotFound: 404, InvalidInput: 400, Conflict: 409, LeaseLost: 409, Forbidden: 403,
             TransientError: 503, DatabaseUnavailable: 503, SecretKeyError: 503}
"""The first match wins: InvalidField before InvalidInput."""
HTTP_CODES = {404: "not_found", 405: "method_not_allowed", 401: "unauthorized", 403: "forbidden"}


def install(app: FastAPI) -> None:
    app.add_exception_handler(CaseFlowError, _caseflow_error)
    app.add_exception_handler(Unauthorized, _unauthorized)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)


def body(code: str, message: str, status: int, **extra: object) -> JSONResponse:
    return JSONResponse({"error": code, "message": message, **extra}, status_code=status)


async def _caseflow_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, CaseFlowError)
    status = next((code for kind, code in STATUS_OF.items() if isinstance(error, kind)), 400)
    if isinstance(error, InvalidField):  # shaped like a schema mismatch: the field, and what is wrong with it
        return body(error.code, error.message, status,
                    details=[{"loc": ["body", error.field], "msg": error.message, "type": "value_error"}])
    if status == 503:
        log.error("answering %s %s with 503: %s", request.method, request.url.path, error.message)
    return body(error.code, error.message, status)


async def _unauthorized(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, Unauthorized)
    response = body("unauthorized", error.message, 401)
    response.headers["WWW-Authenticate"] = "Bearer"
    return response


async def _invalid_request(request: Request, error: Exception) -> JSONResponse:
    """422 listing each invalid field; the values sent are not echoed back."""
    assert isinstance(error, RequestValidationError)
    details = [{"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
               for e in error.errors()]
    summary = "; ".join(f"{'.'.join(map(str, d['loc']))}: {d['msg']}" for d in details[:5])
    return body("invalid_input", f"The request does not match the schema: {summary}", 422, details=details)


async def _http_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, HTTPException)
    code = HTTP_CODES.get(error.status_code, "http_error")
    message = error.detail if isinstance(error.detail, str) else str(error.status_code)
    response = body(code, message, error.status_code)
    for name, value in (error.headers or {}).items():
        response.headers[name] = value
    return response


async def _unexpected(request: Request, error: Exception) -> JSONResponse:
    log.error("unexpected error answering %s %s", request.method, request.url.path, exc_info=error)
    return body("internal_error", "Something went wrong on the server; it has been logged.", 500)
