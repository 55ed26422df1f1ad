"""A server's document into CaseFlow: through ``core.service.import_openapi``, converted first only if it must be.

CaseFlow does not import Swagger 2.0 yet (issue 9 point 4). Until it does, a Swagger 2.0 document
the product refuses is converted to OpenAPI 3.0 by ``swagger2openapi`` (npm, installed into the
cache like the servers) and the conversion is reported with the figures. Once the product imports
Swagger 2.0 itself, the first import succeeds and nothing is converted.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import yaml

from bench.quality.installs import Unavailable, npm_install
from core import service
from core.errors import InvalidInput

CONVERTER = ("swagger2openapi", "7.0.8")


def import_document(document: bytes, filename: str, *, user: str, module: str) -> dict[str, Any]:
    """Imports the document; returns {"format", "converted_by", "scenes"}."""
    try:
        report = service.import_openapi(document, filename, user=user, module=module)
        return {"format": _format(document), "converted_by": None, "scenes": len(report["added"])}
    except InvalidInput as error:
        if "Swagger 2.0" not in error.message:
            raise
    converted, tool = convert_swagger2(document)
    report = service.import_openapi(converted, filename, user=user, module=module)
    return {"format": "Swagger 2.0", "converted_by": tool, "scenes": len(report["added"])}


def convert_swagger2(document: bytes) -> tuple[bytes, str]:
    """The document as OpenAPI 3.0 JSON, and the converter's name and version."""
    install = npm_install("swagger2openapi", *CONVERTER)
    with tempfile.TemporaryDirectory() as directory:
        source, target = Path(directory) / "swagger.json", Path(directory) / "openapi.json"
        source.write_bytes(document)
        done = subprocess.run([str(install.bin / "swagger2openapi"), "--patch", str(source), "-o", str(target)],
                              capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
        if done.returncode != 0 or not target.exists():
            raise Unavailable(f"swagger2openapi failed: {(done.stderr or done.stdout).strip()[-300:]}")
        return target.read_bytes(), f"swagger2openapi {install.version}"


def _format(document: bytes) -> str:
    text = document.decode("utf-8", "replace")
    content = json.loads(text) if text.lstrip().startswith("{") else yaml.safe_load(text)
    return f"OpenAPI {content.get('openapi', '?')}" if isinstance(content, dict) else "?"
