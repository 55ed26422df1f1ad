"""The tasks, task, launch and metrics pages, and the sidebar's notifications, driven through app.py."""

from __future__ import annotations

from typing import Any

from core import service
from core.service import tasks
from tests.apptest.conftest import (
    LAUNCH,
    METRICS,
    SETTINGS,
    TASK,
    TASKS,
    assert_no_exception,
    button,
    frame,
    text,
)
from tests.conftest import wait_for
from tests.support.cases import first_case


def _launch(users: dict[str, str], count: int = 1, **kwargs: Any) -> list[int]:
    case = first_case()
    return [service.start_workflow(case["id"], case["scene_id"], user=users["engineer"], **kwargs)["task_id"]
            for _ in range(count)]


def test_launch_creates_one_task_per_selected_case_and_links_to_each(dashboard, demo, users) -> None:
    at = dashboard(users["engineer"], LAUNCH)
    scene_id = at.selectbox(key="launch_scene").value
    linked = service.list_test_cases(scene_id=scene_id)["items"]
    assert len(linked) >= 2
    at.session_state[f"launch_pick_{scene_id}_True__0"] = {"selection": {"rows": [0, 1], "columns": [], "cells": []}}
    at.run()
    assert "2 of" in text(at)
    at.select_slider(key="launch_priority").set_value(8)
    button(at, "launch_go").click().run()
    assert_no_exception(at)
    page = service.list_tasks(limit=10)
    assert page["total"] == 2
    assert {item["test_case_id"] for item in page["items"]} == {linked[0]["id"], linked[1]["id"]}
    assert {item["priority"] for item in page["items"]} == {8}
    assert {item["status"] for item in page["items"]} == {"pending"}
    shown = text(at)
    for item in page["items"]:
        assert f"Queued **#{item['id']}**" in shown


def test_the_module_filter_narrows_the_scenes(dashboard, demo, users) -> None:
    at = dashboard(users["engineer"], LAUNCH)
    module = service.list_modules()[0]
    at.selectbox(key="launch_module").select(module).run()
    assert set(at.selectbox(key="launch_scene").options) == {
        f"{s['id']} · {s['name']} — {s['method']} {s['path']}" for s in service.list_scenes(module)}


def test_the_task_table_pages_and_filters_from_the_url(dashboard, demo, users, monkeypatch) -> None:
    ids = _launch(users, 30)
    service.cancel_task(ids[0], user=users["engineer"])
    at = dashboard(users["viewer"], TASKS)
    shown = frame(at, None)
    assert len(shown) == 25 and shown["open"].iloc[0] == f"#{ids[-1]}"
    assert "1–25 of 30 tasks" in text(at)
    monkeypatch.setattr(tasks, "COUNT_CAP", 28)  # where the counting stops, the page says so
    assert "1–25 of 28+ tasks" in text(dashboard(users["viewer"], TASKS))

    at = dashboard(users["viewer"], TASKS, status="cancelled")  # a shared link to a filtered view
    shown = frame(at, None)
    assert list(shown["open"]) == [f"#{ids[0]}"] and list(shown["status"].iloc[0]) == ["cancelled"]

    at = dashboard(users["viewer"], TASKS, owner=users["admin"])
    assert not at.dataframe
    assert "No task matches these filters" in text(at)


def test_bulk_cancel_and_retry_ask_for_confirmation(dashboard, demo, users) -> None:
    ids = _launch(users, 3)
    at = dashboard(users["engineer"], TASKS)
    at.session_state["tasks_grid"] = {"selection": {"rows": [0, 1], "columns": [], "cells": []}}
    at.run()
    button(at, "bulk_cancel").click().run()
    assert "Cancel 2 tasks?" in text(at)
    assert {service.get_task(i)["status"] for i in ids} == {"pending"}  # nothing happens before the confirmation
    button(at, "bulk_confirm").click().run()
    assert_no_exception(at)
    assert [service.get_task(i)["status"] for i in ids] == ["pending", "cancelled", "cancelled"]
    assert "Cancelled 2 tasks" in text(at)

    at.session_state["tasks_grid"] = {"selection": {"rows": [0, 1, 2], "columns": [], "cells": []}}
    at.run()
    assert button(at, "bulk_retry").label == "Retry 2" and button(at, "bulk_cancel").label == "Cancel 1"
    button(at, "bulk_retry").click().run()
    button(at, "bulk_confirm").click().run()
    assert [service.get_task(i)["status"] for i in ids] == ["pending"] * 3


def test_the_task_page_explains_where_the_task_is_and_acts_on_it(dashboard, demo, users) -> None:
    task_id, behind = _launch(users, 2, priority=9)
    at = dashboard(users["engineer"], TASK, task=str(behind))
    shown = text(at)
    assert "queued behind 1 task" in shown and "No worker is alive" in shown
    button(at, "task_cancel").click().run()
    button(at, "task_confirm").click().run()
    assert_no_exception(at)
    assert service.get_task(behind)["status"] == "cancelled"
    assert "Cancelled by alice" in text(at)
    button(at, "task_retry").click().run()
    button(at, "task_confirm").click().run()
    assert service.get_task(behind)["status"] == "pending"

    at.query_params["task"] = "999999"
    at.run()
    assert "No task with id 999999." in text(at)
    assert_no_exception(at)


def test_the_task_page_shows_steps_rows_and_the_created_case(dashboard, demo, users, worker) -> None:
    task_id = _launch(users)[0]
    task = wait_for(task_id, "reviewing")
    at = dashboard(users["viewer"], TASK, task=str(task_id))
    timeline = frame(at, None)  # the Timeline tab comes first
    assert list(timeline["state"])[:5] == ["✓ done"] * 5
    assert "waiting for review" in list(timeline["state"])[8]
    assert "Waiting for a reviewer since" in text(at)
    service.submit_review(task["thread_id"], "approved", reviewer=users["engineer"], wait_seconds=20)
    at.run()
    shown = text(at)
    assert "completed" in shown and "Automation case **UC" in shown
    assert_no_exception(at)


def test_metrics_tiles_show_the_rates(dashboard, demo, users, worker) -> None:
    first, second = _launch(users, 2)
    for task_id in (first, second):
        wait_for(task_id, "reviewing")
    service.submit_review(service.get_task(first)["thread_id"], "approved", reviewer=users["engineer"],
                          wait_seconds=20)
    service.cancel_task(second, user=users["engineer"])
    at = dashboard(users["viewer"], METRICS)
    assert_no_exception(at)
    tiles = {m.label: m.value for m in at.metric}
    assert tiles["Success rate"] == "100.0%"
    assert tiles["Review approval"] == "100.0%"
    assert tiles["Backlog"] == "0" and tiles["Awaiting review"] == "0"
    assert len(at.get("vega_lite_chart")) == 5
    by_scene = at.dataframe[0].value  # the first round, approved as generated by the offline provider
    scene = service.get_task(first)["input_params"]["scene_id"]
    assert by_scene.iloc[0]["Scene"].startswith(scene) and by_scene.iloc[0]["Provider"] == "offline"
    assert (by_scene.iloc[0]["Rounds"], by_scene.iloc[0]["Approved without edits"]) == (1, 1.0)


def test_the_sidebar_toasts_new_events_on_my_own_tasks_only(dashboard, demo, users, worker) -> None:
    at = dashboard(users["engineer"], TASKS)
    mine = _launch(users)[0]
    case = first_case()
    theirs = service.start_workflow(case["id"], case["scene_id"], user=users["engineer2"])["task_id"]
    wait_for(mine, "reviewing")
    wait_for(theirs, "reviewing")
    at.run()
    toasts = [t.value for t in at.toast]
    assert any(f"#{mine} started" in t for t in toasts) and any(f"#{mine} needs review" in t for t in toasts)
    assert not any(f"#{theirs} " in t for t in toasts)
    assert "Awaiting review :orange-badge[2]" in [link.label for link in at.sidebar.get("page_link")]
    at.run()
    assert not [t.value for t in at.toast]  # each event is told once


def test_one_status_palette_covers_every_status() -> None:
    from dashboard import ui
    from db.models import TaskStatus

    assert ui.STATUSES == tuple(status.value for status in TaskStatus)
    for palette in (ui.STATUS_BADGE, ui.STATUS_HEX, ui.STATUS_ICON):
        assert set(palette) == set(ui.STATUSES)


def test_go_to_task_opens_its_page(dashboard, demo, users) -> None:
    task_id = _launch(users)[0]
    at = dashboard(users["viewer"], TASKS)
    at.text_input(key="goto").input(f"#{task_id}").run()
    assert_no_exception(at)
    assert f"## #{task_id} " in text(at)


def test_ai_calls_show_on_the_task_and_their_cost_per_case_on_metrics(dashboard, demo, users, worker) -> None:
    from core.generation.openai_compatible.chat import CallRecord
    from core.tasks import ai_calls

    task_id = _launch(users)[0]
    task = wait_for(task_id, "reviewing")
    with ai_calls.task_scope(task_id):
        for step, tokens in (("analyse_case", 1000), ("generate_bodies", 3000)):
            ai_calls.record(CallRecord(
                step=step, purpose="generate", attempt=1, provider="openai", model="gpt-4o-mini",
                response_format="json_schema", outcome="ok", latency_ms=900, prompt_tokens=tokens,
                completion_tokens=tokens // 2, error=None))
    service.submit_review(task["thread_id"], "approved", reviewer=users["engineer"], wait_seconds=20)

    at = dashboard(users["viewer"], TASK, task=str(task_id))
    calls = next(f for f in (element.value for element in at.dataframe) if "model" in f.columns)
    assert list(calls["step"]) == ["analyse_case", "generate_bodies"]
    assert list(calls["prompt"]) == [1000, 3000] and set(calls["model"]) == {"gpt-4o-mini"}
    assert "Produced by the **offline** provider" in text(at)

    at = dashboard(users["viewer"], METRICS)
    assert_no_exception(at)
    tiles = {m.label: m.value for m in at.metric}
    assert tiles["Calls per case"] == "2.0" and tiles["Tokens per case"] == "6,000"
    assert tiles["Cost per case (USD)"] != "—"


def test_admins_create_list_and_revoke_api_tokens_on_the_settings_page(dashboard, users) -> None:
    at = dashboard(users["admin"], SETTINGS)
    next(b for b in at.button if b.label == "Create token").click().run()
    assert_no_exception(at)
    shown = [code.value for code in at.code]
    assert len(shown) == 1 and shown[0].startswith("cf_"), "the new token is shown once"
    [listed] = service.list_api_tokens(user=users["admin"])
    assert shown[0].startswith(listed["prefix"]) and listed["revoked_at"] is None
    button(at, f"revoke_{listed['id']}").click().run()
    assert_no_exception(at)
    assert service.list_api_tokens(user=users["admin"])[0]["revoked_at"] is not None
    assert not [code.value for code in at.code], "never shown again"


def test_admins_add_and_remove_webhooks_on_the_settings_page(dashboard, users) -> None:
    at = dashboard(users["admin"], SETTINGS)

    def field(label: str) -> Any:
        return next(widget for widget in at.text_input if widget.label == label)

    def add() -> None:
        next(b for b in at.button if b.label == "Add webhook").click().run()

    field("Webhook URL").input("http://169.254.169.254/latest/meta-data/")
    add()
    assert_no_exception(at)
    assert "address 169.254.169.254 is a link-local address" in text(at) and "WEBHOOK_ALLOWED_HOSTS" in text(at)
    assert service.list_webhooks(user=users["admin"]) == [], "nothing written"

    field("Webhook URL").input("https://ci.example.com/caseflow?key=K3Y9")
    field("Or every task of the module").input("payments")
    add()
    assert_no_exception(at)
    [hook] = service.list_webhooks(user=users["admin"])
    assert hook["module"] == "payments" and hook["url"] == "https://ci.example.com/…K3Y9"
    shown = [code.value for code in at.code]
    assert len(shown) == 1 and len(shown[0]) >= 32, "the generated secret is shown once"
    listed = next(f for f in (element.value for element in at.dataframe) if "url" in f.columns)
    assert list(listed["url"]) == [hook["url"]] and "key=K3Y9" not in text(at)

    button(at, "remove_webhook").click().run()
    assert_no_exception(at)
    assert service.list_webhooks(user=users["admin"]) == []
    assert f"Removed webhook #{hook['id']}" in text(at) and not [code.value for code in at.code]
