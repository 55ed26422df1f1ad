"""The dashboard in a real browser: sign in, launch, watch the row go live, edit a cell, approve, see the case.

The data grids are canvases: cells are clicked by position, moved with the arrow keys and
read through their accessible copies (data-testid="glide-cell-<column>-<row>").
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.browser.conftest import (
    ADMIN_PASSWORD,
    Server,
    cell,
    check_page,
    settle,
    sign_in,
    wait_for_cell,
    wait_for_text,
)
from tests.conftest import TEST_PASSWORD

pytestmark = pytest.mark.browser

ROW_HEIGHT = 35  # the review grid's row_height


def nav(page: Any, label: str) -> None:
    """Follows a sidebar link: an in-app page switch, never a reload."""
    page.locator("[data-testid='stSidebarNav']").get_by_role("link", name=label, exact=True).click()
    settle(page, 1.0)


def metric(page: Any, label: str) -> str:
    """The value of the visible metric tile called ``label``."""
    tile = page.locator("[data-testid='stMetric']:visible").filter(
        has=page.locator("[data-testid='stMetricLabel']", has_text=label))
    return tile.locator("[data-testid='stMetricValue']").inner_text().strip()


def test_launch_watch_review_approve(server: Server, page: Any) -> None:
    sign_in(page, server, "alice", TEST_PASSWORD)
    check_page(page, "01-tasks-empty")
    page.evaluate("window.__not_reloaded = true")

    nav(page, "Launch")
    grid = page.locator("[data-testid='stDataFrame']").first.bounding_box()
    page.mouse.click(grid["x"] + 18, grid["y"] + 34 + 17)  # the first test case's row marker
    settle(page)
    wait_for_text(page, "1 of")
    check_page(page, "02-launch")
    page.get_by_role("button", name="Launch 1 task").click()
    settle(page)
    wait_for_text(page, "Queued #1")

    nav(page, "Tasks")
    status = wait_for_cell(page, 3, 0, r"pending|processing|reviewing")
    check_page(page, "03-tasks-live")
    if status != "reviewing":  # the fragment refreshes the row while the page stays as it is
        wait_for_cell(page, 3, 0, r"^reviewing$")
    assert cell(page, 4, 0) == "80" and "Human review" in cell(page, 5, 0)
    assert page.evaluate("window.__not_reloaded === true"), "the page reloaded"
    check_page(page, "04-tasks-reviewing")

    nav(page, "Review")
    wait_for_text(page, "1 task waiting")
    check_page(page, "05-review-queue")
    queue = page.locator("[data-testid='stDataFrame']").first.bounding_box()
    page.mouse.click(queue["x"] + 50, queue["y"] + 36 + 18)  # the "Review #1" button of the first row
    settle(page, 1.5)
    wait_for_text(page, "edit any cell")

    assert wait_for_cell(page, 1, 0, "✓ valid", timeout=10)
    settle(page)  # no run in flight: a rerun arriving mid-edit can close the cell editor and drop the edit
    box = page.locator("[data-testid='stDataFrame']").first.bounding_box()
    page.mouse.click(box["x"] + 80, box["y"] + ROW_HEIGHT + ROW_HEIGHT // 2)  # row 0, "Row" column
    for _ in range(6):  # Row, Check, Kind, Keyword, Field, Expected, then the body's first field: username
        page.keyboard.press("ArrowRight")
    page.keyboard.press("Enter")
    page.locator(".gdg-input").fill("ab")
    page.keyboard.press("Enter")
    settle(page, 1.0)
    assert wait_for_cell(page, 6, 0, r"^ab$", timeout=10)
    check = wait_for_cell(page, 1, 0, r"^✗ .*minLength at /username", timeout=15)
    assert "should be accepted" in check
    wait_for_text(page, "1 edited")
    check_page(page, "06-review-edited")

    page.get_by_role("button", name="Approve").click()
    settle(page)
    dialog = page.get_by_role("dialog")
    assert "with your corrections" in dialog.inner_text()
    check_page(page, "07-review-confirm")
    dialog.get_by_role("button", name="Approve").click()
    settle(page)
    wait_for_text(page, "created · ", timeout=60)
    body = page.inner_text("body")
    assert re.search(r"Automation case UC\d+ created", body) and "alice approved round 1" in body
    check_page(page, "08-review-approved")

    page.get_by_role("link", name="Open the task").click()
    settle(page, 1.0)
    wait_for_text(page, "Completed at")
    check_page(page, "09-task-completed")
    page.get_by_role("tab", name="Automation case").click()
    settle(page)
    assert re.search(r"Automation case UC\d+", page.inner_text("body"))
    check_page(page, "10-task-case")

    nav(page, "Tasks")
    assert wait_for_cell(page, 3, 0, r"^completed$", timeout=10)
    assert cell(page, 4, 0) == "100"
    check_page(page, "11-tasks-completed")

    nav(page, "Metrics")
    wait_for_text(page, "Success rate")
    assert "100.0%" in page.inner_text("body")
    check_page(page, "12-metrics")

    for label, address, name in (("Test cases", "test_cases", "13-library-test-cases"),
                                 ("Scenes", "scenes", "14-library-scenes"),
                                 ("Automation cases", "automation_cases", "15-library-cases"),
                                 ("Import", "imports", "16-import")):
        nav(page, label)
        assert page.url == f"{server.url}/{address}", "a page's address is its file name"
        assert page.get_by_role("heading", name=label, exact=True).count() == 1, f"{label}: no page title"
        check_page(page, name)
    assert page.evaluate("window.__not_reloaded === true")


def test_admin_settings_and_a_viewer(server: Server, page: Any) -> None:
    page.goto(server.url + "/")
    settle(page)
    check_page(page, "20-sign-in")
    page.get_by_label("Username").fill("admin")
    page.get_by_label("Password", exact=True).fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    settle(page)
    wait_for_text(page, "Wrong username or password.")

    sign_in(page, server, "admin", ADMIN_PASSWORD)
    nav(page, "Settings")
    wait_for_text(page, "Add a user")
    check_page(page, "21-settings-users")
    for tab, name in (("AI provider", "22-settings-ai"), ("Workers", "23-settings-workers"),
                      ("Retention", "24-settings-retention")):
        page.get_by_role("tab", name=tab).click()
        settle(page)
        check_page(page, name)
    page.get_by_role("button", name="Preview (dry run)").click()
    settle(page)
    wait_for_text(page, "would remove")

    page.get_by_role("tab", name="Workers").click()
    settle(page)
    assert metric(page, "Scheduler in this server") == "running"  # RUN_SCHEDULER=true: this server's own worker
    assert metric(page, "Workers alive") == "1"

    with page.expect_navigation(timeout=30_000):  # to /auth/signout and back: a goto meanwhile is aborted
        page.get_by_role("button", name="Sign out").click()
    settle(page)
    sign_in(page, server, "victor", TEST_PASSWORD)
    links = page.locator("[data-testid='stSidebarNav']").inner_text()
    assert "Launch" not in links and "Settings" not in links and "Tasks" in links
    nav(page, "Review")
    check_page(page, "25-viewer-review")


def test_a_link_opened_signed_out_lands_on_its_page_after_sign_in(server: Server, page: Any) -> None:
    page.goto(server.url + "/metrics?range=30+days")
    settle(page)
    assert page.get_by_role("button", name="Sign in").count() == 1
    page.get_by_label("Username").fill("victor")
    page.get_by_label("Password", exact=True).fill(TEST_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    settle(page, 1.0)
    wait_for_text(page, "Success rate")
    assert "/metrics" in page.url
    check_page(page, "26-metrics-shared-link")


CHINESE_PAGES = (("任务", "tasks"), ("启动", "launch"), ("评审", "review"), ("测试用例", "test_cases"),
                 ("场景", "scenes"), ("自动化用例", "automation_cases"), ("导入", "imports"), ("环境", "environments"),
                 ("覆盖率", "coverage"), ("指标", "metrics"))


def choose_language(page: Any, name: str) -> None:
    page.locator("[data-testid='stSidebar'] [data-testid='stSelectbox']").first.click()
    page.get_by_role("option", name=name, exact=True).click()
    settle(page, 1.0)


def test_chinese_from_the_browser_then_chosen_in_the_sidebar_and_kept(server: Server, browser: Any) -> None:
    """A Chinese browser gets Chinese before and after sign-in; an English browser's choice is kept with the user."""
    chinese = browser.new_context(viewport={"width": 1440, "height": 1100}, locale="zh-CN",
                                  timezone_id="Asia/Shanghai")
    tab = chinese.new_page()
    tab.goto(server.url + "/")
    settle(tab)
    assert tab.get_by_role("button", name="登录").count() == 1
    tab.get_by_label("用户名").fill("victor")
    tab.get_by_label("密码", exact=True).fill(TEST_PASSWORD)
    tab.get_by_role("button", name="登录").click()
    settle(tab, 1.0)
    check_page(tab, "30-zh-signed-in")
    for label, address in CHINESE_PAGES:
        if address in ("launch", "imports"):  # not a viewer's
            continue
        nav(tab, label)
        assert tab.url == f"{server.url}/" + ("" if address == "tasks" else address)
        assert tab.get_by_role("heading", name=label, exact=True).count() == 1, f"{label}: no Chinese page title"
        check_page(tab, f"30-zh-{address}")
    nav(tab, "任务")
    tab.get_by_placeholder("输入任务编号后回车").fill("1")
    tab.keyboard.press("Enter")
    settle(tab, 1.0)
    tab.get_by_role("tab", name="事件日志").click()
    settle(tab)
    wait_for_cell(tab, 2, 1, "工作流已启动", timeout=10, grid=tab.locator("[data-testid='stDataFrame']").count() - 1)
    log = " ".join(tab.locator("[data-testid^='glide-cell-']").all_inner_texts())  # the grids are canvases
    assert "由 alice 加入队列" in log and "alice 第 1 轮：通过" in log and "步骤完成" in log, log[:2000]
    check_page(tab, "31-zh-task-events")
    chinese.close()

    english = browser.new_context(viewport={"width": 1440, "height": 1100}, locale="en-US",
                                  timezone_id="Europe/Berlin")
    tab = english.new_page()
    sign_in(tab, server, "admin", ADMIN_PASSWORD)
    choose_language(tab, "简体中文")
    assert tab.get_by_role("heading", name="任务", exact=True).count() == 1
    nav(tab, "设置")
    wait_for_text(tab, "添加用户")
    check_page(tab, "32-zh-settings")
    tab.close()
    tab = english.new_page()  # a new session of the same English browser: the user's choice is kept
    sign_in(tab, server, "admin", ADMIN_PASSWORD)
    assert tab.get_by_role("heading", name="任务", exact=True).count() == 1
    choose_language(tab, "English")
    assert tab.get_by_role("heading", name="Tasks", exact=True).count() == 1
    english.close()
