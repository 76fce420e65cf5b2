"""The "Bad data" rules of data-contract.md that guard against a silently wrong number, run on
DuckDB here and on every other adapter by the conformance suite (csframe.testing.conformance): NULL in a NOT NULL column of
every type (customer columns, keys, booleans), contradictory rows (a ticket answered or resolved
before it was created, a trial converted before it started, ``renewed = false`` with a
``renewed_value``, negative ``value_up`` or ``renewed_value``), a source with no rows (a warning,
not an error), and a configured table or column that does not exist (a project-file mistake,
exit 2, naming the csframe.toml key).

Each case is one small table holding one bad row beside good ones, in February 2024 (the cases
live in the test kit, csframe/testing/bad_data.py, which the adapter conformance suite runs too).
The comment of each case works out by hand the wrong number the bad row would give and the right
one ``--lenient`` gives by leaving it out. Every case's table is loaded once per engine under
its own name, and each test maps the case's source to it.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from csframe.core.contract import SOURCES
from csframe.core.contract_checks import rules_for
from csframe.core.errors import DataContractError, ProjectError
from csframe.core.project import Project, SourceBinding
from csframe.core.session import Session
from csframe.testing.bad_data import CASES, FEB
from csframe.testing.bad_data import bad_data_tables as _dataset
from tests.support.bigquery_emulator import PROJECT, bq_emulator  # noqa: F401 - the fixture

ENGINES = ("duckdb",)  # PostgreSQL and BigQuery run these cases in the conformance suite (test_conformance.py)


@pytest.fixture(scope="module")
def settings(tmp_path_factory, pg_dsn, bq_emulator):  # noqa: F811
    """Each engine's [adapter], its tables loaded."""
    from tests.support.postgres import fresh_schema

    data = _dataset()
    tmp = tmp_path_factory.mktemp("bad_data_rules")
    schema, drop = fresh_schema(pg_dsn)
    out = {"duckdb": {"name": "duckdb", "database": str(tmp / "bad.duckdb")},
           "postgres": {"name": "postgres", "dsn": pg_dsn, "schema": schema},
           "bigquery": {"name": "bigquery", "project": PROJECT, "dataset": "bad_data_rules",
                        "api_endpoint": bq_emulator.endpoint}}
    for engine, adapter in out.items():
        with Session.open(project=Project(dir=tmp, adapter=adapter), entry_points=False) as s:
            s.adapter().connect(write=True)
            s.adapter().load_tables(data)
    yield tmp, out
    drop()


def _session(settings, engine: str, **sources: SourceBinding) -> Session:
    tmp, adapters = settings
    return Session.open(project=Project(dir=Path(tmp), adapter=adapters[engine], sources=sources), entry_points=False)


def _compute(s: Session, metric: str, lenient: bool = False):
    return s.compute([metric], start=FEB, end=dt.date(2024, 3, 1), lenient=lenient)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("name", list(CASES))
def test_a_bad_row_is_named_and_lenient_leaves_it_out(settings, engine, name):
    case = CASES[name]
    metric, _, variant = case.metric.partition(":")
    with _session(settings, engine, **{case.source: SourceBinding(case.source, table=f"{name}_{case.source}")}) as s:
        with pytest.raises(DataContractError) as e:
            _compute(s, case.metric)
        assert e.value.exit_code == 1
        assert [str(p) for p in e.value.problems] == [case.problem]
        r = _compute(s, case.metric, lenient=True)
    assert r.value(metric, FEB, variant or None) == pytest.approx(case.right, rel=1e-12, abs=1e-12)
    what = case.problem.split(": ", 1)[1].rsplit(" (1 row", 1)[0]
    assert r.warnings == (f"warning: left out 1 row(s) of {case.source}: {what}",)


@pytest.mark.parametrize("engine", ENGINES)
def test_a_source_with_no_rows_is_a_warning(settings, engine):
    with _session(settings, engine, tickets=SourceBinding("tickets", table="empty_tickets_tickets")) as s:
        r = s.compute(["support_tickets", "first_response_time:mean"], start=FEB, end=dt.date(2024, 3, 1))
    assert r.value("support_tickets", FEB) == 0  # a count over no rows
    assert r.value("first_response_time", FEB, "mean") is None  # a mean over no rows
    assert r.warnings == ("warning: tickets: has no rows (counts and sums over it are 0, means and ratios NULL)",)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("lenient", [False, True])
def test_a_missing_table_or_column_is_a_project_file_mistake(settings, engine, lenient):
    table = "null_key_subscriptions"
    for binding, key, named in [
        (SourceBinding("subscriptions", table="no_such_subscriptions"), "sources.subscriptions.table",
         "no_such_subscriptions"),
        (SourceBinding("subscriptions", table=table, columns={"mrr": "mrr_usd"}), "sources.subscriptions.columns.mrr",
         "missing column mrr_usd (mapped to mrr) in the subscriptions source"),
        (SourceBinding("subscriptions", table=table, columns={"customer_id": "account_id"}),
         "sources.subscriptions.columns.customer_id", "missing column account_id (mapped to customer_id)"),
    ]:
        with _session(settings, engine, subscriptions=binding) as s:
            with pytest.raises(ProjectError) as e:
                _compute(s, "mrr", lenient=lenient)
        assert e.value.exit_code == 2
        lines = e.value.message.splitlines()
        assert len(lines) == 2 and lines[1].strip().startswith(f"{key}: "), e.value.message
        assert named in lines[1]


def test_every_not_null_column_of_the_contract_is_checked():
    # data-contract.md: NULL in any column the contract marks NOT NULL, of every type, is bad data;
    # the columns it lets be NULL (and events.user_id, an event of no user) are not checked
    nullable = {("subscriptions", "ended_at"), ("subscriptions", "is_trial"), ("invoices", "kind"),
                ("trials", "converted_at"), ("tickets", "first_response_at"), ("tickets", "resolved_at"),
                ("tickets", "contacts"), ("referrals", "converted_at"), ("events", "user_id")}
    for src in SOURCES:  # (a survey score: NULL is outside the scale of nps, csat and ces, below)
        null_checked = {r.name for r in rules_for(src) if f"{r.name} IS NULL" in r.predicate
                        and "IS NOT NULL" not in r.predicate}
        expected = {c.name for c in src.columns if (src.name, c.name) not in nullable}
        assert null_checked == expected, src.name


def test_a_dry_run_names_the_missing_table_as_a_project_file_mistake(settings):
    # BigQuery's --dry-run inspects the sources before it prices any query
    binding = SourceBinding("subscriptions", table="no_such_subscriptions")
    with _session(settings, "bigquery", subscriptions=binding) as s:
        plan = s.plan(s.request(s.keys(["mrr"]), start=FEB, end=dt.date(2024, 3, 1)))
        with pytest.raises(ProjectError, match=r"sources\.subscriptions\.table: .*no_such_subscriptions") as e:
            s.dry_run(plan)
    assert e.value.exit_code == 2
