"""English and Chinese: the browser's language first, the user's choice kept with the user, every page in Chinese."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from core import service
from tests.apptest.conftest import (
    APP,
    AUTOMATION_CASES,
    ENVIRONMENTS,
    IMPORTS,
    LAUNCH,
    METRICS,
    REVIEW,
    SCENES,
    SETTINGS,
    TASK,
    TASKS,
    TEST_CASES,
    TIMEOUT,
    assert_no_exception,
    sign_in,
    text,
)

CHINESE_TITLES = {
    TASKS: "任务", LAUNCH: "启动", REVIEW: "评审", TEST_CASES: "测试用例", SCENES: "场景",
    AUTOMATION_CASES: "自动化用例", IMPORTS: "导入", ENVIRONMENTS: "环境", METRICS: "指标", SETTINGS: "设置",
    TASK: "任务",
}


def open_in(locale: str | None, username: str | None, page: str | None = None, **query: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.context["locale"] = locale
    at.context["timezone"] = "Asia/Shanghai"
    for name, value in query.items():
        at.query_params[name] = value
    if username is not None:
        sign_in(at, username)
    at.run()
    if page is not None:
        at.switch_page(page).run()
    assert_no_exception(at)
    return at


def sidebar_links(at: AppTest) -> list[str]:
    return [str(link.label) for link in at.sidebar.get("page_link")]


def test_the_browser_language_is_the_first_default(dashboard, users) -> None:
    signed_out = open_in("zh-CN", None)
    assert "登录" in [button.label for button in signed_out.get("form_submit_button")]
    assert "用户名" in [field.label for field in signed_out.text_input]
    english = open_in("en-GB", users["viewer"])
    assert english.title[0].value == "Tasks"
    chinese = open_in("zh-CN", users["viewer"])
    assert chinese.title[0].value == "任务"
    assert any(label.startswith("待评审") for label in sidebar_links(chinese))


def test_the_choice_in_the_sidebar_is_kept_with_the_user(dashboard, users) -> None:
    at = open_in("en-US", users["engineer"])
    at.sidebar.selectbox(key="pref_language").select("zh_CN").run()
    assert_no_exception(at)
    assert at.title[0].value == "任务"
    assert service.user_preferences(users["engineer"])["locale"] == "zh_CN"
    again = open_in("en-US", users["engineer"])  # a new session, an English browser: the user's choice wins
    assert again.title[0].value == "任务"
    zones = again.sidebar.selectbox(key="pref_time_zone")
    zones.select("America/New_York").run()
    assert service.user_preferences(users["engineer"]) == {"locale": "zh_CN", "time_zone": "America/New_York"}


def test_a_bad_choice_is_refused_and_nothing_is_written(dashboard, users) -> None:
    with pytest.raises(service.InvalidInput, match="Unknown time zone"):
        service.set_user_preferences(users["engineer"], locale="zh_CN", time_zone="Mars/Olympus")
    with pytest.raises(service.InvalidInput, match="Unknown language"):
        service.set_user_preferences(users["engineer"], locale="fr", time_zone=None)
    assert service.user_preferences(users["engineer"]) == {"locale": None, "time_zone": None}


@pytest.mark.parametrize("page", list(CHINESE_TITLES))
def test_every_page_speaks_chinese(dashboard, demo, users, page: str) -> None:
    query = {"task": "1"} if page == TASK else {}
    if page == TASK:
        from tests.support.cases import first_case

        case = first_case()
        service.start_workflow(case["id"], case["scene_id"], user=users["engineer"])
    at = open_in("zh-CN", users["admin"], page, **query)
    shown = text(at)
    assert CHINESE_TITLES[page] in shown, shown[:500]
    assert not english_left(at), english_left(at)


def english_left(at: AppTest) -> list[str]:
    """Labels of widgets and headers still in English (user data and product names aside)."""
    labels = [str(w.label) for kind in ("button", "selectbox", "multiselect", "text_input", "text_area", "toggle",
                                        "checkbox", "date_input", "number_input", "slider", "select_slider",
                                        "tabs", "expander", "radio", "segmented_control", "download_button")
              for w in at.get(kind) if getattr(w, "label", None)]
    return [label for label in labels if label.isascii() and any(c.isalpha() for c in label)
            and label not in ALLOWED_ASCII]


ALLOWED_ASCII = {"ID", "JSON Schema", "OpenAPI", "Webhooks", "API"}
