"""Properties of csframe's revenue metrics on DuckDB over generated subscription histories.

For month, quarter and week grain, ``tests/reference/strategies.py`` draws histories full of
rows that start and end exactly on period boundaries (or one second off them), price changes,
gaps, trials, mrr-0 and zero-length rows, plus invoices for the same customers.  For each
history csframe computes the metrics below in one query over every period the strategies can
touch, and

* the MRR identity of data-contract.md holds for every period, to 1e-9 absolute:
  M(p.end) = M(p.start) + new + reactivation + expansion − contraction − churned, with
  M(p.start) the ``mrr`` of p−1 (and the reference's M for the first period), and
  ``net_new_mrr`` is that same sum;
* every value equals the independent pure-Python reference (``tests/reference/revenue.py``),
  relative 1e-9, None only where the reference has None.

Each grain has one DuckDB project (on a tmpfs when there is one); each example replaces its
tables through the adapter's ``load_tables``, so the query is compiled once per grain.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from csframe.core.dataset import Column, Dataset, Table
from csframe.core.session import Session
from tests.reference import revenue as ref
from tests.reference import strategies as strat
from tests.support.projects import make_project

MOVEMENTS = ("new_mrr", "reactivation_mrr", "expansion_mrr", "contraction_mrr", "churned_mrr")
KEYS = (
    "customers:default", "new_customers:default", "churned_customers:default", "reactivated_customers:default",
    "mrr:default", *(f"{m}:default" for m in MOVEMENTS), "net_new_mrr:default",
    "churn_rate:lost_over_start", "churn_rate:net_loss", "churn_rate:lost_over_active",
    "retention_rate:end_minus_new", "retention_rate:cohort",
    "net_revenue_retention:default", "gross_revenue_retention:default",
    "arpu:mrr", "average_customer_lifespan:observed",
    "customer_lifetime_value:aov_x_frequency_x_lifetime", "customer_lifetime_value:historical_revenue_per_customer",
)

SCHEMAS = {
    "subscriptions": {"subscription_id": "VARCHAR", "customer_id": "VARCHAR", "started_at": "TIMESTAMP",
                      "ended_at": "TIMESTAMP", "mrr": "DECIMAL(18,2)", "is_trial": "BOOLEAN"},
    "invoices": {"invoice_id": "VARCHAR", "customer_id": "VARCHAR", "paid_at": "TIMESTAMP", "amount": "DECIMAL(18,2)",
                 "kind": "VARCHAR"},
}


_SESSIONS: dict[str, Session] = {}  # one project per grain: each example replaces its tables


@pytest.fixture(scope="module", autouse=True)
def _close_sessions():
    yield
    for session in _SESSIONS.values():
        session.close()
    _SESSIONS.clear()


def load(grain: str, tables: dict[str, list[dict]]) -> Session:
    """The grain's project (made on first use; hypothesis and function-scoped fixtures do not mix),
    its tables replaced by ``tables``, columns typed as the contract wants them."""
    if grain not in _SESSIONS:
        path = make_project(Path(tempfile.mkdtemp(dir=_TMP)) / "p", {}, sources=list(SCHEMAS))
        _SESSIONS[grain] = Session.open(path)
        _SESSIONS[grain].adapter().connect(write=True)
    session = _SESSIONS[grain]
    session.adapter().load_tables(Dataset(tuple(
        Table(name, tuple(Column(c, t) for c, t in SCHEMAS[name].items()),
              [tuple(r.get(c) for c in SCHEMAS[name]) for r in tables[name]])
        for name in SCHEMAS)))
    return session


# a tmpfs when there is one: DuckDB syncs its file on every checkpoint
_TMP = "/dev/shm" if Path("/dev/shm").is_dir() else None


def _same(got: float | None, want: float | None) -> bool:
    if want is None or got is None:
        return got is None and want is None
    # relative 1e-9 with no absolute slack (pytest.approx would accept anything within 1e-12 of
    # a lifespan of a few seconds, 1e-7 months), unless 0 is expected
    return got == pytest.approx(want, rel=1e-9, abs=0 if want else 1e-12)


@st.composite
def histories(draw: st.DrawFn, grain: str) -> dict[str, list[dict]]:
    subscriptions = draw(strat.subscription_histories(grain))
    return {"subscriptions": subscriptions,
            "invoices": draw(strat.invoices_for(strat.customers_of(subscriptions), grain))}


def check_history(grain: str, data: dict[str, list[dict]]) -> None:
    periods = strat.periods_for(grain)
    session = load(grain, data)
    result = session.compute(list(KEYS), grain=grain, start=periods[0][0].date(), end=periods[-1][1].date())
    got: dict[tuple[str, str, dt.date], float | None] = {}
    for metric, variant, start, _end, value in result.rows:
        got[(metric, variant, start)] = value
    starts = [s.date() for s, _e in periods]
    assert sorted({k[2] for k in got}) == starts

    # The MRR identity, period by period, on csframe's own numbers
    m_start = float(ref.Ledger(data["subscriptions"]).M(periods[0][0]))
    for p in starts:
        mv = {m: got[(m, "default", p)] for m in MOVEMENTS}
        flow = mv["new_mrr"] + mv["reactivation_mrr"] + mv["expansion_mrr"] - mv["contraction_mrr"] - mv["churned_mrr"]
        m_end = got[("mrr", "default", p)]
        assert m_end == pytest.approx(m_start + flow, abs=1e-9), (p, m_start, mv, m_end)
        assert got[("net_new_mrr", "default", p)] == pytest.approx(flow, abs=1e-9), p
        m_start = m_end

    # Everything against the reference
    want = ref.revenue_metrics(periods, grain, data["subscriptions"], data["invoices"])
    wrong = []
    for key in KEYS:
        metric, variant = key.split(":")
        for p in starts:
            g, w = got[(metric, variant, p)], want[(metric, variant, p)]
            if not _same(g, w):
                wrong.append(f"{key} {p}: csframe {g!r}, reference {w!r}")
    assert not wrong, "\n".join(wrong)


_SETTINGS = settings(deadline=None, phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink],
                     suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@settings(_SETTINGS, max_examples=40)
@given(data=histories("month"))
def test_identity_and_reference_month(data):
    check_history("month", data)


@settings(_SETTINGS, max_examples=40)
@given(data=histories("quarter"))
def test_identity_and_reference_quarter(data):
    check_history("quarter", data)


@settings(_SETTINGS, max_examples=35)
@given(data=histories("week"))
def test_identity_and_reference_week(data):
    check_history("week", data)
