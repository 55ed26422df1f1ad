"""Acting on what a server said: a row's body changed so the server accepts it, the schema still does too.

Each hint (core.generation.offline.server_errors) names a field and a rule; the fix is the
smallest change that follows it: add the field the server requires, drop the one it refuses
(or all but one of fields it wants exactly one of, or those given of fields it wants together or not at all),
lower-case an identifier, take a listed value, fit a length or a range, a format, a type, or
make a value that must be unique differ on every run. A fix that would break the schema (or,
for an invalid row, the one rule the row breaks on purpose) is not applied.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Mapping
from typing import Any

from core.generation.offline.server_errors import Hint, read
from core.records import DataRow, Verdict, setup_row
from core.schema import uniqueness, variables
from core.schema.validation import BodyError, intent_problem, validate_body
from core.schema.values import format_sample, json_type, pattern_string, sample
from core.schema.walk import (
    Field,
    escape,
    get_at,
    has_at,
    non_null,
    related,
    replaced,
    resolve_refs,
    schema_pointer,
    walk,
    without,
)


def repair(row: DataRow, hints: list[Hint], schema: dict[str, Any], resolved: dict[str, Any],
           rng: random.Random, known: Mapping[str, Any] | None = None) -> tuple[Any, list[str]]:
    """The row's body with every applicable fix, and a sentence per fix made (for the reviewer); ``known``: the
    example values of the variables the case's setup captures."""
    fields = {field.pointer: field for field in walk(resolved)}
    body, notes = row["body"], []
    for hint in hints:
        for pointer in _where(body, hint, fields):
            if row["kind"] == "invalid" and related(pointer, row["pointer"]):
                continue
            if hint.rule == "not_found" and pointer.rsplit("/", 1)[-1] in (known or {}):
                continue  # the setup makes what the field names now: the field takes its id
            exact = row["kind"] == "boundary" and pointer == row["pointer"]  # a boundary keeps its length
            fixed = _fix(body, pointer, hint, fields.get(schema_pointer(pointer)), rng, exact)
            if fixed is None or fixed == body:
                continue
            if intent_problem(row["kind"], row["keyword"], row["pointer"], _errors(schema, fixed, known)) is None:
                said = f"(the server said: {hint.message})"
                notes.append(f"{_describe(hint, pointer, _at(body, pointer) is None)} {said}")
                body = fixed
    return body, notes


def null_refused(row: DataRow, verdict: Verdict, schema: dict[str, Any],
                 known: Mapping[str, Any] | None = None) -> tuple[Any, list[str]]:
    """A valid row sending null where the document allows it (a nullable field's null branch), refused by the
    server for no reason it names: the field left out instead. Servers that keep such a field NOT NULL refuse
    null on an update and keep the stored value when the field is absent."""
    body, pointer, status = row["body"], row["pointer"], verdict["status"]
    if row["kind"] == "invalid" or not pointer or status is None or not 400 <= status < 500 \
            or _at(body, pointer) is not None or not has_at(body, pointer):
        return body, []
    trial = without(body, pointer)
    if intent_problem(row["kind"], row["keyword"], row["pointer"], _errors(schema, trial, known)) is not None:
        return body, []
    where = pointer.strip("/").replace("/", ".")
    return trial, [f"left out {where} (the server answered {status} to null: {verdict['excerpt'][:200]})"]


def failing_left_out(row: DataRow, verdict: Verdict, schema: dict[str, Any],
                     known: Mapping[str, Any] | None = None) -> tuple[Any, list[str]]:
    """A valid row the server failed (5xx) or refused where it accepts the row without some fields (``fails_with``,
    found by the sandbox): those fields left out, unless the row is about one of them (then its failure is what it
    shows) or it would no longer be valid. The note names a failure as a defect, for the reviewer to report."""
    fields = [pointer for pointer in verdict.get("fails_with") or [] if has_at(row["body"], pointer)]
    if row["kind"] == "invalid" or not fields or any(row["pointer"] and related(pointer, row["pointer"])
                                                         for pointer in fields):
        return row["body"], []
    body = row["body"]
    for pointer in fields:
        body = without(body, pointer)
    if intent_problem(row["kind"], row["keyword"], row["pointer"], _errors(schema, body, known)) is not None:
        return row["body"], []
    where = ", ".join(pointer.strip("/").replace("/", ".") for pointer in fields)
    if (verdict["status"] or 0) < 500:
        return body, [f"left out {where}: the server refuses the row with it and accepts it without (it answered "
                      f"{verdict['status']}: {verdict['excerpt'][:200]})"]
    return body, [f"left out {where}: the server fails ({verdict['status']}) whenever it is sent, and accepts "
                  f"the row without it (a server defect to report)"]


def _errors(schema: dict[str, Any], body: Any, known: Mapping[str, Any] | None) -> list[BodyError]:
    """What the schema finds wrong with ``body`` as it is checked before a run, but for values that stay templates
    (a setup step's capture with no example known, ``{{block_schema_id}}``): only the run will know them."""
    example = variables.example(body, known)
    return [error for error in validate_body(schema, example)
            if not (has_at(example, error["pointer"]) and isinstance(value := get_at(example, error["pointer"]), str)
                    and variables.has_template(value))]


def repair_body(body: Any, status: int, answer: str, schema: dict[str, Any]) -> tuple[Any, list[str]]:
    """A valid body the server refused (a setup step's), fixed the way a valid row would be."""
    return repair(setup_row(body), read(status, answer), schema, resolve_refs(schema), random.Random(answer))


def _where(body: Any, hint: Hint, fields: dict[str, Field]) -> list[str]:
    """The fields a hint's fix changes. "Exactly one of": all given but the first go, or, with none given, the
    first named is filled in; "both or neither": the ones given go (a null one is not given)."""
    if hint.rule == "any_of":
        return _absent_named(body, hint, fields)
    if hint.rule == "required" and not hint.path:  # "Names must be provided", "a.b.c is required"
        found = _absent_dotted(body, hint, fields) or _absent_named(body, hint, fields)
        if found:
            return found
    pointers = _pointers(body, hint)
    given = [pointer for pointer in pointers if _at(body, pointer) is not None]
    if hint.rule == "exclusive":
        return given[1:] if given else pointers[:1] or _absent_named(body, hint, fields)
    return given if hint.rule == "together" else pointers


QUOTED_PARTS = re.compile(r"[/,:;|]")
"""What joins the values a message quotes as one ("Work pool queue 'pool/queue' not found")."""


def _pointers(body: Any, hint: Hint) -> list[str]:
    """Where in the body a hint applies: its path, matched loosely (narrowed to the members of an object
    that the message names); else the fields its message names, or whose value it quotes."""
    if hint.path:
        found = _match(body, list(hint.path), "")
        if found is not None:
            return _named(body, found, hint.message) or [found]
        parent = _match(body, list(hint.path[:-1]), "") if hint.rule == "required" else None
        if parent is not None and isinstance(_at(body, parent), dict):  # the field it misses, in its object
            return [f"{parent}/{escape(hint.path[-1])}"]
        last = hint.path[-1].lower()
        return [pointer for pointer, _ in _leaves(body, "") if pointer.rsplit("/", 1)[-1].lower() == last][:1]
    named = _named(body, "", hint.message)
    if named:
        return named
    quoted = {part for group in re.findall(r"'([^']+)'|\"([^\"]+)\"|`([^`]+)`", hint.message) for part in group
              if part}
    if quoted:
        values = quoted | {piece.strip() for part in quoted for piece in QUOTED_PARTS.split(part)}
        return [pointer for pointer, value in _leaves(body, "") if isinstance(value, str) and value in values]
    if hint.rule == "unique":
        return [pointer for pointer, value in _leaves(body, "") if isinstance(value, str)
                and not variables.has_template(value) and _identifier_like(pointer)]
    return []


def _absent_named(body: Any, hint: Hint, fields: dict[str, Field]) -> list[str]:
    """For "at least one of A or B": the first of the fields named that the body lacks, when it has none of them
    (under the object the hint points at)."""
    text = hint.message.lower()
    path = list(hint.path)
    if path and re.search(rf"(?<![\w.]){re.escape(path[-1].lower())}(?!\w)", text):
        path = path[:-1]  # the hint points at one of the fields it names
    parent = _match(body, path, "") or ""
    named = sorted((found.start(), pointer) for pointer, field in fields.items()
                   if pointer.rsplit("/", 1)[0] == schema_pointer(parent) and field.name
                   and (found := re.search(rf"(?<![\w.]){re.escape(field.name.lower())}s?(?!\w)", text)))
    present = [pointer for _, pointer in named if _at(body, parent + pointer[len(schema_pointer(parent)):])
               is not None]
    return [] if present or not named else [parent + named[0][1][len(schema_pointer(parent)):]]


def _absent_dotted(body: Any, hint: Hint, fields: dict[str, Field]) -> list[str]:
    """For "task_runs.start_time.after_ is required": the first field on that path the body lacks (or has as
    null), when the schema has the path."""
    for dotted in re.findall(r"(?<![\w.])\w+(?:\.\w+)+", hint.message):
        pointer = ""
        for part in dotted.split("."):
            pointer = f"{pointer}/{escape(part)}"
            if schema_pointer(pointer) not in fields:
                break
            if _at(body, pointer) is None:
                return [pointer]
    return []


def _named(body: Any, pointer: str, message: str) -> list[str]:
    """The fields under ``pointer`` whose names the message uses as words, in the order the message names them
    ("team_name cannot be set", "Exactly one of run_id or partition_key"); the innermost name wins."""
    text = message.lower()
    places: list[tuple[int, str]] = []
    for leaf, _ in _leaves(_at(body, pointer), pointer):
        for part in reversed(_parts_below(leaf, pointer)):
            found = re.search(rf"(?<![\w.])(?:{_spelled(part[1])})(?![\w])", text)
            if found:
                places.append((found.start(), part[0]))
                break
    return list(dict.fromkeys(pointer for _, pointer in sorted(places)))


def _spelled(name: str) -> str:
    """A field's name as a message may write it: as it is, or in words ("job variables" for job_variables)."""
    spellings = {name.lower(), re.sub(r"[_-]+", " ", name).strip().lower()}
    return "|".join(re.escape(spelling) for spelling in sorted(spellings, key=len, reverse=True) if spelling)


def _parts_below(leaf: str, pointer: str) -> list[tuple[str, str]]:
    """(pointer, name) of each object member on the way from ``pointer`` down to ``leaf``, outermost first."""
    parts, below = [], pointer
    for segment in filter(None, leaf[len(pointer):].split("/")):
        below = f"{below}/{segment}"
        if not segment.isdigit():
            parts.append((below, segment.replace("~1", "/").replace("~0", "~")))
    return parts


def _at(body: Any, pointer: str) -> Any:
    try:
        return get_at(body, pointer)
    except (KeyError, IndexError, TypeError, ValueError):
        return None


def _match(node: Any, path: list[str], pointer: str) -> str | None:
    """The pointer of ``path`` in the body, comparing keys without regard to case; parts that name no member
    are skipped (a wrapper such as "data", the tag of a union: pydantic's loc ["actions", 0, "create", ...])."""
    if not path:
        return pointer
    part, rest = path[0], path[1:]
    if isinstance(node, list) and part.isdigit() and int(part) < len(node):
        return _match(node[int(part)], rest, f"{pointer}/{part}")
    if isinstance(node, dict):
        key = next((name for name in node if name.lower() == part.lower()), None)
        if key is not None:
            return _match(node[key], rest, f"{pointer}/{escape(key)}")
        return _match(node, rest, pointer) if rest else None
    return None


def _leaves(value: Any, pointer: str) -> list[tuple[str, Any]]:
    """(pointer, value) of every value that holds no other: an empty object or list is one too."""
    if isinstance(value, dict) and value:
        return [leaf for key, item in value.items() for leaf in _leaves(item, f"{pointer}/{escape(str(key))}")]
    if isinstance(value, list) and value:
        return [leaf for index, item in enumerate(value) for leaf in _leaves(item, f"{pointer}/{index}")]
    return [(pointer, value)]


def _fix(body: Any, pointer: str, hint: Hint, field: Field | None, rng: random.Random, exact: bool) -> Any:
    node = field.schema if field is not None else {}
    try:
        current = get_at(body, pointer)
    except (KeyError, IndexError, TypeError, ValueError):
        current = _MISSING
    if hint.rule in ("required", "any_of", "exclusive") and current in (_MISSING, None):
        return replaced(body, pointer, sample(non_null(node), rng, pointer.rsplit("/", 1)[-1]))
    if hint.rule in ("required", "any_of"):
        return None
    if current is _MISSING:
        return None
    if hint.rule == "not_found" and isinstance(current, str) and variables.looked_up(current):
        return None  # a value the setup or the environment gives: the server lacks the resource, not the field
    if hint.rule in ("unknown", "exclusive", "together", "not_found"):
        return without(body, pointer)
    if hint.rule == "unique":
        varied = uniqueness.templates(current, node, exact) if isinstance(current, str) and not \
            variables.has_template(current) else []
        return replaced(body, pointer, varied[0]) if varied else None
    value = _FIXES.get(hint.rule, lambda *_: None)(current, hint, node, rng)
    return None if value is None else replaced(body, pointer, value)


_MISSING = object()


def _literal(text: str, change: Callable[[str], str]) -> str:
    """``text`` with ``change`` applied outside its templates (``{{$randomInt}}`` stays as written)."""
    parts = variables.TEMPLATE.split(text)
    return "".join(change(part) if index % 2 == 0 else "{{" + part + "}}" for index, part in enumerate(parts))


CHARACTERS = (("lower-?case letters?", "a-z"), ("upper-?case letters?", "A-Z"), ("letters?|alphabet", "a-zA-Z"),
              ("numbers?|digits?|numerals?", "0-9"), ("alphanumeric", "a-zA-Z0-9"), ("dash(?:es)?|hyphens?", "-"),
              ("underscores?", "_"), ("periods?|dots?|full stops?", "."), ("spaces?", " "))
"""Words of "must only contain lowercase letters, numbers, and dashes" -> the characters they allow."""


def _allowed(message: str) -> str | None:
    """The character class a message allows ("only contain lowercase letters, numbers, and dashes" ->
    ``a-z0-9-``), or None when it lists none."""
    listed = re.search(r"only (?:contains?|consists? of|includes?|use|have|be made of)\s+(.+)|"
                       r"(?:contain|consist of) only\s+(.+)", message, re.I)
    if listed is None:
        return None
    text = next(group for group in listed.groups() if group)
    found = [chars for words, chars in CHARACTERS if re.search(rf"\b(?:{words})\b", text, re.I)]
    if "a-z" in found or "A-Z" in found:
        found = [chars for chars in found if chars != "a-zA-Z"]  # "lowercase letters" is not every letter
    return "".join(dict.fromkeys(found)) or None


def _in_charset(value: str, allowed: str) -> str:
    """``value`` with what ``allowed`` lacks replaced by a dash (or an underscore, or nothing), lower-cased when
    only lower-case letters are allowed; templates kept (a dash before ``{{$randomInt}}`` where ``_`` was)."""
    ranges = "".join(re.findall(r"[a-zA-Z0-9]-[a-zA-Z0-9]", allowed))
    singles = re.sub(r"[a-zA-Z0-9]-[a-zA-Z0-9]", "", allowed)
    separator = next((char for char in "-_" if char in singles), "")
    lower = "a-z" in ranges and "A-Z" not in ranges
    refused = re.compile(f"[^{ranges}{re.escape(singles.replace('-', ''))}{'-' if '-' in singles else ''}]+")
    return _literal(value, lambda text: refused.sub(separator, text.lower() if lower else text))


def _lowercase(value: Any, hint: Hint, node: dict[str, Any], rng: random.Random) -> Any:
    """Lower case; an identifier too when the message says so (letters, digits and underscores, a letter first);
    the characters a message allows when it lists them."""
    if not isinstance(value, str):
        return None
    if (allowed := _allowed(hint.message)) is not None:
        return _in_charset(value, allowed)
    if not re.search(r"identifier|underscore|digits|a-z", hint.message, re.I):
        return _literal(value, str.lower)
    result = _literal(value, lambda text: re.sub(r"[^a-z0-9_]+", "_", text.lower()))
    return result if result[:1].isalpha() else f"x{result}"


def _uppercase(value: Any, *_: Any) -> Any:
    return _literal(value, str.upper) if isinstance(value, str) else None


def _pattern(value: Any, hint: Hint, node: dict[str, Any], rng: random.Random) -> Any:
    pattern = hint.pattern or node.get("pattern")
    if not isinstance(pattern, str) and isinstance(value, str) and (allowed := _allowed(hint.message)) is not None:
        return _in_charset(value, allowed)
    if not isinstance(pattern, str):
        return _literal(value, lambda text: re.sub(r"[^a-z0-9_]", "_", text.lower())) if isinstance(value, str) \
            else None
    try:
        return pattern_string(pattern, rng, node.get("minLength", 1), node.get("maxLength"))
    except re.error:
        return None


def _choice(value: Any, hint: Hint, node: dict[str, Any], rng: random.Random) -> Any:
    choices = [choice for choice in hint.choices if choice != str(value)]
    if not choices:
        return None
    if isinstance(value, bool):
        return choices[0].lower() == "true"
    if isinstance(value, (int, float)):
        try:
            return type(value)(choices[0])
        except ValueError:
            return None
    return choices[0]


def _length(value: Any, hint: Hint, node: dict[str, Any], rng: random.Random) -> Any:
    if not isinstance(value, str) or hint.limit is None:
        return None
    high = int(hint.limit) if hint.rule in ("max_length", "length_between") else None
    low = int(hint.low if hint.rule == "length_between" and hint.low is not None else
              hint.limit if hint.rule == "min_length" else 0)
    resolved = len(variables.example(value))
    if high is not None and resolved > high:
        return _literal(value, lambda text: text[:max(len(text) - (resolved - high), 1)])
    if resolved < low:
        return value + "x" * (low - resolved)
    return None


def _range(value: Any, hint: Hint, node: dict[str, Any], rng: random.Random) -> Any:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or hint.limit is None:
        return None
    step = 1 if isinstance(value, int) else 0.01
    exclusive = "than" in hint.message and "equal" not in hint.message
    if hint.rule == "between":
        low = hint.low if hint.low is not None else hint.limit
        target = (low + hint.limit) / 2
    elif hint.rule == "maximum":
        target = hint.limit - step if exclusive else hint.limit
        target = min(value, target) if value <= hint.limit else target
    else:
        target = hint.limit + step if exclusive else hint.limit
    return int(target) if isinstance(value, int) else round(target, 2)


def _format(value: Any, hint: Hint, node: dict[str, Any], rng: random.Random) -> Any:
    return format_sample(hint.fmt or node.get("format"), rng, "value")


def _type(value: Any, hint: Hint, node: dict[str, Any], rng: random.Random) -> Any:
    """The value as the type the server asks for; a null the document allows but the server refuses becomes a
    value of the field's other branch."""
    wanted = hint.fmt or (json_type(node) if node else None)
    if value is None:
        return sample(non_null(node), rng) if node else None
    if wanted is None:
        return None
    if wanted in ("integer", "number"):
        digits = re.sub(r"\D", "", str(value))
        return int(digits) if digits and wanted == "integer" else float(digits or 1) if digits else 1
    if wanted == "string":
        return str(value)
    if wanted == "boolean":
        return bool(value)
    return sample({**node, "type": wanted}, rng)


_FIXES: dict[str, Callable[[Any, Hint, dict[str, Any], random.Random], Any]] = {
    "lowercase": _lowercase, "uppercase": _uppercase, "pattern": _pattern, "enum": _choice,
    "max_length": _length, "min_length": _length, "length_between": _length, "maximum": _range,
    "minimum": _range, "between": _range, "format": _format, "type": _type,
}


def _describe(hint: Hint, pointer: str, absent: bool) -> str:
    where = pointer.strip("/").replace("/", ".") or "the body"
    return {
        "required": f"added {where}", "any_of": f"added {where}", "unknown": f"removed {where}",
        "not_found": f"removed {where}",
        "exclusive": f"{'added' if absent else 'removed'} {where}", "together": f"removed {where}",
        "lowercase": f"lower-cased {where}", "uppercase": f"upper-cased {where}",
        "unique": f"made {where} differ on every run",
    }.get(hint.rule, f"changed {where} ({hint.rule.replace('_', ' ')})")


def _identifier_like(pointer: str) -> bool:
    name = pointer.rsplit("/", 1)[-1].lower()
    return any(word in name for word in ("name", "key", "code", "slug", "id", "email", "title", "login", "label"))
