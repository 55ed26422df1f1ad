"""Hostile files: OpenAPI documents that explode, loop or cannot run, spreadsheets with entities, ambiguous CSV.

Each is refused at import with the reason, in bounded time and memory, and writes nothing.
"""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

import pytest
from openpyxl import Workbook

from core import service
from core.errors import InvalidInput
from core.library.importers import documents, openapi, uploads
from tests.support.db import row_counts

BILLION_LAUGHS = """openapi: "3.0.3"
info: {title: Bomb, version: "1"}
x-a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
x-b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
x-c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
x-d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
x-e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
x-f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
x-g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
x-h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
x-i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
paths: {}
"""
SMALL_LAUGHS = "\n".join(BILLION_LAUGHS.splitlines()[:8] + ["paths: {}", ""])


def doc(paths: Any = None, components: dict[str, Any] | None = None, **top: Any) -> dict[str, Any]:
    content: dict[str, Any] = {"openapi": "3.0.3", "info": {"title": "Hostile", "version": "1"},
                               "paths": {"/x": {"get": {"responses": {"200": {"description": "ok"}}}}}
                               if paths is None else paths, **top}
    if components:
        content["components"] = components
    return content


def body(schema: dict[str, Any]) -> dict[str, Any]:
    return doc({"/x": {"post": {"operationId": "make", "responses": {"201": {"description": "made"}},
                                "requestBody": {"content": {"application/json": {"schema": schema}}}}}})


def as_json(content: dict[str, Any]) -> bytes:
    return json.dumps(content).encode()


PARAMETER_SELF = doc({"/x": {"get": {"parameters": [{"$ref": "#/components/parameters/P"}],
                                     "responses": {"200": {"description": "ok"}}}}},
                     {"parameters": {"P": {"$ref": "#/components/parameters/P"}}})
HOSTILE_DOCUMENTS: list[tuple[str, bytes, str]] = [
    ("billion_laughs.yaml", BILLION_LAUGHS.encode(), "YAML aliases .* expand to 490,329,036 more values"),
    ("small_laughs.yaml", SMALL_LAUGHS.encode(), "expand to .* more values, past the 100,000 allowed"),
    ("loop.yaml", b'openapi: 3.0.3\ninfo: {title: T, version: "1"}\nx: &a [*a]\npaths: {}\n', "would be infinite"),
    ("ref_self.json", as_json(body({"$ref": "#/components/schemas/S"}) | {
        "components": {"schemas": {"S": {"$ref": "#/components/schemas/S"}}}}), "leads back to itself"),
    ("parameter_self.json", as_json(PARAMETER_SELF), "'#/components/parameters/P' leads back to itself"),
    ("paths_null.json", as_json(doc(None) | {"paths": None}), "'paths' must be an object of path items, not null"),
    ("nameless.json", as_json(doc({"/x": {"get": {"parameters": [{"in": "query"}],
                                                  "responses": {"200": {"description": "ok"}}}}})),
     "GET /x: parameter 1 has no 'name'"),
    ("deep.json", b'{"openapi": "3.0.3", "x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", "nested more than 100"),
    ("deep.yaml", ("openapi: 3.0.3\nx: " + "[" * 150 + "]" * 150 + "\n").encode(), "nested more than 100"),
    ("digits.json", b'{"openapi": "3.0.3", "x": ' + b"9" * 5000 + b"}", "Exceeds the limit"),
    ("int4000.json", as_json(body({"type": "integer", "maximum": 10**4000 - 1})), "outside the 64-bit range"),
    ("nan.json", as_json(body({"type": "number", "maximum": float("nan")})), "NaN is not a JSON number"),
    ("inf.json", b'{"openapi": "3.0.3", "x": 1e400}', "the number inf, which JSON cannot hold"),
    ("nan.yaml", b'openapi: 3.0.3\ninfo: {title: T, version: "1"}\nx: .nan\npaths: {}\n', "the number nan"),
    ("regex.json", as_json(body({"type": "object", "properties": {"code": {"type": "string", "pattern": "[A-"}}})),
     "POST /x: the request body has a schema the workflow cannot use: '\\[A-' is not a 'regex' "
     "\\(at properties/code/pattern\\)"),
    ("duplicate.yaml", b'openapi: 3.0.3\ninfo: {title: T, version: "1"}\npaths:\n  /x:\n    get:\n'
                       b'      responses: {"200": {description: ok}}\n  /x:\n    post:\n'
                       b'      responses: {"200": {description: ok}}\n',
     "has the key '/x' twice in one mapping \\(line 7\\)"),
    ("duplicate.json", b'{"openapi": "3.0.3", "paths": {}, "paths": {}}', "has the key 'paths' twice"),
    ("nul.json", as_json(doc(info={"title": "T\x00", "version": "1"})), "NUL character .* \\(at info › title\\)"),
    ("huge.json", b" " * (uploads.MAX_UPLOAD_BYTES + 1), "import files of at most 10 MiB"),
]


@pytest.mark.parametrize(("name", "data", "message"), HOSTILE_DOCUMENTS, ids=[item[0] for item in HOSTILE_DOCUMENTS])
def test_hostile_documents_are_parsed_within_bounds_and_refused(name: str, data: bytes, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        openapi.scenes_of(documents.check(documents.parse(*uploads.check(data, name))))


def test_hostile_documents_write_nothing_even_in_a_dry_run(users: dict[str, str]) -> None:
    before = row_counts()
    for name, data, message in HOSTILE_DOCUMENTS:
        for dry_run in (True, False):
            with pytest.raises(InvalidInput, match=message):
                service.import_openapi(data, name, user=users["engineer"], dry_run=dry_run)
    assert row_counts() == before


def test_yaml_anchors_and_merge_keys_of_ordinary_documents_still_work(users: dict[str, str]) -> None:
    shared = (b'openapi: 3.0.3\ninfo: {title: Anchors, version: "1"}\n'
              b'x-errors: &errors\n  "400": {description: bad}\n  "500": {description: down}\n'
              b'paths:\n  /a:\n    get:\n      operationId: getA\n      responses:\n        <<: *errors\n'
              b'        "200": {description: ok}\n        "400": {description: overridden}\n'
              b'  /b:\n    get:\n      operationId: getB\n      responses: *errors\n')
    assert service.import_openapi(shared, "anchors.yaml", user=users["engineer"])["added"] == ["getA", "getB"]
    responses = service.get_scene("getA")["responses"]
    assert responses["400"]["description"] == "overridden" and set(responses) == {"200", "400", "500"}


def workbook_with(part: str, declaration: str, cell: str | None = None) -> bytes:
    """An XLSX whose ``part`` starts with an XML ``declaration``; ``cell`` replaces the first data cell."""
    book = Workbook()
    book.active.append(["title", "expected result"])
    book.active.append(["Sign up", "201"])
    plain = io.BytesIO()
    book.save(plain)
    source, patched = zipfile.ZipFile(io.BytesIO(plain.getvalue())), io.BytesIO()
    with zipfile.ZipFile(patched, "w") as target:
        for name in source.namelist():
            data = source.read(name).decode()
            if name == part:
                data = data.replace("?>", "?>" + declaration, 1) if data.startswith("<?xml") else declaration + data
                data = data.replace("<t>Sign up</t>", f"<t>{cell}</t>") if cell else data
            target.writestr(name, data)
    return patched.getvalue()


LOL = ('<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
       '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>')
XXE = '<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/hostname">]>'


def test_spreadsheets_declaring_entities_are_refused_as_invalid_xlsx(users: dict[str, str]) -> None:
    before = row_counts()
    for data in (workbook_with("xl/worksheets/sheet1.xml", LOL, "&lol3;"),
                 workbook_with("xl/worksheets/sheet1.xml", XXE, "&xxe;"),
                 workbook_with("xl/workbook.xml", LOL), workbook_with("[Content_Types].xml", XXE)):
        with pytest.raises(InvalidInput, match="cases.xlsx is not a valid XLSX file"):
            service.preview_test_cases(data, "cases.xlsx")
        with pytest.raises(InvalidInput, match="cases.xlsx is not a valid XLSX file"):
            service.import_test_cases(data, "cases.xlsx", user=users["engineer"])
    assert row_counts() == before
    assert service.import_test_cases(workbook_with("xl/workbook.xml", ""), "ok.xlsx",
                                     user=users["engineer"])["created"] == 1, "the same workbook, untouched, imports"


CSV_FILES = [
    (",", "title,steps,expected result\nPay;refund,1. Pay; 2. Refund,200; then 201\n"),
    (";", "title;steps;expected result\n\"Pay, refund\";1. Pay, 2. Refund;200\n"),
    ("\t", "title\tsteps\texpected result\nPay, then; refund\t1. Pay\t200\n"),
]


def test_the_csv_delimiter_is_the_one_that_yields_the_header(users: dict[str, str]) -> None:
    for delimiter, text in CSV_FILES:
        preview = service.preview_test_cases(text.encode(), "cases.csv")
        assert preview["valid"] and preview["ignored_columns"] == [], preview
        row = preview["rows"][0]["values"]
        expected = text.splitlines()[1].replace('"', "").split(delimiter)
        assert [row["title"], row["steps"], row["expected_result"]] == expected


def test_integer_limits_past_two_to_the_53_are_dropped_not_refused(users: dict[str, str]) -> None:
    """Java and Go tooling bound integers by the int64/uint64 range: the document imports, the limit goes."""
    schema = {"type": "object", "properties": {
        "count": {"type": "integer", "minimum": -(2**63), "maximum": 2**64 - 1},
        "size": {"type": "integer", "maximum": 1e300}, "small": {"type": "integer", "minimum": 1, "maximum": 10}}}
    service.import_openapi(as_json(body(schema)), "limits.json", user=users["engineer"])
    imported = service.get_scene("make")["request_schema"]["properties"]
    assert "minimum" not in imported["count"] and "maximum" not in imported["count"]
    assert "maximum" not in imported["size"] and (imported["small"]["minimum"], imported["small"]["maximum"]) == (1, 10)
