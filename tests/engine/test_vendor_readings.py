"""The vendors' readings (docs/vendors.md) computed from rows on every engine, each expected value
worked out by hand below from the vendors' own definitions.

``APRIL`` is ChartMogul's Standard (B2B) customer churn example made into rows: 100 customers at
the start of April 2024; during April 12 customers churn, one of whom comes back and one of whom
joined in April. ChartMogul gives (12 − 1 − 1) / 100 = 10 %. The same rows carry an expansion, a
contraction and a reactivation for the MRR readings, and the churns fall on two days for the
Shopify (daily) reading.
"""

from __future__ import annotations

import datetime as dt

import pytest

from csframe.core.session import Session
from tests.support.bigquery_emulator import bq_emulator  # noqa: F401 - the fixture engine_project uses
from tests.support.engines import engine_project  # noqa: F401 - the fixture

T = dt.datetime
D = dt.date
APR, MAY = D(2024, 4, 1), D(2024, 5, 1)


def sub(sid: str, cid: str, start: T, end: T | None, mrr: float, trial: bool = False) -> dict:
    return {"subscription_id": sid, "customer_id": cid, "started_at": start, "ended_at": end, "mrr": mrr,
            "is_trial": trial}


def _april() -> dict:
    customers = [f"c{i:03d}" for i in range(100)] + ["n1", "r1"]
    subs = []
    for i in range(100):
        cid = f"c{i:03d}"
        if i <= 10:  # c000..c010 stop exactly at 2024-04-10 00:00: paying at that instant, lost on April 10
            subs.append(sub(f"s{cid}", cid, T(2024, 1, 1), T(2024, 4, 10), 10))
        elif i in (50, 51):  # a price change at 04-12 12:00 (no stop, no start): 10 → 20 and 10 → 5
            subs.append(sub(f"s{cid}", cid, T(2024, 1, 1), T(2024, 4, 12, 12), 10))
            subs.append(sub(f"s{cid}b", cid, T(2024, 4, 12, 12), None, 20 if i == 50 else 5))
        else:
            subs.append(sub(f"s{cid}", cid, T(2024, 1, 1), None, 10))
    subs += [
        sub("sc000b", "c000", T(2024, 4, 20), None, 10),  # c000 comes back on the 20th: in S and in E
        sub("sn1", "n1", T(2024, 4, 5), T(2024, 4, 15), 40),  # joins and churns in April
        sub("sn1t", "n1", T(2024, 3, 20), T(2024, 4, 5), 0, trial=True),  # its trial counts nowhere
        sub("sr1", "r1", T(2024, 1, 1), T(2024, 3, 1), 30),  # paid, left in March ...
        sub("sr1b", "r1", T(2024, 4, 25, 6), None, 30),  # ... and is reactivated in April
    ]
    return {"customers": [{"customer_id": c, "created_at": T(2023, 12, 1)} for c in customers],
            "subscriptions": subs}


# By hand, April 2024 (month grain):
#   S = c000..c099 (100 customers; r1 left at 03-01, n1 not yet paying)   M(start) = 100 × 10 = 1,000
#   L = S \ E = c001..c010 (10: c000 is back at the end)                  churned MRR = 10 × 10 = 100
#   E = 90 of S + r1 = 91; n1 is gone                                      reactivation MRR (r1) = 30
#   expansion (c050) 20 − 10 = 10, contraction (c051) 10 − 5 = 5; new MRR = 0 (n1 ∉ E)
#   M(end) = 1,000 + 0 + 30 + 10 − 5 − 100 = 935 = 88 × 10 + 20 + 5 + 30 ✓ (c000, c011..c049, c052..c099 at 10)
#   stops in April: c000..c010 (11) + n1 = 12;  starts: n1 (04-05), c000 (04-20), r1 (04-25) = 3
#   days: 04-10 lost 11 of the 101 paying at its start (100 + n1); 04-15 lost n1, 1 of 90; no other loss
APRIL_EXPECTED = {
    ("churn_rate", "lost_over_start"): 10 / 100,  # ChartMogul's B2B example: 10 %
    ("churn_rate", "stripe"): 12 / (100 + 3),
    ("churn_rate", "baremetrics"): 12 / 100,
    ("churn_rate", "chartmogul_daily"): 11 / 101 + 1 / 90,
    ("net_mrr_churn_rate", "chartmogul"): (100 + 5 - 10 - 30) / 1_000,
    ("net_mrr_churn_rate", "default"): (100 + 5 - 10) / 1_000,
    ("revenue_churn_rate", "default"): (100 + 5) / 1_000,
    ("customer_lifetime_value", "baremetrics"): (935 / 91) / (12 / 100),
    ("new_mrr", "default"): 0.0,  # ProfitWell: n1, new and churned in April, adds no new revenue ...
    ("churned_mrr", "default"): 100.0,  # ... and no churned revenue
    ("mrr", "default"): 935.0,
}


@pytest.fixture
def on_engine(engine_project, tmp_path):  # noqa: F811
    opened: list[Session] = []

    def build(tables: dict, toml_extra: str = "") -> Session:
        s = Session.open(engine_project(tmp_path / f"p{len(opened)}", tables, toml_extra))
        opened.append(s)
        return s

    yield build
    for s in opened:
        s.close()


def test_april_readings_by_hand(on_engine):
    s = on_engine(_april())
    keys = [f"{m}:{v}" for m, v in APRIL_EXPECTED]
    r = s.compute(keys, grain="month", start="2024-04-01", end="2024-05-01")
    for (metric, variant), expected in APRIL_EXPECTED.items():
        value = r.value(metric, APR, variant=variant)
        assert value == pytest.approx(expected, rel=1e-12, abs=1e-12), (metric, variant, value, expected)


def test_daily_churn_sums_every_day_of_a_quarter(on_engine):
    # the same rows at quarter grain: the days of Q2 2024 that lost anyone are the two of April
    s = on_engine(_april())
    r = s.compute(["churn_rate:chartmogul_daily", "churn_rate:stripe"], grain="quarter", start="2024-04-01",
                  end="2024-07-01")
    assert r.value("churn_rate", APR, variant="chartmogul_daily") == pytest.approx(11 / 101 + 1 / 90, rel=1e-12)
    # Q1 2024 is not reported; in Q2: S = c000..c099 (100); starts 3, stops 12 as in April
    assert r.value("churn_rate", APR, variant="stripe") == pytest.approx(12 / 103, rel=1e-12)


def test_a_second_stop_is_a_second_churn_for_stripe_and_baremetrics(on_engine):
    # x pays from January, stops on 03-05, comes back on 03-10 and stops again on 03-20: two stops in March.
    # y joins on 03-02 and stays. March: S = {x}; starts: y, x (03-10) = 2; |L| = 1
    subs = [sub("x1", "x", T(2024, 1, 1), T(2024, 3, 5), 10), sub("x2", "x", T(2024, 3, 10), T(2024, 3, 20), 10),
            sub("y1", "y", T(2024, 3, 2), None, 10)]
    s = on_engine({"customers": [{"customer_id": c, "created_at": T(2023, 12, 1)} for c in "xy"],
                   "subscriptions": subs})
    r = s.compute(["churn_rate:stripe", "churn_rate:baremetrics", "churn_rate:lost_over_start",
                   "churn_rate:chartmogul_daily"], grain="month", start="2024-03-01", end="2024-04-01")
    mar = D(2024, 3, 1)
    assert r.value("churn_rate", mar, variant="stripe") == pytest.approx(2 / (1 + 2), rel=1e-12)
    assert r.value("churn_rate", mar, variant="baremetrics") == pytest.approx(2 / 1, rel=1e-12)
    assert r.value("churn_rate", mar, variant="lost_over_start") == pytest.approx(1 / 1, rel=1e-12)
    # days: 03-05 loses x, 1 of 2 (x and y, who joined 03-02); 03-20 loses x again, 1 of 2
    assert r.value("churn_rate", mar, variant="chartmogul_daily") == pytest.approx(1 / 2 + 1 / 2, rel=1e-12)


def test_nobody_active_gives_null_and_a_quiet_month_zero(on_engine):
    subs = [sub("z1", "z", T(2024, 3, 1), None, 10)]
    s = on_engine({"customers": [{"customer_id": "z", "created_at": T(2023, 12, 1)}], "subscriptions": subs})
    r = s.compute(["churn_rate:stripe", "churn_rate:baremetrics", "churn_rate:chartmogul_daily"], grain="month",
                  start="2024-02-01", end="2024-05-01")
    feb, apr = D(2024, 2, 1), D(2024, 4, 1)
    for variant in ("stripe", "baremetrics", "chartmogul_daily"):
        assert r.value("churn_rate", feb, variant=variant) is None, variant  # nobody paying or starting
        assert r.value("churn_rate", apr, variant=variant) == 0, variant  # z pays all April, loses nothing


def test_stripe_mrr_example_excludes_trials(on_engine):
    # Stripe: 100 subscribers on 100 USD per month and 50 on 600 USD per year → 10,000 + 50 × 50 = 12,500
    # (Stripe's page writes 800/12, a typo: its total needs 600/12); a trial of 1,000 adds nothing.
    subs = [sub(f"m{i}", f"m{i}", T(2024, 1, 1), None, 100) for i in range(100)]
    subs += [sub(f"a{i}", f"a{i}", T(2024, 1, 1), None, 600 / 12) for i in range(50)]
    subs += [sub("t0", "t0", T(2024, 1, 1), None, 1_000, trial=True)]
    cust = [{"customer_id": r["customer_id"], "created_at": T(2023, 12, 1)} for r in subs]
    s = on_engine({"customers": cust, "subscriptions": subs})
    r = s.compute(["mrr"], grain="month", start="2024-01-01", end="2024-02-01")
    assert r.value("mrr", D(2024, 1, 1)) == pytest.approx(12_500, rel=1e-12)


def test_every_figure_names_a_provenance_of_its_variant():
    from csframe.core.plugin_manager import load_plugins
    from csframe.core.registry import build_registry
    from csframe.definitions.provenance import PROVENANCE

    reg = build_registry(load_plugins(entry_points=False))
    figures = [(rv, f) for rv in reg.all_variants() for f in rv.variant.figures]
    assert {f.vendor for _, f in figures} == {"chartmogul", "stripe", "baremetrics", "profitwell"}
    for rv, f in figures:
        assert f.vendor in rv.variant.provenance and f.vendor in PROVENANCE, (rv.metric, rv.variant.name, f)
        assert rv.variant.examples, (rv.metric, rv.variant.name)
    # the names
    for key in [("net_mrr_churn_rate", "chartmogul"), ("churn_rate", "chartmogul_daily"), ("churn_rate", "stripe")]:
        assert key in reg.variants


def test_chartmogul_ltv_is_arpa_over_the_six_months_before(on_engine):
    # 20 customers pay 10 from 2023-12-01; stops in 2024 (mid-month): Jan 1, Feb 2, Apr 1, Jun 1.
    # |L| / |S|: Jan 1/20, Feb 2/19, Mar 0/17, Apr 1/17, May 0/16, Jun 1/16 (Dec 2023: nobody at its start: NULL)
    # July: ARPA = M(end) / |E| = 15 × 10 / 15 = 10; LTV = 10 / (mean of Jan..Jun)
    # June: its six months are Dec..May, and December's churn is NULL → NULL
    stops = {0: T(2024, 1, 15), 1: T(2024, 2, 10), 2: T(2024, 2, 20), 3: T(2024, 4, 5), 4: T(2024, 6, 7)}
    subs = [sub(f"s{i}", f"k{i:02d}", T(2023, 12, 1), stops.get(i), 10) for i in range(20)]
    s = on_engine({"customers": [{"customer_id": f"k{i:02d}", "created_at": T(2023, 11, 1)} for i in range(20)],
                   "subscriptions": subs})
    r = s.compute(["customer_lifetime_value:chartmogul"], grain="month", start="2024-06-01", end="2024-08-01")
    mean = (1 / 20 + 2 / 19 + 0 + 1 / 17 + 0 + 1 / 16) / 6
    assert r.value("customer_lifetime_value", D(2024, 7, 1), variant="chartmogul") == pytest.approx(10 / mean,
                                                                                                    rel=1e-12)
    assert r.value("customer_lifetime_value", D(2024, 6, 1), variant="chartmogul") is None


@pytest.mark.parametrize("zone,april,may", [("UTC", 0.0, 0.5), ("America/New_York", 0.5, 0.0)])
def test_daily_churn_and_stops_follow_the_calendars_days(on_engine, zone, april, may):
    # a and b pay from January; a stops at 2024-05-01 02:00 UTC = 2024-04-30 22:00 in New York.
    # UTC: lost on May 1, 1 of the 2 paying at its start → May 0.5, April 0.
    # New York: lost on local April 30 (both paying at its local midnight, 04:00 UTC) → April 0.5, May 0.
    subs = [sub("a1", "a", T(2024, 1, 1), T(2024, 5, 1, 2), 10), sub("b1", "b", T(2024, 1, 1), None, 10)]
    s = on_engine({"customers": [{"customer_id": c, "created_at": T(2023, 12, 1)} for c in "ab"],
                   "subscriptions": subs}, f'\n[calendar]\ntime_zone = "{zone}"\n')
    r = s.compute(["churn_rate:chartmogul_daily", "churn_rate:baremetrics"], grain="month", start="2024-04-01",
                  end="2024-06-01")
    assert r.value("churn_rate", APR, variant="chartmogul_daily") == pytest.approx(april, abs=1e-12)
    assert r.value("churn_rate", MAY, variant="chartmogul_daily") == pytest.approx(may, abs=1e-12)
    # baremetrics: stops / |S|: the same month as the daily loss, 1 of 2
    assert r.value("churn_rate", APR, variant="baremetrics") == pytest.approx(april, abs=1e-12)
    assert r.value("churn_rate", MAY, variant="baremetrics") == pytest.approx(may / 0.5 * (1 / 2) if may else 0,
                                                                               abs=1e-12)
