"""The BigQuery dialect profile. Rendering BigQuery SQL needs no client library;
running on BigQuery is not available yet (see the engines issue)."""

from __future__ import annotations

__all__ = ["BigQueryAdapter", "csframe_register_adapters"]

from pathlib import Path
from typing import Any

from sqlglot import exp

from csframe.core.errors import EngineUnavailableError
from csframe.core.hookspecs import hookimpl


def _iso_weeks(tree: exp.Expression) -> exp.Expression:
    """BigQuery's WEEK starts on Sunday; the data contract's weeks are ISO (Monday)."""

    def rewrite(node: exp.Expression) -> exp.Expression:
        if isinstance(node, (exp.DateTrunc, exp.TimestampTrunc, exp.DatetimeTrunc)):
            unit = node.args.get("unit")
            if isinstance(unit, exp.Var) and unit.name.upper() == "WEEK":
                node.set("unit", exp.Var(this="ISOWEEK"))
        return node

    return tree.transform(rewrite, copy=False)


def _epoch_seconds(tree: exp.Expression) -> exp.Expression:
    """Seconds since 1970 of a DATETIME read as UTC: UNIX_MICROS(TIMESTAMP(x)) / 1e6."""

    def rewrite(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.TimeToUnix):
            micros = exp.Anonymous(this="UNIX_MICROS", expressions=[exp.Anonymous(this="TIMESTAMP", expressions=[node.this])])
            return exp.Div(this=micros, expression=exp.Literal.number("1000000.0"))
        return node

    return tree.transform(rewrite, copy=False)


class BigQueryAdapter:
    """BigQuery: SQL rendering now; execution arrives with the engines issue."""

    NAME = "bigquery"
    DIALECT = "bigquery"
    TRANSFORMS = (_iso_weeks, _epoch_seconds)

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
