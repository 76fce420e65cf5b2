"""The "Revenue and retention" worked examples of metrics.md — the examples in the formula column
and the revenue rows of "More worked examples" — through csframe's test kit, on DuckDB, a real
PostgreSQL server and the BigQuery emulator (see ``conftest.py``).

Source rows that realise each article's numbers are written as the kit's text tables: each test
loads them as the canonical sources in a namespace of its own, computes through the whole
pipeline and compares with the article's number (written out, never recomputed; relative
tolerance 1e-9). The other sections' examples are in ``test_catalog_examples_adoption.py`` and
``test_catalog_examples_satisfaction.py``; each file also evaluates every ``Example`` declared on
its plugin's variants on each engine (``tests/engine/test_declared_examples.py`` compiles them
on DuckDB, each formula alone too).

Unless a test says otherwise the period is March 2024; customers paying "at the start" have paid
since 2024-01-01, "leaving" rows end 2024-03-15 12:00, "arriving" ones start then. ``_repeat``
makes n rows, ``{i}`` numbering them.
"""

from __future__ import annotations

import datetime as dt

import pytest

MARCH = "2024-03-01"


def subscriptions(*groups: tuple[str, int, str, str, object]) -> str:
    """A subscriptions table: (customer prefix, how many, started_at, ended_at, mrr) per group."""
    lines = ["customer_id | started_at | ended_at | mrr | _repeat"]
    lines += [f"{p}{{i}} | {start} | {end} | {mrr} | {n}" for p, n, start, end, mrr in groups]
    return "\n".join(lines)


def staying(prefix: str, n: int, mrr: object = 100) -> tuple:
    return (prefix, n, "2024-01-01", "", mrr)


def leaving(prefix: str, n: int, mrr: object = 100) -> tuple:
    return (prefix, n, "2024-01-01", "2024-03-15 12:00", mrr)


def arriving(prefix: str, n: int, mrr: object = 100) -> tuple:
    return (prefix, n, "2024-03-15 12:00", "", mrr)


# -- churn_rate ----------------------------------------------------------------------------------

def test_churn_rate_32_lost_of_400(csframe_case):
    # dock: 400 customers at the start, 32 of them lost → 0.08 (the default, lost_over_start)
    rows = {"subscriptions": subscriptions(staying("k", 368), leaving("l", 32))}
    csframe_case(rows=rows, metric="churn_rate", period=MARCH, expected=0.08)
    # asked for by name alone, the metric gives one row, which names the default variant
    result = csframe_case.compute(rows, "churn_rate", start=MARCH)
    assert [row[:3] for row in result.rows] == [("churn_rate", "lost_over_start", dt.date(2024, 3, 1))]


def test_churn_rate_10_of_100(csframe_case):
    # guide13: 10 of 100 → 0.10
    rows = {"subscriptions": subscriptions(staying("k", 90), leaving("l", 10))}
    csframe_case(rows=rows, metric="churn_rate:lost_over_start", period=MARCH, expected=0.10)


def test_churn_rate_net_loss_new_customers_offset_losses(csframe_case):
    # agile: 100 at start, 90 at end → 0.10; 15 leave and 5 arrive: new customers offset losses
    rows = {"subscriptions": subscriptions(staying("k", 85), leaving("l", 15), arriving("n", 5))}
    csframe_case(rows=rows, period=MARCH, expected={
        "customers": 90, "churn_rate:net_loss": 0.10, "churn_rate:lost_over_start": 0.15})


# -- retention_rate, mrr, arpu -------------------------------------------------------------------

def test_retention_rate_500_start_43_new_512_end(csframe_case):
    # dock: 500 at start, 43 new, 512 at end → 0.938 (so 31 were lost)
    rows = {"subscriptions": subscriptions(staying("k", 469), leaving("l", 31), arriving("n", 43))}
    csframe_case(rows=rows, period=MARCH, expected={
        "customers": 512, "new_customers": 43, "retention_rate": 0.938, "retention_rate:end_minus_new": 0.938})


def test_mrr_arpu_25_times_1000(csframe_case):
    # dock: ARPU 25 × 1000 users → 25,000
    rows = {"subscriptions": subscriptions(staying("k", 1000, 25))}
    csframe_case(rows=rows, period=MARCH, expected={"mrr": 25_000, "arpu:mrr": 25})


def test_arpu_invoiced_52000_over_2500(csframe_case):
    # dock: 52,000 invoiced / 2,500 customers → 20.8. |A| = 2,000 paying all March + 500 arriving;
    # the 2,000 pay 20 each, the 500 pay 24 each; invoices of February and April are outside p.
    invoices = """
    customer_id | paid_at             | amount | kind         | _repeat
    k{i}        | 2024-03-02          | 20     | subscription | 2000
    n{i}        | 2024-03-20          | 24     |              | 500
    k0          | 2024-02-29 23:59:59 | 1000   | subscription | 1
    k1          | 2024-04-01          | 1000   | subscription | 1
    """
    rows = {"subscriptions": subscriptions(staying("k", 2000, 20), arriving("n", 500, 24)), "invoices": invoices}
    csframe_case(rows=rows, period=MARCH, expected={"arpu": 20.8, "arpu:invoiced": 20.8})


def test_arpa_five_customers_paying_1_1_3_5_5(csframe_case):
    # arpu:mrr, five customers paying 1, 1, 3, 5, 5 → 3
    rows = {"subscriptions": """
        customer_id | started_at | mrr
        c1          | 2024-01-01 | 1
        c2          | 2024-01-01 | 1
        c3          | 2024-01-01 | 3
        c4          | 2024-01-01 | 5
        c5          | 2024-01-01 | 5
    """}
    csframe_case(rows=rows, metric="arpu:mrr", period=MARCH, expected=3)


# -- expansion_rate ------------------------------------------------------------------------------

def test_expansion_rate_cohort_net_change_25k_to_30k(csframe_case):
    # dock: the start cohort's MRR goes 25k → 30k → 0.20. 25 customers pay 1,000; five of them
    # double in mid-March (one subscription, two rows). A customer arriving in March is not in S.
    rows = {"subscriptions": """
        subscription_id | customer_id | started_at       | ended_at         | mrr  | _repeat
        s-k{i}          | k{i}        | 2024-01-01       |                  | 1000 | 20
        s-n0            | n0          | 2024-03-15 12:00 |                  | 7000 | 1
        s-x{i}          | x{i}        | 2024-01-01       | 2024-03-15 12:00 | 1000 | 5
        s-x{i}          | x{i}        | 2024-03-15 12:00 |                  | 2000 | 5
    """}
    csframe_case(rows=rows, metric="expansion_rate:cohort_net_change", period=MARCH, expected=0.20)


def test_expansion_rate_upsell_invoices_10000_over_100000(csframe_case):
    # parative: upsell + cross-sell invoices of p 10,000 / all invoices of p−1 100,000 → 0.10;
    # February lies before the period asked for and is read from the data all the same.
    rows = {"invoices": """
        customer_id | paid_at             | amount | kind
        a           | 2024-02-01          | 60000  | subscription
        b           | 2024-02-10          | 25000  | upsell
        c           | 2024-02-29 23:00    | 15000  |
        a           | 2024-03-01          | 6000   | upsell
        b           | 2024-03-31 23:59    | 4000   | cross_sell
        c           | 2024-03-05          | 50000  | subscription
        a           | 2024-03-06          | 3000   | one_time
        b           | 2024-03-07          | 1000   |
        a           | 2024-01-31          | 999999 | upsell
        a           | 2024-04-01          | 999999 | upsell
    """}
    csframe_case(rows=rows, metric="expansion_rate:upsell_invoices", period=MARCH, expected=0.10)


# -- renewals ------------------------------------------------------------------------------------

RENEWALS = """
contract_id | customer_id | due_at     | value_up | renewed | renewed_value | _repeat
m{i}        | cm{i}       | 2024-03-10 | 100      | true    | 100           | 950
mx{i}       | cmx{i}      | 2024-03-10 | 100      | false   | 0             | 50
a{i}        | ca{i}       | 2024-04-01 | 100      | true    | 100           | 98
ax{i}       | cax{i}      | 2024-04-01 | 100      | false   | 0             | 2
f{i}        | cf{i}       | 2024-02-29 | 100      | false   | 0             | 7
"""


def test_renewal_rate_950_of_1000(csframe_case):
    # agile: 950 of 1000 due in March renewed → 0.95 (February's 7 are in neither period)
    csframe_case(rows={"renewals": RENEWALS}, metric="renewal_rate", period=MARCH, expected=0.95)


def test_renewal_rate_98_of_100(csframe_case):
    # dock: 98 of 100 due in April renewed → 0.98
    csframe_case(rows={"renewals": RENEWALS}, metric="renewal_rate", period="2024-04-01", expected=0.98)


def test_net_renewal_rate_contracts_1000_up_500_renewed_200_expansion(csframe_case):
    # parative: 1,000 up for renewal, 500 renewed + 200 expansion → 0.70: k1 (500 up) renews at 700,
    # k2 (500 up) does not; k3 is due in April
    rows = {"renewals": """
        contract_id | customer_id | due_at     | value_up | renewed | renewed_value
        k1          | a           | 2024-03-01 | 500      | true    | 700
        k2          | b           | 2024-03-31 | 500      | false   | 0
        k3          | c           | 2024-04-01 | 9999     | false   | 0
    """}
    csframe_case(rows=rows, metric="net_renewal_rate", period=MARCH, expected=0.70)


# -- revenue retention, churn and quick ratio ------------------------------------------------------

def test_grr_and_nrr_start_10m(csframe_case):
    # start 10.0M; contraction 0.6M; churned 0.9M; expansion 1.8M → GRR 0.85, NRR 1.03, and dock's
    # net renewal rate, defined as net_revenue_retention through the dependency graph
    rows = {"subscriptions": """
        subscription_id | customer_id | started_at       | ended_at         | mrr
        s1              | steady      | 2024-01-01       |                  | 6500000
        s2              | gone        | 2024-01-01       | 2024-03-15 12:00 | 900000
        s3              | down        | 2024-01-01       | 2024-03-15 12:00 | 1600000
        s3              | down        | 2024-03-15 12:00 |                  | 1000000
        s4              | up          | 2024-01-01       | 2024-03-20       | 1000000
        s4              | up          | 2024-03-20       |                  | 2800000
    """}
    csframe_case(rows=rows, period=MARCH, expected={
        "gross_revenue_retention": 0.85, "net_revenue_retention": 1.03, "net_renewal_rate:mrr": 1.03})


def test_revenue_churn_and_net_mrr_churn_start_100(csframe_case):
    # MRR at start 100; churned 10; contraction 10; expansion 10; no reactivation
    rows = {"subscriptions": """
        subscription_id | customer_id | started_at       | ended_at         | mrr
        s1              | gone        | 2024-01-01       | 2024-03-15 12:00 | 10
        s2              | steady      | 2024-01-01       |                  | 30
        s3              | down        | 2024-01-01       | 2024-03-15 12:00 | 30
        s3              | down        | 2024-03-15 12:00 |                  | 20
        s4              | up          | 2024-01-01       | 2024-03-15 12:00 | 30
        s4              | up          | 2024-03-15 12:00 |                  | 40
    """}
    csframe_case(rows=rows, period=MARCH, expected={"revenue_churn_rate": 0.20, "net_mrr_churn_rate": 0.10})


def test_quick_ratio_3_5(csframe_case):
    # new 20k; expansion 8k; churned 5k; contraction 3k; no reactivation → 3.5
    rows = {"subscriptions": """
        subscription_id | customer_id | started_at       | ended_at         | mrr   | _repeat
        s-n{i}          | n{i}        | 2024-03-15 12:00 |                  | 5000  | 4
        s-k{i}          | k{i}        | 2024-01-01       |                  | 1000  | 3
        s-gone          | gone        | 2024-01-01       | 2024-03-15 12:00 | 5000  | 1
        s-up            | up          | 2024-01-01       | 2024-03-15 12:00 | 2000  | 1
        s-up            | up          | 2024-03-15 12:00 |                  | 10000 | 1
        s-down          | down        | 2024-01-01       | 2024-03-15 12:00 | 4000  | 1
        s-down          | down        | 2024-03-15 12:00 |                  | 1000  | 1
    """}
    csframe_case(rows=rows, metric="quick_ratio", period=MARCH, expected=3.5)


# -- customer_lifetime_value ---------------------------------------------------------------------

def test_clv_arpa_100_monthly_churn_5_percent(csframe_case):
    # ARPA 100; monthly churn 0.05 → 2,000 (average_customer_lifespan:inverse_churn, the default):
    # 20 customers at the start of March, one lost, the 19 left pay 100 each
    rows = {"subscriptions": subscriptions(staying("k", 19, 100), leaving("l", 1, 500))}
    csframe_case(rows=rows, period=MARCH, expected={
        "customer_lifetime_value": 2_000, "customer_lifetime_value:arpa_x_lifespan": 2_000})


def test_clv_arpa_with_churn_0_is_null(csframe_case):
    # ARPA 100 and churn 0 → NULL (the lifespan g / 0 has no value)
    rows = {"subscriptions": subscriptions(staying("k", 20, 100))}
    csframe_case(rows=rows, metric="customer_lifetime_value:arpa_x_lifespan", period=MARCH, expected=None)


def test_clv_600_times_28_months_inverse_churn(csframe_case):
    # dock: ARPA 600 × lifespan 28 months → 16,800: 28 customers at the start of March, one lost
    # (churn 1/28), the 27 left pay 600 each
    rows = {"subscriptions": subscriptions(staying("k", 27, 600), leaving("l", 1, 50))}
    csframe_case(rows=rows, period=MARCH, expected={
        "arpu:mrr": 600, "average_customer_lifespan": 28, "customer_lifetime_value:arpa_x_lifespan": 16_800})


def test_clv_600_times_28_months_observed(csframe_case):
    # dock again, with the project choosing average_customer_lifespan:observed: two customers who
    # stopped paying before the end of March lasted 20 and 36 months (months = days / 30.4375;
    # 20 months = 608 d 18 h, 36 months = 1095 d 18 h) and the three paying at its end pay 600 each
    rows = {"subscriptions": """
        customer_id | started_at          | ended_at            | mrr | _repeat
        k{i}        | 2024-01-01          |                     | 600 | 3
        x           | 2021-05-03 08:00    | 2023-01-02 02:00    | 75  | 1
        y           | 2020-11-17 18:30    | 2023-11-18 12:30    | 900 | 1
    """}
    csframe_case(rows=rows, period=MARCH, variants={"average_customer_lifespan": "observed"}, expected={
        "average_customer_lifespan": 28, "customer_lifetime_value:arpa_x_lifespan": 16_800})


def test_clv_historical_revenue_100_a_month_for_24_months(csframe_case):
    # parative: purchase value 100 × 1 purchase a month × 24 months → 2,400: one customer paid 100
    # on the 15th of every month from March 2022 to February 2024
    months = [(2022 + (2 + k) // 12, (2 + k) % 12 + 1) for k in range(24)]
    invoices = [{"customer_id": "a", "paid_at": f"{y}-{m:02d}-15", "amount": 100} for y, m in months]
    assert invoices[0]["paid_at"] == "2022-03-15" and invoices[-1]["paid_at"] == "2024-02-15"
    csframe_case(rows={"invoices": invoices}, metric="customer_lifetime_value:historical_revenue_per_customer",
                 period=MARCH, expected=2_400)


# -- the declared examples, on each engine -------------------------------------------------------

def test_declared_revenue_examples(csframe_case):
    # every Example declared on a revenue variant, its formula evaluated by the engine
    outcomes = csframe_case.examples(plugin="csframe.definitions.revenue")
    assert len(outcomes) >= 21
    assert {o.label for o in outcomes} >= {"churn_rate:lost_over_start", "customer_lifetime_value:arpa_x_lifespan"}


@pytest.mark.parametrize("metric,expected", [("churn_rate", 0.08), ("churn_rate:lost_over_active", 32 / 400)])
def test_engines_agree_with_a_parametrized_test(csframe_case, metric, expected):
    # the kit's engine parameter composes with a test's own (no one joins March, so |A| = |S|)
    rows = {"subscriptions": subscriptions(staying("k", 368), leaving("l", 32))}
    csframe_case(rows=rows, metric=metric, period=MARCH, expected=expected)
