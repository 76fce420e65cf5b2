"""The "Onboarding, adoption and engagement" worked examples of metrics.md, through csframe's test
kit, on DuckDB, a real PostgreSQL server and the BigQuery emulator (see ``conftest.py``).

Every example the section gives — ``free_to_paid_conversion:over_population`` in the formula
column, ``feature_adoption_rate`` and ``stickiness`` in "More worked examples" — with rows that
realise the article's numbers, written as the kit's text tables (or built in Python where a
table would run to thousands of distinct lines): each test loads them as the canonical sources in
a namespace of its own, computes through the whole pipeline and compares with the article's
number, written out, never recomputed (relative tolerance 1e-9 unless the article rounds).

The section's event names are parameters (``features``, ``active_events``); the tests pass them
as a project's ``[parameters]`` would, through the kit's ``params=``, and add rows that the
parameters must leave out. The period is March 2024 unless a test says otherwise; ``_repeat``
makes n rows, ``{i}`` numbering them 0 … n−1.
"""

from __future__ import annotations

MARCH = "2024-03-01"
APRIL = "2024-04-01"


# -- free_to_paid_conversion -------------------------------------------------------------------

def test_free_to_paid_conversion_over_population_60_converted_100_users(csframe_case):
    # parative: 60 converted, 100 users → 0.60 (trials with converted_at in p / users with
    # created_at < p.end). 59 trials convert in mid-March and one at its first instant; those
    # converting the second before March, at April's first instant or never are not March's.
    # 99 users were created before March and one at its last second; one created exactly at
    # p.end is not "before p.end".
    rows = {
        "trials": """
            customer_id | started_at          | converted_at        | _repeat
            t{i}        | 2024-02-20          | 2024-03-12 10:00    | 59
            first       | 2024-02-25          | 2024-03-01 00:00    | 1
            early       | 2024-02-01          | 2024-02-29 23:59:59 | 1
            late        | 2024-03-20          | 2024-04-01 00:00    | 1
            never{i}    | 2024-03-02          |                     | 5
        """,
        "users": """
            user_id | customer_id | created_at          | _repeat
            u{i}    | c{i}        | 2023-11-05 08:00    | 99
            last    | c-last      | 2024-03-31 23:59:59 | 1
            april   | c-april     | 2024-04-01 00:00    | 1
        """,
    }
    csframe_case(rows=rows, metric="free_to_paid_conversion:over_population", period=MARCH, expected=0.60)


# -- feature_adoption_rate ---------------------------------------------------------------------

def test_feature_adoption_rate_8000_customers_2400_used_the_feature(csframe_case):
    # 8,000 customers at the end; 2,400 used the feature → 0.30. E is 8,000 customers paying since
    # January; 2,400 of them use `export` in March (c0 twice, through two users: one customer).
    # Not counted: a customer who used it in March but left mid-March (not in E), uses of it the
    # second before March and at April's first instant. `features` (the event names reported, one
    # row each; by default every name in the source) lists `export` alone: the `login`s of 30
    # customers give no row, so the one row of March is export's (no where= needed to pick it).
    rows = {
        "subscriptions": """
            customer_id | started_at | ended_at         | mrr | _repeat
            c{i}        | 2024-01-01 |                  | 50  | 8000
            gone        | 2024-01-01 | 2024-03-15 12:00 | 50  | 1
        """,
        "events": """
            user_id | customer_id | name   | occurred_at         | _repeat
            u{i}    | c{i}        | export | 2024-03-10 09:00    | 2400
            v0      | c0          | export | 2024-03-11 09:00    | 1
            gone    | gone        | export | 2024-03-05          | 1
            w       | c7000       | export | 2024-02-29 23:59:59 | 1
            x       | c7001       | export | 2024-04-01 00:00    | 1
            l{i}    | c{i}        | login  | 2024-03-20          | 30
        """,
    }
    csframe_case(rows=rows, metric="feature_adoption_rate", period=MARCH, params={"features": ["export"]},
                 expected=0.30)


# -- stickiness ----------------------------------------------------------------------------------

def test_stickiness_dau_9400_mau_142000(csframe_case):
    # mean daily active users 9,400; monthly 142,000 → ≈ 0.0662 (the article rounds to four
    # decimals: the relative tolerance is half its last digit, 0.00005 / 0.0662). April 2024 has
    # 30 days; on each of them 9,400 users log in: day d's are the 9,400 users after the first d × 9,400 of a ring of
    # 142,000, so 140,000 users are active on two days and 2,000 on one (282,000 user-days =
    # 9,400 × 30; 142,000 distinct users). `active_events` = ["login"]: the 2,000 newsletter
    # readers, who do nothing else, are not active users. Day 0's users log in again at its last
    # second (the same UTC day: no more user-days), and 1,000 others log in only at the last
    # second of March and 1,000 only at May's first instant (not April's). Each of these, if
    # counted, would move the value by more than the tolerance.
    columns = ("user_id", "customer_id", "name", "occurred_at")
    events = [(f"u{(d * 9_400 + k) % 142_000}", "c", "login", f"2024-04-{d + 1:02d} 12:00")
              for d in range(30) for k in range(9_400)]
    assert len(events) == 282_000 and len({e[0] for e in events}) == 142_000
    events += [(f"u{k}", "c", "login", "2024-04-01 23:59:59") for k in range(9_400)]
    events += [(f"march{i}", "c", "login", "2024-03-31 23:59:59") for i in range(1_000)]
    events += [(f"may{i}", "c", "login", "2024-05-01 00:00") for i in range(1_000)]
    events += [(f"reader{i}", "c", "newsletter_opened", "2024-04-15 08:00") for i in range(2_000)]
    csframe_case(rows={"events": (columns, events)}, metric="stickiness", period=APRIL,
                 params={"active_events": ["login"]}, expected=0.0662, tolerance=7.5e-4)


# -- the declared examples, on each engine -------------------------------------------------------

def test_declared_adoption_examples(csframe_case):
    # every Example declared on an adoption variant, its formula evaluated by the engine
    outcomes = csframe_case.examples(plugin="csframe.definitions.adoption")
    assert len(outcomes) >= 24
    assert {o.label for o in outcomes} >= {"free_to_paid_conversion:over_population", "stickiness:default",
                                           "feature_adoption_rate:default"}
