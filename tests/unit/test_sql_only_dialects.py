"""The SQL-only dialects (adapters/sql_only.py): Snowflake, Trino, Redshift get the SQL and its
snapshots (tests/snapshots/<dialect>/), nothing more. What this checks: each is registered and
reachable through `csframe sql --dialect`, every query of the catalog is read back by sqlglot in
that dialect with no `AS MATERIALIZED` left (which none of them accepts), and a project cannot
name one as its engine."""

from __future__ import annotations

import sys

import pytest
import sqlglot
from sqlglot import exp

from csframe.core.errors import PluginError
from csframe.core.project import Project
from csframe.core.session import Session
from tests.pipeline.commands import cs
from tests.snapshots import update as snap

SQL_ONLY = ("snowflake", "trino", "redshift")


@pytest.mark.parametrize("dialect", SQL_ONLY)
def test_every_snapshot_reads_back_in_its_dialect_without_materialized(dialect):
    files = snap.stored(dialect)
    assert len(files) == len(snap.stored("duckdb")) > 50
    for name, text in files.items():
        tree = sqlglot.parse_one(text, dialect=dialect)
        assert not [c for c in tree.find_all(exp.CTE) if c.args.get("materialized")], name
    # the neutral query does mark shared steps MATERIALIZED: the dialect's rewrite is what drops it
    assert "AS MATERIALIZED" in snap.stored("duckdb")["churn_rate__lost_over_start.sql"]


def test_csframe_sql_prints_a_sql_only_dialect(tmp_path):
    (tmp_path / "csframe.toml").write_text('[sources.subscriptions]\ntable = "subscriptions"\n', encoding="utf-8")
    out = cs("sql", "mrr", "--dialect", "trino", "--start", "2024-01-01", "--end", "2024-07-01", project=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "SEQUENCE(" in out.stdout  # Trino's date series, where DuckDB writes GENERATE_SERIES
    bad = cs("sql", "mrr", "--dialect", "trinoo", project=tmp_path)
    assert bad.returncode == 2 and "Did you mean 'trino'" in bad.stderr and "redshift" in bad.stderr


def test_a_sql_only_dialect_is_not_an_engine(tmp_path):
    (tmp_path / "csframe.toml").write_text('[adapter]\nname = "snowflake"\n', encoding="utf-8")
    out = cs("compute", "-m", "mrr", project=tmp_path)
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert "SQL-only dialect" in out.stderr and "csframe sql METRIC --dialect snowflake" in out.stderr


def test_a_dialect_may_not_take_an_adapters_name(tmp_path, monkeypatch):
    (tmp_path / "clash_dialect.py").write_text(
        "from csframe.core.hookspecs import hookimpl\n\n"
        "class Profile:\n    DIALECT = 'postgres'\n    TRANSFORMS = ()\n\n"
        "@hookimpl\ndef csframe_register_dialects(register):\n    register('duckdb', Profile)\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    sys.modules.pop("clash_dialect", None)
    with pytest.raises(PluginError) as e:
        Session.open(project=Project(dir=tmp_path, plugin_modules=("clash_dialect",)), entry_points=False)
    sys.modules.pop("clash_dialect", None)
    assert "dialect 'duckdb' is also an adapter" in e.value.message
