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

AUTH_LABELS = {
    "none": "None", "bearer": "Bearer token", "api_key": "API key in a header", "basic": "Basic (username, password)",
}
FIELD_LABELS = {
    "header": ("API key header", "e.g. X-Api-Key"),
    "username": ("Username", "the basic auth username"),
    "secret_variable": ("Environment variable that holds the secret",
                        "The NAME of an environment variable of the server and workers, e.g. STAGING_TOKEN: "
                        "never the secret itself."),
}
NO_ENVIRONMENT = "—"

actor = ui.require_actor()
st.title("Environments")
st.caption("Where runs send their requests: a base URL, headers, auth and variables ({{name}} in bodies, paths, "
           "query and headers). Secrets stay in the server's environment variables; only their names are kept.")
if notice := st.session_state.pop("environments_notice", None):
    st.success(ui.escape(notice), icon=":material/check_circle:")
ok, environments = ui.attempt(lambda: service.list_environments(user=actor.username))
if not ok or environments is None:
    st.stop()
links = service.list_module_environments(user=actor.username)


def secret_text(auth: dict[str, Any]) -> str:
    if not auth["secret_variable"]:
        return NO_ENVIRONMENT
    state = "set on this server" if auth["secret_set"] else "NOT set on this server"
    return f"{auth['secret_variable']} · {state}"


def auth_text(auth: dict[str, Any]) -> str:
    detail = auth["header"] or auth["username"]
    return f"{auth['kind']} ({detail})" if detail else auth["kind"]


def environments_table() -> None:
    if not environments:
        ui.empty_state("No environments yet. Add one (dev, staging ...) to run cases without typing a base URL.",
                       icon=":material/dns:")
        return
    st.dataframe(pd.DataFrame([{
        "name": item["name"], "base_url": item["base_url"], "auth": auth_text(item["auth"]),
        "secret": secret_text(item["auth"]),
        "headers": ", ".join(f"{key}: {value}" for key, value in item["headers"].items()),
        "variables": ", ".join(f"{key}={value}" for key, value in item["variables"].items()),
        "default_for": ", ".join(item["default_for"]), "sandbox_for": ", ".join(item["sandbox_for"]),
    } for item in environments]), hide_index=True, column_config={
        "name": st.column_config.TextColumn("Name", width=120),
        "base_url": st.column_config.TextColumn("Base URL", width=240),
        "auth": st.column_config.TextColumn("Auth", width=140),
        "secret": st.column_config.TextColumn("Secret variable", width=240),
        "headers": st.column_config.TextColumn("Headers", width=200),
        "variables": st.column_config.TextColumn("Variables", width=200),
        "default_for": st.column_config.TextColumn("Default for", width=140),
        "sandbox_for": st.column_config.TextColumn("Sandbox for", width=140),
    })


def json_text(value: dict[str, str]) -> str:
    return json.dumps(value, indent=1, ensure_ascii=False)


def json_object(text: str, label: str) -> Any:
    """The JSON in a text area, or None after saying what is wrong (the service checks the shape)."""
    try:
        return json.loads(text or "{}")
    except json.JSONDecodeError as error:
        st.error(f"{label}: not valid JSON ({error.msg} at line {error.lineno}).", icon=":material/error:")
        return None


def environment_form(key: str, current: dict[str, Any] | None) -> dict[str, Any] | None:
    """The fields of an environment (empty, or ``current``'s); the values to save once submitted, else None."""
    existing = current or {}
    auth = existing.get("auth") or {"kind": "none"}
    kinds = list(service.ENVIRONMENT_AUTH_KINDS)
    kind = st.selectbox("Auth", kinds, index=kinds.index(auth["kind"]), format_func=AUTH_LABELS.get,
                        key=f"{key}_auth_kind")
    with st.form(key, border=False):
        name = st.text_input("Name", value=existing.get("name", ""), placeholder="staging", key=f"{key}_name")
        base_url = st.text_input("Base URL", value=existing.get("base_url", ""),
                                 placeholder="https://staging.example.com/api", key=f"{key}_base_url")
        fields = {field: st.text_input(FIELD_LABELS[field][0], value=auth.get(field) or "",
                                       help=FIELD_LABELS[field][1], key=f"{key}_{field}")
                  for field in service.ENVIRONMENT_AUTH_FIELDS[kind]}
        headers = st.text_area("Headers (JSON object; no credentials: they go through auth)",
                               value=json_text(existing.get("headers", {})), key=f"{key}_headers")
        variables = st.text_area("Variables (JSON object of text values, used as {{name}})",
                                 value=json_text(existing.get("variables", {})), key=f"{key}_variables")
        submitted = st.form_submit_button("Save" if current else "Add environment", type="primary",
                                          key=f"{key}_submit")
        if not submitted:
            return None
    parsed = json_object(headers, "Headers"), json_object(variables, "Variables")
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
            saved(f"Added {created['name']}.")


def edit_tab() -> None:
    if not environments:
        ui.empty_state("Nothing to edit yet.")
        return
    names = [item["name"] for item in environments]
    name = st.selectbox("Environment", names, key="env_edit_pick")
    current = next(item for item in environments if item["name"] == name)
    values = environment_form(f"env_edit_{current['id']}", current)
    if values is not None:
        done, updated = ui.attempt(lambda: service.update_environment(name, values, user=actor.username))
        if done and updated is not None:
            saved(f"Saved {updated['name']}.")


def modules_tab() -> None:
    if links:
        st.dataframe(pd.DataFrame(links).fillna(NO_ENVIRONMENT), hide_index=True)
    else:
        st.caption("No module has a default or sandbox environment yet.")
    if not actor.can_operate:
        return
    modules = sorted({*service.list_modules("automation_cases"), *service.list_modules(),
                      *(link["module"] for link in links)})
    if not modules or not environments:
        ui.empty_state("Modules come with imported scenes and approved cases; add an environment first.")
        return
    module = st.selectbox("Module", modules, key="env_module_pick")
    current = next((link for link in links if link["module"] == module), {})
    options = [NO_ENVIRONMENT, *(item["name"] for item in environments)]
    with st.form(f"env_module_{module}", border=False):
        default = st.selectbox("Default environment (runs that name none)", options,
                               index=options.index(current.get("default") or NO_ENVIRONMENT), key="env_module_default")
        sandbox = st.selectbox("Sandbox environment (the run before review)", options,
                               index=options.index(current.get("sandbox") or NO_ENVIRONMENT), key="env_module_sandbox")
        if st.form_submit_button("Save module", type="primary", key="env_module_submit"):
            done, _ = ui.attempt(lambda: service.set_module_environments(
                module, default=None if default == NO_ENVIRONMENT else default,
                sandbox=None if sandbox == NO_ENVIRONMENT else sandbox, user=actor.username))
            if done:
                saved(f"Saved the environments of module {module}.")


def remove_tab() -> None:
    if not environments:
        ui.empty_state("Nothing to remove.")
        return
    with st.form("env_remove", border=False):
        name = st.selectbox("Environment", [item["name"] for item in environments], key="env_remove_pick")
        sure = st.checkbox("Remove it: modules lose it as their default or sandbox; past runs keep its name",
                           key="env_remove_sure")
        if not st.form_submit_button("Remove", key="env_remove_submit"):
            return
        if not sure:
            st.warning("Tick the box to confirm.", icon=":material/warning:")
            return
        done, removed = ui.attempt(lambda: service.remove_environment(name, user=actor.username))
        if done and removed is not None:
            saved(f"Removed {removed['removed']}.")


environments_table()
if actor.can_operate:
    add, edit, modules, remove = st.tabs(["Add", "Edit", "Module defaults", "Remove"])
    with add:
        add_tab()
    with edit:
        edit_tab()
    with modules:
        modules_tab()
    with remove:
        remove_tab()
else:
    st.subheader("Module defaults")
    modules_tab()
    st.caption("Viewers read environments; admins and engineers manage them.")
