"""The house rules of architecture.md that a test can keep true."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# the packages that depend on core and on nothing else of csframe's; testing/ is the test kit
# (csframe.testing, a pytest plugin): core never imports it, and it never imports the others
LEAVES = {"definitions": "csframe.definitions", "adapters": "csframe.adapters", "plugins": "csframe.plugins",
          "testing": "csframe.testing"}
# the command line (csframe.cli) sits on top of core: it imports core, core never imports it, and it
# imports no leaf either (commands reach metrics, engines and formats through the registry)
PACKAGES = {"core": "csframe.core", "cli": "csframe.cli", **LEAVES}


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
    depth = len(path.relative_to(ROOT / folder).parts)  # testing/case.py: 1, core/plan.py: 1
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [("." * n.level) + (n.module or "") for n in ast.walk(tree)
            if isinstance(n, ast.ImportFrom) and n.level > depth]


@pytest.mark.parametrize("path", _files("core"), ids=lambda p: str(p.relative_to(ROOT)))
def test_core_never_imports_the_leaves_or_the_cli(path):
    bad = [m for m in _imports(path) if any(m.startswith(pkg) for pkg in (*LEAVES.values(), "csframe.cli"))]
    assert not bad, f"{path.relative_to(ROOT)} imports {bad}: core knows no metric, driver, plugin or command"
    assert not (ROOT / "core" / "cli").exists(), "the command line is csframe.cli (cli/), not part of core"


@pytest.mark.parametrize("path", _files("cli"), ids=lambda p: str(p.relative_to(ROOT)))
def test_the_cli_imports_core_only(path):
    bad = [m for m in _imports(path) if m.split(".")[0] == "csframe" and not m.startswith(("csframe.core", "csframe.cli"))]
    assert not bad, f"{path.relative_to(ROOT)} imports {bad}: commands reach plugins through the registry"


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


@pytest.mark.parametrize("driver", ["duckdb", "psycopg", "google", "chdb", "clickhouse_connect", "pyspark",
                                    "databricks"])
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


# -- engines are named only in adapters/ --------------------------------------------------------------
# Decided (docs/choices.md): an engine's name in core's or the CLI's *code* — a string literal (a default, a
# choice, a message) or an identifier — is forbidden; docstrings and comments may name engines
# (they explain what the adapters do). The files below still name engines in code: the demo
# loader and the starter project of `init`, the plugin-author scaffold, `check`'s embedded node
# run, a few hints; each entry is the most it may hold, so a new one fails here and the list
# only shrinks as the code moves behind the adapters' hooks.
ENGINE_NAME = re.compile(r"duckdb|postgres(?:ql)?|bigquery|psycopg|clickhouse|chdb|spark|databricks", re.IGNORECASE)
STILL_NAMING_ENGINES = {
    "core/neutral.py": 1,  # NEUTRAL_DIALECT: sqlglot's name of the dialect neutral SQL is spelled in (for good)
    "core/plugin_manager.py": 6,  # the built-in plugin modules, csframe.adapters.<engine> (for good)
    "cli/scaffold.py": 21,  # the plugin-author skeleton's test dependencies and README: not yet
    "cli/compute.py": 1,  # --dry-run's help names BigQuery: not yet
    "core/writeback.py": 1,  # a hint: "e.g. a BigQuery project id" for CATALOG names: not yet
}


def _docstrings(tree: ast.AST) -> set[int]:
    """ids of the string constants that are docstrings (of the module, a class or a function)."""
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
                out.add(id(first.value))
    return out


def _engine_names_in_code(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docs = _docstrings(tree)
    found = []
    for node in ast.walk(tree):
        text = None
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docs:
            text = node.value
        elif isinstance(node, ast.Name):
            text = node.id
        elif isinstance(node, ast.Attribute):
            text = node.attr
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            text = node.name
        elif isinstance(node, ast.arg):
            text = node.arg
        elif isinstance(node, ast.alias):
            text = node.name
        if text is not None:
            found += [f"line {node.lineno}: {m.group(0)}" for m in ENGINE_NAME.finditer(text)]
    return found


def test_core_and_cli_code_name_no_engine():
    for path in [*_files("core"), *_files("cli")]:
        rel = path.relative_to(ROOT).as_posix()
        found = _engine_names_in_code(path)
        allowed = STILL_NAMING_ENGINES.get(rel, 0)
        assert len(found) <= allowed, (
            f"{rel} names an engine in its code ({len(found)} time(s), at most {allowed}): {found}. Engines are "
            "named only in adapters/: ask the registry (default_adapter, adapters) or an adapter's hook instead.")
