"""The BigQuery dialect profile. Rendering BigQuery SQL needs no client library;
running on BigQuery is not available yet (see the engines issue)."""

from __future__ import annotations

__all__ = ["BigQueryAdapter", "csframe_register_adapters"]

from pathlib import Path
from typing import Any

from csframe.core.errors import EngineUnavailableError
from csframe.core.hookspecs import hookimpl

from .bigquery_dialect import TRANSFORMS


class BigQueryAdapter:
    """BigQuery: SQL rendering now; execution arrives with the engines issue."""

    NAME = "bigquery"
    DIALECT = "bigquery"
    TRANSFORMS = TRANSFORMS

    def __init__(self, settings: dict[str, Any], project_dir: Path) -> None:
        self.settings = settings

    def describe(self) -> str:
        return f"bigquery project {self.settings.get('project', '?')}"

    def connect(self, *, write: bool = False) -> None:
        raise EngineUnavailableError("running on BigQuery is not available in this version of csframe",
                                     hint="Use `csframe sql --dialect bigquery` to get the SQL.")

    def execute(self, sql: str) -> list[tuple]:
        self.connect()
        return []

    def relation_columns(self, relation_sql: str) -> list[str]:
        self.connect()
        return []

    def load_tables(self, dataset: Any) -> None:
        self.connect()

    def close(self) -> None:
        pass


@hookimpl
def csframe_register_adapters(register) -> None:
    register("bigquery", BigQueryAdapter)
