"""The merge imports no Flask: sync.apply and every sync module it reaches read no app, no request
and no configuration (docs/sync.md, "Where the merge lives"). Read from the source, nothing imported."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FLASK = ("flask", "flask_sqlalchemy", "app.extensions")  # app.extensions holds Flask-SQLAlchemy's `db`
FLASK_GLOBALS = {"current_app", "request", "g"}  # names; Flask-SQLAlchemy's db.session is looked for as text


def _sync_imports(module: str) -> tuple[set[str], set[str]]:
    """(sync modules imported, other modules imported) by one module's source."""
    tree = ast.parse((ROOT / f"{module.replace('.', '/')}.py").read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            found |= {f"sync.{a.name}" for a in node.names} if node.module == "sync" else {node.module}
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
    return {m for m in found if m.startswith("sync.")}, {m for m in found if not m.startswith("sync.")}


def _merge_modules() -> dict[str, set[str]]:
    """Every sync module the merge reaches, with the other modules each imports."""
    reached, todo = {}, ["sync.apply"]
    while todo:
        module = todo.pop()
        if module not in reached:
            inner, outer = _sync_imports(module)
            reached[module] = outer
            todo += sorted(inner)
    return reached


def test_nothing_the_merge_reaches_in_sync_imports_flask_or_reads_its_globals():
    modules = _merge_modules()
    assert {"sync.apply_audits", "sync.apply_facilities", "sync.npsn", "sync.bulk", "sync.wire"} <= set(modules)
    for module, imported in modules.items():
        assert not {m for m in imported if m.startswith(FLASK)}, module
        source = (ROOT / f"{module.replace('.', '/')}.py").read_text(encoding="utf-8")
        names = {node.id for node in ast.walk(ast.parse(source)) if isinstance(node, ast.Name)}
        assert not names & FLASK_GLOBALS, module
        assert "db.session" not in source, module
