"""adapters/clickhouse_run.py: the CTEs read twice or more become temporary tables computed first;
the statements stated in full, no engine needed."""

from __future__ import annotations

from csframe.adapters.clickhouse_run import run_split, split_query


def test_a_cte_read_twice_is_a_temporary_table_read_under_its_own_name():
    # a is read by b and by the final query (2 reads); b once, so it stays a CTE of the final query
    tables, final = split_query("WITH a AS (SELECT 1 AS x), b AS (SELECT x FROM a) "
                                "SELECT * FROM b JOIN a AS a2 ON b.x = a2.x", "p_")
    assert tables == [("p_a", 'CREATE TEMPORARY TABLE "p_a" ENGINE=Memory AS SELECT 1 AS x')]
    assert final == 'WITH b AS (SELECT x FROM "p_a" AS a) SELECT * FROM b JOIN "p_a" AS a2 ON b.x = a2.x'


def test_a_shared_cte_takes_along_the_once_read_ctes_it_reads_and_only_those():
    # c (read once, by s) and d (read once, by c) go into s's statement; e (read once, by the final
    # query) stays with the final query; s is read twice
    tables, final = split_query(
        "WITH d AS (SELECT 1 AS x), c AS (SELECT x FROM d), e AS (SELECT 2 AS x), s AS (SELECT x FROM c) "
        "SELECT * FROM s UNION ALL SELECT * FROM s UNION ALL SELECT * FROM e", "p_")
    assert tables == [("p_s", 'CREATE TEMPORARY TABLE "p_s" ENGINE=Memory AS '
                              'WITH d AS (SELECT 1 AS x), c AS (SELECT x FROM d) SELECT x FROM c')]
    assert final == ('WITH e AS (SELECT 2 AS x) SELECT * FROM "p_s" AS s UNION ALL SELECT * FROM "p_s" AS s '
                     'UNION ALL SELECT * FROM e')


def test_shared_ctes_in_order_each_reading_the_tables_before():
    tables, final = split_query("WITH a AS (SELECT 1 AS x), b AS (SELECT x FROM a UNION ALL SELECT x FROM a) "
                                "SELECT * FROM b, b AS b2", "p_")
    assert [n for n, _ in tables] == ["p_a", "p_b"]
    assert tables[1][1] == ('CREATE TEMPORARY TABLE "p_b" ENGINE=Memory AS '
                            'SELECT x FROM "p_a" AS a UNION ALL SELECT x FROM "p_a" AS a')
    assert final == 'SELECT * FROM "p_b" AS b CROSS JOIN "p_b" AS b2'


def test_a_query_without_a_shared_cte_or_a_database_table_of_that_name_is_left_as_it_is():
    same = "WITH a AS (SELECT 1 AS x) SELECT * FROM a JOIN db.a AS other ON TRUE"
    assert split_query(same, "p_") == ([], same)  # db.a is a table of the database, not the CTE
    recursive = "WITH RECURSIVE r AS (SELECT 1 AS n UNION ALL SELECT n + 1 FROM r WHERE n < 3) SELECT * FROM r, r AS r2"
    assert split_query(recursive, "p_") == ([], recursive)


def test_the_temporary_tables_are_dropped_after_the_query_even_when_it_fails():
    sent = []

    def run(sql):
        sent.append(sql)
        raise RuntimeError("refused")

    try:
        run_split("WITH a AS (SELECT 1 AS x) SELECT * FROM a, a AS b", run, sent.append)
    except RuntimeError:
        pass
    assert sent[0].startswith("CREATE TEMPORARY TABLE") and sent[1].startswith("SELECT * FROM")
    assert sent[2].startswith("DROP TEMPORARY TABLE IF EXISTS") and sent[2].split()[-1] == sent[0].split()[3]
    assert len(sent) == 3


def test_the_drops_go_through_their_own_callable_when_given():
    # the adapter's creates carry the run's time limit; its drops do not (a run out of time still drops)
    created, dropped = [], []
    run_split("WITH a AS (SELECT 1 AS x) SELECT * FROM a, a AS b", lambda sql: None, created.append, dropped.append)
    assert len(created) == 1 and created[0].startswith("CREATE TEMPORARY TABLE")
    assert len(dropped) == 1 and dropped[0].startswith("DROP TEMPORARY TABLE IF EXISTS")
