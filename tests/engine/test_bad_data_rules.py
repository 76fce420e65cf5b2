"""The "Bad data" rules of data-contract.md that guard against a silently wrong number, run on
DuckDB, a real PostgreSQL server and BigQuery (the local emulator): NULL in a NOT NULL column of
every type (customer columns, keys, booleans), contradictory rows (a ticket answered or resolved
before it was created, a trial converted before it started, ``renewed = false`` with a
``renewed_value``, negative ``value_up`` or ``renewed_value``), a source with no rows (a warning,
not an error), and a configured table or column that does not exist (a project-file mistake,
exit 2, naming the csframe.toml key).

Each case is one small table holding one bad row beside good ones, in February 2024. The
comment of each case works out by hand the wrong number the bad row would give and the right
one ``--lenient`` gives by leaving it out. Every case's table is loaded once per engine under
its own name, and each test maps the case's source to it.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import attrs
import pytest

from csframe.core.contract import SOURCES
from csframe.core.contract_checks import rules_for
from csframe.core.dataset import Dataset
from csframe.core.errors import DataContractError, ProjectError
from csframe.core.project import Project, SourceBinding
from csframe.core.session import Session
from testing.rows import load_rows
from tests.support.bigquery_emulator import PROJECT, bq_emulator  # noqa: F401 - the fixture

T = dt.datetime
FEB = dt.date(2024, 2, 1)
ENGINES = ("duckdb", "postgres", "bigquery", "clickhouse")


def sub(sid, cid, mrr, start=T(2024, 1, 1)):
    return dict(subscription_id=sid, customer_id=cid, started_at=start, ended_at=None, mrr=mrr)


def renewal(rid, up, renewed, value, due=T(2024, 2, 10)):
    return dict(contract_id=rid, customer_id="c" + rid, due_at=due, value_up=up, renewed=renewed, renewed_value=value)


def ticket(tid, created, first=None, resolved=None, contacts=1, reopened=False):
    return dict(ticket_id=tid, customer_id="c1", created_at=created, first_response_at=first, resolved_at=resolved,
                contacts=contacts, reopened=reopened)


@attrs.frozen
class Case:
    source: str
    rows: list
    metric: str
    problem: str  # the one problem the check reports
    right: float  # the value with the bad row left out (--lenient), by hand


CASES = {
    # |E| at 1 March: c1, c2 and the NULL customer would be 3 customers; c1 and c2 are 2
    "null_customer": Case("subscriptions", [sub("s1", "c1", 100), sub("s2", "c2", 50), sub("s3", None, 30)],
                          "customers", "subscriptions.customer_id: customer_id is NULL; every row needs its customer "
                                       "(1 row; e.g. (s3, 2024-01-01 00:00:00))", 2),
    # M(1 March): 100 + 30 = 130 with the keyless row (which no duplicate or overlap check can see); 100
    "null_key": Case("subscriptions", [sub("s1", "c1", 100), sub(None, "c2", 30)],
                     "mrr", "subscriptions.subscription_id: subscription_id is NULL; the contract requires a key "
                            "(1 row; e.g. (NULL, 2024-01-01 00:00:00))", 100),
    # an event of no customer: an active user of no account; u1 alone is 1
    "null_event_customer": Case("events", [dict(user_id="u1", customer_id="c1", name="login", occurred_at=T(2024, 2, 5)),
                                           dict(user_id="u2", customer_id=None, name="login", occurred_at=T(2024, 2, 6))],
                                "active_users", "events.customer_id: customer_id is NULL; every row needs its customer "
                                                "(1 row; e.g. (u2, NULL))", 1),
    # renewed / due: 1 / 2 = 0.5 when NULL counts as not renewed; r1 alone: 1 / 1
    "null_renewed": Case("renewals", [renewal("r1", 100, True, 100), renewal("r2", 100, None, 0)],
                         "renewal_rate", "renewals.renewed: renewed is NULL; the contract requires true or false "
                                         "(1 row; e.g. r2)", 1),
    # Σ renewed_value / Σ value_up: (100 + 80) / 200 = 0.9 with a contract that did not renew; 100 / 100
    "not_renewed_with_value": Case("renewals", [renewal("r1", 100, True, 100), renewal("r2", 100, False, 80)],
                                   "net_renewal_rate:contracts", "renewals.renewed_value: renewed is false but "
                                                                 "renewed_value > 0 (1 row; e.g. r2)", 1),
    # 100 / (100 − 50) = 2, an impossible ratio; 100 / 100
    "negative_value_up": Case("renewals", [renewal("r1", 100, True, 100), renewal("r2", -50, False, 0)],
                              "net_renewal_rate:contracts", "renewals.value_up: negative value_up (1 row; e.g. r2)", 1),
    # (100 − 40) / 200 = 0.3; 100 / 100
    "negative_renewed_value": Case("renewals", [renewal("r1", 100, True, 100), renewal("r2", 100, True, -40)],
                                   "net_renewal_rate:contracts", "renewals.renewed_value: negative renewed_value "
                                                                 "(1 row; e.g. r2)", 1),
    # hours to the first response: (1 − 24) / 2 = −11.5; k1 alone: 1
    "answered_before_created": Case("tickets", [ticket("k1", T(2024, 2, 1), T(2024, 2, 1, 1), T(2024, 2, 1, 3)),
                                                ticket("k2", T(2024, 2, 10, 12), T(2024, 2, 9, 12), T(2024, 2, 10, 14))],
                                    "first_response_time:mean", "tickets.first_response_at: first_response_at is "
                                                                "before created_at (1 row; e.g. k2)", 1),
    # hours to resolution: (3 − 12) / 2 = −4.5; k1 alone: 3
    "resolved_before_created": Case("tickets", [ticket("k1", T(2024, 2, 1), T(2024, 2, 1, 1), T(2024, 2, 1, 3)),
                                                ticket("k2", T(2024, 2, 10, 12), None, T(2024, 2, 10))],
                                    "time_to_resolution:mean", "tickets.resolved_at: resolved_at is before created_at "
                                                               "(1 row; e.g. k2)", 3),
    # (resolved − reopened) / created: (2 − 1) / 2 = 0.5 when NULL counts as not reopened; k2 alone: (1 − 1) / 1
    "null_reopened": Case("tickets", [ticket("k1", T(2024, 2, 1), None, T(2024, 2, 1, 3), 1, None),
                                      ticket("k2", T(2024, 2, 2), None, T(2024, 2, 2, 5), 2, True)],
                          "first_contact_resolution_rate:resolved_minus_reopened",
                          "tickets.reopened: reopened is NULL; the contract requires true or false (1 row; e.g. k1)", 0),
    # resolved at the first contact / created: 1 / 2 = 0.5 with a resolved ticket of no contacts; 1 / 1
    "resolved_without_contacts": Case("tickets", [ticket("k1", T(2024, 2, 1), None, T(2024, 2, 1, 3), 1),
                                                  ticket("k2", T(2024, 2, 2), None, T(2024, 2, 2, 5), None)],
                                      "first_contact_resolution_rate:single_contact",
                                      "tickets.contacts: contacts is NULL on a resolved ticket (1 row; e.g. k2)", 1),
    # trials started in February that converted: 2 / 3 counting t2 (converted before it started); 1 / 2
    "converted_before_started": Case("trials", [
        dict(trial_id="t1", customer_id="c1", started_at=T(2024, 2, 1), converted_at=T(2024, 2, 10)),
        dict(trial_id="t2", customer_id="c2", started_at=T(2024, 2, 20), converted_at=T(2024, 1, 25)),
        dict(trial_id="t3", customer_id="c3", started_at=T(2024, 2, 3), converted_at=None)],
        "trial_conversion_rate", "trials.converted_at: converted_at is before started_at (1 row; e.g. t2)", 0.5),
}
# a source with no rows: a count over it is 0, a mean NULL
EMPTY = {"empty_tickets": ("tickets", [])}


def _dataset():
    tables = []
    for name, (src, rows) in {**{n: (c.source, c.rows) for n, c in CASES.items()}, **EMPTY}.items():
        table = load_rows({src: rows}).tables[0]
        tables.append(attrs.evolve(table, name=f"{name}_{src}"))
    return Dataset(tuple(tables))


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
    from csframe.adapters.clickhouse_init import test_namespace

    out["clickhouse"], drop_ch = test_namespace("bad_data_rules_" + tmp.name.replace("-", "_"), tmp, lambda name: None)
    for engine, adapter in out.items():
        with Session.open(project=Project(dir=tmp, adapter=adapter), entry_points=False) as s:
            s.adapter().connect(write=True)
            s.adapter().load_tables(data)
    yield tmp, out
    drop()
    drop_ch()


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
