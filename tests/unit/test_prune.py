"""core/prune.py on small hand-written trees: what is dropped, and what must stay.

Each case is checked twice: on the SQL text (which columns and steps are left) and, where a
case could change a number, by running the query before and after on DuckDB."""

from __future__ import annotations

import duckdb
import pytest
import sqlglot
from sqlglot import exp

from csframe.core.prune import prune


def _pruned(sql: str) -> exp.Expression:
    return prune(sqlglot.parse_one(sql, read="duckdb"))


def _ctes(tree: exp.Expression) -> dict[str, list[str]]:
    """{cte name: its output column names}, nested WITHs included."""
    return {cte.alias: list(cte.this.named_selects) for cte in tree.find_all(exp.CTE)}


def _same_rows(sql: str) -> None:
    con = duckdb.connect()
    try:
        before = con.execute(sql).fetchall()
        after = con.execute(_pruned(sql).sql(dialect="duckdb")).fetchall()
    finally:
        con.close()
    assert after == before


def test_a_column_no_one_reads_is_dropped_and_what_it_read_with_it():
    sql = """
        WITH src AS (SELECT 1 AS a, 2 AS b, 3 AS c),
             mid AS (SELECT a, b * 10 AS b10, c FROM src)
        SELECT a FROM mid"""
    ctes = _ctes(_pruned(sql))
    # mid: b10 and c are unread; then src: b (read only by b10) and c are unread too
    assert ctes == {"src": ["a"], "mid": ["a"]}
    _same_rows(sql)


def test_a_cte_no_one_reads_is_dropped():
    sql = """
        WITH src AS (SELECT 1 AS a),
             unused AS (SELECT a FROM src),
             used AS (SELECT a FROM src)
        SELECT a FROM used"""
    tree = _pruned(sql)
    assert set(_ctes(tree)) == {"src", "used"}
    _same_rows(sql)


def test_a_cte_read_only_by_a_dropped_cte_is_dropped():
    sql = """
        WITH base AS (SELECT 1 AS a), only_for_unused AS (SELECT a FROM base),
             unused AS (SELECT a FROM only_for_unused)
        SELECT a FROM base"""
    assert set(_ctes(_pruned(sql))) == {"base"}


def test_columns_read_by_a_window_spec_are_kept():
    sql = """
        WITH src AS (SELECT * FROM (VALUES (1, 'x', 10, 5), (2, 'x', 20, 6), (3, 'y', 30, 7)) AS t(k, part, v, unused)),
             w AS (SELECT k, sum(v) OVER (PARTITION BY part ORDER BY k) AS running, v * 2 AS dropped FROM src)
        SELECT k, running FROM w ORDER BY k"""
    ctes = _ctes(_pruned(sql))
    # part and k are read only inside the window spec (PARTITION BY / ORDER BY): kept in src
    assert ctes["w"] == ["k", "running"]
    _same_rows(sql)


def test_a_window_spec_column_keeps_its_source_column():
    sql = """
        WITH src AS (SELECT range AS k, range % 2 AS part, range * 3 AS v, 0 AS unused FROM range(6)),
             w AS (SELECT k, sum(v) OVER (PARTITION BY part ORDER BY k) AS running FROM src)
        SELECT k, running FROM w ORDER BY k"""
    assert _ctes(_pruned(sql))["src"] == ["k", "part", "v"]
    _same_rows(sql)


def test_select_star_keeps_every_column_of_its_source():
    sql = """
        WITH src AS (SELECT 1 AS a, 2 AS b),
             everything AS (SELECT * FROM src),
             one AS (SELECT a FROM everything)
        SELECT a FROM one"""
    ctes = _ctes(_pruned(sql))
    assert ctes["src"] == ["a", "b"]  # read through SELECT *
    _same_rows(sql)


def test_a_qualified_star_keeps_only_its_own_source_whole():
    sql = """
        WITH x AS (SELECT 1 AS k, 2 AS xa, 3 AS xb), y AS (SELECT 1 AS k, 4 AS ya, 5 AS yb)
        SELECT x.*, y.ya FROM x JOIN y ON x.k = y.k"""
    ctes = _ctes(_pruned(sql))
    assert ctes == {"x": ["k", "xa", "xb"], "y": ["k", "ya"]}
    _same_rows(sql)


def test_a_step_read_only_for_its_rows_stays():
    sql = """
        WITH src AS (SELECT range AS a, range * 2 AS b FROM range(4))
        SELECT count(*) AS n FROM src"""
    assert _ctes(_pruned(sql)) == {"src": ["a"]}  # one column kept: a SELECT needs one
    _same_rows(sql)


def test_distinct_keeps_its_columns():
    sql = """
        WITH src AS (SELECT * FROM (VALUES (1, 1), (1, 2)) AS t(a, b)),
             d AS (SELECT DISTINCT a, b FROM src)
        SELECT count(*) AS n FROM d"""
    assert _ctes(_pruned(sql))["d"] == ["a", "b"]  # dropping b would make one row of two
    _same_rows(sql)


def test_union_branches_keep_their_columns():
    sql = """
        WITH src AS (SELECT 1 AS a, 2 AS b, 3 AS c),
             u AS (SELECT a, b FROM src UNION ALL SELECT b, a FROM src)
        SELECT a FROM u ORDER BY a"""
    ctes = _ctes(_pruned(sql))
    assert ctes["src"] == ["a", "b"]  # c unread; both of u's columns are positional
    _same_rows(sql)


def test_an_alias_named_in_group_by_or_order_by_is_kept():
    sql = """
        WITH src AS (SELECT range AS k FROM range(5)),
             g AS (SELECT k % 2 AS parity, count(*) AS n FROM src GROUP BY parity)
        SELECT n FROM g ORDER BY n"""
    assert _ctes(_pruned(sql))["g"] == ["parity", "n"]
    _same_rows(sql)


def test_an_ordinal_group_by_leaves_the_select_whole():
    sql = """
        WITH src AS (SELECT range AS k FROM range(5)),
             g AS (SELECT k % 2 AS parity, count(*) AS n FROM src GROUP BY 1)
        SELECT n FROM g ORDER BY n"""
    assert _ctes(_pruned(sql))["g"] == ["parity", "n"]
    _same_rows(sql)


def test_an_aggregate_without_group_by_keeps_one_aggregate():
    sql = """
        WITH src AS (SELECT range AS k FROM range(5)),
             agg AS (SELECT 7 AS constant, sum(k) AS total FROM src)
        SELECT constant FROM agg"""
    # without sum(k) agg would be one row per src row (5 rows, not 1)
    assert _ctes(_pruned(sql))["agg"] == ["constant", "total"]
    _same_rows(sql)


def test_a_correlated_subquery_keeps_the_outer_column_it_reads():
    sql = """
        WITH p AS (SELECT 2 AS lim, 9 AS unused), src AS (SELECT range AS k FROM range(5))
        SELECT k FROM src WHERE k > (SELECT lim FROM p) ORDER BY k"""
    assert _ctes(_pruned(sql))["p"] == ["lim"]
    _same_rows(sql)


def test_nested_with_inside_a_step_is_pruned_too():
    sql = """
        WITH step AS (
            WITH inner_src AS (SELECT 1 AS a, 2 AS b), inner_unused AS (SELECT 3 AS z)
            SELECT a, b FROM inner_src)
        SELECT a FROM step"""
    ctes = _ctes(_pruned(sql))
    assert ctes == {"step": ["a"], "inner_src": ["a"]}
    _same_rows(sql)


def test_a_derived_table_is_pruned():
    sql = "SELECT a FROM (SELECT 1 AS a, 2 AS b) AS d"
    tree = _pruned(sql)
    assert tree.find(exp.Subquery).this.named_selects == ["a"]
    _same_rows(sql)


def test_the_final_select_keeps_all_of_its_columns():
    sql = "WITH src AS (SELECT 1 AS a, 2 AS b) SELECT a, b, a + b AS c FROM src"
    tree = _pruned(sql)
    assert tree.named_selects == ["a", "b", "c"]


def test_with_recursive_is_left_as_it_is():
    sql = """
        WITH RECURSIVE r AS (SELECT 1 AS n, 0 AS unused UNION ALL SELECT n + 1, 0 FROM r WHERE n < 3)
        SELECT n FROM r"""
    assert _pruned(sql).sql() == sqlglot.parse_one(sql, read="duckdb").sql()


def test_a_table_alias_column_list_leaves_the_step_whole():
    sql = """
        WITH src AS (SELECT 1 AS a, 2 AS b)
        SELECT y FROM src AS s(x, y)"""
    assert _ctes(_pruned(sql))["src"] == ["a", "b"]  # positional renaming: b is y
    _same_rows(sql)


@pytest.mark.parametrize("keys", [
    [("churn_rate", "lost_over_start")],
    [("mrr", "default"), ("customer_lifetime_value", "arpa_x_lifespan")],
])
def test_the_compiled_query_reads_only_what_its_metrics_need(keys):
    """On csframe's own compiled query: unread window columns of the shared subscription step
    are gone (the whole-catalog query keeps them)."""
    from tests.snapshots.update import _session

    with _session() as s:
        plan = s.plan(s.request(keys, grain="month", start="2024-01-01", end="2024-07-01"))
        sql = s.compile(plan, "duckdb")[1]
    assert "previous_last_paid_end_at" not in sql
    assert "subscription_id" not in sql


def test_a_column_named_only_by_a_dropped_projection_is_dropped():
    sql = """
        WITH src AS (SELECT 1 AS x, 2 AS y),
             mid AS (SELECT x, y, x + y AS s FROM src)
        SELECT x FROM mid"""
    # y is named by s (dropped): it goes too, in mid and then in src
    assert _ctes(_pruned(sql)) == {"src": ["x"], "mid": ["x"]}
    _same_rows(sql)


def test_an_alias_a_kept_projection_may_name_is_kept():
    sql = """
        WITH mid AS (SELECT 1 AS a, a + 1 AS b, 5 AS c)
        SELECT b FROM mid"""
    # DuckDB reads a + 1 as the alias a of the same SELECT: a stays, c goes
    assert _ctes(_pruned(sql)) == {"mid": ["a", "b"]}
    _same_rows(sql)


def test_an_unqualified_outer_column_in_a_correlated_subquery_is_kept():
    sql = """
        WITH src AS (SELECT range AS a, range % 3 AS b, 0 AS unused FROM range(6)),
             p AS (SELECT 1 AS lim)
        SELECT a FROM src WHERE EXISTS (SELECT 1 FROM p WHERE lim = b) ORDER BY a"""
    # b is src's (p has no b): read from the outer scope although nothing qualifies it
    assert _ctes(_pruned(sql))["src"] == ["a", "b"]
    _same_rows(sql)
