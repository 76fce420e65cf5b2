"""Trailing windows read each subscription change twice, where it enters the windows and k periods
later where it leaves them (definitions/subscription_windows.py): hand-worked windows whose edges
fall exactly on changes (a change leaving at the anchor another enters), changes inside one window,
and, in a calendar's time zone, a first paid start placed by its local day.

Paying status per data-contract.md: B_c(b) sums the non-trial rows with started_at < b ≤ ended_at;
an event at instant t belongs to the day holding t.
"""

from __future__ import annotations

import datetime as dt

import pytest

from tests.engine.test_revenue_fixtures import check, open_session, sub

T = dt.datetime
D = dt.date

# t: 10 from Mar 1 to Mar 4, 25 from Mar 4 to Mar 7, 40 from Mar 12 12:00 (open)
#    B_t at the end of day d: 10 for Mar 1–3, 25 for Mar 4–6, 0 for Mar 7–11, 40 from Mar 12
#    (its changes on Mar 1, 4 and 7 are 3 days apart: each leaves the 3-day windows on the day the next enters)
# v: 20 from Mar 2 10:00 to Mar 3 10:00: B_v at the end of Mar 2 is 20, 0 from Mar 3 (two changes in one window)
# w: 5 from 2024-01-01 (open), no change in March
STEPS = [
    sub("t1", "t", T(2024, 3, 1), T(2024, 3, 4), 10), sub("t2", "t", T(2024, 3, 4), T(2024, 3, 7), 25),
    sub("t3", "t", T(2024, 3, 12, 12), None, 40),
    sub("v1", "v", T(2024, 3, 2, 10), T(2024, 3, 3, 10), 20),
    sub("w1", "w", T(2024, 1, 1), None, 5),
]
MOVEMENTS = ["new_customers", "new_mrr", "churned_customers", "churned_mrr", "expansion_mrr", "contraction_mrr",
             "reactivated_customers", "reactivation_mrr"]

# The 3-day window anchored at day a is [a − 2, a + 1): B at its start is B at the end of a − 3, at its end
# B at the end of a.  Per anchor (the rest 0; w is in S ∩ E with no movement):
#   Mar 1: t 0 → 10, first paid Mar 1 in it: N, new_mrr 10
#   Mar 2: t N 10; v 0 → 20, first paid Mar 2: N 20                 → N 2, new_mrr 30
#   Mar 3: t N 10; v 0 → 0, first paid in it: N, new_mrr 0          → N 2, new_mrr 10
#   Mar 4: t 10 → 25 (its first paid start, Mar 1, is before [Mar 2, Mar 5)): expansion 15; v N, 0
#   Mar 5: t expansion 15; v 20 (end of Mar 2) → 0: L, churned_mrr 20
#   Mar 6: t expansion 15 (10 at the end of Mar 3); v 0 → 0
#   Mar 7, 8, 9: t 25 → 0: L, churned_mrr 25
#   Mar 10, 11: t 0 → 0
#   Mar 12, 13, 14: t 0 → 40, paid before the window: R, reactivation_mrr 40
#   Mar 15: t 40 → 40
WANT = {
    1: {"new_customers": 1, "new_mrr": 10},
    2: {"new_customers": 2, "new_mrr": 30},
    3: {"new_customers": 2, "new_mrr": 10},
    4: {"new_customers": 1, "expansion_mrr": 15},
    5: {"expansion_mrr": 15, "churned_customers": 1, "churned_mrr": 20},
    6: {"expansion_mrr": 15},
    7: {"churned_customers": 1, "churned_mrr": 25},
    8: {"churned_customers": 1, "churned_mrr": 25},
    9: {"churned_customers": 1, "churned_mrr": 25},
    12: {"reactivated_customers": 1, "reactivation_mrr": 40},
    13: {"reactivated_customers": 1, "reactivation_mrr": 40},
    14: {"reactivated_customers": 1, "reactivation_mrr": 40},
}


@pytest.fixture(scope="module")
def session(tmp_path_factory):
    s = open_session(tmp_path_factory.mktemp("window_steps") / "p", {"subscriptions": STEPS})
    yield s
    s.close()


def test_changes_k_periods_apart_and_inside_one_window(session):
    result = session.compute(MOVEMENTS, grain="day", start="2024-03-01", end="2024-03-16", window="3d")
    got = {(r[0], r[3]): r[-1] for r in result.rows}
    assert len(got) == len(MOVEMENTS) * 15
    for day in range(1, 16):
        anchor = D(2024, 3, day)
        assert {r[2] for r in result.rows if r[3] == anchor + dt.timedelta(days=1)} == {anchor - dt.timedelta(days=2)}
        for m in MOVEMENTS:
            check(got[(m, anchor + dt.timedelta(days=1))], WANT.get(day, {}).get(m, 0))


def test_a_first_paid_start_before_the_window_in_its_local_days(tmp_path):
    # New York: q pays 10 from 2024-03-01 01:00 to 02:00 UTC (Feb 29, 20:00–21:00 local) and again from
    # 2024-03-05 (open). March's window [Mar 1, Apr 1) local: not paying at its start (05:00 UTC), paying
    # at its end, first paid on Feb 29 local, before the window: R, as the month grain says; not N
    subs = [sub("q1", "q", T(2024, 3, 1, 1), T(2024, 3, 1, 2), 10), sub("q2", "q", T(2024, 3, 5), None, 10)]
    s = open_session(tmp_path / "p", {"subscriptions": subs}, '\n[calendar]\ntime_zone = "America/New_York"\n')
    try:
        metrics = ["reactivated_customers", "reactivation_mrr", "new_customers", "customers"]
        plain = s.compute(metrics, grain="month", start="2024-03-01", end="2024-04-01")
        windowed = s.compute(metrics, grain="month", start="2024-03-01", end="2024-04-01", window="1m")
        for result in (plain, windowed):
            got = {r[0]: r[-1] for r in result.rows if r[2] == D(2024, 3, 1)}
            check(got["reactivated_customers"], 1)
            check(got["reactivation_mrr"], 10)
            check(got["new_customers"], 0)
            check(got["customers"], 1)
    finally:
        s.close()
