"""The default adapter comes from the adapters' hook (``csframe_default_adapter``), not from the
kernel: a project file without ``[adapter] name`` uses the registry's default, a plugin
installed later may name its own, and one that names nothing registered is an error."""

from __future__ import annotations

import sys
import textwrap

import pytest
from csframe.core.errors import PluginError, ProjectError
from csframe.core.project import Project
from csframe.core.session import Session

FAKE = '''
from csframe.core.hookspecs import hookimpl


class FakeAdapter:
    NAME = "fake"
    DIALECT = "postgres"  # renders as PostgreSQL does: its SQL says which adapter made it
    TRANSFORMS = ()

    def __init__(self, settings, project_dir):
        self.settings = settings


@hookimpl
def csframe_register_adapters(register):
    register("fake", FakeAdapter)


@hookimpl
def csframe_default_adapter(adapters):
    return {answer!r}
'''


@pytest.fixture
def fake(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(tmp_path))

    def write(answer: str | None) -> Project:
        (tmp_path / "fake_engine.py").write_text(textwrap.dedent(FAKE.format(answer=answer)), encoding="utf-8")
        sys.modules.pop("fake_engine", None)
        return Project(dir=tmp_path, plugin_modules=("fake_engine",))

    yield write
    sys.modules.pop("fake_engine", None)


def test_without_a_plugin_the_built_in_adapters_name_the_default():
    s = Session.open(project=Project(dir="."), entry_points=False)
    assert s.registry.default_adapter == "duckdb"
    assert s.project.adapter == {"name": "duckdb"}  # the adapter's own default database: in memory


def test_a_plugin_installed_later_names_the_default_adapter(fake):
    s = Session.open(project=fake("fake"), entry_points=False)
    assert s.registry.default_adapter == "fake"
    assert s.project.adapter["name"] == "fake"
    assert s.adapter().settings == {"name": "fake"}
    assert s._source_dialect() == "postgres"  # the SQL is rendered for the fake adapter's dialect


def test_a_project_that_names_its_adapter_keeps_it(fake):
    project = fake("fake")
    s = Session.open(project=Project(dir=project.dir, plugin_modules=project.plugin_modules,
                                     adapter={"name": "duckdb"}), entry_points=False)
    assert s.project.adapter == {"name": "duckdb"} and s.registry.default_adapter == "fake"


def test_a_default_that_is_no_registered_adapter_is_an_error(fake):
    with pytest.raises(PluginError) as e:
        Session.open(project=fake("fkae"), entry_points=False)
    assert e.value.message == "plugin 'fake_engine': csframe_default_adapter names 'fkae', which is no registered adapter"
    assert e.value.hint == "Adapters: duckdb, postgres, bigquery, clickhouse, spark, databricks, fake."
    assert e.value.exit_code == 2


def test_a_default_adapter_hook_that_raises_names_its_plugin(fake, tmp_path):
    project = fake("fake")
    source = (tmp_path / "fake_engine.py").read_text(encoding="utf-8")
    (tmp_path / "fake_engine.py").write_text(source.replace("    return 'fake'", "    return adapters.missing"),
                                             encoding="utf-8")
    with pytest.raises(PluginError) as e:
        Session.open(project=project, entry_points=False)
    assert e.value.message == ("plugin 'fake_engine' failed in csframe_default_adapter: AttributeError: "
                               "'tuple' object has no attribute 'missing'")


def test_no_default_and_no_name_is_a_project_file_error():
    with pytest.raises(ProjectError) as e:
        Session.open(project=Project(dir=".", plugin_disable=("csframe.adapters.duckdb",)), entry_points=False)
    assert "adapter.name: not set, and no installed plugin names a default adapter" in e.value.message
    assert e.value.exit_code == 2
