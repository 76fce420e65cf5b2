"""Write-back on Spark (``compute --target``): the table's rows are replaced by a new Parquet
version swapped in whole (adapters/spark_write.py, spark_tables.py).

Data, by hand: two customers, a created in 2024-01-05 and paying from 2024-01-10, b created
2024-02-03 and paying 2024-02-10 to 2024-03-15. ``customers`` (paying at the period's end):
January 1 (a), February 2 (a, b), March 1 (a; b ended on 03-15).
"""

from __future__ import annotations

import datetime as dt
import decimal

import pytest

from csframe.core.dataset import Column, Dataset, Table
from csframe.core.errors import MetricFailedError, UsageError
from csframe.core.project import Project, SourceBinding
from csframe.core.session import Session

pytest.importorskip("pyspark", reason="pyspark is not installed (pip install 'csframe[spark]')")

D = decimal.Decimal
CUSTOMERS = Table("customers", (Column("customer_id", "VARCHAR"), Column("created_at", "TIMESTAMP")),
                  [("a", dt.datetime(2024, 1, 5)), ("b", dt.datetime(2024, 2, 3))])
SUBSCRIPTIONS = Table("subscriptions", tuple(Column(n, t) for n, t in (
    ("subscription_id", "VARCHAR"), ("customer_id", "VARCHAR"), ("started_at", "TIMESTAMP"),
    ("ended_at", "TIMESTAMP"), ("mrr", "DECIMAL(18,2)"), ("is_trial", "BOOLEAN"))),
    [("s1", "a", dt.datetime(2024, 1, 10), None, D("100.00"), False),
     ("s2", "b", dt.datetime(2024, 2, 10), dt.datetime(2024, 3, 15), D("50.00"), False)])
EXPECTED = {dt.date(2024, 1, 1): 1.0, dt.date(2024, 2, 1): 2.0, dt.date(2024, 3, 1): 1.0}


@pytest.fixture(scope="module")
def spark(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("spark_write")
    project = Project(dir=tmp, adapter={"name": "spark", "warehouse": "wh", "database": "spark_write"},
                      sources={n: SourceBinding(n, table=n) for n in ("customers", "subscriptions")})
    s = Session.open(project=project, entry_points=False)
    s.adapter().connect(write=True)
    s.adapter().load_tables(Dataset((CUSTOMERS, SUBSCRIPTIONS)))
    yield s
    s.close()


def _table(s, name):
    rows = s.adapter().execute(f"SELECT metric, grain, period_start, dimensions, value FROM {name}")
    return sorted(rows)


def _run(s, target):
    return s.compute(["customers"], start="2024-01-01", end="2024-04-01", target=target)


def test_a_second_run_replaces_the_same_rows(spark):
    _run(spark, "results")
    first = _table(spark, "results")
    assert {r[2]: r[4] for r in first} == EXPECTED
    _run(spark, "results")
    assert _table(spark, "results") == first  # three rows again, not six


def test_a_run_of_other_periods_keeps_the_rows_of_the_others(spark):
    _run(spark, "kept")
    spark.compute(["customers"], start="2024-03-01", end="2024-04-01", target="kept")
    assert {r[2]: r[4] for r in _table(spark, "kept")} == EXPECTED


def test_a_failure_before_the_swap_leaves_the_old_table(spark, monkeypatch):
    from csframe.adapters import spark_tables

    _run(spark, "safe")
    before = _table(spark, "safe")
    directory = spark.adapter().warehouse / "spark_write" / "safe"
    current = (directory / spark_tables.CURRENT).read_text()

    def killed(*_a, **_k):  # the new version is written; the process dies before CURRENT changes
        raise OSError("killed")

    monkeypatch.setattr(spark_tables, "os", type("os", (), {"replace": killed, "fsync": lambda *_: None}))
    with pytest.raises(MetricFailedError, match="could not write safe") as e:
        spark.compute(["customers"], start="2024-02-01", end="2024-04-01", target="safe")
    assert "Nothing was written" in e.value.hint
    monkeypatch.undo()
    assert (directory / spark_tables.CURRENT).read_text() == current
    spark.adapter().connect()  # another process: registers the table at CURRENT's version
    assert _table(spark, "safe") == before


def test_a_table_of_another_shape_is_refused_before_anything_is_computed(spark):
    from csframe.adapters.spark_tables import new_version, replace, table_dir

    directory = table_dir(spark.adapter().warehouse, "spark_write", "other")
    directory.mkdir(parents=True)
    version = new_version(directory)
    spark.adapter().session.sql("SELECT 1 AS metric").write.parquet(str(version))
    replace(directory, version)
    with pytest.raises(UsageError, match="not a csframe result table"):
        _run(spark, "other")


def test_a_table_is_registered_again_only_when_its_version_changed(spark, monkeypatch):
    """Every session of the process shares one catalog: connecting again registers nothing
    (adapters/spark_tables.py's _REGISTERED), but a table another writer swapped is re-registered."""
    from csframe.adapters import spark_tables

    _run(spark, "registered")
    made = []
    location = spark_tables._location
    monkeypatch.setattr(spark_tables, "_location", lambda path: made.append(path.name) or location(path))
    spark.adapter().connect()  # customers, subscriptions, registered (and the other tests' tables): all current
    assert made == []
    directory = spark.adapter().warehouse / "spark_write" / "registered"
    # another process's write: a new version (the same rows, copied) swapped in behind this process's back
    version = spark_tables.new_version(directory)
    spark.adapter().session.read.parquet(str(spark_tables.current_version(directory))).write.parquet(str(version))
    spark_tables.replace(directory, version)
    spark.adapter().connect()
    assert made == [version.name]
    assert {r[2]: r[4] for r in _table(spark, "registered")} == EXPECTED
