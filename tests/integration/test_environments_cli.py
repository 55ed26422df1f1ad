"""`python -m core environment add|list|show|remove` and `run-case --environment`, as a user runs them."""

from __future__ import annotations

import pytest

from tests.conftest import TEST_PASSWORD
from tests.support.cli import ok, refused
from tests.support.echo_api import serve
from tests.support.environments import ORDERS, SECRET, SECRET_VARIABLE, orders_case


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_environments_from_the_command_line(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(SECRET_VARIABLE, raising=False)
    monkeypatch.setenv("CASEFLOW_USER", "admin")  # the commands act as the operator's admin
    ok("setup", db_url=db_url, CASEFLOW_ADMIN_PASSWORD=TEST_PASSWORD)
    case = f"UC{orders_case()}"
    with_secret = {SECRET_VARIABLE: SECRET}
    with serve([ORDERS]) as api:
        added = ok("environment", "add", "staging", "--base-url", api.base_url, "--header", "X-Tenant={{tenant}}",
                   "--bearer-env", SECRET_VARIABLE, "--var", "tenant=acme corp", "--var", "region=eu",
                   "--var", "prefix=ord", "--default-for", "Orders", db_url=db_url, **with_secret)
        assert added["auth"] == {"kind": "bearer", "header": None, "username": None,
                                 "secret_variable": SECRET_VARIABLE, "secret_set": True}
        assert added["default_for"] == ["Orders"] and added["headers"] == {"X-Tenant": "{{tenant}}"}
        assert [item["auth"]["secret_set"] for item in ok("environment", "list", db_url=db_url)] == [False]

        named = ok("run-case", case, "--environment", "staging", db_url=db_url, **with_secret)
        by_default = ok("run-case", case, db_url=db_url, **with_secret)
        missing = refused("run-case", case, "--environment", "staging", db_url=db_url)
    assert (named["status"], named["environment"], by_default["environment"]) == ("passed", "staging", "staging")
    assert {request["headers"]["Authorization"] for request in api.received} == {f"Bearer {SECRET}"}
    assert SECRET_VARIABLE in missing["message"] and "not set" in missing["message"]
    two_auths = refused("environment", "add", "qa", "--base-url", "http://qa.local", "--bearer-env", "QA_TOKEN",
                        "--basic-user", "qa", db_url=db_url)
    assert "Give one kind of auth" in two_auths["message"]
    assert "--header takes NAME=VALUE" in refused("environment", "add", "qa", "--base-url", "http://qa.local",
                                                  "--header", "X-Tenant", db_url=db_url)["message"]
    assert ok("environment", "remove", "staging", db_url=db_url) == {"removed": "staging",
                                                                     "unassigned_modules": ["Orders"]}
    assert "No environment called 'staging'" in refused("environment", "show", "staging", db_url=db_url)["message"]
