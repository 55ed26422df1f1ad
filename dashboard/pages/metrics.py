"""Metrics: success and approval rates, execution times, backlog and review waits, over a chosen time range.

Every number comes from one SQL aggregate (service.metrics_overview); results are cached for
a few seconds per range so several people on this page do not multiply the queries.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import altair as alt
import pandas as pd
import streamlit as st

from core import service
from dashboard import i18n, ui
from dashboard.i18n import N_, _

RANGES = {"24 h": 1, "7 days": 7, "30 days": 30, "90 days": 90}
"""The range buttons (their names are kept in the URL; RANGE_LABELS says them in the user's language)."""
RANGE_LABELS = {"24 h": N_("24 h"), "7 days": N_("7 days"), "30 days": N_("30 days"), "90 days": N_("90 days"),
                "Custom": N_("Custom")}
DAY_AXIS = alt.Axis(labelExpr="slice(datum.value, 5)", labelAngle=0, labelOverlap="parity")
"""Days come from SQL as "YYYY-MM-DD" (UTC); the axis shows "MM-DD"."""
CACHE_SECONDS = 15

ui.require_actor()


@st.cache_data(ttl=CACHE_SECONDS, show_spinner=False)
def load(since: datetime, until: datetime) -> dict[str, Any]:
    return service.metrics_overview(since, until)


def window() -> tuple[datetime, datetime, str]:
    choice = st.segmented_control(_("Range"), [*RANGES, "Custom"], default="7 days", key="range", bind="query-params",
                                  required=True, label_visibility="collapsed",
                                  format_func=lambda name: _(RANGE_LABELS.get(name, name))) or "7 days"
    if choice != "Custom":
        last = service.TimeRange.last(RANGES[choice])
        return last.since, last.until, _("the last {range}", range=_(RANGE_LABELS[choice]))
    picked = st.date_input(_("Days"), value=(date.today() - timedelta(days=13), date.today()), key="days",
                           bind="query-params", format="YYYY-MM-DD")
    start, end = ui.day_range(picked)
    if start is None:
        st.stop()
    end = end or start + timedelta(days=1)  # one day picked: that day
    return start.astimezone(UTC), end.astimezone(UTC), _("{start} to {end}", start=start.date(),
                                                         end=(end - timedelta(days=1)).date())


def percent(value: float | None) -> str:
    return i18n.percent(value)


def ai_usage(usage: dict[str, Any]) -> None:
    """Calls, tokens and estimated cost per completed case (zero with the offline provider)."""
    st.subheader(_("AI usage"))
    if not usage["calls"]:
        st.caption(_("No calls to an AI model in this range: the offline provider needs none."))
        return
    a, b, c, d = st.columns(4)
    a.metric(_("Calls per case"), usage["calls_per_case"] if usage["calls_per_case"] is not None else "—",
             border=True)
    b.metric(_("Tokens per case"), i18n.number(usage["tokens_per_case"]) if usage["tokens_per_case"] else "—",
             border=True)
    cost = usage["cost_per_case"]
    c.metric(_("Cost per case ({currency})", currency=usage["currency"]),
             i18n.number(cost, digits=4) if cost is not None else "—", border=True,
             help=_("Estimated from the price table in settings (AI_PRICES)."))
    d.metric(_("Tokens in all"), i18n.number(usage["total_tokens"]), border=True)
    if usage["unpriced_models"]:
        st.caption(_("No price for: {models} (set AI_PRICES).", models=ui.escape(", ".join(usage["unpriced_models"]))))


def tiles(summary: dict[str, Any], label: str) -> None:
    row = st.columns(6)
    row[0].metric(_("Success rate"), percent(summary["success_rate"]), border=True,
                  help=_("completed / (completed + failed), of the tasks created in {range}: {completed} completed, "
                         "{failed} failed", range=label, completed=summary["completed"], failed=summary["failed"]))
    row[1].metric(_("Avg run time"), ui.duration_text(summary["avg_duration_seconds"], compact=True), border=True,
                  help=_("avg(completed_at − started_at) of completed tasks; includes the wait for review"))
    row[2].metric(_("Review approval"), percent(summary["approval_rate"]), border=True,
                  help=_("approved / all decisions made in {range}: {approved} of {reviews}", range=label,
                         approved=summary["approved"], reviews=summary["reviews"]))
    row[3].metric(_("Backlog"), i18n.number(summary["backlog"]), border=True,
                  help=_("Tasks pending now (waiting for a worker); {count} running", count=summary["processing"]))
    overdue = summary["overdue_reviews"]
    row[4].metric(_("Awaiting review"), i18n.number(summary["awaiting_review"]), border=True,
                  delta=_("{count} overdue", count=i18n.number(overdue)) if overdue else None,
                  delta_color="inverse", delta_arrow="off",
                  help=_("Tasks paused at step 9 now; overdue: waiting longer than REVIEW_REMIND_HOURS"))
    row[5].metric(_("Oldest review"), ui.duration_text(summary["oldest_review_age_seconds"], compact=True),
                  border=True, help=_("How long the longest-waiting task has waited for a reviewer"))


def per_day_chart(rows: list[dict[str, Any]]) -> None:
    st.markdown("**" + _("Tasks per day by status") + "**")
    if not rows:
        st.caption(_("No task was created in this range."))
        return
    colors = alt.Scale(domain=[ui.status_text(s) for s in ui.STATUSES], range=[ui.STATUS_HEX[s] for s in ui.STATUSES])
    frame = pd.DataFrame(rows)
    frame["shown"] = frame["status"].map(ui.status_text)
    chart = alt.Chart(frame).mark_bar().encode(
        x=alt.X("day:O", title=None, axis=DAY_AXIS),
        y=alt.Y("tasks:Q", title=_("tasks"), stack=True),
        color=alt.Color("shown:N", scale=colors, legend=alt.Legend(orient="bottom", title=None, columns=6)),
        order=alt.Order("status_order:Q"),
        tooltip=[alt.Tooltip("day:N", title=_("Day")), alt.Tooltip("shown:N", title=_("Status")),
                 alt.Tooltip("tasks:Q", title=_("Tasks"))],
    ).transform_calculate(status_order=_status_order())
    st.altair_chart(chart, height=280)


def _status_order() -> str:
    return " : ".join(f"datum.status == '{s}' ? {i}" for i, s in enumerate(ui.STATUSES)) + " : 9"


def duration_chart(rows: list[dict[str, Any]]) -> None:
    st.markdown("**" + _("Execution time per day (p50, p95)") + "**")
    if not rows:
        st.caption(_("No task completed in this range."))
        return
    frame = pd.DataFrame(rows).melt(id_vars=["day", "tasks"], value_vars=["p50_seconds", "p95_seconds"],
                                    var_name="percentile", value_name="seconds")
    frame["percentile"] = frame["percentile"].str.replace("_seconds", "")
    chart = alt.Chart(frame).mark_line(point=True).encode(
        x=alt.X("day:O", title=None, axis=DAY_AXIS),
        y=alt.Y("seconds:Q", title=_("seconds")),
        color=alt.Color("percentile:N", scale=alt.Scale(range=["#2f80ed", "#d9434d"]),
                        legend=alt.Legend(orient="bottom", title=None)),
        tooltip=[alt.Tooltip("day:N", title=_("Day")), alt.Tooltip("percentile:N", title=_("Percentile")),
                 alt.Tooltip("seconds:Q", format=".1f", title=_("seconds")), alt.Tooltip("tasks:Q", title=_("Tasks"))],
    )
    st.altair_chart(chart, height=280)


def approval_chart(rows: list[dict[str, Any]]) -> None:
    st.markdown("**" + _("Review approval rate per day") + "**")
    if not rows:
        st.caption(_("No review decision was made in this range."))
        return
    base = alt.Chart(pd.DataFrame(rows)).encode(x=alt.X("day:O", title=None, axis=DAY_AXIS))
    line = base.mark_line(point=True, color=ui.STATUS_HEX["completed"]).encode(
        y=alt.Y("approval_rate:Q", title=_("approved"), axis=alt.Axis(format="%"), scale=alt.Scale(domain=[0, 1])),
        tooltip=[alt.Tooltip("day:N", title=_("Day")),
                 alt.Tooltip("approval_rate:Q", format=".0%", title=_("Approval rate")),
                 alt.Tooltip("approved:Q", title=_("approved")), alt.Tooltip("rejected:Q", title=_("rejected"))],
    )
    st.altair_chart(line, height=280)


def unedited_chart(data: dict[str, list[dict[str, Any]]]) -> None:
    """The share of review rounds approved exactly as generated, per day and provider: what reviews teach
    the next generation of a scene (core.library.review_lessons) shows here as a rising line."""
    st.markdown("**" + _("Approved without edits per day") + "**",
                help=_("Review rounds the reviewer approved without changing a row, value, check or setup step, "
                       "of all rounds decided that day. Reviewers' corrections on a scene become examples for "
                       "its next tasks, so this share should rise."))
    if not data["per_day"]:
        st.caption(_("No review decision was made in this range."))
        return
    frame = pd.DataFrame(data["per_day"])
    frame["provider"] = frame["provider"].replace("", _("unknown"))
    chart = alt.Chart(frame).mark_line(point=True).encode(
        x=alt.X("day:O", title=None, axis=DAY_AXIS),
        y=alt.Y("share:Q", title=_("approved without edits"), axis=alt.Axis(format="%"),
                scale=alt.Scale(domain=[0, 1])),
        color=alt.Color("provider:N", legend=alt.Legend(orient="bottom", title=_("Provider"))),
        tooltip=[alt.Tooltip("day:N", title=_("Day")), alt.Tooltip("provider:N", title=_("Provider")),
                 alt.Tooltip("share:Q", format=".0%", title=_("Approved without edits")),
                 alt.Tooltip("unedited:Q", title=_("without edits")), alt.Tooltip("rounds:Q", title=_("Rounds"))],
    )
    st.altair_chart(chart, height=280)


def unedited_by_scene(rows: list[dict[str, Any]]) -> None:
    st.subheader(_("Approved without edits by scene"))
    if not rows:
        st.caption(_("No review decision was made in this range."))
        return
    st.dataframe(pd.DataFrame([{
        _("Scene"): f"{row['scene_id']} {row['scene']}".strip() or _("unknown"),
        _("Provider"): row["provider"] or _("unknown"),
        _("Rounds"): row["rounds"],
        _("Approved without edits"): row["share"],
    } for row in rows]), hide_index=True, width="stretch", column_config={
        _("Approved without edits"): st.column_config.ProgressColumn(format="percent", min_value=0, max_value=1)})


def steps_chart(rows: list[dict[str, Any]]) -> None:
    st.markdown("**" + _("Average duration per step") + "**")
    if not rows:
        st.caption(_("No step ran in this range."))
        return
    frame = pd.DataFrame(rows)  # named from the rows: a pandas string column keeps no core Text
    frame["step_name"] = [f"{int(row['number'])}. {i18n.text(row['label'])}" if row["number"] is not None
                          else i18n.text(row["label"]) for row in rows]
    chart = alt.Chart(frame).mark_bar(color="#2f6f8f").encode(
        y=alt.Y("step_name:N", title=None, sort=list(frame["step_name"]), axis=alt.Axis(labelLimit=240)),
        x=alt.X("avg_ms:Q", title=_("milliseconds")),
        tooltip=[alt.Tooltip("step_name:N", title=_("Step")),
                 alt.Tooltip("avg_ms:Q", format=",.0f", title=_("avg ms")),
                 alt.Tooltip("max_ms:Q", format=",", title=_("max ms")),
                 alt.Tooltip("runs:Q", format=",", title=_("Runs"))],
    )
    st.altair_chart(chart, height=280)


st.title(_("Metrics"))
since, until, label = window()
ok, data = ui.attempt(lambda: load(since, until))
if not ok or data is None:
    st.stop()
st.caption(_("Tasks created in {range}; backlog and reviews as they are now. Days are UTC days.", range=label))
tiles(data["summary"], label)
if not data["summary"]["tasks"] and not data["summary"]["reviews"]:
    ui.empty_state(_("Nothing happened in this range yet. Pick a longer range, or launch a task."),
                   icon=":material/query_stats:")
left, right = st.columns(2, gap="large")
with left:
    per_day_chart(data["per_day"])
    approval_chart(data["approvals"])
with right:
    duration_chart(data["durations"])
    unedited_chart(data["unedited"])
steps_chart(data["steps"])
unedited_by_scene(data["unedited"]["by_scene"])
ai_usage(data["ai"])
