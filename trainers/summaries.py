"""The first line of a module's docstring, read from its source without importing the module, so that
``eqpm --help`` can list the estimators and the studies without loading torch."""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path


def summary(module: str) -> str:
    """The first line of ``module``'s docstring (its name if it has none)."""
    origin = importlib.util.find_spec(module).origin
    return (ast.get_docstring(ast.parse(Path(origin).read_text())) or module).strip().splitlines()[0]
