"""Realistic values that satisfy a JSON Schema node: strings, formats, arrays and objects."""

from __future__ import annotations

import copy
import random
import re
import string
import uuid
from typing import Any

from rstr import Rstr

from core.schema.numbers import sample_number
from core.schema.validation import accepts
from core.schema.walk import branch, branches_of, properties

WORDS = (
    (("username", "login", "account", "nickname"), ("alice_chen", "bob_wang", "carol_li", "david_zhang", "emma_liu")),
    (("password", "secret"), ("S3cure!Pass", "Passw0rd#2024", "Tr0ub4dor&3x", "Blue#Sky2025")),
    (("email", "mail"), ("alice.chen", "bob.wang", "carol.li", "david.zhang")),
    (("recipient", "name", "contact"), ("Alice Chen", "Wang Wei", "Li Na", "Zhang Min")),
    (("city",), ("Shanghai", "Beijing", "Shenzhen", "Hangzhou")),
    (("province", "state", "region"), ("Zhejiang", "Guangdong", "Jiangsu", "Sichuan")),
    (("street", "address", "line"), ("88 Century Avenue", "1 Zhongguancun Street", "200 Nanjing Road")),
    (("keyword", "query", "search"), ("wireless headphones", "running shoes", "coffee maker", "desk lamp")),
    (("remark", "note", "comment", "description"), ("Please deliver after 6 pm", "Leave it at the front desk")),
    (("tag",), ("sports", "music", "travel", "reading", "cooking")),
    (("country",), ("China", "Singapore", "Germany")),
    (("rrule",), ("FREQ=DAILY;INTERVAL=1", "FREQ=WEEKLY;BYDAY=MO,WE,FR")),  # RFC 5545 recurrence rules
    (("cron",), ("0 * * * *", "*/15 * * * *", "0 9 * * 1-5")),
    (("timezone", "time_zone"), ("UTC", "Asia/Shanghai", "Europe/Berlin")),
)
"""Property-name fragments -> realistic values for free-text strings (standard notations where the name says
one: a server parses a recurrence rule, a cron expression, a time zone's name)."""

DEFAULT_WORDS = ("sample value", "demo text", "example entry")
IDENTIFIER_WORDS = frozenset({"id", "uid", "key", "slug", "code", "handle", "identifier", "ref"})
"""The last word of a field name that says its value is an identifier: servers that state no pattern for it
usually still refuse spaces and capitals ("Invalid object id")."""
IDENTIFIERS = ("sample_value", "demo_text", "example_entry")
NAME_WORDS = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")
JSON_TEXT_NAMES = ("extra", "json", "metadata", "config", "conf", "settings", "params", "payload")
"""Free-text fields whose name says they hold JSON text: they get "{}"."""
INVALID_FORMATS = {
    "email": ("not-an-email", "user.example.com", "user@", "@example.com"),
    "date": ("2024-13-45", "not-a-date"),
    "date-time": ("not-a-date-time", "2024-13-01T10:00:00Z"),
    "uuid": ("not-a-uuid", "12345678-1234-1234-1234-12345678901g", "1234567812341234123412345678901"),
    "uri": ("not a uri", "example.com/path", "://missing-scheme"),
}
"""Values each checked format rejects, most readable first."""


MAP_KEY = "example_key"
"""The entry a map (an object whose additionalProperties has a schema) gets."""

OPTIONAL_DEPTH = 6
"""From this nesting depth (objects and arrays each count) only required properties and
minItems items are filled, so a recursive schema (a category tree) gives a small body,
not a tree as deep as its expansion."""


def sample(node: dict[str, Any], rng: random.Random, name: str = "", depth: int = 0, *,
           optional: bool = True) -> Any:
    """An accepted, realistic value for ``node``: a documented value first, else an invented one.

    Documented means the schema's own ``examples`` and ``default`` (when they are valid), then
    its enum; invented values follow the format, the pattern and the field's name. With
    ``optional=False`` objects carry their required properties only (a minimal body).
    """
    if "const" in node:
        return copy.deepcopy(node["const"])
    documented = documented_values(node)
    if documented and json_type(node) != "object":
        return copy.deepcopy(documented[0])
    if node.get("enum"):
        return copy.deepcopy(rng.choice(node["enum"]))
    branches = branches_of(node)
    if branches:
        return sample(branch(node, 0), rng, name, depth, optional=optional)
    kind = json_type(node)
    if kind == "object":
        fields = properties(node)
        if depth >= OPTIONAL_DEPTH or not optional:
            fields = {key: sub for key, sub in fields.items() if key in node.get("required", [])}
        elif not fields and isinstance(node.get("additionalProperties"), dict):  # a map: one entry
            fields = {MAP_KEY: node["additionalProperties"]}
        required = node.get("required", [])
        value = {key: False if _optional_flag(sub, key in required) else sample(sub, rng, key, depth + 1,
                                                                               optional=optional)
                 for key, sub in fields.items()}
        return _with_example(node, value, documented) if optional else value
    if kind == "array":
        return sample_array(node, rng, name, depth=depth, optional=optional)
    if kind in ("integer", "number"):
        return sample_number(node, rng, name)
    if kind == "boolean":
        return True
    if kind == "null":
        return None
    return sample_string(node, rng, name)


def _optional_flag(node: dict[str, Any], required: bool) -> bool:
    """An optional boolean without a documented value: left off (false), since flags switch behaviour on and
    several of them together are often refused (only_failed with only_new)."""
    documented = {"const", "default", "examples", "enum"} & node.keys()
    return not required and node.get("type") == "boolean" and not documented


def documented_values(node: dict[str, Any]) -> list[Any]:
    """The node's ``examples`` and ``default`` that the node itself accepts, in that order."""
    found = [*(node.get("examples") if isinstance(node.get("examples"), list) else []),
             *([node["default"]] if "default" in node else [])]
    return [value for value in found if accepts(node, value)]


def _with_example(node: dict[str, Any], value: dict[str, Any], documented: list[Any]) -> Any:
    """An object's documented example with the invented fields it leaves out, when that is still valid."""
    for item in documented:
        if isinstance(item, dict) and accepts(node, merged := {**value, **item}):
            return merged
    return documented[0] if documented else value


def json_type(node: dict[str, Any]) -> str:
    """The JSON type a node asks for, inferred from its keywords when ``type`` is absent."""
    declared = node.get("type")
    if isinstance(declared, list):
        declared = next((item for item in declared if item != "null"), "null")
    if isinstance(declared, str):
        return declared
    if "properties" in node or "required" in node or "additionalProperties" in node:
        return "object"
    if "items" in node or "minItems" in node or "maxItems" in node:
        return "array"
    if any(key in node for key in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf")):
        return "number"
    return "string"


def sample_array(
    node: dict[str, Any], rng: random.Random, name: str, count: int | None = None, depth: int = 0,
    optional: bool = True,
) -> list[Any]:
    """``count`` items (default: a small count inside minItems..maxItems, minItems when not ``optional``),
    distinct when uniqueItems."""
    declared = node.get("items")
    items: dict[str, Any] = declared if isinstance(declared, dict) else {}
    if count is None:
        low, high = node.get("minItems", 0), node.get("maxItems")
        count = max(low + 1, 2) if high is None else max(low, min(max(low + 1, 2), high))
        count = low if depth >= OPTIONAL_DEPTH or not optional else count
    item_name = name[:-1] if name.endswith("s") else name
    if isinstance(items.get("enum"), list) and items["enum"]:  # distinct members, never a suffixed one
        count = min(count, len(items["enum"])) if node.get("uniqueItems") else count
        members = rng.sample(items["enum"], len(items["enum"]))
        return [copy.deepcopy(members[index % len(members)]) for index in range(count)]
    result: list[Any] = []
    for _ in range(count):
        item = sample(items, rng, item_name, depth + 1, optional=optional)
        for _ in range(10):
            if not node.get("uniqueItems") or item not in result:
                break
            item = sample(items, rng, item_name, depth + 1, optional=optional)
        if isinstance(item, str) and item in result:
            item = f"{item}{len(result)}"
        result.append(item)
    return result


def length_range(node: dict[str, Any]) -> tuple[int, int | None]:
    """minLength and maxLength (None when unbounded)."""
    return node.get("minLength", 0), node.get("maxLength")


def sample_string(node: dict[str, Any], rng: random.Random, name: str, length: int | None = None) -> str | None:
    """An accepted string, of exactly ``length`` characters when given; None when none can be made."""
    low, high = length_range(node) if length is None else (length, length)
    pattern = node.get("pattern")
    if isinstance(pattern, str):
        plain = fit_text(word(name, rng), rng, low, high)
        return plain if re.search(pattern, plain) else pattern_string(pattern, rng, low, high)
    formatted = format_sample(node.get("format"), rng, name)
    if formatted is None:
        return fit_text(word(name, rng), rng, low, high)
    return fit_format(node.get("format"), formatted, rng, low, high)


def word(name: str, rng: random.Random) -> str:
    """A realistic free-text value for a property called ``name``."""
    lowered = name.lower()
    if any(fragment in lowered for fragment in JSON_TEXT_NAMES):
        return "{}"
    words = NAME_WORDS.findall(name)
    if words and words[-1].lower() in IDENTIFIER_WORDS:
        return rng.choice(IDENTIFIERS)
    for fragments, words in WORDS:
        if any(fragment in lowered for fragment in fragments):
            return rng.choice(words)
    return rng.choice(DEFAULT_WORDS)


def fit_text(text: str, rng: random.Random, low: int, high: int | None) -> str:
    """``text`` padded with letters or cut so its length is within ``low``..``high``."""
    while len(text) < low:
        text += rng.choice(string.ascii_lowercase)
    if high is not None and len(text) > high:
        text = text[:high]
        if text and not text[-1].isalnum():
            text = text[:-1] + rng.choice(string.ascii_lowercase)
    return text


def format_sample(fmt: Any, rng: random.Random, name: str) -> str | None:
    """A value of the format ``fmt``, or None for no or an unknown format."""
    day = f"{rng.randint(1980, 2024):04d}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
    clock = f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}"
    samples = {
        "email": f"{word('email', rng)}{rng.randint(1, 99)}@example.com",
        "date": day,
        "date-time": f"{day}T{clock}Z",
        "time": f"{clock}Z",
        "uuid": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "uri": f"https://www.example.com/{fit_text(word(name, rng).replace(' ', '-').lower(), rng, 1, 24)}",
        "hostname": "api.example.com",
        "ipv4": f"192.168.{rng.randint(0, 255)}.{rng.randint(1, 254)}",
    }
    return samples.get(fmt) if isinstance(fmt, str) else None


def fit_format(fmt: Any, text: str, rng: random.Random, low: int, high: int | None) -> str | None:
    """A format value with its length brought within ``low``..``high`` where the format allows."""
    target = max(low, len(text)) if high is None else min(max(low, len(text)), high)
    if target == len(text):
        return text
    if fmt == "email":
        local, domain = text.split("@")
        return _resize_head(local, "@" + domain, target, rng) or _resize_head(local, "@ex.io", target, rng)
    if fmt == "uri":
        slug = text.rsplit("/", 1)[-1]
        prefix = "https://www.example.com/" if target > 24 else "http://ex.io/"
        size = target - len(prefix)
        return prefix + fit_text(slug, rng, size, size) if size >= 1 else None
    return None


def _resize_head(head: str, tail: str, target: int, rng: random.Random) -> str | None:
    size = target - len(tail)
    return fit_text(head, rng, size, size) + tail if size >= 1 else None


def pattern_string(pattern: str, rng: random.Random, low: int, high: int | None, attempts: int = 60) -> str | None:
    """A string matching ``pattern`` (JSON Schema: unanchored search) of length within ``low``..``high``."""
    generator = Rstr(rng)
    compiled = re.compile(pattern)
    for _ in range(attempts):
        text = generator.xeger(pattern)
        for candidate in _resized(text, low, high):
            if compiled.search(candidate):
                return candidate
    return None


def _resized(text: str, low: int, high: int | None) -> list[str]:
    """``text`` itself when its length fits, else a few trimmed or padded variants that do."""
    if low <= len(text) and (high is None or len(text) <= high):
        return [text]
    if high is not None and len(text) > high:
        cut = len(text) - high
        return [text[:high], text[cut:], text[:1] + text[1 + cut :]] if high > 0 else [""]
    missing = low - len(text)
    if not text:
        return []
    return [text + text[-1] * missing, text[:1] + text[1:2] * missing + text[1:], text[0] * missing + text]
