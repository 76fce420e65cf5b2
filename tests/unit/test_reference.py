"""Tests of the reference implementation itself (tests/reference/revenue.py).

The worked examples of metrics.md ("Each worked example below is a test vector") are rebuilt
as small row sets; the MRR identity and the partition of E \\ S into N and R of
data-contract.md are checked as properties over generated histories; and the boundary rules
("a row that starts at p.start ... is new in p", "a row with ended_at = p.end ... is counted
at its end, and is lost in the next period") are worked by hand.
"""

from __future__ import annotations

import itertools
import sys
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

try:
    from tests.reference import engines as eng
    from tests.reference import revenue as ref
    from tests.reference import strategies as strat
except ImportError:  # pytest's default import mode does not put the repository root on sys.path
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from tests.reference import engines as eng
    from tests.reference import revenue as ref
    from tests.reference import strategies as strat

# February 2024, the period most examples report, and the month around it
JAN = datetime(2024, 1, 1)
FEB = datetime(2024, 2, 1)
MAR = datetime(2024, 3, 1)
APR = datetime(2024, 4, 1)
MID_FEB = datetime(2024, 2, 15, 9, 30)
P_FEB = [(FEB, MAR)]
FEB_KEY = date(2024, 2, 1)

_ids = itertools.count()


def sub(customer: Any, start: datetime, end: datetime | None, mrr: Any, *, trial: bool | None = False,
        subscription_id: str | None = None) -> dict[str, Any]:
    return {
        "subscription_id": subscription_id or f"s{next(_ids)}",
        "customer_id": customer,
        "started_at": start,
        "ended_at": end,
        "mrr": mrr,
        "is_trial": trial,
    }


def inv(customer: Any, paid_at: datetime, amount: Any, kind: str | None = None) -> dict[str, Any]:
    return {"invoice_id": f"i{next(_ids)}", "customer_id": customer, "paid_at": paid_at,
            "amount": amount, "kind": kind}


def feb(rows: list[dict[str, Any]], metric: str, variant: str = "default", **kw: Any) -> float | None:
    """The value of metric:variant for February 2024 (month grain)."""
    return ref.revenue_metrics(P_FEB, "month", rows, **kw)[(metric, variant, FEB_KEY)]


def staying(prefix: str, n: int, mrr: Any = 100) -> list[dict[str, Any]]:
    """n customers paying from before February to after it."""
    return [sub(f"{prefix}{i}", JAN, None, mrr) for i in range(n)]


def leaving(prefix: str, n: int, mrr: Any = 100) -> list[dict[str, Any]]:
    """n customers paying at the start of February who end mid-February."""
    return [sub(f"{prefix}{i}", JAN, MID_FEB, mrr) for i in range(n)]


def arriving(prefix: str, n: int, mrr: Any = 100) -> list[dict[str, Any]]:
    """n customers first paying mid-February and still paying at its end."""
    return [sub(f"{prefix}{i}", MID_FEB, None, mrr) for i in range(n)]


# ------------------------------------------------------------------------------------------
# Periods
# ------------------------------------------------------------------------------------------


def test_period_bounds_rounds_start_down_and_stops_before_end() -> None:
    assert ref.period_bounds("month", date(2024, 1, 15), date(2024, 4, 1)) == [
        (datetime(2024, 1, 1), datetime(2024, 2, 1)),
        (datetime(2024, 2, 1), datetime(2024, 3, 1)),
        (datetime(2024, 3, 1), datetime(2024, 4, 1)),
    ]
    # an end inside a period still reports that period: its start is < B
    assert ref.period_bounds("quarter", date(2023, 2, 10), date(2023, 7, 2)) == [
        (datetime(2023, 1, 1), datetime(2023, 4, 1)),
        (datetime(2023, 4, 1), datetime(2023, 7, 1)),
        (datetime(2023, 7, 1), datetime(2023, 10, 1)),
    ]
    assert ref.period_bounds("year", date(2023, 6, 1), date(2024, 1, 1)) == [
        (datetime(2023, 1, 1), datetime(2024, 1, 1))
    ]
    assert ref.period_bounds("day", date(2024, 2, 28), date(2024, 3, 1)) == [
        (datetime(2024, 2, 28), datetime(2024, 2, 29)),
        (datetime(2024, 2, 29), datetime(2024, 3, 1)),
    ]


def test_week_periods_are_iso_weeks_starting_monday() -> None:
    # 2024-01-03 is a Wednesday; its ISO week starts on Monday 2024-01-01
    weeks = ref.period_bounds("week", date(2024, 1, 3), date(2024, 1, 16))
    assert weeks == [
        (datetime(2024, 1, 1), datetime(2024, 1, 8)),
        (datetime(2024, 1, 8), datetime(2024, 1, 15)),
        (datetime(2024, 1, 15), datetime(2024, 1, 22)),
    ]
    assert all(s.weekday() == 0 for s, _ in weeks)
    # across a year end: Sunday 2023-01-01 belongs to the week of Monday 2022-12-26
    assert ref.period_bounds("week", date(2023, 1, 1), date(2023, 1, 2))[0][0] == datetime(2022, 12, 26)


def test_previous_period() -> None:
    assert ref.previous_period("month", datetime(2024, 1, 1)) == (datetime(2023, 12, 1), datetime(2024, 1, 1))
    assert ref.previous_period("quarter", datetime(2024, 1, 1)) == (datetime(2023, 10, 1), datetime(2024, 1, 1))
    assert ref.previous_period("week", datetime(2024, 1, 1)) == (datetime(2023, 12, 25), datetime(2024, 1, 1))


def test_instants_dates_and_time_zones() -> None:
    assert ref.instant(date(2024, 2, 1)) == FEB  # "a DATE is midnight UTC of its day"
    assert ref.instant(datetime(2024, 2, 1, 1, 0, tzinfo=timezone(timedelta(hours=1)))) == FEB
    assert ref.instant("2024-02-01") == FEB


# ------------------------------------------------------------------------------------------
# Worked examples of metrics.md: customer counts and churn
# ------------------------------------------------------------------------------------------


def test_churn_rate_lost_over_start_32_of_400() -> None:
    rows = staying("a", 368) + leaving("b", 32)
    assert feb(rows, "churn_rate", "lost_over_start") == pytest.approx(0.08)
    assert feb(rows, "churned_customers") == 32


def test_churn_rate_lost_over_start_10_of_100() -> None:
    rows = staying("a", 90) + leaving("b", 10) + arriving("n", 7)
    assert feb(rows, "churn_rate", "lost_over_start") == pytest.approx(0.10)


def test_churn_rate_net_loss_100_to_90_new_customers_offset_losses() -> None:
    # 100 at start; 15 lost and 5 new gives 90 at end
    rows = staying("a", 85) + leaving("b", 15) + arriving("n", 5)
    assert feb(rows, "customers") == 90
    assert feb(rows, "churn_rate", "net_loss") == pytest.approx(0.10)
    assert feb(rows, "churn_rate", "lost_over_start") == pytest.approx(0.15)
    # lost_over_active: |L| / |A| = 15 / 105
    assert feb(rows, "churn_rate", "lost_over_active") == pytest.approx(15 / 105)


def test_retention_rate_end_minus_new_500_43_512() -> None:
    # 500 at start, 31 of them lost, 43 new: 512 at end
    rows = staying("a", 469) + leaving("b", 31) + arriving("n", 43)
    assert feb(rows, "customers") == 512
    assert feb(rows, "new_customers") == 43
    assert feb(rows, "retention_rate", "end_minus_new") == pytest.approx(0.938)
    assert feb(rows, "retention_rate", "cohort") == pytest.approx(469 / 500)
    assert feb(rows, "customer_growth_rate") == pytest.approx(12 / 500)


def test_mrr_arpu_25_times_1000_users() -> None:
    rows = staying("a", 1000, Decimal("25"))
    assert feb(rows, "mrr") == 25_000
    assert feb(rows, "arr") == 300_000
    assert feb(rows, "arpu", "mrr") == 25


def test_arpa_five_customers_paying_1_1_3_5_5() -> None:
    rows = [sub(f"c{i}", JAN, None, m) for i, m in enumerate([1, 1, 3, 5, 5])]
    assert feb(rows, "arpu", "mrr") == 3


def test_arpu_invoiced_52000_over_2500() -> None:
    rows = staying("a", 2500, 10)
    invoices = [inv(f"a{i}", MID_FEB, Decimal("20.80")) for i in range(2500)]
    invoices += [inv("a0", JAN, 999), inv("a1", MAR, 999)]  # outside February
    assert feb(rows, "arpu", "invoiced", invoices=invoices) == pytest.approx(20.8)


# ------------------------------------------------------------------------------------------
# Worked examples: MRR movements and the rates built on them
# ------------------------------------------------------------------------------------------


def test_revenue_churn_and_net_mrr_churn() -> None:
    # MRR at start 100; churned 10; contraction 10; expansion 10; no reactivation
    rows = [
        sub("churns", JAN, MID_FEB, 10),
        sub("contracts", JAN, MID_FEB, 40, subscription_id="k"),
        sub("contracts", MID_FEB, None, 30, subscription_id="k"),  # a price change
        sub("expands", JAN, MID_FEB, 50, subscription_id="x"),
        sub("expands", MID_FEB, None, 60, subscription_id="x"),
    ]
    mv = ref.movements(rows, FEB, MAR)
    assert (mv["mrr_start"], mv["churned"], mv["contraction"], mv["expansion"]) == (100, 10, 10, 10)
    assert mv["reactivation"] == mv["new"] == 0
    assert feb(rows, "revenue_churn_rate") == pytest.approx(0.20)
    assert feb(rows, "net_mrr_churn_rate") == pytest.approx(0.10)
    assert feb(rows, "expansion_rate", "gross_mrr") == pytest.approx(0.10)


def test_grr_and_nrr_085_and_103() -> None:
    # start 10.0M; contraction 0.6M; churned 0.9M; expansion 1.8M
    m = 1_000_000
    rows = [
        sub("churns", JAN, MID_FEB, Decimal("0.9") * m),
        sub("contracts", JAN, MID_FEB, Decimal("1.6") * m, subscription_id="k"),
        sub("contracts", MID_FEB, None, Decimal("1.0") * m, subscription_id="k"),
        sub("expands", JAN, MID_FEB, Decimal("7.5") * m, subscription_id="x"),
        sub("expands", MID_FEB, None, Decimal("9.3") * m, subscription_id="x"),
    ]
    assert feb(rows, "gross_revenue_retention") == pytest.approx(0.85)
    assert feb(rows, "net_revenue_retention") == pytest.approx(1.03)
    assert feb(rows, "net_renewal_rate", "mrr") == feb(rows, "net_revenue_retention")


def test_quick_ratio_3_5() -> None:
    # new 20k; expansion 8k; churned 5k; contraction 3k; no reactivation
    rows = [
        sub("new", MID_FEB, None, 20_000),
        sub("expands", JAN, MID_FEB, 10_000, subscription_id="x"),
        sub("expands", MID_FEB, None, 18_000, subscription_id="x"),
        sub("churns", JAN, MID_FEB, 5_000),
        sub("contracts", JAN, MID_FEB, 4_000, subscription_id="k"),
        sub("contracts", MID_FEB, None, 1_000, subscription_id="k"),
    ]
    assert feb(rows, "quick_ratio") == pytest.approx(3.5)
    assert feb(rows, "net_new_mrr") == 20_000


def test_expansion_rate_cohort_net_change_25k_to_30k() -> None:
    rows = [
        sub("a", JAN, MID_FEB, 10_000, subscription_id="a"),
        sub("a", MID_FEB, None, 14_000, subscription_id="a"),
        sub("b", JAN, None, 15_000),
        sub("b", MID_FEB, None, 1_000),  # b adds a second subscription: 16,000 at the end (30k in all)
        sub("c", MID_FEB, None, 99_000),  # new: not in S, so not in the cohort
    ]
    assert feb(rows, "expansion_rate", "cohort_net_change") == pytest.approx(0.20)


def test_expansion_rate_upsell_invoices_reads_p_minus_1_before_the_first_period() -> None:
    invoices = [
        inv("a", datetime(2024, 1, 10), 60_000),
        inv("b", datetime(2024, 1, 31, 23, 59, 59), 40_000, "one_time"),
        inv("a", MID_FEB, 6_000, "upsell"),
        inv("b", MID_FEB, 4_000, "cross_sell"),
        inv("b", MID_FEB, 50_000),  # NULL kind counts as subscription: not an upsell
        inv("b", MID_FEB, 7_000, "subscription"),
    ]
    rows = staying("a", 1)
    # only February is reported; p-1 (January) is still read from the data
    assert feb(rows, "expansion_rate", "upsell_invoices", invoices=invoices) == pytest.approx(0.10)


def test_renewal_rate_950_of_1000_and_98_of_100() -> None:
    def contracts(n: int, renewed: int) -> list[dict[str, Any]]:
        return [
            {"contract_id": i, "customer_id": f"c{i}", "due_at": date(2024, 2, 1 + i % 29),
             "value_up": 10, "renewed": i < renewed, "renewed_value": 10 if i < renewed else 0}
            for i in range(n)
        ]

    outside = {"contract_id": -1, "customer_id": "x", "due_at": date(2024, 3, 1), "value_up": 10,
               "renewed": False, "renewed_value": 0}
    assert feb([], "renewal_rate", renewals=contracts(1000, 950) + [outside]) == pytest.approx(0.95)
    assert feb([], "renewal_rate", renewals=contracts(100, 98)) == pytest.approx(0.98)


def test_net_renewal_rate_contracts_1000_up_700_renewed() -> None:
    renewals = [
        {"contract_id": 1, "customer_id": "a", "due_at": date(2024, 2, 1), "value_up": 600,
         "renewed": True, "renewed_value": 700},  # 500 renewed + 200 expansion
        {"contract_id": 2, "customer_id": "b", "due_at": date(2024, 2, 29), "value_up": 400,
         "renewed": False, "renewed_value": 0},
    ]
    assert feb([], "net_renewal_rate", "contracts", renewals=renewals) == pytest.approx(0.70)
    assert feb([], "renewal_rate", renewals=renewals) == pytest.approx(0.5)


# ------------------------------------------------------------------------------------------
# Worked examples: lifespan, CLV, CAC
# ------------------------------------------------------------------------------------------


def test_clv_arpa_100_monthly_churn_005_is_2000() -> None:
    rows = staying("a", 19) + leaving("b", 1)
    assert feb(rows, "arpu", "mrr") == 100
    assert feb(rows, "churn_rate", "lost_over_start") == pytest.approx(0.05)
    assert feb(rows, "average_customer_lifespan", "inverse_churn") == pytest.approx(20)
    assert feb(rows, "customer_lifetime_value", "arpa_x_lifespan") == pytest.approx(2_000)


def test_clv_with_no_churn_is_null() -> None:
    rows = staying("a", 20)
    assert feb(rows, "average_customer_lifespan", "inverse_churn") is None
    assert feb(rows, "customer_lifetime_value", "arpa_x_lifespan") is None


def test_clv_600_times_28_months() -> None:
    rows = staying("a", 27, 600) + leaving("b", 1, 600)
    assert feb(rows, "customer_lifetime_value", "arpa_x_lifespan") == pytest.approx(16_800)


def test_inverse_churn_uses_the_grain_length_in_months() -> None:
    june = datetime(2023, 6, 1)
    rows = [sub(f"a{i}", june, None, 10) for i in range(3)] + [sub("b", june, MID_FEB, 10)]
    # churn is 1/4 in the period of every grain that contains MID_FEB
    for grain, g in [("day", 1 / 30.4375), ("week", 7 / 30.4375), ("month", 1), ("quarter", 3), ("year", 12)]:
        (p,) = ref.period_bounds(grain, MID_FEB, MID_FEB + timedelta(seconds=1))
        out = ref.revenue_metrics([p], grain, rows)
        assert out[("churn_rate", "lost_over_start", p[0].date())] == 0.25
        assert out[("average_customer_lifespan", "inverse_churn", p[0].date())] == pytest.approx(4 * g)


def test_clv_arpa_x_lifespan_follows_the_projects_lifespan_variant() -> None:
    # b paid from 1 Jan to 15 Feb 09:30: 45.395833 days; c from 1 Dec to 1 Jan: 31 days
    rows = staying("a", 1, 100) + leaving("b", 1, 100) + [sub("c", datetime(2023, 12, 1), JAN, 50)]
    out = ref.revenue_metrics(P_FEB, "month", rows, variants={"average_customer_lifespan": "observed"})
    months = (Fraction(45 * 86400 + 9 * 3600 + 30 * 60, 86400) + 31) / 2 / Fraction("30.4375")
    assert out[("average_customer_lifespan", "observed", FEB_KEY)] == pytest.approx(float(months))
    assert out[("customer_lifetime_value", "arpa_x_lifespan", FEB_KEY)] == pytest.approx(float(100 * months))


def test_observed_lifespan_is_as_of_p_end() -> None:
    nov, dec = datetime(2023, 11, 1), datetime(2023, 12, 1)
    rows = [
        sub("a", nov, dec, 10, subscription_id="a"),
        sub("a", dec, JAN, 0, subscription_id="a"),  # mrr 0: a stops paying on 1 Dec
        sub("a", JAN, FEB, 10, subscription_id="a2"),  # back for January
        sub("b", JAN, MID_FEB, 10),
        sub("t", datetime(2023, 1, 1), datetime(2023, 6, 1), 10, trial=True),  # trial only: no first_paid
    ]
    periods = ref.period_bounds("month", nov, MAR)
    out = ref.revenue_metrics(periods, "month", rows)

    def observed(p: date) -> float | None:
        return out[("average_customer_lifespan", "observed", p)]

    assert observed(date(2023, 11, 1)) is None  # a is paying at 1 Dec (its row ends there)
    # as of 1 Jan a is not paying: its paid rows that started before 1 Jan end at 1 Dec
    assert observed(date(2023, 12, 1)) == pytest.approx(30 / 30.4375)
    assert observed(date(2024, 1, 1)) is None  # a paying at 1 Feb, b too: a mean over none
    a = (FEB - nov) / timedelta(days=1) / 30.4375
    b = (MID_FEB - JAN) / timedelta(days=1) / 30.4375
    assert observed(FEB_KEY) == pytest.approx((a + b) / 2)


def test_historical_revenue_per_customer_100_a_month_for_24_months() -> None:
    invoices = [inv("a", datetime(2022 + m // 12, m % 12 + 1, 15), 100) for m in range(24)]
    invoices += [inv("a", MAR, 100)]  # paid at p.end: not before it
    out = ref.revenue_metrics(P_FEB, "month", staying("a", 1), invoices=invoices)
    assert out[("customer_lifetime_value", "historical_revenue_per_customer", FEB_KEY)] == 2_400
    # AOV 100 × frequency 24 × lifetime (last − first paid, in days / 365)
    days = (datetime(2023, 12, 15) - datetime(2022, 1, 15)).days
    assert out[("customer_lifetime_value", "aov_x_frequency_x_lifetime", FEB_KEY)] == pytest.approx(
        100 * 24 * days / 365
    )


def test_aov_x_frequency_x_lifetime_by_hand() -> None:
    invoices = [
        inv("a", datetime(2023, 1, 1), 100),
        inv("a", datetime(2023, 1, 1, 12), 300),  # half a day later
        inv("b", datetime(2023, 6, 1), 200),
    ]
    out = ref.revenue_metrics(P_FEB, "month", [], invoices=invoices)
    aov, frequency, lifetime = Fraction(600, 3), Fraction(3, 2), Fraction(1, 2) / 2 / 365
    assert out[("customer_lifetime_value", "aov_x_frequency_x_lifetime", FEB_KEY)] == pytest.approx(
        float(aov * frequency * lifetime)
    )
    assert out[("customer_lifetime_value", "historical_revenue_per_customer", FEB_KEY)] == 300
    # no invoices before p.end: every ratio is NULL
    empty = ref.revenue_metrics([(datetime(2022, 1, 1), datetime(2022, 2, 1))], "month", [], invoices=invoices)
    assert empty[("customer_lifetime_value", "aov_x_frequency_x_lifetime", date(2022, 1, 1))] is None
    assert empty[("customer_lifetime_value", "historical_revenue_per_customer", date(2022, 1, 1))] is None


def test_cac_crc_net_of_cac_and_ltv_to_cac() -> None:
    rows = staying("a", 19) + leaving("b", 1) + arriving("n", 4)
    costs = [
        {"incurred_at": date(2024, 2, 1), "category": "acquisition", "amount": 300},
        {"incurred_at": datetime(2024, 2, 29, 23), "category": "acquisition", "amount": 100},
        {"incurred_at": date(2024, 3, 1), "category": "acquisition", "amount": 999},  # March
        {"incurred_at": date(2024, 2, 10), "category": "retention", "amount": 190},
    ]
    out = ref.revenue_metrics(P_FEB, "month", rows, costs=costs)
    assert out[("customer_acquisition_cost", "default", FEB_KEY)] == 100  # 400 / 4 new
    assert out[("customer_retention_cost", "default", FEB_KEY)] == 10  # 190 / 19 kept
    # CLV: ARPA 100 × 1 / 0.05 = 2,000
    assert out[("customer_lifetime_value", "net_of_cac", FEB_KEY)] == pytest.approx(1_900)
    assert out[("ltv_to_cac", "default", FEB_KEY)] == pytest.approx(20)
    # a project whose CLV reading is net_of_cac divides that one
    out = ref.revenue_metrics(P_FEB, "month", rows, costs=costs, variants={"customer_lifetime_value": "net_of_cac"})
    assert out[("ltv_to_cac", "default", FEB_KEY)] == pytest.approx(19)
    # no new customers: CAC is NULL, and so is everything built on it
    out = ref.revenue_metrics([(MAR, APR)], "month", rows, costs=costs)
    assert out[("customer_acquisition_cost", "default", date(2024, 3, 1))] is None
    assert out[("ltv_to_cac", "default", date(2024, 3, 1))] is None


def test_arr_gross_expansion_cohort_retention_growth_and_net_renewal_mrr_by_hand() -> None:
    # a stays at 100; b goes 100 -> 150 mid-February; c (60) leaves mid-February; d (40) and
    # e (10) arrive mid-February.  S = {a, b, c}, E = {a, b, d, e}, A = {a, b, c, d, e}.
    rows = [
        sub("a", JAN, None, 100),
        sub("b", JAN, MID_FEB, 100, subscription_id="b"), sub("b", MID_FEB, None, 150, subscription_id="b"),
        sub("c", JAN, MID_FEB, 60),
        sub("d", MID_FEB, None, 40),
        sub("e", MID_FEB, None, 10),
    ]
    # M(start) = 260, M(end) = 300 = 260 + new 50 + expansion 50 - churned 60
    assert feb(rows, "mrr") == 300
    assert feb(rows, "arr") == 3_600  # 12 x 300
    assert feb(rows, "expansion_rate", "gross_mrr") == pytest.approx(50 / 260)
    assert feb(rows, "retention_rate", "cohort") == pytest.approx(2 / 3)  # |{a, b}| / |S|
    assert feb(rows, "churn_rate", "lost_over_active") == pytest.approx(1 / 5)  # |{c}| / |A|
    assert feb(rows, "customer_growth_rate") == pytest.approx(1 / 3)  # (4 - 3) / 3
    # net_renewal_rate:mrr is net_revenue_retention: (260 + 50 - 0 - 60) / 260
    assert feb(rows, "net_renewal_rate", "mrr") == pytest.approx(250 / 260)
    assert feb(rows, "net_revenue_retention") == pytest.approx(250 / 260)
    # cohort_net_change: S's MRR goes 260 -> 100 + 150 + 0 = 250
    assert feb(rows, "expansion_rate", "cohort_net_change") == pytest.approx(-10 / 260)


# ------------------------------------------------------------------------------------------
# tests/reference/engines.py: the reference per --by group, the identity, the comparison
# ------------------------------------------------------------------------------------------


def test_reference_by_group_restricts_every_source_to_the_groups_customers() -> None:
    data = {
        "subscriptions": [sub("x", JAN, None, 10), sub("y", JAN, None, 20), sub("z", JAN, None, 30)],
        "invoices": [inv("x", MID_FEB, 7), inv("z", MID_FEB, 5)],
        "renewals": [{"contract_id": "k", "customer_id": "y", "due_at": date(2024, 2, 5), "value_up": 4,
                      "renewed": True, "renewed_value": 6}],
        "costs": [{"incurred_at": date(2024, 2, 5), "category": "retention", "amount": 30}],
        # z has no customers row: it is in no group, but counts without --by
        "customers": [{"customer_id": "x", "segment": "smb"}, {"customer_id": "y", "segment": None}],
    }
    keys = ["mrr:default", "arpu:invoiced", "net_renewal_rate:contracts"]
    split = eng.reference_values(P_FEB, "month", data, keys, ("segment",))
    assert split == {
        ("mrr", "default", FEB_KEY, ("smb",)): 10, ("mrr", "default", FEB_KEY, (None,)): 20,
        ("arpu", "invoiced", FEB_KEY, ("smb",)): 7, ("arpu", "invoiced", FEB_KEY, (None,)): 0,
        ("net_renewal_rate", "contracts", FEB_KEY, ("smb",)): None,
        ("net_renewal_rate", "contracts", FEB_KEY, (None,)): 1.5,
    }
    whole = eng.reference_values(P_FEB, "month", data, [*keys, "customer_retention_cost:default"])
    assert whole[("mrr", "default", FEB_KEY, ())] == 60
    assert whole[("arpu", "invoiced", FEB_KEY, ())] == 4  # 12 / 3 active
    assert whole[("customer_retention_cost", "default", FEB_KEY, ())] == 10  # 30 / 3 kept
    assert set(eng.COST_KEYS) == {"customer_acquisition_cost:default", "customer_retention_cost:default",
                                  "customer_lifetime_value:net_of_cac", "ltv_to_cac:default"}
    assert len(eng.ALL_KEYS) == 45 and len(eng.SPLIT_KEYS) == 41  # 40 + the vendors' five


def test_identity_check_and_comparison_report_what_is_wrong() -> None:
    p, q = date(2024, 2, 1), date(2024, 3, 1)

    def period(m: float, new: float, churned: float, net_new: float) -> dict[tuple[str, str, date, Any], float]:
        return {"mrr": m, "new_mrr": new, "churned_mrr": churned, "reactivation_mrr": 0, "expansion_mrr": 0,
                "contraction_mrr": 0, "net_new_mrr": net_new}

    def got(*values: dict[str, float]) -> dict[tuple[str, str, date, Any], float]:
        return {(m, "default", d, ()): v for d, vals in zip((p, q), values) for m, v in vals.items()}

    good = got(period(110, 20, 10, 10), period(100, 0, 10, -10))
    assert eng.identity_errors(good, {(): 100}, [p, q]) == []
    # March's mrr should be 110 - 10 = 100
    assert len(eng.identity_errors(got(period(110, 20, 10, 10), period(90, 0, 10, -10)), {(): 100}, [p, q])) == 1
    # net_new_mrr is not the sum of the movements
    assert len(eng.identity_errors(got(period(110, 20, 10, 0), period(100, 0, 10, -10)), {(): 100}, [p, q])) == 1
    want = dict(good)
    assert eng.mismatches(good, want) == []
    want[("arr", "default", p, ())] = 1_320
    assert eng.mismatches(good, want) == [f"('arr', 'default', {p!r}, ()): csframe has no row, reference 1320"]
    assert len(eng.mismatches({**good, ("mrr", "default", p, ()): 110 * (1 + 2e-9)}, dict(good))) == 1
    assert eng.mismatches({**good, ("mrr", "default", p, ()): 110 * (1 + 5e-10)}, dict(good)) == []
    assert len(eng.mismatches({**good, ("mrr", "default", p, ()): None}, dict(good))) == 1


def test_unconfigured_sources_leave_their_metrics_out() -> None:
    out = ref.revenue_metrics(P_FEB, "month", staying("a", 2))
    metrics = {(m, v) for m, v, _ in out}
    assert ("mrr", "default") in metrics and ("net_renewal_rate", "mrr") in metrics
    for missing in [("arpu", "invoiced"), ("expansion_rate", "upsell_invoices"), ("renewal_rate", "default"),
                    ("net_renewal_rate", "contracts"), ("customer_acquisition_cost", "default"),
                    ("customer_lifetime_value", "net_of_cac"), ("ltv_to_cac", "default"),
                    ("customer_lifetime_value", "historical_revenue_per_customer")]:
        assert missing not in metrics
    everything = ref.revenue_metrics(P_FEB, "month", staying("a", 2), invoices=[], renewals=[], costs=[])
    assert {(m, v) for m, v, _ in everything} == {
        (m, v) for m, vs in ref.REVENUE_METRICS.items() for v in vs
    }


def test_empty_period_counts_are_zero_and_ratios_null() -> None:
    out = ref.revenue_metrics(P_FEB, "month", [], invoices=[], renewals=[], costs=[])
    for (metric, variant, _), value in out.items():
        if metric in {"customers", "new_customers", "churned_customers", "reactivated_customers", "mrr", "arr",
                      "new_mrr", "expansion_mrr", "contraction_mrr", "churned_mrr", "reactivation_mrr",
                      "net_new_mrr"}:
            assert value == 0, (metric, variant)
        else:
            assert value is None, (metric, variant)


# ------------------------------------------------------------------------------------------
# Boundaries, worked by hand
# ------------------------------------------------------------------------------------------


def test_row_starting_exactly_at_p_start_is_new_in_p() -> None:
    rows = [sub("a", FEB, None, 50)]
    s = ref.sets(rows, FEB, MAR)
    assert s["S"] == set() and s["N"] == {"a"} and s["E"] == {"a"} and s["A"] == {"a"}
    assert s["B"]("a", FEB) == 0 and s["B"]("a", MAR) == 50
    assert ref.movements(rows, FEB, MAR)["new"] == 50
    # and in January it is nothing at all
    s = ref.sets(rows, JAN, FEB)
    assert all(not s[k] for k in "SENLRA")


def test_row_ending_exactly_at_p_end_is_counted_at_its_end_and_lost_next_period() -> None:
    rows = [sub("a", JAN, MAR, 50)]
    s = ref.sets(rows, FEB, MAR)
    assert s["S"] == s["E"] == {"a"} and not s["L"]
    assert ref.movements(rows, FEB, MAR)["churned"] == 0
    s = ref.sets(rows, MAR, APR)
    assert s["S"] == {"a"} and s["E"] == set() and s["L"] == {"a"}
    # A: coalesce(ended_at, +∞) ≥ p.start, so the row ending at 1 March is active in March
    assert s["A"] == {"a"}
    mv = ref.movements(rows, MAR, APR)
    assert (mv["mrr_start"], mv["churned"], mv["mrr_end"]) == (50, 50, 0)


def test_price_change_on_a_boundary_is_expansion_of_the_period_it_happens_in() -> None:
    rows = [sub("a", JAN, FEB, 50, subscription_id="x"), sub("a", FEB, None, 80, subscription_id="x")]
    assert ref.movements(rows, JAN, FEB)["expansion"] == 0  # at 1 Feb the 50 row is the one running
    mv = ref.movements(rows, FEB, MAR)
    assert (mv["mrr_start"], mv["expansion"], mv["mrr_end"]) == (50, 30, 80)


def test_reactivation_trials_zero_length_and_mrr_zero_rows() -> None:
    rows = [
        sub("a", datetime(2023, 10, 1), datetime(2023, 11, 1), 20),
        sub("a", datetime(2023, 11, 1), FEB, 0),  # paused: not paying
        sub("a", MID_FEB, None, 30),  # back: reactivated in February
        sub("t", FEB, MAR, 99, trial=True),  # a trial: ignored
        sub("t", MID_FEB, MID_FEB, 99),  # zero-length: ignored everywhere
        sub("n", MID_FEB, MID_FEB, 99),
        sub("n", datetime(2024, 2, 20), datetime(2024, 2, 25), 10),  # new and gone within p
    ]
    s = ref.sets(rows, FEB, MAR)
    assert s["R"] == {"a"} and s["N"] == {"n"} and s["E"] == {"a"} and s["A"] == {"a", "n"}
    assert s["first_paid"]("t") is None and s["first_paid"]("n") == datetime(2024, 2, 20)
    mv = ref.movements(rows, FEB, MAR)
    assert (mv["reactivation"], mv["new"]) == (30, 0)  # n is new but not in E: no new MRR
    assert feb(rows, "churn_rate", "lost_over_active") == 0  # |L| = 0 over |A| = 2


def test_time_zones_and_dates_are_compared_as_utc_instants() -> None:
    cet = timezone(timedelta(hours=1))
    rows = [sub("a", datetime(2024, 2, 1, 1, 0, tzinfo=cet), None, 5)]  # = 1 Feb 00:00 UTC
    assert ref.sets(rows, date(2024, 2, 1), date(2024, 3, 1))["N"] == {"a"}


# ------------------------------------------------------------------------------------------
# Properties over generated histories
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("grain", ["month", "quarter", "week"])
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_mrr_identity_and_partition_hold_in_every_period(grain: str, data: st.DataObject) -> None:
    rows = data.draw(strat.subscription_histories(grain))
    ledger = ref.Ledger(rows)
    for p_start, p_end in strat.periods_for(grain):
        s = ref.sets(ledger, p_start, p_end)
        S, E, N, L, R, A = (s[k] for k in "SENLRA")
        # every customer of E \ S is in exactly one of N and R
        for c in E - S:
            assert (c in N) != (c in R), (c, p_start)
        assert R <= E - S and not (N & S) and L == S - E
        # S, E and N are all inside A
        assert S <= A and E <= A and N <= A
        mv = ref.movements(ledger, p_start, p_end)
        assert all(isinstance(x, Fraction) for x in mv.values())
        # M(p.end) = M(p.start) + new + reactivation + expansion − contraction − churned, exactly
        assert mv["mrr_end"] == (
            mv["mrr_start"] + mv["new"] + mv["reactivation"] + mv["expansion"] - mv["contraction"] - mv["churned"]
        )


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), grain=st.sampled_from(["day", "year"]))
def test_mrr_identity_for_day_and_year_grains(grain: str, data: st.DataObject) -> None:
    rows = data.draw(strat.subscription_histories(grain))
    ledger = ref.Ledger(rows)
    for p_start, p_end in strat.periods_for(grain):
        mv = ref.movements(ledger, p_start, p_end)
        assert mv["mrr_end"] == (
            mv["mrr_start"] + mv["new"] + mv["reactivation"] + mv["expansion"] - mv["contraction"] - mv["churned"]
        )


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=strat.revenue_data("month"))
def test_generated_data_is_well_formed_and_every_metric_computes(data: dict[str, list[dict[str, Any]]]) -> None:
    subs = data["subscriptions"]
    by_id: dict[str, list[dict[str, Any]]] = {}
    for r in subs:
        assert r["ended_at"] is None or r["ended_at"] >= r["started_at"]
        assert r["mrr"] >= 0
        by_id.setdefault(r["subscription_id"], []).append(r)
    for rs in by_id.values():  # rows of one subscription_id never overlap
        real = sorted((r for r in rs if r["ended_at"] != r["started_at"]), key=lambda r: r["started_at"])
        for a, b in zip(real, real[1:]):
            assert a["ended_at"] is not None and a["ended_at"] <= b["started_at"]
    assert len({(r["subscription_id"], r["started_at"]) for r in subs}) == len(subs)
    assert len({i["invoice_id"] for i in data["invoices"]}) == len(data["invoices"])
    periods = strat.periods_for("month")
    out = ref.revenue_metrics(periods, "month", subs, data["invoices"], data["renewals"], data["costs"])
    assert len(out) == len(periods) * sum(len(v) for v in ref.REVENUE_METRICS.values())
    for (metric, _variant, _), value in out.items():
        if metric in {"customers", "new_customers", "churned_customers", "reactivated_customers"}:
            assert value is not None and value >= 0


def test_fifty_customers_forty_periods() -> None:
    """The reference computes a realistic-size input whole (its speed is no unit test's business:
    a timed assertion fails on a loaded machine and proves nothing about csframe)."""
    periods = ref.period_bounds("month", date(2021, 1, 1), date(2024, 5, 1))
    rows, invoices = [], []
    for c in range(50):
        t = datetime(2021, 1, 1) + timedelta(days=7 * c, hours=c)
        for k in range(6):
            end = t + timedelta(days=40 + 13 * ((c * k) % 7))
            rows.append(sub(c, t, None if k == 5 else end, Decimal(10 * ((c + k) % 5)), subscription_id=f"f{c}"))
            t = end if (c + k) % 3 else end + timedelta(days=31)
        invoices += [inv(c, datetime(2021, 1, 1) + timedelta(days=29 * k + c), 50) for k in range(40)]
    out = ref.revenue_metrics(periods, "month", rows, invoices, [], [])
    assert len(out) == 40 * sum(len(v) for v in ref.REVENUE_METRICS.values())
