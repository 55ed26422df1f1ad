"""Environments: the named targets of runs (base URL, headers, auth, variables) and each module's defaults.

No secret reaches this page: auth names the environment variable of the server that holds
the token, key or password, and the page shows whether it is set on this server.
"""

from __future__ import annotations

import json
from typing import Any

import pandas as pd
import streamlit as st

from core import service
from dashboard import ui
from dashboard.i18n import N_, _

AUTH_LABELS = {
    "none": N_("None"), "bearer": N_("Bearer token"), "api_key": N_("API key in a header"),
    "basic": N_("Basic (username, password)"),
}
FIELD_LABELS = {
    "header": (N_("API key header"), N_("e.g. X-Api-Key")),
    "username": (N_("Username"), N_("the basic auth username")),
    "secret_variable": (N_("Environment variable that holds the secret"),
                        N_("The NAME of an environment variable of the server and workers, e.g. STAGING_TOKEN: "
                           "never the secret itself.")),
}
NO_ENVIRONMENT = "—"

actor = ui.require_actor()
st.title(_("Environments"))
st.caption(_("Where runs send their requests: a base URL, headers, auth and variables ({{name}} in bodies, paths, "
             "query and headers). Secrets stay in the server's environment variables; only their names are kept."))
if notice := st.session_state.pop("environments_notice", None):
    st.success(ui.escape(notice), icon=":material/check_circle:")
ok, environments = ui.attempt(lambda: service.list_environments(user=actor.username))
if not ok or environments is None:
    st.stop()
links = service.list_module_environments(user=actor.username)


def secret_text(auth: dict[str, Any]) -> str:
    if not auth["secret_variable"]:
        return NO_ENVIRONMENT
    state = _("set on this server") if auth["secret_set"] else _("NOT set on this server")
    return f"{auth['secret_variable']} · {state}"


def auth_text(auth: dict[str, Any]) -> str:
    detail = auth["header"] or auth["username"]
    return f"{auth['kind']} ({detail})" if detail else auth["kind"]


def environments_table() -> None:
    if not environments:
        ui.empty_state(_("No environments yet. Add one (dev, staging ...) to run cases without typing a base URL."),
                       icon=":material/dns:")
        return
    st.dataframe(pd.DataFrame([{
        "name": item["name"], "base_url": item["base_url"], "auth": auth_text(item["auth"]),
        "secret": secret_text(item["auth"]),
        "headers": ", ".join(f"{key}: {value}" for key, value in item["headers"].items()),
        "variables": ", ".join(f"{key}={value}" for key, value in item["variables"].items()),
        "default_for": ", ".join(item["default_for"]), "sandbox_for": ", ".join(item["sandbox_for"]),
    } for item in environments]), hide_index=True, column_config={
        "name": st.column_config.TextColumn(_("Name"), width=120),
        "base_url": st.column_config.TextColumn(_("Base URL"), width=240),
        "auth": st.column_config.TextColumn(_("Auth"), width=140),
        "secret": st.column_config.TextColumn(_("Secret variable"), width=240),
        "headers": st.column_config.TextColumn(_("Headers"), width=200),
        "variables": st.column_config.TextColumn(_("Variables"), width=200),
        "default_for": st.column_config.TextColumn(_("Default for"), width=140),
        "sandbox_for": st.column_config.TextColumn(_("Sandbox for"), width=140),
    })


def json_text(value: dict[str, str]) -> str:
    return json.dumps(value, indent=1, ensure_ascii=False)


def json_object(text: str, label: str) -> Any:
    """The JSON in a text area, or None after saying what is wrong (the service checks the shape)."""
    try:
        return json.loads(text or "{}")
    except json.JSONDecodeError as error:
        st.error(_("{label}: not valid JSON ({error} at line {line}).", label=label, error=error.msg,
                   line=error.lineno), icon=":material/error:")
        return None


def environment_form(key: str, current: dict[str, Any] | None) -> dict[str, Any] | None:
    """The fields of an environment (empty, or ``current``'s); the values to save once submitted, else None."""
    existing = current or {}
    auth = existing.get("auth") or {"kind": "none"}
    kinds = list(service.ENVIRONMENT_AUTH_KINDS)
    kind = st.selectbox(_("Auth"), kinds, index=kinds.index(auth["kind"]),
                        format_func=lambda kind: _(AUTH_LABELS[kind]), key=f"{key}_auth_kind")
    with st.form(key, border=False):
        name = st.text_input(_("Name"), value=existing.get("name", ""), placeholder="staging", key=f"{key}_name")
        base_url = st.text_input(_("Base URL"), value=existing.get("base_url", ""),
                                 placeholder="https://staging.example.com/api", key=f"{key}_base_url")
        fields = {field: st.text_input(_(FIELD_LABELS[field][0]), value=auth.get(field) or "",
                                       help=_(FIELD_LABELS[field][1]), key=f"{key}_{field}")
                  for field in service.ENVIRONMENT_AUTH_FIELDS[kind]}
        headers = st.text_area(_("Headers (JSON object; no credentials: they go through auth)"),
                               value=json_text(existing.get("headers", {})), key=f"{key}_headers")
        variables = st.text_area(_("Variables (JSON object of text values, used as {{name}})"),
                                 value=json_text(existing.get("variables", {})), key=f"{key}_variables")
        submitted = st.form_submit_button(_("Save") if current else _("Add environment"), type="primary",
                                          key=f"{key}_submit")
        if not submitted:
            return None
    parsed = json_object(headers, _("Headers")), json_object(variables, _("Variables"))
    if None in parsed:
        return None
    return {"name": name, "base_url": base_url, "headers": parsed[0], "variables": parsed[1],
            "auth": {"kind": kind, **fields}}


def saved(message: str) -> None:
    st.session_state["environments_notice"] = message
    st.rerun()


def add_tab() -> None:
    values = environment_form("env_add", None)
    if values is not None:
        done, created = ui.attempt(lambda: service.create_environment(values, user=actor.username))
        if done and created is not None:
            saved(_("Added {name}.", name=created["name"]))


def edit_tab() -> None:
    if not environments:
        ui.empty_state(_("Nothing to edit yet: add an environment first."))
        return
    names = [item["name"] for item in environments]
    name = st.selectbox(_("Environment"), names, key="env_edit_pick")
    current = next(item for item in environments if item["name"] == name)
    values = environment_form(f"env_edit_{current['id']}", current)
    if values is not None:
        done, updated = ui.attempt(lambda: service.update_environment(name, values, user=actor.username))
        if done and updated is not None:
            saved(_("Saved {name}.", name=updated["name"]))


def modules_tab() -> None:
    if links:
        st.dataframe(pd.DataFrame(links).fillna(NO_ENVIRONMENT), hide_index=True, column_config={
            "module": _("Module"), "default": _("Default environment"), "sandbox": _("Sandbox environment")})
    else:
        st.caption(_("No module has a default or sandbox environment yet."))
    if not actor.can_operate:
        return
    modules = sorted({*service.list_modules("automation_cases"), *service.list_modules(),
                      *(link["module"] for link in links)})
    if not modules or not environments:
        ui.empty_state(_("Modules come with imported scenes and approved cases; add an environment first."))
        return
    module = st.selectbox(_("Module"), modules, key="env_module_pick")
    current = next((link for link in links if link["module"] == module), {})
    options = [NO_ENVIRONMENT, *(item["name"] for item in environments)]
    with st.form(f"env_module_{module}", border=False):
        default = st.selectbox(_("Default environment (runs that name none)"), options,
                               index=options.index(current.get("default") or NO_ENVIRONMENT), key="env_module_default")
        sandbox = st.selectbox(_("Sandbox environment (the run before review)"), options,
                               index=options.index(current.get("sandbox") or NO_ENVIRONMENT), key="env_module_sandbox")
        if st.form_submit_button(_("Save module"), type="primary", key="env_module_submit"):
            done = ui.attempt(lambda: service.set_module_environments(
                module, default=None if default == NO_ENVIRONMENT else default,
                sandbox=None if sandbox == NO_ENVIRONMENT else sandbox, user=actor.username))[0]
            if done:
                saved(_("Saved the environments of module {module}.", module=module))


def remove_tab() -> None:
    if not environments:
        ui.empty_state(_("Nothing to remove."))
        return
    with st.form("env_remove", border=False):
        name = st.selectbox(_("Environment"), [item["name"] for item in environments], key="env_remove_pick")
        sure = st.checkbox(_("Remove it: modules lose it as their default or sandbox; past runs keep its name"),
                           key="env_remove_sure")
        if not st.form_submit_button(_("Remove"), key="env_remove_submit"):
            return
        if not sure:
            st.warning(_("Tick the box to confirm."), icon=":material/warning:")
            return
        done, removed = ui.attempt(lambda: service.remove_environment(name, user=actor.username))
        if done and removed is not None:
            saved(_("Removed {name}.", name=removed["removed"]))


environments_table()
if actor.can_operate:
    add, edit, modules, remove = st.tabs([_("Add"), _("Edit"), _("Module defaults"), _("Remove")])
    with add:
        add_tab()
    with edit:
        edit_tab()
    with modules:
        modules_tab()
    with remove:
        remove_tab()
else:
    st.subheader(_("Module defaults"))
    modules_tab()
    st.caption(_("Viewers read environments; admins and engineers manage them."))
