"""User text that markdown would turn into a heading, bold, an image, maths or a Streamlit directive.

The dashboard must show it as typed. ``MARKS`` are the pieces that must never reach a
markdown string unescaped; ``openapi_document`` carries the text in every field an
import turns into scene text (path, id, summary, description, module, document title).
"""

from __future__ import annotations

import json

IMAGE = "http://127.0.0.1:9/t.png"
MARKS = ("# H1", "**B**", ":red[R]", "![t](", "$x$", ":material/home:")


def hostile_text(image: str = IMAGE) -> str:
    """A heading mark, bold, a colour directive, a remote image, maths, an icon and HTML, in one line."""
    return f"# H1 **B** :red[R] ![t]({image}) $x$ :material/home: <b>x</b>"


TEXT = hostile_text()


def openapi_document(text: str = TEXT) -> bytes:
    """One operation (no operationId, so the scene id is "POST <path>") whose texts all hold ``text``."""
    body = {"type": "object", "required": ["name"], "properties": {"name": {"type": "string", "maxLength": 20}}}
    operation = {
        "tags": [f"Mod {text}"], "summary": text, "description": f"# Heading\n\n{text}",
        "requestBody": {"content": {"application/json": {"schema": body}}},
        "responses": {"201": {"description": f"# created {text}"}},
    }
    document = {"openapi": "3.0.3", "info": {"title": f"Doc {text}", "version": "1"},
                "paths": {f"/md/{text}": {"post": operation}}}
    return json.dumps(document).encode()
