"""Reading a server's validation errors: which field, and what rule the schema did not state.

A real server's 4xx answer to a row meant to be valid names what it wants: a field that must
be lower case, a name that already exists, a field it requires although the document says it
is optional. The common shapes are read (FastAPI/pydantic ``detail`` or ``exception_detail``, RFC 7807 problem+json
with ``invalid-params`` or ``errors``, Django REST framework field lists, express-validator,
Spring's ``errors`` with ``defaultMessage``, ASP.NET's ``errors`` map, Cornice/Kinto
``details``) and every message is classified by what it asks for.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Literal

Rule = Literal["exclusive", "any_of", "together", "required", "unknown", "pattern", "lowercase", "uppercase", "enum",
               "max_length", "min_length", "length_between", "between", "maximum", "minimum", "format", "type",
               "unique", "not_found", "other"]

BODY_LOCATIONS = {"body", "json", "request", "payload"}
"""Leading path parts that name the request body itself, not a field in it."""


@dataclass(frozen=True, kw_only=True)
class Hint:
    """One thing the server said is wrong: where (a field path, empty when unknown) and what it asks for."""

    path: tuple[str, ...]
    rule: Rule
    message: str
    limit: float | None = None
    """The number a length or range rule names (the upper one of "between 1 and 10")."""
    low: float | None = None
    """The lower number of "between 1 and 10"."""
    pattern: str | None = None
    choices: tuple[str, ...] = ()
    fmt: str | None = None
    """The format a format rule names (email, uri, uuid, date, date-time); the JSON type a type rule names."""


def read(status: int, text: str) -> list[Hint]:
    """What a 4xx answer asks for, one hint per message; a 409 without details is a uniqueness hint."""
    try:
        data: Any = json.loads(text)
    except (json.JSONDecodeError, ValueError):
        data = text
    hints = [classify(path, message, extra) for path, message, extra in _messages(data)]
    if status == 409 and not any(hint.rule == "unique" for hint in hints):
        hints.append(Hint(path=(), rule="unique", message=_flat(data)[:200] or "409 Conflict"))
    return hints


def _messages(data: Any) -> list[tuple[tuple[str, ...], str, dict[str, Any]]]:
    """(field path, message, extra context) of every message found in the answer."""
    if isinstance(data, str):
        return [((), data, {})] if data.strip() else []
    if isinstance(data, list):
        return [found for item in data for found in _messages(item)]
    if not isinstance(data, dict):
        return []
    if _is_item(data):
        return [_item(data)]
    found: list[tuple[tuple[str, ...], str, dict[str, Any]]] = []
    for key in ("detail", "errors", "invalid-params", "invalid_params", "details", "violations", "fieldErrors",
                "exception_detail"):  # the last: Prefect's pydantic errors
        value = data.get(key)
        if isinstance(value, dict) and key == "errors":  # ASP.NET: {"Name": ["The Name field is required."]}
            found += [((name,), str(message), {}) for name, messages in value.items()
                      for message in (messages if isinstance(messages, list) else [messages])]
        elif value is not None:
            found += _messages(value)
    if found:
        return found
    fields = {key: value for key, value in data.items() if _field_messages(value)}
    if fields and not {"message", "error", "title"} & data.keys():  # Django REST framework
        return [((key,), str(message), {}) for key, value in fields.items() for message in value]
    for key in ("message", "error", "title", "description"):
        if isinstance(data.get(key), str) and data[key].strip():
            return [((), data[key], {})]
    return []


def _is_item(data: dict[str, Any]) -> bool:
    has_message = any(isinstance(data.get(key), str) for key in ("msg", "message", "defaultMessage", "reason",
                                                                  "description"))
    has_place = any(key in data for key in ("loc", "path", "param", "field", "name", "pointer", "property"))
    return has_message and has_place


def _item(data: dict[str, Any]) -> tuple[tuple[str, ...], str, dict[str, Any]]:
    message = next(str(data[key]) for key in ("msg", "defaultMessage", "reason", "message", "description")
                   if isinstance(data.get(key), str))
    place = next(data[key] for key in ("loc", "path", "param", "field", "pointer", "property", "name") if key in data)
    return _path(place), message, data.get("ctx") if isinstance(data.get("ctx"), dict) else {}


def _path(place: Any) -> tuple[str, ...]:
    """A field path from a loc list, a dotted or bracketed name, or a JSON pointer; the body's own name dropped."""
    if isinstance(place, list):
        parts = [str(part) for part in place]
    else:
        text = str(place)
        parts = [part for part in re.split(r"[./\[\]]+", text.removeprefix("#")) if part]
    while parts and parts[0].lower() in BODY_LOCATIONS:
        parts = parts[1:]
    return tuple(parts)


def _field_messages(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(item, str) for item in value)


def _flat(data: Any) -> str:
    return data if isinstance(data, str) else json.dumps(data, ensure_ascii=False)


NUMBER = r"(-?\d+(?:\.\d+)?)"
LISTING = r"\b(?:available|supported|configured|known|existing|valid|allowed|accepted) [a-z _-]{0,30}?(?: are)?:\s*"
"""What introduces the values a server has ("Configured executors: ['LocalExecutor']")."""
PATTERNS: tuple[tuple[Rule, re.Pattern[str]], ...] = (
    ("unique", re.compile(r"already (?:exists?|taken|registered|in use|used)|duplicate|not unique|must be unique|"
                          r"uniqueness|conflict|已存在|重复", re.I)),
    ("exclusive", re.compile(r"exactly one of|only one of|one and only one|mutually exclusive|cannot be (?:used|set|"
                             r"given|provided|specified) together|not both|cannot both|both are set|are both set|"
                             r"二选一|只能(?:填|选)一", re.I)),
    ("any_of", re.compile(r"at least one of|one or more of|至少(?:填|提供)?一", re.I)),
    ("together", re.compile(r"either both|both or neither|(?:must|should|have to) (?:both )?be (?:provided|given|"
                            r"set|specified|used) together|\bboth\b.+\bor (?:neither|none|both (?:must|should) be "
                            r"(?:none|null|omitted|empty))|同时(?:提供|填写|为空)", re.I)),
    ("required", re.compile(r"\b(?:field|value|property|parameter)? ?(?:is )?required\b|missing|must be "
                            r"(?:provided|given|supplied|specified)\b|must not be "
                            r"(?:null|blank|empty)|may not be (?:null|blank)|cannot be (?:null|blank|empty)|"
                            r"not be null|必填|不能为空", re.I)),
    ("unknown", re.compile(r"extra (?:fields?|inputs?|properties) (?:are )?not (?:permitted|allowed)|unknown "
                           r"(?:field|property|key)|unexpected (?:field|property|key)|additional propert|not "
                           r"allowed to be specified|unrecognized|not permitted|(?:cannot|must not|should not) be "
                           r"(?:set|given|provided|specified)|(?:is|are) not (?:allowed|supported|accepted)|"
                           r"does not (?:accept|allow) an? |disallowed|\bremove\b.{1,60}\band try again|"
                           r"(?:should|must) be removed|(?:cannot|can't|may not) be (?:updated|changed|modified)|"
                           r"不允许|不支持", re.I)),
    ("lowercase", re.compile(r"lower[- ]?case|小写", re.I)),
    ("uppercase", re.compile(r"upper[- ]?case|大写", re.I)),
    ("enum", re.compile(r"one of|must be in|not a valid choice|permitted|allowed values|valid values|enumeration|"
                        r"should be '[^']*'(?:, '[^']*')* or '|" + LISTING, re.I)),
    ("pattern", re.compile(r"pattern|match|regex|regular expression|invalid characters?|only (?:contain|letters|"
                           r"digits|alphanumeric)|identifier|slug", re.I)),
    ("length_between", re.compile(r"(?:size|length)\D{0,20}between " + NUMBER + r" and " + NUMBER +
                                  r"|between " + NUMBER + r" and " + NUMBER + r" (?:characters?|chars?)", re.I)),
    ("between", re.compile(r"between " + NUMBER + r" and " + NUMBER, re.I)),
    ("max_length", re.compile(r"at most " + NUMBER + r" (?:characters?|chars?)|no more than " + NUMBER +
                              r" (?:characters?|chars?)|(?:too long|max(?:imum)? length)\D{0,20}" + NUMBER + "?|"
                              r"length must be (?:less|<=)", re.I)),
    ("min_length", re.compile(r"at least " + NUMBER + r" (?:characters?|chars?)|too short|min(?:imum)? length",
                              re.I)),
    ("maximum", re.compile(r"less than(?: or equal to)? " + NUMBER + r"|<= ?" + NUMBER + r"|at most " + NUMBER +
                           r"\b(?! char)|must not exceed " + NUMBER + r"|maximum", re.I)),
    ("minimum", re.compile(r"greater than(?: or equal to)? " + NUMBER + r"|>= ?" + NUMBER + r"|at least " + NUMBER +
                           r"\b(?! char)|positive|minimum", re.I)),
    ("not_found", re.compile(r"\bnot (?:be )?found\b|(?:does|do) not exist|doesn't exist|\bno such\b|不存在", re.I)),
    ("format", re.compile(r"valid (?:email|e-mail|url|uri|uuid|date|datetime|date-time|time|ip)|\b(?:email|uuid|"
                          r"url|uri|date)\b", re.I)),
    ("type", re.compile(r"valid (?:integer|int|number|string|boolean|bool|list|array|object|dict)|should be a "
                        r"valid|must be an? (?:integer|number|string|boolean|array|object)|type", re.I)),
)
"""Message words -> what the server asks for, the most specific first."""
FORMATS = {"email": "email", "e-mail": "email", "url": "uri", "uri": "uri", "uuid": "uuid", "datetime": "date-time",
           "date-time": "date-time", "date": "date", "time": "time", "ip": "ipv4"}


INCLUDES = re.compile(r"\bmust (?:include|contain|have) (?:the |a |an )?['\"`]?([\w$][\w$.:-]*?)['\"`]? "
                      r"(?:label|key|field|property|attribute|member|entry|tag)\b", re.I)
"""An object that must have a member the schema does not require ("Resources must include the
prefect.resource.id label"): the member is what is missing."""


def classify(path: tuple[str, ...], message: str, context: dict[str, Any] | None = None) -> Hint:
    """The rule a message names, with its number, pattern, choices or format when it gives one."""
    context = context or {}
    if path and (member := INCLUDES.search(message)):
        return Hint(path=(*path, member[1]), rule="required", message=message[:300])
    for rule, words in PATTERNS:
        match = words.search(message)
        if match is None:
            continue
        numbers = [float(group) for group in match.groups() if group is not None]
        low = numbers[0] if len(numbers) > 1 else None
        limit = numbers[-1] if numbers else _context_limit(context)
        return Hint(path=path, rule=rule, message=message[:300], limit=limit, low=low,
                    pattern=_pattern(message, context) if rule == "pattern" else None,
                    choices=_choices(message, context) if rule == "enum" else (),
                    fmt=_format(message) if rule == "format" else _type(message) if rule == "type" else None)
    return Hint(path=path, rule="other", message=message[:300])


def _context_limit(context: dict[str, Any]) -> float | None:
    for key in ("max_length", "min_length", "limit_value", "le", "lt", "ge", "gt", "max", "min"):
        if isinstance(context.get(key), (int, float)):
            return float(context[key])
    return None


def _pattern(message: str, context: dict[str, Any]) -> str | None:
    """The regular expression a message quotes: after "pattern", or the last one after "match"."""
    if isinstance(context.get("pattern"), str):
        return context["pattern"]
    quoted = re.search(r"pattern[^'\"`]*['\"`](.+?)['\"`]", message)
    if quoted:
        return quoted.group(1)
    after = message.rsplit("match", 1)[-1] if "match" in message else ""
    found = re.findall(r"'([^']+)'|\"([^\"]+)\"|`([^`]+)`", after)
    return next((part for part in found[-1] if part), None) if found else None


def _choices(message: str, context: dict[str, Any]) -> tuple[str, ...]:
    """The allowed values a message lists: quoted ones, else a bracketed or comma-separated list."""
    expected = context.get("expected")
    text = expected if isinstance(expected, str) else re.split(rf"\bis not one of\b|{LISTING}", message,
                                                               flags=re.I)[-1]  # not the refused value
    quoted = [next(part for part in found if part) for found in re.findall(r"'([^']*)'|\"([^\"]*)\"|`([^`]*)`", text)
              if any(found)]
    if quoted:
        return tuple(quoted)
    listed = re.search(r"(?:one of|must be in|values?(?: are)?)[:\s]*[\[(]?(.+?)[\])]?\s*\.?$", text, re.I)
    if not listed:
        return ()
    items = [item.strip(" '\"`") for item in re.split(r",|\bor\b|\|", listed.group(1))]
    return tuple(item for item in items if item and len(item) < 60)


TYPES = {"integer": "integer", "int": "integer", "number": "number", "float": "number", "string": "string",
         "str": "string", "boolean": "boolean", "bool": "boolean", "list": "array", "array": "array",
         "object": "object", "dict": "object"}


def _type(message: str) -> str | None:
    found = re.search(r"valid (\w+)|must be an? (\w+)|expected (\w+)", message, re.I)
    word = next((group for group in found.groups() if group), "") if found else ""
    return TYPES.get(word.lower())


def _format(message: str) -> str | None:
    lowered = message.lower()
    return next((fmt for word, fmt in FORMATS.items() if word in lowered), None)
