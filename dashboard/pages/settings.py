"""Settings (admins): users, the AI provider in use, worker health, retention and "run cleanup now"."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from core import service
from dashboard import ui
from dashboard.i18n import _

ROLES = ("engineer", "viewer", "admin")

actor = ui.require_actor()
st.title(_("Settings"))
ok, overview = ui.attempt(lambda: service.system_overview(user=actor.username))
if not ok or overview is None:
    st.stop()


def users_tab() -> None:
    people = service.list_users(user=actor.username)
    st.dataframe(pd.DataFrame({
        "username": [u["username"] for u in people], "role": [ui.role_text(u["role"]) for u in people],
        "active": [u["is_active"] for u in people],
        "created": [ui.local_time(u["created_at"], seconds=False) for u in people],
    }), hide_index=True, column_config={
        "username": st.column_config.TextColumn(_("User"), width=180),
        "role": st.column_config.TextColumn(_("Role"), width=100),
        "active": st.column_config.CheckboxColumn(_("Can sign in"), width=100),
        "created": st.column_config.TextColumn(_("Created"), width=160),
    })
    add, edit = st.columns(2, gap="large")
    with add, st.container(border=True):
        st.markdown("**" + _("Add a user") + "**")
        with st.form("add_user", clear_on_submit=True, border=False):
            username = st.text_input(_("Username"))
            role = st.selectbox(_("Role"), ROLES, format_func=ui.role_text,
                                help=_("engineer: launch, review, cancel, retry · viewer: read only · "
                                       "admin: also users and settings"))
            password = st.text_input(_("Password"), type="password",
                                     help=_("At least 8 characters. Leave empty to generate one."))
            if st.form_submit_button(_("Add user"), type="primary"):
                done, created = ui.attempt(lambda: service.add_user(username, role, password or None,
                                                                    user=actor.username))
                if done and created is not None:
                    generated = created.get("password")
                    shown = " " + _("Their generated password: `{password}` (shown once).",
                                    password=generated) if generated else ""
                    st.session_state["settings_notice"] = _("Added {user} as {role}.", user=ui.escape(
                        created["username"]), role=ui.role_text(created["role"])) + shown
                    st.rerun()
    with edit, st.container(border=True):
        st.markdown("**" + _("Change a user") + "**")
        names = [u["username"] for u in people]
        who = st.selectbox(_("User"), names, key="edit_user")
        current = next(u for u in people if u["username"] == who)
        with st.form(f"edit_user_{who}", border=False):
            role = st.selectbox(_("Role"), ROLES, index=ROLES.index(current["role"]), format_func=ui.role_text)
            active = st.toggle(_("Can sign in"), value=current["is_active"])
            password = st.text_input(_("New password"), type="password",
                                     help=_("Leave empty to keep the current one."))
            if st.form_submit_button(_("Save"), type="primary"):
                done = ui.attempt(lambda: service.update_user(
                    who, role=role, active=active, password=password or None, user=actor.username))[0]
                if done:
                    st.session_state["settings_notice"] = _("Saved {user}.", user=ui.escape(who))
                    st.rerun()
    st.caption(_("From a terminal: `python -m core create-user --username NAME --role engineer`."))


def ai_tab(ai: dict[str, Any]) -> None:
    rows = {
        _("Provider"): _("OpenAI-compatible API") if ai["provider"] == "openai" else _("Offline (built in)"),
        _("Model"): ai["model"], _("Endpoint"): ai["base_url"] or "—", _("API key"): ai["api_key"] or _("not set"),
        _("AI_PROVIDER setting"): ai["setting"],
        _("Timeout per request"): _("{seconds} s", seconds=f"{ai['timeout_seconds']:g}"),
        _("Simulated latency"): _("{seconds} s", seconds=f"{ai['latency_seconds']:g}") if ai["latency_seconds"]
        else _("none"),
    }
    st.dataframe(pd.DataFrame({"setting": list(rows), "value": list(rows.values())}), hide_index=True,
                 column_config={"setting": st.column_config.TextColumn("", width=200),
                                "value": st.column_config.TextColumn("", width=420)})
    st.caption(_("Set OPENAI_API_KEY, OPENAI_BASE_URL and OPENAI_MODEL in the environment (or .env) of the "
                 "dashboard and of every worker, then restart them. Without a key the offline provider derives rows "
                 "from the scene's JSON Schema."))


def workers_tab(health: dict[str, Any]) -> None:
    here = health["this_process"]
    row = st.columns(4)
    row[0].metric(_("Scheduler in this server"), (_("running") if here is not None and here["running"]
                                                   else _("stopped")) if health["run_scheduler"] else _("off"),
                  border=True, help=_("RUN_SCHEDULER: whether the dashboard's own process runs a worker"))
    row[1].metric(_("Workers alive"), health["alive"], border=True)
    row[2].metric(_("Slots"), health["slots"], border=True, help=_("Tasks the live workers can run at once"))
    row[3].metric(_("Tasks running"), health["running"], border=True)
    if not health["alive"]:
        st.warning(_("No worker is alive: pending tasks wait. Start one with `python -m core worker`."),
                   icon=":material/warning:")
    if health["workers"]:
        workers = health["workers"]
        st.dataframe(pd.DataFrame({
            "id": [w["id"] + (" " + _("(this server)") if here is not None and w["id"] == here["id"] else "")
                   for w in workers],
            "state": [w["state"] for w in workers],
            "running": [f"{w['running']} / {w['concurrency']}" for w in workers],
            "heartbeat": pd.to_datetime([w["last_heartbeat_at"] for w in workers], utc=True),
            "started": [ui.local_time(w["started_at"], seconds=False) for w in workers],
        }), hide_index=True, column_config={
            "id": st.column_config.TextColumn(_("Worker"), width=300),
            "state": st.column_config.TextColumn(_("State"), width=80),
            "running": st.column_config.TextColumn(_("Running / slots"), width=120),
            "heartbeat": st.column_config.DatetimeColumn(_("Last heartbeat"), format="distance", width=140),
            "started": st.column_config.TextColumn(_("Started"), width=150),
        })
    st.caption(_("Concurrency {concurrency} per worker · leases of {lease} s, renewed every {renew} s · idle workers "
                 "poll every {poll} s · a task fails after {attempts} lost runs. A worker is alive while its "
                 "heartbeat is younger than a lease.", concurrency=health["concurrency"],
                 lease=health["lease_seconds"], renew=f"{health['lease_seconds'] / 3:.0f}",
                 poll=f"{health['poll_seconds']:g}", attempts=health["max_attempts"]))


def retention_tab(retention: dict[str, Any]) -> None:
    st.markdown(_("Finished tasks (completed, failed, cancelled) older than **{days} days** are removed {schedule}, "
                  "with their events, reviews and checkpoints. Automation cases stay.", days=retention["days"],
                  schedule=retention["schedule"]))
    days = st.number_input(_("Retention for a manual run (days)"), min_value=1, value=retention["days"], step=1)
    left, right = st.columns(2)
    if left.button(_("Preview (dry run)"), icon=":material/preview:", key="cleanup_preview"):
        done, report = ui.attempt(lambda: service.run_cleanup(user=actor.username, dry_run=True, days=int(days)))
        if done:
            st.session_state["cleanup_report"] = report
    if right.button(_("Run cleanup now"), icon=":material/delete_sweep:", key="cleanup_run"):
        st.session_state["cleanup_confirm"] = int(days)
    if report := st.session_state.get("cleanup_report"):
        show_report(report, done=False)
    if report := st.session_state.pop("cleanup_done", None):
        show_report(report, done=True)


def show_report(report: dict[str, Any], *, done: bool) -> None:
    counts = {"cutoff": ui.local_time(report["cutoff"]), "tasks": f"{report['tasks']:,}",
              "events": f"{report['events']:,}", "reviews": f"{report['reviews']:,}",
              "threads": f"{report['checkpoint_threads']:,}"}
    if done:
        text = _("Tasks created before {cutoff}: removed **{tasks} tasks**, {events} events, {reviews} reviews and "
                 "{threads} checkpoint threads.", **counts)
    else:
        text = _("Tasks created before {cutoff}: would remove **{tasks} tasks**, {events} events, {reviews} reviews "
                 "and {threads} checkpoint threads.", **counts)
    st.info(text, icon=":material/cleaning_services:")


def forget_cleanup() -> None:
    st.session_state.pop("cleanup_confirm", None)


@st.dialog(_("Run the cleanup now?"), on_dismiss=forget_cleanup)
def confirm_cleanup(days: int) -> None:
    st.markdown(_("This deletes finished tasks older than **{days} days** for good (automation cases stay).",
                  days=days))
    left, right = st.columns(2)
    if left.button(_("Delete them"), type="primary", width="stretch", key="cleanup_go"):
        with st.spinner(_("Cleaning up…")):
            done, report = ui.attempt(lambda: service.run_cleanup(user=actor.username, dry_run=False, days=days))
        if done:
            st.session_state["cleanup_done"] = report
            st.session_state.pop("cleanup_report", None)
            forget_cleanup()
            st.rerun()
    if right.button(_("Keep them"), width="stretch", key="cleanup_keep"):
        forget_cleanup()
        st.rerun()


def integrations_tab() -> None:
    """API tokens (created, listed, revoked; a token is shown once) and webhooks with their delivery log."""
    people = [person["username"] for person in service.list_users(user=actor.username) if person["is_active"]]
    with st.form("new_token", clear_on_submit=True):
        left, right = st.columns(2)
        owner = left.selectbox(_("Token for"), people, index=people.index(actor.username))
        label = right.text_input(_("Label"), placeholder=_("CI pipeline"))
        if st.form_submit_button(_("Create token"), type="primary"):
            done, created = ui.attempt(lambda: service.create_api_token(owner, name=label, user=actor.username))
            if done and created is not None:
                st.warning(_("Copy it now: it is shown this once."), icon=":material/key:")
                st.code(created["token"], language=None)
    tokens = service.list_api_tokens(user=actor.username)
    if not tokens:
        ui.empty_state(_("No API tokens yet: create one above, or with python -m core api-token."))
    for token in tokens:
        left, right = st.columns([4, 1])
        state = _("revoked") if token["revoked_at"] else _("last used {at}", at=ui.local_time(token["last_used_at"]))
        label = token["name"] or _("no label")
        left.text(f"{token['prefix']}… · {token['username']} · {label} · {state}")
        if not token["revoked_at"] and right.button(_("Revoke"), key=f"revoke_{token['id']}"):
            if ui.attempt(lambda token=token: service.revoke_api_token(token["id"], user=actor.username))[0]:
                st.session_state["settings_notice"] = _("Revoked the token {prefix}…",
                                                        prefix=ui.escape(token["prefix"]))
                st.rerun()
    st.subheader(_("Webhooks"))
    add_webhook_form(people)
    hooks = service.list_webhooks(user=actor.username)
    if not hooks:
        ui.empty_state(_("No webhooks yet: add one above, or with python -m core webhook add."))
        return
    st.dataframe(pd.DataFrame(hooks)[["id", "name", "kind", "url", "events", "scope", "user", "module", "signed"]],
                 hide_index=True)
    left, right = st.columns([4, 1], vertical_alignment="bottom")
    ids = [hook["id"] for hook in hooks]
    chosen = left.selectbox(_("Webhook to remove"), ids, key="remove_webhook_id",
                            format_func=lambda hook_id: f"#{hook_id} {hooks[ids.index(hook_id)]['url']}")
    if right.button(_("Remove"), key="remove_webhook", width="stretch"):
        if ui.attempt(lambda: service.remove_webhook(chosen, user=actor.username))[0]:
            st.session_state["settings_notice"] = _("Removed webhook #{id} and its delivery log.", id=chosen)
            st.rerun()
    log = service.webhook_deliveries(user=actor.username, limit=50)["items"]
    st.caption(_("Latest deliveries ({count})", count=len(log)))
    if log:
        st.dataframe(pd.DataFrame(log)[["webhook", "event", "task_id", "status", "attempts", "response_status",
                                        "error", "last_attempt_at"]], hide_index=True)


def add_webhook_form(people: list[str]) -> None:
    """A webhook for a user's tasks or a module's; a generated secret is shown this once, a refusal says why."""
    with st.form("new_webhook", clear_on_submit=True):
        url = st.text_input(_("Webhook URL"), placeholder="https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…",
                            help=_("http(s) of a public address; internal ones need WEBHOOK_ALLOWED_HOSTS"))
        left, right = st.columns(2)
        kind = left.selectbox(_("Kind"), service.WEBHOOK_KINDS,
                              help=_("generic: signed JSON · wecom, dingtalk, feishu, slack: a chat group's "
                                     "incoming webhook"))
        events = right.multiselect(_("Events"), service.WEBHOOK_EVENTS, default=list(service.WEBHOOK_EVENTS))
        owner = left.selectbox(_("Tasks of"), people, index=people.index(actor.username))
        module = right.text_input(_("Or every task of the module"), help=_("Leave empty for the user's tasks"))
        label = left.text_input(_("Label"), placeholder=_("QA group"))
        secret = right.text_input(_("Signing secret"), type="password",
                                  help=_("generic: leave empty to generate one · dingtalk, feishu: the robot's "
                                         "加签 secret"))
        if not st.form_submit_button(_("Add webhook"), type="primary"):
            return
    done, created = ui.attempt(lambda: service.add_webhook(
        url, kind=kind, events=events, name=label or None, secret=secret or None,
        owner=None if module.strip() else owner, module=module.strip() or None, user=actor.username))
    if done and created is not None:
        st.success(_("Added webhook #{id} to {url}.", id=created["id"], url=ui.escape(created["url"])),
                   icon=":material/check:")
        if created.get("secret"):
            st.warning(_("Copy its signing secret now: it is shown this once."), icon=":material/key:")
            st.code(created["secret"], language=None)


if notice := st.session_state.pop("settings_notice", None):
    st.success(notice, icon=":material/check:")
users, ai, workers, retention, integrations = st.tabs(
    [_("Users"), _("AI provider"), _("Workers"), _("Retention"), _("API tokens & webhooks")], key="settings_tab",
    bind="query-params")
with users:
    users_tab()
with ai:
    ai_tab(overview["ai"])
with workers:
    workers_tab(overview["workers"])
with retention:
    retention_tab(overview["retention"])
with integrations:
    integrations_tab()
db = overview["database"]
st.caption(_("Database: {backend} · `{url}`", backend=db["backend"], url=db["url"]))
if (days := st.session_state.get("cleanup_confirm")) is not None:
    confirm_cleanup(days)
