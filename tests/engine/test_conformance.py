"""The built-in adapters pass the adapter conformance suite (csframe.testing.conformance), as a
third-party adapter does: one line each, DuckDB being the reference engine."""

from __future__ import annotations

from csframe.testing.conformance import AdapterConformance


class TestPostgres(AdapterConformance):
    engine = "postgres"


class TestBigQuery(AdapterConformance):
    engine = "bigquery"


class TestClickHouse(AdapterConformance):
    engine = "clickhouse"  # chdb, in this process (chdb is in the test extra: it runs under CI=true)


class TestSpark(AdapterConformance):
    engine = "spark"  # local pyspark (pyspark is in the test extra, Java 17 from .ci/run: it runs under CI=true)
