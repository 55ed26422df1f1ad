"""Importing manual test cases from CSV and XLSX (preview, all or nothing), and creating and editing them."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from openpyxl import Workbook

from core import service
from core.errors import Forbidden, InvalidInput, NotFound

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
CSV_FILE = FIXTURES / "test_cases" / "manual_cases.csv"
SHOP = FIXTURES / "openapi" / "harbor-shop.yaml"


@pytest.fixture
def shop(users: dict[str, str]) -> dict[str, str]:
    """The users, with the shop API's scenes imported."""
    service.import_openapi(SHOP.read_bytes(), SHOP.name, user=users["engineer"])
    return users


def xlsx(rows: list[list[object]]) -> bytes:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_a_csv_with_chinese_headers_previews_then_imports(shop: dict[str, str]) -> None:
    data = CSV_FILE.read_bytes()
    preview = service.preview_test_cases(data, CSV_FILE.name)
    assert preview["valid"] and preview["ignored_columns"] == ["备注"]
    assert [row["line"] for row in preview["rows"]] == [2, 3, 4, 5], "a multi-line cell is one row"
    first = preview["rows"][0]["values"]
    assert first["title"] == "下单-商品数量边界值" and first["steps"].startswith("1. 商品数量分别填写1和999\n2.")
    assert [row["values"]["priority"] for row in preview["rows"]] == ["P0", "P1", "P2", "P3"]
    assert preview["rows"][2]["values"]["scene_id"] == "POST /products/{sku}/reviews"
    assert service.list_test_cases()["total"] == 0, "a preview writes nothing"

    result = service.import_test_cases(data, CSV_FILE.name, user=shop["engineer"])
    assert result["created"] == 4
    listed = service.list_test_cases(module="Orders")
    assert listed["total"] == 2 and {item["scene"]["id"] for item in listed["items"]} == {"createOrder", "cancelOrder"}
    assert service.list_test_cases(search="rating")["items"][0]["scene"]["method"] == "POST"
    assert service.list_modules("test_cases") == ["Catalog", "Orders"]


def test_a_gbk_csv_from_a_chinese_excel_imports(shop: dict[str, str]) -> None:
    text = "标题,模块,预期结果,场景\n下单成功,订单,返回201,createOrder\n"
    result = service.import_test_cases(text.encode("gb18030"), "cases.csv", user=shop["engineer"])
    assert service.get_test_case(result["ids"][0])["module"] == "订单"


def test_an_xlsx_with_a_bad_row_shows_errors_and_imports_nothing(shop: dict[str, str]) -> None:
    data = xlsx([
        ["Title", "Module", "Steps", "Expected result", "Priority", "Scene ID"],
        ["Place an order", "Orders", "1. Post a valid order", "201 and an order id", "P1", "createOrder"],
        [None, "Orders", "1. Post", "201", "P1", None],
        ["Cancel", "Orders", "1. Cancel", "", "P9", "cancelOrderz"],
        [None, None, None, None, None, None],
        ["Numbers as cells", 42, "1. Post", 201, 1, None],
    ])
    preview = service.preview_test_cases(data, "cases.xlsx")
    assert not preview["valid"]
    errors = {row["line"]: row["errors"] for row in preview["rows"]}
    assert errors[2] == [] and errors[6] == []
    assert errors[3] == ["The title is empty."]
    assert errors[4] == ["The expected result is empty: the workflow derives its assertions from it.",
                         "Priority 'P9' is not one of P0, P1, P2, P3.",
                         "No scene with id 'cancelOrderz'; import its OpenAPI document first or leave it empty."]
    assert preview["rows"][-1]["values"]["module"] == "42" and preview["rows"][-1]["values"]["priority"] == "P1"
    with pytest.raises(InvalidInput, match=r"Nothing was imported: 2 of 4 rows have errors\. row 3: The title"):
        service.import_test_cases(data, "cases.xlsx", user=shop["engineer"])
    assert service.list_test_cases()["total"] == 0


@pytest.mark.parametrize(("data", "name", "message"), [
    (b"", "cases.csv", "cases.csv is empty"),
    (b"module,steps\nOrders,1. Post\n", "cases.csv", "has no title column"),
    (b"title,expected result\n", "cases.csv", "has a header but no test cases"),
    (b"PK\x03\x04 not really", "cases.xlsx", "cases.xlsx is not a valid XLSX file"),
    (b"title\nx\n", "cases.pdf", "upload a .csv or .xlsx file"),
])
def test_unreadable_files_get_a_clear_message(shop: dict[str, str], data: bytes, name: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        service.import_test_cases(data, name, user=shop["engineer"])


def test_test_cases_are_created_and_edited_in_the_app(shop: dict[str, str]) -> None:
    created = service.create_test_case({"title": " Place an order ", "module": "Orders", "steps": "1. Post",
                                        "expected_result": "201", "priority": "p0", "scene_id": "createOrder"},
                                       user=shop["engineer"])
    assert created["title"] == "Place an order" and created["priority"] == "P0"
    assert created["scene"] == {"id": "createOrder", "name": "Place an order", "method": "POST", "path": "/orders"}
    edited = service.update_test_case(created["id"], {**created, "title": "Place a big order", "scene_id": ""},
                                      user=shop["engineer"])
    assert edited["title"] == "Place a big order" and edited["scene"] is None and edited["updated_at"]
    with pytest.raises(InvalidInput, match="The title is empty. The expected result is empty"):
        service.update_test_case(created["id"], {"title": ""}, user=shop["engineer"])
    with pytest.raises(Forbidden):
        service.create_test_case({"title": "x", "expected_result": "y"}, user=shop["viewer"])
    with pytest.raises(NotFound):
        service.update_test_case(999, {"title": "x", "expected_result": "y"}, user=shop["engineer"])
    with pytest.raises(Forbidden):
        service.import_test_cases(CSV_FILE.read_bytes(), CSV_FILE.name, user=shop["viewer"])
    assert service.get_test_case(created["id"])["title"] == "Place a big order"
