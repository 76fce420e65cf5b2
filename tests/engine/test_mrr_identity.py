"""Properties of csframe's revenue metrics on DuckDB over generated histories.

For month, quarter and week grain, ``tests/reference/strategies.py`` draws histories full of
rows that start and end exactly on period boundaries (or one second off them), price changes,
gaps, trials, mrr-0 and zero-length rows, plus invoices, renewals and costs for the same
customers and a ``customers`` row (with a ``segment``, sometimes NULL) for most of them.  For
each history csframe computes every variant of the revenue catalog (all 45) in one query over
every period the strategies can touch, and

* the MRR identity of data-contract.md holds for every period (``tests/reference/engines.py``);
* every value equals the independent pure-Python reference (``tests/reference/revenue.py``),
  relative 1e-9, None only where the reference has None.

One test per grain also runs ``--by segment`` (every variant but the four that read ``costs``,
which cannot be split): each segment, NULL included, against the reference run on that segment's
rows alone, customers without a ``customers`` row in no group.

Each grain has one DuckDB project (on a tmpfs when there is one); each example replaces its
tables through the adapter's ``load_tables``, so the query is compiled once per grain.
tests/engine/test_reference_engines.py runs the same comparison on PostgreSQL and BigQuery.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings

from csframe.core.session import Session
from tests.reference import engines as eng
from tests.reference import strategies as strat
from tests.support.projects import make_project

_SESSIONS: dict[str, Session] = {}  # one project per grain: each example replaces its tables


@pytest.fixture(scope="module", autouse=True)
def _close_sessions():
    yield
    for session in _SESSIONS.values():
        session.close()
    _SESSIONS.clear()


# a tmpfs when there is one: DuckDB syncs its file on every checkpoint
_TMP = "/dev/shm" if Path("/dev/shm").is_dir() else None


def load(grain: str, data: dict[str, list[dict]]) -> Session:
    """The grain's project (made on first use; hypothesis and function-scoped fixtures do not mix),
    its tables replaced by ``data``."""
    if grain not in _SESSIONS:
        path = make_project(Path(tempfile.mkdtemp(dir=_TMP)) / "p", {}, sources=list(eng.SCHEMAS))
        _SESSIONS[grain] = Session.open(path)
        _SESSIONS[grain].adapter().connect(write=True)
    session = _SESSIONS[grain]
    session.adapter().load_tables(eng.dataset(data))
    return session


def check_history(grain: str, data: dict[str, list[dict]], by: tuple[str, ...] = ()) -> None:
    periods = strat.periods_for(grain)
    starts = [s.date() for s, _e in periods]
    keys = eng.SPLIT_KEYS if by else eng.ALL_KEYS
    session = load(grain, data)
    result = session.compute(list(keys), grain=grain, start=starts[0], end=periods[-1][1].date(), by=by)
    got = eng.got_values(result, by)
    # --by: "each distinct value among customers gets its rows", so no customers rows, no rows
    assert sorted({k[2] for k in got}) == (starts if data["customers"] or not by else [])

    errors = eng.identity_errors(got, eng.first_balances(data, periods[0][0], by), starts)
    assert not errors, "\n".join(errors)

    want = eng.reference_values(periods, grain, data, keys, by)
    wrong = eng.mismatches(got, want)
    assert not wrong, f"{len(wrong)} values differ:\n" + "\n".join(wrong[:30])


_SETTINGS = settings(deadline=None, phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink],
                     suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@settings(_SETTINGS, max_examples=25)
@given(data=strat.revenue_data("month"))
def test_identity_and_reference_month(data):
    check_history("month", data)


@settings(_SETTINGS, max_examples=25)
@given(data=strat.revenue_data("quarter"))
def test_identity_and_reference_quarter(data):
    check_history("quarter", data)


@settings(_SETTINGS, max_examples=20)
@given(data=strat.revenue_data("week"))
def test_identity_and_reference_week(data):
    check_history("week", data)


@settings(_SETTINGS, max_examples=8)
@given(data=strat.revenue_data("month"))
def test_identity_and_reference_month_by_segment(data):
    check_history("month", data, ("segment",))


@settings(_SETTINGS, max_examples=6)
@given(data=strat.revenue_data("quarter"))
def test_identity_and_reference_quarter_by_segment(data):
    check_history("quarter", data, ("segment",))


@settings(_SETTINGS, max_examples=6)
@given(data=strat.revenue_data("week"))
def test_identity_and_reference_week_by_segment(data):
    check_history("week", data, ("segment",))


def test_by_segment_without_customers_rows_gives_no_rows():
    """Found by a long run of the property above: every customer without a ``customers`` row
    leaves no group at all, so a split run has no rows (and the whole still counts them)."""
    row = {"subscription_id": "s", "customer_id": "c", "started_at": strat.RANGE_START, "ended_at": None,
           "mrr": Decimal("10.00"), "is_trial": False}
    data = {"subscriptions": [row], "invoices": [], "renewals": [], "costs": [], "customers": []}
    check_history("month", data, ("segment",))
    check_history("month", data)
    result = load("month", data).compute(["mrr"], start="2024-01-01", end="2024-02-01")
    assert [r[-1] for r in result.rows] == [10]


def test_by_segment_groups_with_nothing_get_zero_and_null():
    """A segment whose only customer never paid, and the NULL segment of a customer without rows:
    every period has their rows, 0 for counts and sums, NULL for ratios (data-contract.md, --by)."""
    row = {"subscription_id": "s", "customer_id": "c", "started_at": strat.RANGE_START, "ended_at": None,
           "mrr": Decimal("10.00"), "is_trial": False}
    customers = [{"customer_id": c, "created_at": strat.RANGE_START, "segment": s, "history": None}
                 for c, s in (("c", "smb"), ("ghost", "ent"), ("c2", None))]
    data = {"subscriptions": [row], "invoices": [], "renewals": [], "costs": [], "customers": customers}
    check_history("month", data, ("segment",))
    got = eng.got_values(load("month", data).compute(["mrr", "churn_rate"], start="2024-01-01", end="2024-02-01",
                                                     by=("segment",)), ("segment",))
    jan = dt.date(2024, 1, 1)
    assert got == {("mrr", "default", jan, ("smb",)): 10, ("mrr", "default", jan, ("ent",)): 0,
                   ("mrr", "default", jan, (None,)): 0, ("churn_rate", "lost_over_start", jan, ("smb",)): 0,
                   ("churn_rate", "lost_over_start", jan, ("ent",)): None,
                   ("churn_rate", "lost_over_start", jan, (None,)): None}
