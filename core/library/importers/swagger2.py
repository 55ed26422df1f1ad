"""Swagger 2.0 documents upgraded to OpenAPI 3.0 on import, as many Java services (springfox, knife4j) publish.

The upgrade covers what scenes are made of: definitions, shared parameters and responses
(moved under ``components`` with every ``$ref`` rewritten), body and formData parameters
(a request body, JSON or form), simple parameters' type keywords (into ``schema``), responses'
schemas (into ``content``), security definitions, and ``x-nullable``.
"""

from __future__ import annotations

import copy
from typing import Any

TARGET_VERSION = "3.0.3"
SCHEMA_KEYWORDS = ("type", "format", "items", "collectionFormat", "default", "maximum", "exclusiveMaximum",
                   "minimum", "exclusiveMinimum", "maxLength", "minLength", "pattern", "maxItems", "minItems",
                   "uniqueItems", "enum", "multipleOf")
REFS = {"#/definitions/": "#/components/schemas/", "#/responses/": "#/components/responses/"}
METHODS = ("get", "put", "post", "delete", "options", "head", "patch")
FORM = ("application/x-www-form-urlencoded", "multipart/form-data")


def upgrade(swagger: dict[str, Any]) -> dict[str, Any]:
    """The OpenAPI 3.0 form of a Swagger 2.0 document (``swagger`` itself is left as it was)."""
    source = copy.deepcopy(swagger)
    body_parameters = {name for name, item in (source.get("parameters") or {}).items()
                       if isinstance(item, dict) and item.get("in") in ("body", "formData")}
    document = _rewrite_refs(source, body_parameters)
    consumes = document.get("consumes") or ["application/json"]
    produces = document.get("produces") or ["application/json"]
    shared = document.get("parameters") or {}
    result: dict[str, Any] = {
        "openapi": TARGET_VERSION,
        "info": document.get("info") or {"title": "Untitled API", "version": "0"},
        "paths": {},
        "components": {
            "schemas": _nullable(document.get("definitions") or {}),
            "parameters": {name: _parameter(item) for name, item in shared.items() if name not in body_parameters},
            "requestBodies": {name: _request_body([item], consumes) for name, item in shared.items()
                              if name in body_parameters},
            "responses": {name: _response(item, produces) for name, item in (document.get("responses") or {}).items()},
            "securitySchemes": {name: _security(item) for name, item in
                                (document.get("securityDefinitions") or {}).items()},
        },
    }
    if servers := _servers(document):
        result["servers"] = servers
    for key in ("tags", "security", "externalDocs"):
        if key in document:
            result[key] = document[key]
    for path, item in (document.get("paths") or {}).items():
        result["paths"][path] = _path_item(item, consumes, produces) if isinstance(item, dict) else item
    return result


def _rewrite_refs(node: Any, body_parameters: set[str]) -> Any:
    if isinstance(node, list):
        return [_rewrite_refs(item, body_parameters) for item in node]
    if not isinstance(node, dict):
        return node
    result = {key: _rewrite_refs(value, body_parameters) for key, value in node.items()}
    ref = result.get("$ref")
    if isinstance(ref, str):
        result["$ref"] = _new_ref(ref, body_parameters)
    return result


def _new_ref(ref: str, body_parameters: set[str]) -> str:
    for old, new in REFS.items():
        if ref.startswith(old):
            return new + ref[len(old):]
    if ref.startswith("#/parameters/"):
        name = ref[len("#/parameters/"):]
        return f"#/components/{'requestBodies' if name in body_parameters else 'parameters'}/{name}"
    return ref


def _path_item(item: dict[str, Any], consumes: list[str], produces: list[str]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    shared = item.get("parameters") or []
    if shared:
        result["parameters"] = [_parameter(parameter) for parameter in shared if not _is_body(parameter)]
    for key, value in item.items():
        if key in METHODS and isinstance(value, dict):
            result[key] = _operation(value, [parameter for parameter in shared if _is_body(parameter)],
                                     consumes, produces)
        elif key not in ("parameters", *METHODS):
            result[key] = value
    return result


def _operation(operation: dict[str, Any], shared_body: list[Any], consumes: list[str],
               produces: list[str]) -> dict[str, Any]:
    consumes = operation.get("consumes") or consumes
    produces = operation.get("produces") or produces
    parameters = operation.get("parameters") or []
    result = {key: value for key, value in operation.items()
              if key not in ("parameters", "consumes", "produces", "responses", "schemes")}
    simple = [_parameter(item) for item in parameters if not _is_body(item)]
    if simple:
        result["parameters"] = simple
    body = [item for item in [*shared_body, *parameters] if _is_body(item)]
    refs = [item for item in body if isinstance(item, dict) and "$ref" in item]
    if refs:
        result["requestBody"] = {"$ref": refs[0]["$ref"]}
    elif body:
        result["requestBody"] = _request_body(body, consumes)
    result["responses"] = {str(code): _response(response, produces)
                           for code, response in (operation.get("responses") or {}).items()}
    return result


def _is_body(parameter: Any) -> bool:
    if not isinstance(parameter, dict):
        return False
    if "$ref" in parameter:
        return parameter["$ref"].startswith("#/components/requestBodies/")
    return parameter.get("in") in ("body", "formData")


def _parameter(parameter: Any) -> Any:
    if not isinstance(parameter, dict) or "$ref" in parameter:
        return parameter
    result = {key: value for key, value in parameter.items() if key not in (*SCHEMA_KEYWORDS, "allowEmptyValue")}
    schema = _nullable({"schema": {key: parameter[key] for key in SCHEMA_KEYWORDS if key in parameter
                                   and key != "collectionFormat"}})["schema"]
    if parameter.get("type") == "file":
        schema = {"type": "string", "format": "binary"}
    result["schema"] = schema
    if parameter.get("collectionFormat") == "multi":
        result["explode"] = True
    return result


def _request_body(parameters: list[dict[str, Any]], consumes: list[str]) -> dict[str, Any]:
    body = next((item for item in parameters if item.get("in") == "body"), None)
    if body is not None:
        schema = _nullable({"schema": body.get("schema") or {}})["schema"]
        types = [media for media in consumes if media not in FORM] or ["application/json"]
        result: dict[str, Any] = {"content": {media: {"schema": schema} for media in types}}
        if body.get("required"):
            result["required"] = True
        if body.get("description"):
            result["description"] = body["description"]
        return result
    fields = [item for item in parameters if item.get("in") == "formData"]
    schema = {"type": "object", "properties": {item["name"]: _parameter(item)["schema"] for item in fields
                                               if "name" in item}}
    if required := [item["name"] for item in fields if item.get("required") and "name" in item]:
        schema["required"] = required
    has_file = any(item.get("type") == "file" for item in fields)
    media = "multipart/form-data" if has_file or "multipart/form-data" in consumes else FORM[0]
    return {"content": {media: {"schema": schema}}, "required": bool(required)}


def _response(response: Any, produces: list[str]) -> Any:
    if not isinstance(response, dict) or "$ref" in response:
        return response
    result: dict[str, Any] = {"description": response.get("description", "")}
    if "schema" in response:
        schema = _nullable({"schema": response["schema"]})["schema"]
        result["content"] = {media: {"schema": schema} for media in produces}
    if "headers" in response:
        result["headers"] = {name: {"description": header.get("description", ""),
                                    "schema": {key: value for key, value in header.items() if key in SCHEMA_KEYWORDS}}
                             for name, header in response["headers"].items() if isinstance(header, dict)}
    return result


def _security(scheme: dict[str, Any]) -> dict[str, Any]:
    kind = scheme.get("type")
    if kind == "basic":
        return {"type": "http", "scheme": "basic", "description": scheme.get("description", "")}
    if kind == "oauth2":
        flow = {"implicit": "implicit", "password": "password", "application": "clientCredentials",
                "accessCode": "authorizationCode"}.get(scheme.get("flow", ""), "clientCredentials")
        urls = {key: scheme[old] for old, key in (("authorizationUrl", "authorizationUrl"), ("tokenUrl", "tokenUrl"))
                if old in scheme}
        return {"type": "oauth2", "flows": {flow: {**urls, "scopes": scheme.get("scopes") or {}}}}
    return scheme


def _servers(document: dict[str, Any]) -> list[dict[str, str]]:
    host = document.get("host")
    base = document.get("basePath") or ""
    if not host:
        return [{"url": base}] if base else []
    return [{"url": f"{scheme}://{host}{base}"} for scheme in (document.get("schemes") or ["https"])]


def _nullable(node: Any) -> Any:
    """``x-nullable: true`` becomes OpenAPI 3.0's ``nullable: true``, at every depth."""
    if isinstance(node, list):
        return [_nullable(item) for item in node]
    if not isinstance(node, dict):
        return node
    result = {key: _nullable(value) for key, value in node.items() if key != "x-nullable"}
    if node.get("x-nullable") is True:
        result["nullable"] = True
    return result
