"""Reading and checking an OpenAPI document: JSON or YAML, version 3.0 or 3.1 (Swagger 2.0 is upgraded first),
valid, no outside references."""

from __future__ import annotations

import io
import json
import re
from dataclasses import dataclass
from typing import Any

import yaml
from jsonschema_path.handlers.file import FileHandler
from openapi_spec_validator.shortcuts import get_validator_cls
from openapi_spec_validator.validation.exceptions import ValidatorDetectError
from referencing.exceptions import Unresolvable

from core.errors import InvalidInput
from core.library.importers import swagger2

MAX_ERRORS_SHOWN = 5


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


def parse(data: bytes, filename: str) -> dict[str, Any]:
    """The document in ``data`` (JSON or YAML; YAML timestamps stay strings, keys become strings)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput(f"{filename} is not UTF-8 text: save the OpenAPI document as UTF-8 JSON or YAML.") from None
    if filename.lower().endswith(".json") or text.lstrip().startswith("{"):
        try:
            content = json.loads(text)
        except json.JSONDecodeError as error:
            raise InvalidInput(f"{filename} is not valid JSON: {error.msg} at line {error.lineno}, "
                               f"column {error.colno}.") from None
    else:
        try:
            content = FileHandler()(io.StringIO(text))
        except yaml.MarkedYAMLError as error:
            where = f" at line {error.problem_mark.line + 1}" if error.problem_mark else ""
            raise InvalidInput(f"{filename} is not valid YAML: {error.problem}{where}.") from None
        except (yaml.YAMLError, TypeError, ValueError) as error:
            raise InvalidInput(f"{filename} is not valid YAML: {error}.") from None
    if not isinstance(content, dict):
        raise InvalidInput(f"{filename} is not an OpenAPI document: its top level must be an object.")
    return content


def check(content: dict[str, Any]) -> Document:
    """The document if it is a valid OpenAPI 3.0 or 3.1 document; otherwise an error naming the problems."""
    if "swagger" in content and not content.get("openapi"):
        if str(content["swagger"]) != "2.0":
            raise InvalidInput(f"Unsupported Swagger version {str(content['swagger'])!r}: CaseFlow imports "
                               f"Swagger 2.0 and OpenAPI 3.0 and 3.1 documents.")
        content = swagger2.upgrade(content)
    version = str(content.get("openapi") or "")
    if not re.match(r"^3\.[01]\.\d+", version):
        raise InvalidInput(f"Unsupported OpenAPI version {version or '(none)'!r}: CaseFlow imports OpenAPI 3.0.x "
                           f"and 3.1.x documents, which say so in their top-level 'openapi' field.")
    if external := _external_refs(content):
        raise InvalidInput(f"The reference {external[0]!r} points outside the document; bundle the document "
                           f"into one file first.")
    try:
        errors = list(get_validator_cls(content)(content).iter_errors())
    except ValidatorDetectError:
        raise InvalidInput(f"Unsupported OpenAPI version {version!r}.") from None
    except Unresolvable as error:
        raise InvalidInput(f"The reference {_unresolvable(error)} points to nothing in the document.") from None
    if errors:
        shown = "; ".join(_describe(error) for error in errors[:MAX_ERRORS_SHOWN])
        more = f" (and {len(errors) - MAX_ERRORS_SHOWN} more)" if len(errors) > MAX_ERRORS_SHOWN else ""
        raise InvalidInput(f"The OpenAPI document is not valid: {shown}{more}.")
    info = content.get("info") or {}
    return Document(title=str(info.get("title", "")).strip()[:200] or "Untitled API", version=version,
                    content=content)


def _external_refs(node: Any) -> list[str]:
    if isinstance(node, list):
        return [ref for item in node for ref in _external_refs(item)]
    if not isinstance(node, dict):
        return []
    own = node.get("$ref")
    found = [own] if isinstance(own, str) and not own.startswith("#") else []
    return found + [ref for key, value in node.items() if key not in ("example", "examples", "default", "enum", "const")
                    for ref in _external_refs(value)]


def _describe(error: Any) -> str:
    path = "/".join(str(part) for part in getattr(error, "absolute_path", []))
    return f"at {path}: {error.message}" if path else str(error.message)


def _unresolvable(error: Unresolvable) -> str:
    ref = str(getattr(error, "ref", "") or "")
    return repr(f"#{ref}" if ref.startswith("/") else ref) if ref else str(error).split(" does not exist", 1)[0]
