"""Importing an OpenAPI 3.0 or 3.1 document (JSON or YAML): every operation becomes a scene.

The document is checked first (``core.importers.documents``) and its references are
resolved with ``referencing``; nothing is written unless the whole document converts.
Scene ids are stable (the operationId, else "METHOD /path"), so importing the document
again updates its scenes in place; scenes remember the document's title as their
``source``, which is how a re-import knows which scenes the document no longer has.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from core import inputs
from core.database import session_scope
from core.errors import Conflict, InvalidInput
from core.library import spec_impact
from core.library.importers import uploads
from core.library.importers.documents import METHODS, Document, check, parse
from core.library.importers.schemas import (
    Direction,
    check_runnable,
    lookup,
    to_json_schema,
    without_unworkable_limits,
)
from db.models import Scene, TestCase

if TYPE_CHECKING:
    from referencing._core import Resolver

DOCUMENT_URI = "urn:caseflow:openapi-document"
ID_UNSAFE = re.compile(r"[^A-Za-z0-9_.\-]+")
SCENE_FIELDS = ("name", "module", "method", "path", "summary", "request_schema", "request_media_type", "responses",
                "parameters")
JSON_MEDIA = "application/json"
FORM_MEDIA = ("application/x-www-form-urlencoded", "multipart/form-data")


@dataclass(frozen=True, kw_only=True)
class SceneSpec:
    """One operation of the document, as the scene it becomes."""

    id: str
    name: str
    module: str
    method: str
    path: str
    summary: str
    request_schema: dict[str, Any]
    request_media_type: str
    responses: dict[str, Any]
    parameters: list[dict[str, Any]]


def scenes_of(document: Document, module: str | None = None) -> list[SceneSpec]:
    """Every operation of the document as a scene, in document order; ids unique."""
    resolver = _resolver(document.content)
    scenes: list[SceneSpec] = []
    for path, item in (document.content.get("paths") or {}).items():
        item = _deref(resolver, item)
        shared = item.get("parameters") or []
        for method in METHODS:
            if isinstance(item.get(method), dict):
                scenes.append(_scene(document, resolver, path, method, item[method], shared, module))
    seen: dict[str, SceneSpec] = {}
    for scene in scenes:
        if scene.id in seen:
            raise InvalidInput("Two operations get the scene id {scene_id!r} ({method} {path} and "
                               "{scene_method} {scene_path}); give them distinct operationIds.",
                               scene_id=scene.id, method=seen[scene.id].method, path=seen[scene.id].path,
                               scene_method=scene.method, scene_path=scene.path)
        seen[scene.id] = scene
    if not scenes:
        raise InvalidInput("The document has no operations under 'paths': there is nothing to import.")
    return scenes


def _resolver(content: dict[str, Any]) -> Resolver:
    resource: Resource[Any] = Resource.from_contents(content, default_specification=DRAFT202012)
    return Registry().with_resource(DOCUMENT_URI, resource).resolver(base_uri=DOCUMENT_URI)


def _deref(resolver: Resolver, node: Any) -> Any:
    """A Path Item, Parameter, Request Body or Response object with its own $ref followed."""
    for _ in range(20):
        if not (isinstance(node, dict) and isinstance(node.get("$ref"), str)):
            return node
        node = lookup(resolver, node["$ref"])
    raise InvalidInput("A chain of references is longer than 20 links or loops.")


def _scene(
    document: Document, resolver: Resolver, path: str, method: str, operation: dict[str, Any],
    shared: list[Any], module: str | None,
) -> SceneSpec:
    where = f"{method.upper()} {path}"
    if len(path) > 500:
        raise InvalidInput("The path of {value}... is longer than 500 characters.", value=where[:80])
    tags = operation.get("tags") or []
    summary = str(operation.get("summary") or "").strip()
    try:
        request_schema, media_type = _request_body(document, resolver, operation)
        return SceneSpec(
            id=scene_id(operation.get("operationId"), method, path),
            name=(summary or str(operation.get("operationId") or "") or where)[:200],
            module=(module or (str(tags[0]) if tags else "") or document.title)[:100],
            method=method.upper(),
            path=path,
            summary=str(operation.get("description") or summary).strip(),
            request_schema=request_schema,
            request_media_type=media_type,
            responses=_responses(document, resolver, operation),
            parameters=_parameters(document, resolver, [*shared, *(operation.get("parameters") or [])]),
        )
    except InvalidInput as error:
        raise InvalidInput("{where}: {error_message}", where=where, error_message=error.message) from None
    except RecursionError:  # a chain of hundreds of distinct schemas, each inlined into the one before
        raise InvalidInput("{where}: its schemas nest too deeply to inline.", where=where) from None


def scene_id(operation_id: Any, method: str, path: str) -> str:
    """The operationId made safe (letters, digits, "_", ".", "-"), else "METHOD /path"; at most 100 characters."""
    if isinstance(operation_id, str):
        cleaned = ID_UNSAFE.sub("_", operation_id.strip()).strip("_")
        if cleaned:
            return cleaned[:100]
    text = f"{method.upper()} {path}"
    return text if len(text) <= 100 else f"{text[:91]}~{hashlib.sha1(text.encode()).hexdigest()[:8]}"


def _media(content: Any) -> tuple[str, dict[str, Any] | None]:
    """The media type a content map is best sent or read as, with its media object: application/json, else
    any +json, else a form, else the first one that has a schema."""
    if not isinstance(content, dict):
        return JSON_MEDIA, None
    ranked = sorted(((name, media) for name, media in content.items() if isinstance(media, dict) and "schema" in media),
                    key=lambda item: (item[0] != JSON_MEDIA, "json" not in item[0], item[0] not in FORM_MEDIA))
    return ranked[0] if ranked else (JSON_MEDIA, None)


def _json_schema_of(content: Any) -> Any:
    media = _media(content)[1]
    return None if media is None else media["schema"]


def _request_body(document: Document, resolver: Resolver, operation: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """The request body's schema, with the examples documented beside it, and its media type ({} without a body)."""
    body = _deref(resolver, operation.get("requestBody"))
    media_type, media = _media(body.get("content")) if isinstance(body, dict) else (JSON_MEDIA, None)
    if media is None:
        return {}, JSON_MEDIA
    schema = _schema(document, resolver, media["schema"], "request", "the request body")
    documented = _media_examples(resolver, media)
    if documented:
        schema["examples"] = [*documented, *schema.get("examples", [])]
    return schema, media_type


def _media_examples(resolver: Resolver, media: dict[str, Any]) -> list[Any]:
    """A media object's ``example`` and the values of its ``examples`` (Example objects, references followed)."""
    found = [media["example"]] if "example" in media else []
    named = media.get("examples")
    for example in (named.values() if isinstance(named, dict) else []):
        example = _deref(resolver, example)
        if isinstance(example, dict) and "value" in example:
            found.append(example["value"])
    return found


def _responses(document: Document, resolver: Resolver, operation: dict[str, Any]) -> dict[str, Any]:
    """{"201": {"description", "schema"}}: every documented code, with its JSON schema when it has one."""
    result: dict[str, Any] = {}
    for code, response in (operation.get("responses") or {}).items():
        response = _deref(resolver, response)
        entry: dict[str, Any] = {"description": str(response.get("description", ""))}
        schema = _json_schema_of(response.get("content"))
        if schema is not None:
            entry["schema"] = _schema(document, resolver, schema, "response", f"the {str(code)[:10]} response")
        result[str(code)] = entry
    return result


def _parameters(document: Document, resolver: Resolver, declared: list[Any]) -> list[dict[str, Any]]:
    """Path and query parameters; an operation's own parameter overrides the path item's of the same name."""
    chosen: dict[tuple[str, str], dict[str, Any]] = {}
    for parameter in declared:
        parameter = _deref(resolver, parameter)
        if parameter.get("in") in ("path", "query"):
            chosen[(parameter["in"], parameter["name"])] = parameter
    result: list[dict[str, Any]] = []
    for parameter in chosen.values():
        entry = {
            "name": parameter["name"],
            "in": parameter["in"],
            "required": bool(parameter.get("required", False)),
            "description": str(parameter.get("description", "")),
            "schema": _schema(document, resolver, _json_schema_of(parameter.get("content")) or
                              parameter.get("schema", {}), "request", f"the parameter {parameter['name'][:50]!r}"),
        }
        if "example" in parameter:
            entry["example"] = parameter["example"]
        result.append(entry)
    return result


def _schema(document: Document, resolver: Resolver, node: Any, direction: Direction, what: str) -> dict[str, Any]:
    """The standalone schema of ``node``, if the workflow can use it (else InvalidInput naming ``what``)."""
    schema = without_unworkable_limits(to_json_schema(node, resolver, legacy=document.legacy, direction=direction))
    check_runnable(schema, what)
    return schema


def import_document(data: bytes, filename: str, *, module: str | None = None, dry_run: bool = False) -> dict[str, Any]:
    """Imports (or, with ``dry_run``, previews) a document in one transaction.

    Returns {"document", "version", "added", "changed", "removed", "unchanged", "unlinked_test_cases", "impact"}
    (``impact``: the automation cases the change breaks, see ``core.library.spec_impact``); a bad document
    raises InvalidInput and writes nothing.
    """
    data, filename = uploads.check(data, filename)
    module = inputs.optional_text(module, "The module", limit=100, single_line=True)
    document = check(parse(data, filename))
    specs = scenes_of(document, (module or "").strip() or None)
    with session_scope() as session:
        report = _apply(session, document, specs, dry_run=dry_run)
        if dry_run:
            session.rollback()
    return report


def _apply(session: Session, document: Document, specs: list[SceneSpec], *, dry_run: bool) -> dict[str, Any]:
    """Adds, updates and removes the document's scenes; what that breaks is assessed first, on the stored ones."""
    existing = _existing(session, document, [spec.id for spec in specs])
    versions = {spec.id: {key: value for key, value in asdict(spec).items() if key != "id"} for spec in specs}
    added = [spec.id for spec in specs if spec.id not in existing]
    changed = [spec.id for spec in specs if spec.id in existing and
               any(getattr(existing[spec.id], key) != versions[spec.id][key] for key in SCENE_FIELDS)]
    removed = sorted(set(existing) - set(versions))
    changes = {scene_id: (existing[scene_id], versions.get(scene_id)) for scene_id in [*changed, *removed]}
    impact = spec_impact.assess(session, changes)
    for scene_id in added:
        session.add(Scene(id=scene_id, source=document.title, **versions[scene_id]))
    for scene_id in changed:
        for key in SCENE_FIELDS:
            setattr(existing[scene_id], key, versions[scene_id][key])
    return {
        "document": document.title, "version": document.version, "dry_run": dry_run, "added": added,
        "changed": changed, "removed": removed, "unchanged": len(specs) - len(added) - len(changed),
        "unlinked_test_cases": _remove(session, [existing[scene_id] for scene_id in removed]),
        "impact": impact,
    }


def _existing(session: Session, document: Document, ids: list[str]) -> dict[str, Scene]:
    """The scenes the import touches, locked; a Conflict when an id belongs to another source."""
    scenes = {scene.id: scene for scene in session.scalars(
        select(Scene).where(Scene.id.in_(ids) | (Scene.source == document.title)).with_for_update())}
    for scene_id in ids:
        owner = scenes.get(scene_id)
        if owner is not None and owner.source != document.title:
            origin = f"imported from the document {owner.source!r}" if owner.source else \
                "created outside any OpenAPI document"
            raise Conflict("Scene {scene_id!r} already exists, {origin}; rename the operationId or remove that "
                           "scene first.", scene_id=scene_id, origin=origin)
    return scenes


def _remove(session: Session, scenes: list[Scene]) -> int:
    """Deletes scenes the document no longer has; returns how many test cases were unlinked from them."""
    if not scenes:
        return 0
    ids = [scene.id for scene in scenes]
    unlinked = session.scalar(select(func.count()).select_from(TestCase).where(TestCase.scene_id.in_(ids))) or 0
    session.execute(update(TestCase).where(TestCase.scene_id.in_(ids)).values(scene_id=None))
    for scene in scenes:
        session.delete(scene)
    return unlinked
