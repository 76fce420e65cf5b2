"""The command line refuses, with exit 2 naming the key, what would run a user's string as
SQL: a ``[sources.X] table`` that is not a dotted identifier, a ``sql`` source that is not one
read-only query, a PostgreSQL ``--target`` name PostgreSQL would cut; and ``--by`` names one
dimension whatever its case."""

from __future__ import annotations

import json

import pytest

from tests.cli.test_cli import RANGE, _CUSTOMERS, _subscriptions, cs, expect, ok, parse_csv
from tests.support.projects import make_project



@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return make_project(tmp_path_factory.mktemp("strings") / "tiny",
                        {"subscriptions": _subscriptions(), "customers": _CUSTOMERS})


def _with_sources(project, text: str):
    toml = project / "csframe.toml"
    toml.write_text('[adapter]\nname = "duckdb"\ndatabase = "data.duckdb"\n\n' + text, encoding="utf-8")
    return project


@pytest.mark.parametrize("table", [
    "read_csv('/etc/passwd')",
    "read_text('/etc/hostname')",
    "subscriptions; DROP TABLE customers",
    "subscriptions WHERE mrr > 0",
    "(SELECT * FROM subscriptions)",
    "a.b.c.d",
    "main..subscriptions",
])
def test_source_table_is_a_dotted_identifier_only(tiny, table):
    _with_sources(tiny, f"[sources.subscriptions]\ntable = {json.dumps(table)}\n")
    r = cs("compute", "-m", "mrr", *RANGE, project=tiny)
    expect(r, 2, "sources.subscriptions.table", "is not a table name")
    assert "root:" not in r.stdout  # /etc/passwd was never read


def test_source_table_quoted_parts_are_taken_literally(tiny):
    """A double-quoted part may hold any character; it names exactly that table."""
    _with_sources(tiny, '[sources.subscriptions]\ntable = \'main."subscriptions"\'\n')
    ok(cs("compute", "-m", "mrr", *RANGE, project=tiny))


@pytest.mark.parametrize("sql,says", [
    ("SELECT * FROM subscriptions; DROP TABLE customers", "2 statements"),
    ("DELETE FROM customers", "not delete"),
    ("WITH d AS (DELETE FROM customers RETURNING *) SELECT * FROM subscriptions", "only reads"),
    ("SELECT * INTO stolen FROM subscriptions", "only reads"),
    ("CREATE TABLE x AS SELECT * FROM subscriptions", "must be a query"),
])
def test_source_sql_is_one_read_only_query(tiny, sql, says):
    _with_sources(tiny, f"[sources.subscriptions]\nsql = {json.dumps(sql)}\n")
    r = cs("compute", "-m", "mrr", *RANGE, project=tiny)
    expect(r, 2, "sources.subscriptions.sql", says)
    _with_sources(tiny, '[sources.subscriptions]\ntable = "subscriptions"\n[sources.customers]\ntable = "customers"\n')
    r = ok(cs("compute", "-m", "customers", *RANGE, "--format", "csv", project=tiny))  # customers is still there
    assert parse_csv(r.stdout)[-1][-1] == "2"  # c1 and c3 pay at March's start (c2 ended on 1 March)


def test_by_any_case_writes_one_canonical_name(tiny):
    """--by SEGMENT and --by segment are the same dimension, written as customers spells it."""
    _with_sources(tiny, '[sources.subscriptions]\ntable = "subscriptions"\n[sources.customers]\ntable = "customers"\n')
    outs = []
    for name in ("SEGMENT", "segment", "Segment"):
        r = ok(cs("compute", "-m", "customers", "--by", name, "--start", "2024-03-01", "--end", "2024-04-01",
                  "--format", "csv", project=tiny))
        outs.append(parse_csv(r.stdout))
    assert outs[0][0] == ["metric", "variant", "period_start", "period_end", "segment", "value"]
    assert outs[0] == outs[1] == outs[2]
    # March starts with c1 (smb) and c3 (no segment) paying; c2 (ent) ended on 1 March
    assert {(row[4], row[5]) for row in outs[0][1:]} == {("smb", "1"), ("ent", "0"), ("", "1")}


def test_by_names_are_case_insensitive_when_checked(tiny):
    _with_sources(tiny, '[sources.subscriptions]\ntable = "subscriptions"\n[sources.customers]\ntable = "customers"\n')
    expect(cs("compute", "-m", "customers", "--by", "segment", "--by", "SEGMENT", *RANGE, project=tiny), 2, "named twice")
    expect(cs("compute", "-m", "customers", "--by", "Customer_ID", *RANGE, project=tiny), 2, "key column")
    expect(cs("compute", "-m", "customers", "--by", "VALUE", *RANGE, project=tiny), 2, "a name of csframe's own")


def test_by_mapped_dimension_is_written_under_its_mapped_name(tmp_path):
    customers = [{"customer_id": c["customer_id"], "created_at": c["created_at"], "Seg": c["segment"]} for c in _CUSTOMERS]
    path = make_project(tmp_path / "mapped", {"subscriptions": _subscriptions(), "customers": customers},
                        sources=["subscriptions"])
    with open(path / "csframe.toml", "a", encoding="utf-8") as f:
        f.write('[sources.customers]\ntable = "customers"\ncolumns = { segment = "Seg" }\n')
    r = ok(cs("compute", "-m", "customers", "--by", "SEGMENT", "--start", "2024-03-01", "--end", "2024-04-01",
              "--format", "csv", project=path))
    rows = parse_csv(r.stdout)
    assert rows[0][4] == "segment"
    assert {(row[4], row[5]) for row in rows[1:]} == {("smb", "1"), ("ent", "0"), ("", "1")}


def test_postgres_target_over_63_bytes_is_refused(tmp_path, pg_dsn, pg_schema):
    """PostgreSQL cuts a name at 63 bytes: two long names would write one table. Exit 2, nothing written."""
    import psycopg

    with psycopg.connect(pg_dsn, autocommit=True) as con:
        con.execute(f'CREATE SCHEMA "{pg_schema}"')
        con.execute(f'CREATE TABLE "{pg_schema}".subscriptions (subscription_id text, customer_id text, '
                    "started_at timestamp, ended_at timestamp, mrr numeric)")
        con.execute(f"INSERT INTO \"{pg_schema}\".subscriptions VALUES ('s1', 'c1', '2024-01-01', NULL, 100)")
    project = tmp_path / "pg"
    project.mkdir()
    (project / "csframe.toml").write_text(
        f'[adapter]\nname = "postgres"\ndsn = "{pg_dsn}"\nschema = "{pg_schema}"\n\n'
        '[sources.subscriptions]\ntable = "subscriptions"\n', encoding="utf-8")
    long = "t" * 64
    expect(cs("compute", "-m", "mrr", *RANGE, "--target", long, project=project), 2, "63 bytes")
    expect(cs("compute", "-m", "mrr", *RANGE, "--target", f"{pg_schema}.{long}", project=project), 2, "63 bytes")
    with psycopg.connect(pg_dsn) as con:
        assert con.execute("SELECT count(*) FROM pg_tables WHERE schemaname = %s", (pg_schema,)).fetchone()[0] == 1
    ok(cs("compute", "-m", "mrr", *RANGE, "--target", "t" * 63, project=project))  # 63 bytes fit
