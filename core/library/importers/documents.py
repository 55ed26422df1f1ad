"""Reading and checking an OpenAPI document: JSON or YAML, version 3.0 or 3.1 (Swagger 2.0 is upgraded first),
valid, no outside references.

A document is untrusted input, so reading it is bounded: at most MAX_NODES values and
MAX_DEPTH levels of nesting, YAML aliases adding at most MAX_ALIAS_NODES values (a 421-byte
"billion laughs" would otherwise expand to gigabytes), and no key twice in one mapping (YAML
and JSON would silently keep the last). Its values must be ones every later step can hold:
no NUL characters, no NaN or Infinity, integers within 64 bits. Structural problems that
make openapi-spec-validator itself fail (a ``$ref`` to itself, ``paths: null``, a parameter
without a name) are refused before it runs, naming the place.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

import yaml
from jsonschema_path.loaders import JsonschemaSafeLoader, SafeLoader
from openapi_spec_validator.shortcuts import get_validator_cls
from openapi_spec_validator.validation.exceptions import ValidatorDetectError
from referencing.exceptions import Unresolvable
from yaml.nodes import MappingNode, Node, SequenceNode

from core import inputs
from core.errors import InvalidInput
from core.inputs import INTEGER_RANGE
from core.library.importers import swagger2
from core.schema.walk import get_at

MAX_ERRORS_SHOWN = 5
MAX_NODES = 1_000_000
"""Values (objects, arrays, strings, numbers...) a document may hold, aliases written out."""
MAX_ALIAS_NODES = 100_000
"""Values YAML aliases (``*name``) may add to a document."""
MAX_DEPTH = 100
"""Levels of nesting; real documents use a few dozen at most."""
MAX_REF_CHAIN = 20
INT64 = INTEGER_RANGE
"""What the workflow's checkpoints hold: signed and unsigned 64-bit integers."""
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
DATA_KEYWORDS = ("example", "examples", "default", "enum", "const")
"""Keywords whose values are data, where a "$ref" key is just a key."""
MERGE_TAG = "tag:yaml.org,2002:merge"
VALIDATOR_FAILURES = (KeyError, IndexError, TypeError, AttributeError, ValueError)
"""What openapi-spec-validator raises, instead of reporting, on some malformed documents."""


@dataclass(frozen=True, kw_only=True)
class Document:
    """A checked OpenAPI document."""

    title: str
    version: str
    content: dict[str, Any]

    @property
    def legacy(self) -> bool:
        """OpenAPI 3.0, whose schema objects are a dialect of JSON Schema rather than 2020-12 itself."""
        return self.version.startswith("3.0")


class _DuplicateKey(ValueError):
    def __init__(self, key: str, line: int | None = None) -> None:
        super().__init__(key)
        self.key, self.line = key, line


def parse(data: bytes, filename: str) -> dict[str, Any]:
    """The document in ``data`` (JSON or YAML; YAML timestamps stay strings, keys become strings)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput("{filename} is not UTF-8 text: save the OpenAPI document as UTF-8 JSON or YAML.",
                           filename=filename) from None
    try:
        if filename.lower().endswith(".json") or text.lstrip().startswith("{"):
            content = _json(text, filename)
        else:
            content = _yaml(text, filename)
    except _DuplicateKey as error:
        where = f" (line {error.line})" if error.line else ""
        raise InvalidInput("{filename} has the key {value!r} twice in one mapping{where}; only one would be "
                           "kept, so nothing is imported. Remove or rename one of them.",
                           filename=filename, value=error.key[:100], where=where) from None
    except RecursionError:
        raise InvalidInput("{filename} is nested more than {max_depth} levels deep.",
                           filename=filename, max_depth=MAX_DEPTH) from None
    if not isinstance(content, dict):
        raise InvalidInput("{filename} is not an OpenAPI document: its top level must be an object.", filename=filename)
    _ValueCheck(filename).visit(content)
    return content


def _json(text: str, filename: str) -> Any:
    try:
        return json.loads(text, object_pairs_hook=_unique_keys, parse_constant=_no_constant)
    except json.JSONDecodeError as error:
        raise InvalidInput("{filename} is not valid JSON: {error_msg} at line {error_lineno}, column "
                           "{error_colno}.",
                           filename=filename, error_msg=error.msg, error_lineno=error.lineno,
                           error_colno=error.colno) from None
    except ValueError as error:  # a number of more than 4,300 digits; NaN or Infinity
        if isinstance(error, _DuplicateKey):
            raise
        raise InvalidInput("{filename} is not JSON CaseFlow can use: {value}.",
                           filename=filename, value=str(error).split(';')[0]) from None


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _DuplicateKey(key)
        result[key] = value
    return result


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


class _Loader(SafeLoader):
    """The safe YAML loader with jsonschema-path's resolvers (timestamps stay strings), refusing a key twice
    in one mapping."""

    yaml_implicit_resolvers = JsonschemaSafeLoader.yaml_implicit_resolvers

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        if isinstance(node, MappingNode):
            seen: set[str] = set()
            for key_node, _ in node.value:
                if key_node.tag == MERGE_TAG or isinstance(key_node, (MappingNode, SequenceNode)):
                    continue
                key = _json_key(self.construct_object(key_node))
                if key in seen:
                    raise _DuplicateKey(key, key_node.start_mark.line + 1)
                seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _yaml(text: str, filename: str) -> Any:
    """The YAML document, aliases bounded; keys become strings as JSON has them."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is not None:
            _check_aliases(node, filename)
        data = loader.construct_document(node) if node is not None else None
        return json.loads(json.dumps(data))
    except yaml.MarkedYAMLError as error:
        where = f" at line {error.problem_mark.line + 1}" if error.problem_mark else ""
        raise InvalidInput("{filename} is not valid YAML: {error_problem}{where}.",
                           filename=filename, error_problem=error.problem, where=where) from None
    except (yaml.YAMLError, TypeError, ValueError) as error:
        if isinstance(error, _DuplicateKey):
            raise
        raise InvalidInput("{filename} is not valid YAML: {value}.",
                           filename=filename, value=str(error).split(';')[0]) from None
    finally:
        loader.dispose()


def _json_key(key: Any) -> str:
    """``key`` as a JSON object key (200 -> "200", True -> "true"), as the JSON round trip makes it."""
    if isinstance(key, str):
        return key
    try:
        return next(iter(json.loads(json.dumps({key: None}))))
    except (TypeError, ValueError):
        return repr(key)


def _check_aliases(root: Node, filename: str) -> None:
    """Refuses a YAML graph whose aliases, written out, add more than MAX_ALIAS_NODES values, or loop."""
    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()

    def size(node: Node, depth: int) -> int:
        if id(node) in sizes:
            return sizes[id(node)]
        if id(node) in open_nodes:
            raise InvalidInput("{filename} has a YAML alias inside the node it refers to (line {value}): the "
                               "document would be infinite.",
                               filename=filename, value=node.start_mark.line + 1)
        if depth > MAX_DEPTH:
            raise InvalidInput("{filename} is nested more than {max_depth} levels deep.",
                               filename=filename, max_depth=MAX_DEPTH)
        open_nodes.add(id(node))
        children = [part for pair in node.value for part in pair] if isinstance(node, MappingNode) else \
            node.value if isinstance(node, SequenceNode) else []
        sizes[id(node)] = total = 1 + sum(size(child, depth + 1) for child in children)
        open_nodes.discard(id(node))
        return total

    added = size(root, 0) - len(sizes)
    if added > MAX_ALIAS_NODES:
        raise InvalidInput("{filename} uses YAML aliases (*name) that expand to {added:,} more values, past "
                           "the {max_alias_nodes:,} allowed; write the shared parts once under components and "
                           "$ref them.",
                           filename=filename, added=added, max_alias_nodes=MAX_ALIAS_NODES)


class _ValueCheck:
    """Walks the parsed document once: nesting, size, and text and numbers every later step can hold."""

    def __init__(self, filename: str) -> None:
        self.filename = filename
        self.count = 0
        self.path: list[Any] = []

    def visit(self, node: Any) -> None:
        self.count += 1
        if self.count > MAX_NODES:
            self._refuse(f"has more than {MAX_NODES:,} values; split it into smaller documents")
        if len(self.path) > MAX_DEPTH:
            self._refuse(f"is nested more than {MAX_DEPTH} levels deep")
        if isinstance(node, dict):
            for key, value in node.items():
                self._text(key)
                self._visit_at(key, value)
        elif isinstance(node, list):
            for index, value in enumerate(node):
                self._visit_at(index, value)
        elif isinstance(node, str):
            self._text(node)
        elif isinstance(node, bool) or node is None:
            return
        elif isinstance(node, int) and node not in INT64:
            self._refuse(f"has an integer outside the 64-bit range ({INT64.start} to {INT64.stop - 1}), "
                         f"which the workflow cannot hold")
        elif isinstance(node, float) and not math.isfinite(node):
            self._refuse(f"has the number {node!r}, which JSON cannot hold")

    def _visit_at(self, key: Any, value: Any) -> None:
        self.path.append(key)
        self.visit(value)
        self.path.pop()

    def _text(self, value: str) -> None:
        if inputs.NUL in value:
            self._refuse("has text with a NUL character (\\u0000); remove it")

    def _refuse(self, problem: str) -> None:
        where = " › ".join(str(part)[:60] for part in self.path) or "its top level"
        raise InvalidInput("{filename} {problem} (at {where}).", filename=self.filename, problem=problem, where=where)


def check(content: dict[str, Any]) -> Document:
    """The document if it is a valid OpenAPI 3.0 or 3.1 document; otherwise an error naming the problems."""
    if "swagger" in content and not content.get("openapi"):
        if str(content["swagger"]) != "2.0":
            raise InvalidInput("Unsupported Swagger version {value!r}: CaseFlow imports Swagger 2.0 and "
                               "OpenAPI 3.0 and 3.1 documents.",
                               value=str(content['swagger']))
        content = swagger2.upgrade(content)
    version = str(content.get("openapi") or "")
    if not re.match(r"^3\.[01]\.\d+", version):
        raise InvalidInput("Unsupported OpenAPI version {value!r}: CaseFlow imports OpenAPI 3.0.x and 3.1.x "
                           "documents, which say so in their top-level 'openapi' field.",
                           value=version[:40] or '(none)')
    refs = list(_refs(content))
    if external := [ref for ref in refs if not ref.startswith("#")]:
        raise InvalidInput("The reference {value!r} points outside the document; bundle the document into one "
                           "file first.", value=external[0])
    _check_ref_chains(content, refs)
    _check_paths(content)
    errors = _validation_errors(content, version)
    if errors:
        shown = "; ".join(_describe(error) for error in errors[:MAX_ERRORS_SHOWN])
        more = f" (and {len(errors) - MAX_ERRORS_SHOWN} more)" if len(errors) > MAX_ERRORS_SHOWN else ""
        raise InvalidInput("The OpenAPI document is not valid: {shown}{more}.", shown=shown, more=more)
    info = content.get("info") or {}
    return Document(title=str(info.get("title", "")).strip()[:200] or "Untitled API", version=version,
                    content=content)


def _validation_errors(content: dict[str, Any], version: str) -> list[Any]:
    try:
        return list(get_validator_cls(content)(content).iter_errors())
    except ValidatorDetectError:
        raise InvalidInput("Unsupported OpenAPI version {version!r}.", version=version) from None
    except Unresolvable as error:
        raise InvalidInput("The reference {value} points to nothing in the document.",
                           value=_unresolvable(error)) from None
    except RecursionError:
        raise InvalidInput("The OpenAPI document's references loop in a way it cannot be checked (a schema whose "
                           "allOf, anyOf or oneOf includes itself?).") from None
    except VALIDATOR_FAILURES as error:
        raise InvalidInput("The OpenAPI document is not valid: openapi-spec-validator could not check it "
                           "({name}: {value}); check it in an OpenAPI editor.",
                           name=type(error).__name__, value=str(error)[:100]) from None


def _refs(node: Any) -> Iterator[str]:
    """Every "$ref" string of the document, outside example and default values."""
    if isinstance(node, list):
        for item in node:
            yield from _refs(item)
    elif isinstance(node, dict):
        if isinstance(node.get("$ref"), str):
            yield node["$ref"]
        for key, value in node.items():
            if key not in DATA_KEYWORDS:
                yield from _refs(value)


def target(content: dict[str, Any], ref: str) -> Any:
    """What the local reference ``ref`` ("#/components/schemas/Pet") points to, or None."""
    try:
        return get_at(content, unquote(ref[1:]))
    except (KeyError, IndexError, TypeError, ValueError):
        return None


def _check_ref_chains(content: dict[str, Any], refs: list[str]) -> None:
    """Refuses a reference that leads, through references alone, back to itself (``S: {$ref: S}``)."""
    for ref in dict.fromkeys(refs):
        chain = [ref]
        node = target(content, ref)
        while isinstance(node, dict) and isinstance(node.get("$ref"), str) and node["$ref"].startswith("#"):
            if node["$ref"] in chain:
                loop = " -> ".join([*chain[chain.index(node["$ref"]):], node["$ref"]])
                raise InvalidInput("The reference {ref!r} leads back to itself ({loop}) with nothing in "
                                   "between.", ref=ref, loop=loop)
            if len(chain) >= MAX_REF_CHAIN:
                raise InvalidInput("The reference {ref!r} starts a chain of more than {max_ref_chain} "
                                   "references.",
                                   ref=ref, max_ref_chain=MAX_REF_CHAIN)
            chain.append(node["$ref"])
            node = target(content, node["$ref"])


def followed(content: dict[str, Any], node: Any) -> Any:
    """``node`` with its own local $ref chain followed (checked finite by check); itself when it points nowhere."""
    for _ in range(MAX_REF_CHAIN + 1):
        if not (isinstance(node, dict) and isinstance(node.get("$ref"), str)):
            return node
        found = target(content, node["$ref"])
        if found is None:
            return node
        node = found
    return node


def _check_paths(content: dict[str, Any]) -> None:
    """The shapes the validator assumes: paths an object of path items, parameters named and placed."""
    if "paths" in content and not isinstance(content["paths"], dict):
        raise InvalidInput("'paths' must be an object of path items, not {value}.", value=_kind(content['paths']))
    for path, item in (content.get("paths") or {}).items():
        item = followed(content, item)
        if not isinstance(item, dict):
            raise InvalidInput("The path item {value!r} must be an object, not {value2}.",
                               value=path[:80], value2=_kind(item))
        declared = [(path, item.get("parameters"))] + [
            (f"{method.upper()} {path}", operation.get("parameters"))
            for method, operation in item.items() if method in METHODS and isinstance(operation, dict)]
        for where, parameters in declared:
            _check_parameters(content, where[:100], parameters)


def _check_parameters(content: dict[str, Any], where: str, parameters: Any) -> None:
    if parameters is None:
        return
    if not isinstance(parameters, list):
        raise InvalidInput("{where}: 'parameters' must be a list, not {value}.", where=where, value=_kind(parameters))
    for number, parameter in enumerate(parameters, start=1):
        parameter = followed(content, parameter)
        if not isinstance(parameter, dict):
            raise InvalidInput("{where}: parameter {number} must be an object, not {value}.",
                               where=where, number=number, value=_kind(parameter))
        for field in ("name", "in"):
            if not isinstance(parameter.get(field), str):
                raise InvalidInput("{where}: parameter {number} has no {field!r}; every parameter needs a name "
                                   "and where it goes (in: path, query, header or cookie).",
                                   where=where, number=number, field=field)


def _kind(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def _describe(error: Any) -> str:
    path = "/".join(str(part) for part in getattr(error, "absolute_path", []))
    return f"at {path}: {error.message}" if path else str(error.message)


def _unresolvable(error: Unresolvable) -> str:
    ref = str(getattr(error, "ref", "") or "")
    return repr(f"#{ref}" if ref.startswith("/") else ref) if ref else str(error).split(" does not exist", 1)[0]
