"""The review page: the queue, the grid (edits seeded through its session state), raw JSON, decisions."""

from __future__ import annotations

import json

from core import service
from tests.apptest.conftest import REVIEW, assert_no_exception, button, frame, has, text
from tests.conftest import wait_for
from tests.support.cases import first_case


def _reviewing(users: dict[str, str], count: int = 1) -> list[dict]:
    case = first_case("SC001")
    ids = [service.start_workflow(case["id"], "SC001", user=users["engineer"])["task_id"] for _ in range(count)]
    return [wait_for(task_id, "reviewing") for task_id in ids]


def _grid(task: dict, version: int = 0) -> str:
    return f"review_grid_{task['id']}_{task['interrupt_data']['round']}_{version}"


def _edit(at, key: str, edited_rows: dict) -> None:
    at.session_state[key] = {"edited_rows": edited_rows, "added_rows": [], "deleted_rows": []}


def test_the_queue_lists_tasks_awaiting_review_oldest_first(dashboard, demo, users, worker) -> None:
    first, second = _reviewing(users)[0], _reviewing(users)[0]
    at = dashboard(users["viewer"], REVIEW)
    assert list(frame(at, None)["open"]) == [f"Review #{first['id']}", f"Review #{second['id']}"]
    assert "2 tasks waiting" in text(at)


def test_an_edited_cell_is_revalidated_at_once_and_approval_creates_the_case(dashboard, demo, users, worker) -> None:
    task = _reviewing(users)[0]
    rows = task["interrupt_data"]["generated_body"]
    valid = next(i for i, row in enumerate(rows) if row["kind"] == "valid")
    at = dashboard(users["engineer2"], REVIEW, task=str(task["id"]))
    grid = frame(at, _grid(task))
    assert len(grid) == len(rows) and grid["_check"].iloc[valid] == "✓ valid"
    assert {"_kind", "_keyword", "_expected_status", "username", "age", "agree_terms"} <= set(grid.columns)
    [trace] = [item for item in at.expander if item.label.startswith("Traceability")]
    traced = trace.dataframe[0].value
    assert list(traced["row"]) == [row["name"] for row in rows] and all(traced["step"]), "every row names its step"
    sources = [part.split(" ← ")[1] for checks in traced["checks"] for part in checks.split("; ")]
    assert "返回201，注册成功，响应中包含用户ID" in sources and "返回的用户名与请求一致" in sources, sources

    _edit(at, _grid(task), {valid: {"username": "ab"}})
    at.run()
    assert_no_exception(at)
    check = frame(at, _grid(task))["_check"].iloc[valid]
    assert check.startswith("✗") and "minLength at /username" in check
    assert "1 edited" in text(at)

    button(at, "review_approve").click().run()
    assert "with your corrections" in text(at) and "1 row(s) do not do what they intend" in text(at)
    assert task["status"] == service.get_task(task["id"])["status"] == "reviewing"
    button(at, "review_confirm").click().run()
    assert_no_exception(at)
    done = wait_for(task["id"], "completed")
    edited = done["created_case"]["rows"][valid]
    assert edited["body"]["username"] == "ab" and edited["source"] == "reviewer"
    assert done["created_case"]["rows"][valid + 1]["body"] == rows[valid + 1]["body"]
    at.run()
    assert f"Automation case **{done['new_usercase_id']}** created" in text(at)
    assert "bob** approved round 1" in text(at)


def test_a_rejection_needs_feedback_and_regenerates_the_rows(dashboard, demo, users, worker) -> None:
    task = _reviewing(users)[0]
    rejected = task["interrupt_data"]["generated_body"]
    at = dashboard(users["engineer"], REVIEW, task=str(task["id"]))
    button(at, "review_reject").click().run()
    assert button(at, "review_confirm").disabled
    at.text_area(key="review_feedback").input("use Gmail addresses").run()
    assert not button(at, "review_confirm").disabled
    button(at, "review_confirm").click().run()
    assert_no_exception(at)
    regenerated = wait_for(task["id"], "reviewing")  # the decision requeued it at once: this is the next round
    assert regenerated["interrupt_data"]["round"] == 2
    assert regenerated["interrupt_data"]["generated_body"] != rejected
    assert service.reviews_of_task(task["id"])[0]["feedback"] == "use Gmail addresses"


def test_a_second_reviewer_sees_who_decided_and_cannot_decide_again(dashboard, demo, users, worker) -> None:
    task = _reviewing(users)[0]
    service.submit_review(task["thread_id"], "approved", reviewer=users["engineer"], wait_seconds=20)
    at = dashboard(users["engineer2"], REVIEW, task=str(task["id"]))
    assert "alice** approved round 1" in text(at) and "Nobody can decide this round again" in text(at)
    assert not has(at, "button", "review_approve") and not has(at, "button", "review_reject")


def test_a_decision_that_loses_the_race_names_the_winner(dashboard, demo, users, worker) -> None:
    task = _reviewing(users)[0]
    at = dashboard(users["engineer2"], REVIEW, task=str(task["id"]))
    button(at, "review_approve").click().run()
    service.submit_review(task["thread_id"], "approved", reviewer=users["engineer"])  # alice, meanwhile
    button(at, "review_confirm").click().run()
    assert_no_exception(at)
    assert "alice already approved round 1 of this task" in text(at)
    at.run()  # the page reruns by itself as the task moves on: the refusal stays
    assert "alice already approved round 1 of this task" in text(at)
    assert [r["reviewer"] for r in service.reviews_of_task(task["id"])] == [users["engineer"]]


def test_rows_can_be_removed_and_added(dashboard, demo, users, worker) -> None:
    task = _reviewing(users)[0]
    rows = task["interrupt_data"]["generated_body"]
    at = dashboard(users["engineer"], REVIEW, task=str(task["id"]))
    at.multiselect(key="review_remove_pick").select(rows[1]["name"]).run()
    button(at, "review_remove").click().run()
    assert len(frame(at, _grid(task, 1))) == len(rows) - 1

    form = next(f for f in at.get("form") if "review_add_row" in str(f.proto.form.form_id))
    form.text_input[0].input("reviewer_extra_valid")
    form.selectbox[1].select(rows[0]["name"])
    form.form_submit_button[0].click()
    at.run()
    assert_no_exception(at)
    grid = frame(at, _grid(task, 2))
    assert list(grid["_name"])[-1] == "reviewer_extra_valid" and len(grid) == len(rows)

    button(at, "review_approve").click().run()
    button(at, "review_confirm").click().run()
    names = [row["name"] for row in wait_for(task["id"], "completed")["created_case"]["rows"]]
    assert rows[1]["name"] not in names and names[-1] == "reviewer_extra_valid"

    # the next task of the scene leaves the removed row out and says so
    following = _reviewing(users)[0]
    removed = (rows[1]["kind"], rows[1]["keyword"], rows[1]["pointer"])
    assert removed not in [(row["kind"], row["keyword"], row["pointer"])
                           for row in following["interrupt_data"]["generated_body"]]
    at = dashboard(users["engineer"], REVIEW, task=str(following["id"]))
    assert_no_exception(at)
    assert "Shaped by 1 earlier review round of this scene · 1 kind of row they removed left out" in [
        caption.value for caption in at.caption]


def test_the_raw_json_editor_holds_what_a_cell_cannot(dashboard, demo, users, worker) -> None:
    task = _reviewing(users)[0]
    at = dashboard(users["engineer"], REVIEW, task=str(task["id"]))
    at.segmented_control(key="review_mode").set_value("Raw JSON").run()
    key = next(t.key for t in at.text_area if t.key.startswith("review_json_"))
    rows = json.loads(at.text_area(key=key).value)
    rows[0]["body"]["tags"] = ["qa", "回归"]
    rows[0]["expected_status"] = 201
    at.text_area(key=key).input(json.dumps(rows, ensure_ascii=False)).run()
    button(at, "review_json_apply").click().run()
    assert_no_exception(at)
    applied = next(t.key for t in at.text_area if t.key.startswith("review_json_"))
    assert applied != key and json.loads(at.text_area(key=applied).value)[0]["body"]["tags"] == ["qa", "回归"]

    at.text_area(key=applied).input("[{").run()
    button(at, "review_json_apply").click().run()
    assert "Not valid JSON" in text(at)

    button(at, "review_approve").click().run()
    button(at, "review_confirm").click().run()
    first = wait_for(task["id"], "completed")["created_case"]["rows"][0]
    assert first["body"]["tags"] == ["qa", "回归"]


def test_viewers_read_the_rows_but_cannot_decide(dashboard, demo, users, worker) -> None:
    task = _reviewing(users)[0]
    at = dashboard(users["viewer"], REVIEW, task=str(task["id"]))
    assert "Viewers can read the rows but not decide." in text(at)
    assert len(frame(at, _grid(task))) == len(task["interrupt_data"]["generated_body"])
    assert not has(at, "button", "review_approve") and not has(at, "button", "review_remove")


def test_the_reviewer_sees_the_sandbox_answers_and_the_run_time_variables(dashboard, users, worker) -> None:
    from tests.support import strict_api

    with strict_api.serve() as api:
        task = strict_api.reviewing_task(api, users["engineer"], "createProject", "Create a project")
    rows = task["interrupt_data"]["generated_body"]
    at = dashboard(users["viewer"], REVIEW, task=str(task["id"]))
    labels = [expander.label for expander in at.expander]
    assert f"Sandbox: the server agreed with all {len(rows)} rows" in labels
    tables = [table.value for table in at.dataframe]
    sandbox = next(table for table in tables if "agrees" in table.columns)
    assert set(sandbox["agrees"]) == {"yes"} and any("lower" in note for note in sandbox["repaired"])
    templated = next(label for label in labels if label.startswith("Run-time variables:"))
    variables = next(table for table in tables if "template" in table.columns)
    assert int(templated.split(": ")[1].split()[0]) == len(variables) > 0
    assert all("{{" in template and "{{" not in example
               for template, example in zip(variables["template"], variables["example"], strict=True))


def test_the_setup_a_path_needs_is_shown_and_a_reviewer_can_correct_it(dashboard, users, worker) -> None:
    from tests.support import strict_api

    engineer = users["engineer"]
    with strict_api.serve() as api:
        task = strict_api.reviewing_task(api, engineer, "putProjectSettings", "Settings")
    [step] = task["interrupt_data"]["setup"]
    at = dashboard(engineer, REVIEW, task=str(task["id"]))
    assert "Setup before each row: 1 request" in [expander.label for expander in at.expander]
    shown = next(table.value for table in at.dataframe if "captures" in table.value.columns)
    assert list(shown["request"]) == ["POST /projects"] and "{{project_name}}" in shown["captures"].iloc[0]
    key = f"review_setup_{task['id']}_1"

    at.text_area(key=f"{key}_text").input(json.dumps([{**step, "method": "FETCH"}])).run()
    button(at, f"{key}_apply").click().run()
    assert_no_exception(at)
    assert "method must be one of" in text(at)
    at.text_area(key=f"{key}_text").input(json.dumps([{**step, "name": "make a project"}])).run()
    button(at, f"{key}_apply").click().run()
    assert "Setup before each row: 1 request (edited)" in [expander.label for expander in at.expander]
    button(at, "review_approve").click().run()
    button(at, "review_confirm").click().run()
    assert_no_exception(at)
    done = wait_for(task["id"], "completed")
    assert [item["name"] for item in service.get_automation_case(done["created_case"]["id"])["setup"]] == [
        "make a project"]
