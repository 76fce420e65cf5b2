"""A project's local plugin modules, and every module they import from the project's
directory, are read afresh for each project: two projects (or a project and a git commit
of it, ``csframe diff --against git:REF``) may both have a ``team_formulas.py``."""

from __future__ import annotations

import sys

import pytest

from csframe.core.session import Session

PLUGIN = '''
import colorsys  # from the standard library: not the project's, stays imported

from csframe.core.hookspecs import hookimpl
from csframe.core.models import Metric, Variant
from team_formulas import WEIGHTED
from team_pkg.units import UNIT


@hookimpl
def csframe_register_metrics(registrar):
    registrar.metric(Metric("weighted_adds", UNIT, "net adds, weighted", (Variant("default", WEIGHTED),)))
'''
PROJECT_MODULES = ("team_metrics", "team_formulas", "team_pkg", "team_pkg.units")


@pytest.fixture
def make(tmp_path):
    """make(name, formula, unit) -> a project directory whose plugin module takes its formula
    from a helper module and its unit from a helper package, both beside it."""
    def build(name: str, formula: str, unit: str):
        d = tmp_path / name
        (d / "team_pkg").mkdir(parents=True)
        (d / "csframe.toml").write_text('[plugins]\nmodules = ["team_metrics"]\n')
        (d / "team_metrics.py").write_text(PLUGIN)
        (d / "team_formulas.py").write_text(f"WEIGHTED = {formula!r}\n")
        (d / "team_pkg" / "__init__.py").write_text("")
        (d / "team_pkg" / "units.py").write_text(f"UNIT = {unit!r}\n")
        return d

    yield build
    for name in PROJECT_MODULES:
        sys.modules.pop(name, None)


def _reading(path) -> tuple[str, str]:
    with Session.open(path, entry_points=False) as s:
        assert s.plugins.origins["team_metrics"] == "project module"
        assert s.registry.metric_plugin["weighted_adds"] == "team_metrics"
        rv = s.registry.variants[("weighted_adds", "default")]
        return rv.variant.formula, s.registry.unit("weighted_adds", "default")


def test_modules_a_project_module_imports_are_read_from_that_project(make):
    a = make("a", "customers_end - customers_start", "count")
    b = make("b", "customers_end", "multiple")
    assert _reading(a) == ("customers_end - customers_start", "count")
    assert _reading(b) == ("customers_end", "multiple")  # not a's team_formulas nor a's team_pkg
    assert _reading(a) == ("customers_end - customers_start", "count")  # the same project twice
    assert not [m for m in PROJECT_MODULES if m in sys.modules]  # nothing of a project is left cached
    assert "colorsys" in sys.modules  # what comes from elsewhere is imported as ever


def test_a_helper_module_imported_before_is_not_forgotten(make):
    """A module of the project that was imported before the project is loaded (a script that
    put the project on sys.path) is left as it was: only what loading imported is forgotten."""
    a = make("a", "customers_end", "count")
    sys.path.insert(0, str(a))
    try:
        import team_formulas
    finally:
        sys.path.remove(str(a))
    assert _reading(a) == ("customers_end", "count")
    assert sys.modules["team_formulas"] is team_formulas
