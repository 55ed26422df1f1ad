"""Reading exported pytest files as a user's CI would: run them, and look at their code and their data apart."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any


def run_pytest(path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """Runs an exported file in its own directory with pytest, with only ``env`` of CaseFlow's variables set."""
    environment = {key: value for key, value in os.environ.items() if not key.startswith(("BASE_URL", "CASEFLOW"))}
    return subprocess.run([sys.executable, "-m", "pytest", str(path), "-q", "-p", "no:cacheprovider", "-rf"],
                          cwd=path.parent, env={**environment, **env}, capture_output=True, text=True, timeout=120)


def _case_argument(tree: ast.Module) -> ast.Constant:
    """The string constant given to json.loads in ``CASE = json.loads(...)``."""
    for node in tree.body:
        target = node.target if isinstance(node, ast.AnnAssign) else None
        if isinstance(target, ast.Name) and target.id == "CASE" and isinstance(node.value, ast.Call):
            (argument,) = node.value.args
            assert isinstance(argument, ast.Constant) and isinstance(argument.value, str), ast.dump(argument)
            return argument
    raise AssertionError("no CASE = json.loads(...) in the exported file")


def embedded_case(source: str) -> dict[str, Any]:
    """The document an exported pytest file carries, read without running the file."""
    return json.loads(_case_argument(ast.parse(source)).value)


def code_shape(source: str) -> str:
    """The file's syntax tree with the case's data blanked: equal for two exports means equal code."""
    tree = ast.parse(source)
    _case_argument(tree).value = ""
    return ast.dump(tree)
