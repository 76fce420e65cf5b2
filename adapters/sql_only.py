"""SQL-only dialects: Snowflake, Trino and Redshift.

``csframe sql METRIC --dialect snowflake`` (or ``trino``, ``redshift``) prints the query csframe
would send to that engine: the neutral tree through sqlglot's generator for the dialect, with
the steps' ``AS MATERIALIZED`` marks dropped (none of the three accepts them). csframe has no
adapter for these engines, so nothing here is ever run: tests/snapshots/<dialect>/ pins the
text, and tests/unit/test_sql_only_dialects.py checks that sqlglot reads every query back in its
dialect. Neither proves the engine accepts the query or computes the contract's numbers; what
is known not to work is in docs/sql-only-dialects.md.
"""

from __future__ import annotations

__all__ = ["SQL_ONLY", "csframe_register_dialects"]

from csframe.core.hookspecs import hookimpl

from .bigquery_dialect import no_materialized


class _SqlOnly:
    DIALECT = ""
    TRANSFORMS = (no_materialized,)


class Snowflake(_SqlOnly):
    DIALECT = "snowflake"


class Trino(_SqlOnly):
    DIALECT = "trino"


class Redshift(_SqlOnly):
    DIALECT = "redshift"


SQL_ONLY = {"snowflake": Snowflake, "trino": Trino, "redshift": Redshift}


@hookimpl
def csframe_register_dialects(register) -> None:
    for name, profile in SQL_ONLY.items():
        register(name, profile)
