"""The "Satisfaction and support" worked examples of metrics.md, through csframe's test kit, on
DuckDB, a real PostgreSQL server and the BigQuery emulator (see ``conftest.py``).

Every example the section gives — ``nps`` in the formula column, ``nps`` and
``csat:percent_satisfied`` in "More worked examples" — with ``survey_responses`` rows that
realise the article's numbers, written as the kit's text tables: each test loads them as the
canonical sources in a namespace of its own, computes through the whole pipeline and compares
with the article's number, written out, never recomputed (relative tolerance 1e-9).

``csat``'s threshold and scale are parameters (``csat_satisfied_min``, ``csat_scale``), passed as
a project's ``[parameters]`` would be, through the kit's ``params=``; a project choosing podium's
reading as its default does so through ``variants=``. The period is March 2024; responses of
other surveys and of February and April are there to be left out. ``_repeat`` makes n rows,
``{i}`` numbering them 0 … n−1.
"""

from __future__ import annotations

import pytest

MARCH = "2024-03-01"


# -- nps -------------------------------------------------------------------------------------------

def test_nps_74_percent_promoters_12_percent_detractors(csframe_case):
    # all five: 74 % promoters, 12 % detractors → 62. 100 nps responses in March: 74 promoters
    # (score ≥ 9: 40 tens, 34 nines, one of them at March's last second), 14 passives (7 and 8)
    # and 12 detractors (score ≤ 6: ten 6s, one at March's first instant, and two 0s). Not March's
    # nps: detractors the second before March and at April's first instant; a csat answer of 1
    # and a ces answer of 1 in March are other surveys.
    responses = """
        customer_id | survey | score | responded_at        | _repeat
        p{i}        | nps    | 10    | 2024-03-05 10:00    | 40
        q{i}        | nps    | 9     | 2024-03-12          | 33
        q-last      | nps    | 9     | 2024-03-31 23:59:59 | 1
        m{i}        | nps    | 8     | 2024-03-10          | 8
        n{i}        | nps    | 7     | 2024-03-10          | 6
        d-first     | nps    | 6     | 2024-03-01 00:00    | 1
        d{i}        | nps    | 6     | 2024-03-18          | 9
        z{i}        | nps    | 0     | 2024-03-20          | 2
        feb         | nps    | 0     | 2024-02-29 23:59:59 | 1
        apr         | nps    | 0     | 2024-04-01 00:00    | 1
        cs          | csat   | 1     | 2024-03-15          | 1
        ce          | ces    | 1     | 2024-03-15          | 1
    """
    csframe_case(rows={"survey_responses": responses}, metric="nps", period=MARCH, expected=62)


def test_nps_30_percent_promoters_20_percent_detractors(csframe_case):
    # 30 % promoters, 20 % detractors → 10: of 10 nps responses in March, 3 promoters (9, 10, 10),
    # 2 detractors (6 and 0) and 5 passives (7 and 8); the ces answer of 1 is not an nps one.
    responses = """
        customer_id | survey | score | responded_at
        a           | nps    | 9     | 2024-03-02
        b           | nps    | 10    | 2024-03-03
        c           | nps    | 10    | 2024-03-04
        d           | nps    | 6     | 2024-03-05
        e           | nps    | 0     | 2024-03-06
        f           | nps    | 7     | 2024-03-07
        g           | nps    | 7     | 2024-03-08
        h           | nps    | 8     | 2024-03-09
        i           | nps    | 8     | 2024-03-10
        j           | nps    | 8     | 2024-03-11
        k           | ces    | 1     | 2024-03-12
    """
    csframe_case(rows={"survey_responses": responses}, metric="nps", period=MARCH, expected=10)


# -- csat ------------------------------------------------------------------------------------------

CSAT = """
    customer_id | survey | score | responded_at        | _repeat
    five{i}     | csat   | 5     | 2024-03-04          | 35
    four{i}     | csat   | 4     | 2024-03-31 23:59:59 | 25
    three{i}    | csat   | 3     | 2024-03-01 00:00    | 20
    two{i}      | csat   | 2     | 2024-03-14          | 12
    one{i}      | csat   | 1     | 2024-03-22          | 8
    feb{i}      | csat   | 5     | 2024-02-29 23:59:59 | 7
    apr{i}      | csat   | 5     | 2024-04-01 00:00    | 7
    nps{i}      | nps    | 10    | 2024-03-10          | 7
"""


@pytest.mark.parametrize(("metric", "variants", "params"), [
    # the variant by name, with the article's "4 or 5" of a 1–5 scale written out as parameters
    ("csat:percent_satisfied", {}, {"csat_satisfied_min": 4, "csat_scale": [1, 5]}),
    # a project that makes podium's reading its csat, on the default parameters (the same 4 and 1–5)
    ("csat", {"csat": "percent_satisfied"}, {}),
], ids=["params", "project-default"])
def test_csat_percent_satisfied_100_responses_60_of_them_4_or_5(csframe_case, metric, variants, params):
    # podium: 100 responses, 60 of them 4 or 5 → 0.60. March has 100 csat responses: 35 fives and
    # 25 fours (those at its last second), 40 of 1 to 3 (the threes at its first instant). Not
    # March's csat: fives the second before March and at April's first instant; nps answers of 10.
    csframe_case(rows={"survey_responses": CSAT}, metric=metric, period=MARCH, variants=variants, params=params,
                 expected=0.60)


# -- the declared examples, on each engine -------------------------------------------------------

def test_declared_satisfaction_examples(csframe_case):
    # every Example declared on a satisfaction variant, its formula evaluated by the engine
    outcomes = csframe_case.examples(plugin="csframe.definitions.satisfaction")
    assert len(outcomes) >= 22
    assert {o.label for o in outcomes} >= {"nps:default", "csat:percent_satisfied"}
