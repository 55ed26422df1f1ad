"""A test case and a scene full of credentials: what redaction must keep away from a model and the logs."""

from __future__ import annotations

from core.records import SceneInput, TestCaseInput


def secret_scene() -> SceneInput:
    """A scene whose examples, defaults and descriptions carry credentials, with $refs to resolve."""
    return SceneInput(
        scene_id="SEC1", name="Log in", method="POST", path="/api/v1/sessions",
        request_schema={
            "type": "object",
            "required": ["account", "password"],
            "additionalProperties": False,
            "description": "Send the header Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl",
            "examples": [{"account": {"email": "neo@example.com"}, "password": "Zion-2199!"}],
            "properties": {
                "account": {"$ref": "#/$defs/Account"},
                "password": {"type": "string", "minLength": 8, "maxLength": 64, "example": "S3cr3t-Pa55!"},
                "api_token": {"type": "string", "maxLength": 40, "default": "tok_live_9f8e7d6c5b4a"},
                "client": {"type": "string", "maxLength": 20, "example": {"apiKey": "ak_1234567890abcdef"}},
            },
            "$defs": {
                "Account": {
                    "title": "Credentials holder",
                    "type": "object",
                    "required": ["email"],
                    "properties": {"email": {"type": "string", "format": "email", "maxLength": 64}},
                },
                "Unused": {"title": "Never referenced", "type": "string"},
            },
        },
        responses={
            "201": {"description": "Logged in.", "schema": {"type": "object", "properties": {
                "token": {"type": "string", "example": "tok_live_9f8e7d6c5b4a"}}}},
            "422": {"description": "Invalid body."},
        },
    )


def secret_case() -> TestCaseInput:
    return TestCaseInput(
        id=7, title="Log in with a valid account", module="Auth",
        preconditions="The account exists; admin api_key=sk-test-ABCDEFGHIJKLMNOP",
        steps="1. Call POST /api/v1/sessions with header Authorization: Bearer tkn-0123456789abcdef\n"
              "2. Send the account's email and 密码：Abc@12345678",
        expected_result="201 with a session token; password: at least 8 characters",
    )
