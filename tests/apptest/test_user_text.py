"""User text (task names, test-case titles, scene texts from an OpenAPI document, file headers) shows as typed.

Every markdown string a page renders is checked: the pieces of ``hostile.TEXT`` that markdown
would turn into a heading, bold, an image, maths or a Streamlit directive never reach it
unescaped, and the text itself is on screen, as plain text or escaped markdown.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from streamlit.testing.v1 import AppTest

from core import service
from tests.apptest.conftest import (
    AUTOMATION_CASES,
    IMPORTS,
    LAUNCH,
    REVIEW,
    SCENES,
    TASK,
    TASKS,
    TEST_CASES,
    assert_no_exception,
    shown,
)
from tests.conftest import wait_for
from tests.support.hostile import MARKS, TEXT, openapi_document

MARKDOWN_KINDS = {"markdown", "caption", "title", "header", "subheader", "info", "warning", "error", "success",
                  "toast"}
"""Elements whose value Streamlit renders as markdown; every element's label is markdown too."""
UNESCAPED = [re.compile(r"(?<!\\)" + re.escape(mark)) for mark in MARKS]


def nodes(at: AppTest) -> Iterator[Any]:
    pending: list[Any] = [at.main, at.sidebar, *at.toast]
    while pending:
        node = pending.pop()
        yield node
        pending.extend(getattr(node, "children", {}).values())


def markdown_sources(at: AppTest) -> list[str]:
    sources = []
    for node in nodes(at):
        if getattr(node, "type", None) in MARKDOWN_KINDS:
            sources.append(str(node.value))
        if isinstance(getattr(node, "label", None), str):
            sources.append(node.label)
        if getattr(node, "type", None) == "progress":
            sources.append(node.text)
    return sources


def plain_texts(at: AppTest) -> list[str]:
    """Text Streamlit shows as it is: st.text, code, grid cells, select box options."""
    texts = []
    for node in nodes(at):
        kind = getattr(node, "type", None)
        if kind in ("text", "code"):
            texts.append(str(node.value))
        elif kind == "dataframe":
            texts.extend(str(cell) for cell in node.value.to_numpy().ravel())
        elif kind in ("selectbox", "multiselect"):
            texts.extend(str(option) for option in node.options)
    return texts


def assert_shown_as_text(at: AppTest, where: str) -> None:
    assert_no_exception(at)
    sources = markdown_sources(at)
    for source in sources:
        for mark in UNESCAPED:
            assert not mark.search(source), f"{where}: {mark.pattern!r} reaches markdown as markup in {source!r}"
    assert any(TEXT in shown(source) for source in sources) or any(TEXT in text for text in plain_texts(at)), (
        f"{where}: the user text is not on the page")


def visit(at: AppTest, page: str, **query: str) -> AppTest:
    for name in list(at.query_params):
        del at.query_params[name]
    for name, value in query.items():
        at.query_params[name] = value
    at.switch_page(page).run()
    return at


def select_first_row(at: AppTest, key: str) -> AppTest:
    at.session_state[key] = {"selection": {"rows": [0], "columns": [], "cells": []}}
    at.run()
    return at


def test_user_text_shows_as_typed_on_every_page(dashboard, users, worker) -> None:
    engineer = users["engineer"]
    at = dashboard(engineer, TASKS)  # signed in first: the task's events become toasts
    service.import_openapi(openapi_document(), "markdown.json", user=engineer)
    scene = service.list_scenes()[0]
    case = service.create_test_case({"title": TEXT, "module": f"M {TEXT}", "steps": TEXT, "expected_result": "201",
                                     "scene_id": scene["id"]}, user=engineer)
    task_id = service.start_workflow(case["id"], scene["id"], name=TEXT, user=engineer)["task_id"]
    task = wait_for(task_id, "reviewing")

    at.run()
    assert any(TEXT in shown(toast.value) for toast in at.toast)
    assert_shown_as_text(at, "tasks")
    assert_shown_as_text(visit(at, TASK), "task picker")
    assert_shown_as_text(visit(at, TASK, task=str(task_id)), "task")
    assert_shown_as_text(visit(at, REVIEW), "review queue")
    assert_shown_as_text(visit(at, REVIEW, task=str(task_id)), "review")
    assert_shown_as_text(select_first_row(visit(at, TEST_CASES), "cases_table"), "test cases")
    assert_shown_as_text(select_first_row(visit(at, SCENES), "scenes_table"), "scenes")
    assert_shown_as_text(visit(at, LAUNCH), "launch")

    visit(at, IMPORTS).file_uploader(key="openapi_upload").set_value(
        ("markdown.json", openapi_document(), "application/json")).run()
    assert_shown_as_text(at, "OpenAPI import preview")
    headers = f"title,expected result,{TEXT}\nA,ok,x\n".encode()
    at.file_uploader(key="cases_upload").set_value(("cases.csv", headers, "text/csv")).run()
    assert_shown_as_text(at, "test-case import preview")

    service.submit_review(task["thread_id"], "approved", reviewer=engineer, wait_seconds=20)
    assert wait_for(task_id, "completed")["created_case"]["name"] == TEXT
    assert_shown_as_text(visit(at, TASK, task=str(task_id)), "completed task")
    assert_shown_as_text(select_first_row(visit(at, AUTOMATION_CASES), "auto_table"), "automation cases")
