"""``--by cohort`` and the cohort metrics on the three engines, on a fixture worked out by hand.

Months of 2024 (the run: --start 2024-01-01 --end 2024-05-01, so periods Jan, Feb, Mar, Apr,
ending Feb 1, Mar 1, Apr 1, May 1). B_c(b) counts rows with started_at < b ≤ ended_at.

    customer  segment  rows (non-trial unless said)                         cohort
    i         ent      60 from 2023-11-10 to 2024-03-01 00:00; 30 from then  Nov 2023 (before the spine)
    a         smb      100 from 2024-01-10                                    Jan
    b         ent      50 from 2024-01-05 to 2024-02-15 (churn in Feb)        Jan
    c         smb      30 from 2024-01-20 to 2024-02-10; 40 from 2024-04-03   Jan (reactivated in Apr)
    d         ent      200 from 2024-02-01 00:00 to 03-15; 260 from 03-15     Feb (expansion in Mar)
    e         smb      trial 80 from 01-15 to 02-14; 80 from 2024-02-14       Feb (the trial counts nowhere)
    f         smb      10 from 2024-03-31 to 2024-04-01 00:00                  Mar (counted at Apr 1, lost in Apr)
    g         ent      70 from 2024-03-05                                     Mar
    h         smb      only a trial                                           none: in no row

B at each period end (Feb 1, Mar 1, Apr 1, May 1):
    i 60 60 30 30 · a 100 100 100 100 · b 50 0 0 0 · c 30 0 0 40
    d 0 200 260 260 · e 0 80 80 80 · f 0 0 10 0 · g 0 0 70 70
"""

from __future__ import annotations

import datetime as dt

import pytest

from csframe.core.errors import UsageError
from csframe.core.session import Session
from tests.support.bigquery_emulator import bq_emulator  # noqa: F401 - the fixture engine_project uses
from tests.support.engines import engine_project  # noqa: F401 - the fixture

T = dt.datetime
D = dt.date
RANGE = {"start": "2024-01-01", "end": "2024-05-01"}
JAN, FEB, MAR, APR = D(2024, 1, 1), D(2024, 2, 1), D(2024, 3, 1), D(2024, 4, 1)
NOV = D(2023, 11, 1)


def _sub(sid, cust, start, end, mrr, trial=False):
    return {"subscription_id": sid, "customer_id": cust, "started_at": start, "ended_at": end, "mrr": mrr,
            "is_trial": trial}


SEGMENTS = {"i": "ent", "a": "smb", "b": "ent", "c": "smb", "d": "ent", "e": "smb", "f": "smb", "g": "ent", "h": "smb"}
TABLES = {
    "customers": [{"customer_id": c, "created_at": T(2023, 1, 1), "segment": s} for c, s in SEGMENTS.items()],
    "subscriptions": [
        _sub("i1", "i", T(2023, 11, 10), T(2024, 3, 1), 60), _sub("i2", "i", T(2024, 3, 1), None, 30),
        _sub("a1", "a", T(2024, 1, 10), None, 100),
        _sub("b1", "b", T(2024, 1, 5), T(2024, 2, 15), 50),
        _sub("c1", "c", T(2024, 1, 20), T(2024, 2, 10), 30), _sub("c2", "c", T(2024, 4, 3), None, 40),
        _sub("d1", "d", T(2024, 2, 1), T(2024, 3, 15), 200), _sub("d2", "d", T(2024, 3, 15), None, 260),
        _sub("e0", "e", T(2024, 1, 15), T(2024, 2, 14), 80, True), _sub("e1", "e", T(2024, 2, 14), None, 80),
        _sub("f1", "f", T(2024, 3, 31), T(2024, 4, 1), 10),
        _sub("g1", "g", T(2024, 3, 5), None, 70),
        _sub("h0", "h", T(2024, 2, 1), T(2024, 3, 1), 90, True),
    ],
}

# (cohort, period) -> (cohort_customers, cohort_size, logo_retention, revenue_retention), by hand:
EXPECTED = {
    # Nov 2023: N = {i}; Σ B(Dec 1) = 60
    (NOV, JAN): (1, 1, 1.0, 60 / 60), (NOV, FEB): (1, 1, 1.0, 60 / 60),
    (NOV, MAR): (1, 1, 1.0, 30 / 60), (NOV, APR): (1, 1, 1.0, 30 / 60),
    # Jan: N = {a, b, c}; Σ B(Feb 1) = 100 + 50 + 30 = 180
    (JAN, JAN): (3, 3, 1.0, 180 / 180),
    (JAN, FEB): (1, 3, 1 / 3, 100 / 180),   # b churned, c stopped
    (JAN, MAR): (1, 3, 1 / 3, 100 / 180),
    (JAN, APR): (2, 3, 2 / 3, 140 / 180),   # c reactivated at 40
    # Feb: N = {d, e}; Σ B(Mar 1) = 200 + 80 = 280
    (FEB, FEB): (2, 2, 1.0, 280 / 280),
    (FEB, MAR): (2, 2, 1.0, 340 / 280),     # d expanded 200 → 260
    (FEB, APR): (2, 2, 1.0, 340 / 280),
    # Mar: N = {f, g}; Σ B(Apr 1) = 10 + 70 = 80
    (MAR, MAR): (2, 2, 1.0, 80 / 80),
    (MAR, APR): (1, 2, 0.5, 70 / 80),       # f lost in April
}
METRICS = ["cohort_customers", "cohort_size", "logo_retention", "revenue_retention"]


@pytest.fixture(scope="module")
def project(engine_project, tmp_path_factory):  # noqa: F811
    return engine_project(tmp_path_factory.mktemp("cohorts") / "p", TABLES)


def _table(result, metric, *dims):
    out = {}
    cols = result.columns
    for row in result.rows:
        r = dict(zip(cols, row))
        if r["metric"] == metric:
            out[(r["cohort"], r["period_start"], *(r[d] for d in dims))] = r["value"]
    return out


def test_the_hand_worked_cohort_triangle(project):
    with Session.open(project) as s:
        result = s.compute(METRICS, by=["cohort"], **RANGE)
    assert result.columns == ("metric", "variant", "period_start", "period_end", "cohort", "value")
    for i, metric in enumerate(METRICS):
        got = _table(result, metric)
        assert set(got) == set(EXPECTED), metric  # only periods at or after the cohort; h is in no row
        for key, values in EXPECTED.items():
            assert got[key] == pytest.approx(values[i], rel=1e-12), (metric, key)


def test_mrr_summed_over_cohorts_is_the_whole(project):
    movements = ["mrr", "new_mrr", "expansion_mrr", "contraction_mrr", "churned_mrr", "reactivation_mrr"]
    with Session.open(project) as s:
        whole = s.compute(movements, **RANGE)
        split = s.compute(movements, by=["cohort"], **RANGE)
    sums: dict = {}
    for row in split.rows:
        r = dict(zip(split.columns, row))
        sums[(r["metric"], r["period_start"])] = sums.get((r["metric"], r["period_start"]), 0) + float(r["value"])
    for row in whole.rows:
        r = dict(zip(whole.columns, row))
        assert sums[(r["metric"], r["period_start"])] == pytest.approx(float(r["value"])), (r["metric"], r["period_start"])
    # by hand: M(May 1) = i 30 + a 100 + c 40 + d 260 + e 80 + g 70 = 580
    assert whole.value("mrr", APR) == pytest.approx(580)
    # and the identity within each cohort: M(p.end) − M(p.start) = new + reactivation + expansion − contraction − churned
    per = {}
    for row in split.rows:
        r = dict(zip(split.columns, row))
        per.setdefault((r["cohort"], r["period_start"]), {})[r["metric"]] = float(r["value"])
    for (cohort, p), v in per.items():
        before = per.get((cohort, D(p.year - (p.month == 1), (p.month - 2) % 12 + 1, 1)), {}).get("mrr", 0.0)
        if cohort < p and p == JAN:
            continue  # M(Jan 1) of the Nov cohort is not in the result
        assert v["mrr"] - before == pytest.approx(v["new_mrr"] + v["reactivation_mrr"] + v["expansion_mrr"]
                                                  - v["contraction_mrr"] - v["churned_mrr"]), (cohort, p)


def test_cohort_and_segment(project):
    with Session.open(project) as s:
        result = s.compute(["logo_retention", "revenue_retention"], by=["cohort", "segment"], **RANGE)
    assert result.columns[4:6] == ("cohort", "segment")
    logo, rev = _table(result, "logo_retention", "segment"), _table(result, "revenue_retention", "segment")
    # Jan smb = {a, c}: Σ B(Feb 1) = 130; April: a 100 + c 40
    assert logo[(JAN, APR, "smb")] == pytest.approx(1.0) and rev[(JAN, APR, "smb")] == pytest.approx(140 / 130)
    assert logo[(JAN, FEB, "smb")] == pytest.approx(0.5) and rev[(JAN, FEB, "smb")] == pytest.approx(100 / 130)
    # Jan ent = {b}: gone from February
    assert logo[(JAN, FEB, "ent")] == 0 and rev[(JAN, FEB, "ent")] == 0
    # Mar smb = {f}: 10 at Apr 1, 0 at May 1; Mar ent = {g}
    assert rev[(MAR, APR, "smb")] == 0 and rev[(MAR, APR, "ent")] == pytest.approx(1.0)
    # no (cohort, segment) without customers, no period before its cohort
    assert (FEB, FEB, "smb") in logo and (MAR, FEB, "ent") not in logo and (NOV, JAN, "smb") not in logo


def test_cohort_metrics_need_by_cohort(project):
    with Session.open(project) as s, pytest.raises(UsageError, match="needs --by cohort") as e:
        s.compute(["logo_retention"], **RANGE)
    assert e.value.exit_code == 2


def _cli(project, *args):
    import os
    import shutil
    import sys
    from pathlib import Path

    from tests.support.in_process import csframe

    exe = shutil.which("csframe") or str(Path(sys.executable).parent / "csframe")
    return csframe([exe, "compute", "--project", str(project), *args], dict(os.environ), timeout=300)


def test_the_triangle_on_the_command_line(project):
    import csv
    import io

    r = _cli(project, "-m", "logo_retention", "--by", "cohort", "--pivot", "cohort", "--format", "csv",
             "--start", "2024-01-01", "--end", "2024-05-01")
    assert r.returncode == 0, r.stderr
    rows = list(csv.reader(io.StringIO(r.stdout)))
    assert rows[0] == ["cohort", "0", "1", "2", "3", "4", "5"]  # the Nov 2023 cohort is 5 months old in April
    got = {row[0]: [float(v) if v else None for v in row[1:]] for row in rows[1:]}
    # EXPECTED's logo_retention by age; ages outside the run's range are empty
    assert got == {"2023-11-01": [None, None, 1.0, 1.0, 1.0, 1.0],
                   "2024-01-01": [1.0, pytest.approx(1 / 3), pytest.approx(1 / 3), pytest.approx(2 / 3), None, None],
                   "2024-02-01": [1.0, 1.0, 1.0, None, None, None],
                   "2024-03-01": [1.0, 0.5, None, None, None, None]}
    long = _cli(project, "-m", "logo_retention", "--by", "cohort,segment", "--format", "csv",
                "--start", "2024-01-01", "--end", "2024-05-01")
    assert long.returncode == 0, long.stderr
    assert long.stdout.splitlines()[0] == "metric,variant,period_start,period_end,cohort,segment,value"


@pytest.mark.parametrize("args,message", [
    (("-m", "logo_retention", "-m", "cohort_size", "--by", "cohort", "--pivot", "cohort"), "one metric at a time"),
    (("-m", "mrr", "--pivot", "cohort"), "--pivot cohort needs --by cohort"),
    (("-m", "logo_retention"), "needs --by cohort"),
])
def test_pivot_and_cohort_usage_errors(project, args, message):
    r = _cli(project, *args, "--start", "2024-01-01", "--end", "2024-05-01")
    assert r.returncode == 2 and message in r.stderr and "Traceback" not in r.stderr, r.stderr
