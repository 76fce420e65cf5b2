"""csframe's test kit (``csframe.testing``) itself: how rows become the canonical sources,
what ``csframe_case`` asserts and reports, the engines it runs on (and when it skips or fails
one), the namespace each test gets and drops, and BigQuery through the emulator.

Behaviour that depends on how pytest is started (engine selection, an unreachable server) is
tested by running pytest in a subprocess on a small test file, with the kit loaded by ``-p``.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import socket
import subprocess
import sys
import textwrap
import time
from decimal import Decimal
from pathlib import Path

import pytest
from csframe import testing
from csframe.testing import RowsError, load_rows

T = dt.datetime


# == rows → tables ==================================================================================

def test_text_table_is_typed_by_the_data_contract():
    ds = load_rows({"subscriptions": """
        | customer_id | started_at       | ended_at | mrr    | is_trial |
        |-------------|------------------|----------|--------|----------|
        # a comment line
        | c1          | 2024-01-01       |          | 100.50 | false    |
        | c2          | 2024-01-15 12:30 | NULL     | 7      | yes      |
    """})
    t = ds.table("subscriptions")
    assert t.column_names == ("subscription_id", "customer_id", "started_at", "ended_at", "mrr", "is_trial")
    assert [c.type for c in t.columns] == ["VARCHAR", "VARCHAR", "TIMESTAMP", "TIMESTAMP", "DECIMAL(38, 9)", "BOOLEAN"]
    assert t.rows == [
        ("subscriptions-1", "c1", T(2024, 1, 1), None, Decimal("100.50"), False),
        ("subscriptions-2", "c2", T(2024, 1, 15, 12, 30), None, Decimal("7"), True),
    ]


def test_optional_columns_left_out_take_the_contract_default():
    t = load_rows({"invoices": "customer_id, paid_at, amount\nc1, 2024-03-02, 20\n"}).table("invoices")
    assert t.column_names == ("invoice_id", "customer_id", "paid_at", "amount")  # no kind: 'subscription' applies
    assert t.rows == [("invoices-1", "c1", T(2024, 3, 2), Decimal("20"))]


def test_trailing_empty_cell_without_a_border():
    t = load_rows({"invoices": "customer_id | paid_at | amount | kind\nc1 | 2024-03-02 | 20 |\n"}).table("invoices")
    assert t.rows == [("invoices-1", "c1", T(2024, 3, 2), Decimal("20"), None)]


def test_repeat_numbers_rows():
    t = load_rows({"customers": "customer_id | created_at | plan | _repeat\nk{i} | 2024-01-01 | pro | 3\n"}).table("customers")
    assert [r[0] for r in t.rows] == ["k0", "k1", "k2"]
    assert t.column_names == ("customer_id", "created_at", "plan")


def test_dicts_and_tuples_with_python_values():
    ds = load_rows({
        "customers": [{"customer_id": "c1", "created_at": dt.date(2023, 5, 1), "seats": 12, "score": 0.5},
                      {"customer_id": "c2", "created_at": "2023-05-02T08:00:00+02:00", "seats": None, "score": 1}],
        "events": (("user_id", "customer_id", "name", "occurred_at"), [("u1", "c1", "login", T(2024, 3, 1, 9))]),
    })
    customers = ds.table("customers")
    assert [(c.name, c.type) for c in customers.columns] == [
        ("customer_id", "VARCHAR"), ("created_at", "TIMESTAMP"), ("seats", "BIGINT"), ("score", "DOUBLE")]
    assert customers.rows == [("c1", T(2023, 5, 1), 12, 0.5), ("c2", T(2023, 5, 2, 6), None, 1.0)]  # aware → UTC
    assert ds.names == ("customers", "events")  # the contract's order
    assert ds.table("events").rows == [("u1", "c1", "login", T(2024, 3, 1, 9))]


def test_empty_source_has_its_columns():
    t = load_rows({"events": []}).table("events")
    assert t.column_names == ("user_id", "customer_id", "name", "occurred_at") and t.rows == []


def test_files_csv_toml_json_and_a_directory(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "events.csv").write_text("user_id,customer_id,name,occurred_at\nu1,c1,login,2024-03-01 09:00\n")
    (tmp_path / "data" / "customers.csv").write_text("customer_id,created_at\nc1,2023-01-01\n")
    (tmp_path / "case.toml").write_text(textwrap.dedent("""\
        [[subscriptions]]
        customer_id = "c1"
        started_at = 2024-01-01T00:00:00
        mrr = 100

        [[subscriptions]]
        customer_id = "c2"
        started_at = 2024-01-01
        ended_at = 2024-03-15T12:00:00
        mrr = 50.5
        """))
    (tmp_path / "case.json").write_text(json.dumps({"costs": [
        {"incurred_at": "2024-03-01", "category": "acquisition", "amount": "1000"}]}))
    assert load_rows("data", tmp_path).names == ("customers", "events")
    assert load_rows({"events": "data/events.csv"}, tmp_path).table("events").rows == [
        ("u1", "c1", "login", T(2024, 3, 1, 9))]
    subs = load_rows(tmp_path / "case.toml").table("subscriptions")
    assert [r[1:] for r in subs.rows] == [("c1", T(2024, 1, 1), None, Decimal("100")),
                                          ("c2", T(2024, 1, 1), T(2024, 3, 15, 12), Decimal("50.5"))]
    assert load_rows("case.json", tmp_path).table("costs").rows == [(T(2024, 3, 1), "acquisition", Decimal("1000"))]


def test_a_csv_saved_by_excel_with_a_byte_order_mark(tmp_path):
    # Excel's "CSV UTF-8" starts the file with U+FEFF and ends lines with CRLF; the BOM is no part of the header
    (tmp_path / "data").mkdir()
    for path in (tmp_path / "invoices.csv", tmp_path / "data" / "invoices.csv"):
        path.write_bytes("customer_id,paid_at,amount\r\nc1,2024-03-02,20\r\n".encode("utf-8-sig"))
    (tmp_path / "case.json").write_bytes(json.dumps({"costs": [
        {"incurred_at": "2024-03-01", "category": "acquisition", "amount": 1}]}).encode("utf-8-sig"))
    want = [("invoices-1", "c1", T(2024, 3, 2), Decimal("20"))]
    assert load_rows({"invoices": "invoices.csv"}, tmp_path).table("invoices").rows == want
    assert load_rows("data", tmp_path).table("invoices").rows == want
    assert load_rows("case.json", tmp_path).table("costs").rows == [(T(2024, 3, 1), "acquisition", Decimal("1"))]


YAML_ROWS = """\
# the rows of one case, as a .yaml file (PyYAML: pip install 'csframe[yaml]')
subscriptions:
  - {customer_id: c1, started_at: 2024-01-01, mrr: 100}
  - {customer_id: c2, started_at: 2024-01-01, ended_at: "2024-03-15 12:00", mrr: 50.5}
customers:
  - customer_id: c1
    created_at: 2023-06-01
    plan: pro
  - customer_id: c2
    created_at: 2023-06-01
    plan: free
"""


def test_a_yaml_rows_file(tmp_path):
    (tmp_path / "case.yaml").write_text(YAML_ROWS, encoding="utf-8")
    ds = load_rows("case.yaml", tmp_path)
    assert ds.names == ("customers", "subscriptions")
    assert ds.table("subscriptions").rows == [
        ("subscriptions-1", "c1", T(2024, 1, 1), None, Decimal("100")),
        ("subscriptions-2", "c2", T(2024, 1, 1), T(2024, 3, 15, 12), Decimal("50.5"))]
    assert ds.table("customers").rows == [("c1", T(2023, 6, 1), "pro"), ("c2", T(2023, 6, 1), "free")]


@pytest.mark.csframe_engines("duckdb")
def test_a_yaml_rows_file_in_a_case(csframe_case, tmp_path):
    (tmp_path / "case.yml").write_text(YAML_ROWS, encoding="utf-8")
    csframe_case(rows=tmp_path / "case.yml", period="2024-03-01", expected={"customers": 1, "churned_customers": 1})
    csframe_case(rows=tmp_path / "case.yml", metric="churned_customers", period="2024-03-01", where={"plan": "free"},
                 expected=1)


def test_yaml_without_pyyaml_names_the_extra(tmp_path, monkeypatch):
    (tmp_path / "case.yaml").write_text(YAML_ROWS, encoding="utf-8")
    monkeypatch.setitem(sys.modules, "yaml", None)  # import yaml now raises ImportError
    with pytest.raises(RowsError) as e:
        load_rows("case.yaml", tmp_path)
    assert str(e.value) == ("rows: reading case.yaml needs PyYAML (pip install 'csframe[yaml]'); "
                            "TOML, JSON and CSV need nothing")


@pytest.mark.parametrize("rows,message", [
    ({"event": []}, "rows: unknown source 'event'. Did you mean 'events'? Sources: customers, subscriptions,"),
    ({"events": "user_id | customer_id | name | occurred_at\nu1 | c1 | login | 2024-13-01\n"},
     "rows of events, row 1, column occurred_at: '2024-13-01' is not a timestamp (YYYY-MM-DD[ HH:MM[:SS]])"),
    ({"events": "user_id | customer_id | name | occurred_at\nu1 | c1 | 2024-03-01\n"},
     "rows of events, line 2: 3 cells for 4 columns (user_id, customer_id, name, occurred_at)"),
    ({"events": "user_id | customer_id | occurred_at\nu1 | c1 | 2024-03-01\n"},
     "rows of events: no column name (the data contract's events has user_id, customer_id, name, occurred_at; "
     "optional: none)"),
    ({"renewals": [{"contract_id": "k", "customer_id": "c", "due_at": "2024-03-01", "value_up": 1, "renewed": "maybe",
                    "renewed_value": 0}]},
     "rows of renewals, row 1, column renewed: 'maybe' is not a boolean (true/false)"),
    ({"customers": [{"customer_id": "c", "created_at": "2024-01-01", "_repeat": "many"}]},
     "rows of customers, row 1: _repeat must be a whole number, not 'many'"),
    ({"events": "no_such_file.csv"}, "rows: no file"),
])
def test_rows_errors_name_source_row_and_column(rows, message):
    with pytest.raises(RowsError) as e:
        load_rows(rows, Path("/nonexistent"))
    assert str(e.value).startswith(message), str(e.value)


# == csframe_case ===================================================================================

SUBS = """
customer_id | started_at | ended_at         | mrr | _repeat
k{i}        | 2024-01-01 |                  | 100 | 9
l0          | 2024-01-01 | 2024-03-15 12:00 | 100 | 1
"""
CUSTOMERS = """
customer_id | created_at | plan
k{i}        | 2023-01-01 | pro
"""


def test_one_value_and_the_returned_value(csframe_case):
    assert csframe_case(rows={"subscriptions": SUBS}, metric="churn_rate", period="2024-03-20", expected=0.1) == \
        pytest.approx(0.1)  # a day inside the period names it


def test_a_mismatch_names_metric_period_engine_expected_and_actual(csframe_case):
    with pytest.raises(AssertionError) as e:
        csframe_case(rows={"subscriptions": SUBS}, metric="churn_rate", period="2024-03-01", expected=0.2)
    assert str(e.value) == (f"churn_rate:lost_over_start: expected 0.2, got 0.1 for the month starting 2024-03-01 on "
                            f"{csframe_case.engine}\n(set CSFRAME_TEST_SHOW_SQL=1 to see the query)")
    with pytest.raises(AssertionError, match=r"expected NULL, got 0\.1 for"):
        csframe_case(rows={"subscriptions": SUBS}, metric="churn_rate", period="2024-03-01", expected=None)


def test_several_metrics_in_one_query_every_mismatch_reported(csframe_case):
    rows = {"subscriptions": SUBS}
    got = csframe_case(rows=rows, period="2024-03-01", expected={"customers": 9, "churned_customers": 1, "mrr": 900})
    assert got == {"customers": 9.0, "churned_customers": 1.0, "mrr": 900.0}
    with pytest.raises(AssertionError) as e:
        csframe_case(rows=rows, period="2024-03-01", expected={"customers": 10, "churned_customers": 1, "mrr": 0})
    assert str(e.value).startswith(f"2 values differ for the month starting 2024-03-01 on {csframe_case.engine}:\n"
                                   "  customers:default: expected 10, got 9\n  mrr:default: expected 0, got 900\n")


def test_tolerance_grain_and_a_project_default_variant(csframe_case):
    rows = {"subscriptions": SUBS}
    csframe_case(rows=rows, metric="churn_rate", period="2024-03-01", expected=0.1000001, tolerance=1e-5)
    csframe_case(rows=rows, metric="customers", period="2024-02-10", grain="quarter", expected=9)
    csframe_case(rows=rows, metric="churn_rate", period="2024-03-01", variants={"churn_rate": "net_loss"}, expected=0.1)


def test_where_splits_by_a_customers_dimension(csframe_case):
    rows = {"subscriptions": SUBS, "customers": CUSTOMERS + "l0 | 2023-01-01 | free\n"}
    csframe_case(rows=rows, metric="churned_customers", period="2024-03-01", where={"plan": "free"}, expected=1)
    csframe_case(rows=rows, metric="churned_customers", period="2024-03-01", where={"plan": "pro"}, expected=0)


def test_parameters_reach_the_query(csframe_case):
    # CLV with the project's parameters: none of the revenue metrics has one, so an unknown name is an error
    from csframe.core.errors import UsageError

    with pytest.raises(UsageError, match="unknown parameter 'no_such_param'"):
        csframe_case(rows={"subscriptions": SUBS}, metric="churn_rate", period="2024-03-01", expected=0.1,
                     params={"no_such_param": 1})


def test_compute_returns_the_result_over_several_periods(csframe_case):
    r = csframe_case.compute({"subscriptions": SUBS}, ["customers", "churn_rate"], start="2024-02-01", end="2024-04-01")
    assert r.value("customers", "2024-02-01") == 10 and r.value("customers", "2024-03-01") == 9
    assert r.value("churn_rate", "2024-03-01") == pytest.approx(0.1)
    assert csframe_case.last_sql.lstrip().startswith("WITH")


def test_examples_of_an_unknown_plugin_say_so(csframe_case):
    with pytest.raises(AssertionError, match=r"no worked example is declared on the variants of plugin 'nope'; "
                                             r"plugins with examples: .*csframe\.definitions\.revenue"):
        csframe_case.examples(plugin="nope")


@pytest.mark.csframe_engines("duckdb")
def test_a_source_without_rows_says_to_give_rows_not_to_map_it(csframe_case):
    with pytest.raises(RowsError) as e:
        csframe_case(rows={"events": []}, metric="churn_rate", period="2024-03-01", expected=0.1)
    assert str(e.value) == (
        'csframe_case: no rows for subscriptions for metric churn_rate:lost_over_start. Give them in the test: '
        'rows={"subscriptions": ...}, as a text table, a list of dicts, (columns, rows) or a .csv file '
        '(subscriptions: customer_id | started_at | ended_at | mrr); [] is a source with no row')
    with pytest.raises(RowsError, match=r'^csframe_case: no rows for subscriptions for metric customers:default, '
                                        r'metric net_revenue_retention:default; customers for splitting by plan '
                                        r'\(where= or by=\)\. Give them in the test: '
                                        r'rows=\{"subscriptions": \.\.\., "customers": \.\.\.\}, .*'
                                        r'\(subscriptions: customer_id \| started_at \| ended_at \| mrr; '
                                        r'customers: customer_id \| created_at\)'):
        csframe_case.compute({}, ["customers", "net_revenue_retention"], start="2024-03-01", by=["plan"])
    # given, even empty, the source is there
    csframe_case(rows={"subscriptions": []}, metric="customers", period="2024-03-01", expected=0)


def _installed_plugin(site: Path, name: str, source: str) -> None:
    """A plugin package as pip leaves one in site-packages: its module, and a dist-info
    declaring it under the ``csframe`` entry-point group."""
    site.mkdir(parents=True, exist_ok=True)
    (site / f"{name}.py").write_text(source, encoding="utf-8")
    info = site / f"{name}-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name.replace('_', '-')}\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(f"[csframe]\n{name} = {name}\n")


OVERRIDE = """\
from csframe.core.hookspecs import hookimpl


@hookimpl
def csframe_register_metrics(registrar):
    registrar.default_variant("churn_rate", "net_loss")
"""


@pytest.mark.csframe_engines("duckdb")
def test_disable_keeps_an_installed_plugin_out(csframe_case, tmp_path, monkeypatch):
    _installed_plugin(tmp_path / "site", "kit_default_probe", OVERRIDE)
    monkeypatch.syspath_prepend(str(tmp_path / "site"))  # installed, for this test only
    monkeypatch.delitem(sys.modules, "kit_default_probe", raising=False)
    try:
        def variant(**kw) -> str:
            return csframe_case.compute({"subscriptions": SUBS}, "churn_rate", start="2024-03-01", **kw).rows[0][1]

        assert variant() == "net_loss"  # the installed plugin changed the default of every test
        assert variant(disable=["kit_default_probe"]) == "lost_over_start"
        assert variant(disable="kit_default_probe") == "lost_over_start"
        s = csframe_case.session({}, disable=("kit_default_probe",))
        assert "kit_default_probe" not in s.plugins.origins and s.project.plugin_disable == ("kit_default_probe",)
        csframe_case(rows={"subscriptions": SUBS}, metric="churn_rate", period="2024-03-01", expected=0.1,
                     disable=["kit_default_probe"])
        assert csframe_case.examples(metrics=["churn_rate"], disable=["kit_default_probe"])
        # a project-local module named in modules= is kept out the same way
        (tmp_path / "local_default.py").write_text(OVERRIDE, encoding="utf-8")
        monkeypatch.syspath_prepend(str(tmp_path))
        assert variant(modules=["local_default"], disable=["kit_default_probe"]) == "net_loss"
        assert variant(modules=["local_default"], disable=["kit_default_probe", "local_default"]) == "lost_over_start"
    finally:
        sys.modules.pop("kit_default_probe", None)
        sys.modules.pop("local_default", None)


@pytest.mark.csframe_engines("duckdb")
def test_the_marker_keeps_a_test_to_some_engines(csframe_engine, csframe_case):
    assert csframe_engine == csframe_case.engine == "duckdb"


def test_each_postgres_test_gets_a_schema_dropped_after(request, csframe_servers, tmp_path):
    import psycopg

    csframe_pg_dsn = csframe_servers.get("postgres")["dsn"]
    ns = testing._namespace(request, "postgres", tmp_path)
    case = testing.Case(ns, Path(__file__).parent, tmp_path)
    schema = ns.settings["schema"]
    assert schema.startswith("csframe_t_")
    query = "SELECT count(*) FROM information_schema.tables WHERE table_schema = %s"
    try:
        case(rows={"subscriptions": SUBS}, metric="churn_rate", period="2024-03-01", expected=0.1)
        with psycopg.connect(csframe_pg_dsn) as con:
            assert con.execute(query, (schema,)).fetchone()[0] == 1
    finally:
        case.close()
    with psycopg.connect(csframe_pg_dsn) as con:
        assert con.execute("SELECT count(*) FROM pg_namespace WHERE nspname = %s", (schema,)).fetchone()[0] == 0


# == engines: how pytest is started ===================================================================

INNER = '''
import pytest

SUBS = """
customer_id | started_at | ended_at         | mrr | _repeat
k{i}        | 2024-01-01 |                  | 100 | 9
l0          | 2024-01-01 | 2024-03-15 12:00 | 100 | 1
"""


def test_churn(csframe_case):
    csframe_case(rows={"subscriptions": SUBS}, metric="churn_rate", period="2024-03-01", expected=0.1)


def test_examples(csframe_case):
    assert len(csframe_case.examples(plugin="csframe.definitions.revenue")) >= 21


@pytest.mark.csframe_engines("duckdb")
def test_duckdb_only(csframe_case):
    pass


def test_no_engine():
    pass
'''


def run_inner(tmp_path: Path, *args: str, env: dict[str, str | None] | None = None) -> subprocess.CompletedProcess:
    d = tmp_path / "inner"
    d.mkdir(exist_ok=True)
    (d / "pytest.ini").write_text("[pytest]\n")
    (d / "test_inner.py").write_text(INNER)
    e = {k: v for k, v in os.environ.items() if not k.startswith("CSFRAME_TEST_") and k != "CI"}
    e["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"  # only the kit (-p): the other plugins take seconds to load
    for k, v in (env or {}).items():
        if v is not None:
            e[k] = v
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "csframe.testing", "-p", "no:cacheprovider",
                           "-q", "-rs", *args, str(d)], capture_output=True, text=True, env=e, cwd=d, timeout=300)


def collected(r: subprocess.CompletedProcess) -> list[str]:
    return sorted(line.split("::", 1)[1] for line in r.stdout.splitlines() if "::" in line)


def test_engines_by_default_by_env_by_option_and_by_marker(tmp_path):
    ids = collected(run_inner(tmp_path, "--collect-only"))
    assert ids == ["test_churn[duckdb]", "test_churn[postgres]", "test_duckdb_only[duckdb]", "test_examples[duckdb]",
                   "test_examples[postgres]", "test_no_engine"]
    with_bq = collected(run_inner(tmp_path, "--collect-only", env={"CSFRAME_TEST_BIGQUERY_ENDPOINT": "http://x"}))
    assert "test_churn[bigquery]" in with_bq and "test_duckdb_only[bigquery]" not in with_bq
    only = collected(run_inner(tmp_path, "--collect-only", env={"CSFRAME_TEST_ENGINES": "duckdb"}))
    assert only == ["test_churn[duckdb]", "test_duckdb_only[duckdb]", "test_examples[duckdb]", "test_no_engine"]
    option = collected(run_inner(tmp_path, "--collect-only", "--csframe-engines=postgres",
                                 env={"CSFRAME_TEST_ENGINES": "duckdb"}))  # the option wins
    assert "test_churn[postgres]" in option and "test_churn[duckdb]" not in option
    bad = run_inner(tmp_path, "--collect-only", env={"CSFRAME_TEST_ENGINES": "duckdb,sqlite"})
    assert bad.returncode == 4, bad.stdout + bad.stderr
    assert "csframe engines: unknown sqlite; the test kit knows duckdb, postgres, bigquery" in bad.stderr


def test_a_conftest_changes_the_default_engines_by_the_hook(tmp_path):
    d = tmp_path / "inner"
    d.mkdir()
    (d / "conftest.py").write_text("def pytest_csframe_default_engines(config, engines):\n"
                                   "    return [*engines, 'bigquery']\n")
    ids = collected(run_inner(tmp_path, "--collect-only"))
    assert "test_churn[bigquery]" in ids and "test_churn[duckdb]" in ids and "test_duckdb_only[bigquery]" not in ids
    named = collected(run_inner(tmp_path, "--collect-only", env={"CSFRAME_TEST_ENGINES": "duckdb"}))  # names win
    assert "test_churn[bigquery]" not in named and "test_churn[duckdb]" in named


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_unreachable_postgres_skips_or_fails(tmp_path):
    dsn = f"host=127.0.0.1 port={_closed_port()} user=postgres dbname=postgres connect_timeout=2"
    r = run_inner(tmp_path, "-k", "churn", env={"CSFRAME_TEST_PG_DSN": dsn})
    assert r.returncode == 0, r.stdout + r.stderr
    assert "1 passed, 1 skipped" in r.stdout, r.stdout
    assert f"csframe: no PostgreSQL server at 127.0.0.1:{dsn.split('port=')[1].split()[0]}" in r.stdout
    assert "Set CSFRAME_TEST_PG_DSN, or run without postgres with CSFRAME_TEST_ENGINES=duckdb." in r.stdout
    for env in ({"CI": "true"}, {"CSFRAME_TEST_ENGINES": "duckdb,postgres"}):
        r = run_inner(tmp_path, "-k", "churn", env={"CSFRAME_TEST_PG_DSN": dsn, **env})
        assert r.returncode == 1 and "no PostgreSQL server at" in r.stdout, r.stdout


def test_unreachable_bigquery_skips_or_fails_at_once(tmp_path):
    endpoint = f"http://127.0.0.1:{_closed_port()}"
    started = time.monotonic()
    r = run_inner(tmp_path, "-k", "churn and not postgres", env={"CSFRAME_TEST_BIGQUERY_ENDPOINT": endpoint})
    assert r.returncode == 0, r.stdout + r.stderr
    assert re.search(r"\b1 passed, 1 skipped\b", r.stdout), r.stdout
    assert (f"csframe: no BigQuery emulator answers at {endpoint} ([Errno 111] Connection refused). Start one and set "
            "CSFRAME_TEST_BIGQUERY_ENDPOINT to its URL, or run without bigquery with "
            "CSFRAME_TEST_ENGINES=duckdb,postgres.") in r.stdout, r.stdout
    for env in ({"CI": "true"}, {"CSFRAME_TEST_ENGINES": "duckdb,bigquery"}):
        r = run_inner(tmp_path, "-k", "churn and not postgres", env={"CSFRAME_TEST_BIGQUERY_ENDPOINT": endpoint, **env})
        assert r.returncode == 1 and f"no BigQuery emulator answers at {endpoint}" in r.stdout, r.stdout
        assert re.search(r"\b1 passed, \d+ deselected, 1 error\b", r.stdout), r.stdout
    # no test waited on the dead endpoint: neither to connect nor to drop a dataset afterwards
    assert time.monotonic() - started < 90


def test_bigquery_without_its_client_skips_or_fails_naming_the_extra(tmp_path):
    d = tmp_path / "inner"
    d.mkdir()
    (d / "conftest.py").write_text("import sys\n\nsys.modules['google.cloud.bigquery'] = None  # not installed\n")
    env = {"CSFRAME_TEST_BIGQUERY_ENDPOINT": f"http://127.0.0.1:{_closed_port()}"}
    message = ("csframe: cannot test on bigquery: google-cloud-bigquery is not installed (pip install "
               "'csframe[bigquery]'). Install it, or run without bigquery with CSFRAME_TEST_ENGINES=duckdb,postgres.")
    r = run_inner(tmp_path, "-k", "churn and not postgres", env=env)
    assert r.returncode == 0 and re.search(r"\b1 passed, 1 skipped\b", r.stdout) and message in r.stdout, \
        r.stdout + r.stderr
    r = run_inner(tmp_path, "-k", "churn and not postgres", "--csframe-engines=duckdb,bigquery", env=env)
    named = message.replace("ENGINES=duckdb,postgres", "ENGINES=duckdb")  # the other engines named
    assert r.returncode == 1 and re.search(r"\b1 passed, \d+ deselected, 1 error\b", r.stdout) and named in r.stdout, \
        r.stdout + r.stderr


def test_a_namespace_is_dropped_only_once_connected(tmp_path):
    from csframe.core.errors import EngineUnavailableError

    dropped = []
    ns = testing.engines._Namespace(
        "bigquery", {"name": "bigquery", "project": "test-project", "dataset": "csframe_t_never",
                     "api_endpoint": f"http://127.0.0.1:{_closed_port()}"}, lambda: dropped.append(True))
    case = testing.Case(ns, tmp_path, tmp_path)
    with pytest.raises(EngineUnavailableError, match="cannot reach bigquery"):
        case.session({"events": []})
    case.close()
    assert not ns.used and dropped == []  # nothing was made, so teardown does not wait on a dead endpoint


def test_dropping_a_dataset_tries_once(tmp_path):
    # the client's default retry would keep trying a dead endpoint for minutes (600 s deadline)
    code = ("from csframe.adapters.bigquery_testing import drop_dataset as _drop_bq_dataset\n"
            f"_drop_bq_dataset('test-project', 'csframe_t_gone', 'http://127.0.0.1:{_closed_port()}')\n")
    started = time.monotonic()
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode != 0 and "ConnectionError" in r.stderr, r.stderr
    assert time.monotonic() - started < 30


def test_the_entry_point_is_named_as_the_module(tmp_path):
    # pytest registers an entry-point plugin under the entry point's name and a pytest_plugins one
    # under its module's: were they different, a package's conftest would register the kit twice
    import importlib.metadata

    eps = [ep for ep in importlib.metadata.entry_points(group="pytest11") if ep.value.startswith("csframe")]
    assert [(ep.name, ep.value) for ep in eps] == [("csframe.testing", "csframe.testing")]
    d = tmp_path / "pkg"
    (d / "tests").mkdir(parents=True)
    (d / "pytest.ini").write_text("[pytest]\ntestpaths = tests\n")
    (d / "tests" / "conftest.py").write_text('pytest_plugins = ["csframe.testing"]\n')
    (d / "tests" / "test_one.py").write_text(INNER)
    e = {k: v for k, v in os.environ.items() if not k.startswith("CSFRAME_TEST_") and k not in ("CI", "PYTEST_ADDOPTS")}
    e.pop("PYTEST_DISABLE_PLUGIN_AUTOLOAD", None)  # every installed plugin, csframe's entry point among them
    r = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "--collect-only"],
                       capture_output=True, text=True, env=e, cwd=d, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "test_churn[duckdb]" in r.stdout and "already registered" not in r.stdout + r.stderr


def test_on_a_real_postgres_through_the_entry_of_pytest(tmp_path, pg_dsn):
    r = run_inner(tmp_path, env={"CSFRAME_TEST_PG_DSN": pg_dsn})
    assert r.returncode == 0 and "6 passed" in r.stdout, r.stdout + r.stderr


# == BigQuery, through the emulator =================================================================

@pytest.fixture
def bq_endpoint(bq_emulator):
    # the session's emulator (tests/kit/conftest.py); it skips without local-bigquery, fails under CI=true
    return bq_emulator.endpoint


def test_on_bigquery_when_an_emulator_is_configured(tmp_path, bq_endpoint):
    from urllib.request import urlopen

    r = run_inner(tmp_path, "-k", "not duckdb_only and not no_engine",
                  env={"CSFRAME_TEST_BIGQUERY_ENDPOINT": bq_endpoint, "CSFRAME_TEST_ENGINES": "bigquery"})
    assert r.returncode == 0 and "2 passed" in r.stdout, r.stdout + r.stderr
    with urlopen(f"{bq_endpoint}/bigquery/v2/projects/test-project/datasets", timeout=10) as f:
        datasets = json.load(f).get("datasets", [])
    assert not [d for d in datasets if d["datasetReference"]["datasetId"].startswith("csframe_t_")], datasets
