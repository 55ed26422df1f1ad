"""Environments: managed at the door, secrets never returned or stored, runs through them against a real server."""

from __future__ import annotations

import base64
import json
import logging
from typing import Any

import pytest
from sqlalchemy import inspect, text

from core import service
from core.database import database
from core.errors import Conflict, Forbidden, InvalidInput, NotFound
from core.library import environments
from tests.support.echo_api import serve
from tests.support.environments import ORDERS, SECRET, SECRET_VARIABLE, STAGING, orders_case


def every_table_as_text() -> str:
    """Every row of every table of the database, CaseFlow's and LangGraph's, as text."""
    engine = database().engine
    with engine.connect() as connection:
        return "\n".join(repr(connection.execute(text(f'SELECT * FROM "{table}"')).all())
                         for table in inspect(engine).get_table_names())


@pytest.fixture
def secret(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv(SECRET_VARIABLE, SECRET)
    return SECRET


def test_operators_manage_environments_and_viewers_read_them(users: dict[str, str], secret: str) -> None:
    created = service.create_environment({**STAGING, "base_url": "https://staging.example.com/api/"},
                                         user=users["engineer"])
    assert created["base_url"] == "https://staging.example.com/api"
    assert created["auth"] == {"kind": "bearer", "header": None, "username": None,
                               "secret_variable": SECRET_VARIABLE, "secret_set": True}
    assert service.get_environment("staging", user=users["viewer"]) == created
    assert [item["name"] for item in service.list_environments(user=users["viewer"])] == ["staging"]

    renamed = service.update_environment("staging", {
        "name": "stage", "base_url": "http://127.0.0.1:9", "auth": {
            "kind": "api_key", "header": "X-Api-Key", "secret_variable": "CASEFLOW_TEST_UNSET"}}, user=users["admin"])
    assert renamed["name"] == "stage" and renamed["headers"] == {} and renamed["variables"] == {}
    assert renamed["auth"]["header"] == "X-Api-Key" and renamed["auth"]["secret_set"] is False
    with pytest.raises(NotFound, match="staging"):
        service.get_environment("staging", user=users["viewer"])

    service.create_environment({"name": "dev", "base_url": "http://localhost:8000"}, user=users["admin"])
    with pytest.raises(Conflict, match="'dev' already exists"):
        service.create_environment({"name": "dev", "base_url": "http://localhost:8001"}, user=users["engineer"])
    with pytest.raises(Conflict, match="'dev' already exists"):
        service.update_environment("stage", {"name": "dev", "base_url": "http://localhost:8001"},
                                   user=users["engineer"])
    for refused in (lambda: service.create_environment({"name": "x", "base_url": "http://h"}, user=users["viewer"]),
                    lambda: service.update_environment("dev", {"name": "dev", "base_url": "http://h"},
                                                       user=users["viewer"]),
                    lambda: service.remove_environment("dev", user=users["viewer"]),
                    lambda: service.set_module_environments("Orders", default="dev", sandbox=None,
                                                            user=users["viewer"])):
        with pytest.raises(Forbidden, match="victor is a viewer and cannot manage environments"):
            refused()
    assert service.remove_environment("dev", user=users["engineer"]) == {"removed": "dev", "unassigned_modules": []}
    assert [item["name"] for item in service.list_environments(user=users["viewer"])] == ["stage"]


def test_module_defaults_and_sandboxes(users: dict[str, str]) -> None:
    engineer = users["engineer"]
    service.create_environment({"name": "dev", "base_url": "http://dev.local", "default_for": ["Orders", "Users"],
                                "sandbox_for": ["Orders"]}, user=engineer)
    service.create_environment({"name": "qa", "base_url": "http://qa.local", "default_for": ["Users"]}, user=engineer)
    assert service.list_module_environments(user=users["viewer"]) == [
        {"module": "Orders", "default": "dev", "sandbox": "dev"}, {"module": "Users", "default": "qa", "sandbox": None}]
    assert service.get_environment("dev", user=engineer)["default_for"] == ["Orders"]

    assert service.set_module_environments("Orders", default="qa", sandbox=None, user=engineer) == {
        "module": "Orders", "default": "qa", "sandbox": None}
    updated = service.update_environment("dev", {"name": "dev", "base_url": "http://dev.local",
                                                 "sandbox_for": ["Users"]}, user=engineer)
    assert (updated["default_for"], updated["sandbox_for"]) == ([], ["Users"])
    with pytest.raises(NotFound, match="'nope'"):
        service.set_module_environments("Orders", default="nope", sandbox=None, user=engineer)

    assert service.remove_environment("qa", user=engineer) == {"removed": "qa",
                                                                "unassigned_modules": ["Orders", "Users"]}
    assert service.list_module_environments(user=engineer) == [{"module": "Users", "default": None, "sandbox": "dev"}]
    service.set_module_environments("Users", default=None, sandbox=None, user=engineer)
    assert service.list_module_environments(user=engineer) == []


@pytest.mark.parametrize(("values", "problems"), [
    ({"name": "bad name!", "base_url": "ftp://x"}, ["An environment's name is", "must start with http"]),
    ({"name": "x", "base_url": "https://qa:hunter22@api.example.com"},
     ["must not hold credentials (user:password@host)", "auth setting"]),
    ({"name": "x", "base_url": "https://api.example.com?api_key=1"}, ["takes no query"]),
    ({"name": "x", "base_url": "http://h", "headers": {"Authorization": "Bearer abc", "Cookie": "s=1",
                                                       "X-Api-Key": "k", "X-Tenant": 3}},
     ["must be a JSON object of text values"]),
    ({"name": "x", "base_url": "http://h", "headers": {"Authorization": "Bearer abc", "cookie": "s=1",
                                                       "X-API-KEY": "k", "Bad Name": "v"}},
     ["The header Authorization carries credentials", "The header cookie carries credentials",
      "The header X-API-KEY carries credentials", "'Bad Name' is not a header name"]),
    ({"name": "x", "base_url": "http://h", "variables": {"run_id": "1", "9lives": "x"}},
     ["run_id is given by each run", "'9lives' is not a variable name"]),
    ({"name": "x", "base_url": "http://h", "auth": {"kind": "bearer", "secret_variable": "eyJhbGciOi.J9-x"}},
     ["give its name (upper-case letters, digits and _, e.g. STAGING_TOKEN), never the secret itself"]),
    ({"name": "x", "base_url": "http://h", "auth": {"kind": "bearer", "secret_variable": "OPENAI_API_KEY"}},
     ["OPENAI_API_KEY is one of CaseFlow's own settings"]),
    ({"name": "x", "base_url": "http://h", "auth": {"kind": "basic", "secret_variable": "PW", "header": "X-K"}},
     ["The basic auth needs the username", "The header that carries the key (e.g. X-Api-Key) is not used by the "
      "basic auth"]),
    ({"name": "x", "base_url": "http://h", "auth": {"kind": "oauth"}}, ["Unknown auth 'oauth'"]),
])
def test_bad_fields_are_refused_listing_every_problem(users: dict[str, str], values: dict[str, Any],
                                                      problems: list[str]) -> None:
    with pytest.raises(InvalidInput) as refused:
        service.create_environment(values, user=users["engineer"])
    for problem in problems:
        assert problem in refused.value.message
    assert "hunter22" not in refused.value.message and "eyJhbGciOi" not in refused.value.message
    assert "Bearer abc" not in refused.value.message
    assert service.list_environments(user=users["engineer"]) == []


@pytest.mark.parametrize(("auth", "sent"), [
    ({"kind": "bearer", "secret_variable": SECRET_VARIABLE}, {"Authorization": f"Bearer {SECRET}"}),
    ({"kind": "api_key", "header": "X-Api-Key", "secret_variable": SECRET_VARIABLE}, {"X-Api-Key": SECRET}),
    ({"kind": "basic", "username": "qa-bot", "secret_variable": SECRET_VARIABLE},
     {"Authorization": "Basic " + base64.b64encode(f"qa-bot:{SECRET}".encode()).decode()}),
])
def test_a_run_sends_the_environments_base_url_headers_auth_and_variables(
        users: dict[str, str], secret: str, auth: dict[str, str], sent: dict[str, str]) -> None:
    case_id = orders_case()
    with serve([ORDERS]) as api:
        service.create_environment({**STAGING, "base_url": api.base_url, "auth": auth}, user=users["engineer"])
        run = service.run_case(case_id, environment="staging", user=users["engineer"])
    assert run["status"] == "passed", run["rows"]
    assert (run["environment"], run["base_url"]) == ("staging", api.base_url)
    assert [request["path"] for request in api.received] == ["/tenants/acme%20corp/orders?region=eu"] * 2
    for request in api.received:
        assert request["headers"]["X-Tenant"] == "acme corp"
        assert {name: request["headers"].get(name) for name in sent} == sent
    assert api.received[0]["headers"]["X-Request-Id"] != api.received[1]["headers"]["X-Request-Id"]
    body = json.loads(api.received[0]["body"])
    assert body["tenant"] == "acme corp" and body["order"].startswith("ord-") and len(body["order"]) == 10


def test_the_modules_default_environment_serves_runs_that_name_none(users: dict[str, str], secret: str) -> None:
    case_id = orders_case()
    with pytest.raises(InvalidInput, match="Module 'Orders' has no default environment"):
        service.run_case(case_id, user=users["engineer"])
    with serve([ORDERS]) as api:
        service.create_environment({**STAGING, "base_url": api.base_url, "default_for": ["Orders"]},
                                   user=users["engineer"])
        run = service.run_case(case_id, user=users["engineer"])
        by_hand = service.run_case(case_id, api.base_url, user=users["engineer"], token="hand-token")
    assert run["environment"] == "staging" and run["status"] == "passed"
    assert by_hand["environment"] is None and by_hand["base_url"] == api.base_url
    assert by_hand["rows"][0]["failures"][0].startswith("unknown variable {{prefix}}: neither a built-in"), \
        "without an environment, no variables"
    with pytest.raises(InvalidInput, match="not both"):
        service.run_case(case_id, api.base_url, environment="staging", user=users["engineer"])
    with pytest.raises(InvalidInput, match="an environment sends its own auth"):
        service.run_case(case_id, environment="staging", token="t", user=users["engineer"])
    with pytest.raises(Forbidden):
        service.run_case(case_id, environment="staging", user=users["viewer"])


def test_a_missing_secret_variable_fails_the_run_naming_it(users: dict[str, str],
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(SECRET_VARIABLE, raising=False)
    case_id = orders_case()
    with serve([ORDERS]) as api:
        service.create_environment({**STAGING, "base_url": api.base_url}, user=users["engineer"])
        with pytest.raises(InvalidInput) as refused:
            service.run_case(case_id, environment="staging", user=users["engineer"])
    assert refused.value.message.startswith(f"The token of environment 'staging' is read from the environment "
                                            f"variable {SECRET_VARIABLE}, which is not set in this process")
    assert api.received == [] and service.get_automation_case(case_id)["runs"] == []
    assert service.get_environment("staging", user=users["viewer"])["auth"]["secret_set"] is False


def test_no_secret_is_returned_stored_or_logged(users: dict[str, str], secret: str,
                                               caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    case_id = orders_case()
    with serve([ORDERS]) as api:
        created = service.create_environment({**STAGING, "base_url": api.base_url, "default_for": ["Orders"]},
                                             user=users["engineer"])
        run = service.run_case(case_id, user=users["engineer"])
    assert {request["headers"]["Authorization"] for request in api.received} == {f"Bearer {secret}"}
    returned = [created, run, service.list_environments(user=users["viewer"]),
                service.get_automation_case(case_id), service.list_module_environments(user=users["viewer"])]
    assert secret not in json.dumps(returned) and SECRET_VARIABLE in json.dumps(created)
    assert secret not in every_table_as_text()
    assert secret not in caplog.text


def test_what_a_server_echoes_of_the_secret_is_masked_in_the_stored_outcome() -> None:
    target = environments.by_hand("http://127.0.0.1:9", "tok-123456")
    outcome = {"response_excerpt": '{"headers": {"Authorization": "Bearer tok-123456"}}', "failures": ["tok-123456"],
               "status_code": 200}
    assert target.redact(outcome) == {"response_excerpt": '{"headers": {"Authorization": "Bearer •••"}}',
                                      "failures": ["•••"], "status_code": 200}
    assert "tok-123456" not in repr(target)
