"""Review: the queue of tasks awaiting a decision (oldest first), and the review of one task (?task=ID)."""

from __future__ import annotations

import json
from typing import Any

import pandas as pd
import streamlit as st

from core import service
from core.service import CaseFlowError
from dashboard import (
    i18n,
    review_diff,
    review_editor,
    review_grid,
    review_presence,
    review_setup,
    review_trace,
    timeline,
    ui,
)
from dashboard.i18n import N_, _, _n

REFRESH_SECONDS = 3
QUEUE_OPEN = "review_queue_open"
QUEUE_SHOWN = "review_queue_ids"
LOST = "review_error"
"""{task_id, message}: why the reviewer's last decision was refused, kept while they stay on that task
(the page reruns by itself as the task moves on, and the message must survive that)."""

actor = ui.require_actor()


# --- the queue --------------------------------------------------------------------------


def queue_clicked() -> None:
    click = st.session_state.get(QUEUE_OPEN)
    shown = st.session_state.get(QUEUE_SHOWN, [])
    if click is not None and 0 <= click["row"] < len(shown):
        st.session_state["review_open_task"] = shown[click["row"]]


AGES = {"any": None, "hour": 3600, "day": 86400, "days": 3 * 86400}
AGE_LABELS = {"any": N_("any age"), "hour": N_("over an hour"), "day": N_("over a day"), "days": N_("over 3 days")}


def filters() -> dict[str, Any]:
    """The queue's filters as the reviewer left them (the widgets themselves come after the query)."""
    return {"mine": st.session_state.get("review_queue_mine") == "mine",
            "module": st.session_state.get("review_queue_module"),
            "min_wait_seconds": AGES.get(st.session_state.get("review_queue_age") or "any")}


def filter_bar(modules: list[str]) -> None:
    chosen = st.session_state.get("review_queue_module")
    with st.container(horizontal=True, vertical_alignment="bottom", gap="small"):
        st.segmented_control(_("Show"), ["all", "mine"], default="all", required=True, key="review_queue_mine",
                             format_func=lambda value: _("All") if value == "all" else _("Assigned to me"))
        st.selectbox(_("Module"), [None, *sorted({*modules, *([chosen] if chosen else [])})],
                     key="review_queue_module", width=220,
                     format_func=lambda module: _("Every module") if module is None else module)
        st.selectbox(_("Waiting"), list(AGES), key="review_queue_age", width=180,
                     format_func=lambda age: _(AGE_LABELS[age]))


@st.fragment(run_every=REFRESH_SECONDS)
def queue() -> None:
    if (task_id := st.session_state.pop("review_open_task", None)) is not None:
        st.query_params["task"] = str(task_id)
        st.rerun()
    chosen = filters()
    waiting = service.review_queue(user=actor.username, limit=100, **chosen)
    filter_bar(waiting["modules"])
    items = waiting["items"]
    if not items:
        if chosen["mine"] or chosen["module"] or chosen["min_wait_seconds"]:
            ui.empty_state(_("No review matches these filters."), icon=":material/filter_alt_off:")
        else:
            ui.empty_state(_("Nothing awaits review. Tasks arrive here when their rows are generated (step 9); "
                             "you get a notification for your own."), icon=":material/task_alt:")
        return
    st.session_state[QUEUE_SHOWN] = [item["id"] for item in items]
    oldest = ui.age_text(items[0]["waiting_since"])
    st.caption(_n("{count} task waiting · the oldest for {age}", "{count} tasks waiting · the oldest for {age}",
                  waiting["total"], count=waiting["total"], age=oldest))
    st.dataframe(pd.DataFrame({
        "open": [_("Review #{id}", id=item["id"]) for item in items],
        "name": [item["name"] for item in items],
        "reviewing": [_reviewing(item["claim"]) for item in items],
        "assigned": [(item["assignment"] or {}).get("assignee") or "" for item in items],
        "owner": [item["user"] for item in items],
        "module": [item["module"] or "" for item in items],
        "round": [item["round"] for item in items],
        "rows": [item["rows"] for item in items],
        "waiting": pd.to_datetime([item["waiting_since"] for item in items], utc=True),
        "scene": [item["scene_id"] for item in items],
        "priority": [item["priority"] for item in items],
    }), hide_index=True, key="review_queue_grid", row_height=36, column_config={
        "open": st.column_config.ButtonColumn("", type="tertiary", on_click=queue_clicked, key=QUEUE_OPEN,
                                              pinned=True, width=110),
        "name": st.column_config.TextColumn(_("Task"), width=240),
        "reviewing": st.column_config.TextColumn(_("Reviewing now"), width=170,
                                                 help=_("Who has the review open, and since when")),
        "assigned": st.column_config.TextColumn(_("Assigned to"), width=100),
        "owner": st.column_config.TextColumn(_("Owner"), width=80),
        "module": st.column_config.TextColumn(_("Module"), width=90),
        "round": st.column_config.NumberColumn(_("Round"), format="%d", width=60),
        "rows": st.column_config.NumberColumn(_("Rows"), format="%d", width=60),
        "waiting": st.column_config.DatetimeColumn(_("Waiting"), format="distance", width=120),
        "scene": st.column_config.TextColumn(_("Scene"), width=70),
        "priority": st.column_config.NumberColumn(_("Prio"), format="%d", width=55),
    })
    if waiting["total"] > len(items):
        st.caption(_("Showing the {count} longest-waiting.", count=len(items)))


def _reviewing(claim: dict[str, Any] | None) -> str:
    return f"{claim['reviewer']} · {ui.local_time(claim['since'], seconds=False)}" if claim else ""


def assign_panel() -> None:
    """A lead (an admin) asks a user to review a task; the assignee gets a notification."""
    items = service.review_queue(limit=100)["items"]
    if not items:
        return
    reviewers = [user["username"] for user in service.list_users(user=actor.username)
                 if user["is_active"] and user["role"] != "viewer"]
    names = {item["id"]: f"#{item['id']} {item['name']}" for item in items}
    with st.expander(_("Assign a review"), icon=":material/assignment_ind:"):
        with st.form("review_assign", border=False):
            task_id = st.selectbox(_("Task"), list(names), format_func=names.__getitem__, key="review_assign_task")
            assignee = st.selectbox(_("Reviewer"), [None, *reviewers], key="review_assign_user",
                                    format_func=lambda name: _("Nobody (unassign)") if name is None else name)
            if st.form_submit_button(_("Assign"), type="primary", icon=":material/send:"):
                done, _result = ui.attempt(lambda: service.assign_review(task_id, assignee, user=actor.username))
                if done:
                    st.toast(_("#{id} assigned to {user}; they are notified.", id=task_id, user=assignee)
                             if assignee else _("#{id} is assigned to nobody.", id=task_id),
                             icon=":material/assignment_ind:")


# --- one task ---------------------------------------------------------------------------


def back_to_queue() -> None:
    if (task_id := ui.query_int("task")) is not None:
        review_presence.leave(task_id, actor)
    st.query_params.pop("task", None)
    st.session_state.pop(LOST, None)


def header(task: dict[str, Any]) -> None:
    st.button(_("Review queue"), icon=":material/arrow_back:", type="tertiary", on_click=back_to_queue,
              key="review_back")
    st.markdown(f"### #{task['id']} {ui.escape(task['name'] or task['thread_id'])}")
    data = task["interrupt_data"] or {}
    facts = [ui.status_badge(task["status"]), _("owner **{owner}**", owner=ui.escape(task["user"])),
             _("scene **{scene}**", scene=ui.escape(task["scene_id"]))]
    if data.get("round"):
        facts.append(_("round **{round}**", round=data["round"]))
    st.markdown(" &nbsp;·&nbsp; ".join(facts))


@st.fragment(run_every=REFRESH_SECONDS)
def watch(task_id: int, round_: int) -> None:
    """Who else is reviewing; and a warning to a reviewer who is editing when someone else decides first (or the
    task moves on)."""
    task = service.get_task(task_id)
    data = task["interrupt_data"] or {}
    if task["status"] == "reviewing" and data.get("round") == round_:
        review_presence.presence(task_id, actor)
        return
    latest = (service.reviews_of_task(task_id) or [None])[-1]
    who = _("{reviewer} {decision} round {round} at {at}", reviewer=ui.escape(latest["reviewer"]),
            decision=timeline.decision_text(latest["review_status"]), round=latest["round"],
            at=ui.local_time(latest["created_at"])) if latest else _("The task is now {status}",
                                                                       status=ui.status_text(task["status"]))
    st.warning(_("{who}. Your edits can no longer be submitted.", who=who), icon=":material/group:")
    st.button(_("Reload"), on_click=lambda: None, key="review_reload")


def decided(task: dict[str, Any]) -> None:
    """A task that is not awaiting review: who decided, and where the workflow is now."""
    decisions = service.reviews_of_task(task["id"])
    latest = decisions[-1] if decisions else None
    if latest:
        feedback = f" — “{ui.escape(latest['feedback'])}”" if latest["feedback"] else ""
        st.info(_("**{reviewer}** {decision} round {round} at {at}{feedback}. Nobody can decide this round again.",
                  reviewer=ui.escape(latest["reviewer"]), decision=timeline.decision_text(latest["review_status"]),
                  round=latest["round"], at=ui.local_time(latest["created_at"]), feedback=feedback),
                icon=":material/how_to_reg:")
    else:
        st.info(_("This task is {status}, not awaiting review.", status=ui.status_text(task["status"])),
                icon=":material/info:")
    settling = task["status"] in ui.RUNNING
    st.fragment(outcome, run_every=2 if settling else None)(task["id"], task["status"])
    ui.page_link_to_task(task["id"], label=_("Open the task"), icon=":material/open_in_new:")


def outcome(task_id: int, shown_status: str) -> None:
    task = service.get_task(task_id)
    if task["status"] != shown_status and task["status"] not in ui.RUNNING:
        st.rerun()
    if task["status"] in ui.RUNNING:
        st.progress(task["progress"] / 100, text=_("The workflow resumes with the decision…"))
    elif task["status"] == "completed" and task["created_case"]:
        case = task["created_case"]
        st.success(_("Automation case **{case}** created · {name} · {count} rows · **{method}** {path}",
                     case=case["new_usercase_id"], name=ui.escape(case["name"]), count=len(case["rows"]),
                     method=case["method"], path=ui.escape(case["path"])), icon=":material/verified:")
        st.dataframe(pd.DataFrame({
            "name": [r["name"] for r in case["rows"]], "kind": [r["kind"] for r in case["rows"]],
            "expected": [r["expected_status"] for r in case["rows"]],
            "source": [r.get("source", "") for r in case["rows"]],
        }), hide_index=True, height=260, column_config={"name": _("Row"), "kind": _("Kind"), "expected": _("Expected"),
                                                        "source": _("Source")})
    elif task["status"] == "reviewing":
        st.info(_("New rows are ready for the next round."), icon=":material/autorenew:")
        st.button(_("Review the new rows"), type="primary", key="review_next_round")
    elif task["status"] == "failed":
        st.error(ui.escape(task["error_message"] or _("The task failed.")), icon=":material/error:")


def decision_bar(task: dict[str, Any], result: review_editor.EditorResult,
                 setup: list[dict[str, Any]] | None) -> None:
    data = task["interrupt_data"]
    payload = {
        "task_id": task["id"], "thread_id": task["thread_id"], "round": data["round"],
        "corrected_body": review_grid.row_objects(result.rows) if result.changed else None,
        "corrected_setup": setup, "rows": len(result.rows), "changed": result.changed or setup is not None,
        "mismatched": len((result.validation or {}).get("mismatched", [])),
        "changes": review_diff.diff(data["generated_body"], result.rows),
    }
    if not payload["changes"].empty:
        with st.expander(_("Your changes: {summary}", summary=review_diff.summary(payload["changes"])),
                         icon=":material/difference:"):
            review_diff.table(payload["changes"], key="review_changes_page")
    with st.container(horizontal=True, gap="small"):
        if st.button(_("Approve"), type="primary", icon=":material/check:", key="review_approve",
                     disabled=bool(result.cell_errors)):
            start_decision({**payload, "action": "approved"})
        if st.button(_("Reject with feedback"), icon=":material/close:", key="review_reject"):
            start_decision({**payload, "action": "rejected"})
    if result.cell_errors:
        st.caption(_("Fix the cells marked ✗ before approving."))


def start_decision(decision: dict[str, Any]) -> None:
    st.session_state["review_decision"] = decision
    st.session_state.pop(LOST, None)


def forget_decision() -> None:
    st.session_state.pop("review_decision", None)


@st.dialog(_("Confirm the decision"), on_dismiss=forget_decision, width="medium")
def confirm(decision: dict[str, Any]) -> None:
    approving = decision["action"] == "approved"
    if approving:
        if decision["changed"]:
            st.markdown(_("Approve **{count} rows** with your corrections? Step 10 then creates the automation case.",
                          count=decision["rows"]))
        else:
            st.markdown(_("Approve **{count} rows** as generated? Step 10 then creates the automation case.",
                          count=decision["rows"]))
        review_diff.table(decision["changes"], key="review_changes_confirm")
        if decision["mismatched"]:
            st.warning(_("{count} row(s) do not do what they intend.", count=decision["mismatched"]),
                       icon=":material/warning:")
        feedback = st.text_input(_("Note (optional)"), key="review_note")
    else:
        st.markdown(_("Reject these rows? The workflow regenerates them with your feedback (step 4)."))
        feedback = st.text_area(_("Feedback (required)"), key="review_feedback",
                                placeholder=_("e.g. use a Gmail address; the phone numbers must be from Shanghai"))
    left, right = st.columns(2)
    label = _("Approve") if approving else _("Reject")
    if left.button(label, type="primary", width="stretch", key="review_confirm",
                   disabled=not approving and not (feedback or "").strip()):
        try:
            service.submit_review(
                decision["thread_id"], decision["action"],
                corrected_body=decision["corrected_body"] if approving else None, feedback=feedback,
                reviewer=actor.username, expected_round=decision["round"],
                corrected_setup=decision["corrected_setup"] if approving else None)
        except CaseFlowError as error:  # kept across the rerun: often "bob already approved round 1 …"
            st.session_state[LOST] = {"task_id": decision["task_id"], "message": i18n.text(error.message)}
        else:
            st.session_state.pop(review_editor.draft_key(decision["task_id"], decision["round"]), None)
            st.session_state.pop(review_setup.setup_key(decision["task_id"], decision["round"]), None)
        forget_decision()
        st.rerun()
    if right.button(_("Back to the rows"), width="stretch", key="review_cancel"):
        forget_decision()
        st.rerun()


def review(task_id: int) -> None:
    ok, task = ui.attempt(lambda: service.get_task(task_id))
    if not ok or task is None:
        st.button(_("Review queue"), icon=":material/arrow_back:", on_click=back_to_queue, key="review_missing")
        return
    header(task)
    if (lost := st.session_state.get(LOST)) and lost["task_id"] == task_id:
        st.error(ui.escape(lost["message"]), icon=":material/error:")
    decision = st.session_state.get("review_decision")
    if decision is not None and decision["task_id"] == task_id:
        confirm(decision)  # even if someone else decided meanwhile: the submit then says who did
    if task["status"] != "reviewing" or not task["interrupt_data"]:
        decided(task)
        return
    round_ = task["interrupt_data"]["round"]
    if st.session_state.pop("review_reset_requested", False):
        st.session_state.pop(review_editor.draft_key(task_id, round_), None)
    watch(task_id, round_)
    scene = service.get_scene(task["scene_id"])
    st.caption(f"**{scene['method']}** {ui.escape(scene['path'])} · "
               + _("waiting since {at} · edit any cell; each edited row is checked against the schema at once",
                   at=ui.local_time(task["updated_at"])))
    learnt(task["interrupt_data"].get("lessons"))
    read_only = not actor.can_operate
    if read_only:
        st.info(_("Viewers can read the rows but not decide."), icon=":material/visibility:")
    result = review_editor.editor(task, scene, read_only=read_only)
    setup = review_setup.panel(task, read_only=read_only)
    before_review(task["interrupt_data"]["generated_body"],
                  task["interrupt_data"].get("setup") if setup is None else setup)
    checks = {row["name"]: row.get("checks") or [] for row in task["interrupt_data"]["generated_body"]}
    review_trace.panel(task.get("test_case_id"), scene["method"], scene["path"],
                       [{**row, "checks": row.get("checks") or checks.get(row.get("name"), [])} for row in result.rows])
    if not read_only:
        decision_bar(task, result, setup)
        if decision is None and (chosen := st.session_state.get("review_decision")) is not None:
            confirm(chosen)


def learnt(lessons: dict[str, Any] | None) -> None:
    """What earlier reviews of this scene changed in these rows (core.library.review_lessons)."""
    if not lessons:
        return
    parts = [_n("Shaped by {count} earlier review round of this scene", "Shaped by {count} earlier review rounds of "
                "this scene", lessons["rounds"], count=lessons["rounds"])]
    if lessons["preferred"]:
        fields = ", ".join(ui.escape(service.field_name(pointer)) for pointer in lessons["preferred"])
        parts.append(_("the values reviewers wrote for {fields}", fields=fields))
    if lessons["dropped"]:
        parts.append(_n("{count} kind of row they removed left out", "{count} kinds of rows they removed left out",
                        len(lessons["dropped"]), count=len(lessons["dropped"])))
    st.caption(" · ".join(parts), help=_("Reviewers' corrections on a scene become examples for its next tasks: "
                                        "preferred values for valid rows, rows not generated again, and examples "
                                        "and feedback for the model."))


def before_review(rows: list[dict[str, Any]], setup: list[dict[str, Any]] | None) -> None:
    """What happened to the rows before review: the sandbox's answers, the repairs, and run-time variables."""
    answered = [row for row in rows if "sandbox" in row]
    templated = [row for row in rows if service.variable_example(row.get("body"), setup) != row.get("body")]
    if answered:
        refused = [row for row in answered if not row["sandbox"]["agrees"]]
        label = (_("Sandbox: {count} of {total} rows still disagree with the server", count=len(refused),
                   total=len(answered)) if refused
                 else _("Sandbox: the server agreed with all {total} rows", total=len(answered)))
        with st.expander(label, icon=":material/warning:" if refused else ":material/dns:", expanded=bool(refused)):
            st.dataframe(pd.DataFrame({
                "row": [row["name"] for row in answered],
                "kind": [row["kind"] for row in answered],
                "answered": [row["sandbox"]["status"] for row in answered],
                "agrees": [_("yes") if row["sandbox"]["agrees"] else _("NO") for row in answered],
                "repaired": ["; ".join(row.get("repairs", [])) for row in answered],
                "answer": [row["sandbox"]["excerpt"][:300] for row in answered],
            }), hide_index=True, column_config={
                "row": _("Row"), "kind": _("Kind"), "answered": _("Answered"), "agrees": _("Agrees"),
                "repaired": _("Repaired"), "answer": _("Answer")})
    if templated:
        with st.expander(_("Run-time variables: {count} rows send new values on every run", count=len(templated)),
                         icon=":material/casino:"):
            st.caption(ui.escape("{{$randomInt}}, {{$uuid}} ... ")
                       + _("are drawn afresh at each run; an example of one run:"))
            st.dataframe(pd.DataFrame({
                "row": [row["name"] for row in templated],
                "template": [json.dumps(row["body"], ensure_ascii=False)[:300] for row in templated],
                "example": [json.dumps(service.variable_example(row["body"], setup), ensure_ascii=False)[:300]
                            for row in templated],
            }), hide_index=True, column_config={"row": _("Row"), "template": _("Template"), "example": _("Example")})


task_id = ui.query_int("task")
if task_id is None:
    st.title(_("Review"))
    st.caption(_("Tasks whose generated rows wait for a human decision, the longest-waiting first."))
    queue()
    if ui.admins(actor):
        assign_panel()
else:
    review(task_id)
