"""The house rules of architecture.md that a test can keep true."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# the packages that depend on core and on nothing else of csframe's; testing/ is the test kit
# (csframe.testing, a pytest plugin): core never imports it, and it never imports the others
LEAVES = {"definitions": "csframe.definitions", "adapters": "csframe.adapters", "plugins": "csframe.plugins",
          "testing": "csframe.testing"}
PACKAGES = {"core": "csframe.core", **LEAVES}


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.append(node.module)
    return out


def _files(folder: str) -> list[Path]:
    return sorted((ROOT / folder).rglob("*.py"))


def _escaping_relative_imports(path: Path, folder: str) -> list[str]:
    """The ``from ..x import y`` of ``path`` that climb out of csframe.<folder>: the folders are
    mapped side by side into ``csframe``, so ``..`` of ``csframe.testing`` is ``csframe``, not core."""
    depth = len(path.relative_to(ROOT / folder).parts)  # testing/case.py: 1, core/cli/scaffold.py: 2
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [("." * n.level) + (n.module or "") for n in ast.walk(tree)
            if isinstance(n, ast.ImportFrom) and n.level > depth]


@pytest.mark.parametrize("path", _files("core"), ids=lambda p: str(p.relative_to(ROOT)))
def test_core_never_imports_the_leaves(path):
    bad = [m for m in _imports(path) if any(m.startswith(pkg) for pkg in LEAVES.values())]
    assert not bad, f"{path.relative_to(ROOT)} imports {bad}: core knows no metric, driver or plugin"


@pytest.mark.parametrize("folder", sorted(LEAVES))
def test_leaves_do_not_import_each_other(folder):
    others = [pkg for f, pkg in LEAVES.items() if f != folder]
    for path in _files(folder):
        bad = [m for m in _imports(path) if any(m.startswith(o) for o in others)]
        assert not bad, f"{path.relative_to(ROOT)} imports {bad}"


def test_the_test_kit_imports_core_only():
    files = _files("testing")
    assert ROOT / "testing" / "__init__.py" in files, "the test kit lives in testing/ (csframe.testing)"
    assert not (ROOT / "core" / "testing").exists(), "the test kit moved to testing/: no csframe.core.testing"
    for path in files:
        bad = [m for m in _imports(path)
               if m.split(".")[0] == "csframe" and not m.startswith(("csframe.core", "csframe.testing"))]
        assert not bad, f"{path.relative_to(ROOT)} imports {bad}: the test kit depends on csframe.core only"


@pytest.mark.parametrize("folder", sorted(PACKAGES))
def test_relative_imports_stay_in_their_package(folder):
    for path in _files(folder):
        bad = _escaping_relative_imports(path, folder)
        assert not bad, (f"{path.relative_to(ROOT)}: {bad} climb out of {PACKAGES[folder]}; "
                         "import csframe.core… absolutely")


@pytest.mark.parametrize("driver", ["duckdb", "psycopg", "google"])
def test_drivers_are_imported_only_inside_functions(driver):
    for path in [*_files("core"), *_files("definitions"), *_files("plugins"), *_files("adapters"), *_files("testing")]:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:  # module level only
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            assert not any(n.split(".")[0] == driver for n in names), f"{path.relative_to(ROOT)} imports {driver} at import time"
