"""Keeping secrets out of what is sent to the model.

A scene's schema may carry real credentials in its examples and defaults, and a test case
may quote a token or a password. Before anything is sent, :class:`Redactor`:

- replaces example, default, const and enum values of fields named like a secret
  (authorization, token, password, secret, api_key, access_key, cookie, session, ...),
  and values under such keys inside example objects;
- replaces credentials that look like one wherever they appear in text ("Bearer ...",
  "sk-...", JWTs, "password=..."), and every secret found that way elsewhere in the
  payload too (an example password reused in a body, say).

The model sees ``***REDACTED***`` instead; the real schema stays what bodies are checked against.
"""

from __future__ import annotations

import re
from typing import Any

REDACTED = "***REDACTED***"

SECRET_KEY = re.compile(
    r"authori[sz]ation|token|passw(?:or)?d|pwd|secret|api[-_]?key|access[-_]?key|private[-_]?key|"
    r"cookie|session|credential|signature|密码|口令|令牌|密钥|秘钥",
    re.IGNORECASE,
)
"""Names of fields and keys whose values are secrets."""

VALUE_KEYWORDS = ("example", "examples", "default", "const", "enum", "x-example", "x-examples")
"""Schema keywords that hold values rather than schemas."""

TEXT_KEYWORDS = ("description", "title", "summary", "$comment")

_TOKENS = (
    re.compile(r"\b(?:[Bb]earer|BEARER|Basic|Token)\s+(?=[A-Za-z0-9\-._~+/]*[0-9\-._~+/])[A-Za-z0-9\-._~+/]{8,}=*"),
    re.compile(r"\bsk-[A-Za-z0-9_\-]{8,}"),
    re.compile(r"\beyJ[A-Za-z0-9_\-]{4,}\.[A-Za-z0-9_\-]{4,}\.[A-Za-z0-9_\-]*"),
    re.compile(r"\bAKIA[0-9A-Z]{16}\b"),
    re.compile(r"\bgh[pousr]_[A-Za-z0-9]{20,}\b"),
    re.compile(r"\bxox[abprs]-[A-Za-z0-9\-]{10,}"),
)
"""Credentials recognisable by their shape alone."""

_KEY_VALUE = re.compile(
    r"(?P<key>\b(?:[A-Za-z_\-]*(?:authori[sz]ation|token|passw(?:or)?d|pwd|secret|api[-_]?key|apikey|"
    r"access[-_]?key|cookie|session(?:[-_]?id)?)[A-Za-z_\-]*)\b|密码|口令|令牌|密钥|秘钥)"
    r"(?P<sep>\s*[\"']?\s*[:=：]\s*[\"']?\s*)"
    r"(?P<value>(?:(?:Bearer|Basic|Token)\s+)?[^\s\"',;，；。)）]+)",
    re.IGNORECASE,
)
"""``password=...``, ``"api_key": "..."``, ``Authorization: Bearer ...``, ``密码：...`` in text."""

MIN_SUBSTRING_SECRET = 6
"""Shorter known secrets are only replaced where a whole value equals them (no damage to other text)."""


def is_secret_key(name: str) -> bool:
    return bool(SECRET_KEY.search(name))


def _credential_like(value: str) -> bool:
    """A value after "password:" that is a credential, not prose ("password: at least 8 characters")."""
    if value == REDACTED or len(value) < 4:
        return False
    return len(value) >= 12 or bool(re.search(r"[\d\W_]", value))


class Redactor:
    """Redacts one test case and one scene, and anything sent along with them."""

    def __init__(self) -> None:
        self.secrets: set[str] = set()

    def schema(self, schema: Any) -> Any:
        """A copy of a JSON Schema (or any part of a scene) with secret values replaced."""
        return self._schema(schema, "")

    def text(self, text: str) -> str:
        """Text with credentials replaced; each one found is remembered and scrubbed everywhere after."""
        for pattern in _TOKENS:
            for found in pattern.findall(text):
                self.secrets.update((found, found.split()[-1]))
        text = _KEY_VALUE.sub(self._key_value, text)
        for pattern in _TOKENS:
            text = pattern.sub(REDACTED, text)
        return self._known(text)

    def value(self, value: Any) -> Any:
        """A copy of an example value: strings scrubbed, values under secret keys replaced."""
        if isinstance(value, dict):
            return {key: self._secret(item) if is_secret_key(str(key)) else self.value(item)
                    for key, item in value.items()}
        if isinstance(value, list):
            return [self.value(item) for item in value]
        return self.text(value) if isinstance(value, str) else value

    def strings(self, value: Any) -> Any:
        """A copy of generated data (request bodies): only credentials and known secrets are replaced."""
        if isinstance(value, dict):
            return {key: self.strings(item) for key, item in value.items()}
        if isinstance(value, list):
            return [self.strings(item) for item in value]
        return self.text(value) if isinstance(value, str) else value

    def _schema(self, node: Any, field: str) -> Any:
        if isinstance(node, list):
            return [self._schema(item, field) for item in node]
        if not isinstance(node, dict):
            return node
        result: dict[str, Any] = {}
        for key, item in node.items():
            if key in ("properties", "patternProperties") and isinstance(item, dict):
                result[key] = {name: self._schema(sub, str(name)) for name, sub in item.items()}
            elif key in VALUE_KEYWORDS:
                result[key] = self._secret(item) if field and is_secret_key(field) else self.value(item)
            elif key in TEXT_KEYWORDS and isinstance(item, str):
                result[key] = self.text(item)
            elif key == "headers" and isinstance(item, dict):  # documented response headers
                result[key] = {name: self._secret(sub) if is_secret_key(str(name)) else self._schema(sub, str(name))
                               for name, sub in item.items()}
            else:
                result[key] = self._schema(item, field)
        return result

    def _secret(self, value: Any) -> Any:
        """Every leaf of ``value`` is a secret: remembered, and replaced."""
        if isinstance(value, dict):
            return {key: self._secret(item) for key, item in value.items()}
        if isinstance(value, list):
            return [self._secret(item) for item in value]
        if value is None or isinstance(value, bool):
            return value
        if str(value):
            self.secrets.add(str(value))
        return REDACTED

    def _key_value(self, match: re.Match[str]) -> str:
        value = match.group("value")
        if not _credential_like(value):
            return match.group(0)
        self.secrets.add(value)
        return f"{match.group('key')}{match.group('sep')}{REDACTED}"

    def _known(self, text: str) -> str:
        if text in self.secrets:
            return REDACTED
        for secret in sorted(self.secrets, key=len, reverse=True):
            if len(secret) >= MIN_SUBSTRING_SECRET and secret in text:
                text = text.replace(secret, REDACTED)
        return text


def scrub(text: str, *secrets: str) -> str:
    """``text`` (an error message, say) without credentials, nor any of ``secrets``."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, REDACTED)
    for pattern in _TOKENS:
        text = pattern.sub(REDACTED, text)
    return text
