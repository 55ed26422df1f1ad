"""Environments: named targets of runs (dev, staging ...), each a base URL, headers, auth and variables.

Nothing secret is stored, shown or logged. An environment's auth names the environment
variable of the process that holds the token, key or password (``STAGING_TOKEN``); only a
run reads its value (:func:`target`), and every record shows the name and whether it is set
in this process. Headers that carry credentials and URLs with ``user:password@`` are
refused, so credentials have one way in: the auth setting. Each module may have a default
environment (runs that name none) and a sandbox environment (the run before review).
"""

from __future__ import annotations

import base64
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.config import Settings
from core.database import session_scope
from core.errors import Conflict, InvalidInput, NotFound
from core.schema import variables
from db.models import Environment, ModuleEnvironment
from db.types import isoformat

AUTH_KINDS = ("none", "bearer", "api_key", "basic")
AUTH_FIELDS = {"none": (), "bearer": ("secret_variable",), "api_key": ("header", "secret_variable"),
               "basic": ("username", "secret_variable")}
"""What each kind of auth needs besides its kind."""
AUTH_FIELD_TEXT = {"header": "the header that carries the key (e.g. X-Api-Key)",
                   "username": "the username",
                   "secret_variable": "the name of the environment variable that holds the secret (e.g. STAGING_TOKEN)"}
SECRET_OF = {"bearer": "token", "api_key": "API key", "basic": "password"}
ROLES = {"default": "default_environment_id", "sandbox": "sandbox_environment_id"}
"""A module's environments: ``default`` for runs that name none, ``sandbox`` for the run before review."""

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}")
HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}")
CREDENTIAL_HEADER = re.compile(r"auth|cookie|api[-_]?key|token|secret|passw|credential", re.IGNORECASE)
"""Header names that carry credentials (Authorization, Cookie, X-Api-Key, X-Auth-Token ...): auth sends those."""
SECRET_VARIABLE = re.compile(r"[A-Z_][A-Z0-9_]{0,99}")
"""Upper case only: a pasted token (mixed case, dots, dashes) is refused instead of stored as a name."""
RUN_VARIABLES = frozenset(variables.EXAMPLE_VARIABLES)
"""Names each run gives itself (``run_id``); an environment cannot redefine them."""
MODULE_LIMIT = 100
MASK = "•••"


def caseflow_variables() -> frozenset[str]:
    """CaseFlow's own settings and passwords: no environment may send them to an API."""
    return frozenset(name.upper() for name in Settings.model_fields) | {"CASEFLOW_ADMIN_PASSWORD", "CASEFLOW_PASSWORD"}


@dataclass(frozen=True, kw_only=True)
class RunTarget:
    """Where a run sends its rows, and what each request adds: headers and variables (resolved per row), auth."""

    name: str | None
    """The environment's name; None for a base URL given by hand."""
    base_url: str
    headers: dict[str, str] = field(default_factory=dict)
    variables: dict[str, str] = field(default_factory=dict)
    auth_headers: dict[str, str] = field(default_factory=dict, repr=False)
    """They hold the secret: sent, never stored."""
    secrets: tuple[str, ...] = field(default=(), repr=False)
    """Every form of the secret a request carries, masked out of whatever the run stores."""

    def redact(self, value: Any) -> Any:
        """``value`` (a row's outcome) with every secret masked: a server may echo a header back."""
        if isinstance(value, str):
            for secret in self.secrets:
                value = value.replace(secret, MASK)
            return value
        if isinstance(value, dict):
            return {key: self.redact(item) for key, item in value.items()}
        if isinstance(value, list):
            return [self.redact(item) for item in value]
        return value


def check_base_url(base_url: str) -> str:
    """``base_url`` without a trailing slash, if it is an http(s) URL with a host and nothing secret in it."""
    url = base_url.strip().rstrip("/")
    parts = urlsplit(url)
    if "@" in parts.netloc or (not parts.netloc and "@" in url):
        raise InvalidInput("The base URL must not hold credentials (user:password@host): give them to an "
                           "environment's auth setting (basic: a username and the environment variable of the "
                           "password), which never stores them.")
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InvalidInput("The base URL {base_url!r} must start with http:// or https:// and name a host, "
                           "e.g. https://api.example.com/v1.", base_url=base_url)
    if "?" in url or "#" in url:
        raise InvalidInput("The base URL takes no query (?...) or fragment (#...): an API key goes in an "
                           "environment's auth setting, other values in its variables.")
    return url


def by_hand(base_url: str, token: str | None) -> RunTarget:
    """A run's target from a base URL and an optional bearer token, without an environment."""
    if not token:
        return RunTarget(name=None, base_url=check_base_url(base_url))
    return RunTarget(name=None, base_url=check_base_url(base_url), auth_headers={"Authorization": f"Bearer {token}"},
                     secrets=(token,))


def target(name: str) -> RunTarget:
    """What a run through the environment sends: its secret read now from the process environment.

    A referenced variable that is not set is an InvalidInput naming the variable, never its value.
    """
    with session_scope(read_only=True) as session:
        environment = _environment(session, name)
        auth_headers, secrets = _auth_headers(environment)
        return RunTarget(name=environment.name, base_url=environment.base_url, headers=dict(environment.headers),
                         variables=dict(environment.variables), auth_headers=auth_headers, secrets=secrets)


def _auth_headers(environment: Environment) -> tuple[dict[str, str], tuple[str, ...]]:
    kind = environment.auth_kind
    if kind == "none":
        return {}, ()
    secret = _secret(environment)
    if kind == "bearer":
        return {"Authorization": f"Bearer {secret}"}, (secret,)
    if kind == "api_key":
        return {str(environment.auth_header): secret}, (secret,)
    encoded = base64.b64encode(f"{environment.auth_username}:{secret}".encode()).decode("ascii")
    return {"Authorization": f"Basic {encoded}"}, (secret, encoded)


def _secret(environment: Environment) -> str:
    variable = str(environment.auth_secret_variable)
    value = os.environ.get(variable, "").strip()
    what = f"The {SECRET_OF[environment.auth_kind]} of environment {environment.name!r}"
    if not value:
        raise InvalidInput("{what} is read from the environment variable {variable}, which is not set in this "
                           "process: set {variable} where CaseFlow runs (the dashboard's server, the command "
                           "line, the workers) and run again.", what=what, variable=variable)
    if "\r" in value or "\n" in value:
        raise InvalidInput("{what} from the environment variable {variable} holds a line break, which no "
                           "header can carry.", what=what, variable=variable)
    return value


def default_environment(module: str) -> str | None:
    """The name of the module's default environment, if it has one."""
    return module_environment(module, "default")


def module_environment(module: str, role: str) -> str | None:
    """The name of the module's ``default`` or ``sandbox`` environment, if it has one."""
    with session_scope(read_only=True) as session:
        link = session.get(ModuleEnvironment, module)
        chosen = getattr(link, ROLES[role]) if link is not None else None
        found = session.get(Environment, chosen) if chosen else None
        return found.name if found else None


# --- managing environments --------------------------------------------------------------


def list_all() -> list[dict[str, Any]]:
    """Every environment, by name, as :func:`get` shows it."""
    with session_scope(read_only=True) as session:
        return [_record(session, item) for item in session.scalars(select(Environment).order_by(Environment.name))]


def get(name: str) -> dict[str, Any]:
    """An environment: secret variables by name with whether each is set in this process, never their values."""
    with session_scope(read_only=True) as session:
        return _record(session, _environment(session, name))


def create(values: Mapping[str, Any]) -> dict[str, Any]:
    """A new environment (and the modules it is the default or sandbox of); bad fields: InvalidInput listing all."""
    columns, modules = _checked(values, creating=True)
    with session_scope() as session:
        environment = Environment(**columns)
        session.add(environment)
        _flush(session, columns["name"])
        _assign(session, environment.id, modules)
        return _record(session, environment)


def update(name: str, values: Mapping[str, Any]) -> dict[str, Any]:
    """Replaces an environment's fields (it may be renamed); ``default_for``/``sandbox_for``, when given, too."""
    columns, modules = _checked(values, creating=False)
    with session_scope() as session:
        environment = _environment(session, name, lock=True)
        for key, value in columns.items():
            setattr(environment, key, value)
        _flush(session, columns["name"])
        _assign(session, environment.id, modules)
        return _record(session, environment)


def remove(name: str) -> dict[str, Any]:
    """Removes an environment; modules it served lose that default or sandbox. Past runs keep its name."""
    with session_scope() as session:
        environment = _environment(session, name, lock=True)
        unassigned = sorted({link.module for link in _links_of(session, environment.id)})
        _assign(session, environment.id, {role: [] for role in ROLES})
        session.delete(environment)
        return {"removed": environment.name, "unassigned_modules": unassigned}


def module_environments() -> list[dict[str, Any]]:
    """Every module with a default or sandbox environment: {module, default, sandbox} by module."""
    with session_scope(read_only=True) as session:
        names = {row.id: row.name for row in session.execute(select(Environment.id, Environment.name))}
        links = session.scalars(select(ModuleEnvironment).order_by(ModuleEnvironment.module))
        return [{"module": link.module, **{role: names.get(getattr(link, column)) for role, column in ROLES.items()}}
                for link in links]


def set_module_environments(module: str, *, default: str | None, sandbox: str | None) -> dict[str, Any]:
    """Sets (None: clears) a module's default and sandbox environment."""
    module = _module(module)
    with session_scope() as session:
        chosen = {role: _environment(session, name) if name else None
                  for role, name in (("default", default), ("sandbox", sandbox))}
        link = session.get(ModuleEnvironment, module) or ModuleEnvironment(module=module)
        for role, column in ROLES.items():
            setattr(link, column, chosen[role].id if chosen[role] else None)
        if any(chosen.values()):
            session.add(link)
        elif link in session:
            session.delete(link)
        return {"module": module, **{role: item.name if item else None for role, item in chosen.items()}}


def _environment(session: Session, name: str, *, lock: bool = False) -> Environment:
    query = select(Environment).where(Environment.name == name.strip())
    found = session.scalar(query.with_for_update() if lock else query)
    if found is None:
        raise NotFound("No environment called {name!r}.", name=name)
    return found


def _flush(session: Session, name: str) -> None:
    """Writes the environment now: its name's unique constraint says whether another has taken it."""
    try:
        session.flush()
    except IntegrityError:
        raise Conflict("An environment called {name!r} already exists.", name=name) from None


def _links_of(session: Session, environment_id: int) -> list[ModuleEnvironment]:
    return list(session.scalars(select(ModuleEnvironment).where(or_(
        ModuleEnvironment.default_environment_id == environment_id,
        ModuleEnvironment.sandbox_environment_id == environment_id))))


def _assign(session: Session, environment_id: int, modules: Mapping[str, list[str]]) -> None:
    """Makes the environment the default (sandbox) of exactly the modules given for that role; other roles stay."""
    links = {link.module: link for link in _links_of(session, environment_id)}
    for role, chosen in modules.items():
        column = ROLES[role]
        for link in links.values():
            if getattr(link, column) == environment_id and link.module not in chosen:
                setattr(link, column, None)
        for module in chosen:
            link = links.get(module) or session.get(ModuleEnvironment, module)
            if link is None:
                link = ModuleEnvironment(module=module)
                session.add(link)
            links[module] = link
            setattr(link, column, environment_id)
    for link in links.values():
        if link.default_environment_id is None and link.sandbox_environment_id is None:
            session.delete(link)
    session.flush()


def _record(session: Session, environment: Environment) -> dict[str, Any]:
    links = _links_of(session, environment.id)
    variable = environment.auth_secret_variable
    return {
        "id": environment.id, "name": environment.name, "base_url": environment.base_url,
        "headers": dict(environment.headers), "variables": dict(environment.variables),
        "auth": {"kind": environment.auth_kind, "header": environment.auth_header,
                 "username": environment.auth_username, "secret_variable": variable,
                 "secret_set": bool(variable and os.environ.get(variable, "").strip())},
        **{f"{role}_for": sorted(link.module for link in links if getattr(link, column) == environment.id)
           for role, column in ROLES.items()},
        "created_at": isoformat(environment.created_at), "updated_at": isoformat(environment.updated_at),
    }


# --- the rules of an environment's fields -------------------------------------------------


def _checked(values: Mapping[str, Any], *, creating: bool) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """(the columns, the modules per role given) of ``values``, or InvalidInput listing every problem.

    A role absent from ``values`` is left as it is on update (and empty on create).
    """
    problems: list[str] = []
    columns = {"name": _name(values.get("name"), problems), "base_url": _base_url(values.get("base_url"), problems),
               "headers": _headers(values.get("headers"), problems),
               **_auth(values.get("auth"), problems), "variables": _variables(values.get("variables"), problems)}
    api_key_header = columns["auth_header"]
    if api_key_header and api_key_header.lower() in {name.lower() for name in columns["headers"]}:
        problems.append(f"The header {api_key_header} is both a header and the API key's header: keep it in auth.")
    modules: dict[str, list[str]] = {}
    for role in ROLES:
        if creating or f"{role}_for" in values:
            modules[role] = _modules(values.get(f"{role}_for"), role, problems)
    if problems:
        raise InvalidInput(" ".join(problems))
    return columns, modules


def _name(value: Any, problems: list[str]) -> str:
    name = str(value or "").strip()
    if not NAME.fullmatch(name):
        problems.append("An environment's name is 1 to 100 letters, digits, '.', '_' or '-' (e.g. staging), "
                        "starting with a letter or a digit.")
    return name


def _base_url(value: Any, problems: list[str]) -> str:
    try:
        return check_base_url(str(value or ""))
    except InvalidInput as error:
        problems.append(error.message)
        return ""


def _string_map(value: Any, what: str, problems: list[str]) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, Mapping) or not all(isinstance(item, str) for item in value.values()):
        problems.append(f"The {what} must be a JSON object of text values, e.g. {{\"X-Tenant\": \"acme\"}}.")
        return {}
    return {str(key).strip(): item for key, item in value.items()}


def _headers(value: Any, problems: list[str]) -> dict[str, str]:
    headers = _string_map(value, "headers", problems)
    for name, text in headers.items():
        if not HEADER_NAME.fullmatch(name):
            problems.append(f"{name!r} is not a header name (letters, digits and -, e.g. X-Tenant).")
        elif CREDENTIAL_HEADER.search(name):
            problems.append(f"The header {name} carries credentials: set them with the auth setting (bearer, "
                            f"api_key or basic, read from an environment variable), never as a header.")
        if "\r" in text or "\n" in text:
            problems.append(f"The value of the header {name} holds a line break.")
    if len({name.lower() for name in headers}) < len(headers):
        problems.append("A header is given twice (header names ignore case).")
    return headers


def _variables(value: Any, problems: list[str]) -> dict[str, str]:
    found = _string_map(value, "variables", problems)
    for name in found:
        if not re.fullmatch(variables.NAME, name):
            problems.append(f"{name!r} is not a variable name: letters, digits, '_' and '.', not starting with a "
                            f"digit (used as {{{{name}}}}).")
        elif name in RUN_VARIABLES:
            problems.append(f"{name} is given by each run; choose another name for the variable.")
    return found


def _auth(value: Any, problems: list[str]) -> dict[str, str | None]:
    if value is not None and not isinstance(value, Mapping):
        problems.append("The auth must be an object: {\"kind\": \"bearer\", \"secret_variable\": \"STAGING_TOKEN\"}.")
    auth = dict(value) if isinstance(value, Mapping) else {}
    kind = str(auth.get("kind") or "none")
    columns: dict[str, str | None] = {"auth_kind": kind, "auth_header": None, "auth_username": None,
                                      "auth_secret_variable": None}
    if kind not in AUTH_KINDS:
        problems.append(f"Unknown auth {kind!r}: use {', '.join(AUTH_KINDS)}.")
        return columns
    for key in AUTH_FIELD_TEXT:
        text = str(auth.get(key) or "").strip()
        if key in AUTH_FIELDS[kind] and not text:
            problems.append(f"The {kind} auth needs {AUTH_FIELD_TEXT[key]}.")
        elif key not in AUTH_FIELDS[kind] and text:
            what = AUTH_FIELD_TEXT[key]
            problems.append(f"{what[0].upper()}{what[1:]} is not used by the {kind} auth.")
        elif text:
            columns[f"auth_{key}"] = text
    _check_auth_values(columns, problems)
    return columns


def _check_auth_values(columns: Mapping[str, str | None], problems: list[str]) -> None:
    header, username, variable = columns["auth_header"], columns["auth_username"], columns["auth_secret_variable"]
    if header and not HEADER_NAME.fullmatch(header):
        problems.append(f"{header!r} is not a header name (letters, digits and -, e.g. X-Api-Key).")
    if username and (":" in username or len(username) > 200):
        problems.append("A basic auth username has at most 200 characters and no ':'.")
    if variable and not SECRET_VARIABLE.fullmatch(variable):
        problems.append("The secret is read from an environment variable: give its name (upper-case letters, "
                        "digits and _, e.g. STAGING_TOKEN), never the secret itself.")
    elif variable in caseflow_variables():
        problems.append(f"{variable} is one of CaseFlow's own settings: an environment cannot send it to an API.")


def _modules(value: Any, role: str, problems: list[str]) -> list[str]:
    items = [value] if isinstance(value, str) else list(value or [])
    modules: list[str] = []
    for item in items:
        try:
            modules.append(_module(str(item)))
        except InvalidInput as error:
            problems.append(f"{role.capitalize()} for: {error.message}")
    return sorted(set(modules))


def _module(value: str) -> str:
    module = value.strip()
    if not module or len(module) > MODULE_LIMIT:
        raise InvalidInput("A module name has 1 to {module_limit} characters.", module_limit=MODULE_LIMIT)
    return module
