"""The error registries without an app: every code raised is registered once and translated."""

from __future__ import annotations

import ast
import functools
import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from app.auth.problems import AUTH_PROBLEMS
from app.backup.problems import BACKUP_PROBLEMS
from app.problems import KERNEL_PROBLEMS, N_, AppError, NotFound, Problem, Problems
from geo.problems import GEO_PROBLEMS
from maps.problems import MAP_PROBLEMS
from indicators.problems import INDICATOR_PROBLEMS, IndicatorSetError
from survey.problems import SURVEY_PROBLEMS
from sync.problems import SYNC_PROBLEMS, SyncError

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("app", "geo", "survey", "sync", "indicators", "maps")
CATALOG = ROOT / "translations/id/LC_MESSAGES/messages.po"
REGISTRIES = {
    "KERNEL_PROBLEMS": KERNEL_PROBLEMS, "AUTH_PROBLEMS": AUTH_PROBLEMS, "GEO_PROBLEMS": GEO_PROBLEMS,
    "MAP_PROBLEMS": MAP_PROBLEMS, "SURVEY_PROBLEMS": SURVEY_PROBLEMS, "SYNC_PROBLEMS": SYNC_PROBLEMS,
    "INDICATOR_PROBLEMS": INDICATOR_PROBLEMS, "BACKUP_PROBLEMS": BACKUP_PROBLEMS,
}
# Codes one package raises with a class of another's, so each registers its own variant. The photo store
# (survey) and a bundle (sync) both refuse a photo whose bytes do not match its hash: clients branch on
# the one code.
SHARED = {"photo.hash_mismatch": {"SURVEY_PROBLEMS", "SYNC_PROBLEMS"}}
FIELD = re.compile(r"%\((\w+)\)")


def error_classes(cls: type = AppError) -> set[str]:
    """AppError and every subclass of it, by name."""
    return {cls.__name__}.union(*(error_classes(sub) for sub in cls.__subclasses__()))


def sources():
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            yield path.relative_to(ROOT).as_posix(), ast.parse(path.read_text(encoding="utf-8"))


def calls(tree):
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", None)
            yield name, node.args[0].value, node.lineno


def raised() -> list[tuple[str, str, str]]:
    """(where, registry, key) for every call to a registry with a literal key."""
    return [(f"{path}:{line}", name, key) for path, tree in sources() for name, key, line in calls(tree)
            if name in REGISTRIES]


@functools.cache
def catalog() -> dict[str, object]:
    with CATALOG.open("rb") as handle:
        return {message.id: message for message in read_po(handle) if isinstance(message.id, str) and message.id}


def registered() -> list[tuple[str, Problem]]:
    return [(name, problem) for name, registry in REGISTRIES.items() for problem in registry]


@pytest.mark.parametrize(("where", "registry", "key"), raised(), ids=lambda v: v if isinstance(v, str) else None)
def test_every_key_raised_is_registered_in_the_registry_called(where, registry, key):
    assert key in {problem.key for problem in REGISTRIES[registry]}, f"{where}: {key} is not in {registry}"


def test_the_registries_are_called_and_nothing_builds_an_error_from_a_literal_code():
    assert len(raised()) > 250
    classes = error_classes()
    literal = [f"{path}:{line} {name}({code!r}, ...)" for path, tree in sources() for name, code, line in calls(tree)
               if name in classes]
    assert literal == []


def test_no_code_is_registered_by_two_packages():
    owners: dict[str, set[str]] = {}
    for name, problem in registered():
        owners.setdefault(problem.code, set()).add(name)
    shared = {code: names for code, names in owners.items() if len(names) > 1}
    assert shared == SHARED


@pytest.mark.parametrize(("registry", "problem"), registered(), ids=lambda v: v.key if isinstance(v, Problem) else v)
def test_every_message_has_an_indonesian_text_with_the_same_fields(registry, problem):
    entry = catalog().get(problem.message)
    assert entry is not None, f"{problem.key}: msgid not in {CATALOG.name}"
    assert entry.string and not entry.fuzzy, f"{problem.key}: no Indonesian text"
    indonesian, english = REGISTRIES[registry].texts(problem.key, lambda msgid: catalog()[msgid].string)
    assert english == problem.message
    assert sorted(set(FIELD.findall(indonesian))) == sorted(set(FIELD.findall(english)))
    assert re.fullmatch(r"[a-z_]+(\.[a-z_0-9]+)+(/[a-z_]+)?", problem.key)


def test_a_call_gives_the_registered_class_code_status_and_message():
    problems = Problems(Problem("thing.missing", N_("No thing %(name)s."), NotFound),
                        Problem("thing.missing/here", N_("Not here."), status=410),
                        Problem("thing.bad", N_("Bad."), SyncError, status=403))
    error = problems("thing.missing", field="name", name="x")
    assert (type(error), error.code, error.status, error.message, error.field, error.params) == (
        NotFound, "thing.missing", 404, "No thing %(name)s.", "name", {"name": "x"})
    variant = problems("thing.missing/here")
    assert (type(variant), variant.code, variant.status) == (AppError, "thing.missing", 410)
    assert (type(problems("thing.bad")), problems("thing.bad").status) == (SyncError, 403)
    assert problems.texts("thing.bad", str.upper) == ("BAD.", "Bad.")


def test_an_unknown_key_or_a_key_registered_twice_is_refused_at_once():
    with pytest.raises(KeyError):
        SURVEY_PROBLEMS("facility.no_such_code")
    with pytest.raises(ValueError, match="twice"):
        Problems(Problem("a.b", N_("One.")), Problem("a.b", N_("Two.")))


def test_an_indicator_file_error_keeps_where_it_went_wrong():
    error = INDICATOR_PROBLEMS("indicators.bad_levels", location="kla.yaml: indicators[2]")
    assert isinstance(error, IndicatorSetError) and str(error).startswith("kla.yaml: indicators[2]: indicators.bad_levels")
