"""Which schema fields and constraint keywords a piece of free text (English or Chinese) talks about."""

from __future__ import annotations

import re
from typing import Any

from core.schema.values import json_type
from core.schema.walk import Field, escape, properties, walk

KEYWORD_WORDS: dict[str, tuple[str, ...]] = {
    "required": ("required", "missing", "mandatory", "必填", "缺少", "缺失", "不能为空", "为空"),
    "type": ("type", "类型"),
    "enum": ("enum", "allowed value", "枚举", "可选值", "不支持"),
    "const": ("const", "fixed value", "固定值"),
    "minLength": ("minlength", "length", "too short", "长度", "字符", "过短"),
    "maxLength": ("maxlength", "length", "too long", "长度", "字符", "过长"),
    "pattern": ("pattern", "format", "格式", "正则"),
    "format": ("format", "格式"),
    "minimum": ("minimum", "range", "too small", "最小", "范围", "小于", "低于"),
    "maximum": ("maximum", "range", "too large", "最大", "范围", "大于", "超过"),
    "exclusiveMinimum": ("exclusiveminimum", "range", "greater than", "范围", "大于", "正数"),
    "exclusiveMaximum": ("exclusivemaximum", "range", "less than", "范围", "小于"),
    "multipleOf": ("multipleof", "multiple", "precision", "decimal", "精度", "倍数", "小数"),
    "minItems": ("minitems", "at least", "empty list", "至少", "为空"),
    "maxItems": ("maxitems", "at most", "too many", "最多", "超过"),
    "uniqueItems": ("uniqueitems", "unique", "duplicate", "重复"),
    "additionalProperties": (
        "additionalproperties", "extra field", "unknown field", "多余字段", "额外字段", "未定义字段",
    ),
}
"""Keyword -> words a QA engineer uses for it (lower case)."""

BOUNDARY_WORDS = ("boundary", "edge", "limit", "边界", "临界")


def mentioned_fields(schema: dict[str, Any], text: str) -> list[str]:
    """Pointers of the fields whose name, title or short description appears in ``text``."""
    lowered = text.lower()
    return [field.pointer for field in walk(schema) if _is_property(field) and _mentions(lowered, _terms(field))]


def _is_property(field: Field) -> bool:
    return field.depth > 0 and not field.pointer.endswith("/0")


def _terms(field: Field) -> list[str]:
    spaced = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", field.name).replace("_", " ")
    terms = [field.name, spaced]
    for key in ("title", "description"):
        value = field.schema.get(key)
        if isinstance(value, str):
            terms.append(re.split(r"[,，.。;；:：(（]", value, maxsplit=1)[0])
    return [term.strip().lower() for term in terms if 2 <= len(term.strip()) <= 24]


def _mentions(lowered: str, terms: list[str]) -> bool:
    return any(appears(term, lowered) for term in terms)


def appears(term: str, lowered: str) -> bool:
    """Whether ``term`` occurs in ``lowered`` (as a whole word when the term is ASCII)."""
    if term.isascii():
        return re.search(rf"(?<![a-z0-9_]){re.escape(term)}(?![a-z0-9_])", lowered) is not None
    return term in lowered


def mentioned_keywords(text: str) -> list[str]:
    """The JSON Schema keywords ``text`` talks about, by name or by the usual QA words."""
    lowered = text.lower()
    return [keyword for keyword, words in KEYWORD_WORDS.items() if any(word in lowered for word in words)]


def mentions_boundaries(text: str) -> bool:
    """Whether ``text`` asks about boundary values."""
    lowered = text.lower()
    return any(word in lowered for word in BOUNDARY_WORDS)


def required_leaves(node: dict[str, Any], pointer: str = "") -> list[str]:
    """Pointers of the required fields that are not objects, following required objects and arrays of objects."""
    result: list[str] = []
    for name, sub in properties(node).items():
        if name not in node.get("required", []):
            continue
        child = f"{pointer}/{escape(name)}"
        items = sub.get("items")
        if json_type(sub) == "object" and properties(sub):
            result += required_leaves(sub, child)
        elif json_type(sub) == "array" and isinstance(items, dict) and properties(items):
            result += required_leaves(items, f"{child}/0")
        else:
            result.append(child)
    return result
