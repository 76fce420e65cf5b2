"""The settings of the process's SparkSession that the Spark adapter relies on for speed
(adapters/spark_session.py), read back from a connected adapter's session.

Whole-stage code generation is on: forcing it off (as the adapter once did for local Spark) made
the whole revenue catalog at 100,000 customers 1.2x slower, its query's statements 1.3-1.65x
(tests/benchmarks/README.md, "Spark (local) beside DuckDB").
"""

from __future__ import annotations

import pytest

from csframe.core.project import Project
from csframe.core.session import Session

pytest.importorskip("pyspark", reason="pyspark is not installed (pip install 'csframe[spark]')")


@pytest.fixture(scope="module")
def spark(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("spark_session")
    s = Session.open(project=Project(dir=tmp, adapter={"name": "spark", "warehouse": "wh",
                                                       "database": "spark_session"}, sources={}),
                     entry_points=False)
    s.adapter().connect(write=True)
    yield s.adapter().session
    s.close()


def _physical_plan(session, sql: str) -> str:
    return session.sql(sql)._jdf.queryExecution().executedPlan().toString()


def test_whole_stage_code_generation_is_on(spark):
    assert spark.conf.get("spark.sql.codegen.wholeStage") == "true"
    # a stage compiled to Java shows in the physical plan as "*(n) Operator"
    plan = _physical_plan(spark, "SELECT id % 7 AS k, SUM(id) AS s FROM range(100) GROUP BY id % 7")
    assert "*(1) " in plan, plan


def test_local_spark_keeps_one_shuffle_partition_and_no_adaptive_execution(spark):
    assert spark.conf.get("spark.sql.shuffle.partitions") == "1"
    assert spark.conf.get("spark.sql.adaptive.enabled") == "false"
