"""Environments at the door: named run targets (base URL, headers, auth, variables) and each module's defaults.

Every signed-in role reads; admins and engineers manage. No returned value holds a secret:
auth shows the name of the environment variable that holds it and whether it is set here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from core.accounts.users import current_actor, require_operator
from core.library import environments

ENVIRONMENT_AUTH_KINDS = environments.AUTH_KINDS
ENVIRONMENT_AUTH_FIELDS = environments.AUTH_FIELDS
"""What each kind of auth needs besides its kind: header (api_key), username (basic), secret_variable."""
MANAGE = "manage environments"


def list_environments(*, user: str) -> list[dict[str, Any]]:
    """Every environment, by name."""
    current_actor(user)
    return environments.list_all()


def get_environment(name: str, *, user: str) -> dict[str, Any]:
    current_actor(user)
    return environments.get(name)


def create_environment(values: Mapping[str, Any], *, user: str) -> dict[str, Any]:
    """A new environment: {name, base_url, headers?, auth?, variables?, default_for?, sandbox_for?}.

    ``auth`` is {"kind": none|bearer|api_key|basic, "header"? (api_key), "username"? (basic),
    "secret_variable"? (the environment variable that holds the token, key or password)}.
    """
    require_operator(current_actor(user), MANAGE)
    return environments.create(values)


def update_environment(name: str, values: Mapping[str, Any], *, user: str) -> dict[str, Any]:
    """Replaces an environment's fields, as create_environment takes them."""
    require_operator(current_actor(user), MANAGE)
    return environments.update(name, values)


def remove_environment(name: str, *, user: str) -> dict[str, Any]:
    require_operator(current_actor(user), MANAGE)
    return environments.remove(name)


def list_module_environments(*, user: str) -> list[dict[str, Any]]:
    """Every module with a default or sandbox environment: {module, default, sandbox}."""
    current_actor(user)
    return environments.module_environments()


def set_module_environments(module: str, *, default: str | None, sandbox: str | None,
                            user: str) -> dict[str, Any]:
    """Sets a module's default environment (runs that name none) and sandbox environment; None clears one."""
    require_operator(current_actor(user), MANAGE)
    return environments.set_module_environments(module, default=default, sandbox=sandbox)


__all__ = [
    "ENVIRONMENT_AUTH_FIELDS", "ENVIRONMENT_AUTH_KINDS", "create_environment", "get_environment", "list_environments",
    "list_module_environments", "remove_environment", "set_module_environments", "update_environment",
]
