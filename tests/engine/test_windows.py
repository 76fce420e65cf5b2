"""Trailing windows (``compute --window``): hand-worked fixtures whose windows cross month ends,
and medians and distinct users over a window, on the three engines (each fixture loaded once per
engine: the module-scoped ``engine_project``); the usage errors; and, on DuckDB, ``--window 1m`` =
plain ``--grain month`` for the whole catalog. (tests/engine/test_engines_equal.py compares the
three engines on windows; tests/engine/test_window_reference.py compares generated histories with
the reference.)

Paying status per data-contract.md: B_c(b) sums the non-trial rows with started_at < b ≤ …,
i.e. a row starting exactly at b is not paying at b (it is new in the period starting at b).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from csframe.core.errors import UsageError
from csframe.core.session import Session
from tests.engine.test_revenue_fixtures import check, inv, sub
from tests.support.bigquery_emulator import bq_emulator  # noqa: F401 - the fixture engine_project uses
from tests.support.engines import engine_project  # noqa: F401 - the fixture

T = dt.datetime
D = dt.date
M = 30.4375

# Customers (mrr per month):
#   n  40 from 2024-01-20 to 2024-02-10          joins and leaves inside the window
#   s  80 from 2023-12-01 to 2024-02-10          churns
#   r  60 2023-06-01 → 2023-09-01, 70 from 2024-02-01 (open)   reactivates
#   x  100 from 2023-11-01, 150 from 2024-01-31 (open)          expands
#   y  300 from 2023-11-01, 240 from 2024-02-12 (open)          contracts
#   z  80 2023-10-01 → 2024-01-25, 80 again from 2024-02-05     leaves and comes back inside the window
#   w  50 from 2023-01-01 (open)                                steady
SUBSCRIPTIONS = [
    sub("n1", "n", T(2024, 1, 20), T(2024, 2, 10), 40),
    sub("s1", "s", T(2023, 12, 1), T(2024, 2, 10), 80),
    sub("r1", "r", T(2023, 6, 1), T(2023, 9, 1), 60), sub("r2", "r", T(2024, 2, 1), None, 70),
    sub("x1", "x", T(2023, 11, 1), T(2024, 1, 31), 100), sub("x1", "x", T(2024, 1, 31), None, 150),
    sub("y1", "y", T(2023, 11, 1), T(2024, 2, 12), 300), sub("y1", "y", T(2024, 2, 12), None, 240),
    sub("z1", "z", T(2023, 10, 1), T(2024, 1, 25), 80), sub("z2", "z", T(2024, 2, 5), None, 80),
    sub("w1", "w", T(2023, 1, 1), None, 50),
]
# invoices around the 30-day window [2024-01-16, 2024-02-15) and the one before it [2023-12-17, 2024-01-16)
INVOICES = [
    inv("i1", "x", T(2024, 1, 16), 100, None),                   # first instant of the window
    inv("i2", "x", T(2024, 2, 14, 23, 59, 59), 30, "upsell"),     # its last second
    inv("i3", "y", T(2024, 1, 15, 23, 59, 59), 999, None),        # the window before, last second
    inv("i4", "y", T(2023, 12, 20), 200, "subscription"),         # the window before
    inv("i5", "y", T(2024, 2, 15), 5, None),                      # the window after
]


@pytest.fixture(scope="module")
def session(engine_project, tmp_path_factory):  # noqa: F811 - the fixture loaded once per engine
    s = Session.open(engine_project(tmp_path_factory.mktemp("windows") / "p",
                                    {"subscriptions": SUBSCRIPTIONS, "invoices": INVOICES}))
    yield s
    s.close()


def _values(result) -> dict:
    return {(r[0], r[1], r[2], r[3]): r[-1] for r in result.rows}


REVENUE = ["customers", "new_customers", "churned_customers", "reactivated_customers", "mrr", "new_mrr",
           "expansion_mrr", "contraction_mrr", "churned_mrr", "reactivation_mrr", "net_new_mrr",
           "churn_rate:lost_over_start", "churn_rate:lost_over_active", "customer_growth_rate",
           "net_revenue_retention", "average_customer_lifespan:inverse_churn", "arpu:invoiced",
           "expansion_rate:upsell_invoices", "retention_rate:cohort"]


def test_a_30_day_window_across_a_month_end(session):
    # the day 2024-02-14, window 30d: [2024-01-16, 2024-02-15)
    #   paying at 2024-01-16: s 80, x 100, y 300, z 80, w 50          |S| = 5, M(start) = 610
    #   paying at 2024-02-15: r 70, x 150, y 240, z 80, w 50          |E| = 5, M(end) = 590
    #   N (first paid start in the window): n (Jan 20)                 |N| = 1; n is not in E: new_mrr 0
    #   L = S \ E: s                                                   |L| = 1, churned_mrr 80
    #   n is in N and not in L (not paying at the window's start); z left and came back: in S ∩ E, no movement
    #   R: r (paid before the window, not at its start, paying at its end): reactivation_mrr 70
    #   expansion x 150 − 100 = 50; contraction y 300 − 240 = 60
    #   identity: 610 + 0 + 70 + 50 − 60 − 80 = 590
    #   A \ S: n (Jan 20) and r (Feb 1) started a paid row in it: |A| = 7
    #   invoices in it: 100 + 30 = 130; upsell 30; in the window before: 999 + 200 = 1,199
    got = _values(session.compute(REVENUE, grain="day", start="2024-02-14", end="2024-02-15", window="30d"))
    key = lambda m, v="default": (m, v, D(2024, 1, 16), D(2024, 2, 15))  # noqa: E731
    assert len(got) == len(REVENUE) and key("mrr") in got  # the row shows the window's own edges
    want = {
        key("customers"): 5, key("new_customers"): 1, key("churned_customers"): 1, key("reactivated_customers"): 1,
        key("mrr"): 590, key("new_mrr"): 0, key("expansion_mrr"): 50, key("contraction_mrr"): 60,
        key("churned_mrr"): 80, key("reactivation_mrr"): 70, key("net_new_mrr"): 0 + 70 + 50 - 60 - 80,
        key("churn_rate", "lost_over_start"): 1 / 5, key("churn_rate", "lost_over_active"): 1 / 7,
        key("customer_growth_rate"): 0.0, key("net_revenue_retention"): (610 + 50 - 60 - 80) / 610,
        key("retention_rate", "cohort"): 4 / 5,
        # g of a 30-day window is 30 / 30.4375 months
        key("average_customer_lifespan", "inverse_churn"): (30 / M) / (1 / 5),
        key("arpu", "invoiced"): 130 / 7, key("expansion_rate", "upsell_invoices"): 30 / 1199,
    }
    for k, v in want.items():
        check(got[k], v)


def test_a_three_month_window(session):
    # month grain, window 3m, the row of February 2024: [2023-12-01, 2024-03-01)
    #   paying at 2023-12-01: x 100, y 300, z 80, w 50 (s starts exactly then: not yet)   |S| = 4, M = 530
    #   paying at 2024-03-01: r 70, x 150, y 240, z 80, w 50                              |E| = 5, M = 590
    #   N: s (Dec 1) and n (Jan 20), neither in E: |N| = 2, new_mrr 0; L = S \ E = ∅
    #   R: r, 70; expansion x 50; contraction y 60; 530 + 0 + 70 + 50 − 60 − 0 = 590
    # and a month-grain run without a window says, for January alone: z lost (80), and for February:
    # z reactivated (80) — the window sees neither
    got = _values(session.compute(["customers", "new_customers", "churned_customers", "mrr", "reactivation_mrr",
                                   "expansion_mrr", "contraction_mrr", "churned_mrr", "reactivated_customers"],
                                  grain="month", start="2024-02-01", end="2024-03-01", window="3m"))
    key = lambda m: (m, "default", D(2023, 12, 1), D(2024, 3, 1))  # noqa: E731
    for m, v in {"customers": 5, "new_customers": 2, "churned_customers": 0, "mrr": 590, "reactivation_mrr": 70,
                 "expansion_mrr": 50, "contraction_mrr": 60, "churned_mrr": 0, "reactivated_customers": 1}.items():
        check(got[key(m)], v)
    plain = _values(session.compute(["churned_customers", "reactivated_customers"], grain="month",
                                     start="2024-01-01", end="2024-03-01"))
    # January: S = s, x, y, z, w; at Feb 1 z has left (n, s are paying, r starts exactly then): L = {z}
    assert plain[("churned_customers", "default", D(2024, 1, 1), D(2024, 2, 1))] == 1
    assert plain[("reactivated_customers", "default", D(2024, 2, 1), D(2024, 3, 1))] == 2  # r and z


def test_the_mrr_identity_on_every_daily_window(session):
    # M(end) = M(start) + new + reactivation + expansion − contraction − churned for every 30-day
    # window ending in January and February 2024; M(start) is the mrr of the row 30 days earlier
    # (a run with the window on its own: its period_end is that window's start)
    result = session.compute(["mrr", "new_mrr", "reactivation_mrr", "expansion_mrr", "contraction_mrr",
                              "churned_mrr"], grain="day", start="2023-12-01", end="2024-03-01", window="30d")
    got = {(r[0], r[3]): r[-1] for r in result.rows}
    starts = {r[3]: r[2] for r in result.rows}
    checked = 0
    for end, start in starts.items():
        if ("mrr", start) not in got:
            continue
        flow = got[("new_mrr", end)] + got[("reactivation_mrr", end)] + got[("expansion_mrr", end)] \
            - got[("contraction_mrr", end)] - got[("churned_mrr", end)]
        assert got[("mrr", end)] == pytest.approx(got[("mrr", start)] + flow, abs=1e-9), end
        checked += 1
    assert checked == 91 - 30


def test_window_usage_errors(session):
    with pytest.raises(UsageError, match="--window 45d.*whole number of months"):
        session.compute(["mrr"], grain="month", start="2024-01-01", end="2024-02-01", window="45d")
    with pytest.raises(UsageError, match="--window 2m.*whole number of weeks"):
        session.compute(["mrr"], grain="week", start="2024-01-01", end="2024-02-01", window="2m")
    with pytest.raises(UsageError, match="not a window length"):
        session.compute(["mrr"], grain="day", start="2024-01-01", end="2024-02-01", window="thirty days")
    with pytest.raises(UsageError, match="not a window length"):
        session.compute(["mrr"], grain="day", start="2024-01-01", end="2024-02-01", window="0d")


# -- a window of one period is the grain itself, for every metric and variant of the catalog ---------


@pytest.fixture(scope="module")
def demo_session(tmp_path_factory):
    from csframe.core.project import Project, SourceBinding
    from csframe.core.session import Session
    from csframe.plugins.demo import SOURCES, generate

    directory = tmp_path_factory.mktemp("demo")
    project = Project(dir=directory, adapter={"name": "duckdb", "database": "d.duckdb"},
                      sources={s: SourceBinding(s, table=s) for s in SOURCES})
    s = Session.open(project=project, entry_points=False)
    s.adapter().connect(write=True)
    s.adapter().load_tables(generate(customers=80, months=24, end=D(2025, 1, 1), seed=11))
    yield s
    s.close()


@pytest.mark.parametrize("grain,window,start,end", [
    ("month", "1m", "2024-01-01", "2025-01-01"),
    ("week", "1w", "2024-09-02", "2024-12-30"),
    ("day", "1d", "2024-12-01", "2024-12-20"),
])
def test_a_one_period_window_is_the_grain(demo_session, grain, window, start, end):
    s = demo_session
    keys = [(rv.metric, rv.variant.name) for rv in s.registry.all_variants()
            if not s.graph.needs_by((rv.metric, rv.variant.name))]  # the cohort metrics need --by cohort
    assert len(keys) >= 70 and not [k for k in keys if s.missing_sources(k)]
    plain = s.compute(keys, grain=grain, start=start, end=end)
    windowed = s.compute(keys, grain=grain, start=start, end=end, window=window)
    assert plain.columns == windowed.columns and len(plain.rows) == len(windowed.rows) > 0
    differ = [(a, b) for a, b in zip(plain.rows, windowed.rows) if a[:-1] != b[:-1] or not (
        a[-1] == b[-1] or (a[-1] is not None and b[-1] is not None and a[-1] == pytest.approx(b[-1], rel=1e-9)))]
    assert not differ, differ[:5]
    assert sum(1 for r in plain.rows if r[-1]) > len(plain.rows) / 3  # many non-zero numbers


# -- medians and distinct counts over a window's own rows -------------------------------------------


def _ticket(tid, created, resolved):
    return {"ticket_id": tid, "customer_id": "a", "created_at": created, "first_response_at": created,
            "resolved_at": resolved, "contacts": 1.0, "reopened": False}


def _event(user, at):
    return {"user_id": user, "customer_id": "a", "name": "login", "occurred_at": at}


TICKETS = [
    _ticket("t1", T(2024, 2, 29, 22), T(2024, 3, 1)),            # 2 h, resolved at the window's first instant
    _ticket("t2", T(2024, 3, 2, 10), T(2024, 3, 2, 11)),         # 1 h
    _ticket("t3", T(2024, 3, 3), T(2024, 3, 3, 10)),             # 10 h
    _ticket("t4", T(2024, 2, 29), T(2024, 2, 29, 23, 59, 59)),   # resolved before the window
    _ticket("t5", T(2024, 3, 3), T(2024, 3, 4)),                 # resolved at its end: the next window
]
EVENTS = [_event("u1", T(2024, 3, 1, 9)), _event("u1", T(2024, 3, 3, 9)), _event("u1", T(2024, 3, 3, 18)),
          _event("u2", T(2024, 3, 2, 12)), _event("u3", T(2024, 2, 29, 12))]


@pytest.fixture(scope="module")
def support_session(engine_project, tmp_path_factory):  # noqa: F811 - the fixture loaded once per engine
    s = Session.open(engine_project(tmp_path_factory.mktemp("window_support") / "p",
                                    {"tickets": TICKETS, "events": EVENTS}))
    yield s
    s.close()


def test_medians_and_distinct_users_over_a_three_day_window(support_session):
    # the day 2024-03-03, window 3d: [2024-03-01, 2024-03-04)
    #   resolved in it: t1 2 h, t2 1 h, t3 10 h → median 2 h (the middle one), mean 13 / 3 h
    #   active users: u1 (Mar 1, 3) and u2 (Mar 2) → 2 distinct (u3's event is on Feb 29);
    #   Σ over the 3 days of each day's active users: 1 + 1 + 1 = 3 → stickiness 3 / 3 days / 2 = 0.5
    got = _values(support_session.compute(["time_to_resolution:median", "time_to_resolution:mean", "active_users",
                                           "stickiness"], grain="day", start="2024-03-03", end="2024-03-04",
                                          window="3d"))
    key = lambda m, v="default": (m, v, D(2024, 3, 1), D(2024, 3, 4))  # noqa: E731
    check(got[key("time_to_resolution", "median")], 2)
    check(got[key("time_to_resolution", "mean")], 13 / 3)
    check(got[key("active_users")], 2)
    check(got[key("stickiness")], 0.5)
