"""The Databricks adapter's connection path, against a stand-in for databricks-sql-connector (no
server here): what it proves is the call shape and the error mapping, not that a warehouse
accepts csframe's SQL (docs/spark.md)."""

from __future__ import annotations

import sys
import types
from pathlib import Path

import pytest

from csframe.adapters.databricks import DatabricksAdapter
from csframe.core.errors import EngineUnavailableError, MetricFailedError, ProjectError

SETTINGS = {"name": "databricks", "server_hostname": "dbc-1.cloud.databricks.com", "http_path": "/sql/1.0/warehouses/x",
            "catalog": "main", "schema": "cs"}


class _Cursor:
    def __init__(self, log):
        self.log, self.description = log, None

    def execute(self, sql):
        self.log.append(sql)
        if "boom" in sql:
            raise RuntimeError("[TABLE_OR_VIEW_NOT_FOUND] boom\nmore")
        self.description = [("metric", "string", None), ("at", "timestamp", None)]

    def fetchall(self):
        return [["mrr", 1.5]]

    def close(self):
        pass


@pytest.fixture
def connector(monkeypatch):
    calls, log = [], []

    class _Connection:
        def cursor(self):
            return _Cursor(log)

        def close(self):
            calls.append("closed")

    def connect(**kwargs):
        calls.append(kwargs)
        if kwargs["access_token"] == "bad":
            raise RuntimeError("401 invalid token bad")
        return _Connection()

    package = types.ModuleType("databricks")
    module = types.ModuleType("databricks.sql")
    module.connect = connect
    package.sql = module
    monkeypatch.setitem(sys.modules, "databricks", package)
    monkeypatch.setitem(sys.modules, "databricks.sql", module)
    return calls, log


def test_the_token_comes_from_the_environment_variable_token_env_names(connector, monkeypatch):
    calls, log = connector
    monkeypatch.setenv("MY_DBX_TOKEN", "dapi-secret")
    a = DatabricksAdapter({**SETTINGS, "token_env": "MY_DBX_TOKEN"}, Path("."))
    assert a.execute("SELECT 1") == [("mrr", 1.5)]
    assert calls == [{"server_hostname": "dbc-1.cloud.databricks.com", "http_path": "/sql/1.0/warehouses/x",
                      "access_token": "dapi-secret", "catalog": "main", "schema": "cs"}]
    assert a.relation_types("SELECT * FROM t") == [("metric", "string"), ("at", "timestamp")]
    assert log[-1] == "SELECT * FROM (SELECT * FROM t) AS t LIMIT 0"
    a.close()
    assert calls[-1] == "closed"


def test_a_token_in_the_project_file_is_refused():
    with pytest.raises(ProjectError, match="unknown key"):
        DatabricksAdapter({**SETTINGS, "access_token": "dapi-secret"}, Path("."))


def test_no_token_in_the_environment_is_a_project_mistake(connector, monkeypatch):
    monkeypatch.delenv("DATABRICKS_TOKEN", raising=False)
    with pytest.raises(ProjectError, match="DATABRICKS_TOKEN"):
        DatabricksAdapter(SETTINGS, Path(".")).connect()


def test_a_refused_connection_is_exit_3_and_never_shows_the_token(connector, monkeypatch):
    monkeypatch.setenv("DATABRICKS_TOKEN", "bad")
    with pytest.raises(EngineUnavailableError) as e:
        DatabricksAdapter(SETTINGS, Path(".")).connect()
    assert "401 invalid token ***" in e.value.message and e.value.exit_code == 3


def test_a_failing_query_is_a_metric_failure_naming_the_first_line(connector, monkeypatch):
    monkeypatch.setenv("DATABRICKS_TOKEN", "t")
    with pytest.raises(MetricFailedError, match=r"TABLE_OR_VIEW_NOT_FOUND\] boom$"):
        DatabricksAdapter(SETTINGS, Path(".")).execute("SELECT boom")


def test_without_the_connector_installed_it_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "databricks", None)
    monkeypatch.setenv("DATABRICKS_TOKEN", "t")
    with pytest.raises(EngineUnavailableError, match="databricks-sql-connector"):
        DatabricksAdapter(SETTINGS, Path(".")).connect()
