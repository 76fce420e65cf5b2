"""The house rules of architecture.md that a test can keep true."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LEAVES = {"definitions": "csframe.definitions", "adapters": "csframe.adapters", "plugins": "csframe.plugins"}


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


@pytest.mark.parametrize("driver", ["duckdb", "psycopg", "google"])
def test_drivers_are_imported_only_inside_functions(driver):
    for path in [*_files("core"), *_files("definitions"), *_files("plugins"), *_files("adapters")]:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:  # module level only
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            assert not any(n.split(".")[0] == driver for n in names), f"{path.relative_to(ROOT)} imports {driver} at import time"
