"""Spark's transforms (adapters/spark_dialect.py) and the split of the query into its shared CTEs
(adapters/spark_run.py): the SQL each produces, stated here (no Spark needed)."""

from __future__ import annotations

import sqlglot

from csframe.adapters.spark import SparkAdapter
from csframe.adapters.spark_run import split_query
from csframe.core.render import render


def _spark(sql: str) -> str:
    return render(sqlglot.parse_one(sql, read="duckdb"), SparkAdapter, pretty=False)


def test_a_materialized_cte_loses_the_word_spark_does_not_parse():
    assert _spark("WITH a AS MATERIALIZED (SELECT 1 AS x) SELECT x FROM a") == \
        "WITH a AS (SELECT 1 AS x) SELECT x FROM a"


def test_nested_ctes_of_the_same_name_get_names_of_their_own_when_moved_to_the_top():
    sql = ("SELECT * FROM (WITH changes AS (SELECT 1 AS v) SELECT v FROM changes) AS p "
           "CROSS JOIN (WITH changes AS (SELECT 2 AS v) SELECT v FROM changes) AS q")
    assert _spark(sql) == (
        # p reads its own changes (SELECT 1), q its own (SELECT 2)
        "WITH changes__2 AS (SELECT 1 AS v), changes__1 AS (SELECT 2 AS v) "
        "SELECT * FROM (SELECT v FROM changes__2 AS changes) AS p "
        "CROSS JOIN (SELECT v FROM changes__1 AS changes) AS q")


def test_a_nested_cte_renamed_leaves_a_real_table_of_another_schema_alone():
    sql = "SELECT * FROM (WITH t AS (SELECT 1 AS v) SELECT v FROM t UNION ALL SELECT v FROM s.t) AS p"
    out = _spark(sql)
    assert "FROM t__1 AS t" in out and "FROM s.t" in out


def test_the_ctes_read_twice_or_more_become_views_computed_first():
    sql = ("WITH a AS (SELECT 1 AS x), b AS (SELECT x FROM a), c AS (SELECT x FROM b UNION ALL SELECT x FROM b) "
           "SELECT x FROM c UNION ALL SELECT x FROM a")
    views, final = split_query(sql, "v_")
    # a is read by b and by the final SELECT, b twice by c: both are views; c (read once) stays a CTE
    assert views == [("v_a", "SELECT 1 AS x"), ("v_b", "SELECT x FROM v_a AS a")]
    assert final == "WITH c AS (SELECT x FROM v_b AS b UNION ALL SELECT x FROM v_b AS b) " \
                    "SELECT x FROM c UNION ALL SELECT x FROM v_a AS a"


def test_a_shared_cte_reading_a_cte_read_once_carries_it_along_and_nothing_else():
    sql = ("WITH a AS (SELECT 1 AS x), z AS (SELECT 2 AS x), b AS (SELECT x FROM a), c AS (SELECT x FROM z) "
           "SELECT x FROM b UNION ALL SELECT x FROM b UNION ALL SELECT x FROM c")
    views, final = split_query(sql, "v_")
    # b's view needs a (read once, by b) and not z; the final query reads c, which reads z, and not a
    # (Spark analyses every CTE of a WITH, read or not: the whole catalog's final query had ~80)
    assert views == [("v_b", "WITH a AS (SELECT 1 AS x) SELECT x FROM a")]
    assert final == ("WITH z AS (SELECT 2 AS x), c AS (SELECT x FROM z) "
                     "SELECT x FROM v_b AS b UNION ALL SELECT x FROM v_b AS b UNION ALL SELECT x FROM c")
