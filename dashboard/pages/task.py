"""One task (?task=ID): why it is where it is, its step timeline, inputs, rows, case, attempts and events."""

from __future__ import annotations

import json
from typing import Any

import pandas as pd
import streamlit as st

from core import service
from dashboard import i18n, review_presence, timeline, ui
from dashboard.i18n import N_, _

REFRESH_SECONDS = 2
STEP_STATE = {
    "done": N_("✓ done"), "running": N_("▶ running"), "waiting": N_("⏸ waiting for review"),
    "failed": N_("✗ failed"), "skipped": N_("– not needed"), "not_started": N_("· not started"),
}

actor = ui.require_actor()


def pick_task() -> None:
    st.title(_("Task"))
    raw = st.text_input(_("Task number"), placeholder=_("e.g. 42"), key="task_pick")
    if raw and raw.strip().lstrip("#").isdigit():
        st.query_params["task"] = raw.strip().lstrip("#")
        st.rerun()
    recent = service.list_tasks(limit=8)["items"]
    if not recent:
        ui.empty_state(_("No tasks yet."))
        return
    st.caption(_("Recent tasks"))
    for item in recent:
        ui.page_link_to_task(item["id"],
                             label=f"#{item['id']} {ui.escape(item['name'])} · {ui.status_text(item['status'])}")


def header(task: dict[str, Any]) -> None:
    st.page_link(ui.page_file("tasks"), label=_("All tasks"), icon=":material/arrow_back:")
    title, actions = st.columns([3, 2], vertical_alignment="bottom")
    title.markdown(f"## #{task['id']} {ui.escape(task['name'] or task['thread_id'])}")
    title.markdown(
        f"{ui.status_badge(task['status'])} &nbsp; "
        + _("priority **{priority}** &nbsp;·&nbsp; owner **{owner}** &nbsp;·&nbsp; created {created}",
            priority=task["priority"], owner=ui.escape(task["user"]), created=ui.local_time(task["created_at"]))
        + f" &nbsp;·&nbsp; `{task['thread_id']}`"
    )
    if task["status"] == "reviewing" and (desk := review_presence.desk_line(task["id"])):
        title.caption(":material/group: " + desk)
    with actions, st.container(horizontal=True, horizontal_alignment="right"):
        if task["status"] == "reviewing":
            st.page_link(ui.page_file("review"), label=_("Review"), icon=":material/rate_review:",
                         query_params={"task": str(task["id"])})
        if actor.can_operate and task["status"] in ui.CANCELLABLE:
            if st.button(_("Cancel"), icon=":material/block:", key="task_cancel"):
                st.session_state["task_action"] = ("cancel", task["id"])
        if actor.can_operate and task["status"] in ui.RETRYABLE:
            if st.button(_("Retry"), icon=":material/replay:", key="task_retry"):
                st.session_state["task_action"] = ("retry", task["id"])


def forget_action() -> None:
    st.session_state.pop("task_action", None)


@st.dialog(_("Confirm"), on_dismiss=forget_action)
def confirm(action: str, task_id: int) -> None:
    cancel = action == "cancel"
    st.markdown(_("Cancel task #{id}? A running task stops at its next step.", id=task_id) if cancel
                else _("Retry task #{id}? It resumes from its last checkpoint.", id=task_id))
    left, right = st.columns(2)
    if left.button(_("Cancel") if cancel else _("Retry"), type="primary", width="stretch", key="task_confirm"):
        run = service.cancel_task if cancel else service.retry_task
        if ui.attempt(lambda: run(task_id, user=actor.username))[0]:
            forget_action()
            st.toast(_("Task #{id} cancelled.", id=task_id) if cancel else _("Task #{id} requeued.", id=task_id),
                     icon=":material/done:")
            st.rerun()
    if right.button(_("Back"), width="stretch", key="task_back"):
        forget_action()
        st.rerun()


def why(task: dict[str, Any]) -> None:
    """Where the task is and why, in the service's words; a failed task's step and error are said here, once."""
    explained = service.explain_task(task["id"], zone=i18n.zone_name())
    details = "".join(f"\n- {ui.escape(i18n.text(line))}" for line in explained["details"])
    ui.TONE[explained["tone"]](f"**{ui.escape(i18n.text(explained['headline']))}**{details}",
                               icon=":material/info:")


def timeline_tab(task: dict[str, Any]) -> None:
    steps = service.task_steps(task["id"])
    longest = max((s["total_ms"] or 0 for s in steps), default=0) or 1
    frame = pd.DataFrame({
        "step": [f"{s['number']}. {i18n.text(s['label'])}" for s in steps],
        "state": [_(STEP_STATE[s["state"]]) for s in steps],
        "duration": [s["total_ms"] for s in steps],
        "runs": [s["runs"] or None for s in steps],
        "finished": [ui.local_time(s["finished_at"]) if s["finished_at"] else None for s in steps],
    })
    st.dataframe(frame, hide_index=True, placeholder="", row_height=34, column_config={
        "step": st.column_config.TextColumn(_("Step"), width=260),
        "state": st.column_config.TextColumn(_("State"), width=150),
        "duration": st.column_config.ProgressColumn(_("Time (ms)"), min_value=0, max_value=longest, format="%d ms",
                                                    help=_("All runs of the step added up")),
        "runs": st.column_config.NumberColumn(_("Runs"), format="%d", width=60),
        "finished": st.column_config.TextColumn(_("Finished ({zone})", zone=ui.zone_name()), width=170),
    })


def inputs_tab(task: dict[str, Any]) -> None:
    params = task["input_params"] or {}
    left, right = st.columns(2)
    with left, st.container(border=True):
        st.markdown("**" + _("Test case") + "**")
        case = None
        if task["test_case_id"] is not None:
            case = ui.attempt(lambda: service.get_test_case(task["test_case_id"]))[1]
        if case is None:
            st.caption(_("The test case was deleted; the task keeps its launch parameters."))
        else:
            st.markdown(f"#{case['id']} {ui.escape(case['title'])}  \n:gray-badge[{ui.escape(case['module'])}] "
                        f":gray-badge[{case['priority']}]")
            for label, key in ((_("Preconditions"), "preconditions"), (_("Steps"), "steps"),
                               (_("Expected result"), "expected_result")):
                if case[key]:
                    st.caption(label)
                    st.text(case[key])
    with right, st.container(border=True):
        st.markdown("**" + _("Scene") + "**")
        scene = ui.attempt(lambda: service.get_scene(params.get("scene_id", "")))[1]
        if scene is not None:
            st.markdown(f"**{scene['method']}** {ui.escape(scene['path'])}  \n{ui.escape(scene['id'])} · "
                        f"{ui.escape(scene['name'])} :gray-badge[{ui.escape(scene['module'])}]")
            if scene["summary"]:
                st.text(scene["summary"])
            fields = (scene["request_schema"] or {}).get("properties", {})
            st.caption(_("{count} body fields: {fields}", count=len(fields), fields=ui.escape(", ".join(fields))))
        st.markdown("**" + _("Launch parameters") + "**")
        st.dataframe(pd.DataFrame({"parameter": list(params), "value": [str(v) for v in params.values()]}),
                     hide_index=True, column_config={"parameter": _("Parameter"), "value": _("Value")})


def rows_tab(task: dict[str, Any]) -> None:
    data = task["interrupt_data"]
    if not data:
        ui.empty_state(_("The generated rows appear here when the workflow reaches review (step 9)."),
                       icon=":material/hourglass_empty:")
        return
    checks = {r["name"]: r for r in data.get("validation_result", {}).get("rows", [])}
    rows = data["generated_body"]
    st.caption(_("Round {round} · {count} rows, as the reviewer sees them", round=data.get("round", 1),
                 count=len(rows)))
    st.dataframe(pd.DataFrame({
        "name": [r["name"] for r in rows],
        "kind": [r["kind"] for r in rows],
        "target": [f"{r['keyword']} at {r['pointer'] or '/'}" if r.get("keyword") else "" for r in rows],
        "expected": [r["expected_status"] for r in rows],
        "check": ["✓" if checks.get(r["name"], {}).get("matches_intent", True) else
                  "✗ " + (checks[r["name"]].get("problem") or "") for r in rows],
        "body": [json.dumps(r["body"], ensure_ascii=False) for r in rows],
    }), hide_index=True, column_config={
        "name": st.column_config.TextColumn(_("Row"), width=220),
        "kind": st.column_config.TextColumn(_("Kind"), width=80),
        "target": st.column_config.TextColumn(_("Targets"), width=180),
        "expected": st.column_config.NumberColumn(_("Expected"), format="%d", width=80),
        "check": st.column_config.TextColumn(_("Check"), width=80), "body": st.column_config.TextColumn(_("Body")),
    })


def case_tab(task: dict[str, Any]) -> None:
    case = task["created_case"]
    if not case:
        ui.empty_state(_("The automation case is created when a reviewer approves the rows (step 10)."),
                       icon=":material/hourglass_empty:")
        return
    st.success(_("Automation case **{case}**", case=case["new_usercase_id"])
               + f" · {ui.escape(case['name'])} · **{case['method']}** {ui.escape(case['path'])}",
               icon=":material/verified:")
    st.dataframe(pd.DataFrame({
        "name": [r["name"] for r in case["rows"]], "kind": [r["kind"] for r in case["rows"]],
        "expected": [r["expected_status"] for r in case["rows"]],
        "checks": [len(r.get("checks") or []) for r in case["rows"]],
        "source": [r.get("source", "") for r in case["rows"]],
        "body": [json.dumps(r["body"], ensure_ascii=False) for r in case["rows"]],
    }), hide_index=True, column_config={
        "name": st.column_config.TextColumn(_("Row"), width=220),
        "kind": st.column_config.TextColumn(_("Kind"), width=80),
        "expected": st.column_config.NumberColumn(_("Expected"), format="%d", width=80),
        "checks": st.column_config.NumberColumn(_("Checks"), format="%d", width=70),
        "source": st.column_config.TextColumn(_("Source"), width=90), "body": st.column_config.TextColumn(_("Body")),
    })
    st.download_button(_("Download the case (JSON)"), json.dumps(case, ensure_ascii=False, indent=2),
                       file_name=f"{case['new_usercase_id']}.json", mime="application/json",
                       icon=":material/download:", on_click="ignore")


def attempts_tab(task: dict[str, Any]) -> None:
    a, b, c, d = st.columns(4)
    a.metric(_("Runs since last retry"), task["attempts"], border=True)
    b.metric(_("Started"), ui.local_time(task["started_at"], seconds=False), border=True)
    c.metric(_("Lease owner"), task["lease_owner"] or "—", border=True)
    d.metric(_("Lease until"), ui.local_time(task["lease_expires_at"], seconds=True)[-8:]
             if task["lease_expires_at"] else "—", border=True)
    if task["run_after"]:
        st.info(_("Next automatic retry not before {at}.", at=ui.local_time(task["run_after"])),
                icon=":material/schedule:")
    decisions = service.reviews_of_task(task["id"])
    st.markdown("**" + _("Reviews") + "**")
    if not decisions:
        st.caption(_("No review decision yet."))
        return
    st.dataframe(pd.DataFrame({
        "round": [r["round"] for r in decisions], "reviewer": [r["reviewer"] for r in decisions],
        "decision": [timeline.decision_text(r["review_status"]) for r in decisions],
        "corrected": [_("yes") if r["corrected"] else _("no") for r in decisions],
        "feedback": [r["feedback"] for r in decisions],
        "at": [ui.local_time(r["created_at"]) for r in decisions],
    }), hide_index=True, column_config={
        "round": _("Round"), "reviewer": _("Reviewer"), "decision": _("Decision"), "corrected": _("Corrected"),
        "feedback": _("Feedback"), "at": _("At ({zone})", zone=ui.zone_name()),
    })


def ai_tab(task: dict[str, Any]) -> None:
    result = task["result_data"] or {}
    if result.get("provider"):
        st.caption(_("Produced by the **{provider}** provider, model **{model}**.", provider=result["provider"],
                     model=ui.escape(result["model"])))
    calls = service.ai_calls_of_task(task["id"])
    if not calls:
        st.caption(_("No calls to an AI model: the offline provider derives the rows from the schema."))
        return
    st.dataframe(pd.DataFrame({
        "at": [ui.local_time(c["created_at"]) for c in calls], "step": [c["step"] for c in calls],
        "purpose": [c["purpose"] for c in calls], "attempt": [c["attempt"] for c in calls],
        "model": [c["model"] for c in calls], "outcome": [c["outcome"] for c in calls],
        "ms": [c["latency_ms"] for c in calls], "prompt": [c["prompt_tokens"] for c in calls],
        "completion": [c["completion_tokens"] for c in calls], "cost": [c["estimated_cost"] for c in calls],
        "error": [c["error"] or "" for c in calls],
    }), hide_index=True, placeholder="", column_config={
        "at": _("At ({zone})", zone=ui.zone_name()), "step": _("Step"), "purpose": _("Purpose"),
        "attempt": _("Attempt"), "model": _("Model"), "outcome": _("Outcome"),
        "ms": st.column_config.NumberColumn("ms", format="%d"), "prompt": _("Prompt tokens"),
        "completion": _("Completion tokens"), "error": _("Error"),
        "cost": st.column_config.NumberColumn(_("Est. cost (USD)"), format="%.5f"),
    })


def events_tab(task: dict[str, Any]) -> None:
    log = service.task_timeline(task["id"])
    st.dataframe(pd.DataFrame({
        "at": [ui.local_time(e["created_at"]) for e in log], "event": [timeline.event_name(e["type"]) for e in log],
        "message": [timeline.event_text(e, task["user"]) for e in log], "step": [e["step"] or "" for e in log],
        "ms": [e["duration_ms"] for e in log], "worker": [e["worker"] or "" for e in log],
    }), hide_index=True, placeholder="", column_config={
        "at": st.column_config.TextColumn(_("At ({zone})", zone=ui.zone_name()), width=160),
        "event": st.column_config.TextColumn(_("Event"), width=150),
        "message": st.column_config.TextColumn(_("Message"), width=360),
        "step": _("Step node"), "worker": _("Worker"),
        "ms": st.column_config.NumberColumn("ms", format="%d", width=60),
    })


def live(task_id: int, shown_status: str) -> None:
    ok, task = ui.attempt(lambda: service.get_task(task_id))
    if not ok or task is None:
        return
    if task["status"] != shown_status:
        st.rerun()  # the header and its buttons depend on the status
    why(task)
    step = i18n.text(service.step_position(task["current_step"], task["status"]))
    st.progress(task["progress"] / 100, text=f"{task['progress']}% · {step}")
    tabs = st.tabs([_("Timeline"), _("Inputs"), _("Generated rows"), _("Automation case"), _("Attempts & reviews"),
                    _("AI calls"), _("Event log")], key="task_tab")
    renders = (timeline_tab, inputs_tab, rows_tab, case_tab, attempts_tab, ai_tab, events_tab)
    for tab, render in zip(tabs, renders, strict=True):
        with tab:
            render(task)


task_id = ui.query_int("task")
if task_id is None:
    pick_task()
    st.stop()
ok, task = ui.attempt(lambda: service.get_task(task_id))
if not ok or task is None:
    st.page_link(ui.page_file("tasks"), label=_("All tasks"), icon=":material/arrow_back:")
    st.stop()
header(task)
every = None if task["status"] in ui.TERMINAL else REFRESH_SECONDS
st.fragment(live, run_every=every)(task_id, task["status"])
if pending := st.session_state.get("task_action"):
    confirm(*pending)
