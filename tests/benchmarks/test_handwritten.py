"""Checks of the hand-written benchmark baseline (handwritten.py) against numbers worked out
by hand from data-contract.md and the "Revenue and retention" section of metrics.md.

The datasets live in an in-memory DuckDB.  A row's B_c(b) counts it when
started_at < b <= coalesce(ended_at, +inf); 1st-of-month instants below are 00:00 UTC.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import pathlib
import random
from decimal import Decimal

import duckdb
import pytest

_spec = importlib.util.spec_from_file_location(
    "csframe_bench_handwritten", pathlib.Path(__file__).with_name("handwritten.py")
)
handwritten = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(handwritten)
run_handwritten = handwritten.run_handwritten

D = dt.date
T = dt.datetime
MONTH_DAYS = 30.4375

CATALOG = {
    ("customers", "default"),
    ("new_customers", "default"),
    ("churned_customers", "default"),
    ("reactivated_customers", "default"),
    ("churn_rate", "lost_over_start"),
    ("churn_rate", "net_loss"),
    ("churn_rate", "lost_over_active"),
    ("retention_rate", "end_minus_new"),
    ("retention_rate", "cohort"),
    ("mrr", "default"),
    ("arr", "default"),
    ("new_mrr", "default"),
    ("expansion_mrr", "default"),
    ("contraction_mrr", "default"),
    ("churned_mrr", "default"),
    ("reactivation_mrr", "default"),
    ("net_new_mrr", "default"),
    ("quick_ratio", "default"),
    ("arpu", "invoiced"),
    ("arpu", "mrr"),
    ("expansion_rate", "gross_mrr"),
    ("expansion_rate", "cohort_net_change"),
    ("expansion_rate", "upsell_invoices"),
    ("net_revenue_retention", "default"),
    ("gross_revenue_retention", "default"),
    ("net_mrr_churn_rate", "default"),
    ("revenue_churn_rate", "default"),
    ("renewal_rate", "default"),
    ("net_renewal_rate", "contracts"),
    ("net_renewal_rate", "mrr"),
    ("customer_acquisition_cost", "default"),
    ("customer_retention_cost", "default"),
    ("average_customer_lifespan", "inverse_churn"),
    ("average_customer_lifespan", "observed"),
    ("customer_lifetime_value", "arpa_x_lifespan"),
    ("customer_lifetime_value", "aov_x_frequency_x_lifetime"),
    ("customer_lifetime_value", "historical_revenue_per_customer"),
    ("customer_lifetime_value", "net_of_cac"),
    ("ltv_to_cac", "default"),
    ("customer_growth_rate", "default"),
}

DDL = """
CREATE TABLE subscriptions (subscription_id VARCHAR, customer_id VARCHAR, started_at TIMESTAMP,
                            ended_at TIMESTAMP, mrr DECIMAL(18,2), is_trial BOOLEAN);
CREATE TABLE invoices (invoice_id VARCHAR, customer_id VARCHAR, paid_at TIMESTAMP,
                       amount DECIMAL(18,2), kind VARCHAR);
CREATE TABLE renewals (contract_id VARCHAR, customer_id VARCHAR, due_at DATE,
                       value_up DECIMAL(18,2), renewed BOOLEAN, renewed_value DECIMAL(18,2));
CREATE TABLE costs (incurred_at TIMESTAMP, category VARCHAR, amount DECIMAL(18,2));
"""


def make_db(subscriptions=(), invoices=(), renewals=(), costs=()):
    con = duckdb.connect(":memory:")
    con.execute(DDL)
    for table, rows in (
        ("subscriptions", subscriptions),
        ("invoices", invoices),
        ("renewals", renewals),
        ("costs", costs),
    ):
        if rows:
            width = len(rows[0])
            con.executemany(f"INSERT INTO {table} VALUES ({', '.join('?' * width)})", list(rows))
    return con


def as_table(rows):
    out = {}
    for metric, variant, period_start, value in rows:
        key = (metric, variant, period_start)
        assert key not in out, f"duplicate row {key}"
        out[key] = value
    return out


def check(got, metric, variant, expected_by_month):
    for month, expected in expected_by_month.items():
        value = got[(metric, variant, month)]
        if expected is None:
            assert value is None, f"{metric}:{variant} {month}: expected NULL, got {value}"
        else:
            assert value is not None, f"{metric}:{variant} {month}: expected {expected}, got NULL"
            assert value == pytest.approx(expected, rel=1e-12, abs=1e-12), (
                f"{metric}:{variant} {month}: expected {expected}, got {value}"
            )


# --------------------------------------------------------------------------------------------
# Dataset 1: every boundary case of the paying-status rule, plus invoices, renewals and costs.
# Reported months: Jan, Feb, Mar, Apr 2024.
# --------------------------------------------------------------------------------------------

SUBS_1 = [
    # A: starts exactly on 1 Jan 00:00 -> first counts at 1 Feb, new in January.
    #    Price change 100 -> 150 at exactly 1 Mar 00:00: a1 still counts at 1 Mar (ended_at = b),
    #    a2 first counts at 1 Apr, so the +50 is March's expansion.
    ("a1", "A", T(2024, 1, 1), T(2024, 3, 1), Decimal("100.00"), False),
    ("a2", "A", T(2024, 3, 1), None, Decimal("150.00"), False),
    # B: ends exactly on 1 Feb 00:00 -> paying at 1 Feb (end of January), lost in February.
    ("b1", "B", T(2023, 6, 15), T(2024, 2, 1), Decimal("200.00"), False),
    # C: stops mid-January (lost in January), comes back 15 March (reactivated in March).
    ("c1", "C", T(2023, 11, 10), T(2024, 1, 20, 12), Decimal("80.00"), False),
    ("c2", "C", T(2024, 3, 15), None, Decimal("90.00"), False),
    # D: a trial with a price (ignored), then a paid stint inside February only:
    #    new in February (first_paid 5 Feb) but never paying at a boundary.
    ("d0", "D", T(2024, 1, 5), T(2024, 2, 5), Decimal("30.00"), True),
    ("d1", "D", T(2024, 2, 5), T(2024, 2, 25), Decimal("50.00"), False),
    # F: paying since 1 Dec 2023 00:00 (first counts at 1 Jan); price cut 300 -> 120 on 10 April.
    ("f1", "F", T(2023, 12, 1), T(2024, 4, 10, 8), Decimal("300.00"), False),
    ("f1", "F", T(2024, 4, 10, 8), None, Decimal("120.00"), False),
    # G: two subscriptions at once; g2 adds 60 from 14 Feb and ends exactly on 1 Apr.
    #    g1's is_trial is NULL, which means false.
    ("g1", "G", T(2023, 10, 1), None, Decimal("40.00"), None),
    ("g2", "G", T(2024, 2, 14), T(2024, 4, 1), Decimal("60.00"), False),
    # Z: a zero-length row, ignored everywhere (not new, not active).
    ("z1", "Z", T(2024, 2, 10), T(2024, 2, 10), Decimal("500.00"), False),
    # H: a free (mrr 0) non-trial plan: never paying, never new, never active.
    ("h1", "H", T(2024, 1, 10), None, Decimal("0.00"), False),
]

# B_c(b) at each boundary (Jan 1 / Feb 1 / Mar 1 / Apr 1 / May 1):
#   A:   0 / 100 / 100 / 150 / 150
#   B: 200 / 200 /   0 /   0 /   0
#   C:  80 /   0 /   0 /  90 /  90
#   D:   0 /   0 /   0 /   0 /   0
#   F: 300 / 300 / 300 / 300 / 120
#   G:  40 /  40 / 100 / 100 /  40
#   M: 620 / 640 / 500 / 640 / 400        paying: {BCFG} / {ABFG} / {AFG} / {ACFG} / {ACFG}
#
# Jan: S={B,C,F,G} E={A,B,F,G} N={A} L={C} R={} A=S+{A}=5
#      new 100, churned 80 (C), expansion/contraction 0.    620 + 100 - 80 = 640
# Feb: S={A,B,F,G} E={A,F,G} N={D} L={B} R={} A=S+{D}=5 (Z ignored; G's g2 start: G already in S)
#      new 0 (D not in E), expansion 60 (G), churned 200 (B).  640 + 60 - 200 = 500
# Mar: S={A,F,G} E={A,C,F,G} N={} L={} R={C} A=S+{C}=4
#      reactivation 90 (C), expansion 50 (A).  500 + 90 + 50 = 640
# Apr: S=E={A,C,F,G} N=L=R={} A=4
#      contraction 180 (F) + 60 (G) = 240.  640 - 240 = 400

INVOICES_1 = [
    ("i0", "C", T(2023, 12, 31, 23, 59, 59), Decimal("80.00"), "subscription"),  # December (p-1 of Jan)
    ("i1", "A", T(2024, 1, 1), Decimal("100.00"), None),                        # Jan, NULL kind
    ("i5", "B", T(2024, 1, 15), Decimal("200.00"), "one_time"),                  # Jan
    ("i2", "A", T(2024, 2, 1), Decimal("100.00"), None),                        # Feb (1 Feb 00:00)
    ("i3", "A", T(2024, 2, 20), Decimal("40.00"), "upsell"),                    # Feb
    ("i4", "G", T(2024, 2, 14), Decimal("60.00"), "cross_sell"),                # Feb
    ("i6", "C", T(2024, 3, 15), Decimal("90.00"), "subscription"),              # Mar
]
# Paid per month: Dec 80, Jan 300, Feb 200, Mar 90, Apr 0; upsell+cross_sell: Feb 100.
# Before p.end (cumulative):
#   Jan: 380 over 3 invoices, 3 customers (A, B, C), every customer one invoice -> span 0
#   Feb: 580 over 6 invoices, 4 customers; spans A 50 days (1 Jan -> 20 Feb), others 0
#   Mar, Apr: 670 over 7 invoices, 4 customers; spans A 50, C 74 days + 1 s
#             (31 Dec 23:59:59 -> 15 Mar 00:00), B 0, G 0

RENEWALS_1 = [
    ("r4", "B", D(2023, 12, 31), Decimal("999.00"), True, Decimal("999.00")),  # outside
    ("r1", "A", D(2024, 1, 31), Decimal("1000.00"), True, Decimal("1200.00")),
    ("r2", "B", D(2024, 1, 1), Decimal("500.00"), False, Decimal("0.00")),
    ("r3", "G", D(2024, 2, 1), Decimal("300.00"), True, Decimal("300.00")),
]

COSTS_1 = [
    (T(2023, 12, 15), "acquisition", Decimal("999.00")),  # outside
    (T(2024, 1, 10), "acquisition", Decimal("500.00")),
    (T(2024, 1, 20), "retention", Decimal("90.00")),
    (T(2024, 2, 3), "acquisition", Decimal("300.00")),
    (T(2024, 3, 31, 23, 59, 59), "retention", Decimal("60.00")),
    (T(2024, 4, 1), "acquisition", Decimal("1000.00")),  # April, no new customer -> CAC NULL
]

JAN, FEB, MAR, APR = D(2024, 1, 1), D(2024, 2, 1), D(2024, 3, 1), D(2024, 4, 1)


def months(jan, feb, mar, apr):
    return {JAN: jan, FEB: feb, MAR: mar, APR: apr}


# Observed lifespans (days), customers paid before p.end and not paying at p.end:
#   as of 1 Feb: C 71.5 (10 Nov 00:00 -> 20 Jan 12:00)
#   as of 1 Mar: B 231 (15 Jun -> 1 Feb), C 71.5, D 20 (5 Feb -> 25 Feb)
#   as of 1 Apr / 1 May: B 231, D 20 (C pays again; its next row does not count before Apr 1's
#   population since C is paying at 1 Apr)
OBSERVED_1 = months(
    71.5 / MONTH_DAYS,
    (231 + 71.5 + 20) / 3 / MONTH_DAYS,
    (231 + 20) / 2 / MONTH_DAYS,
    (231 + 20) / 2 / MONTH_DAYS,
)

C_SPAN = 74 + 1 / 86400

EXPECTED_1 = {
    ("customers", "default"): months(4, 3, 4, 4),
    ("new_customers", "default"): months(1, 1, 0, 0),
    ("churned_customers", "default"): months(1, 1, 0, 0),
    ("reactivated_customers", "default"): months(0, 0, 1, 0),
    ("churn_rate", "lost_over_start"): months(1 / 4, 1 / 4, 0, 0),
    ("churn_rate", "net_loss"): months(0, 1 / 4, -1 / 3, 0),
    ("churn_rate", "lost_over_active"): months(1 / 5, 1 / 5, 0, 0),
    ("retention_rate", "end_minus_new"): months(3 / 4, 2 / 4, 4 / 3, 1),
    ("retention_rate", "cohort"): months(3 / 4, 3 / 4, 1, 1),
    ("mrr", "default"): months(640, 500, 640, 400),
    ("arr", "default"): months(7680, 6000, 7680, 4800),
    ("new_mrr", "default"): months(100, 0, 0, 0),
    ("expansion_mrr", "default"): months(0, 60, 50, 0),
    ("contraction_mrr", "default"): months(0, 0, 0, 240),
    ("churned_mrr", "default"): months(80, 200, 0, 0),
    ("reactivation_mrr", "default"): months(0, 0, 90, 0),
    ("net_new_mrr", "default"): months(20, -140, 140, -240),
    # (new + reactivation + expansion) / (contraction + churned); March has 0 / 0.
    ("quick_ratio", "default"): months(100 / 80, 60 / 200, None, 0),
    # invoices paid in p / |A|
    ("arpu", "invoiced"): months(300 / 5, 200 / 5, 90 / 4, 0),
    ("arpu", "mrr"): months(160, 500 / 3, 160, 100),
    ("expansion_rate", "gross_mrr"): months(0, 60 / 640, 50 / 500, 0),
    # (sum over S of B_c(end) - M(start)) / M(start): Jan S ends at 540; Feb 500; Mar 550; Apr 400
    ("expansion_rate", "cohort_net_change"): months(-80 / 620, -140 / 640, 50 / 500, -240 / 640),
    # upsell+cross_sell paid in p / everything paid in p-1 (December read before the range)
    ("expansion_rate", "upsell_invoices"): months(0 / 80, 100 / 300, 0 / 200, 0 / 90),
    ("net_revenue_retention", "default"): months(540 / 620, 500 / 640, 550 / 500, 400 / 640),
    ("gross_revenue_retention", "default"): months(540 / 620, 440 / 640, 1, 400 / 640),
    ("net_mrr_churn_rate", "default"): months(80 / 620, 140 / 640, -50 / 500, 240 / 640),
    ("revenue_churn_rate", "default"): months(80 / 620, 200 / 640, 0, 240 / 640),
    ("renewal_rate", "default"): months(1 / 2, 1, None, None),
    ("net_renewal_rate", "contracts"): months(1200 / 1500, 1, None, None),
    ("net_renewal_rate", "mrr"): months(540 / 620, 500 / 640, 550 / 500, 400 / 640),
    ("customer_acquisition_cost", "default"): months(500, 300, None, None),
    # retention costs / |S and E|
    ("customer_retention_cost", "default"): months(90 / 3, 0, 60 / 3, 0),
    ("average_customer_lifespan", "inverse_churn"): months(4, 4, None, None),
    ("average_customer_lifespan", "observed"): OBSERVED_1,
    ("customer_lifetime_value", "arpa_x_lifespan"): months(640, 2000 / 3, None, None),
    # AOV x frequency x lifetime(years) = (sum / n) * (n / customers) * (mean span days / 365)
    ("customer_lifetime_value", "aov_x_frequency_x_lifetime"): months(
        0,
        (580 / 6) * (6 / 4) * (50 / 4 / 365),
        (670 / 7) * (7 / 4) * ((50 + C_SPAN) / 4 / 365),
        (670 / 7) * (7 / 4) * ((50 + C_SPAN) / 4 / 365),
    ),
    ("customer_lifetime_value", "historical_revenue_per_customer"): months(
        380 / 3, 580 / 4, 670 / 4, 670 / 4
    ),
    ("customer_lifetime_value", "net_of_cac"): months(640 - 500, 2000 / 3 - 300, None, None),
    ("ltv_to_cac", "default"): months(640 / 500, (2000 / 3) / 300, None, None),
    ("customer_growth_rate", "default"): months(0, -1 / 4, 1 / 3, 0),
}


@pytest.fixture(scope="module")
def dataset_1():
    con = make_db(SUBS_1, INVOICES_1, RENEWALS_1, COSTS_1)
    yield as_table(run_handwritten(con, JAN, D(2024, 5, 1)))
    con.close()


def test_covers_the_whole_catalog_and_only_the_range(dataset_1):
    assert {(m, v) for m, v, _ in dataset_1} == CATALOG
    assert {p for _, _, p in dataset_1} == {JAN, FEB, MAR, APR}
    assert len(dataset_1) == len(CATALOG) * 4
    assert set(EXPECTED_1) == CATALOG


@pytest.mark.parametrize("metric,variant", sorted(EXPECTED_1))
def test_dataset_1(dataset_1, metric, variant):
    check(dataset_1, metric, variant, EXPECTED_1[(metric, variant)])


def test_value_types(dataset_1):
    for (metric, variant, period_start), value in dataset_1.items():
        assert type(period_start) is dt.date
        assert value is None or type(value) is float


def test_mrr_identity_is_exact():
    # M(p.end) = M(p.start) + new + reactivation + expansion - contraction - churned, with
    # cents that would drift in binary floating point (0.1 + 0.2 ...).
    subs = [
        ("x1", "X", T(2024, 1, 1), T(2024, 2, 1), Decimal("0.10"), False),
        ("x2", "X", T(2024, 2, 1), T(2024, 3, 1), Decimal("0.30"), False),
        ("x3", "X", T(2024, 3, 1), None, Decimal("0.20"), False),
        ("y1", "Y", T(2023, 12, 31, 23, 59, 59), T(2024, 3, 1), Decimal("0.20"), False),
        ("y2", "Y", T(2024, 2, 1), T(2024, 3, 1), Decimal("0.10"), False),
        ("w1", "W", T(2024, 1, 31), T(2024, 2, 1), Decimal("0.70"), False),
    ]
    con = make_db(subs)
    got = as_table(run_handwritten(con, JAN, D(2024, 5, 1)))
    # B at Jan 1 / Feb 1 / Mar 1 / Apr 1 / May 1:
    #   X: 0 / 0.1 / 0.3 / 0.2 / 0.2        Y: 0.2 / 0.2 / 0.3 / 0 / 0      W: 0 / 0.7 / 0 / 0 / 0
    #   M: 0.2 / 1.0 / 0.6 / 0.2 / 0.2
    # Jan: new 0.1 (X) + 0.7 (W); Feb: X +0.2 exp, Y +0.1 exp, W churned 0.7;
    # Mar: X -0.1 contraction, Y churned 0.3; Apr: nothing.
    check(got, "mrr", "default", months(1.0, 0.6, 0.2, 0.2))
    check(got, "new_mrr", "default", months(0.8, 0, 0, 0))
    check(got, "expansion_mrr", "default", months(0, 0.3, 0, 0))
    check(got, "contraction_mrr", "default", months(0, 0, 0.1, 0))
    check(got, "churned_mrr", "default", months(0, 0.7, 0.3, 0))
    check(got, "net_new_mrr", "default", months(0.8, -0.4, -0.4, 0))
    m_prev = 0.2
    for month in (JAN, FEB, MAR, APR):
        m = got[("mrr", "default", month)]
        assert Decimal(repr(m_prev)) + Decimal(repr(got[("net_new_mrr", "default", month)])) == Decimal(repr(m))
        m_prev = m
    # April: the balance is back to where it was, so nothing is computed from a 1e-17 residue.
    assert got[("revenue_churn_rate", "default", APR)] == 0.0
    assert got[("quick_ratio", "default", APR)] is None


def test_empty_sources():
    con = make_db()
    got = as_table(run_handwritten(con, D(2024, 1, 1), D(2024, 3, 1)))
    assert len(got) == len(CATALOG) * 2
    counts_and_sums = {
        "customers", "new_customers", "churned_customers", "reactivated_customers", "mrr", "arr",
        "new_mrr", "expansion_mrr", "contraction_mrr", "churned_mrr", "reactivation_mrr",
        "net_new_mrr",
    }
    for (metric, variant, _), value in got.items():
        if metric in counts_and_sums:
            assert value == 0.0, (metric, variant)
        else:
            assert value is None, (metric, variant)


def test_history_before_start_and_range_after_the_data():
    # One customer, paying 10 from 15 Mar 2022 to 15 Jun 2022.  Reporting Jun-Aug 2022 only:
    # June's S comes from before the range; July onwards there is nothing left.
    subs = [("s", "K", T(2022, 3, 15), T(2022, 6, 15), Decimal("10.00"), False)]
    con = make_db(subs)
    got = as_table(run_handwritten(con, D(2022, 6, 1), D(2022, 9, 1)))
    jun, jul, aug = D(2022, 6, 1), D(2022, 7, 1), D(2022, 8, 1)
    assert got[("customers", "default", jun)] == 0
    assert got[("churned_customers", "default", jun)] == 1
    assert got[("churned_mrr", "default", jun)] == 10
    assert got[("churn_rate", "lost_over_start", jun)] == 1
    assert got[("churn_rate", "lost_over_active", jun)] == 1
    assert got[("average_customer_lifespan", "inverse_churn", jun)] == 1
    assert got[("arpu", "mrr", jun)] is None  # no customer at the end
    # 15 Mar -> 15 Jun = 92 days
    assert got[("average_customer_lifespan", "observed", jun)] == pytest.approx(92 / MONTH_DAYS)
    assert got[("average_customer_lifespan", "observed", aug)] == pytest.approx(92 / MONTH_DAYS)
    for month in (jul, aug):
        assert got[("customers", "default", month)] == 0
        assert got[("churn_rate", "lost_over_start", month)] is None
        assert got[("churn_rate", "lost_over_active", month)] is None
        assert got[("net_revenue_retention", "default", month)] is None


# --------------------------------------------------------------------------------------------
# Cross-check against a direct, row-by-row reading of data-contract.md on random data whose
# timestamps sit on and around month boundaries.
# --------------------------------------------------------------------------------------------

def _boundary(k):
    return T(k // 12, k % 12 + 1, 1)


def _oracle(subs, ks, ke):
    rows = [
        (c, s, e, m)
        for (_, c, s, e, m, trial) in subs
        if not trial and e != s
    ]
    customers = sorted({r[0] for r in rows})

    def bal(c, b):
        return sum((m for cc, s, e, m in rows if cc == c and s < b and (e is None or b <= e)), Decimal(0))

    first_paid = {}
    for c, s, e, m in rows:
        if m > 0 and (c not in first_paid or s < first_paid[c]):
            first_paid[c] = s

    out = {}
    for k in range(ks, ke):
        p0, p1 = _boundary(k), _boundary(k + 1)
        b0 = {c: bal(c, p0) for c in customers}
        b1 = {c: bal(c, p1) for c in customers}
        S = {c for c in customers if b0[c] > 0}
        E = {c for c in customers if b1[c] > 0}
        N = {c for c, f in first_paid.items() if p0 <= f < p1}
        L = S - E
        R = {c for c in E - S if first_paid[c] < p0}
        A = {c for c, s, e, m in rows if m > 0 and s < p1 and (e is None or e >= p0)}
        assert E - S == (N & E) | R
        delta = {c: b1[c] - b0[c] for c in S & E}
        gone = [
            c for c, f in first_paid.items() if f < p1 and c not in E
        ]
        spans = [
            (max(e for cc, s, e, m in rows if cc == c and m > 0 and s < p1) - first_paid[c]).total_seconds()
            for c in gone
        ]
        month = p0.date()
        out[("customers", month)] = len(E)
        out[("new_customers", month)] = len(N)
        out[("churned_customers", month)] = len(L)
        out[("reactivated_customers", month)] = len(R)
        out[("active", month)] = len(A)
        out[("mrr", month)] = sum(b1.values(), Decimal(0))
        out[("new_mrr", month)] = sum((b1[c] for c in N & E), Decimal(0))
        out[("reactivation_mrr", month)] = sum((b1[c] for c in R), Decimal(0))
        out[("expansion_mrr", month)] = sum((d for d in delta.values() if d > 0), Decimal(0))
        out[("contraction_mrr", month)] = sum((-d for d in delta.values() if d < 0), Decimal(0))
        out[("churned_mrr", month)] = sum((b0[c] for c in L), Decimal(0))
        out[("observed", month)] = (
            sum(spans) / len(spans) / 86400 / MONTH_DAYS if spans else None
        )
        assert out[("mrr", month)] == sum(b0.values(), Decimal(0)) + out[("new_mrr", month)] + out[
            ("reactivation_mrr", month)
        ] + out[("expansion_mrr", month)] - out[("contraction_mrr", month)] - out[("churned_mrr", month)]
    return out


def _random_subs(rng, n_customers):
    # instants on, just before and just after month boundaries, and mid-month
    def instant():
        k = rng.randrange(2023 * 12 + 9, 2024 * 12 + 6)
        b = _boundary(k)
        return rng.choice(
            [b, b, b + dt.timedelta(seconds=1), b - dt.timedelta(seconds=1), b + dt.timedelta(days=14, hours=7)]
        )

    subs = []
    for i in range(n_customers):
        c = f"c{i}"
        t = instant()
        for j in range(rng.randrange(1, 5)):
            length = rng.choice([0, 1, 31, 29, 60, 90, None, 5])  # days; 0 = zero-length
            if length is None:
                end = None
            elif length == 0:
                end = t
            else:
                end = t + dt.timedelta(days=length) if rng.random() < 0.5 else _boundary(
                    t.year * 12 + t.month - 1 + max(1, length // 30)
                )
            mrr = Decimal(rng.choice([0, 10, 25, 40, 99])) + Decimal(rng.choice(["0.00", "0.10", "0.35"]))
            trial = rng.random() < 0.15
            subs.append((f"{c}-{j}", c, t, end, mrr, trial))
            if end is None:
                break
            # continue straight on (price change), or after a gap
            t = end if rng.random() < 0.6 else end + dt.timedelta(days=rng.choice([1, 20, 45]))
    return subs


@pytest.mark.parametrize("seed", range(8))
def test_against_row_by_row_oracle(seed):
    rng = random.Random(seed)
    subs = _random_subs(rng, 40)
    con = make_db(subs)
    start, end = D(2023, 10, 1), D(2024, 8, 1)
    got = as_table(run_handwritten(con, start, end))
    ks, ke = 2023 * 12 + 9, 2024 * 12 + 7
    want = _oracle(subs, ks, ke)
    for k in range(ks, ke):
        month = _boundary(k).date()
        for metric in (
            "customers", "new_customers", "churned_customers", "reactivated_customers", "mrr",
            "new_mrr", "reactivation_mrr", "expansion_mrr", "contraction_mrr", "churned_mrr",
        ):
            assert got[(metric, "default", month)] == float(want[(metric, month)]), (metric, month)
        lost = want[("churned_customers", month)]
        active = want[("active", month)]
        expected_loa = lost / active if active else None
        check(got, "churn_rate", "lost_over_active", {month: expected_loa})
        check(got, "average_customer_lifespan", "observed", {month: want[("observed", month)]})


# --------------------------------------------------------------------------------------------
# The hand-written subset queries (handwritten_subsets.py): the same numbers as the whole-catalog
# query above (itself checked against the oracle), for exactly their keys and months.
# --------------------------------------------------------------------------------------------

_sspec = importlib.util.spec_from_file_location(
    "csframe_bench_handwritten_subsets", pathlib.Path(__file__).with_name("handwritten_subsets.py")
)
handwritten_subsets = importlib.util.module_from_spec(_sspec)
_sspec.loader.exec_module(handwritten_subsets)


@pytest.mark.parametrize("subset", sorted(handwritten_subsets.SUBSETS))
@pytest.mark.parametrize("seed", range(4))
def test_subset_queries_equal_the_whole_catalog_query(subset, seed):
    rng = random.Random(100 + seed)
    subs = _random_subs(rng, 40)
    con = make_db(subs)
    start, end = D(2023, 10, 1), D(2024, 8, 1)
    whole = as_table(run_handwritten(con, start, end))
    got = as_table(handwritten_subsets.run_subset(con, subset, start, end))
    keys = handwritten_subsets.SUBSETS[subset]
    months_ = sorted({k[2] for k in whole})
    assert set(got) == {(m, v, p) for m, v in keys for p in months_}
    for key, value in got.items():
        want = whole[key]
        if want is None:
            assert value is None, key
        else:
            assert value == pytest.approx(want, rel=1e-12), key
    ks, ke = 2023 * 12 + 9, 2024 * 12 + 7
    oracle = _oracle(subs, ks, ke)
    for k in range(ks, ke):  # and straight against the oracle where it has the number
        month = _boundary(k).date()
        for metric, variant in keys:
            if (metric, month) in oracle and variant == "default":
                assert got[(metric, variant, month)] == float(oracle[(metric, month)]), (metric, month)
