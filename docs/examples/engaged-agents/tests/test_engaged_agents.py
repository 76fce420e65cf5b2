"""Tests of engaged_agents with csframe's test kit (docs/plugins.md, section 3, shows the first
two). Each runs once per engine: DuckDB; PostgreSQL at $CSFRAME_TEST_PG_DSN or 127.0.0.1:5432
(skipped when none answers, unless CI=true); BigQuery when $CSFRAME_TEST_BIGQUERY_ENDPOINT names
an emulator. `CSFRAME_TEST_ENGINES=duckdb pytest` runs on DuckDB alone.

January 2024: p.end = 2024-02-01, so the window is [2024-01-25 00:00, 2024-02-01 00:00).
"""

EVENTS = """
user_id | customer_id | name    | occurred_at
u2      | c2          | meeting | 2024-01-26 09:00
u2      | c2          | meeting | 2024-01-31 23:59:59
u4      | c4          | meeting | 2024-01-25 00:00       # exactly p.end − 7 days: counts
u4      | c4          | meeting | 2024-01-31 08:00
u5      | c5          | meeting | 2024-01-28 08:00
u5      | c5          | meeting | 2024-02-01 00:00       # exactly p.end: February's
"""


def test_engaged_agents(csframe_case):
    csframe_case(rows={"events": EVENTS}, metric="engaged_agents", period="2024-01-01", expected=2)


def test_min_events(csframe_case):
    csframe_case(rows={"events": EVENTS}, metric="engaged_agents", period="2024-01-01", expected=3,
                 params={"min_events": 1})


OTHERS = """
user_id | customer_id | name              | occurred_at
u6      | c6          | meeting           | 2024-01-24 23:59:59   # a second before the window
u6      | c6          | meeting           | 2024-01-26 08:00
u7      | c7          | meeting           | 2024-01-27 08:00
u7      | c7          | login             | 2024-01-27 09:00      # other names do not count
u7      | c7          | meeting_scheduled | 2024-01-29 09:00
u7      | c7          | Meeting           | 2024-01-30 09:00
"""


def test_only_meetings_inside_the_window_count(csframe_case):
    csframe_case(rows={"events": OTHERS}, metric="engaged_agents", period="2024-01-01", expected=0)
    csframe_case(rows={"events": OTHERS}, metric="engaged_agents", period="2024-01-01", expected=2,
                 params={"min_events": 1})


CUSTOMERS = """
customer_id | created_at | plan
c2          | 2023-06-01 | pro
c4          | 2023-06-01 | free
c5          | 2023-06-01 | free
"""


def test_by_plan(csframe_case):
    rows = {"events": EVENTS, "customers": CUSTOMERS}
    csframe_case(rows=rows, metric="engaged_agents", period="2024-01-01", where={"plan": "pro"}, expected=1)
    csframe_case(rows=rows, metric="engaged_agents", period="2024-01-01", where={"plan": "free"}, expected=1)


def test_declared_worked_examples(csframe_case):
    csframe_case.examples(plugin="engaged_agents")
