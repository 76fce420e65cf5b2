"""The Databricks adapter: csframe's query on a Databricks SQL warehouse (``databricks-sql-connector``),
in the dialect and with the transforms of the Spark adapter (:mod:`.spark_dialect`).

``[adapter]`` settings: ``server_hostname`` and ``http_path`` (the warehouse's connection details),
``token_env`` (the NAME of the environment variable holding a personal access token; default
``DATABRICKS_TOKEN``: the token itself is never read from the project file or any other file),
``catalog`` and ``schema`` (where the sources' table names are read).

What is proven (tests/unit/test_databricks_adapter.py, with a stand-in for the connector): the
settings are checked, the token comes from the environment only, the connector is called with
these arguments, rows and column types are read from its cursor, and errors map to csframe's exit
codes. NOT proven: anything against a real warehouse (no server in CI) — that Databricks accepts
the SQL (the same Spark SQL the local Spark adapter runs, but sent as ONE statement: the local
adapter computes the CTEs read twice or more first, which a SQL warehouse's session cannot
checkpoint), its speed, and write-back (``--target``), which this adapter does not offer.
"""

from __future__ import annotations

__all__ = ["DatabricksAdapter", "csframe_register_adapters"]

import os
from pathlib import Path
from typing import Any

from csframe.core.errors import EngineUnavailableError, MetricFailedError, ProjectError
from csframe.core.hookspecs import hookimpl
from csframe.core.settings import want_str

from .spark_dialect import TRANSFORMS

_SETTINGS = ("name", "server_hostname", "http_path", "token_env", "catalog", "schema")
DEFAULT_TOKEN_ENV = "DATABRICKS_TOKEN"


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


class DatabricksAdapter:
    """Runs csframe's query on a Databricks SQL warehouse."""

    NAME = "databricks"
    DIALECT = "databricks"
    TRANSFORMS = TRANSFORMS

    def __init__(self, settings: dict[str, Any], project_dir: Path) -> None:
        unknown = set(settings) - set(_SETTINGS)
        if unknown:
            raise ProjectError(f"adapter: unknown key(s) for databricks: {', '.join(sorted(unknown))}",
                               hint=f"databricks takes: {', '.join(_SETTINGS[1:])} (the token comes from the "
                                    f"environment variable token_env names, never from the project file).")
        for key in ("server_hostname", "http_path"):
            if key not in settings:
                raise ProjectError(f"adapter: databricks needs {key}",
                                   hint="Copy server_hostname and http_path from the SQL warehouse's connection "
                                        "details.")
        self.server_hostname = want_str(settings["server_hostname"], "adapter.server_hostname")
        self.http_path = want_str(settings["http_path"], "adapter.http_path")
        self.token_env = want_str(settings.get("token_env", DEFAULT_TOKEN_ENV), "adapter.token_env",
                                  f'token_env = "{DEFAULT_TOKEN_ENV}"')
        self.catalog = None if settings.get("catalog") is None else want_str(settings["catalog"], "adapter.catalog")
        self.schema = None if settings.get("schema") is None else want_str(settings["schema"], "adapter.schema")
        self.con: Any = None

    def describe(self) -> str:
        return f"databricks at {self.server_hostname}"

    def connect(self, *, write: bool = False) -> None:
        try:
            from databricks import sql
        except ImportError:
            raise EngineUnavailableError("the databricks adapter needs databricks-sql-connector",
                                         hint="pip install 'csframe[databricks]'") from None
        token = os.environ.get(self.token_env)
        if not token:
            raise ProjectError(f"adapter: environment variable {self.token_env} (token_env) is not set",
                               hint=f"Export {self.token_env}=<a Databricks personal access token>.")
        kwargs: dict[str, Any] = {"server_hostname": self.server_hostname, "http_path": self.http_path,
                                  "access_token": token}
        if self.catalog:
            kwargs["catalog"] = self.catalog
        if self.schema:
            kwargs["schema"] = self.schema
        try:
            self.con = sql.connect(**kwargs)
        except Exception as e:  # noqa: BLE001 - the connector's errors (network, authentication)
            raise EngineUnavailableError(f"cannot connect to {self.describe()}: {_first_line(e).replace(token, '***')}",
                                         hint=f"Check server_hostname, http_path and {self.token_env}.",
                                         transient=True) from None

    def _cursor(self, sql: str) -> Any:
        if self.con is None:
            self.connect()
        cursor = self.con.cursor()
        try:
            cursor.execute(sql)
        except Exception as e:  # noqa: BLE001
            cursor.close()
            raise MetricFailedError(f"databricks failed to run the query: {_first_line(e)}") from None
        return cursor

    def execute(self, sql: str) -> list[tuple]:
        cursor = self._cursor(sql)
        try:
            return [tuple(row) for row in cursor.fetchall()]
        finally:
            cursor.close()

    def relation_columns(self, relation_sql: str) -> list[str]:
        return [name for name, _ in self.relation_types(relation_sql)]

    def relation_types(self, relation_sql: str) -> list[tuple[str, str]]:
        """(name, type as the connector's cursor describes it, e.g. ``timestamp``) of each column."""
        cursor = self._cursor(f"SELECT * FROM ({relation_sql}) AS t LIMIT 0")
        try:
            return [(d[0], str(d[1])) for d in cursor.description]
        finally:
            cursor.close()

    def load_tables(self, dataset: Any) -> None:
        raise MetricFailedError("the databricks adapter does not load tables",
                                hint="Load the data with Databricks' own tools; docs/spark.md.")

    def close(self) -> None:
        if self.con is not None:
            con, self.con = self.con, None
            con.close()


@hookimpl
def csframe_register_adapters(register) -> None:
    register("databricks", DatabricksAdapter)
