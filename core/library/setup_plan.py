"""Which operations a case's setup sends: the resources its path names, created (or found) first.

For every path parameter of an operation (``/buckets/{bucket_id}/collections/{id}``) the
document usually has an operation that makes one: ``POST`` on the collection the parameter
indexes (``POST /buckets``, then ``POST /buckets/{bucket_id}/collections``). Its answer holds
the new resource's id (``data.id``, ``id``, ``bucket_id``...): a setup step sends a minimal
valid body to it and captures the id into a variable named for the parameter. Where nothing
creates the resource but the collection can be listed (``GET /dags``), the step reads the
first item's id instead. A DELETE on the resource, when the document has one, removes what
a step created after the row. Body fields that refer to another resource by its id
(``"project_id"``, ``"flowId"``) get the same kind of step for the collection they name
(``/projects``), its id captured into a variable named for the field, and an example value the
schema accepts, for checking the rows before any run. Plans come from the same document (the
scenes of one source).
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.errors import InvalidInput
from core.inputs import json_type, label, plain_json
from core.library.case_requests import parameter_value
from core.messages import Text
from core.records import SetupStep, setup_row
from core.schema import path_fields, references, uniqueness, variables
from core.schema.path_fields import PLACEHOLDER, WORDS
from core.schema.references import REFERENCE, word
from core.schema.responses import documented_codes, response_schema
from core.schema.values import sample, sample_array
from core.schema.walk import properties, resolve_refs, walk
from db.models import Scene

ID_NAMES = ("id", "uuid", "key", "name", "slug", "code")
"""What an id is often called in an answer, after the parameter's own name and its last word."""
WRAPPERS = ("data", "result", "item", "resource")
"""Objects APIs wrap a created resource in (``{"data": {"id": ...}}``)."""
LIST_KEYS = ("data", "items", "results", "records", "entries", "content")
"""Where a list operation's answer keeps its items, when the document does not say."""
MAX_STEPS = 6
PREREQUISITE_DEPTH = 2
"""How many levels of creating steps get steps for what their own bodies refer to."""


def plan(session: Session, scene: Scene, preconditions: str = "") -> list[SetupStep]:
    """The setup steps for ``scene``'s path parameters, outermost first, then for the resources its body
    refers to, then for those the test case's ``preconditions`` say exist; none for a scene that was not
    imported from a document."""
    if scene.source is None:
        return []
    others = _others(session, scene)
    steps, known = _path_steps(scene, others)
    steps += _reference_steps(scene, others, {name for step in steps for name in step["captures"]}, known, steps)
    steps += _precondition_steps(preconditions, scene, others, steps)
    creators = {item.id: item for item in others.values()}
    return _with_prerequisites(steps, creators, others, PREREQUISITE_DEPTH)[:MAX_STEPS]


def _others(session: Session, scene: Scene) -> dict[tuple[str, str], Scene]:
    """The other operations of the scene's document, by method and shaped path."""
    return {(item.method, shape(item.path)): item for item in session.scalars(
        select(Scene).where(Scene.source == scene.source, Scene.id != scene.id).order_by(Scene.id))}


MISSING = re.compile(r"(?P<kind>[A-Za-z][A-Za-z _-]{0,60}?)\s+['\"]?(?:[0-9a-fA-F]{8}(?:-[0-9a-fA-F]{4}){3}-"
                     r"[0-9a-fA-F]{12}|\d+)['\"]?\s+(?:was |is )?(?:not found|does not exist|doesn't exist)", re.I)
"""A server naming the kind of a resource it lacks, by its id: "Block document 8a43cd10-... not found"."""
NOT_KINDS = frozenset({"with", "of", "for", "the", "id", "uuid", "key", "identifier", "number", "no"})
"""Words between a kind and its id that are not the kind's."""


def for_missing(session: Session, scene: Scene, setup: list[SetupStep], answers: list[str]) -> list[SetupStep]:
    """Steps for the body fields the server says name a missing resource, of the kind it names, where the
    document makes or lists that kind and nothing in ``setup`` captures the field yet: the field's name did
    not say its kind (``default_result_storage_block_id`` is a block document's id). The field is the one
    whose words share one with the kind named, else the only reference the body has; each step captures
    the id under the field's name and comes with what its own body refers to."""
    if scene.source is None or len(setup) >= MAX_STEPS:
        return []
    others = _others(session, scene)
    collections = _collections(others)
    taken = {name for step in setup for name in step["captures"]}
    fields = [field for field in walk(resolve_refs(scene.request_schema or {}))
              if field.depth >= 1 and field.name not in taken and REFERENCE.fullmatch(field.name)
              and _is_id(field.schema)]
    wanted: dict[str, SetupStep] = {}
    for match in (found for answer in answers for found in MISSING.finditer(answer)):
        kind = re.findall(r"[a-z]+", match["kind"].lower())
        while kind and kind[-1] in NOT_KINDS:  # "Flow run with id 8a43... not found"
            kind.pop()
        collection = next((found for start in range(len(kind)) if (found := _plural(collections, "".join(
            kind[start:]))) is not None), None)
        sharing = [field for field in fields if {word.lower() for word in WORDS.findall(field.name)} & set(kind)]
        field = sharing[0] if len(sharing) == 1 else fields[0] if len(fields) == 1 and not sharing else None
        if collection is None or field is None or field.name in wanted:
            continue
        step = _step(others, collection, [], field.name)
        example = sample(field.schema, random.Random(field.name), field.name)
        if step is not None and example is not None:
            wanted[field.name] = SetupStep(**step, examples={field.name: example})
    creators = {item.id: item for item in others.values()}
    steps = [step for step in _with_prerequisites(list(wanted.values()), creators, others, PREREQUISITE_DEPTH)
             if not set(step["captures"]) <= taken]
    return steps[:MAX_STEPS - len(setup)]


def _with_prerequisites(steps: list[SetupStep], creators: dict[str, Scene], others: dict[tuple[str, str], Scene],
                        depth: int) -> list[SetupStep]:
    """Each creating step preceded by steps for the resources its own body refers to (a deployment names its
    work pool: the pool is made first), its body's fields bound to their variables, ids that nothing made left
    out (or null); ``depth`` levels down."""
    done: list[SetupStep] = []
    for step in steps:
        taken = {name for planned in done for name in planned["captures"]}
        if step["captures"] and set(step["captures"]) <= taken:
            continue  # made already, before a step that needed it
        creator = creators.get(step["scene_id"] or "") if step["method"] == "POST" and depth else None
        if creator is not None:
            wanted = [found for found in _reference_steps(creator, others, taken, [])
                      if set(found["captures"]) & _field_names(step["body"])]  # fields its minimal body has
            before = _with_prerequisites(wanted, creators, others, depth - 1)
            done += before  # what earlier steps made counts too: the flow the run's step made is the deployment's
            schema, made = creator.request_schema or {}, {name for planned in done for name in planned["captures"]}
            [kept] = references.without_made_up_ids(schema, [setup_row(step["body"])], creator.path, made)
            [bound] = path_fields.bind(schema, [kept], creator.path, done)
            step = SetupStep(**{**step, "body": bound["body"]})
        done.append(step)
    return done


def _field_names(value: Any) -> set[str]:
    """The member names of every object in a body."""
    if isinstance(value, dict):
        return set(value) | {name for item in value.values() for name in _field_names(item)}
    if isinstance(value, list):
        return {name for item in value for name in _field_names(item)}
    return set()


def _path_steps(scene: Scene, others: dict[tuple[str, str], Scene]) -> tuple[list[SetupStep], list[str]]:
    """The steps, and what each of the path's first parameters stands for: its variable, or the value the
    document fixes (as far as steps could make them)."""
    names = PLACEHOLDER.findall(scene.path)
    declared = {item["name"]: item for item in scene.parameters if item["in"] == "path"}
    steps: list[SetupStep] = []
    known: list[str] = []
    for name in names[:MAX_STEPS]:
        if _fixed(declared.get(name)):
            known.append(parameter_value(declared[name]))
            continue
        collection = _collection(scene.path, name)
        step = _step(others, collection, known, name) or _step(others, _looked_up_in(collection), known, name)
        put = _put(scene, others, collection, known, declared.get(name) or {"name": name, "in": "path"}) \
            if step is None or step["method"] == "GET" else None
        if put is not None:  # a resource the client names: PUT there (by a step, or by the operation itself)
            value, made = put
            steps += [made] if made is not None else []
            known.append(value)
            continue
        if step is None:
            break  # what lies below a resource nothing creates cannot be created either
        steps.append(SetupStep(**step, examples={name: _path_example(step, name, declared.get(name))}))
        known.append("{{" + name + "}}")
    return steps, known


def _put(scene: Scene, others: dict[tuple[str, str], Scene], collection: str, known: list[str],
         parameter: dict[str, Any]) -> tuple[str, SetupStep | None] | None:
    """For a resource no POST creates but a PUT on its own path does (``PUT /state-store/{key}``): the value the
    case names it by, and the step that PUTs it there first (none when the operation is that PUT itself)."""
    resource = shape(collection) + "/{}"
    if scene.method == "PUT" and shape(scene.path) == resource:
        return parameter_value(parameter), None
    putter = others.get(("PUT", resource))
    if putter is None:
        return None
    value, deleter = parameter_value(parameter), others.get(("DELETE", resource))
    return value, SetupStep(
        name=f"put {_noun(collection)}", method="PUT", path=_filled(putter.path, [*known, value]),
        query=_query(putter), body=_body(putter), media_type=putter.request_media_type, captures={},
        cleanup=None if deleter is None else _filled(deleter.path, [*known, value]), scene_id=putter.id)


def _path_example(step: SetupStep, name: str, parameter: dict[str, Any] | None) -> Any:
    """What a path's variable stands for before a run (rows binding their fields to it are checked with it):
    the value the creating step sends for it (an id the client chooses), else the parameter's own value."""
    body = step["body"] if isinstance(step["body"], dict) else {}
    sent = next((body[key] for key in path_fields.names_for(name) if isinstance(body.get(key), str)
                 or variables.is_number(body.get(key))), None)
    return variables.example(sent) if sent is not None else parameter_value(parameter or {"name": name, "in": "path"})


def _reference_steps(scene: Scene, others: dict[tuple[str, str], Scene], taken: set[str],
                     known: list[str], path_steps: Sequence[SetupStep] = ()) -> list[SetupStep]:
    """A step per body field (at any depth, once per name) that refers to a resource of a collection the
    document creates or lists (not the scene's own collection), with the field's example value: a top-level
    collection, or one under the scene's own path whose parameters the path steps made (``dag_run_id`` in the
    body of ``/dags/{dag_id}/clear``: a run of that dag, ``/dags/{{dag_id}}/dagRuns``). A field naming the
    kind of resource a path step made is that resource: the step captures it under the field's name too
    (``state.task_run_id`` in ``POST /task_runs/{id}/set_state`` is the task run ``id`` names)."""
    collections = _collections(others, shape(scene.path), len(known))
    own = _own_collection(scene)
    schema = resolve_refs(scene.request_schema or {})
    steps = []
    made: dict[str, str] = {}
    by_path = {shape(step["path"]): step for step in path_steps if step["method"] in ("POST", "GET")}
    for field in walk(schema):
        match = REFERENCE.fullmatch(field.name) if field.depth >= 1 else None
        collection = None if match is None else _plural(collections, word(match["noun"]))
        if collection is None or collection == own or field.name in taken or not _is_id(field.schema):
            continue
        if collection in by_path:  # what the path names: one resource, two names
            step = by_path[collection]
            variable, paths = next(iter(step["captures"].items()))
            step["captures"][field.name] = paths
            if variable in step.get("examples", {}):
                step["examples"][field.name] = step["examples"][variable]
            taken.add(field.name)
            continue
        example = sample(field.schema, random.Random(field.name), field.name)
        step = _step_within(others, collection, made, field.name) or _step(others, collection, known, field.name)
        if step is not None and example is not None:
            steps.append(SetupStep(**step, examples={field.name: example}))
            taken.add(field.name)
            made[collection] = field.name
    return steps


def _step_within(others: dict[tuple[str, str], Scene], collection: str, made: dict[str, str],
                 name: str) -> SetupStep | None:
    """A step making the resource inside another one the same body refers to (``made``: collection ->
    variable), where the document nests its kind there: a flow run's ``work_queue_name`` is a queue of its
    ``work_pool_name``, made by ``POST /work_pools/{name}/queues``, not in a default pool by ``POST /work_queues``."""
    kind = word(re.split(r"[_-]|(?<=[a-z])(?=[A-Z])", _noun(collection))[-1])  # "queue" of "work_queue"
    for parent, variable in made.items():
        inside = f"{shape(parent)}/{{}}/"
        nested = next((path for method, path in others if method == "POST" and path.startswith(inside)
                       and "/" not in path[len(inside):] and word(path[len(inside):]) in _forms(kind)), None)
        if nested is not None:
            return _step(others, nested, ["{{" + variable + "}}"], name)
    return None


def _precondition_steps(preconditions: str, scene: Scene, others: dict[tuple[str, str], Scene],
                        planned: list[SetupStep]) -> list[SetupStep]:
    """A step per top-level collection the preconditions name ("an order exists with two items", "a user is
    registered"), in the order they name them, where no step planned so far makes or finds one already."""
    collections = _collections(others)
    made = {shape(step["path"]) for step in planned} | {_own_collection(scene)}
    taken = {name for step in planned for name in step["captures"]}
    steps = []
    for named in dict.fromkeys(re.findall(r"[a-z][a-z0-9_]+", preconditions.lower())):
        collection = _plural(collections, word(named))  # "label" or "labels": /labels
        if collection is None or shape(collection) in made or (name := f"{_noun(collection)}_id") in taken:
            continue
        step = _step(others, collection, [], name)
        if step is not None:
            steps.append(step)
            made.add(shape(collection))
            taken.add(name)
    return steps


def _collections(others: dict[tuple[str, str], Scene], within: str = "/", depth: int = 0) -> dict[str, str]:
    """The collections the document creates or lists, by their name's letters (``projects`` -> ``/projects``):
    the top-level ones, and those under the path ``within`` (shaped) with at most ``depth`` parameters, the
    nearest winning (``dagruns`` -> ``/dags/{}/dagRuns``)."""
    found = sorted((path.count("{}"), path) for method, path in others if method in ("POST", "GET")
                   and path.count("{}") <= depth and not path.endswith("{}")
                   and f"{within}/".startswith(f"{path.rsplit('/', 1)[0]}/"))
    return {word(path.rsplit("/", 1)[-1]): path for _, path in found}


def _own_collection(scene: Scene) -> str:
    return shape(scene.path if scene.method == "POST" else scene.path.rsplit("/{", 1)[0])


def _plural(collections: dict[str, str], noun: str) -> str | None:
    """The collection named for ``noun``: ``projects`` for ``project``, ``categories`` for ``category``."""
    return next((collections[name] for name in _forms(noun) if name in collections), None)


def _forms(noun: str) -> tuple[str, ...]:
    """The names a collection of ``noun`` may have."""
    return f"{noun}s", f"{noun}es", f"{noun[:-1]}ies", noun


def _is_id(schema: dict[str, Any]) -> bool:
    """A string or integer field that the document does not fix (no ``enum``/``const``)."""
    kinds = schema.get("type") if isinstance(schema.get("type"), list) else [schema.get("type")]
    kinds += [part.get("type") for part in schema.get("anyOf") or schema.get("oneOf") or [] if isinstance(part, dict)]
    return bool({"string", "integer"} & set(kinds)) and "const" not in schema and not schema.get("enum")


def _fixed(parameter: dict[str, Any] | None) -> bool:
    """Whether the document fixes the parameter's value (``const``, an ``enum``): nothing to create."""
    schema = resolve_refs((parameter or {}).get("schema") or {})
    return "const" in schema or bool(schema.get("enum"))


def shape(path: str) -> str:
    """A path with its parameters unnamed (``/buckets/{}/collections``), to match paths across operations."""
    return PLACEHOLDER.sub("{}", path.rstrip("/")) or "/"


def _looked_up_in(collection: str) -> str:
    """The collection a lookup path searches: ``/variables`` for ``/variables/name`` (``/variables/name/{name}``
    finds a variable by its name), or the path itself when it is not one."""
    parent, _, last = collection.rpartition("/")
    return parent if parent and "{" not in last and "{" not in parent.rsplit("/", 1)[-1] else collection


def _collection(path: str, name: str) -> str:
    """The path up to the collection the parameter indexes: ``/buckets/{bucket_id}/collections`` for ``id``."""
    return path[:path.index("{" + name + "}")].rstrip("/")


def _step(others: dict[tuple[str, str], Scene], collection: str, outer: list[str],
          name: str) -> SetupStep | None:
    """``outer``: what the parameters before ``name`` stand for, in order."""
    resource = shape(collection) + "/{}"
    deleter = others.get(("DELETE", resource))
    creator = others.get(("POST", shape(collection)))
    if creator is not None:
        return SetupStep(
            name=f"create {_noun(collection)}", method="POST", path=_filled(creator.path, outer),
            query=_query(creator), body=_body(creator), media_type=creator.request_media_type,
            captures={name: capture_paths(name, _success_schema(creator))},
            cleanup=None if deleter is None else _filled(deleter.path, [*outer, "{{" + name + "}}"]),
            scene_id=creator.id)
    lister = others.get(("GET", shape(collection)))
    if lister is not None:
        return SetupStep(
            name=f"find a {_noun(collection)}", method="GET", path=_filled(lister.path, outer), query=_query(lister),
            body=None, media_type="application/json", captures={name: _listed_paths(name, _success_schema(lister))},
            cleanup=None, scene_id=lister.id)
    return None


def _noun(collection: str) -> str:
    last = collection.rstrip("/").rsplit("/", 1)[-1] or "resource"
    last = re.sub(r"_?[iI]d$", "", last.strip("{}")) or last.strip("{}")
    return last[:-1] if last.endswith("s") and len(last) > 3 else last


def _filled(path: str, known: list[str]) -> str:
    """``path`` with its first parameters replaced by what they stand for (in order); the rest as variables."""
    values = iter(known)
    return PLACEHOLDER.sub(lambda match: next(values, "{{" + match.group(1) + "}}"), path)


def _query(scene: Scene) -> dict[str, str]:
    return {item["name"]: parameter_value(item) for item in scene.parameters
            if item["in"] == "query" and item.get("required")}


def _body(scene: Scene) -> Any:
    """A minimal valid body (required fields only, documented values first, plus the optional top-level
    strings that look like its own keys: a run's own ``dag_run_id``, never another resource's id) whose
    unique-looking values differ on every run; None for an operation without one."""
    if not scene.request_schema:
        return None
    resolved, rng = resolve_refs(scene.request_schema), random.Random(scene.id)
    body = sample(resolved, rng, optional=False)
    if body == [] and resolved.get("maxItems") != 0:  # an array of what to create: one at least
        body = sample_array(resolved, rng, "", count=1, optional=False)
    own = word(_noun(scene.path))
    if isinstance(body, dict):  # a key of its own, not a made-up id of another resource (names nothing)
        body.update({field.name: sample(field.schema, rng, field.name) for field in walk(resolved)
                     if field.depth == 1 and field.name not in body and uniqueness.may_be_unique(field)
                     and ((match := REFERENCE.fullmatch(field.name)) is None or word(match["noun"]) == own)})
    return uniqueness.vary(scene.request_schema, [setup_row(body)])[0]["body"]


def _success_schema(scene: Scene) -> dict[str, Any]:
    codes = [code for code in documented_codes(scene.responses) if 200 <= code < 300]
    return next((resolve_refs(found) for code in codes if (found := response_schema(scene.responses, code))), {})


def _names(parameter: str) -> list[str]:
    """What the answer may call the parameter: itself, its last word (``pool_name`` -> ``name``), an id
    (not for a name: a resource named by its name is not named by its id)."""
    words = re.findall(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])", parameter)
    last = words[-1].lower() if words else parameter
    return list(dict.fromkeys([parameter, last, *(() if parameter.lower().endswith("name") else ID_NAMES)]))


def capture_paths(parameter: str, schema: dict[str, Any]) -> list[str]:
    """Dotted paths to the created resource's id, those the documented answer has first (in its first item, for
    an answer that lists what was created)."""
    if schema.get("type") == "array":
        return [f"0.{path}" for path in capture_paths(parameter, schema.get("items") or {})]
    names = _names(parameter)
    members = _members(schema)
    documented = [name for name in names if name in members]
    wrapped = [f"{wrapper}.{name}" for wrapper in WRAPPERS if wrapper in members
               for name in names if name in _members(members[wrapper])]
    generic = [path for name in names for path in (name, *(f"{wrapper}.{name}" for wrapper in WRAPPERS[:1]))]
    return list(dict.fromkeys([*documented, *wrapped, *generic]))


def _listed_paths(parameter: str, schema: dict[str, Any]) -> list[str]:
    """Dotted paths to the first listed item's id: in the answer's documented array, or a common one."""
    members = _members(schema)
    arrays = [key for key, sub in members.items() if isinstance(sub, dict) and sub.get("type") == "array"]
    places = [f"{key}.0" for key in arrays] or (["0"] if schema.get("type") == "array" else [])
    places += [f"{key}.0" for key in LIST_KEYS if f"{key}.0" not in places] + ["0"]
    listed = [f"{place}.{name}" for place in places for name in _names(parameter)]
    return list(dict.fromkeys([*listed, *capture_paths(parameter, schema)]))  # or one object, not a list


def _members(schema: Any) -> dict[str, Any]:
    """An object schema's properties, those of its allOf parts too."""
    if not isinstance(schema, dict):
        return {}
    members = dict(properties(schema))
    for part in schema.get("allOf") or []:
        members.update(_members(part))
    return members


SETUP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
MAX_CORRECTED_BYTES = 200_000
TEXT_LIMIT = 2000


def checked(steps: Any) -> list[SetupStep]:
    """A reviewer's setup steps, each as a SetupStep, or InvalidInput saying what is wrong (nothing is kept)."""
    if not isinstance(steps, list) or len(steps) > MAX_STEPS * 2:
        raise InvalidInput("The setup must be a list of at most {count} steps.", count=MAX_STEPS * 2)
    plain_json(steps, "The setup", max_bytes=MAX_CORRECTED_BYTES)
    return [_checked_step(step, number) for number, step in enumerate(steps, 1)]


def _checked_step(step: Any, number: int) -> SetupStep:
    if not isinstance(step, dict):
        raise InvalidInput("Setup step {number} is {kind}, not a JSON object.", number=number, kind=json_type(step))
    method = str(step.get("method", "")).upper()
    if method not in SETUP_METHODS:
        raise InvalidInput("Setup step {number}: the method must be one of {methods}.", number=number,
                           methods=", ".join(SETUP_METHODS))
    captures = step.get("captures") or {}
    if not isinstance(captures, dict) or not all(
            isinstance(name, str) and re.fullmatch(variables.NAME, name) and isinstance(paths, list) and paths
            and all(isinstance(path, str) and path.strip() for path in paths) for name, paths in captures.items()):
        raise InvalidInput("Setup step {number}: captures maps a variable name to a list of dotted paths into the "
                           "answer, e.g. {example}.", number=number, example='{"bucket_id": ["data.id", "id"]}')
    query = step.get("query") or {}
    if not isinstance(query, dict) or not all(isinstance(value, str) for value in query.values()):
        raise InvalidInput("Setup step {number}: query maps parameter names to text.", number=number)
    examples = step.get("examples") or {}
    if not isinstance(examples, dict) or not all(
            name in captures and (isinstance(value, str) or variables.is_number(value))
            for name, value in examples.items()):
        raise InvalidInput("Setup step {number}: examples maps a captured variable to a text or a number.",
                           number=number)
    return SetupStep(**({"examples": examples} if examples else {}),
        name=label(step.get("name") or f"step {number}", Text("Setup step {number}'s name", number=number), 200),
        method=method, path=_path(step.get("path"), Text("Setup step {number}'s path", number=number)),
        query=query, body=step.get("body"),
        media_type=label(step.get("media_type") or "application/json",
                         Text("Setup step {number}'s media type", number=number), 100),
        captures=captures, cleanup=None if step.get("cleanup") is None else _path(
            step["cleanup"], Text("Setup step {number}'s cleanup", number=number)),
        scene_id=None if step.get("scene_id") is None else label(
            step["scene_id"], Text("Setup step {number}'s scene", number=number), 100))


def _path(value: Any, what: str) -> str:
    path = label(value, what, TEXT_LIMIT)
    if not path.startswith("/"):
        raise InvalidInput("{what} must start with / (it is relative to the environment's base URL).", what=what)
    return path
