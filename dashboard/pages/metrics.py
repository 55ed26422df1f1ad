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
from dashboard import ui

RANGES = {"24 h": 1, "7 days": 7, "30 days": 30, "90 days": 90}
DAY_AXIS = alt.Axis(labelExpr="slice(datum.value, 5)", labelAngle=0, labelOverlap="parity")
"""Days come from SQL as "YYYY-MM-DD" (UTC); the axis shows "MM-DD"."""
CACHE_SECONDS = 15

ui.require_actor()


@st.cache_data(ttl=CACHE_SECONDS, show_spinner=False)
def load(since: datetime, until: datetime) -> dict[str, Any]:
    return service.metrics_overview(since, until)


def window() -> tuple[datetime, datetime, str]:
    choice = st.segmented_control("Range", [*RANGES, "Custom"], default="7 days", key="range", bind="query-params",
                                  required=True, label_visibility="collapsed") or "7 days"
    now = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(minutes=1)  # cache per minute
    if choice != "Custom":
        return now - timedelta(days=RANGES[choice]), now, f"the last {choice}"
    picked = st.date_input("Days", value=(date.today() - timedelta(days=13), date.today()), key="days",
                           bind="query-params", format="YYYY-MM-DD")
    start, end = ui.day_range(picked)
    if start is None:
        st.stop()
    end = end or start + timedelta(days=1)  # one day picked: that day
    return start.astimezone(UTC), end.astimezone(UTC), f"{start.date()} to {(end - timedelta(days=1)).date()}"


def percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f} %"


def ai_usage(usage: dict[str, Any]) -> None:
    """Calls, tokens and estimated cost per completed case (zero with the offline provider)."""
    st.subheader("AI usage")
    if not usage["calls"]:
        st.caption("No calls to an AI model in this range: the offline provider needs none.")
        return
    a, b, c, d = st.columns(4)
    a.metric("Calls per case", usage["calls_per_case"] if usage["calls_per_case"] is not None else "—", border=True)
    b.metric("Tokens per case", f"{usage['tokens_per_case']:,.0f}" if usage["tokens_per_case"] else "—", border=True)
    cost = usage["cost_per_case"]
    c.metric(f"Cost per case ({usage['currency']})", f"{cost:.4f}" if cost is not None else "—", border=True,
             help="Estimated from the price table in settings (AI_PRICES).")
    d.metric("Tokens in all", f"{usage['total_tokens']:,}", border=True)
    if usage["unpriced_models"]:
        st.caption(f"No price for: {ui.escape(', '.join(usage['unpriced_models']))} (set AI_PRICES).")


def tiles(summary: dict[str, Any], label: str) -> None:
    row = st.columns(6)
    row[0].metric("Success rate", percent(summary["success_rate"]), border=True,
                  help=f"completed / (completed + failed), of the tasks created in {label}: "
                       f"{summary['completed']} completed, {summary['failed']} failed")
    row[1].metric("Avg run time", ui.duration_text(summary["avg_duration_seconds"], compact=True), border=True,
                  help="avg(completed_at − started_at) of completed tasks; includes the wait for review")
    row[2].metric("Review approval", percent(summary["approval_rate"]), border=True,
                  help=f"approved / all decisions made in {label}: {summary['approved']} of {summary['reviews']}")
    row[3].metric("Backlog", f"{summary['backlog']:,}", border=True,
                  help=f"Tasks pending now (waiting for a worker); {summary['processing']} running")
    overdue = summary["overdue_reviews"]
    row[4].metric("Awaiting review", f"{summary['awaiting_review']:,}", border=True,
                  delta=f"{overdue:,} overdue" if overdue else None, delta_color="inverse", delta_arrow="off",
                  help="Tasks paused at step 9 now; overdue: waiting longer than REVIEW_REMIND_HOURS")
    row[5].metric("Oldest review", ui.duration_text(summary["oldest_review_age_seconds"], compact=True), border=True,
                  help="How long the longest-waiting task has waited for a reviewer")


def per_day_chart(rows: list[dict[str, Any]]) -> None:
    st.markdown("**Tasks per day by status**")
    if not rows:
        st.caption("No task was created in this range.")
        return
    colors = alt.Scale(domain=list(ui.STATUSES), range=[ui.STATUS_HEX[s] for s in ui.STATUSES])
    chart = alt.Chart(pd.DataFrame(rows)).mark_bar().encode(
        x=alt.X("day:O", title=None, axis=DAY_AXIS),
        y=alt.Y("tasks:Q", title="tasks", stack=True),
        color=alt.Color("status:N", scale=colors, legend=alt.Legend(orient="bottom", title=None, columns=6)),
        order=alt.Order("status_order:Q"),
        tooltip=["day:N", "status:N", "tasks:Q"],
    ).transform_calculate(status_order=_status_order())
    st.altair_chart(chart, height=280)


def _status_order() -> str:
    return " : ".join(f"datum.status == '{s}' ? {i}" for i, s in enumerate(ui.STATUSES)) + " : 9"


def duration_chart(rows: list[dict[str, Any]]) -> None:
    st.markdown("**Execution time per day (p50, p95)**")
    if not rows:
        st.caption("No task completed in this range.")
        return
    frame = pd.DataFrame(rows).melt(id_vars=["day", "tasks"], value_vars=["p50_seconds", "p95_seconds"],
                                    var_name="percentile", value_name="seconds")
    frame["percentile"] = frame["percentile"].str.replace("_seconds", "")
    chart = alt.Chart(frame).mark_line(point=True).encode(
        x=alt.X("day:O", title=None, axis=DAY_AXIS),
        y=alt.Y("seconds:Q", title="seconds"),
        color=alt.Color("percentile:N", scale=alt.Scale(range=["#2f80ed", "#d9434d"]),
                        legend=alt.Legend(orient="bottom", title=None)),
        tooltip=["day:N", "percentile:N", alt.Tooltip("seconds:Q", format=".1f"),
                 "tasks:Q"],
    )
    st.altair_chart(chart, height=280)


def approval_chart(rows: list[dict[str, Any]]) -> None:
    st.markdown("**Review approval rate per day**")
    if not rows:
        st.caption("No review decision was made in this range.")
        return
    base = alt.Chart(pd.DataFrame(rows)).encode(x=alt.X("day:O", title=None, axis=DAY_AXIS))
    line = base.mark_line(point=True, color=ui.STATUS_HEX["completed"]).encode(
        y=alt.Y("approval_rate:Q", title="approved", axis=alt.Axis(format="%"), scale=alt.Scale(domain=[0, 1])),
        tooltip=["day:N", alt.Tooltip("approval_rate:Q", format=".0%"),
                 "approved:Q", "rejected:Q"],
    )
    st.altair_chart(line, height=280)


def steps_chart(rows: list[dict[str, Any]]) -> None:
    st.markdown("**Average duration per step**")
    if not rows:
        st.caption("No step ran in this range.")
        return
    frame = pd.DataFrame(rows)
    frame["step_name"] = frame.apply(lambda r: f"{int(r['number'])}. {r['label']}" if pd.notna(r["number"])
                                     else str(r["label"]), axis=1)
    chart = alt.Chart(frame).mark_bar(color="#2f6f8f").encode(
        y=alt.Y("step_name:N", title=None, sort=list(frame["step_name"]), axis=alt.Axis(labelLimit=240)),
        x=alt.X("avg_ms:Q", title="milliseconds"),
        tooltip=["step_name:N", alt.Tooltip("avg_ms:Q", format=",.0f", title="avg ms"),
                 alt.Tooltip("max_ms:Q", format=",", title="max ms"), alt.Tooltip("runs:Q", format=",")],
    )
    st.altair_chart(chart, height=280)


st.title("Metrics")
since, until, label = window()
ok, data = ui.attempt(lambda: load(since, until))
if not ok or data is None:
    st.stop()
st.caption(f"Tasks created in {label}; backlog and reviews as they are now. Days are UTC days.")
tiles(data["summary"], label)
if not data["summary"]["tasks"] and not data["summary"]["reviews"]:
    ui.empty_state("Nothing happened in this range yet. Pick a longer range, or launch a task.",
                   icon=":material/query_stats:")
left, right = st.columns(2, gap="large")
with left:
    per_day_chart(data["per_day"])
    approval_chart(data["approvals"])
with right:
    duration_chart(data["durations"])
    steps_chart(data["steps"])
ai_usage(data["ai"])
