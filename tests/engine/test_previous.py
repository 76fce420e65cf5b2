"""previous() in formulas, mrr_growth_rate and compute --vs on the three engines, by hand.

    customer  segment  rows
    w         a        30 from 2023-06-01 to 2023-08-01 (old history: new and lost before the run)
    v         b        40 from 2023-02-15 to 2023-03-10
    x         a        100 from 2023-12-10
    y         b        50 from 2024-02-05 to 2024-03-20
    z         a        200 from 2024-04-10

M(b), B counted for started_at < b ≤ ended_at:
    M(2023-03-01) = 40 (v) · M(2023-07-01) = 30 (w) · M(2023-12-01) = 0
    M(2024-01-01) = 100 · M(02-01) = 100 · M(03-01) = 150 · M(04-01) = 100 · M(05-01) = 300
so mrr (M at p.end) is Dec 100, Jan 100, Feb 150, Mar 100, Apr 300 (Nov 0).
new customers per month: Feb 2023 v, Jun 2023 w, Dec x, Feb y, Apr z.
"""

from __future__ import annotations

import datetime as dt

import pytest

from csframe.core.errors import DefinitionError, UsageError
from csframe.core.session import Session
from tests.support.bigquery_emulator import bq_emulator  # noqa: F401 - the fixture engine_project uses
from tests.support.engines import engine_project  # noqa: F401 - the fixture

T = dt.datetime
D = dt.date
DEC, JAN, FEB, MAR, APR = D(2023, 12, 1), D(2024, 1, 1), D(2024, 2, 1), D(2024, 3, 1), D(2024, 4, 1)


def _sub(sid, cust, start, end, mrr):
    return {"subscription_id": sid, "customer_id": cust, "started_at": start, "ended_at": end, "mrr": mrr}


TABLES = {
    "customers": [{"customer_id": c, "created_at": T(2023, 1, 1), "segment": s}
                  for c, s in {"w": "a", "v": "b", "x": "a", "y": "b", "z": "a"}.items()],
    "subscriptions": [
        _sub("w1", "w", T(2023, 6, 1), T(2023, 8, 1), 30),
        _sub("v1", "v", T(2023, 2, 15), T(2023, 3, 10), 40),
        _sub("x1", "x", T(2023, 12, 10), None, 100),
        _sub("y1", "y", T(2024, 2, 5), T(2024, 3, 20), 50),
        _sub("z1", "z", T(2024, 4, 10), None, 200),
    ],
}

PLUGIN = '''
from csframe.core.hookspecs import hookimpl
from csframe.core.models import Metric, Variant


@hookimpl
def csframe_register_metrics(registrar):
    registrar.metric(Metric("mrr_two_back", "money", "M two periods earlier",
                            (Variant("default", "previous(mrr_end, 2)"),)))
    registrar.metric(Metric("new_vs_before", "count", "new customers minus the period before's",
                            (Variant("default", "new_customers - previous(new_customers)"),)))
    registrar.metric(Metric("reactivated_before", "count", "|R| of the period before",
                            (Variant("default", "previous(reactivated_customers)"),)))
    registrar.metric(Metric("growth_of_growth", "share", "not supported: previous() of previous()",
                            (Variant("default", "previous(ref('mrr_growth_rate'))"),)))
'''


@pytest.fixture(scope="module")
def project(engine_project, tmp_path_factory):  # noqa: F811
    path = engine_project(tmp_path_factory.mktemp("previous") / "p", TABLES,
                          toml_extra='[plugins]\nmodules = ["pop_metrics"]\n')
    (path / "pop_metrics.py").write_text(PLUGIN, encoding="utf-8")
    return path


def _values(result, metric, column="value", **dims):
    out = {}
    for row in result.rows:
        r = dict(zip(result.columns, row))
        if r["metric"] == metric and all(r[k] == v for k, v in dims.items()):
            out[r["period_start"]] = None if r[column] is None else float(r[column])
    return out


def test_mrr_growth_rate_by_hand(project):
    with Session.open(project) as s:
        result = s.compute(["mrr_growth_rate"], start="2023-12-01", end="2024-05-01")
        by = s.compute(["mrr_growth_rate"], start="2024-01-01", end="2024-05-01", by=["segment"])
    # Dec: (100 − 0) / 0 → NULL; Jan (100 − 100)/100; Feb (150 − 100)/100; Mar (100 − 150)/150; Apr (300 − 100)/100
    assert _values(result, "mrr_growth_rate") == {DEC: None, JAN: 0, FEB: 0.5, MAR: pytest.approx(-1 / 3), APR: 2}
    # the same segment's previous period: a = x, z: 100 100 100 100 → 300; b = y: 0 0 50 0 0
    assert _values(by, "mrr_growth_rate", segment="a") == {JAN: 0, FEB: 0, MAR: 0, APR: 2}
    assert _values(by, "mrr_growth_rate", segment="b") == {JAN: None, FEB: None, MAR: -1, APR: None}


def test_previous_in_a_plugin_metric(project):
    with Session.open(project) as s:
        result = s.compute(["mrr_two_back"], start="2024-01-01", end="2024-05-01")
        flows = s.compute(["new_vs_before"], start="2024-01-01", end="2024-05-01")  # alone: previous(x, 1) only
    # M(p.start) of two periods earlier: Jan → M(Dec 1) = 0, Feb → M(Jan 1) = 100, Mar → 100, Apr → M(Mar 1) = 150
    assert _values(result, "mrr_two_back") == {JAN: 0, FEB: 100, MAR: 100, APR: 150}
    # |N| − |N| of p−1: Jan 0 − 1 (x, Dec), Feb 1 − 0, Mar 0 − 1, Apr 1 − 0; the Dec value is Dec's own
    # (w and v, new long before, are not lumped into it)
    assert _values(flows, "new_vs_before") == {JAN: -1, FEB: 1, MAR: -1, APR: 1}
    # p−1 is a clean period, not the spine's first one (which also holds every change before it): in
    # July 2023 w (new in June) just kept paying, so |R| of July is 0, read in August
    with Session.open(project) as s:
        before = s.compute(["reactivated_before"], start="2023-08-01", end="2023-09-01")
    assert _values(before, "reactivated_before") == {D(2023, 8, 1): 0}


def test_previous_of_previous_is_refused(project):
    with Session.open(project) as s, pytest.raises(DefinitionError, match="previous\\(\\) of a value"):
        s.compute(["growth_of_growth"], start="2024-01-01", end="2024-05-01")


def test_vs_previous(project):
    with Session.open(project) as s:
        result = s.compute(["mrr", "churn_rate"], start="2023-12-01", end="2024-05-01", vs="previous")
    assert result.columns[-3:] == ("value", "compared_value", "change")
    assert _values(result, "mrr", "compared_value") == {DEC: 0, JAN: 100, FEB: 100, MAR: 150, APR: 100}
    # Dec against 0: NULL (the data's edge); (100−100)/100, (150−100)/100, (100−150)/150, (300−100)/100
    assert _values(result, "mrr", "change") == {DEC: None, JAN: 0, FEB: 0.5, MAR: pytest.approx(-1 / 3), APR: 2}
    # churn_rate |L|/|S|: Nov NULL (no one at its start), Dec NULL, Jan 0/1, Feb 0/1, Mar 1/2 (y), Apr 0/1
    assert _values(result, "churn_rate") == {DEC: None, JAN: 0, FEB: 0, MAR: 0.5, APR: 0}
    assert _values(result, "churn_rate", "compared_value") == {DEC: None, JAN: None, FEB: 0, MAR: 0, APR: 0.5}
    # a NULL or 0 compared value gives a NULL change; Apr (0 − 0.5) / 0.5
    assert _values(result, "churn_rate", "change") == {DEC: None, JAN: None, FEB: None, MAR: None, APR: -1}


def test_vs_year(project):
    with Session.open(project) as s:
        month = s.compute(["mrr"], start="2024-01-01", end="2024-05-01", vs="year")
        quarter = s.compute(["mrr"], grain="quarter", start="2024-01-01", end="2024-07-01", vs="year")
    # a year before: Jan 2023 M(Feb 1) = 0, Feb 2023 M(Mar 1) = 40 (v), Mar 2023 M(Apr 1) = 0, Apr 2023 0
    assert _values(month, "mrr", "compared_value") == {JAN: 0, FEB: 40, MAR: 0, APR: 0}
    assert _values(month, "mrr", "change") == {JAN: None, FEB: (150 - 40) / 40, MAR: None, APR: None}
    # quarters: Q1 2024 M(Apr 1) = 100 against Q1 2023 M(Apr 1 2023) = 0; Q2 2024 M(Jul 1) = 300 against 30 (w)
    assert _values(quarter, "mrr", "compared_value") == {JAN: 0, APR: 30}
    assert _values(quarter, "mrr", "change") == {JAN: None, APR: (300 - 30) / 30}


def test_vs_unknown_is_a_usage_error(project):
    with Session.open(project) as s, pytest.raises(UsageError, match="--vs"):
        s.compute(["mrr"], start="2024-01-01", end="2024-05-01", vs="decade")
