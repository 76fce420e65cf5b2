"""One definition, the same numbers on DuckDB, a real PostgreSQL server and BigQuery (emulated).

The whole-catalog comparison is the adapter conformance suite's (csframe.testing.conformance, run
on PostgreSQL and BigQuery by tests/engine/test_conformance.py): every metric and variant of the
catalog over all twelve canonical sources, at month, quarter and week grain and with --by segment, on the same generated data (the demo generator: trials, price
changes, reactivations, boundaries, product events, tickets, surveys, kb ratings), compared at
relative 1e-9 with NULL = NULL — the metrics that always carry a dimension (``feature``,
``health_band``) included, and every ``--by`` reading that is not a customers column (``step``,
``customer_id``, ``health_band``, ``article_id``), alone and beside ``--by segment``.
BigQuery is the local-bigquery REST emulator driven through the official client (the values
sent as query parameters); tests/bigquery/ says what it proves and what only ZetaSQL can.
The window metrics (activation_rate, onboarding_completion_rate and its --by step) also on a few
hand-made rows at the window's edge: an event exactly window_days after created_at counts, one
microsecond later it does not, on all three engines.
"""

from __future__ import annotations

import datetime as dt

import attrs
import pytest

from csframe.core.calendar import Calendar
from csframe.core.project import Project, SourceBinding
from csframe.core.session import Session
from csframe.plugins.demo import SOURCES
from csframe.testing.conformance import DEMO
from tests.support.bigquery_emulator import PROJECT, bq_emulator  # noqa: F401 - the fixture
from tests.support.engines import three_sessions

END = dt.date(2025, 1, 1)
ONBOARDING_STEPS = ("connected_data", "invited_team", "created_report", "activated", "onboarding_completed")


@pytest.fixture(scope="module")
def dataset():
    from csframe.plugins.demo import generate

    return generate(customers=120, months=30, end=END, seed=7)


@pytest.fixture(scope="module")
def duck(dataset, tmp_path_factory):
    assert set(dataset.names) == set(SOURCES) and len(SOURCES) == 12
    bindings = {s: SourceBinding(s, table=s) for s in SOURCES}
    s = Session.open(project=Project(dir=tmp_path_factory.mktemp("engines"), adapter={"name": "duckdb",
                     "database": "d.duckdb"}, sources=bindings), entry_points=False)
    s.adapter().connect(write=True)
    s.adapter().load_tables(dataset)
    yield s
    s.close()


def test_the_conformance_data_is_not_trivial(duck):
    """The suite's data (csframe.testing.conformance.DEMO, the demo generator's) exercises the catalog:
    movements, churn, product use and support happen in the range its whole-catalog runs read."""
    assert DEMO == {"customers": 120, "months": 30, "end": END, "seed": 7}
    keys = [(rv.metric, rv.variant.name) for rv in duck.registry.all_variants()
            if not duck.graph.needs_by((rv.metric, rv.variant.name))]  # cohort metrics: with --by cohort only
    assert not [k for k in keys if duck.missing_sources(k)]  # every variant is computed
    a = duck.compute(keys, start="2023-01-01", end=END)
    assert a.columns[-3:-1] == ("feature", "health_band")
    values = {r[0] for r in a.rows if r[-1]}
    for metric in ("churned_customers", "expansion_mrr", "contraction_mrr", "new_customers", "renewal_rate",
                   "feature_adoption_rate", "health_band_customers", "customer_health_score", "active_users",
                   "nps", "time_to_resolution", "kb_article_rating", "referrals", "activation_rate"):
        assert metric in values, f"{metric} is 0 or NULL everywhere: the fixture proves nothing for it"
    assert any(w.startswith("note: time_to_value:median leaves out ") for w in a.warnings), a.warnings
    features = {r[-3] for r in a.rows if r[0] == "feature_adoption_rate" and r[-1]}
    assert len(features) >= 8


@pytest.fixture(scope="module")
def sessions(dataset, tmp_path_factory, pg_dsn, bq_emulator):  # noqa: F811
    bindings = {s: SourceBinding(s, table=s) for s in SOURCES}
    yield from three_sessions(tmp_path_factory.mktemp("engines3"), dataset, bindings, pg_dsn, bq_emulator.endpoint,
                              "engines")


def _same(a, b) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return a == pytest.approx(b, rel=1e-9, abs=1e-9)


def _all_keys(session, by):
    """Every variant the run can compute: its sources are mapped, --by can split it, and a cohort
    metric only --by cohort."""
    keys = [(rv.metric, rv.variant.name) for rv in session.registry.all_variants()]
    return [k for k in keys if not session.missing_sources(k) and not (by and session.graph.unsplittable_sources(k))
            and set(session.graph.needs_by(k)) <= set(by)]


def _agree(sessions, keys, **kwargs):
    """DuckDB's result, after checking PostgreSQL's and BigQuery's equal it row for row."""
    kwargs.setdefault("end", END)
    a = sessions["duckdb"].compute(keys, **kwargs)
    for engine in ("postgres", "bigquery"):
        b = sessions[engine].compute(keys, **kwargs)
        assert a.columns == b.columns, engine
        assert a.warnings == b.warnings, engine  # e.g. how many customers time_to_value leaves out
        assert len(a.rows) == len(b.rows) > 0, engine
        diffs = [(ra, rb) for ra, rb in zip(a.rows, b.rows) if ra[:-1] != rb[:-1] or not _same(ra[-1], rb[-1])]
        assert not diffs, f"{engine}: {len(diffs)} rows differ from duckdb, e.g. {diffs[:3]}"
    return a


# -- a calendar (issue 13 §4): New York's local midnights, weeks from Sunday, a fiscal year from April --

CALENDAR = Calendar(time_zone="America/New_York", week_start=6, fiscal_year_start=4)


@pytest.mark.parametrize("grain,start,end", [
    ("day", "2024-03-08", "2024-03-13"),  # the 23-hour day of 2024-03-10
    ("day", "2024-11-01", "2024-11-05"),  # the 25-hour day of 2024-11-03
    ("week", "2024-09-01", "2024-12-01"),  # weeks from Sunday
    ("quarter", "2023-04-01", "2025-01-01"),  # fiscal quarters from April
    ("year", "2022-04-01", "2025-04-01"),  # fiscal years from April
])
def test_three_engines_agree_in_a_calendar(sessions, grain, start, end):
    """Every metric and variant in the calendar above, row for row on the three engines, over the same
    tables as the other tests here (each engine's session reopened with the calendar)."""
    opened = {e: Session.open(project=attrs.evolve(s.project, calendar=CALENDAR), entry_points=False)
              for e, s in sessions.items()}
    try:
        a = _agree(opened, _all_keys(opened["duckdb"], ()), grain=grain, start=start, end=end)
    finally:
        for s in opened.values():
            s.close()
    assert any(r[-1] not in (None, 0) for r in a.rows)
    starts = sorted({r[2] for r in a.rows})
    if grain == "week":
        assert all(d.weekday() == 6 for d in starts)  # Sundays
    if grain in ("quarter", "year"):
        assert all(d.month in ((4, 7, 10, 1) if grain == "quarter" else (4,)) and d.day == 1 for d in starts)


COHORT_METRICS = ["cohort_customers", "cohort_size", "logo_retention", "revenue_retention", "mrr", "net_new_mrr",
                  "arpu", "mrr_growth_rate"]


@pytest.mark.parametrize("by,grain,start,vs", [
    (("cohort",), "month", "2024-01-01", None),
    (("cohort", "segment"), "quarter", "2023-07-01", None),
    (("cohort",), "week", "2024-10-01", "previous"),
    ((), "month", "2023-07-01", "year"),
    (("segment",), "week", "2024-09-01", "year"),
    ((), "day", "2024-12-01", "previous"),
])
def test_three_engines_agree_on_cohorts_and_comparisons(sessions, by, grain, start, vs):
    """issue 13's options (--by cohort, previous(), --vs) row for row on the three engines."""
    keys = [m for m in COHORT_METRICS if "cohort" in by or m not in COHORT_METRICS[:4]]
    results = {e: sessions[e].compute(keys, end=END, grain=grain, start=start, by=by, vs=vs)
               for e in ("duckdb", "postgres", "bigquery")}
    a = results["duckdb"]
    numbers = 3 if vs else 1
    for engine in ("postgres", "bigquery"):
        b = results[engine]
        assert a.columns == b.columns and len(a.rows) == len(b.rows) > 0, engine
        for ra, rb in zip(a.rows, b.rows):
            assert ra[:-numbers] == rb[:-numbers], (engine, ra, rb)
            assert all(_same(x, y) for x, y in zip(ra[-numbers:], rb[-numbers:])), (engine, ra, rb)
    assert any(r[-1] not in (None, 0) for r in a.rows)  # the data is not trivial
    if "cohort" in by:
        i = a.columns.index("cohort")
        assert len({r[i] for r in a.rows}) >= 3 and all(r[2] >= r[i] for r in a.rows)


# -- the window's edge: an event exactly window_days after created_at counts, one µs later not ------
#
# Customers created in January 2024 (default window_days = 30 → 2 592 000 s), and in February with
# the window set to 1 day by the user (86 400 s). ``at(c, µs)`` is created_at + that many µs.
#
#   customer  created_at                    activated          onboarding_completed
#   jan_a     2024-01-10 00:00:00           +30 d  (edge)      +30 d + 1 µs
#   jan_b     2024-01-10 00:00:00           +30 d + 1 µs       +30 d  (edge)
#   jan_c     2024-01-15 12:34:56.789012    +30 d  (edge)      +30 d  (edge)
#   jan_d     2024-01-15 12:34:56.789012    +30 d + 1 µs       —
#   jan_e     2024-01-20 08:00:00           +0     (counts)    —
#   jan_f     2024-01-31 23:59:59.999999    −1 µs  (before)    —
#   feb_g     2024-02-05 10:00:00.000001    +1 d   (edge)      —
#   feb_h     2024-02-05 10:00:00.000001    +1 d + 1 µs        —
#
# January, window 30 d: activated a, c, e → 3 of 6; onboarded b, c → 2 of 6.
# February, window 30 d: g and h → 2 of 2; window 1 d: g → 1 of 2.

DAY_US = 86_400 * 1_000_000
EDGE_CUSTOMERS = {
    "jan_a": dt.datetime(2024, 1, 10), "jan_b": dt.datetime(2024, 1, 10),
    "jan_c": dt.datetime(2024, 1, 15, 12, 34, 56, 789012), "jan_d": dt.datetime(2024, 1, 15, 12, 34, 56, 789012),
    "jan_e": dt.datetime(2024, 1, 20, 8), "jan_f": dt.datetime(2024, 1, 31, 23, 59, 59, 999999),
    "feb_g": dt.datetime(2024, 2, 5, 10, 0, 0, 1), "feb_h": dt.datetime(2024, 2, 5, 10, 0, 0, 1),
}
EDGE_EVENTS = [  # (customer, event, µs after created_at)
    ("jan_a", "activated", 30 * DAY_US), ("jan_a", "onboarding_completed", 30 * DAY_US + 1),
    ("jan_b", "activated", 30 * DAY_US + 1), ("jan_b", "onboarding_completed", 30 * DAY_US),
    ("jan_c", "activated", 30 * DAY_US), ("jan_c", "onboarding_completed", 30 * DAY_US),
    ("jan_d", "activated", 30 * DAY_US + 1),
    ("jan_e", "activated", 0),
    ("jan_f", "activated", -1),
    ("feb_g", "activated", DAY_US), ("feb_h", "activated", DAY_US + 1),
]
JAN, FEB = dt.date(2024, 1, 1), dt.date(2024, 2, 1)


@pytest.fixture(scope="module")
def edge_sessions(tmp_path_factory, pg_dsn, bq_emulator):  # noqa: F811
    from csframe.core.dataset import Column, Dataset, Table
    from tests.support.postgres import fresh_schema

    customers = Table("customers", (Column("customer_id", "VARCHAR"), Column("created_at", "TIMESTAMP")),
                      list(EDGE_CUSTOMERS.items()))
    events = Table("events", tuple(Column(n, t) for n, t in (("user_id", "VARCHAR"), ("customer_id", "VARCHAR"),
                                                           ("name", "VARCHAR"), ("occurred_at", "TIMESTAMP"))),
                   [(f"u_{c}", c, name, EDGE_CUSTOMERS[c] + dt.timedelta(microseconds=us)) for c, name, us in EDGE_EVENTS])
    data = Dataset((customers, events))
    tmp = tmp_path_factory.mktemp("edge")
    bindings = {s: SourceBinding(s, table=s) for s in ("customers", "events")}
    schema, drop = fresh_schema(pg_dsn)
    adapters = {"duckdb": {"name": "duckdb", "database": "edge.duckdb"},
                "postgres": {"name": "postgres", "dsn": pg_dsn, "schema": schema},
                "bigquery": {"name": "bigquery", "project": PROJECT, "dataset": "window_edge",
                             "api_endpoint": bq_emulator.endpoint}}
    out = {}
    for engine, adapter in adapters.items():
        s = out[engine] = Session.open(project=Project(dir=tmp, adapter=adapter, sources=bindings), entry_points=False)
        s.adapter().connect(write=True)
        s.adapter().load_tables(data)
    yield out
    for s in out.values():
        s.close()
    drop()


@pytest.mark.parametrize("engine", ["duckdb", "postgres", "bigquery"])
@pytest.mark.parametrize("metric,by,params,expected", [
    ("activation_rate", (), None, {(JAN,): 3 / 6, (FEB,): 2 / 2}),
    ("activation_rate", (), {"window_days": 1}, {(FEB,): 1 / 2}),
    ("onboarding_completion_rate", (), None, {(JAN,): 2 / 6, (FEB,): 0 / 2}),
    ("onboarding_completion_rate", ("step",), {"onboarding_steps": ("activated", "onboarding_completed")},
     {(JAN, "activated"): 3 / 6, (JAN, "onboarding_completed"): 2 / 6,
      (FEB, "activated"): 2 / 2, (FEB, "onboarding_completed"): 0 / 2}),
], ids=["activation", "activation-window-1d", "onboarding", "onboarding-by-step"])
def test_an_event_exactly_window_days_after_created_at_counts_one_microsecond_later_not(
        edge_sessions, engine, metric, by, params, expected):
    r = edge_sessions[engine].compute([metric], start="2024-01-01", end="2024-03-01", by=by, params=params)
    got = {(row[2], *row[4:-1]): row[-1] for row in r.rows}
    for key, value in expected.items():
        assert got.get(key) == pytest.approx(value, rel=1e-12), f"{engine}: {metric} {key}: {got}"


# -- trailing windows (--window): every metric and variant, each window's rows read on each engine --


@pytest.mark.parametrize("grain,window,start,by", [
    ("month", "3m", "2024-01-01", ()),
    ("week", "13w", "2024-09-01", ()),
    ("day", "30d", "2024-12-10", ()),
    ("month", "12m", "2024-07-01", ("segment",)),
])
def test_three_engines_agree_on_windows(sessions, grain, window, start, by):
    duck = sessions["duckdb"]
    keys = _all_keys(duck, by)
    a = _agree(sessions, keys, grain=grain, start=start, by=by, window=window)
    values = {r[0] for r in a.rows if r[-1]}
    for metric in ("churned_customers", "expansion_mrr", "new_customers", "feature_adoption_rate",
                   "customer_health_score", "active_users", "nps", "time_to_resolution",
                   *(("reactivated_customers",) if window != "12m" else ())):  # none within a year of a gap here
        assert metric in values, f"{metric} is 0 or NULL everywhere: the fixture proves nothing for it"


@pytest.mark.parametrize("metrics,by,grain,window,start", [
    (["onboarding_completion_rate"], ("step",), "month", "3m", "2024-01-01"),
    (["customer_health_score", "health_band_customers"], ("health_band",), "week", "4w", "2024-10-01"),
    (["kb_article_rating"], ("article_id",), "day", "30d", "2024-12-20"),
])
def test_three_engines_agree_on_window_splits(sessions, metrics, by, grain, window, start):
    a = _agree(sessions, metrics, grain=grain, start=start, by=by, window=window,
               params={"onboarding_steps": ONBOARDING_STEPS} if "step" in by else None)
    assert len({r[-2] for r in a.rows}) >= 3 and any(r[-1] for r in a.rows)
