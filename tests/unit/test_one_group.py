"""Without --by, grp (0 on every row) keys nothing: core/one_group.py takes it out of a node's
PARTITION BYs and GROUP BYs, only where that cannot change a row. The numbers of whole plans
are checked on engines (tests/engine/test_revenue_fixtures.py and the engine-equality tests run
with and without --by)."""

from __future__ import annotations

import duckdb
import sqlglot

from csframe.core.one_group import drop_constant_group


def rewritten(sql: str) -> str:
    return drop_constant_group(sqlglot.parse_one(sql)).sql()


def test_windows_and_grouped_steps_lose_grp():
    sql = ("SELECT c.grp, c.customer_id, SUM(c.x) AS x, SUM(SUM(c.x)) OVER (PARTITION BY c.grp, c.customer_id "
           "ORDER BY c.customer_id) AS running FROM t AS c WHERE c.grp = 0 GROUP BY c.grp, c.customer_id")
    assert rewritten(sql) == (
        "SELECT 0 AS grp, c.customer_id, SUM(c.x) AS x, SUM(SUM(c.x)) OVER (PARTITION BY c.customer_id "
        "ORDER BY c.customer_id) AS running FROM t AS c WHERE c.grp = 0 GROUP BY c.customer_id")
    assert rewritten("SELECT SUM(x) OVER (PARTITION BY grp ORDER BY p) FROM t") == \
        "SELECT SUM(x) OVER (ORDER BY p) FROM t"


def test_what_could_change_a_row_is_left_alone():
    kept = [
        "SELECT grp, COUNT(*) AS n FROM t GROUP BY grp",  # alone: no input gives no row, not one
        "SELECT grp, p, COUNT(*) AS n FROM t GROUP BY grp, p HAVING grp = 0",  # read after grouping
        "SELECT grp + 1 AS g, p FROM t GROUP BY grp, p",  # inside an expression
        "SELECT grp AS other, p FROM t GROUP BY grp, p",  # under another name
        "SELECT grp, p FROM t",  # no grouping
    ]
    for sql in kept:
        assert rewritten(sql) == sqlglot.parse_one(sql).sql(), sql
    assert rewritten("SELECT MAX(grp) AS g, p FROM t GROUP BY grp, p") == "SELECT MAX(grp) AS g, p FROM t GROUP BY p"


def test_same_rows_on_duckdb():
    con = duckdb.connect()
    con.execute("CREATE TABLE t AS SELECT 0 AS grp, i % 7 AS customer_id, i % 3 AS p, i AS x FROM range(100) AS r(i)")
    sql = ("SELECT grp, customer_id, p, SUM(x) AS x, SUM(SUM(x)) OVER (PARTITION BY grp, customer_id ORDER BY p "
           "ROWS UNBOUNDED PRECEDING) AS b FROM t GROUP BY grp, customer_id, p")
    want = sorted(con.execute(sql).fetchall())
    assert len(want) == 21
    assert sorted(con.execute(drop_constant_group(sqlglot.parse_one(sql)).sql("duckdb")).fetchall()) == want
