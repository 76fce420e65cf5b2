"""How a source column of the engine's type is read (csframe.core.contract_types): which
columns are converted and checked, and that a clean typed source is read as before."""

from __future__ import annotations

import pytest
from sqlglot import exp

from csframe.core.compiler import SourceScan, source_scan
from csframe.core.contract import SOURCES, source
from csframe.core.contract_types import conversion
from csframe.core.project import SourceBinding

CASES = [
    # (dialect, engine type, source, column, how)
    ("postgres", "timestamp", "subscriptions", "started_at", "cast"),
    ("postgres", "date", "renewals", "due_at", "cast"),
    ("postgres", "timestamptz", "subscriptions", "started_at", "utc"),
    ("bigquery", "TIMESTAMP", "subscriptions", "started_at", "utc"),
    ("bigquery", "DATETIME", "subscriptions", "started_at", "cast"),
    ("duckdb", "TIMESTAMP WITH TIME ZONE", "subscriptions", "ended_at", "utc"),
    ("postgres", "text", "subscriptions", "started_at", "try"),
    ("bigquery", "STRING", "subscriptions", "mrr", "try"),
    ("postgres", "float8", "invoices", "amount", "try"),  # NaN, ±infinity
    ("postgres", "numeric(12,2)", "invoices", "amount", "cast"),
    ("bigquery", "INT64", "invoices", "amount", "cast"),
    ("bigquery", "FLOAT64", "survey_responses", "score", "cast"),  # a DOUBLE column: a float is one
    ("duckdb", "VARCHAR", "survey_responses", "score", "try"),
    ("postgres", "int8", "subscriptions", "ended_at", "never"),
    ("duckdb", "DOUBLE", "subscriptions", "started_at", "never"),
    ("postgres", "timestamp", "invoices", "amount", "never"),
    ("postgres", "text", "renewals", "renewed", "try"),
    ("postgres", "bool", "renewals", "renewed", "cast"),
    ("postgres", "int8", "subscriptions", "customer_id", "cast"),  # anything converts to text
    ("postgres", "mood", "subscriptions", "started_at", "cast"),  # a type csframe does not know: as before
]


@pytest.mark.parametrize(("dialect", "type_", "src", "column", "how"), CASES,
                         ids=[f"{c[0]}-{c[1]}-{c[3]}" for c in CASES])
def test_how_a_column_is_read(dialect, type_, src, column, how):
    actual = exp.DataType.build(type_, dialect=dialect, udt=True)
    assert conversion(source(src).column(column), actual, dialect).how == how


def test_a_number_where_a_timestamp_belongs_is_named_as_the_engine_spells_it():
    col = source("subscriptions").column("ended_at")
    assert "a INT64 where the contract wants a timestamp" in conversion(
        col, exp.DataType.build("INT64", dialect="bigquery"), "bigquery").problem


@pytest.mark.parametrize("src", SOURCES, ids=[s.name for s in SOURCES])
def test_a_clean_typed_source_is_read_as_before(src):
    """Every column already of the contract's type: the same scan as when no type is known (a
    plain CAST each, no raw column), lenient or not."""
    binding = SourceBinding(src.name, table=src.name)
    types = tuple((c.name, exp.DataType.build(c.type, dialect="duckdb")) for c in src.columns)
    typed = source_scan(src, SourceScan(binding, types=types), keep_raw=True)
    untyped = source_scan(src, SourceScan(binding), keep_raw=True)
    assert typed.sql("duckdb") == untyped.sql("duckdb")
    assert all(isinstance(e.this, exp.Cast) and not isinstance(e.this, exp.TryCast) for e in typed.expressions[:-1])
