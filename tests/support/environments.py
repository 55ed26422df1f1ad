"""A staging environment, its secret, and a scene and case whose path, query, headers and bodies use variables."""

from __future__ import annotations

from typing import Any

from core.database import session_scope
from db.models import AutomationCase, Scene

SECRET = "s3cr3t-VALUE-9f8e7d6c"
SECRET_VARIABLE = "CASEFLOW_TEST_STAGING_SECRET"
"""The process environment variable that holds the secret (tests set it with monkeypatch)."""
STAGING: dict[str, Any] = {
    "name": "staging", "headers": {"X-Tenant": "{{tenant}}", "X-Request-Id": "{{$uuid}}"},
    "variables": {"tenant": "acme corp", "region": "eu", "prefix": "ord"},
    "auth": {"kind": "bearer", "secret_variable": SECRET_VARIABLE},
}
"""Every field but the base URL (the test server's)."""
ORDERS: dict[str, Any] = {
    "id": "createTenantOrder", "name": "Create an order", "module": "Orders", "method": "POST",
    "path": "/tenants/{tenant}/orders",
    "request_schema": {"type": "object", "required": ["order", "tenant"], "properties": {
        "order": {"type": "string", "pattern": "^ord-[0-9]{6}$"}, "tenant": {"const": "acme corp"}}},
    "responses": {"201": {"description": "created"}, "422": {"description": "invalid"}},
    "parameters": [
        {"name": "tenant", "in": "path", "required": True, "schema": {"type": "string"}, "example": "{{tenant}}"},
        {"name": "region", "in": "query", "required": True, "schema": {"type": "string"}, "example": "{{region}}"},
    ],
}
ROWS = [
    {"name": "valid_order", "kind": "valid", "expected_status": 201,
     "body": {"order": "{{prefix}}-{{$randomInt}}", "tenant": "{{tenant}}"}, "checks": []},
    {"name": "invalid_order", "kind": "invalid", "expected_status": 422, "body": {"order": "x", "tenant": "{{tenant}}"},
     "checks": []},
]


def orders_case() -> int:
    """An approved-looking case of the Orders module whose path, query, headers and bodies use variables."""
    with session_scope() as session:
        session.add(Scene(**ORDERS))
        case = AutomationCase(name=ORDERS["name"], module_id="Orders", scene_id=ORDERS["id"], method="POST",
                              path=ORDERS["path"], rows=ROWS)
        session.add(case)
        session.flush()
        return case.id
