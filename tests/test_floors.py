"""The floor plan holds: no module imports from a package on a higher floor, or from a neighbour on its own.

``sohoa`` (settings, errors, identifiers, logging) ← the domain (``digitizer``, ``signing``,
``storage``, which know nothing of each other) ← the application layer (``dossiers``) ← ``workers``
← ``api`` ← ``cli``. Every import counts: at module level, inside functions, and under
``TYPE_CHECKING`` (a type that needs a higher floor is a design smell too).

Beside the building: ``testkit`` (servers, fault helpers, the test PKI) serves ``tests`` and ``bench``.
No production package imports any of the three, ``bench`` does not import ``tests``, and ``testkit``
imports neither: what a benchmark runs never depends on a test module.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FLOORS = {
    "sohoa": 0,
    "digitizer": 1,
    "signing": 1,
    "storage": 1,
    "dossiers": 2,
    "workers": 3,
    "api": 4,
    "cli": 5,
}
# What may sit on the ground floor: everything imports it, so it imports nothing of ours.
GROUND = {"__init__", "settings", "errors", "identifiers", "logging_setup", "files", "diskspace"}


def imports_of(path: Path) -> Iterator[tuple[int, str]]:
    """(line, top-level package) of every import in a module, relative ones resolved within its package."""
    tree = ast.parse(path.read_text(), filename=str(path))
    own = path.relative_to(ROOT).parts[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom):
            yield node.lineno, own if node.level else (node.module or "").split(".")[0]


# Packages outside the building, and what each package must never import of them.
OUTSIDE = ("testkit", "tests", "bench")
FORBIDDEN = {package: set(OUTSIDE) for package in FLOORS} | {"testkit": {"tests", "bench"}, "bench": {"tests"}}


def violations(package: str) -> list[str]:
    floor = FLOORS[package]
    found = []
    for path in sorted((ROOT / package).rglob("*.py")):
        if "migrations/versions" in path.as_posix():
            continue
        for line, target in imports_of(path):
            if target in FLOORS and target != package and FLOORS[target] >= floor:
                found.append(f"{path.relative_to(ROOT)}:{line} imports {target} (floor {FLOORS[target]} >= {floor})")
    return found


@pytest.mark.parametrize("package", sorted(FLOORS, key=FLOORS.__getitem__))
def test_no_import_reaches_up_or_sideways(package: str) -> None:
    assert violations(package) == []


def outside_imports(package: str) -> list[str]:
    """Imports of test or benchmark code (``FORBIDDEN``) from ``package``."""
    found = []
    for path in sorted((ROOT / package).rglob("*.py")):
        for line, target in imports_of(path):
            if target in FORBIDDEN[package]:
                found.append(f"{path.relative_to(ROOT)}:{line} imports {target}")
    return found


@pytest.mark.parametrize("package", sorted(FORBIDDEN, key=lambda p: (FLOORS.get(p, len(FLOORS)), p)))
def test_no_package_imports_test_or_benchmark_code_it_must_not(package: str) -> None:
    assert outside_imports(package) == []


def test_the_ground_floor_holds_only_what_everything_needs() -> None:
    assert {p.stem for p in (ROOT / "sohoa").glob("*.py")} <= GROUND


def test_the_check_catches_an_import_from_a_higher_floor(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The test above can fail: a domain module importing the application layer is reported."""
    (tmp_path / "signing").mkdir()
    (tmp_path / "signing" / "bad.py").write_text("def f():\n    from dossiers.services import Services\n")
    monkeypatch.setitem(globals(), "ROOT", tmp_path)
    assert violations("signing") == ["signing/bad.py:2 imports dossiers (floor 2 >= 1)"]


def test_the_check_catches_production_or_benchmark_code_importing_tests(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The rule above can fail: the API importing testkit, and a benchmark importing a test module, are reported."""
    (tmp_path / "api").mkdir()
    (tmp_path / "api" / "bad.py").write_text("import testkit.servers\n")
    (tmp_path / "bench").mkdir()
    (tmp_path / "bench" / "bad.py").write_text("import json\nfrom tests.conftest import make_settings\n")
    monkeypatch.setitem(globals(), "ROOT", tmp_path)
    assert outside_imports("api") == ["api/bad.py:1 imports testkit"]
    assert outside_imports("bench") == ["bench/bad.py:2 imports tests"]


# The development PKI and TSA (``signing.dev``) are for development and tests. Production code
# reaches them only where embedded/dev mode needs them: these modules, and nowhere else.
DEV_MODE_DOORS = {"dossiers/services.py", "api/routes_public.py", "cli/main.py"}


def dev_imports() -> list[str]:
    """Imports of ``signing.dev`` from production code outside ``signing/dev/`` and ``DEV_MODE_DOORS``."""
    found = []
    for package in FLOORS:
        for path in sorted((ROOT / package).rglob("*.py")):
            where = path.relative_to(ROOT).as_posix()
            if where.startswith("signing/dev/") or where in DEV_MODE_DOORS:
                continue
            for node in ast.walk(ast.parse(path.read_text(), filename=where)):
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
                if isinstance(node, ast.ImportFrom) and not node.level and node.module:
                    names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
                if any(name == "signing.dev" or name.startswith("signing.dev.") for name in names):
                    found.append(f"{where}:{node.lineno}")
    return found


def test_production_code_never_imports_the_development_pki() -> None:
    assert dev_imports() == []
