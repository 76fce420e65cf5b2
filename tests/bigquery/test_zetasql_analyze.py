"""Every query csframe generates for BigQuery is analyzed by Google's own SQL front end.

ZetaSQL (``tests/support/zetasql.py``) parses each query and resolves every name, type and
function signature against a catalog declaring the canonical sources with BigQuery types,
with BigQuery's language options. Passing proves that BigQuery's analyzer accepts the text:
no unknown table or column, no DuckDB/PostgreSQL-ism, every function called with a
signature BigQuery has, every comparison and set operation between compatible types. It
says nothing about the values computed (``test_bigquery_semantics.py`` pins those), nor
about cost, speed or BigQuery's resource limits.

The canonical TIMESTAMP is BigQuery's DATETIME (see ``adapters/bigquery_dialect.py``): the
main catalog declares DATETIME columns; a second one declares the same sources with
TIMESTAMP columns (a user's table may have either), and the queries holding every metric
at every grain must pass on both (the scans cast either to DATETIME).
"""

from __future__ import annotations

import datetime as dt

import attrs
import pytest
import sqlglot
from csframe.adapters.bigquery import BigQueryAdapter
from csframe.core.adapter import USER_SQL
from csframe.core import contract_checks
from csframe.core.compiler import SourceScan, source_scan
from csframe.core.contract import SOURCES, source
from csframe.core.graph import Graph
from csframe.core.plugin_manager import load_plugins
from csframe.core.project import Project, SourceBinding
from csframe.core.registry import build_registry
from csframe.core.render import render
from csframe.core.session import Session
from sqlglot import exp

from tests.support.zetasql import zetasql  # noqa: F401  (the session fixture)

GRAINS = ("day", "week", "month", "quarter", "year")
START, END = "2024-01-01", "2024-07-01"

# The data contract's neutral types on BigQuery. TIMESTAMP → DATETIME: a civil time read
# as UTC, which is what sqlglot renders CAST(x AS TIMESTAMP) as for BigQuery.
BIGQUERY_TYPE = {"VARCHAR": "STRING", "TEXT": "STRING", "TIMESTAMP": "DATETIME", "DOUBLE": "FLOAT64",
                 "FLOAT": "FLOAT64", "REAL": "FLOAT64", "BOOLEAN": "BOOL", "BIGINT": "INT64", "INTEGER": "INT64",
                 "INT": "INT64", "DATE": "DATE"}


def bigquery_type(neutral: str, timestamp: str = "DATETIME") -> str:
    base = neutral.split("(")[0].strip().upper()
    if base in ("DECIMAL", "NUMERIC"):
        return "NUMERIC"
    if base == "TIMESTAMP":
        return timestamp
    return BIGQUERY_TYPE[base]


def source_tables(*, timestamp: str = "DATETIME", optional: bool = True, prefix: str = "") -> dict:
    """The canonical sources as BigQuery tables (customers with a ``segment`` dimension)."""
    tables = {}
    for src in SOURCES:
        cols = [(c.name, bigquery_type(c.type, timestamp)) for c in src.columns if optional or not c.optional]
        if src.name == "customers":
            cols.append(("segment", "STRING"))
        tables[prefix + src.name] = cols
    return tables


def _registry():
    return build_registry(load_plugins(entry_points=False))


_REG = _registry()
_GRAPH = Graph(_REG)
KEYS = [(rv.metric, rv.variant.name) for rv in _REG.all_variants()
        if not _GRAPH.needs_by((rv.metric, rv.variant.name))]  # cohort metrics: tests/engine/test_cohorts.py
# Each variant alone (its own closure of nodes), with and without --by, at two grains: the
# month and, in turn, one of the others, so that every grain is met by a fifth of the variants.
# Every variant at every grain is analyzed in one query by test_all_metrics_in_one_query_analyze.
CASES = [
    pytest.param(key, grain, by, id=f"{key[0]}:{key[1]}-{grain}{'-by' if by else ''}")
    for i, key in enumerate(KEYS) for grain in dict.fromkeys(("month", [g for g in GRAINS if g != "month"][i % 4]))
    for by in ((), ("segment",))
    if not (by and _GRAPH.unsplittable_sources(key))
]


def open_session(tmp_path, sources: dict | None = None) -> Session:
    bindings = sources or {s.name: SourceBinding(s.name, table=s.name) for s in SOURCES}
    project = Project(dir=tmp_path, adapter={"name": "bigquery", "project": "p", "dataset": "d"}, sources=bindings)
    return Session.open(project=project, entry_points=False)


@pytest.fixture(scope="module")
def session(tmp_path_factory):
    s = open_session(tmp_path_factory.mktemp("bq"))
    yield s
    s.close()


@pytest.fixture(scope="module")
def catalogs(zetasql):  # noqa: F811
    """{name: catalog id}: DATETIME columns (canonical), TIMESTAMP columns, no optional columns."""
    return {
        "datetime": zetasql.register_catalog(source_tables()),
        "timestamp": zetasql.register_catalog(source_tables(timestamp="TIMESTAMP")),
        "minimal": zetasql.register_catalog(source_tables(optional=False)),
    }


def assert_analyzes(zetasql, catalog: int, sql: str, what: str) -> None:  # noqa: F811
    """BigQuery's analyzer accepts ``sql``, and so would BigQuery where ZetaSQL is laxer."""
    error = zetasql.analyze(sql, catalog) or _bigquery_only(sql)
    if error is not None:
        numbered = "\n".join(f"{i:4d}  {line}" for i, line in enumerate(sql.splitlines(), 1))
        pytest.fail(f"BigQuery's analyzer rejects {what}: {error}\n{numbered}")


def _bigquery_only(sql: str) -> str | None:
    """What BigQuery rejects and ZetaSQL's analyzer takes: PERCENTILE_CONT/DISC without OVER
    (an aggregate in ZetaSQL, a window function only in BigQuery)."""
    if "PERCENTILE_" not in sql.upper():
        return None
    for node in sqlglot.parse_one(sql, read="bigquery").find_all(exp.PercentileCont, exp.PercentileDisc):
        if not isinstance(node.parent, exp.Window):
            return f"{node.sql('bigquery')}: BigQuery has PERCENTILE_CONT/DISC only as a window function (OVER)"
    return None


SPLIT_CASES = [
    pytest.param(key, grain, (split, *extra), id=f"{key[0]}:{key[1]}-{grain}-by-{split}{'-segment' if extra else ''}")
    for key in KEYS for split in sorted(_REG.variants[key].variant.splits) for grain in GRAINS
    for extra in ((), ("segment",))
    if not (extra and _GRAPH.unsplittable_sources(key))  # kb_ratings has no customer: no --by segment
]


@pytest.mark.parametrize(("key", "grain", "by"), SPLIT_CASES)
def test_every_by_reading_that_is_not_a_customers_column_analyzes(zetasql, catalogs, session, key, grain, by):  # noqa: F811
    """--by step / customer_id / health_band / article_id, alone and beside --by segment."""
    params = {"onboarding_steps": ("connected_data", "invited_team")} if "step" in by else None
    plan = session.plan(session.request([key], grain=grain, start=START, end=END, by=by), params)
    _, sql = session.compile(plan, "bigquery")
    assert_analyzes(zetasql, catalogs["datetime"], sql, f"{key[0]}:{key[1]} by {grain} --by {' '.join(by)}")


def test_the_splits_are_covered():
    assert {case.values[2][0] for case in SPLIT_CASES} >= {"step", "customer_id", "health_band", "article_id"}


def test_the_catalog_is_covered():
    assert len(KEYS) > 30
    assert {case.values[0] for case in CASES} == set(KEYS)
    assert {case.values[1] for case in CASES} == set(GRAINS)
    assert len(CASES) > 3 * len(KEYS)


@pytest.mark.parametrize(("key", "grain", "by"), CASES)
def test_every_metric_variant_grain_and_by_analyzes(zetasql, catalogs, session, key, grain, by):  # noqa: F811
    plan = session.plan(session.request([key], grain=grain, start=START, end=END, by=by))
    _, sql = session.compile(plan, "bigquery")
    what = f"{key[0]}:{key[1]} by {grain}{' --by segment' if by else ''}"
    assert_analyzes(zetasql, catalogs["datetime"], sql, what)


@pytest.mark.parametrize("by", [(), ("segment",)], ids=["all", "all-by"])
@pytest.mark.parametrize("lenient", [False, True], ids=["strict", "lenient"])
def test_all_metrics_in_one_query_analyze(zetasql, catalogs, session, by, lenient):  # noqa: F811
    """--all: every metric in one query (CTE names shared between them), and --lenient's scans."""
    keys = [k for k in KEYS if not (by and _GRAPH.unsplittable_sources(k))]
    for grain in GRAINS if not lenient else ("week",):
        plan = session.plan(session.request(keys, grain=grain, start=START, end=END, by=by, lenient=lenient))
        _, sql = session.compile(plan, "bigquery")
        what = f"all metrics by {grain} {by} lenient={lenient}"
        assert_analyzes(zetasql, catalogs["datetime"], sql, what)
        assert_analyzes(zetasql, catalogs["timestamp"], sql, what + " (TIMESTAMP source columns)")


@pytest.mark.parametrize("by", [(), ("segment",)], ids=["plain", "by"])
def test_the_parameterized_text_analyzes(zetasql, catalogs, session, by):  # noqa: F811
    """What the adapter sends: the rendered SQL with its values as typed ``@p`` parameters."""
    from csframe.adapters.bigquery import parameterize
    from csframe.adapters.bigquery_tree_params import parameterize_tree

    keys = [k for k in KEYS if not (by and _GRAPH.unsplittable_sources(k))]
    for grain in ("quarter",):
        plan = session.plan(session.request(keys, grain=grain, start=START, end=END, by=by))
        _, sql = session.compile(plan, "bigquery")
        text, params = parameterize(sql)
        assert params and "@p0" in text
        error = zetasql.analyze(text, catalogs["datetime"], {name: type_ for name, type_, _ in params})
        assert error is None, f"BigQuery's analyzer rejects the parameterized query by {grain}: {error}\n{text}"
        # what the adapter's execute_tree sends: the tree's literals as parameters, rendered once
        text, params = parameterize_tree(session.query_tree(plan, "bigquery"))
        error = zetasql.analyze(text, catalogs["datetime"], {name: type_ for name, type_, _ in params})
        assert error is None, f"BigQuery's analyzer rejects the parameterized tree by {grain}: {error}\n{text}"


@pytest.mark.parametrize("by", [(), ("segment",)], ids=["plain", "by"])
def test_absent_optional_columns_analyze(zetasql, catalogs, session, by):  # noqa: F811
    """Sources without their optional columns (is_trial, kind): the defaults stand in."""
    absent = {s.name: {c.name for c in s.columns if c.optional} for s in SOURCES}
    keys = [k for k in KEYS if not (by and _GRAPH.unsplittable_sources(k))]
    plan = session.plan(session.request(keys, grain="month", start=START, end=END, by=by))
    _, sql = session.compile(plan, "bigquery", absent={k: v for k, v in absent.items() if v})
    assert_analyzes(zetasql, catalogs["minimal"], sql, "all metrics without optional columns")


@pytest.mark.parametrize("absent", [False, True], ids=["full", "no-optional"])
def test_data_contract_check_queries_analyze(zetasql, catalogs, session, absent):  # noqa: F811
    """The "Bad data" checks: counts, flagged rows and key samples, for every source."""
    counts = []
    for src in SOURCES:
        missing = frozenset(c.name for c in src.columns if c.optional) if absent else frozenset()
        scan = source_scan(src, SourceScan(session.project.sources[src.name], "bigquery", missing))
        rules = contract_checks.rules_for(src, {"csat_scale": [1, 5], "ces_scale": [1, 7]})
        queries = {"scan": scan}
        if rules:
            queries["count"] = contract_checks.count_query(scan, rules)
            queries["flagged"] = contract_checks.flagged_query(scan, rules)
            queries.update({f"sample {r.name}": contract_checks.sample_query(scan, rules, i, src)
                            for i, r in enumerate(rules)})
            queries["lenient"] = contract_checks.lenient_filter()(scan, src)
        for name, q in queries.items():
            sql = render(q, BigQueryAdapter, pretty=False)
            assert_analyzes(zetasql, catalogs["minimal" if absent else "datetime"], sql, f"{src.name} {name} check")
        if "count" in queries:
            counts.append(queries["count"])
    # a run sends every source's counts as one query, side by side
    sql = render(contract_checks.counts_of_all(counts), BigQueryAdapter, pretty=False)
    assert_analyzes(zetasql, catalogs["minimal" if absent else "datetime"], sql, "every source's counts in one query")


# Sources whose columns are not of the contract's type (:mod:`csframe.core.contract_types`): every
# column but the VARCHARs as STRING (each parsed with SAFE_CAST, text timestamps through TIMESTAMP);
# timestamps as INT64 and money as FLOAT64 (no value / SAFE_CAST); timestamps as TIMESTAMP (UTC).
_ODD = {"TIMESTAMP": "INT64", "DECIMAL": "FLOAT64", "DOUBLE": "STRING", "BOOLEAN": "STRING"}
CONVERTED = {
    "text": lambda c: "STRING",
    "odd": lambda c: _ODD.get(c.type.split("(")[0], "STRING"),
    "zoned": lambda c: bigquery_type(c.type, "TIMESTAMP"),
}


@pytest.mark.parametrize("kind", list(CONVERTED))
def test_check_queries_of_columns_to_convert_analyze(zetasql, session, kind):  # noqa: F811
    """Scans (plain and lenient) and every check query over sources typed otherwise than the
    contract: the conversions and their "does not convert" rules."""
    typed = CONVERTED[kind]
    catalog = zetasql.register_catalog({src.name: [(c.name, typed(c)) for c in src.columns] for src in SOURCES})
    for src in SOURCES:
        types = tuple((c.name, exp.DataType.build(typed(c), dialect="bigquery")) for c in src.columns)
        scan_def = SourceScan(session.project.sources[src.name], "bigquery", types=types)
        conversions = {c: how for c, how in scan_def.conversions(src).items() if how.checked}
        assert conversions or kind == "zoned", src.name
        scan = source_scan(src, scan_def, keep_raw=True)
        rules = contract_checks.rules_for(src, {"csat_scale": [1, 5], "ces_scale": [1, 7]}, conversions)
        queries = {"scan": scan, "count": contract_checks.count_query(scan, rules),
                   "lenient": source_scan(src, attrs.evolve(scan_def, lenient_filter=contract_checks.lenient_filter()))}
        queries.update({f"sample {r.name}": contract_checks.sample_query(scan, rules, i, src)
                        for i, r in enumerate(rules)})
        for name, q in queries.items():
            sql = render(q, BigQueryAdapter, pretty=False)
            assert_analyzes(zetasql, catalog, sql, f"{src.name} {name} over {kind} columns")


def test_renamed_columns_qualified_tables_and_sql_sources_analyze(zetasql, tmp_path):  # noqa: F811
    """Sources in another project and dataset, with renamed columns, or given as BigQuery SQL."""
    tables = source_tables(prefix="acme.crm.raw_")
    tables["acme.crm.raw_customers"] = [("id", "STRING"), ("signup", "TIMESTAMP"), ("Tier", "STRING"), ("deleted", "BOOL")]
    catalog = zetasql.register_catalog(tables)
    sources = {s.name: SourceBinding(s.name, table=f"acme.crm.raw_{s.name}") for s in SOURCES}
    sources["customers"] = SourceBinding("customers", table="acme.crm.raw_customers",
                                         columns={"customer_id": "id", "created_at": "signup", "tier": "Tier"})
    sources["tickets"] = SourceBinding("tickets", sql="SELECT * EXCEPT (reopened), reopened IS TRUE AS reopened "
                                                      "FROM `acme`.crm.raw_tickets WHERE ticket_id IS NOT NULL")
    s = open_session(tmp_path, sources)
    keys = [k for k in KEYS if not _GRAPH.unsplittable_sources(k)]
    for by in ((), ("tier",)):
        plan = s.plan(s.request(keys, grain="quarter", start=START, end=END, by=by))
        _, sql = s.compile(plan, "bigquery")
        assert_analyzes(zetasql, catalog, sql, f"all metrics on renamed sources by {by}")


USERS_EVENTS = ("SELECT user_id, customer_id, name, occurred_at FROM raw_events "
                "WHERE DATE_TRUNC(day, MONTH) IN UNNEST(GENERATE_DATE_ARRAY(DATE '2024-01-01', DATE '2024-12-01', INTERVAL 1 MONTH))")


def test_a_sources_own_sql_is_left_as_written(zetasql, tmp_path):  # noqa: F811
    """A source given as BigQuery SQL is the user's: the transforms must not rewrite it (here
    DATE_TRUNC of a DATE stays a DATE, so the IN UNNEST(ARRAY<DATE>) still type-checks)."""
    tables = source_tables()
    tables["raw_events"] = [("user_id", "STRING"), ("customer_id", "STRING"), ("name", "STRING"),
                            ("occurred_at", "DATETIME"), ("day", "DATE")]
    catalog = zetasql.register_catalog(tables)
    sources = {s.name: SourceBinding(s.name, table=s.name) for s in SOURCES}
    sources["events"] = SourceBinding("events", sql=USERS_EVENTS)
    s = open_session(tmp_path, sources)
    keys = [k for k in KEYS if "events" in _GRAPH.resolve(k).sources]
    plan = s.plan(s.request(keys, grain="month", start=START, end=END))
    compiled, _ = s.compile(plan, "bigquery")
    assert any(n.meta_get(USER_SQL) for n in compiled.query.walk()), (
        f"the compiler does not mark a source's own SQL with meta[{USER_SQL!r}]")
    sql = render(compiled.query, BigQueryAdapter, pretty=False)
    assert sqlglot.parse_one(USERS_EVENTS, read="bigquery").sql("bigquery") in sql
    assert_analyzes(zetasql, catalog, sql, "the metrics over events given as the user's SQL")


def test_transforms_leave_marked_user_sql_alone():
    user = sqlglot.parse_one("SELECT DATE_TRUNC(d, MONTH) AS m, MEDIAN(x) AS x FROM raw GROUP BY 1", read="bigquery")
    user.meta[USER_SQL] = True
    outer = exp.select(exp.DateTrunc(this=exp.column("m"), unit=exp.Var(this="WEEK"))).from_(user.subquery("t"))
    assert render(outer, BigQueryAdapter, pretty=False) == (
        "SELECT DATETIME_TRUNC(CAST(m AS DATETIME), ISOWEEK) FROM "
        "(SELECT DATE_TRUNC(d, MONTH) AS m, MEDIAN(x) AS x FROM raw GROUP BY 1) AS t")
    assert render(user, BigQueryAdapter, pretty=False) == user.sql("bigquery")


def test_the_analyzer_rejects_what_bigquery_rejects(zetasql, catalogs):  # noqa: F811
    """The check has teeth: DuckDB/PostgreSQL-isms, unknown names and wrong signatures fail."""
    bad = {
        "SELECT DATE_TRUNC('month', created_at) FROM customers": "date part",
        "SELECT created_at::DATE FROM customers": "",
        "SELECT nope FROM customers": "Unrecognized name: nope",
        "SELECT customer_id FROM no_such_table": "Table not found",
        "SELECT MEDIAN(mrr) FROM subscriptions": "Function not found: MEDIAN",
        "SELECT started_at - INTERVAL '1' DAY FROM subscriptions": "",
        "SELECT EXTRACT(EPOCH FROM started_at) FROM subscriptions": "",
        "SELECT CAST(mrr AS DOUBLE) FROM subscriptions": "",
        "SELECT UNIX_MICROS(started_at) FROM subscriptions": "",
    }
    for sql, message in bad.items():
        error = zetasql.analyze(sql, catalogs["datetime"])
        assert error is not None, f"accepted: {sql}"
        assert message in error, (sql, error)
    # ZetaSQL takes PERCENTILE_CONT as an aggregate too; BigQuery only with OVER, hence
    # assert_analyzes' own check for it
    assert zetasql.analyze("SELECT PERCENTILE_CONT(mrr, 0.5) FROM subscriptions", catalogs["datetime"]) is None
    with pytest.raises(pytest.fail.Exception, match="only as a window function"):
        assert_analyzes(zetasql, catalogs["datetime"], "SELECT PERCENTILE_CONT(mrr, 0.5) FROM subscriptions", "a median")
    # and on TIMESTAMP columns, comparing with a DATE is a type error (why TIMESTAMP → DATETIME)
    assert zetasql.analyze("SELECT 1 FROM subscriptions WHERE started_at < DATE '2024-01-01'", catalogs["timestamp"])
    assert zetasql.analyze("SELECT 1 FROM subscriptions WHERE started_at < DATE '2024-01-01'", catalogs["datetime"]) is None


# -- each transform alone, on a tiny tree -----------------------------------------------

def bq(neutral_sql: str) -> str:
    """Neutral SQL (sqlglot's own dialect, as node SQL is written) rendered for BigQuery."""
    return render(sqlglot.parse_one(neutral_sql), BigQueryAdapter, pretty=False)


MEDIAN_OF_SCORE = ("(ARRAY_AGG(score IGNORE NULLS ORDER BY score)[SAFE_OFFSET(DIV(COUNT(score) - 1, 2))]"
                   " + ARRAY_AGG(score IGNORE NULLS ORDER BY score)[SAFE_OFFSET(DIV(COUNT(score), 2))]) / 2")
TINY = [
    ("SELECT DATE_TRUNC('week', created_at) FROM customers",
     "SELECT DATETIME_TRUNC(CAST(created_at AS DATETIME), ISOWEEK) FROM customers"),
    ("SELECT CAST(DATE_TRUNC('quarter', CAST(created_at AS TIMESTAMP)) AS DATE) FROM customers",
     "SELECT CAST(DATETIME_TRUNC(CAST(created_at AS DATETIME), QUARTER) AS DATE) FROM customers"),
    ("SELECT DATE_TRUNC('month', CAST('2024-01-31' AS DATE))",
     "SELECT DATETIME_TRUNC(CAST(CAST('2024-01-31' AS DATE) AS DATETIME), MONTH)"),
    ("SELECT CAST(CAST('2024-01-31' AS DATE) + INTERVAL '1' MONTH AS DATE)",
     "SELECT CAST(DATETIME_ADD(CAST(CAST('2024-01-31' AS DATE) AS DATETIME), INTERVAL 1 MONTH) AS DATE)"),
    ("SELECT created_at - INTERVAL '7' DAY FROM customers",
     "SELECT DATETIME_SUB(CAST(created_at AS DATETIME), INTERVAL 7 DAY) FROM customers"),
    ("SELECT GENERATE_DATE_ARRAY(CAST('2024-01-01' AS DATE), CAST('2024-03-01' AS DATE), INTERVAL '1' MONTH)",
     "SELECT GENERATE_DATE_ARRAY(CAST('2024-01-01' AS DATE), CAST('2024-03-01' AS DATE), INTERVAL 1 MONTH)"),
    ("SELECT MEDIAN(score) FROM survey_responses",
     f"SELECT {MEDIAN_OF_SCORE} FROM survey_responses"),
    ("SELECT PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY score) FROM survey_responses GROUP BY survey",
     f"SELECT {MEDIAN_OF_SCORE} FROM survey_responses GROUP BY survey"),
    ("SELECT PERCENTILE_CONT(score, 0.5) OVER (PARTITION BY survey) FROM survey_responses",
     "SELECT PERCENTILE_CONT(score, 0.5) OVER (PARTITION BY survey) FROM survey_responses"),
    # text read as a timestamp, its UTC offset honoured, and its instant's UTC civil time
    ("SELECT CAST(TRY_CAST(customer_id AS TIMESTAMPTZ) AT TIME ZONE 'UTC' AS TIMESTAMP) FROM customers",
     "SELECT CAST(DATETIME_ADD(CAST('1970-01-01 00:00:00' AS DATETIME), "
     "INTERVAL (UNIX_MICROS(SAFE_CAST(customer_id AS TIMESTAMP))) MICROSECOND) AS DATETIME) FROM customers"),
    ("SELECT TRY_CAST(customer_id AS DECIMAL(38, 9)) FROM customers", "SELECT SAFE_CAST(customer_id AS NUMERIC) FROM customers"),
]


@pytest.mark.parametrize(("neutral", "expected"), TINY, ids=[f"tiny{i}" for i in range(len(TINY))])
def test_transform_on_a_tiny_tree(neutral, expected):
    assert bq(neutral) == expected


@pytest.mark.parametrize(("neutral", "expected"), TINY, ids=[f"tiny{i}" for i in range(len(TINY))])
def test_tiny_trees_analyze(zetasql, catalogs, neutral, expected):  # noqa: F811
    assert_analyzes(zetasql, catalogs["datetime"], bq(neutral), neutral)


def test_epoch_seconds_transform():
    """EPOCH_SECONDS(ts) (a TimeToUnix in the neutral tree) → exact NUMERIC seconds."""
    tree = exp.select(exp.TimeToUnix(this=exp.column("created_at"))).from_("customers")
    assert render(tree, BigQueryAdapter, pretty=False) == (
        "SELECT CAST(UNIX_MICROS(TIMESTAMP(created_at)) AS NUMERIC) / 1000000 FROM customers")


def test_transforms_are_pure():
    """Rendering copies the tree: the neutral tree is the same after a BigQuery render."""
    tree = sqlglot.parse_one("SELECT DATE_TRUNC('week', created_at) + INTERVAL '1' DAY, MEDIAN(x) FROM customers")
    before = tree.sql()
    bq_sql = render(tree, BigQueryAdapter, pretty=False)
    assert tree.sql() == before and bq_sql != before


def test_bucket_and_spine_use_the_transforms(session):
    """The compiler's own BUCKET and spine come out in the BigQuery forms above."""
    plan = session.plan(session.request([("mrr", _GRAPH.default_variant("mrr"))], grain="week",
                                        start=dt.date(2024, 1, 1), end=dt.date(2024, 3, 1)))
    _, sql = session.compile(plan, "bigquery")
    assert "ISOWEEK" in sql and ", WEEK)" not in sql
    assert "DATETIME_ADD(CAST(d AS DATETIME), INTERVAL 7 DAY)" in sql
    assert "INTERVAL '" not in sql and "DATE_TRUNC(" not in sql.replace("DATETIME_TRUNC(", "")
    assert source("customers").column("created_at").type == "TIMESTAMP"


@pytest.mark.parametrize("by", [("cohort",), ("cohort", "segment")], ids=["cohort", "cohort-segment"])
@pytest.mark.parametrize("vs", [None, "year"])
def test_cohorts_and_comparisons_analyze(zetasql, catalogs, session, by, vs):  # noqa: F811
    """--by cohort (the cohort metrics and the catalog beside them), previous() and --vs, every grain."""
    keys = [k for k in ((rv.metric, rv.variant.name) for rv in _REG.all_variants())
            if not _GRAPH.unsplittable_sources(k)]
    assert {k[0] for k in keys} >= {"logo_retention", "revenue_retention", "mrr_growth_rate"}
    for grain in GRAINS:
        plan = session.plan(session.request(keys, grain=grain, start=START, end=END, by=by, vs=vs))
        _, sql = session.compile(plan, "bigquery")
        assert_analyzes(zetasql, catalogs["datetime"], sql, f"all metrics by {grain} --by {' '.join(by)} --vs {vs}")
