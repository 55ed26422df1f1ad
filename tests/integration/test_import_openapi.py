"""Importing OpenAPI documents: every operation a standalone 2020-12 scene; re-imports; broken documents."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator
from sqlalchemy import func, select

from core import service
from core.database import session_scope
from core.errors import Conflict, Forbidden, InvalidInput
from core.generation.offline.provider import OfflineProvider
from core.library.automation_cases import scene_input
from core.library.importers import documents, openapi
from core.schema.validation import validate_rows
from db.models import Scene

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "openapi"
SHOP = FIXTURES / "harbor-shop.yaml"
RAIL = FIXTURES / "lumen-rail.json"


def load(path: Path) -> dict[str, Any]:
    return yaml.safe_load(path.read_text(encoding="utf-8")) if path.suffix == ".yaml" else json.loads(path.read_text())


def import_file(path: Path, user: str, **options: Any) -> dict[str, Any]:
    return service.import_openapi(path.read_bytes(), path.name, user=user, **options)


def import_content(content: dict[str, Any], user: str, name: str = "api.json") -> dict[str, Any]:
    return service.import_openapi(json.dumps(content).encode(), name, user=user)


def scene_count() -> int:
    with session_scope() as session:
        return session.scalar(select(func.count()).select_from(Scene)) or 0


def refs_in(node: Any) -> list[str]:
    if isinstance(node, list):
        return [ref for item in node for ref in refs_in(item)]
    if not isinstance(node, dict):
        return []
    own = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
    return own + [ref for value in node.values() for ref in refs_in(value)]


def test_both_documents_become_standalone_scenes(users: dict[str, str]) -> None:
    shop = import_file(SHOP, users["engineer"])
    rail = import_file(RAIL, users["engineer"])
    assert shop["version"] == "3.0.3" and rail["version"] == "3.1.0"
    assert shop["added"] == ["listOrders", "createOrder", "cancelOrder", "createCategory", "updateCustomer",
                             "POST /products/{sku}/reviews"]
    assert rail["added"] == ["searchTrips", "createBooking", "cancelBooking", "updateBooking"]
    scenes = {item["id"]: service.get_scene(item["id"]) for item in service.list_scenes()}
    for scene in scenes.values():
        schemas = [scene["request_schema"], *[p["schema"] for p in scene["parameters"]],
                   *[r["schema"] for r in scene["responses"].values() if "schema" in r]]
        for schema in schemas:
            if schema:
                Draft202012Validator.check_schema(schema)
                assert all(ref.startswith("#/$defs/") for ref in refs_in(schema)), scene["id"]
        assert "nullable" not in json.dumps(scene["request_schema"])

    order = scenes["createOrder"]
    assert (order["method"], order["path"], order["module"], order["source"]) == \
        ("POST", "/orders", "Orders", "Harbor Shop API")
    body = order["request_schema"]
    assert body["title"] == "NewOrder" and body["required"] == ["customer_id", "currency", "items", "shipping_address"]
    address = body["properties"]["shipping_address"]
    assert address["properties"]["geo"]["required"] == ["lat", "lng"], "the $ref chain NewOrder→Address→GeoPoint"
    line = body["properties"]["items"]["items"]["properties"]
    assert line["sku"]["pattern"] == "^SKU-[0-9]{6}$"
    assert line["unit_price"] == {"type": "number", "exclusiveMinimum": 0, "maximum": 100000}
    assert body["properties"]["coupon_code"]["type"] == ["string", "null"]
    assert body["properties"]["currency"]["enum"] == ["CNY", "USD", "EUR"]
    assert set(order["responses"]) == {"201", "400", "409"}
    created = order["responses"]["201"]["schema"]
    assert "allOf" not in created and {"order_id", "status", "customer_id"} <= set(created["required"])
    assert order["responses"]["400"]["schema"]["required"] == ["code", "message"]
    fields = {row["field"]: row for row in order["request_fields"]}
    assert fields["shipping_address.geo.lat"] == {"field": "shipping_address.geo.lat", "type": "number",
                                                  "required": True, "constraints": "≥ -90; ≤ 90", "description": ""}
    assert fields["items[].quantity"]["constraints"] == "≥ 1; ≤ 999"

    listing = scenes["listOrders"]
    assert listing["request_schema"] == {}
    assert [(p["name"], p["in"], p["required"]) for p in listing["parameters"]] == \
        [("page", "query", True), ("page_size", "query", False), ("status", "query", False)]
    assert scenes["cancelOrder"]["parameters"][0]["example"] == "ORD-20260001"

    customer = scenes["updateCustomer"]
    assert customer["request_schema"]["required"] == ["email", "display_name"], "allOf merged into one object"
    assert "password" in customer["request_schema"]["properties"]
    assert "password" not in customer["responses"]["200"]["schema"]["properties"], "writeOnly stays out of responses"
    assert customer["request_schema"]["properties"]["birthday"]["type"] == ["string", "null"]

    booking = scenes["createBooking"]
    assert booking["path"] == "/trips/{tripId}/bookings" and booking["module"] == "Bookings"
    assert set(booking["responses"]) == {"201", "400", "404", "409", "422"}
    assert booking["responses"]["422"]["schema"]["required"] == ["type", "title", "status", "errors"]
    request = booking["request_schema"]
    assert request["properties"]["channel"] == {"const": "web"}
    assert request["properties"]["price_limit"]["properties"]["currency"]["enum"] == ["CNY", "EUR", "GBP"]
    passenger = request["properties"]["passengers"]["items"]["properties"]
    assert passenger["seat_preference"] == {"type": ["string", "null"], "enum": ["window", "aisle", None]}
    assert [(p["name"], p["in"]) for p in booking["parameters"]] == [("tripId", "path"), ("hold_minutes", "query")]
    assert scenes["updateBooking"]["request_schema"]["minProperties"] == 1, "merge-patch+json is JSON too"
    assert scenes["cancelBooking"]["responses"]["204"] == {"description": "Cancelled.", "fields": []}


def test_a_recursive_schema_stays_finite_and_validates_whole_trees(users: dict[str, str]) -> None:
    import_file(SHOP, users["engineer"])
    schema = service.get_scene("createCategory")["request_schema"]
    assert schema["properties"]["children"]["items"] == {"$ref": "#/$defs/Category"}
    assert "id" not in schema["properties"] and "id" not in schema["$defs"]["Category"]["properties"], "readOnly"
    validator = Draft202012Validator(schema)
    tree = {"name": "Audio", "slug": "audio", "children": [
        {"name": "Headphones", "slug": "headphones", "children": [{"name": "In-ear", "slug": "in-ear"}]}]}
    assert validator.is_valid(tree)
    broken = copy.deepcopy(tree)
    broken["children"][0]["children"][0]["slug"] = "In Ear"
    assert [list(error.absolute_path) for error in validator.iter_errors(broken)] == \
        [["children", 0, "children", 0, "slug"]]
    rows = {row["field"]: row for row in service.get_scene("createCategory")["request_fields"]}
    assert rows["children[]"]["type"] == "→ Category (defined below)" and "<Category>.slug" in rows


def test_reimport_updates_in_place_and_reports_the_difference(users: dict[str, str]) -> None:
    first = import_file(SHOP, users["engineer"])
    again = import_file(SHOP, users["engineer"])
    assert (again["added"], again["changed"], again["removed"], again["unchanged"]) == ([], [], [], 6)
    case = service.create_test_case({"title": "Cancel with a reason", "expected_result": "200",
                                     "scene_id": "cancelOrder"}, user=users["engineer"])

    content = load(SHOP)
    del content["paths"]["/orders/{orderId}/cancellation"]
    content["components"]["schemas"]["OrderLine"]["properties"]["quantity"]["maximum"] = 99
    content["paths"]["/refunds"] = {"post": {"operationId": "requestRefund", "responses": {"202": {
        "description": "Accepted."}}}}
    changed = import_content(content, users["engineer"], "harbor-shop-v2.json")
    assert changed["added"] == ["requestRefund"]
    assert changed["changed"] == ["listOrders", "createOrder"], "both show order lines"
    assert changed["removed"] == ["cancelOrder"] and changed["unlinked_test_cases"] == 1
    assert service.get_test_case(case["id"])["scene_id"] is None
    quantity = service.get_scene("createOrder")["request_schema"]["properties"]["items"]["items"]["properties"]
    assert quantity["quantity"]["maximum"] == 99
    assert scene_count() == len(first["added"]), "one scene removed, one added"


def test_a_dry_run_reports_without_writing(users: dict[str, str]) -> None:
    report = import_file(RAIL, users["engineer"], dry_run=True)
    assert report["dry_run"] and len(report["added"]) == 4
    assert scene_count() == 0


def test_module_option_and_permissions(users: dict[str, str]) -> None:
    with pytest.raises(Forbidden, match="viewer"):
        import_file(RAIL, users["viewer"])
    import_file(RAIL, users["engineer"], module="Rail")
    assert {scene["module"] for scene in service.list_scenes()} == {"Rail"}
    assert service.list_modules("scenes") == ["Rail"]


def test_an_operation_id_owned_by_another_source_is_a_conflict(demo: dict[str, Any], users: dict[str, str]) -> None:
    content = load(RAIL)
    content["paths"]["/trips"]["get"]["operationId"] = "SC001"
    before = scene_count()
    with pytest.raises(Conflict, match="Scene 'SC001' already exists, imported from the document 'CaseFlow demo'"):
        import_content(content, users["engineer"])
    assert scene_count() == before


def _broken_documents() -> list[Any]:
    shop = load(SHOP)

    def changed(edit: Any) -> dict[str, Any]:
        content = copy.deepcopy(shop)
        edit(content)
        return content

    missing_ref = changed(lambda c: c["components"]["schemas"]["Address"]["properties"]["geo"].update(
        {"$ref": "#/components/schemas/Geo"}))
    missing_body_ref = changed(lambda c: c["paths"]["/orders"]["post"]["requestBody"]["content"][
        "application/json"]["schema"].update({"$ref": "#/components/schemas/Nope"}))
    no_responses = changed(lambda c: c["paths"]["/orders"]["post"].pop("responses"))
    duplicate = changed(lambda c: c["paths"]["/orders"]["get"].update({"operationId": "createOrder"}))
    clashing = changed(lambda c: c["paths"]["/orders"]["get"].update({"operationId": "create Order"}) or
                       c["paths"]["/orders"]["post"].update({"operationId": "create_Order"}))
    external = changed(lambda c: c["components"]["schemas"].update({"Sku": {"$ref": "common.yaml#/Sku"}}))
    layers = {f"L{n}": {"type": "object", "properties": {side: {"$ref": f"#/components/schemas/L{n + 1}"}
                                                         for side in ("left", "right")}} for n in range(14)}
    exploding = changed(lambda c: c["components"]["schemas"].update({**layers, "L14": {"type": "string"},
                                                                     "NewOrder": {"$ref": "#/components/schemas/L0"}}))
    return [
        pytest.param(b"openapi: 3.0.3\ninfo: [unclosed", "api.yaml", "is not valid YAML", id="bad-yaml"),
        pytest.param(b'{"openapi": "3.1.0",', "api.json", "is not valid JSON", id="bad-json"),
        pytest.param(b"- just\n- a list\n", "api.yaml", "top level must be an object", id="not-an-object"),
        pytest.param(json.dumps({"swagger": "1.2", "info": {}, "paths": {}}).encode(), "api.json",
                     "Unsupported Swagger version '1.2'", id="old-swagger"),
        pytest.param(json.dumps({**shop, "openapi": "4.0.0"}).encode(), "api.json", "Unsupported OpenAPI version",
                     id="version"),
        pytest.param(json.dumps(missing_ref).encode(), "api.json", "'#/components/schemas/Geo'", id="missing-ref"),
        pytest.param(json.dumps(missing_body_ref).encode(), "api.json", "'#/components/schemas/Nope' points to nothing",
                     id="missing-body-ref"),
        pytest.param(json.dumps(no_responses).encode(), "api.json", "at paths//orders/post: 'responses' is a required",
                     id="invalid"),
        pytest.param(json.dumps(duplicate).encode(), "api.json", "Operation ID 'createOrder'", id="duplicate-id"),
        pytest.param(json.dumps(clashing).encode(), "api.json", "Two operations get the scene id 'create_Order'",
                     id="clashing-ids"),
        pytest.param(json.dumps(external).encode(), "api.json", "points outside the document", id="external-ref"),
        pytest.param(json.dumps({**shop, "paths": {}}).encode(), "api.json", "no operations", id="no-operations"),
        pytest.param(json.dumps(exploding).encode(), "api.json", "GET /orders: A schema grows past 5000", id="too-big"),
    ]


@pytest.mark.parametrize(("data", "name", "message"), _broken_documents())
def test_a_broken_document_imports_nothing(users: dict[str, str], data: bytes, name: str, message: str) -> None:
    import_file(RAIL, users["engineer"])
    before = {scene["id"]: service.get_scene(scene["id"]) for scene in service.list_scenes()}
    with pytest.raises(InvalidInput) as raised:
        service.import_openapi(data, name, user=users["engineer"])
    assert message in raised.value.message
    assert {scene["id"]: service.get_scene(scene["id"]) for scene in service.list_scenes()} == before


def _imported_scenes() -> list[Any]:
    params = []
    for path in (SHOP, RAIL):
        document = documents.check(documents.parse(path.read_bytes(), path.name))
        for spec in openapi.scenes_of(document):
            params.append(pytest.param(spec, id=spec.id))
    return params


@pytest.mark.parametrize("spec", _imported_scenes())
def test_the_offline_provider_plans_valid_rows_for_every_imported_scene(spec: openapi.SceneSpec) -> None:
    scene = scene_input(Scene(id=spec.id, name=spec.name, method=spec.method, path=spec.path,
                              request_schema=spec.request_schema, responses=spec.responses))
    case = {"id": 1, "title": spec.name, "module": spec.module, "preconditions": "", "steps": "1. Send the request",
            "expected_result": "Valid requests succeed; invalid ones are rejected with an error."}
    provider = OfflineProvider()
    analysis = provider.analyse(case, scene)
    rows = provider.generate_bodies(case, scene, provider.plan_rows(case, scene, analysis, []), [])
    result = validate_rows(spec.request_schema, rows)
    assert result["all_match"], result["mismatched"]
    if spec.request_schema:
        assert {"valid", "boundary", "invalid"} <= {row["kind"] for row in rows}
    assert len(provider.generate_assertions(case, scene, rows)) == len(rows)


def test_a_swagger_2_document_is_upgraded_and_imported(users: dict[str, str]) -> None:
    kennel = FIXTURES / "kennel-swagger2.json"
    report = service.import_openapi(kennel.read_bytes(), kennel.name, user=users["engineer"])
    assert sorted(report["added"]) == ["createDog", "deleteDog", "listDogs", "updateDog", "uploadPhoto"]
    create = service.get_scene("createDog")
    schema = create["request_schema"]
    assert schema["required"] == ["name", "breed"] and "id" not in schema["properties"], "readOnly left out"
    assert schema["properties"]["name"]["examples"] == ["rex"]
    assert schema["properties"]["birthday"]["type"] == ["string", "null"], "x-nullable became a null type"
    assert schema["properties"]["owner"]["properties"]["email"]["format"] == "email", "definitions inlined"
    assert create["responses"]["400"]["schema"]["required"] == ["message"], "a #/responses reference followed"
    update = service.get_scene("updateDog")
    assert [(p["name"], p["in"], p["required"]) for p in update["parameters"]] == [("dogId", "path", True)]
    assert update["parameters"][0]["schema"]["minimum"] == 1 and update["request_schema"]["required"]
    listing = service.get_scene("listDogs")
    assert {p["name"]: p["schema"].get("enum") for p in listing["parameters"]}["breed"] == ["beagle", "collie",
                                                                                         "poodle"]
    photo = service.get_scene("uploadPhoto")["request_schema"]
    assert photo["required"] == ["file"] and photo["properties"]["file"]["format"] == "binary"
