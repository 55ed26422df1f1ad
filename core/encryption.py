"""Secrets CaseFlow must use again later (webhook signing secrets), encrypted at rest with Fernet.

The key is CASEFLOW_SECRET_KEY: one Fernet key, or several separated by commas to rotate
(the first encrypts, every one decrypts). Without it, CaseFlow keeps its own key in a file,
CASEFLOW_SECRET_KEY_FILE, by default ``caseflow-secret.key`` beside the SQLite database
(``data/`` of the project for other databases), written with mode 0600 the first time a
secret is stored. Every process that sends webhooks needs the same key. Keys never reach a
log or a message.
"""

from __future__ import annotations

import logging
import os
import secrets
from functools import lru_cache
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from core.config import PROJECT_ROOT, Settings, get_settings
from core.errors import SecretKeyError

log = logging.getLogger(__name__)

KEY_FILE_NAME = "caseflow-secret.key"
KEY_HINT = "generate one with `python -m core secret-key`"


def encrypt(plain: str) -> str:
    """``plain`` encrypted under the current key (created on first use when CaseFlow keeps its own)."""
    return _keys(create=True).encrypt(plain.encode("utf-8")).decode("ascii")


def decrypt(token: str) -> str:
    """The secret ``token`` holds; SecretKeyError when no configured key opens it."""
    keys = _keys(create=False)
    try:
        return keys.decrypt(token.encode("ascii")).decode("utf-8")
    except (InvalidToken, UnicodeError):
        raise SecretKeyError(
            f"A stored webhook secret cannot be decrypted with {_source(get_settings())}: the key is not the one it "
            "was encrypted with. Restore that key, or list it after the new one in CASEFLOW_SECRET_KEY (comma-"
            "separated) to rotate."
        ) from None


def new_key() -> str:
    """A fresh Fernet key (32 random bytes, URL-safe base64)."""
    return Fernet.generate_key().decode("ascii")


def key_file(settings: Settings) -> Path:
    """Where CaseFlow keeps its own key when CASEFLOW_SECRET_KEY is not set."""
    if settings.caseflow_secret_key_file is not None:
        return settings.caseflow_secret_key_file
    try:
        url = make_url(settings.database_url)
    except (ArgumentError, ValueError):
        url = None
    if url is not None and url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        return Path(url.database).resolve().parent / KEY_FILE_NAME
    return PROJECT_ROOT / "data" / KEY_FILE_NAME


def _keys(*, create: bool) -> MultiFernet:
    settings = get_settings()
    if settings.caseflow_secret_key is not None:
        return _parsed(settings.caseflow_secret_key.get_secret_value(), "CASEFLOW_SECRET_KEY")
    path = key_file(settings)
    return _parsed(_read_key_file(path, create=create), f"the key file {path}")


def _source(settings: Settings) -> str:
    return "CASEFLOW_SECRET_KEY" if settings.caseflow_secret_key is not None else f"the key file {key_file(settings)}"


@lru_cache(maxsize=8)
def _parsed(text: str, source: str) -> MultiFernet:
    keys = [part.strip() for part in text.split(",") if part.strip()]
    if not keys:
        raise SecretKeyError(f"{source} holds no key: {KEY_HINT}.")
    try:
        return MultiFernet([Fernet(key) for key in keys])
    except ValueError:
        raise SecretKeyError(f"{source} is not a Fernet key (32 URL-safe base64-encoded bytes; several are "
                             f"separated by commas): {KEY_HINT}.") from None


def _read_key_file(path: Path, *, create: bool) -> str:
    try:
        return path.read_text(encoding="ascii")
    except FileNotFoundError:
        if not create:
            raise SecretKeyError(
                f"There is no key file at {path}, but a stored webhook secret needs the key it was encrypted with: "
                "restore the file, or set CASEFLOW_SECRET_KEY (or CASEFLOW_SECRET_KEY_FILE) to that key."
            ) from None
    except (OSError, UnicodeError) as error:
        raise SecretKeyError(f"The key file {path} cannot be read ({_reason(error)}): fix its permissions, or set "
                             "CASEFLOW_SECRET_KEY.") from None
    return _create_key_file(path)


def _create_key_file(path: Path) -> str:
    """Writes a new key to ``path`` (mode 0600) unless another process just did; returns the key in the file."""
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(6)}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="ascii") as file:
            file.write(new_key() + "\n")
            file.flush()
            os.fsync(file.fileno())
        try:
            os.link(temporary, path)  # atomic, and refuses to replace a key another process wrote first
            log.warning("Created %s, the key of the webhook secrets stored in the database (mode 0600): back it "
                        "up with the database, and give every process the same key.", path)
        except FileExistsError:
            pass
        return path.read_text(encoding="ascii")
    except OSError as error:
        raise SecretKeyError(f"The key file {path} cannot be created ({_reason(error)}): set CASEFLOW_SECRET_KEY, "
                             "or CASEFLOW_SECRET_KEY_FILE to a writable place.") from None
    finally:
        temporary.unlink(missing_ok=True)


def _reason(error: Exception) -> str:
    return getattr(error, "strerror", None) or type(error).__name__
