"""One process loads a plugin set once: several sessions and CLI commands on the same project
import the plugins, load the entry points and build the registry once (core/plugin_sets.py);
another set of plugins, a new entry point or a changed project module loads again. Each
session keeps a plugin manager of its own."""

from __future__ import annotations

import importlib.metadata as md
from types import SimpleNamespace

import pytest
from click.testing import CliRunner

from csframe.cli.app import _load_commands, cli
from csframe.core import plugin_sets
from csframe.core.session import Session

TOML = '[adapter]\nname = "duckdb"\ndatabase = "data.duckdb"\n\n[sources.subscriptions]\ntable = "subscriptions"\n'


@pytest.fixture
def counted(monkeypatch):
    """Calls of the loading of plugins (imports, entry points, checks) and of the registry's building."""
    plugin_sets.forget_plugin_sets()
    calls = {"load_plugins": 0, "build_registry": 0}
    for name in calls:
        real = getattr(plugin_sets, name)

        def counting(*args, _real=real, _name=name, **kwargs):
            calls[_name] += 1
            return _real(*args, **kwargs)

        monkeypatch.setattr(plugin_sets, name, counting)
    yield calls
    plugin_sets.forget_plugin_sets()


def _project(tmp_path, extra: str = ""):
    tmp_path.mkdir(exist_ok=True)
    (tmp_path / "csframe.toml").write_text(TOML + extra, encoding="utf-8")
    return tmp_path


def _sql(project) -> str:
    _load_commands()  # as csframe.cli.main does before each command
    r = CliRunner().invoke(cli, ["sql", "mrr", "--project", str(project)])
    assert r.exit_code == 0, r.output
    return r.output


def test_two_sessions_and_two_commands_load_the_plugins_once(tmp_path, counted):
    project = _project(tmp_path)
    a, b = Session.open(project), Session.open(project)
    first = _sql(project)
    assert _sql(project) == first and "WITH" in first
    assert counted == {"load_plugins": 1, "build_registry": 1}
    assert a.registry is b.registry
    # each session has its own manager: a plugin registered on one is not called by the other
    assert a.plugins.pm is not b.plugins.pm and a.plugins.names() == b.plugins.names()

    class Seen:
        calls = 0

        @staticmethod
        def csframe_configure(project):
            Seen.calls += 1

    from csframe.core.hookspecs import hookimpl

    a.plugins.pm.register(SimpleNamespace(csframe_configure=hookimpl(Seen.csframe_configure)), name="seen")
    assert Seen.calls == 1  # the historic call reached it on a's manager
    assert "seen" not in b.plugins.names() and "seen" not in Session.open(project).plugins.names()
    assert counted == {"load_plugins": 1, "build_registry": 1}


def test_another_plugin_set_loads_again(tmp_path, counted):
    Session.open(_project(tmp_path / "a"))
    s = Session.open(_project(tmp_path / "b", '\n[plugins]\ndisable = ["csframe.plugins.parquet"]\n'))
    assert "csframe.plugins.parquet" not in s.plugins.names() and "parquet" not in s.registry.output_formats
    assert counted == {"load_plugins": 2, "build_registry": 2}
    assert "parquet" in Session.open(tmp_path / "a").registry.output_formats  # the first set, kept
    assert counted == {"load_plugins": 2, "build_registry": 2}


def test_a_changed_project_module_loads_again(tmp_path, counted):
    project = _project(tmp_path, '\n[plugins]\nmodules = ["team_nothing"]\n')
    (project / "team_nothing.py").write_text("", encoding="utf-8")
    Session.open(project)
    Session.open(project)
    assert counted == {"load_plugins": 1, "build_registry": 1}
    (project / "team_nothing.py").write_text("# changed\n", encoding="utf-8")
    Session.open(project)
    assert counted == {"load_plugins": 2, "build_registry": 2}


def test_a_new_entry_point_loads_again(tmp_path, counted, monkeypatch):
    project = _project(tmp_path / "p")
    assert "extra_ep" not in Session.open(project).plugins.names()
    (tmp_path / "extra_ep_module.py").write_text("", encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    real = md.distributions
    extra = SimpleNamespace(metadata={"Name": "extra-pkg"}, version="1.0",
                            entry_points=[md.EntryPoint(name="extra_ep", value="extra_ep_module", group="csframe")])
    monkeypatch.setattr(md, "distributions", lambda: [*real(), extra])
    assert "extra_ep" in Session.open(project).plugins.names()
    assert counted == {"load_plugins": 2, "build_registry": 2}
