"""The BigQuery adapter end to end: the official google-cloud-bigquery client against a BigQuery
emulator (local-bigquery, tests/support/bigquery_emulator.py), the numbers checked against DuckDB.

What this proves: the adapter's REST calls (dataset creation, load jobs of JSON rows with
BigQuery column types, query jobs with a default dataset, named query parameters, dry runs,
``maximum_bytes_billed`` in the job configuration), the Python values coming back, the
contract checks (dry-run schemas, count queries) and that every metric and variant of the
catalog computes the same numbers as on DuckDB at several grains, with the values sent as
parameters. What it cannot prove: the emulator runs the SQL on DuckDB after translating it, so
BigQuery's own acceptance of the SQL is checked by ZetaSQL (the analyzer test below and the
dialect tests), and nothing here says anything about cost or scale on real BigQuery (the
emulator reports 0 bytes for every dry run and does not enforce ``maximum_bytes_billed``).
"""

from __future__ import annotations

import datetime as dt
import decimal
import os
import re
import socket
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from csframe.core.errors import DataContractError, EngineUnavailableError, MetricFailedError, ProjectError
from csframe.core.project import Project, SourceBinding
from csframe.core.session import Session
from tests.support.bigquery_emulator import PROJECT, bq_emulator  # noqa: F401 - the fixture
from tests.support.zetasql import zetasql  # noqa: F401 - Google's analyzer (ZetaSQL), for the parameterized SQL

SOURCES = ("customers", "subscriptions", "invoices", "renewals", "costs")
END = dt.date(2025, 1, 1)
DATASET = "cs"


def _settings(endpoint: str, **extra) -> dict:
    return {"name": "bigquery", "project": PROJECT, "dataset": DATASET, "api_endpoint": endpoint, **extra}


def _session(tmp: Path, adapter: dict, sources=SOURCES, tables: dict | None = None) -> Session:
    bindings = {s: SourceBinding(s, table=(tables or {}).get(s, s)) for s in sources}
    return Session.open(project=Project(dir=tmp, adapter=adapter, sources=bindings), entry_points=False)


@pytest.fixture(scope="module")
def dataset():
    from csframe.plugins.demo import generate

    return generate(customers=60, months=18, end=END, seed=3, sources=set(SOURCES))


@pytest.fixture(scope="module")
def sessions(dataset, tmp_path_factory, bq_emulator):  # noqa: F811
    tmp = tmp_path_factory.mktemp("bigquery")
    duck = _session(tmp, {"name": "duckdb", "database": "d.duckdb"})
    duck.adapter().connect(write=True)
    duck.adapter().load_tables(dataset)
    bq = _session(tmp, _settings(bq_emulator.endpoint))
    bq.adapter().load_tables(dataset)
    yield {"duckdb": duck, "bigquery": bq, "tmp": tmp}
    duck.close()
    bq.close()


def _number(v):
    return float(v) if isinstance(v, (int, float, decimal.Decimal)) and not isinstance(v, bool) else v


def _same(a, b) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return _number(a) == pytest.approx(_number(b), rel=1e-9, abs=1e-9 if _number(b) == 0 else 0)


def _keys(session, by=()):
    keys = [(rv.metric, rv.variant.name) for rv in session.registry.all_variants()]
    return [k for k in keys if not session.missing_sources(k) and not (by and session.graph.unsplittable_sources(k))
            and set(session.graph.needs_by(k)) <= set(by)]  # cohort metrics: with --by cohort only


# -- loading -------------------------------------------------------------------------------------

def test_load_tables_gives_bigquery_types_and_the_same_rows(sessions, dataset):
    from google.cloud import bigquery

    adapter = sessions["bigquery"].adapter()
    want = {"VARCHAR": "STRING", "TIMESTAMP": "DATETIME", "DATE": "DATE", "DECIMAL(18,2)": "NUMERIC",
            "DOUBLE": "FLOAT64", "INTEGER": "INT64", "BOOLEAN": "BOOL"}
    legacy = {"FLOAT": "FLOAT64", "INTEGER": "INT64", "BOOLEAN": "BOOL"}  # the API may answer these
    for table in dataset.tables:
        schema = adapter.client.get_table(bigquery.DatasetReference(PROJECT, DATASET).table(table.name)).schema
        assert [(f.name, legacy.get(f.field_type, f.field_type)) for f in schema] == \
            [(c.name, want[c.type]) for c in table.columns]
        rows = adapter.execute(f"SELECT * FROM `{table.name}`")
        assert Counter(rows) == Counter(tuple(r) for r in table.rows), table.name  # Decimal, date, datetime, None
    sample = adapter.execute("SELECT started_at, mrr FROM subscriptions WHERE mrr IS NOT NULL LIMIT 1")[0]
    assert type(sample[0]) is dt.datetime and sample[0].tzinfo is None and type(sample[1]) is decimal.Decimal


def test_relation_columns(sessions, dataset):
    adapter = sessions["bigquery"].adapter()
    assert adapter.relation_columns("SELECT * FROM `customers`") == list(dataset.table("customers").column_names)
    with pytest.raises(MetricFailedError, match="(?i)not.?found|no_such_table|does not exist"):
        adapter.relation_columns("SELECT * FROM `no_such_table`")


def test_a_tables_types_come_from_its_metadata_without_a_query_job(sessions, dataset, monkeypatch):
    """A ``table =`` source (the session asks for ``SELECT * FROM `t```) is read with tables.get:
    no query job, so no translation by the emulator; a ``sql =`` source still takes a dry run."""
    s = sessions["bigquery"]
    adapter = s.adapter()
    adapter.connect()
    jobs = []
    real = adapter.client.query
    monkeypatch.setattr(adapter.client, "query", lambda *a, **k: jobs.append(a[0]) or real(*a, **k))
    want = {"VARCHAR": "STRING", "TIMESTAMP": "DATETIME", "DATE": "DATE", "DECIMAL(18,2)": "NUMERIC",
            "DOUBLE": "FLOAT64", "INTEGER": "INT64", "BOOLEAN": "BOOL"}
    legacy = {"FLOAT": "FLOAT64", "INTEGER": "INT64", "BOOLEAN": "BOOL"}  # the API may answer these
    for name in SOURCES:
        got = adapter.relation_types(s._relation_sql(name))
        assert [(c, legacy.get(t, t)) for c, t in got] == [(c.name, want[c.type]) for c in dataset.table(name).columns]
    qualified = adapter.relation_types(f"SELECT * FROM `{PROJECT}`.`{DATASET}`.`renewals`")
    assert [c for c, _ in qualified] == list(dataset.table("renewals").column_names)
    assert jobs == []
    assert adapter.relation_types("SELECT due_at FROM renewals WHERE renewed") == [("due_at", "DATE")]
    assert len(jobs) == 1  # the dry run


def test_a_missing_table_is_a_project_file_mistake_naming_it(sessions, bq_emulator):  # noqa: F811
    s = _session(sessions["tmp"], _settings(bq_emulator.endpoint), sources=("subscriptions",),
                 tables={"subscriptions": "billing_subs_missing"})
    with s, pytest.raises(ProjectError, match="sources.subscriptions.table: .*billing_subs_missing"):
        s.compute(["mrr"], grain="month", start="2024-01-01", end=END)


# -- the numbers -----------------------------------------------------------------------------------

# month, quarter, ISO week and --by segment are held equal on all three engines by
# tests/engine/test_engines_equal.py; here the grains it does not run
@pytest.mark.parametrize("grain,start,by", [
    ("year", "2023-01-01", ()),
    ("day", "2024-12-01", ()),
])
def test_bigquery_and_duckdb_agree_on_every_metric(sessions, grain, start, by):
    duck, bq = sessions["duckdb"], sessions["bigquery"]
    keys = _keys(duck, by)
    assert len(keys) >= (30 if by else 35)
    a = duck.compute(keys, grain=grain, start=start, end=END, by=by)
    b = bq.compute(keys, grain=grain, start=start, end=END, by=by)
    assert len(a.rows) == len(b.rows) > 0
    diffs = [(ra, rb) for ra, rb in zip(a.rows, b.rows) if ra[:-1] != rb[:-1] or not _same(ra[-1], rb[-1])]
    assert not diffs, f"{len(diffs)} rows differ, e.g. {diffs[:3]}"
    if grain == "year":  # the data is not trivial: movements and churn happen in the range
        values = {r[0] for r in b.rows if r[-1]}
        for metric in ("churned_customers", "expansion_mrr", "contraction_mrr", "new_customers", "renewal_rate"):
            assert metric in values, f"{metric} is 0 or NULL everywhere: the fixture proves nothing for it"


def test_bad_rows_are_found_and_left_out_alike(dataset, tmp_path, bq_emulator):  # noqa: F811
    """The contract checks' count and sample queries, and --lenient's filter, through BigQuery."""
    import attrs

    subs = dataset.table("subscriptions")
    cols = subs.column_names
    rows = [list(r) for r in subs.rows]
    ended = next(r for r in rows if r[cols.index("ended_at")] is not None)
    ended[cols.index("ended_at")] = ended[cols.index("started_at")] - dt.timedelta(days=3)
    rows[-1][cols.index("mrr")] = decimal.Decimal("-5.00")
    bad = attrs.evolve(dataset, tables=(attrs.evolve(subs, rows=[tuple(r) for r in rows]),))
    duck = _session(tmp_path, {"name": "duckdb", "database": "bad.duckdb"}, sources=("subscriptions",))
    duck.adapter().connect(write=True)
    duck.adapter().load_tables(bad)
    bq = _session(tmp_path, _settings(bq_emulator.endpoint, dataset="bad_rows"), sources=("subscriptions",))
    bq.adapter().load_tables(bad)
    with duck, bq:
        problems = []
        for s in (duck, bq):
            with pytest.raises(DataContractError) as err:
                s.compute(["mrr", "churn_rate"], grain="month", start="2024-01-01", end=END)
            problems.append([str(p) for p in err.value.problems])
        assert problems[0] == problems[1] and len(problems[0]) == 2, problems
        a = duck.compute(["mrr", "churn_rate"], grain="month", start="2024-01-01", end=END, lenient=True)
        b = bq.compute(["mrr", "churn_rate"], grain="month", start="2024-01-01", end=END, lenient=True)
    assert a.warnings == b.warnings and len(b.warnings) == 2
    assert len(a.rows) == len(b.rows) > 0
    assert all(ra[:-1] == rb[:-1] and _same(ra[-1], rb[-1]) for ra, rb in zip(a.rows, b.rows))


# -- query parameters ----------------------------------------------------------------------------

def _literal_tokens(sql: str) -> list[str]:
    import sqlglot
    from sqlglot.tokens import TokenType

    kinds = {TokenType.STRING, TokenType.RAW_STRING, TokenType.BYTE_STRING, TokenType.NATIONAL_STRING,
             TokenType.HEX_STRING}
    return [t.text for t in sqlglot.Dialect.get_or_raise("bigquery").tokenize(sql) if t.token_type in kinds]


@pytest.mark.parametrize("parameters", [True, False])
def test_the_sql_sent_carries_no_value_when_parameters_are_on(sessions, bq_emulator, parameters):  # noqa: F811
    s = _session(sessions["tmp"], _settings(bq_emulator.endpoint, query_parameters=parameters))
    with s:
        r = s.compute(["churn_rate", "mrr"], grain="month", start="2024-03-01", end="2024-09-01")
        adapter = s.adapter()
        job = adapter.client.get_job(adapter.last_job.job_id)  # what the server received
    sent = job.query
    params = {p.name: p.value for p in job.query_parameters}
    if parameters:
        assert not _literal_tokens(sent), _literal_tokens(sent)[:5]
        for value in ("2024-03-01", "2024-09-01", "churn_rate", "lost_over_start"):
            assert value not in re.sub(r"/\*.*?\*/", "", sent, flags=re.S)
            assert value in params.values(), value
        assert re.search(r"@p\d+", sent)
    else:
        assert "'churn_rate'" in sent and not params  # the control: the check above can see a literal
    assert r.value("mrr", "2024-06-01") == sessions["duckdb"].compute(
        ["mrr"], grain="month", start="2024-03-01", end="2024-09-01").value("mrr", "2024-06-01")


def test_execute_with_own_parameters_and_awkward_strings(sessions):
    adapter = sessions["bigquery"].adapter()
    rows = adapter.execute(r"SELECT @x + 1, @s, 'it\'s', CAST('2024-02-29' AS DATE)", {"x": 41, "s": "a'b\"c"})
    assert rows == [(42, "a'b\"c", "it's", dt.date(2024, 2, 29))]
    job = adapter.client.get_job(adapter.last_job.job_id)
    assert "'" not in job.query and "2024" not in job.query, job.query


def test_parameterize_leaves_syntax_alone():
    from csframe.adapters.bigquery import parameterize

    sql = ("SELECT DATE '2024-01-01', CAST('2024-01-01' AS DATE), 'x', 'x', 2.5, -3, NUMERIC '1.25', "
           "DATE_TRUNC(d, ISOWEEK), DATE_TRUNC(d, MONTH), d + INTERVAL 1 MONTH, FORMAT_DATE('%Y-%m', d), "
           "CAST(n AS NUMERIC(10, 2)), SUM(x) OVER (ORDER BY d ROWS BETWEEN 1 PRECEDING AND CURRENT ROW), "
           "JSON '{\"a\": 1}', r'raw', b'bytes' FROM t WHERE s = @p0 GROUP BY 1 ORDER BY 2 LIMIT 10")
    text, params = parameterize(sql, taken=("p0",))
    assert params == [("p1", "DATE", dt.date(2024, 1, 1)), ("p2", "STRING", "2024-01-01"), ("p3", "STRING", "x"),
                      ("p4", "FLOAT64", 2.5), ("p5", "INT64", 3), ("p6", "NUMERIC", decimal.Decimal("1.25"))]
    assert text == ("SELECT @p1, CAST(@p2 AS DATE), @p3, @p3, @p4, -@p5, @p6, "
                    "DATE_TRUNC(d, ISOWEEK), DATE_TRUNC(d, MONTH), d + INTERVAL 1 MONTH, FORMAT_DATE('%Y-%m', d), "
                    "CAST(n AS NUMERIC(10, 2)), SUM(x) OVER (ORDER BY d ROWS BETWEEN 1 PRECEDING AND CURRENT ROW), "
                    "JSON '{\"a\": 1}', r'raw', b'bytes' FROM t WHERE s = @p0 GROUP BY 1 ORDER BY 2 LIMIT 10")



def test_parameterize_keeps_the_dialects_own_constants_as_literals():
    """The 1000000 µs of a second that the dialect writes for EPOCH_SECONDS is no one's value: as
    an INT64 parameter the emulator divides the NUMERIC in FLOAT64 (an event exactly window_days
    after created_at then falls outside; tests/engine/test_engines_equal.py). Elsewhere, the same
    number and the user's window_days are still parameters."""
    from csframe.adapters.bigquery import parameterize

    micros = "CAST(UNIX_MICROS(TIMESTAMP(e.occurred_at)) AS NUMERIC) / 1000000"
    sql = f"SELECT {micros} <= 30 * 86400, x / 1000000, CAST(y AS NUMERIC) / 1000000, 'a' FROM t"
    text, params = parameterize(sql)
    assert text == f"SELECT {micros} <= @p0 * @p1, x / @p2, CAST(y AS NUMERIC) / @p2, @p3 FROM t"
    assert params == [("p0", "INT64", 30), ("p1", "INT64", 86400), ("p2", "INT64", 1000000), ("p3", "STRING", "a")]

def test_bigquerys_analyzer_accepts_the_parameterized_catalog(tmp_path, zetasql):  # noqa: F811
    """ZetaSQL (BigQuery's front end) on the whole catalog's query with the parameters declared
    by type: the same expression with @p in SELECT and GROUP BY still groups, and STRING
    parameters cast to DATE are fine. (The emulator cannot say this: it runs DuckDB.)"""
    from csframe.adapters.bigquery import bigquery_type, parameterize
    from csframe.plugins.demo import SCHEMAS

    import grpc

    catalog = zetasql.register_catalog({name: [(c.name, bigquery_type(c.type)) for c in cols]
                                        for name, cols in SCHEMAS.items()})
    bq = _session(tmp_path, {"name": "bigquery", "project": PROJECT, "dataset": DATASET})  # compiles, never connects
    for grain, by in (("month", ()), ("week", ()), ("month", ("segment",))):
        keys = _keys(bq, by)
        _, sql = bq.compile(bq.plan(bq.request(keys, grain=grain, start="2024-01-01", end=END, by=by)))
        text, params = parameterize(sql)
        options = zetasql.analyzer_options()
        for name, kind, _ in params:
            options.query_parameters.add(name=name, type=zetasql.type_of(kind))
        try:
            zetasql.stub.Analyze(zetasql.ls.AnalyzeRequest(options=options, registered_catalog_id=catalog,
                                                           sql_statement=text), timeout=60)
        except grpc.RpcError as e:
            pytest.fail(f"{grain} {by}: BigQuery's analyzer rejects the parameterized query: {e.details()}")


# -- dry run, cost guard, connection errors --------------------------------------------------------

def test_dry_run_returns_bytes_and_runs_nothing(sessions):
    adapter = sessions["bigquery"].adapter()
    n = adapter.dry_run("SELECT customer_id FROM customers WHERE segment = 'smb'")
    assert isinstance(n, int) and n >= 0  # the emulator always says 0
    with pytest.raises(MetricFailedError, match="bigquery failed"):
        adapter.dry_run("SELECT no_such_column FROM customers")


def test_maximum_bytes_billed_goes_into_the_job(sessions, bq_emulator):  # noqa: F811
    s = _session(sessions["tmp"], _settings(bq_emulator.endpoint, maximum_bytes_billed=123456789))
    with s:
        adapter = s.adapter()
        assert adapter.execute("SELECT COUNT(*) FROM customers") == [(60,)]
        assert adapter.last_job.maximum_bytes_billed == 123456789
        assert adapter.client.get_job(adapter.last_job.job_id).maximum_bytes_billed == 123456789
    for bad in ("123456789", -1, "lots", 0):  # a TOML integer, not a string (docs/choices.md)
        with pytest.raises(ProjectError, match="maximum_bytes_billed"):
            _session(sessions["tmp"], _settings(bq_emulator.endpoint, maximum_bytes_billed=bad)).adapter()


def test_a_query_over_the_byte_limit_is_a_failed_metric_with_a_hint(tmp_path):
    """BigQuery's refusal, as the API reports it (the emulator never refuses)."""
    from google.api_core import exceptions as gexc

    adapter = _session(tmp_path, {"name": "bigquery", "project": "p", "dataset": "d",
                                  "maximum_bytes_billed": 1000}).adapter()
    refusal = gexc.BadRequest("Query exceeded limit for bytes billed: 1000. 10485760 or higher required.",
                              errors=[{"reason": "bytesBilledLimitExceeded", "message":
                                       "Query exceeded limit for bytes billed: 1000. 10485760 or higher required."}])
    err = adapter._fail(refusal, "to run the query")
    assert isinstance(err, MetricFailedError) and err.exit_code == 1
    assert "bytes billed" in err.message and "maximum_bytes_billed = 1000" in err.hint
    assert isinstance(adapter._fail(gexc.Unauthorized("bad token"), "to run the query"), EngineUnavailableError)


def test_settings_are_checked(tmp_path):
    with pytest.raises(ProjectError, match="dataset"):
        _session(tmp_path, {"name": "bigquery", "project": "p"}).adapter()
    with pytest.raises(ProjectError, match="credentials_file"):
        _session(tmp_path, {"name": "bigquery", "project": "p", "dataset": "d", "credentials_file": "x"}).adapter()
    a = _session(tmp_path, {"name": "bigquery", "project": "p", "dataset": "d", "location": "EU"}).adapter()
    assert a.describe() == "bigquery dataset p.d"


def test_only_queries_are_sent(sessions):
    adapter = sessions["bigquery"].adapter()
    for statement in ("DELETE FROM customers WHERE TRUE", "DROP TABLE customers",
                      "SELECT 1; DROP TABLE customers", "CREATE TABLE x AS SELECT 1"):
        with pytest.raises(MetricFailedError, match="one query"):
            adapter.execute(statement)
    assert adapter.execute("SELECT COUNT(*) FROM customers") == [(60,)]


def test_without_an_endpoint_credentials_are_application_default(tmp_path, monkeypatch):
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "no-such-key.json"))
    adapter = _session(tmp_path, {"name": "bigquery", "project": "acme-prod", "dataset": "cs"}).adapter()
    with pytest.raises(EngineUnavailableError) as err:
        adapter.connect()
    assert err.value.exit_code == 3 and "acme-prod" in str(err.value) and "application-default" in str(err.value)
    assert "no-such-key" not in str(err.value)  # names the project, not where a key file lives


def _dead_endpoint() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


def test_an_unreachable_endpoint_is_exit_3(tmp_path):
    endpoint = _dead_endpoint()
    s = _session(tmp_path, _settings(endpoint), sources=("subscriptions",))
    with pytest.raises(EngineUnavailableError) as err:
        s.compute(["mrr"], grain="month", start="2024-01-01", end=END, retries=1)
    assert err.value.exit_code == 3 and err.value.transient  # a refused connection may pass: retried once
    assert endpoint in str(err.value) and PROJECT in str(err.value) and "retries" in str(err.value)


def test_the_run_time_limit_cancels_the_job(sessions):
    """--timeout: the job carries job_timeout_ms (BigQuery stops it on its side), and the client
    stops waiting when the deadline passes and cancels the job."""
    from csframe.core.deadline import Deadline
    from csframe.core.errors import RunTimeoutError

    adapter = sessions["bigquery"].adapter()
    adapter.set_deadline(Deadline.of(1.0))
    try:
        with pytest.raises(RunTimeoutError, match="time limit"):  # 2e10 rows: minutes on the emulator
            adapter.execute("SELECT SUM(a * b) FROM UNNEST(GENERATE_ARRAY(1, 200000)) AS a "
                            "CROSS JOIN UNNEST(GENERATE_ARRAY(1, 100000)) AS b")
    finally:
        adapter.set_deadline(None)
    job = adapter.client.get_job(adapter.last_job.job_id)
    assert 0 < int(job._properties["configuration"]["jobTimeoutMs"]) <= 1000
    assert job.state == "DONE" and job.error_result and job.error_result["reason"] == "stopped"
    assert adapter.execute("SELECT 1") == [(1,)]


def test_an_unreachable_endpoint_from_the_command_line(tmp_path):
    endpoint = _dead_endpoint()
    (tmp_path / "csframe.toml").write_text(
        f'[adapter]\nname = "bigquery"\nproject = "{PROJECT}"\ndataset = "cs"\napi_endpoint = "{endpoint}"\n\n'
        '[sources.subscriptions]\ntable = "subscriptions"\n', encoding="utf-8")
    exe = Path(sys.executable).parent / "csframe"
    env = {k: v for k, v in os.environ.items() if k != "CSFRAME_DEBUG"}
    r = subprocess.run([str(exe), "compute", "--metric", "mrr", "--project", str(tmp_path)],
                       capture_output=True, text=True, timeout=60, env=env)
    assert r.returncode == 3, r.stderr
    assert endpoint in r.stderr and "Traceback" not in r.stderr


def test_compute_dry_run_reports_bytes_per_query_and_runs_nothing(sessions, bq_emulator):  # noqa: F811
    """`csframe compute --dry-run`: one line per query the run would send (each source's
    data-contract checks, then the metrics query) and a total; no job runs. The emulator
    reports 0 bytes for every dry run (real BigQuery reports the bytes it would bill)."""
    tmp = sessions["tmp"]
    lines = [f'[adapter]\nname = "bigquery"\nproject = "{PROJECT}"\ndataset = "{DATASET}"\n'
             f'api_endpoint = "{bq_emulator.endpoint}"\n']
    lines += [f'[sources.{s}]\ntable = "{s}"\n' for s in SOURCES]
    (tmp / "csframe.toml").write_text("\n".join(lines), encoding="utf-8")
    exe = Path(sys.executable).parent / "csframe"
    r = subprocess.run([str(exe), "compute", "--dry-run", "-m", "mrr", "-m", "arpu:invoiced", "--project", str(tmp),
                        "--start", "2024-01-01", "--end", "2024-07-01"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    out = r.stdout.splitlines()
    assert [line.split("bytes", 1)[1].strip() for line in out] == [
        "data-contract checks of subscriptions", "data-contract checks of invoices",
        "metrics (2 variants)", "in all (nothing was run)"]
    assert all(line.split("bytes")[0].strip().replace(",", "").isdigit() for line in out)


def test_dry_run_on_an_engine_without_one_is_a_usage_error(sessions):
    from csframe.core.errors import UsageError

    duck = sessions["duckdb"]
    plan = duck.plan(duck.request(duck.keys(["mrr"]), start="2024-01-01", end="2024-02-01"))
    with pytest.raises(UsageError, match="no dry run") as e:
        duck.dry_run(plan)
    assert e.value.exit_code == 2
