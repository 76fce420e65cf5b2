"""The MRR identity and the independent reference on DuckDB, PostgreSQL and the BigQuery emulator.

tests/engine/test_mrr_identity.py checks csframe against ``tests/reference/revenue.py`` one
generated history at a time, on DuckDB.  Loading a history into PostgreSQL or the emulator per
example would cost seconds each, so here hypothesis draws :data:`PER_GRAIN` histories per grain
(month, quarter, week) up front, derandomized (the same histories on every run), and they are
loaded into each engine once, side by side: history ``i`` of grain ``g`` keeps its rows under ids
prefixed ``"{g}-{i:02d}:"`` and its customers carry ``history = "{g}-{i:02d}"`` in ``customers``.
Then csframe runs, in one query each,

* every revenue variant (all 45) over the union of all histories, no ``--by``: the union is a
  history too, and the four variants that read ``costs`` (which cannot be split) are checked here;
* every variant but those four ``--by history``: each group is one drawn history, so one query
  computes every history at once (each checked at every grain, whichever grain drew it);
* at month grain, ``--by history, segment`` (segments NULL included)

(on PostgreSQL each of these at each grain, and year ``--by history``; on DuckDB and the slow emulator one per grain), and
each group's numbers must satisfy the MRR identity and equal the reference run on that
group's rows alone, relative 1e-9 (``tests/reference/engines.py`` says why that tolerance).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings

from csframe.core.project import SourceBinding
from tests.reference import engines as eng
from tests.reference import strategies as strat
from tests.support.bigquery_emulator import bq_emulator  # noqa: F401 - the fixture
from tests.support.engines import three_sessions

GRAINS = ("month", "quarter", "week")
PER_GRAIN = 6


def draw_histories(grain: str, n: int) -> list[dict[str, list[dict[str, Any]]]]:
    """``n`` histories of ``grain`` drawn by hypothesis, the same ones on every run."""
    drawn: list[dict[str, list[dict[str, Any]]]] = []

    @settings(derandomize=True, database=None, max_examples=n, phases=[Phase.generate], deadline=None,
              suppress_health_check=list(HealthCheck))
    @given(strat.revenue_data(grain))
    def collect(data: dict[str, list[dict[str, Any]]]) -> None:
        drawn.append(data)

    collect()
    return drawn


def combine(histories: dict[str, dict[str, list[dict[str, Any]]]]) -> dict[str, list[dict[str, Any]]]:
    """The histories side by side: every id prefixed with its history's name, and a ``customers``
    row for every customer (NULL segment for one the history drew without one)."""
    out: dict[str, list[dict[str, Any]]] = {name: [] for name in eng.SCHEMAS}
    for h, data in histories.items():
        def tag(value: Any) -> Any:
            return None if value is None else f"{h}:{value}"

        segments = {c["customer_id"]: c["segment"] for c in data["customers"]}
        for c in strat.customers_of(data["subscriptions"]):
            out["customers"].append({"customer_id": tag(c), "created_at": strat.RANGE_START,
                                     "segment": segments.get(c), "history": h})
        for source, key in (("subscriptions", "subscription_id"), ("invoices", "invoice_id"),
                            ("renewals", "contract_id")):
            out[source] += [{**r, key: tag(r[key]), "customer_id": tag(r["customer_id"])} for r in data[source]]
        out["costs"] += data["costs"]
    return out


@pytest.fixture(scope="module")
def data() -> dict[str, list[dict[str, Any]]]:
    histories = {f"{g}-{i:02d}": d for g in GRAINS for i, d in enumerate(draw_histories(g, PER_GRAIN))}
    assert len(histories) == len(GRAINS) * PER_GRAIN
    return combine(histories)


@pytest.fixture(scope="module")
def sessions(data, tmp_path_factory, pg_dsn, bq_emulator):  # noqa: F811
    tmp = tmp_path_factory.mktemp("reference")
    bindings = {s: SourceBinding(s, table=s) for s in eng.SCHEMAS}
    tables = eng.dataset(data)
    yield from three_sessions(tmp, tables, bindings, pg_dsn, bq_emulator.endpoint, "reference")


_WANT: dict[tuple[str, tuple[str, ...]], dict] = {}  # the reference, computed once for the three engines


def reference(data: dict[str, list[dict[str, Any]]], grain: str, by: tuple[str, ...]) -> dict:
    if (grain, by) not in _WANT:
        _WANT[(grain, by)] = eng.reference_values(strat.periods_for(grain), grain, data,
                                                  eng.SPLIT_KEYS if by else eng.ALL_KEYS, by)
    return _WANT[(grain, by)]


CASES = ([(g, by) for g in GRAINS for by in ((), ("history",))] + [("month", ("history", "segment"))]
         + [("year", ("history",))])  # the month histories' 1 January boundaries, at year grain
# The emulator takes 10-20 s a query (its data checks alone ~5 s), so every engine runs one case
# per grain, together every key (the ``costs`` ones in the week union), --by and --by two
# dimensions; PostgreSQL (fast) runs every case.  DuckDB runs each history alone, example by
# example, in tests/engine/test_mrr_identity.py.
EVERY_ENGINE = [("month", ("history", "segment")), ("quarter", ("history",)), ("week", ())]


@pytest.mark.parametrize("engine,grain,by", [(e, g, by) for e in ("duckdb", "bigquery") for g, by in EVERY_ENGINE]
                         + [("postgres", g, by) for g, by in CASES])
def test_identity_and_reference_on_every_engine(sessions, data, engine, grain, by):
    periods = strat.periods_for(grain)
    starts = [s.date() for s, _e in periods]
    keys = eng.SPLIT_KEYS if by else eng.ALL_KEYS
    result = sessions[engine].compute(list(keys), grain=grain, start=starts[0], end=periods[-1][1].date(), by=by)
    got = eng.got_values(result, by)
    assert sorted({k[2] for k in got}) == starts

    errors = eng.identity_errors(got, eng.first_balances(data, periods[0][0], by), starts)
    assert not errors, f"{engine}: {len(errors)} identity failures:\n" + "\n".join(errors[:20])
    wrong = eng.mismatches(got, reference(data, grain, by))
    assert not wrong, f"{engine}: {len(wrong)} values differ from the reference:\n" + "\n".join(wrong[:30])


def test_the_drawn_histories_are_not_trivial(data):
    """Each movement, each set and each source is non-zero somewhere, boundary instants included."""
    histories = {c["history"] for c in data["customers"]}
    assert len(histories) == len(GRAINS) * PER_GRAIN
    assert {c["segment"] for c in data["customers"]} == {*strat.SEGMENTS, None}
    want = reference(data, "month", ("history",))
    for metric in ("new_mrr", "reactivation_mrr", "expansion_mrr", "contraction_mrr", "churned_mrr"):
        nonzero = {g for (m, _v, _p, g), value in want.items() if m == metric and value}
        assert len(nonzero) >= PER_GRAIN // 2, (metric, len(nonzero))
    for key in ("renewal_rate:default", "expansion_rate:upsell_invoices", "arpu:invoiced",
                "average_customer_lifespan:observed", "customer_lifetime_value:aov_x_frequency_x_lifetime"):
        m, v = key.split(":")
        assert any(value for (mm, vv, _p, _g), value in want.items() if (mm, vv) == (m, v)), key
    union = reference(data, "month", ())
    for key in eng.COST_KEYS:
        m, v = key.split(":")
        assert any(value for (mm, vv, _p, _g), value in union.items() if (mm, vv) == (m, v)), key
    on_boundary = [r for r in data["subscriptions"] if r["started_at"] == dt.datetime(r["started_at"].year,
                                                                                        r["started_at"].month, 1)]
    assert len(on_boundary) >= 20
