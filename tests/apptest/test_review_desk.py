"""The review desk: the form view beside the grid, the diff before approving, rows by kind, who is reviewing,
and the queue's filters and assignments. SQLite and PostgreSQL, real workers, the real app."""

from __future__ import annotations

from typing import Any

from streamlit.testing.v1 import AppTest

from core import service
from tests.apptest.conftest import REVIEW, assert_no_exception, button, frame, text
from tests.apptest.test_review import _edit, _grid, _reviewing


def _form(at: AppTest) -> Any:
    return next(f for f in at.get("form") if "review_form_" in str(f.proto.form.form_id))


def _form_input(at: AppTest, kind: str, field: str) -> Any:
    """The form view's input for a body field (its key ends with the field's name)."""
    found = [w for w in getattr(at, kind) if (w.key or "").startswith("review_form_") and w.key.endswith(f"_{field}")]
    assert found, f"no {kind} for {field}: {[w.key for w in getattr(at, kind)]}"
    return found[0]


def _table(at: AppTest, column: str) -> Any:
    """The read-only table that has ``column`` (st.dataframe has no key in AppTest)."""
    found = [d.value for d in at.dataframe if column in d.value.columns]
    assert found, f"no table with a {column!r} column"
    return found[0]


def _pick_row(at: AppTest, task: dict[str, Any], index: int) -> None:
    at.selectbox(key=f"review_form_{task['id']}_{task['interrupt_data']['round']}_row").set_value(index).run()
    assert_no_exception(at)


def test_the_form_view_edits_the_same_row_as_the_grid(dashboard, demo, users, worker) -> None:
    task = _reviewing(users)[0]
    rows = task["interrupt_data"]["generated_body"]
    valid = next(i for i, row in enumerate(rows) if row["kind"] == "valid")
    at = dashboard(users["engineer"], REVIEW, task=str(task["id"]))
    _pick_row(at, task, valid)
    username = _form_input(at, "text_input", "username")
    assert username.value == rows[valid]["body"]["username"]
    assert "min length 3" in text(at) and "pattern ^[a-z][a-z0-9_]*$" in text(at) and "required" in text(at)
    assert "one of male, female, other" in text(at), "an enum's values are shown beside it"
    assert _form_input(at, "selectbox", "gender"), "an enum is a choice"
    assert _form_input(at, "multiselect", "tags"), "an array of strings is tags"

    username.input("ab")
    _form(at).form_submit_button[0].click()
    at.run()
    assert_no_exception(at)
    grid = frame(at, _grid(task, 1))  # the form's edit is the draft's: the grid restarts with it
    assert grid["username"].iloc[valid] == "ab"
    assert grid["_check"].iloc[valid].startswith("✗") and "minLength at /username" in grid["_check"].iloc[valid]
    assert "✗ minLength" in text(at), "the field's own error is shown beside it"

    _edit(at, _grid(task, 1), {valid: {"username": "carol_qa"}})  # and a grid edit reaches the form
    at.run()
    assert _form_input(at, "text_input", "username").value == "carol_qa"
    button(at, "review_approve").click().run()
    button(at, "review_confirm").click().run()
    assert_no_exception(at)
    from tests.conftest import wait_for
    done = wait_for(task["id"], "completed")
    assert done["created_case"]["rows"][valid]["body"]["username"] == "carol_qa"


def test_the_diff_before_approving_names_rows_and_fields(dashboard, demo, users, worker) -> None:
    task = _reviewing(users)[0]
    rows = task["interrupt_data"]["generated_body"]
    valid = next(i for i, row in enumerate(rows) if row["kind"] == "valid")
    at = dashboard(users["engineer"], REVIEW, task=str(task["id"]))
    _edit(at, _grid(task), {valid: {"username": "dave_qa", "_expected_status": 200}})
    at.run()
    assert "Your changes: 1 row changed" in str([e.label for e in at.expander])
    button(at, "review_approve").click().run()
    assert_no_exception(at)
    changes = _table(at, "before")
    assert set(zip(changes["row"], changes["field"], changes["after"], strict=True)) == {
        (rows[valid]["name"], "/username", '"dave_qa"'), (rows[valid]["name"], "expected_status", "200")}
    assert set(changes["before"]) == {f'"{rows[valid]["body"]["username"]}"', str(rows[valid]["expected_status"])}
    assert "1 row changed" in text(at)


def test_rows_are_kept_or_removed_by_kind_in_one_action(dashboard, demo, users, worker) -> None:
    task = _reviewing(users)[0]
    rows = task["interrupt_data"]["generated_body"]
    kinds = [row["kind"] for row in rows]
    at = dashboard(users["engineer"], REVIEW, task=str(task["id"]))
    at.pills(key="review_kind_pick").set_value(["invalid"]).run()
    button(at, "review_kind_remove").click().run()
    assert_no_exception(at)
    assert list(frame(at, _grid(task, 1))["_kind"]) == [k for k in kinds if k != "invalid"]
    button(at, "review_approve").click().run()
    changes = _table(at, "before")
    assert list(changes["change"]) == ["removed"] * kinds.count("invalid")

    at.pills(key="review_kind_pick").set_value(["boundary"]).run()
    button(at, "review_kind_keep").click().run()
    assert set(frame(at, _grid(task, 2))["_kind"]) == {"boundary"}
    at.pills(key="review_kind_pick").set_value(["boundary"]).run()
    assert button(at, "review_kind_remove").disabled, "removing every row is refused"


def test_a_second_reviewer_sees_the_first_and_takes_over(dashboard, demo, users, worker) -> None:
    task = _reviewing(users)[0]
    alice = dashboard(users["engineer"], REVIEW, task=str(task["id"]))
    assert "You are reviewing this task" in text(alice)
    bob = dashboard(users["engineer2"], REVIEW, task=str(task["id"]))
    assert "**alice** is reviewing since" in text(bob)
    queue = dashboard(users["viewer"], REVIEW)
    assert _table(queue, "reviewing")["reviewing"].iloc[0].startswith("alice · ")

    button(bob, "review_take_over").click().run()
    assert_no_exception(bob)
    assert "You are reviewing this task" in text(bob)
    assert service.review_desk_of(task["id"])["claim"]["reviewer"] == users["engineer2"]
    alice.run()
    assert "**bob** is reviewing since" in text(alice)
    assert not button(alice, "review_approve").disabled, "the claim never blocks a decision"


def test_the_queue_filters_by_mine_module_and_age(dashboard, demo, users, worker) -> None:
    first, second = _reviewing(users, count=2)
    service.assign_review(second["id"], users["engineer2"], user=users["admin"])
    at = dashboard(users["engineer2"], REVIEW)
    shown = _table(at, "reviewing")
    assert dict(zip(shown["open"], shown["assigned"], strict=True)) == {
        f"Review #{first['id']}": "", f"Review #{second['id']}": users["engineer2"]}
    at.segmented_control(key="review_queue_mine").set_value("mine").run()
    assert list(_table(at, "reviewing")["open"]) == [f"Review #{second['id']}"]
    at.segmented_control(key="review_queue_mine").set_value("all").run()
    module = first["input_params"]["module_id"]
    at.selectbox(key="review_queue_module").set_value(module).run()
    assert len(_table(at, "reviewing")) == 2 and "Every module" in at.selectbox(key="review_queue_module").options
    at.selectbox(key="review_queue_age").set_value("day").run()
    assert_no_exception(at)
    assert "No review matches these filters." in text(at)


def test_a_lead_assigns_a_review_and_the_assignee_is_told(dashboard, demo, users, worker) -> None:
    task = _reviewing(users)[0]
    bob = dashboard(users["engineer2"], REVIEW)
    assert not [e for e in bob.expander if e.label == "Assign a review"], "only leads assign"
    lead = dashboard(users["admin"], REVIEW)
    lead.selectbox(key="review_assign_task").set_value(task["id"])
    lead.selectbox(key="review_assign_user").set_value(users["engineer2"])
    next(f for f in lead.get("form") if "review_assign" in str(f.proto.form.form_id)).form_submit_button[0].click()
    lead.run()
    assert_no_exception(lead)
    assert service.review_desk_of(task["id"])["assignment"]["assignee"] == users["engineer2"]
    assert f"#{task['id']} assigned to bob" in text(lead)
    bob.run()
    assert "assigned to you for review" in text(bob), "the assignee gets a toast"
    assert f"Review #{task['id']}" in list(_table(bob, "reviewing")["open"])
