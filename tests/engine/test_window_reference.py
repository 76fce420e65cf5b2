"""Trailing windows against the independent reference, over generated histories (DuckDB).

The reference (tests/reference/revenue.py) defines every set of the data contract for any
half-open period, customer by customer, with exact arithmetic; it knows nothing of windows.
For a window run, each row's period is handed to it as it is: [b − window, b). Every revenue
variant must equal the reference's value for that period (relative 1e-9), and the MRR
identity must hold on every window: M(b) = M(b − window) + new + reactivation + expansion −
contraction − churned, with M(b − window) the reference's.

Left to tests/engine/test_windows.py (hand-worked): the variants whose value reads the grain
itself (``grain_months``, the previous grain period), which the reference takes from its
grain argument: on a window g is the window's length and p−1 the window before.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, Phase, given, settings

from csframe.core.periods import grain as to_grain
from csframe.core.periods import shift
from csframe.core.session import Session
from tests.reference import engines as eng
from tests.reference import revenue as ref
from tests.reference import strategies as strat
from tests.support.projects import make_project

_SESSIONS: dict[str, Session] = {}
_TMP = "/dev/shm" if Path("/dev/shm").is_dir() else None
_GRAIN_BOUND = {"grain_months", "invoiced_amount_previous"}


def _session(data) -> Session:
    if "s" not in _SESSIONS:
        path = make_project(Path(tempfile.mkdtemp(dir=_TMP)) / "p", {}, sources=list(eng.SCHEMAS))
        _SESSIONS["s"] = Session.open(path)
        _SESSIONS["s"].adapter().connect(write=True)
    session = _SESSIONS["s"]
    session.adapter().load_tables(eng.dataset(data))
    return session


def _keys(session: Session) -> list[str]:
    """The reference's keys that do not read the grain's own length or its previous period."""
    out = []
    for k in eng.ALL_KEYS:
        closure = session.graph.resolve(tuple(k.split(":")))
        measures = {m for v in closure.variants for m in session.registry.variants[v].formula().measures}
        if not measures & _GRAIN_BOUND:
            out.append(k)
    return out


def check_windows(grain: str, window: str, periods: int, data) -> None:
    g = to_grain(grain)
    bounds = strat.periods_for(grain)
    # windows ending at every boundary from the k-th period of the data on
    first = bounds[periods - 1][0].date()
    last_end = bounds[-1][1].date()
    session = _session(data)
    keys = _keys(session)
    assert len(keys) >= 30
    result = session.compute(keys, grain=grain, start=first, end=last_end, window=window)
    got = {(r[0], r[1], r[2]): r[-1] for r in result.rows}
    windows = sorted({(r[2], r[3]) for r in result.rows})
    assert windows[0] == (shift(first, g, 1 - periods), shift(first, g, 1))
    assert all(shift(e, g, -periods) == s for s, e in windows), "each row is [b − window, b)"
    import datetime as dt

    as_dt = [(dt.datetime.combine(s, dt.time()), dt.datetime.combine(e, dt.time())) for s, e in windows]
    want = ref.revenue_metrics(as_dt, grain, data["subscriptions"], data["invoices"], data["renewals"], data["costs"])
    wanted = {tuple(k.split(":")) for k in keys}
    wrong = [f"{m}:{v} {s}: csframe {got.get((m, v, s))!r}, reference {w!r}"
             for (m, v, s), w in want.items() if (m, v) in wanted and not eng.same(got.get((m, v, s)), w)]
    assert not wrong, f"{len(wrong)} values differ:\n" + "\n".join(wrong[:30])
    ledger = ref.Ledger(data["subscriptions"])
    for (s, e), (ps, _pe) in zip(windows, as_dt):
        flow = sum(got[(m, "default", s)] for m in ("new_mrr", "reactivation_mrr", "expansion_mrr")) \
            - got[("contraction_mrr", "default", s)] - got[("churned_mrr", "default", s)]
        assert abs(got[("mrr", "default", s)] - (float(ledger.M(ps)) + flow)) <= 1e-9, (s, e)


_SETTINGS = settings(deadline=None, phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink],
                     suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@settings(_SETTINGS, max_examples=15)
@given(data=strat.revenue_data("month"))
def test_three_month_windows_equal_the_reference(data):
    check_windows("month", "3m", 3, data)


@settings(_SETTINGS, max_examples=10)
@given(data=strat.revenue_data("week"))
def test_five_week_windows_equal_the_reference(data):
    check_windows("week", "5w", 5, data)
