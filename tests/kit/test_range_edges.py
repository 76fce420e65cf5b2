"""The edges csframe allows (docs/choices.md "Dates and bounds"), computed on DuckDB, a real
PostgreSQL server and the BigQuery emulator: the first month a run may start (0001-02-01: it also
reads January of year 1), the last month it may end with (November 9999, ending 9999-12-01), and
the longest ``window_days`` (24,855 days: its seconds, 2,147,472,000, still fit a 32-bit
integer). One step past each is a usage error (tests/unit/test_project_file_types.py)."""

from __future__ import annotations


def test_mrr_in_the_first_month_a_run_may_start(csframe_case):
    # a pays 100 from 0001-01-15; b paid 50 from 0001-02-03 to 0001-02-20: at the end of February
    # (0001-03-01) only a pays → 100
    rows = {"subscriptions": """
        customer_id | started_at | ended_at   | mrr
        a           | 0001-01-15 |            | 100
        b           | 0001-02-03 | 0001-02-20 | 50
    """}
    csframe_case(rows=rows, metric="mrr", period="0001-02-01", expected=100)


def test_mrr_in_the_last_month_a_run_may_end_with(csframe_case):
    # a pays 100 from 9999-10-15, b 20 from 9999-11-10: both at the end of November → 120
    rows = {"subscriptions": """
        customer_id | started_at | ended_at | mrr
        a           | 9999-10-15 |          | 100
        b           | 9999-11-10 |          | 20
    """}
    csframe_case(rows=rows, metric="mrr", period="9999-11-01", expected=120)


def test_the_longest_window_days_counts_to_its_last_second(csframe_case):
    # c1 and c2 are created 2024-03-10 00:00; 24,855 days later is 2092-03-28 00:00 (68 years to
    # 2092-03-10 are 68 * 365 + 17 leap days = 24,837 days, then 18 more). c1 activates a second
    # before that instant (counted), c2 a second after it (not) → 1 / 2. (Not at the instant
    # itself: the BigQuery emulator misses a window's exact last second even for 30 days.)
    rows = {
        "customers": """
            customer_id | created_at
            c1          | 2024-03-10 00:00
            c2          | 2024-03-10 00:00
        """,
        "events": """
            user_id | customer_id | name      | occurred_at
            u1      | c1          | activated | 2092-03-27 23:59:59
            u2      | c2          | activated | 2092-03-28 00:00:01
        """,
    }
    csframe_case(rows=rows, metric="activation_rate", period="2024-03-01", params={"window_days": 24855},
                 expected=0.5)
