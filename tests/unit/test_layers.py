"""The layers hold (docs/architecture.md): import-linter checks every import's direction in `make test`;
these tests add what it cannot see. Pure: no app needed."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("app", "geo", "survey", "sync", "indicators", "maps")
SHELL = ("app", "app.views", "app.cli", "app.models", "app.desktop")

# Function-local imports across layers that stay, each with its reason.
LOCAL_IMPORTS = {
    ("app", "geo"): "create_app: every app.* module imports the app package first, so its top cannot import the packages",
    ("app", "survey"): "create_app, as above",
    ("app", "sync"): "create_app, as above",
    ("app", "indicators"): "create_app, as above",
    ("app", "maps"): "create_app, as above",
}


def layer(module: str) -> str:
    """The layer a module belongs to: a package, or one of app's three parts (kernel, auth, shell)."""
    top = module.split(".")[0]
    if top != "app":
        return top
    if module == "app.auth" or module.startswith("app.auth."):
        return "app.auth"
    if any(module == s or module.startswith(s + ".") for s in SHELL[1:]) or module == "app":
        return "app shell"
    return "app kernel"


def _modules():
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
            yield name, ast.parse(path.read_text(), str(path))


def _local_imports(tree: ast.Module):
    for function in ast.walk(tree):
        if isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for node in ast.walk(function):
                if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    yield node.module, node.lineno
                elif isinstance(node, ast.Import):
                    yield from ((alias.name, node.lineno) for alias in node.names)


def test_no_function_local_import_crosses_a_layer_without_its_reason():
    found = []
    for name, tree in _modules():
        for target, line in _local_imports(tree):
            if target.split(".")[0] not in PACKAGES or layer(target) == layer(name):
                continue
            if (name, target.split(".")[0]) not in LOCAL_IMPORTS:
                found.append(f"{name}:{line} imports {target} inside a function")
    assert not found, "import at the top (the layers allow it) or list it in LOCAL_IMPORTS with its reason:\n" + "\n".join(found)


def test_the_listed_exceptions_still_exist():
    present = {(name, target.split(".")[0]) for name, tree in _modules() for target, _line in _local_imports(tree)}
    assert set(LOCAL_IMPORTS) <= present, set(LOCAL_IMPORTS) - present


@pytest.mark.parametrize("module, expected", [
    ("app.db", "app kernel"), ("app.node", "app kernel"), ("app.auth.scope", "app.auth"), ("app.views", "app shell"),
    ("app.desktop.window", "app shell"), ("app", "app shell"), ("sync.apply", "sync"), ("maps.views", "maps"),
])
def test_layer_names(module, expected):
    assert layer(module) == expected
