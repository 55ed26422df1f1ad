"""Which requests a case's setup sends, planned from the document: creators, lists, fixed values, cleanups."""

from __future__ import annotations

import json
from typing import Any

from core import service
from core.database import session_scope
from core.library import setup_plan
from core.library.case_requests import case_request, parameter_value
from db.models import Scene

ID = {"type": "string"}


TITLE = {"type": "object", "required": ["title"], "properties": {"title": {"type": "string"}}}
STICKER = {"type": "object", "required": ["title", "board_id"], "properties": {
    "title": {"type": "string"}, "board_id": ID, "labelId": {"type": "integer", "minimum": 1},
    "ownerId": {"type": "integer"}, "color_id": {"type": "string", "enum": ["red", "blue"]},
    "label_name": {"type": "string"}}}


def op(operation_id: str, *, body: dict[str, Any] | bool = False, params: list[str] = (),
       responses: dict | None = None, fixed: dict[str, Any] | None = None) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "operationId": operation_id,
        "parameters": [{"name": name, "in": "path", "required": True,
                        "schema": {"type": "string", **((fixed or {}).get(name) or {})}} for name in params],
        "responses": responses or {"200": {"description": "OK"}}}
    if body:
        operation["requestBody"] = {"content": {"application/json": {"schema": TITLE if body is True else body}}}
    return operation


CREATED = {"201": {"description": "Created", "content": {"application/json": {"schema": {
    "type": "object", "properties": {"data": {"type": "object", "properties": {"id": ID}}}}}}}}
LISTED = {"200": {"description": "OK", "content": {"application/json": {"schema": {
    "type": "object", "properties": {"boards": {"type": "array", "items": {
        "type": "object", "properties": {"board_id": ID}}}}}}}}}
DOCUMENT = {"openapi": "3.1.0", "info": {"title": "Boards", "version": "1"}, "paths": {
    "/boards": {"get": op("listBoards", responses=LISTED)},
    "/boards/{board_id}/cards": {"post": op("createCard", body=True, params=["board_id"], responses=CREATED)},
    "/boards/{board_id}/cards/{card_id}": {
        "patch": op("patchCard", body=True, params=["board_id", "card_id"]),
        "delete": op("deleteCard", params=["board_id", "card_id"])},
    "/boards/{board_id}/cards/search": {"post": op("searchCards", body=True, params=["board_id"],
                                                   fixed={"board_id": {"const": "~"}})},
    "/tags/{tag}": {"put": op("putTag", body=True, params=["tag"])},
    "/boards/{board_id}/notes": {"get": op("listNotes", params=["board_id"])},
    "/boards/{board_id}/schedules": {"post": op("createSchedules", params=["board_id"], body={
        "type": "array", "items": TITLE}, responses={"201": {"description": "Created", "content": {
            "application/json": {"schema": {"type": "array", "items": {
                "type": "object", "properties": {"id": ID, "title": ID}}}}}}})},
    "/boards/{board_id}/schedules/{schedule_id}": {"patch": op("patchSchedule", body=True,
                                                               params=["board_id", "schedule_id"])},
    "/boards/{board_id}/notes/{key}": {"put": op("putNote", body=True, params=["board_id", "key"]),
                                       "patch": op("patchNote", body=True, params=["board_id", "key"]),
                                       "delete": op("deleteNote", params=["board_id", "key"])},
    "/labels": {"post": op("createLabel", body={**TITLE, "properties": {**TITLE["properties"], "labelId": ID}},
                           responses=CREATED)},
    "/labels/{label_id}": {"delete": op("deleteLabel", params=["label_id"])},
    "/stickers": {"post": op("createSticker", body=STICKER, responses=CREATED)},
    "/stickers/{sticker_id}": {"patch": op("patchSticker", body=True, params=["sticker_id"])},
    "/posters": {"post": op("createPoster", body={"type": "object", "required": ["sticker_id", "board_id"],
                                                  "properties": {"sticker_id": ID, "board_id": ID}})},
    "/labels/by-name/{name}": {"patch": op("patchLabelByName", body=True, params=["name"])},
    "/boards/{board_id}/pins": {"post": op("pinCard", params=["board_id"], body={
        "type": "object", "required": ["card_id"], "properties": {"card_id": ID, "tags": {
            "type": "array", "items": {"type": "object", "properties": {"label_id": ID}}}}})},
}}


def plans(users: dict[str, str]) -> dict[str, list[dict[str, Any]]]:
    service.import_openapi(json.dumps(DOCUMENT).encode(), "boards.json", user=users["engineer"])
    with session_scope() as session:
        return {scene.id: setup_plan.plan(session, scene) for scene in session.query(Scene)}


def test_each_path_parameter_is_found_or_created_outermost_first(users: dict[str, str]) -> None:
    planned = plans(users)
    find, create = planned["patchCard"]
    assert (find["method"], find["path"], find["captures"]["board_id"][0]) == ("GET", "/boards", "boards.0.board_id")
    assert find["cleanup"] is None and find["body"] is None, "what a step only found is never deleted"
    assert find["examples"] == {"board_id": parameter_value({"name": "board_id", "in": "path", "schema": ID})}, \
        "the parameter's own value stands for it before a run"
    assert (create["method"], create["path"]) == ("POST", "/boards/{{board_id}}/cards")
    assert create["captures"]["card_id"][0] == "data.id", "the documented answer's id first"
    assert create["cleanup"] == "/boards/{{board_id}}/cards/{{card_id}}"
    assert isinstance(create["body"], dict) and "title" in create["body"], "a minimal valid body"
    assert planned["searchCards"] == [], "a value the document fixes needs nothing made"
    assert planned["putTag"] == [], "the operation itself puts the tag it names"
    assert planned["listBoards"] == [] and planned["createCard"][0]["name"] == "find a board"


def test_body_fields_that_refer_to_other_resources_get_them_made_or_found(users: dict[str, str]) -> None:
    find, create, named = plans(users)["createSticker"]
    assert (find["method"], find["path"], find["captures"]) == ("GET", "/boards", {"board_id": [
        "boards.0.board_id", *find["captures"]["board_id"][1:]]})
    assert isinstance(find["examples"]["board_id"], str)
    assert (create["method"], create["path"], create["cleanup"]) == ("POST", "/labels", "/labels/{{labelId}}")
    assert create["captures"]["labelId"][0] == "data.id"
    example = create["examples"]["labelId"]
    assert isinstance(example, int) and example >= 1, "an example the field's schema accepts"
    assert (named["method"], named["path"]) == ("POST", "/labels")
    assert {"label_name", "name"} <= set(named["captures"]["label_name"]), "a name reference captures the name"
    assert not [path for path in named["captures"]["label_name"] if path.split(".")[-1] in ("id", "uuid")]
    assert not plans_for_own_collection(users), "a resource's own id is not a reference to another"


def plans_for_own_collection(users: dict[str, str]) -> list[Any]:
    """``POST /labels`` sends a ``labelId`` of its own: nothing to make before it."""
    with session_scope() as session:
        return setup_plan.plan(session, session.get(Scene, "createLabel"))


def test_what_the_preconditions_say_exists_is_made_or_found_first(users: dict[str, str]) -> None:
    plans(users)
    with session_scope() as session:
        tag, sticker = session.get(Scene, "putTag"), session.get(Scene, "createSticker")
        named = setup_plan.plan(session, tag, "A label exists; the user can see the boards. 一个标签已存在")
        again = setup_plan.plan(session, sticker, "A label exists and a board is listed.")
        plain = setup_plan.plan(session, sticker)
    assert [(step["name"], step["method"], step["path"]) for step in named] == [
        ("create label", "POST", "/labels"), ("find a board", "GET", "/boards")], "in the order the text names them"
    assert list(named[0]["captures"]) == ["label_id"] and named[0]["cleanup"] == "/labels/{{label_id}}"
    assert again == plain, "what the body's references already make is not made twice"


def test_a_body_field_refers_to_a_resource_under_the_scenes_own_path(users: dict[str, str]) -> None:
    find, card, label = plans(users)["pinCard"]
    assert find["name"] == "find a board" and list(find["captures"]) == ["board_id"]
    assert (card["method"], card["path"], list(card["captures"])) == ("POST", "/boards/{{board_id}}/cards",
                                                                       ["card_id"]), "a card of the path's board"
    assert card["cleanup"] == "/boards/{{board_id}}/cards/{{card_id}}" and "card_id" in card["examples"]
    assert (label["path"], list(label["captures"])) == ("/labels", ["label_id"]), "a reference deeper down"


def test_a_creating_step_gets_what_its_own_body_refers_to_first(users: dict[str, str]) -> None:
    *before, sticker = plans(users)["patchSticker"]
    assert [(step["name"], *step["captures"]) for step in before] == [("find a board", "board_id")], \
        "what its minimal body names"
    assert sticker["path"] == "/stickers" and list(sticker["captures"]) == ["sticker_id"]
    assert sticker["body"]["board_id"] == "{{board_id}}", "the sticker is made on the board found first"
    assert not {"labelId", "label_name"} & set(sticker["body"]), "no made-up reference to an optional label"


def test_a_lookup_path_gets_its_resource_from_the_collection_it_searches(users: dict[str, str]) -> None:
    [create] = plans(users)["patchLabelByName"]
    assert (create["method"], create["path"]) == ("POST", "/labels")
    assert create["captures"]["name"] == ["name", "data.name"], "its name, never its id"


def test_a_resource_two_steps_need_is_made_once_before_the_first(users: dict[str, str]) -> None:
    board, sticker = plans(users)["createPoster"]
    assert (board["name"], sticker["name"]) == ("find a board", "create sticker"), "not found again after"
    assert sticker["body"]["board_id"] == "{{board_id}}"


def test_a_resource_the_client_names_is_put_where_no_post_makes_it(users: dict[str, str]) -> None:
    planned = plans(users)
    key = parameter_value({"name": "key", "in": "path", "schema": {"type": "string"}})
    assert [step["method"] for step in planned["putNote"]] == ["GET"], \
        "the board is found; the note is the one the operation puts, not looked up in the (maybe empty) list"
    find, put = planned["patchNote"]
    assert (put["method"], put["path"], put["captures"]) == ("PUT", f"/boards/{{{{board_id}}}}/notes/{key}", {})
    assert put["cleanup"] == f"/boards/{{{{board_id}}}}/notes/{key}" and isinstance(put["body"], dict)
    with session_scope() as session:
        scene = session.get(Scene, "patchNote")
        request = case_request(scene.method, scene.path, scene.parameters, [], setup=planned["patchNote"])
    assert request.path == f"/boards/{{{{board_id}}}}/notes/{key}", "the case sends to the note the step put"


def test_a_creator_that_takes_and_answers_a_list_makes_one_and_its_first_item_is_captured(
        users: dict[str, str]) -> None:
    _, create = plans(users)["patchSchedule"]
    assert create["method"] == "POST" and isinstance(create["body"], list) and len(create["body"]) == 1
    assert "title" in create["body"][0], "one minimal item"
    assert create["captures"]["schedule_id"][0] == "0.id", "the documented id of the first item"


def test_a_resource_named_inside_another_or_by_the_path_is_made_once_where_it_belongs(
        users: dict[str, str]) -> None:
    """A run names its pool and a queue of that pool (the document also makes queues outside any pool); a task
    run's state names the run its path does."""
    named = {"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}}}
    made = {"201": {"description": "Created", "content": {"application/json": {"schema": named}}}}
    document = {"openapi": "3.1.0", "info": {"title": "Pools", "version": "1"}, "paths": {
        "/work_pools": {"post": op("createPool", body=named, responses=made)},
        "/work_queues": {"post": op("createQueue", body=named, responses=made)},
        "/work_pools/{work_pool_name}/queues": {"post": op("createPoolQueue", body=named, params=["work_pool_name"],
                                                           responses=made)},
        "/work_pools/{work_pool_name}/queues/{name}": {"delete": op("deletePoolQueue",
                                                                    params=["work_pool_name", "name"])},
        "/flow_runs": {"post": op("createRun", body={"type": "object", "properties": {
            "work_pool_name": {"type": "string"}, "work_queue_name": {"type": "string"}}})},
        "/deployments": {"post": op("createDeployment", body={"type": "object", "properties": {
            "work_queue_name": {"type": "string"}}})},
        "/task_runs": {"post": op("createTaskRun", body=named, responses=CREATED)},
        "/task_runs/{id}/set_state": {"post": op("setState", params=["id"], body={"type": "object", "properties": {
            "state": {"type": "object", "properties": {"task_run_id": ID}}}})},
    }}
    service.import_openapi(json.dumps(document).encode(), "pools.json", user=users["engineer"])
    with session_scope() as session:
        planned = {scene.id: setup_plan.plan(session, scene) for scene in session.query(Scene)}
    pool, queue = planned["createRun"]
    assert (pool["path"], queue["path"]) == ("/work_pools", "/work_pools/{{work_pool_name}}/queues")
    assert queue["cleanup"] == "/work_pools/{{work_pool_name}}/queues/{{work_queue_name}}"
    assert "{{" not in json.dumps(queue["body"]).replace("{{$", ""), "the queue's own name, not its pool's"
    [alone] = planned["createDeployment"]
    assert alone["path"] == "/work_queues", "without a pool named, a queue of its own collection"
    [task_run] = planned["setState"]
    assert set(task_run["captures"]) == {"id", "task_run_id"}, "the task run the path names is the one the body does"


def test_a_resource_the_server_says_is_missing_gets_a_step_of_the_kind_it_names(users: dict[str, str]) -> None:
    """``default_storage_block_id`` does not say which kind it names; "Block document <id> not found" does. The
    block document is made with the block type its own body names, and nothing the setup makes already."""
    typed = {"type": "object", "required": ["name", "block_type_id"], "properties": {
        "name": {"type": "string"}, "block_type_id": {"type": "string", "format": "uuid"}}}
    document = {"openapi": "3.1.0", "info": {"title": "Blocks", "version": "1"}, "paths": {
        "/block_types": {"post": op("createBlockType", body=TITLE, responses=CREATED)},
        "/block_documents": {"post": op("createBlockDocument", body=typed, responses=CREATED)},
        "/block_documents/{id}": {"delete": op("deleteBlockDocument", params=["id"])},
        "/admin/storage": {"put": op("putStorage", body={"type": "object", "required": ["default_storage_block_id"],
                                                         "properties": {"default_storage_block_id": {
                                                             "type": "string", "format": "uuid"}}})},
    }}
    service.import_openapi(json.dumps(document).encode(), "blocks.json", user=users["engineer"])
    answer = '{"detail": "Block document 8a43cd10-f15b-4048-b8d6-2141e8c45b10 not found."}'
    with session_scope() as session:
        scene = session.get(Scene, "putStorage")
        assert setup_plan.plan(session, scene) == [], "the field's name names no collection"
        block_type, block_document = setup_plan.for_missing(session, scene, [], [answer])
        assert setup_plan.for_missing(session, scene, [], ['{"detail": "Not Found"}']) == []
        worded = setup_plan.for_missing(session, scene, [], ['{"detail": "Block document with id 7 not found"}'])
        again = setup_plan.for_missing(session, scene, [block_type, block_document], [answer])
    assert (block_type["path"], list(block_type["captures"])) == ("/block_types", ["block_type_id"])
    assert (block_document["method"], block_document["path"]) == ("POST", "/block_documents")
    assert list(block_document["captures"]) == ["default_storage_block_id"]
    assert block_document["body"]["block_type_id"] == "{{block_type_id}}"
    assert block_document["cleanup"] == "/block_documents/{{default_storage_block_id}}"
    assert isinstance(block_document["examples"]["default_storage_block_id"], str)
    assert again == [], "what the setup captures already is not made twice"
    assert worded == [block_type, block_document]
