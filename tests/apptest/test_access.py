"""Signing in and out, and what each role may see and do (the service refuses the rest)."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from core import service
from core.errors import Forbidden
from tests.apptest.conftest import (
    APP,
    AUTOMATION_CASES,
    COVERAGE,
    ENVIRONMENTS,
    IMPORTS,
    LAUNCH,
    METRICS,
    PAGES,
    REVIEW,
    ROOT,
    SCENES,
    SETTINGS,
    TASK,
    TASKS,
    TEST_CASES,
    TIMEOUT,
    assert_no_exception,
    button,
    has,
    text,
)
from tests.conftest import TEST_PASSWORD
from tests.support.cases import first_case

EVERYONE = {TASKS, TASK, REVIEW, TEST_CASES, SCENES, AUTOMATION_CASES, ENVIRONMENTS, COVERAGE, METRICS}


def test_signed_out_visitors_see_only_the_sign_in_form(dashboard, users) -> None:
    at = dashboard()
    assert [field.label for field in at.text_input] == ["Username", "Password"]
    assert [b.label for b in at.button] == ["Sign in"]
    assert not at.sidebar.children
    assert "Tasks" not in text(at)
    for page in PAGES:
        with pytest.raises(ValueError):
            at.switch_page(page)


def test_sign_in_checks_the_password_and_sign_out_forgets_the_user(dashboard, users) -> None:
    at = dashboard()
    at.text_input[0].input(users["engineer"])
    at.text_input[1].input("wrong password")
    at.button[0].click().run()
    assert "Wrong username or password." in text(at)
    assert "actor" not in at.session_state

    at.text_input[1].input(TEST_PASSWORD)
    at.button[0].click().run()
    assert at.session_state["actor"].username == users["engineer"]
    at.switch_page(TASKS).run()
    assert_no_exception(at)
    assert "Tasks" in text(at)
    assert users["engineer"] in "\n".join(m.value for m in at.sidebar.get("markdown"))

    button(at, "sign_out").click().run()
    assert "actor" not in at.session_state
    assert [field.label for field in at.text_input] == ["Username", "Password"]


def test_a_deactivated_user_is_signed_out_on_the_next_run(dashboard, users) -> None:
    at = dashboard(users["engineer"], TASKS)
    service.update_user(users["engineer"], active=False, user=users["admin"])
    at.run()
    assert "actor" not in at.session_state
    assert "deactivated" in text(at)


@pytest.mark.parametrize(("role", "allowed"), [
    ("viewer", EVERYONE),
    ("engineer", EVERYONE | {LAUNCH, IMPORTS}),
    ("admin", set(PAGES)),
])
def test_each_role_reaches_only_its_pages(dashboard, users, role, allowed) -> None:
    at = dashboard(users[role])
    for page in PAGES:
        if page in allowed:
            at.switch_page(page).run()
            assert_no_exception(at)
            assert has(at, "button", "sign_out"), f"{page} ran without app.py's gate and sidebar"
        else:
            with pytest.raises(ValueError):
                at.switch_page(page)


def test_viewers_get_no_buttons_that_change_tasks(dashboard, demo, users) -> None:
    case = first_case()
    task_id = service.start_workflow(case["id"], case["scene_id"], user=users["engineer"])["task_id"]
    at = dashboard(users["viewer"], TASKS)
    assert not has(at, "button", "bulk_cancel") and not has(at, "button", "bulk_retry")
    at.query_params["task"] = str(task_id)
    at.switch_page(TASK).run()
    assert_no_exception(at)
    assert not has(at, "button", "task_cancel") and not has(at, "button", "task_retry")
    with pytest.raises(Forbidden):
        service.cancel_tasks([task_id], user=users["viewer"])
    with pytest.raises(Forbidden):
        service.start_workflow(case["id"], case["scene_id"], user=users["viewer"])


def test_only_admins_manage_users_and_settings(dashboard, users) -> None:
    for role in ("engineer", "viewer"):
        with pytest.raises(Forbidden):
            service.system_overview(user=users[role])
        with pytest.raises(Forbidden):
            service.add_user("mallory", "admin", "long-enough-pw", user=users[role])
        with pytest.raises(Forbidden):
            service.run_cleanup(user=users[role], dry_run=True)

    at = dashboard(users["admin"], SETTINGS)
    form = at.get("form")[0]
    form.text_input[0].input("carol")
    form.selectbox[0].select("viewer")
    form.text_input[1].input("amber-lantern-quay")
    form.form_submit_button[0].click()
    at.run()
    assert_no_exception(at)
    assert "Added carol as viewer." in text(at)
    assert {"username": "carol", "role": "viewer"}.items() <= next(
        u for u in service.list_users(user=users["admin"]) if u["username"] == "carol").items()


def test_the_last_admin_cannot_be_demoted(users) -> None:
    from core.errors import Conflict

    with pytest.raises(Conflict, match="last active admin"):
        service.update_user(users["admin"], role="engineer", user=users["admin"])
    with pytest.raises(Conflict, match="yourself"):
        service.update_user(users["admin"], active=False, user=users["admin"])


def test_a_fresh_app_test_needs_no_database_to_show_the_form(tmp_path, monkeypatch) -> None:
    """The sign-in form renders before anything is set up (a page error there would lock everyone out)."""
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    monkeypatch.setenv("RUN_SCHEDULER", "false")
    from core.config import get_settings

    get_settings.cache_clear()
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    assert_no_exception(at)
    assert [field.label for field in at.text_input] == ["Username", "Password"]
    get_settings.cache_clear()


def test_admins_preview_and_run_the_cleanup(dashboard, demo, users) -> None:
    from datetime import timedelta

    from sqlalchemy import update

    from core.database import session_scope
    from db.models import WorkflowTask
    from db.types import utcnow

    case = first_case()
    old = service.start_workflow(case["id"], case["scene_id"], user=users["engineer"])["task_id"]
    service.cancel_task(old, user=users["engineer"])
    with session_scope() as session:
        session.execute(update(WorkflowTask).where(WorkflowTask.id == old)
                        .values(created_at=utcnow() - timedelta(days=45)))
    at = dashboard(users["admin"], SETTINGS)
    button(at, "cleanup_preview").click().run()
    assert_no_exception(at)
    assert "would remove **1 tasks**" in text(at)
    assert service.get_task(old)["status"] == "cancelled"
    button(at, "cleanup_run").click().run()
    button(at, "cleanup_go").click().run()
    assert_no_exception(at)
    assert "removed **1 tasks**" in text(at)
    assert service.list_tasks()["total"] == 0


def test_every_page_file_is_registered_once_under_its_file_name() -> None:
    from dashboard import ui

    files = {str(path.relative_to(ROOT)) for path in (ROOT / "dashboard" / "pages").glob("*.py")}
    assert files == {entry.file for entry in ui.PAGES.values()} | {ui.SIGN_IN}
    assert set(PAGES) == {entry.file for entry in ui.PAGES.values()}
    assert all(entry.file == f"dashboard/pages/{address}.py" for address, entry in ui.PAGES.items())
