"""Every metric and variant of "Revenue and retention" (metrics.md) on small fixtures whose
values are worked out by hand below, computed through the whole pipeline on DuckDB.

The main fixture (``RICH``) holds a dozen customers around February and March 2024 (month
grain), with every boundary rule of data-contract.md "Paying status" in it:

* c starts exactly 2024-02-01 00:00 — new in February, not paying at its start;
* b ends exactly 2024-03-01 00:00 — counted at the end of February, lost in March;
* a changes price exactly at 2024-03-01 00:00 (100 → 120): B_a(Mar 1) is 100, never 220;
* l starts exactly 2024-03-01 00:00 — new in March, not paying at the end of February;
* g restarts exactly on Monday 2024-02-05 00:00 — reactivated in that ISO week;
* a trial row (h; c's January trial), a zero-length row (i) and an mrr-0 row (k) count nowhere;
* invoices, renewals and costs on the first instant and the last second of a period.

``ZERO`` is a fixture where January 2024 is empty: every count and sum is 0 and every ratio
is None, whatever its numerator. There are ``--by segment`` cases (a NULL segment is a group
of its own, and a segment without any rows gets 0 for counts and None for ratios) and quarter
and week grains for a few metrics. A last test checks that the pairs covered here are exactly
the pairs registered by ``csframe.definitions.revenue.METRICS``.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import duckdb
import pytest

from csframe.core.errors import UsageError
from csframe.core.session import Session
from csframe.definitions.revenue import METRICS
from tests.support.projects import make_project

T = dt.datetime
D = dt.date
M = 30.4375  # days per month (data-contract.md: months = days / 30.4375)

# --------------------------------------------------------------------------------------------
# Writing fixtures
# --------------------------------------------------------------------------------------------

SCHEMAS = {
    "customers": {"customer_id": "VARCHAR", "created_at": "TIMESTAMP"},
    "subscriptions": {"subscription_id": "VARCHAR", "customer_id": "VARCHAR", "started_at": "TIMESTAMP",
                      "ended_at": "TIMESTAMP", "mrr": "DECIMAL(18,4)", "is_trial": "BOOLEAN"},
    "invoices": {"invoice_id": "VARCHAR", "customer_id": "VARCHAR", "paid_at": "TIMESTAMP", "amount": "DECIMAL(18,4)",
                 "kind": "VARCHAR"},
    "renewals": {"contract_id": "VARCHAR", "customer_id": "VARCHAR", "due_at": "DATE", "value_up": "DECIMAL(18,4)",
                 "renewed": "BOOLEAN", "renewed_value": "DECIMAL(18,4)"},
    "costs": {"incurred_at": "DATE", "category": "VARCHAR", "amount": "DECIMAL(18,4)"},
}


def _sql_literal(v: Any) -> str:
    if v is None:
        return "NULL"
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, dt.datetime):
        return f"TIMESTAMP '{v.isoformat(sep=' ')}'"
    if isinstance(v, dt.date):
        return f"DATE '{v.isoformat()}'"
    if isinstance(v, (int, Decimal)):
        return str(v)
    return "'" + str(v).replace("'", "''") + "'"


def open_session(directory, tables: dict[str, list[dict]], toml_extra: str = "") -> Session:
    """A project in ``directory`` holding ``tables`` with explicit column types."""
    path = make_project(directory, {}, toml_extra=toml_extra, sources=list(tables))
    con = duckdb.connect(str(path / "data.duckdb"))
    try:
        for name, rows in tables.items():
            types = dict(SCHEMAS[name])
            for r in rows:
                types.update({c: "VARCHAR" for c in r if c not in types})
            con.execute(f'CREATE TABLE "{name}" (' + ", ".join(f'"{c}" {t}' for c, t in types.items()) + ")")
            if rows:
                values = ", ".join("(" + ", ".join(_sql_literal(r.get(c)) for c in types) + ")" for r in rows)
                con.execute(f'INSERT INTO "{name}" VALUES {values}')
    finally:
        con.close()
    return Session.open(path)


def sub(sid: str, customer: str, start: T, end: T | None, mrr: Any, trial: bool | None = False) -> dict:
    return {"subscription_id": sid, "customer_id": customer, "started_at": start, "ended_at": end,
            "mrr": Decimal(str(mrr)), "is_trial": trial}


def inv(iid: str, customer: str, paid_at: T, amount: Any, kind: str | None) -> dict:
    return {"invoice_id": iid, "customer_id": customer, "paid_at": paid_at, "amount": Decimal(str(amount)),
            "kind": kind}


def ren(cid: str, customer: str, due: D, up: Any, renewed: bool, value: Any) -> dict:
    return {"contract_id": cid, "customer_id": customer, "due_at": due, "value_up": Decimal(str(up)),
            "renewed": renewed, "renewed_value": Decimal(str(value))}


def cost(day: D, category: str, amount: Any) -> dict:
    return {"incurred_at": day, "category": category, "amount": Decimal(str(amount))}


def check(value: float | None, expected: float | None) -> None:
    if expected is None:
        assert value is None
    else:
        # relative 1e-9, and no absolute slack unless 0 is expected
        assert value is not None and value == pytest.approx(expected, rel=1e-9, abs=0 if expected else 1e-12)


# --------------------------------------------------------------------------------------------
# The main fixture
# --------------------------------------------------------------------------------------------

RICH = {
    "subscriptions": [
        # a: pays 100 since December, price change exactly at 2024-03-01 00:00 to 120
        sub("a1", "a", T(2023, 12, 1), T(2024, 3, 1), 100), sub("a1", "a", T(2024, 3, 1), None, 120),
        # b: pays 200 from 10 January until exactly 2024-03-01 00:00
        sub("b1", "b", T(2024, 1, 10), T(2024, 3, 1), 200),
        # c: a January trial (ignored), then pays 50 from exactly 2024-02-01 00:00
        sub("c0", "c", T(2024, 1, 15), T(2024, 2, 1), 10, trial=True), sub("c1", "c", T(2024, 2, 1), None, 50),
        # d: expands 100 → 150 on 15 February
        sub("d1", "d", T(2023, 11, 1), T(2024, 2, 15), 100), sub("d1", "d", T(2024, 2, 15), None, 150),
        # e: contracts 300 → 240 on 20 February
        sub("e1", "e", T(2023, 11, 1), T(2024, 2, 20), 300), sub("e1", "e", T(2024, 2, 20), None, 240),
        # f: pays 80 from exactly 2023-10-01 00:00, churns on 10 February
        sub("f1", "f", T(2023, 10, 1), T(2024, 2, 10), 80),
        # g: paid 60 in summer 2023, comes back at 70 exactly on Monday 2024-02-05 00:00
        sub("g1", "g", T(2023, 6, 1), T(2023, 9, 1), 60), sub("g2", "g", T(2024, 2, 5), None, 70),
        # h: only a trial (with an mrr): never a customer
        sub("h1", "h", T(2024, 2, 1), None, 999, trial=True),
        # i: only a zero-length row: ignored everywhere
        sub("i1", "i", T(2024, 2, 10, 12), T(2024, 2, 10, 12), 500),
        # j: new on 3 February and gone on 25 February
        sub("j1", "j", T(2024, 2, 3), T(2024, 2, 25), 40),
        # k: only an mrr-0 row: never paying, never active
        sub("k1", "k", T(2024, 1, 1), None, 0),
        # l: pays 90 from exactly 2024-03-01 00:00 (is_trial NULL counts as false)
        sub("l1", "l", T(2024, 3, 1), None, 90, trial=None),
        # n: paid 25 in spring 2023, comes back at 30 at noon on 29 February
        sub("n1", "n", T(2023, 3, 1), T(2023, 5, 1), 25), sub("n2", "n", T(2024, 2, 29, 12), None, 30),
    ],
    "invoices": [
        inv("i1", "a", T(2024, 1, 15), 100, "subscription"),
        inv("i2", "a", T(2024, 2, 15), 100, "subscription"),
        inv("i3", "b", T(2024, 2, 1), 200, "subscription"),  # the first instant of February
        inv("i4", "d", T(2024, 2, 29, 23, 59, 59), 150, "upsell"),  # the last second of February
        inv("i5", "e", T(2024, 3, 1), 240, None),  # the first instant of March; NULL kind = subscription
        inv("i6", "c", T(2024, 2, 10), 50, None),
        inv("i7", "g", T(2024, 2, 5), 30, "cross_sell"),
        inv("i8", "e", T(2023, 12, 20), 300, "one_time"),
        inv("i9", "l", T(2024, 3, 20), 90, "upsell"),
    ],
    "renewals": [
        ren("k1", "a", D(2024, 2, 1), 1000, True, 1100),
        ren("k2", "b", D(2024, 2, 29), 500, False, 0),
        ren("k3", "c", D(2024, 3, 1), 700, True, 700),
        ren("k4", "d", D(2024, 3, 15), 300, True, 150),
        ren("k5", "e", D(2024, 1, 31), 100, True, 100),  # January: in neither period
    ],
    "costs": [
        cost(D(2024, 2, 1), "acquisition", 300),
        cost(D(2024, 2, 29), "acquisition", 100),
        cost(D(2024, 2, 10), "retention", 200),
        cost(D(2024, 3, 1), "acquisition", 500),
        cost(D(2024, 3, 31), "retention", 120),
        cost(D(2024, 1, 31), "retention", 999),  # January
        cost(D(2024, 4, 1), "acquisition", 777),  # April
    ],
}

# The sets, worked out customer by customer (B_c(b) counts rows with started_at < b <= ended_at):
#
# February [02-01, 03-01)
#   B(02-01): a 100, b 200, d 100, e 300, f 80             S = {a,b,d,e,f}        |S| = 5, M = 780
#   B(03-01): a 100 (a's 120 starts at 03-01, not before), b 200 (ends at 03-01), c 50, d 150,
#             e 240, g 70, n 30                            E = {a,b,c,d,e,g,n}    |E| = 7, M = 840
#   N = {c (02-01 00:00), j}   L = {f}   R = {g, n}   A = S ∪ {c, g, j, n}  |A| = 9 (l starts 03-01)
#   new 50 (c; j is gone), reactivation 70 + 30 = 100, expansion 50 (d), contraction 60 (e),
#   churned 80 (f): 780 + 50 + 100 + 50 − 60 − 80 = 840
# March [03-01, 04-01)
#   S = E of February: |S| = 7, M = 840
#   B(04-01): a 120, c 50, d 150, e 240, g 70, n 30, l 90  E = {a,c,d,e,g,n,l}    |E| = 7, M = 750
#   N = {l (03-01 00:00)}   L = {b}   R = {}   A = S ∪ {l}  |A| = 8
#   new 90, reactivation 0, expansion 20 (a), contraction 0, churned 200 (b):
#   840 + 90 + 0 + 20 − 0 − 200 = 750
# Observed lifespans (first paid start → last paid end), of customers not paying at p.end:
#   f 2023-10-01 → 2024-02-10 = 31 + 30 + 31 + 31 + 9 = 132 days; j 02-03 → 02-25 = 22 days;
#   b (from March on) 2024-01-10 → 2024-03-01 = 22 + 29 = 51 days
# Invoices: February 100 + 200 + 150 + 50 + 30 = 530 (upsell/cross-sell 150 + 30 = 180);
#   January 100; March 240 + 90 = 330 (upsell 90).  Paid before 03-01: 930 from 7 invoices of
#   6 customers (a, b, c, d, e, g), a's span 01-15 → 02-15 = 31 days, the others 0; before
#   04-01: 1,260 from 9 invoices of 7 customers, e's span 2023-12-20 → 2024-03-01 = 72 days.
# Costs: February acquisition 300 + 100 = 400, retention 200; March acquisition 500, retention 120.
# Renewals: February k1 (renewed, 1000 → 1100), k2 (not, 500); March k3 (700 → 700), k4 (300 → 150).

FEB, MAR = D(2024, 2, 1), D(2024, 3, 1)

# (metric, variant): (February, March)
EXPECTED: dict[tuple[str, str], tuple[float | None, float | None]] = {
    ("customers", "default"): (7, 7),
    ("new_customers", "default"): (2, 1),
    ("churned_customers", "default"): (1, 1),
    ("reactivated_customers", "default"): (2, 0),
    ("churn_rate", "lost_over_start"): (1 / 5, 1 / 7),
    ("churn_rate", "net_loss"): ((5 - 7) / 5, (7 - 7) / 7),
    ("churn_rate", "lost_over_active"): (1 / 9, 1 / 8),
    ("retention_rate", "end_minus_new"): ((7 - 2) / 5, (7 - 1) / 7),
    ("retention_rate", "cohort"): (4 / 5, 6 / 7),  # S ∩ E: {a,b,d,e}; {a,c,d,e,g,n}
    ("mrr", "default"): (840, 750),
    ("arr", "default"): (12 * 840, 12 * 750),
    ("new_mrr", "default"): (50, 90),
    ("expansion_mrr", "default"): (50, 20),
    ("contraction_mrr", "default"): (60, 0),
    ("churned_mrr", "default"): (80, 200),
    ("reactivation_mrr", "default"): (100, 0),
    ("net_new_mrr", "default"): (50 + 100 + 50 - 60 - 80, 90 + 0 + 20 - 0 - 200),
    ("quick_ratio", "default"): ((50 + 100 + 50) / (60 + 80), (90 + 0 + 20) / (0 + 200)),
    ("arpu", "invoiced"): (530 / 9, 330 / 8),
    ("arpu", "mrr"): (840 / 7, 750 / 7),
    ("expansion_rate", "gross_mrr"): (50 / 780, 20 / 840),
    # Σ over S of B_c(end) − B_c(start): February 100+200+150+240+0 − 780; March 120+0+50+150+240+70+30 − 840
    ("expansion_rate", "cohort_net_change"): ((690 - 780) / 780, (660 - 840) / 840),
    ("expansion_rate", "upsell_invoices"): (180 / 100, 90 / 530),
    ("net_revenue_retention", "default"): ((780 + 50 - 60 - 80) / 780, (840 + 20 - 0 - 200) / 840),
    ("gross_revenue_retention", "default"): ((780 - 60 - 80) / 780, (840 - 0 - 200) / 840),
    ("net_mrr_churn_rate", "default"): ((80 + 60 - 50) / 780, (200 + 0 - 20) / 840),
    ("revenue_churn_rate", "default"): ((80 + 60) / 780, (200 + 0) / 840),
    ("renewal_rate", "default"): (1 / 2, 2 / 2),
    ("net_renewal_rate", "contracts"): (1100 / (1000 + 500), (700 + 150) / (700 + 300)),
    ("net_renewal_rate", "mrr"): ((780 + 50 - 60 - 80) / 780, (840 + 20 - 0 - 200) / 840),
    ("customer_acquisition_cost", "default"): ((300 + 100) / 2, 500 / 1),
    ("customer_retention_cost", "default"): (200 / 4, 120 / 6),
    ("average_customer_lifespan", "inverse_churn"): (1 / (1 / 5), 1 / (1 / 7)),
    ("average_customer_lifespan", "observed"): ((132 + 22) / 2 / M, (132 + 22 + 51) / 3 / M),
    # arpu:mrr × inverse_churn lifespan: 120 × 5; 750/7 × 7
    ("customer_lifetime_value", "arpa_x_lifespan"): (120 * 5, 750 / 7 * 7),
    # (Σ / invoices) × (invoices / customers) × (Σ spans / customers / 365)
    ("customer_lifetime_value", "aov_x_frequency_x_lifetime"): (
        (930 / 7) * (7 / 6) * (31 / 6 / 365),
        (1260 / 9) * (9 / 7) * ((31 + 72) / 7 / 365),
    ),
    ("customer_lifetime_value", "historical_revenue_per_customer"): (930 / 6, 1260 / 7),
    ("customer_lifetime_value", "net_of_cac"): (600 - 200, 750 - 500),
    ("ltv_to_cac", "default"): (600 / 200, 750 / 500),
    ("customer_growth_rate", "default"): ((7 - 5) / 5, (7 - 7) / 7),
}


@pytest.fixture(scope="module")
def rich(tmp_path_factory):
    s = open_session(tmp_path_factory.mktemp("rich"), RICH)
    yield s
    s.close()


def _ids(pairs) -> list[str]:
    return [f"{m}:{v}" for m, v in pairs]


@pytest.mark.parametrize("key", list(EXPECTED), ids=_ids(EXPECTED))
def test_rich_fixture(rich, key):
    metric, variant = key
    r = rich.compute([f"{metric}:{variant}"], grain="month", start="2024-02-01", end="2024-04-01")
    assert [(row[0], row[1], row[2], row[3]) for row in r.rows] == [
        (metric, variant, FEB, MAR), (metric, variant, MAR, D(2024, 4, 1))]
    feb, mar = EXPECTED[key]
    check(r.value(metric, FEB, variant=variant), feb)
    check(r.value(metric, MAR, variant=variant), mar)


def test_rich_fixture_all_metrics_in_one_query(rich):
    # one query for every variant at once: shared steps give the same values
    r = rich.compute([f"{m}:{v}" for m, v in EXPECTED], grain="month", start="2024-02-01", end="2024-04-01")
    assert len(r.rows) == 2 * len(EXPECTED)
    for (metric, variant), (feb, mar) in EXPECTED.items():
        check(r.value(metric, FEB, variant=variant), feb)
        check(r.value(metric, MAR, variant=variant), mar)


def test_rich_fixture_mrr_identity(rich):
    # M(p.end) = M(p.start) + new + reactivation + expansion − contraction − churned
    r = rich.compute(["mrr", "net_new_mrr"], grain="month", start="2024-01-01", end="2024-05-01")
    months = [D(2024, m, 1) for m in (1, 2, 3, 4)]
    for prev, cur in zip(months, months[1:]):
        assert r.value("mrr", cur) == pytest.approx(r.value("mrr", prev) + r.value("net_new_mrr", cur), abs=1e-9)


def test_default_variants_are_named(rich):
    # a metric asked for by name shows the project's default variant by its name
    r = rich.compute(["churn_rate", "retention_rate", "arpu", "expansion_rate", "net_renewal_rate",
                      "average_customer_lifespan", "customer_lifetime_value", "mrr"],
                     grain="month", start="2024-02-01", end="2024-03-01")
    assert [(row[0], row[1]) for row in r.rows] == [
        ("churn_rate", "lost_over_start"), ("retention_rate", "end_minus_new"), ("arpu", "invoiced"),
        ("expansion_rate", "gross_mrr"), ("net_renewal_rate", "contracts"),
        ("average_customer_lifespan", "inverse_churn"),
        ("customer_lifetime_value", "arpa_x_lifespan"), ("mrr", "default")]


def test_project_default_variant_changes_dependents(tmp_path):
    # with [variants] average_customer_lifespan = "observed", arpa_x_lifespan and ltv_to_cac use it:
    # February: 120 × (132 + 22) / 2 / 30.4375; ltv_to_cac divides that by CAC 200
    s = open_session(tmp_path / "p", RICH, toml_extra='[variants]\naverage_customer_lifespan = "observed"\n')
    try:
        r = s.compute(["customer_lifetime_value", "ltv_to_cac", "customer_lifetime_value:net_of_cac"],
                      grain="month", start="2024-02-01", end="2024-03-01")
        clv = 120 * (132 + 22) / 2 / M
        check(r.value("customer_lifetime_value", FEB, variant="arpa_x_lifespan"), clv)
        check(r.value("ltv_to_cac", FEB), clv / 200)
        check(r.value("customer_lifetime_value", FEB, variant="net_of_cac"), clv - 200)
    finally:
        s.close()


# once a bug: the running sum of lifespans was a DOUBLE, so a long lifespan added and later removed
# (the customer reactivates) swamped a short one that remains; the sums are exact decimals now.
def test_observed_lifespan_is_exact_after_a_reactivation(tmp_path):
    # x paid from 2022-01-01 to 2023-09-01 and is back (paying) from 2024-01-01; y paid for one
    # millisecond, 2023-10-31 23:59:59.999 → 2023-11-01.  As of 2024-02-01 only y has stopped
    # paying: the mean lifespan is y's, 0.001 s = 0.001 / 86,400 / 30.4375 months.
    subs = [sub("x1", "x", T(2022, 1, 1), T(2023, 9, 1), 100), sub("x2", "x", T(2024, 1, 1), None, 100),
            sub("y1", "y", T(2023, 10, 31, 23, 59, 59, 999000), T(2023, 11, 1), 100)]
    s = open_session(tmp_path / "p", {"subscriptions": subs})
    try:
        r = s.compute(["average_customer_lifespan:observed"], grain="month", start="2024-01-01", end="2024-02-01")
    finally:
        s.close()
    # csframe gave 3.802291814736236e-10 before 3cf6c6f (relative error 7e-5)
    check(r.value("average_customer_lifespan", D(2024, 1, 1)), 0.001 / 86_400 / M)


# --------------------------------------------------------------------------------------------
# Zero denominators
# --------------------------------------------------------------------------------------------

ZERO = {
    # nothing at all happens in January 2024; z1 pays 100 from 10 February on
    "subscriptions": [sub("z1", "z1", T(2024, 2, 10), None, 100)],
    "invoices": [inv("zi", "z1", T(2024, 2, 10), 100, None)],
    "renewals": [ren("zk", "z1", D(2024, 2, 10), 100, True, 100)],
    # January has costs but no new customer and nobody kept: CAC and CRC divide by 0
    "costs": [cost(D(2024, 1, 15), "acquisition", 100), cost(D(2024, 1, 20), "retention", 50)],
}

_ZERO_COUNTS = {"customers", "new_customers", "churned_customers", "reactivated_customers", "mrr", "arr", "new_mrr",
                "expansion_mrr", "contraction_mrr", "churned_mrr", "reactivation_mrr", "net_new_mrr"}
# January: every count and sum is 0 (a sum over no rows is 0); every ratio, mean and product
# with one is None: |S| = |A| = |E| = |N| = 0, M(p.start) = 0, no invoice in December or
# before February, no contract due, nobody who stopped paying.  CAC = 100 / 0, CRC = 50 / 0.
ZERO_JANUARY = {key: (0 if key[0] in _ZERO_COUNTS else None) for key in EXPECTED}


@pytest.fixture(scope="module")
def zero(tmp_path_factory):
    s = open_session(tmp_path_factory.mktemp("zero"), ZERO)
    yield s
    s.close()


@pytest.mark.parametrize("key", list(ZERO_JANUARY), ids=_ids(ZERO_JANUARY))
def test_zero_denominators(zero, key):
    metric, variant = key
    r = zero.compute([f"{metric}:{variant}"], grain="month", start="2024-01-01", end="2024-02-01")
    check(r.value(metric, D(2024, 1, 1), variant=variant), ZERO_JANUARY[key])


def test_zero_denominator_with_a_numerator(zero):
    # February: new MRR 100 but nothing lost or contracted → quick_ratio = 100 / 0 → None;
    # churn over an empty start → None; CAC = 0 acquisition costs / 1 new customer = 0.
    # March: z1 stays: churn 0 / 1 = 0 → inverse_churn lifespan 1 / 0 → None, and so CLV,
    # CLV net of CAC and LTV:CAC; upsell invoices 0 / February's 100 = 0.
    r = zero.compute(["quick_ratio", "churn_rate", "customer_acquisition_cost", "average_customer_lifespan",
                      "customer_lifetime_value", "customer_lifetime_value:net_of_cac", "ltv_to_cac",
                      "expansion_rate:upsell_invoices", "new_mrr"], grain="month", start="2024-02-01", end="2024-04-01")
    check(r.value("new_mrr", FEB), 100)
    check(r.value("quick_ratio", FEB), None)
    check(r.value("churn_rate", FEB), None)
    check(r.value("customer_acquisition_cost", FEB), 0 / 1)
    check(r.value("churn_rate", MAR), 0 / 1)
    for metric, variant in (("average_customer_lifespan", "inverse_churn"),
                            ("customer_lifetime_value", "arpa_x_lifespan"), ("ltv_to_cac", "default")):
        check(r.value(metric, MAR, variant=variant), None)
    check(r.value("customer_lifetime_value", MAR, variant="net_of_cac"), None)
    check(r.value("expansion_rate", MAR, variant="upsell_invoices"), 0 / 100)


# --------------------------------------------------------------------------------------------
# --by segment
# --------------------------------------------------------------------------------------------

SEGMENTS = {"a": "smb", "b": "smb", "f": "smb", "j": "smb", "c": "ent", "d": "ent", "e": "ent",
            "g": None, "n": None, "k": None, "h": None, "i": None, "l": None, "q": "empty"}
BY = {**RICH, "customers": [{"customer_id": c, "created_at": T(2023, 1, 1), "segment": seg}
                            for c, seg in SEGMENTS.items()]}

# February by segment (q, the only customer of "empty", has no row anywhere):
#   smb   {a,b,f,j}: S {a,b,f} M 380; E {a,b} M 300; N {j}; L {f}; R {}; A {a,b,f,j}; churned 80;
#                    invoices a 100 + b 200; contracts k1 (renewed), k2 (not)
#   ent   {c,d,e}:   S {d,e} M 400; E {c,d,e} M 440; N {c}; L {}; A {c,d,e}; expansion 50,
#                    contraction 60; invoices d 150 + c 50; no contract
#   NULL  {g,n,...}: S {}; E {g,n} M 100; R {g,n}; A {g,n}; invoices g 30; no contract
#   empty {q}:       nothing: counts and sums 0, ratios None
BY_FEBRUARY: dict[str, dict[Any, float | None]] = {
    "customers": {"smb": 2, "ent": 3, None: 2, "empty": 0},
    "new_customers": {"smb": 1, "ent": 1, None: 0, "empty": 0},
    "churned_customers": {"smb": 1, "ent": 0, None: 0, "empty": 0},
    "reactivated_customers": {"smb": 0, "ent": 0, None: 2, "empty": 0},
    "churn_rate": {"smb": 1 / 3, "ent": 0 / 2, None: None, "empty": None},
    "mrr": {"smb": 300, "ent": 440, None: 100, "empty": 0},
    "net_new_mrr": {"smb": 300 - 380, "ent": 440 - 400, None: 100 - 0, "empty": 0},
    "arpu:mrr": {"smb": 300 / 2, "ent": 440 / 3, None: 100 / 2, "empty": None},
    "arpu:invoiced": {"smb": (100 + 200) / 4, "ent": (150 + 50) / 3, None: 30 / 2, "empty": None},
    "net_revenue_retention": {"smb": (380 - 80) / 380, "ent": (400 + 50 - 60) / 400, None: None, "empty": None},
    "renewal_rate": {"smb": 1 / 2, "ent": None, None: None, "empty": None},
}
# March by segment: smb S {a,b} E {a} (a 120); ent S = E = {c,d,e} M 440; NULL S {g,n} E {g,n,l} N {l}
BY_MARCH: dict[str, dict[Any, float | None]] = {
    "customers": {"smb": 1, "ent": 3, None: 3, "empty": 0},
    "churn_rate": {"smb": 1 / 2, "ent": 0 / 3, None: 0 / 2, "empty": None},
    "mrr": {"smb": 120, "ent": 440, None: 190, "empty": 0},
    "new_customers": {"smb": 0, "ent": 0, None: 1, "empty": 0},
}


@pytest.fixture(scope="module")
def by_segment(tmp_path_factory):
    s = open_session(tmp_path_factory.mktemp("by"), BY)
    yield s
    s.close()


@pytest.mark.parametrize("metric", list(BY_FEBRUARY))
def test_by_segment(by_segment, metric):
    r = by_segment.compute([metric], grain="month", start="2024-02-01", end="2024-04-01", by=("segment",))
    assert r.columns == ("metric", "variant", "period_start", "period_end", "segment", "value")
    name = metric.partition(":")[0]
    variant = metric.partition(":")[2] or None
    # every distinct segment of customers, NULL included, in every period
    assert sorted(((row[2], row[4]) for row in r.rows), key=repr) == sorted(
        ((p, seg) for p in (FEB, MAR) for seg in ("smb", "ent", None, "empty")), key=repr)
    for segment, expected in BY_FEBRUARY[metric].items():
        check(r.value(name, FEB, variant=variant, segment=segment), expected)
    for segment, expected in BY_MARCH.get(metric, {}).items():
        check(r.value(name, MAR, variant=variant, segment=segment), expected)


def test_by_segment_groups_add_up(by_segment):
    # counts and MRR of the groups add up to the whole (every customer has one segment)
    r = by_segment.compute(["customers", "mrr", "churned_mrr"], grain="month", start="2024-02-01",
                           end="2024-04-01", by=("segment",))
    for metric in ("customers", "mrr", "churned_mrr"):
        for period in (FEB, MAR):
            total = sum(row[-1] for row in r.rows if row[0] == metric and row[2] == period)
            check(total, EXPECTED[(metric, "default")][0 if period == FEB else 1])


def test_by_segment_of_a_cost_metric_is_a_usage_error(by_segment):
    # costs have no customer: --by cannot split customer_acquisition_cost
    with pytest.raises(UsageError, match="customer_acquisition_cost"):
        by_segment.compute(["customer_acquisition_cost"], grain="month", start="2024-02-01", end="2024-03-01",
                           by=("segment",))


# --------------------------------------------------------------------------------------------
# Quarter and week grains
# --------------------------------------------------------------------------------------------

Q4, Q1 = D(2023, 10, 1), D(2024, 1, 1)
# Q4 2023 [10-01, 01-01): nobody pays at 10-01 (f starts exactly then); at 01-01 a 100, d 100,
#   e 300, f 80: S {} ; E {a,d,e,f} M 580; N {f,d,e,a}
# Q1 2024 [01-01, 04-01): S {a,d,e,f} M 580; E {a,c,d,e,g,n,l} M 750; N {b,c,j,l}; L {f};
#   R {g,n}; new 50 (c) + 90 (l); reactivation 70 + 30; expansion 20 (a) + 50 (d);
#   contraction 60 (e); churned 80 (f): 580 + 140 + 100 + 70 − 60 − 80 = 750
QUARTER = {
    "customers": (4, 7),
    "new_customers": (4, 4),
    "churned_customers": (0, 1),
    "reactivated_customers": (0, 2),
    "mrr": (580, 750),
    "new_mrr": (580, 50 + 90),
    "reactivation_mrr": (0, 70 + 30),
    "expansion_mrr": (0, 20 + 50),
    "contraction_mrr": (0, 60),
    "churned_mrr": (0, 80),
    "churn_rate": (None, 1 / 4),
    # g = 3 months for a quarter
    "average_customer_lifespan:inverse_churn": (None, 3 / (1 / 4)),
    "net_revenue_retention": (None, (580 + 70 - 60 - 80) / 580),
}


def test_quarter_grain(rich):
    # --start 2023-11-15 is rounded down to the start of its quarter, 2023-10-01
    r = rich.compute(list(QUARTER), grain="quarter", start="2023-11-15", end="2024-04-01")
    assert sorted({(row[2], row[3]) for row in r.rows}) == [(Q4, Q1), (Q1, D(2024, 4, 1))]
    for metric, (q4, q1) in QUARTER.items():
        name, _, variant = metric.partition(":")
        check(r.value(name, Q4, variant=variant or None), q4)
        check(r.value(name, Q1, variant=variant or None), q1)


W1, W2 = D(2024, 1, 29), D(2024, 2, 5)
# ISO weeks (Monday starts).
# week of 01-29: S {a,b,d,e,f} M 780 (c's trial does not count); at 02-05: a,b,c,d,e,f,j
#   (g's row starts exactly 02-05 00:00, so not before it) E 7, M 870; N {c, j}; new 50 + 40
# week of 02-05: S 7, M 870; at 02-12: f has left (02-10), g pays 70: E {a,b,c,d,e,g,j} M 860;
#   R {g} (restarted exactly on the Monday); L {f}: 870 + 70 − 80 = 860
WEEK = {
    "customers": (7, 7),
    "new_customers": (2, 0),
    "churned_customers": (0, 1),
    "reactivated_customers": (0, 1),
    "mrr": (870, 860),
    "new_mrr": (50 + 40, 0),
    "reactivation_mrr": (0, 70),
    "churned_mrr": (0, 80),
    "churn_rate": (0 / 5, 1 / 7),
    # g = 7 / 30.4375 months for a week; churn 0 gives None
    "average_customer_lifespan:inverse_churn": (None, (7 / M) / (1 / 7)),
    "retention_rate:cohort": (5 / 5, 6 / 7),
}


def test_week_grain(rich):
    # --start 2024-02-01 (a Thursday) is rounded down to Monday 2024-01-29
    r = rich.compute(list(WEEK), grain="week", start="2024-02-01", end="2024-02-12")
    assert sorted({(row[2], row[3]) for row in r.rows}) == [(W1, W2), (W2, D(2024, 2, 12))]
    for metric, (w1, w2) in WEEK.items():
        name, _, variant = metric.partition(":")
        check(r.value(name, W1, variant=variant or None), w1)
        check(r.value(name, W2, variant=variant or None), w2)


# --------------------------------------------------------------------------------------------
# Coverage
# --------------------------------------------------------------------------------------------


def test_every_registered_revenue_variant_is_covered():
    registered = {(m.name, v.name) for m in METRICS for v in m.variants}
    assert set(EXPECTED) == registered
    assert set(ZERO_JANUARY) == registered
