"""The project file's mapping on DuckDB: sources as tables or SQL, renamed columns,
${ENV} expansion, absent optional columns, [variants]; and --lenient's exclusions on DuckDB,
PostgreSQL and the BigQuery emulator."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from csframe.core.errors import DataContractError, ProjectError
from csframe.core.session import Session
from tests.support.bigquery_emulator import bq_emulator  # noqa: F401 - the fixture engine_project uses
from tests.support.engines import engine_project  # noqa: F401 - the fixture

T = dt.datetime
JAN, FEB = dt.date(2024, 1, 1), dt.date(2024, 2, 1)


def _db(path, ddl: list[str]) -> None:
    con = duckdb.connect(str(path))
    for stmt in ddl:
        con.execute(stmt)
    con.close()


BILLING = [
    "CREATE SCHEMA billing",
    # their names: account_id, mrr_usd, begins, ends; no is_trial column at all
    "CREATE TABLE billing.intervals (sub VARCHAR, account_id VARCHAR, begins TIMESTAMP, ends TIMESTAMP, mrr_usd DOUBLE)",
    "INSERT INTO billing.intervals VALUES "
    "('s1', 'a', '2023-12-01', NULL, 100), ('s2', 'b', '2023-12-15', '2024-01-20', 40), "
    "('s3', 'c', '2024-01-10', NULL, 25), ('s4', 'x', '2024-01-10', NULL, 999)",
]


def test_table_with_renamed_columns_and_absent_optional_column(tmp_path, monkeypatch):
    _db(tmp_path / "wh.duckdb", BILLING)
    monkeypatch.setenv("WAREHOUSE_FILE", "wh.duckdb")
    (tmp_path / "csframe.toml").write_text(
        '[adapter]\nname = "duckdb"\ndatabase = "${WAREHOUSE_FILE}"\n\n'
        '[sources.subscriptions]\ntable = "billing.intervals"\n'
        'columns = { subscription_id = "sub", customer_id = "account_id", started_at = "begins", '
        'ended_at = "ends", mrr = "mrr_usd" }\n')
    with Session.open(tmp_path) as s:
        r = s.compute(["mrr", "churned_customers", "new_customers"], start="2024-01-01", end="2024-02-01")
    # end of January: a 100 + c 25 + x 999 (b ended 20 January) = 1124; b lost; c and x new
    assert r.value("mrr", JAN) == 1124
    assert r.value("churned_customers", JAN) == 1
    assert r.value("new_customers", JAN) == 2


def test_source_as_sql_in_the_engines_dialect(tmp_path):
    _db(tmp_path / "wh.duckdb", BILLING)
    (tmp_path / "csframe.toml").write_text(
        '[adapter]\nname = "duckdb"\ndatabase = "wh.duckdb"\n\n'
        '[sources.subscriptions]\n'
        'sql = "select sub as subscription_id, account_id as customer_id, begins as started_at, ends as ended_at, '
        "mrr_usd as mrr, account_id = 'x' as is_trial from billing.intervals\"\n")
    with Session.open(tmp_path) as s:
        r = s.compute(["mrr"], start="2024-01-01", end="2024-02-01")
    assert r.value("mrr", JAN) == 125  # x is a trial now: a 100 + c 25


def test_unset_environment_variable_is_named(tmp_path, monkeypatch):
    monkeypatch.delenv("NO_SUCH_VAR_CSFRAME", raising=False)
    (tmp_path / "csframe.toml").write_text('[adapter]\nname = "duckdb"\ndatabase = "${NO_SUCH_VAR_CSFRAME}"\n')
    # the [adapter]'s variables are needed when the adapter is made (a command that connects),
    # not to open the project (docs/choices.md "The project file")
    with Session.open(tmp_path) as s:
        with pytest.raises(ProjectError, match=r"csframe\.toml: adapter\.database: environment variable "
                                               r"NO_SUCH_VAR_CSFRAME is not set"):
            s.adapter()


def test_project_variants_choose_the_default(project):
    subs = [dict(subscription_id=f"s{i}", customer_id=f"c{i}", started_at=T(2023, 12, 1),
                 ended_at=T(2024, 1, 15) if i < 2 else None, mrr=10.0, is_trial=False) for i in range(10)]
    subs.append(dict(subscription_id="n", customer_id="n", started_at=T(2024, 1, 5), ended_at=None, mrr=10.0, is_trial=False))
    s = project({"subscriptions": subs}, toml_extra='[variants]\nchurn_rate = "net_loss"\n')
    r = s.compute(["churn_rate"], start="2024-01-01", end="2024-02-01")
    # net_loss: (|S| − |E|) / |S| = (10 − 9) / 10; the row names the variant it used
    assert r.rows[0][1] == "net_loss"
    assert r.value("churn_rate", JAN) == pytest.approx(0.1, rel=1e-12)


def test_lenient_leaves_out_bad_rows_and_says_how_many(engine_project, tmp_path):  # noqa: F811
    subs = [
        dict(subscription_id="s1", customer_id="a", started_at=T(2024, 1, 1), ended_at=None, mrr=100.0, is_trial=False),
        dict(subscription_id="s2", customer_id="b", started_at=T(2024, 1, 1), ended_at=None, mrr=-5.0, is_trial=False),
        dict(subscription_id="s3", customer_id="c", started_at=T(2024, 1, 9), ended_at=T(2024, 1, 2), mrr=7.0, is_trial=False),
        # overlapping rows of one subscription: the later one is left out
        dict(subscription_id="s4", customer_id="d", started_at=T(2024, 1, 1), ended_at=T(2024, 3, 1), mrr=10.0, is_trial=False),
        dict(subscription_id="s4", customer_id="d", started_at=T(2024, 2, 1), ended_at=None, mrr=20.0, is_trial=False),
    ]
    with Session.open(engine_project(tmp_path / "p", {"subscriptions": subs})) as s:
        with pytest.raises(DataContractError) as e:
            s.compute(["mrr"], start="2024-01-01", end="2024-03-01")
        text = str(e.value)
        assert "subscriptions.mrr: negative mrr (1 row; e.g. (s2, 2024-01-01 00:00:00))" in text
        assert "ended_at is before started_at" in text and "overlaps an earlier row" in text
        assert e.value.exit_code == 1
        r = s.compute(["mrr"], start="2024-01-01", end="2024-03-01", lenient=True)
    assert r.value("mrr", JAN) == 110  # a 100 + d 10
    assert r.value("mrr", FEB) == 110
    assert sorted(r.warnings) == sorted([
        "warning: left out 1 row(s) of subscriptions: negative mrr",
        "warning: left out 1 row(s) of subscriptions: ended_at is before started_at",
        "warning: left out 1 row(s) of subscriptions: overlaps an earlier row of the same subscription_id",
    ])
