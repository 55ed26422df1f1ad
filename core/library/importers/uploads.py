"""What every imported file is before it is read: bytes of bounded size, with a one-line name."""

from __future__ import annotations

from typing import Any

from core import inputs
from core.errors import InvalidInput

MAX_UPLOAD_BYTES = 10 * 2**20
"""10 MiB: ample for an OpenAPI document of thousands of operations or 5,000 test cases."""
MAX_FILENAME_CHARS = 255


def check(data: Any, filename: Any) -> tuple[bytes, str]:
    """``(data, filename)`` if ``data`` is bytes of at most MAX_UPLOAD_BYTES and ``filename`` plain text."""
    name = inputs.text(filename, "The file name", limit=MAX_FILENAME_CHARS, single_line=True)
    if isinstance(data, (bytearray, memoryview)):
        data = bytes(data)
    if not isinstance(data, bytes):
        raise InvalidInput("{name}: the file's content must be bytes, not {name2}.",
                           name=name, name2=type(data).__name__)
    if len(data) > MAX_UPLOAD_BYTES:
        raise InvalidInput("{name} has {data_count:,} bytes; import files of at most {value} MiB.",
                           name=name, data_count=len(data), value=MAX_UPLOAD_BYTES // 2 ** 20)
    return data, name
