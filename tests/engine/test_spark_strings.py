"""User strings on Spark are bound literally (the same hostile strings as test_hostile_strings.py).

Spark SQL reads a backslash in a string literal as an escape (unlike standard SQL): sqlglot's
``spark`` dialect writes ``\\`` and ``\\'`` for them. One query selects every hostile string as a
literal written through csframe's Spark renderer and gets each back unchanged; then a
``--param`` value and a ``--by`` column name go through whole runs.

The data (as in test_hostile_strings.py): customers c1 (2024-01-05, dimension "a") and c2
(2024-01-10, "b"); events u1 c1 name=v 2024-01-06, u2 c2 "other" 2024-01-11. ``activation_rate``
in January with ``activation_event = v``: c1 has it one day after creation, c2 not: 1 of 2 = 0.5
(an injected ``OR TRUE`` makes it 1). ``--by`` the dimension column named v: "a" 1.0, "b" 0.0.
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlglot import exp

from csframe.core.dataset import Column, Dataset, Table
from csframe.core.errors import UsageError
from csframe.core.project import Project, SourceBinding
from csframe.core.render import render
from tests.engine.test_hostile_strings import NASTY

pytest.importorskip("pyspark", reason="pyspark is not installed (pip install 'csframe[spark]')")

T = dt.datetime
JAN = dict(grain="month", start="2024-01-01", end="2024-02-01")
# whole runs with a hostile --param: the conformance suite (TestSpark in test_conformance.py) runs 14
# hostile values; these are the ones it leaves out: an escaped quote before OR TRUE, NUL, and ${HOME}
# (Spark's variable substitution emptied it before adapters/spark_session.py turned it off)
RUNS = ["nosuchevent\\' OR TRUE --", "a\x00b", "${HOME}"]


@pytest.fixture(scope="module")
def spark(tmp_path_factory):
    from csframe.core.session import Session

    tmp = tmp_path_factory.mktemp("spark_strings")

    def open_(database: str, tables: list[Table], **sources: SourceBinding):
        s = Session.open(project=Project(dir=tmp, adapter={"name": "spark", "warehouse": "wh", "database": database},
                                         sources=sources), entry_points=False)
        s.adapter().connect(write=True)
        if tables:
            s.adapter().load_tables(Dataset(tuple(tables)))
        return s

    return open_


def _events(v: str) -> Table:
    return Table("events", (Column("user_id", "VARCHAR"), Column("customer_id", "VARCHAR"), Column("name", "VARCHAR"),
                            Column("occurred_at", "TIMESTAMP")),
                 [("u1", "c1", v, T(2024, 1, 6)), ("u2", "c2", "other", T(2024, 1, 11))])


def _customers(dim: str) -> Table:
    return Table("customers", (Column("customer_id", "VARCHAR"), Column("created_at", "TIMESTAMP"), Column(dim, "VARCHAR")),
                 [("c1", T(2024, 1, 5), "a"), ("c2", T(2024, 1, 10), "b")])


SOURCES = {"customers": SourceBinding("customers", table="customers"), "events": SourceBinding("events", table="events")}


def test_every_hostile_string_comes_back_as_written_from_a_spark_literal(spark):
    from csframe.adapters.spark import SparkAdapter

    s = spark("strings_literals", [])
    query = exp.select(*[exp.alias_(exp.Literal.string(v), f"c{i}") for i, v in enumerate(NASTY)])
    (row,) = s.adapter().execute(render(query, SparkAdapter, pretty=False))
    assert list(row) == NASTY
    s.close()


@pytest.mark.parametrize("i", range(len(RUNS)))
def test_a_hostile_param_is_a_value(spark, i):
    v = RUNS[i]
    s = spark(f"strings_param_{i}", [_customers("dim"), _events(v)], **SOURCES)
    result = s.compute(["activation_rate"], **JAN, params={"activation_event": v})
    assert [r["value"] for r in result.records()] == [0.5]
    assert sorted(s.adapter().execute("SELECT name FROM events")) == sorted([(v,), ("other",)])  # unchanged
    s.close()


@pytest.mark.parametrize("v", ["a'b", "a`b", "*/ x /*", "é☃😀𝔘", "dim; DROP TABLE events"])
def test_a_hostile_by_column_is_a_name(spark, v):
    s = spark("strings_by_" + str(abs(hash(v)) % 10**8), [_customers(v), _events("activated")], **SOURCES)
    try:
        result = s.compute(["activation_rate"], **JAN, by=[v])
    except UsageError as e:  # refused as a usage error (exit 2) is the other allowed outcome
        pytest.fail(f"{v!r} refused: {e.message}")
    dim = result.columns[4]
    assert {r[dim]: r["value"] for r in result.records()} == {"a": 1.0, "b": 0.0}
    s.close()
