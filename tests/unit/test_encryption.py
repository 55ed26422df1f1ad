"""Secrets at rest: Fernet under CASEFLOW_SECRET_KEY or CaseFlow's own key file, and clear operator errors."""

from __future__ import annotations

import stat
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from core import encryption
from core.config import get_settings
from core.errors import SecretKeyError

SECRET = "whsec-0123456789abcdef-long-enough"


@pytest.fixture
def configure(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., None]]:
    """configure(KEY=value, ...): the settings of a SQLite database in tmp_path with these variables."""

    def apply(**variables: str | None) -> None:
        monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'db' / 'caseflow.db'}")
        for name in ("CASEFLOW_SECRET_KEY", "CASEFLOW_SECRET_KEY_FILE"):
            monkeypatch.delenv(name, raising=False)
        for name, value in variables.items():
            if value is not None:
                monkeypatch.setenv(name, value)
        get_settings.cache_clear()

    apply()
    yield apply
    get_settings.cache_clear()


def test_without_a_key_caseflow_makes_its_own_beside_the_database(configure: Callable[..., None],
                                                                   tmp_path: Path) -> None:
    key_file = tmp_path / "db" / encryption.KEY_FILE_NAME
    with pytest.raises(SecretKeyError, match="There is no key file"):
        encryption.decrypt("gAAAA-not-yet")
    assert not key_file.exists(), "reading never makes a key"
    token = encryption.encrypt(SECRET)
    assert SECRET not in token and encryption.decrypt(token) == SECRET
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    key = key_file.read_text()
    assert encryption.decrypt(encryption.encrypt(SECRET)) == SECRET and key_file.read_text() == key
    assert list(key_file.parent.iterdir()) == [key_file], "no temporary file left behind"

    elsewhere = tmp_path / "keys" / "caseflow.key"
    configure(CASEFLOW_SECRET_KEY_FILE=str(elsewhere))
    with pytest.raises(SecretKeyError, match=f"There is no key file at {elsewhere}"):
        encryption.decrypt(token)


def test_a_configured_key_rotates_and_a_wrong_one_says_so(configure: Callable[..., None]) -> None:
    old, new = encryption.new_key(), encryption.new_key()
    configure(CASEFLOW_SECRET_KEY=old)
    token = encryption.encrypt(SECRET)
    configure(CASEFLOW_SECRET_KEY=f"{new}, {old}")
    assert encryption.decrypt(token) == SECRET
    assert encryption.decrypt(encryption.encrypt(SECRET)) == SECRET
    configure(CASEFLOW_SECRET_KEY=new)
    with pytest.raises(SecretKeyError, match="not the one it was encrypted with") as wrong:
        encryption.decrypt(token)
    assert new not in wrong.value.message and old not in wrong.value.message


@pytest.mark.parametrize("key", ["not-a-key", "", " , ", "A" * 43])
def test_a_malformed_key_is_an_operator_error_naming_the_setting(configure: Callable[..., None], key: str) -> None:
    configure(CASEFLOW_SECRET_KEY=key)
    with pytest.raises(SecretKeyError, match="CASEFLOW_SECRET_KEY") as malformed:
        encryption.encrypt(SECRET)
    assert "python -m core secret-key" in malformed.value.message


def test_a_key_file_that_cannot_be_read_or_holds_no_key(configure: Callable[..., None], tmp_path: Path) -> None:
    bad = tmp_path / "bad.key"
    bad.write_text("garbage\n")
    configure(CASEFLOW_SECRET_KEY_FILE=str(bad))
    with pytest.raises(SecretKeyError, match=f"the key file {bad} is not a Fernet key"):
        encryption.encrypt(SECRET)
    configure(CASEFLOW_SECRET_KEY_FILE=str(tmp_path))  # a folder
    with pytest.raises(SecretKeyError, match="cannot be read"):
        encryption.encrypt(SECRET)
