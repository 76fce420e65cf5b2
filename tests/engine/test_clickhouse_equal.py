"""One definition, the same numbers on DuckDB and ClickHouse (chdb, in this process).

As tests/engine/test_engines_equal.py: every metric and variant of the catalog over the twelve
canonical sources of the demo generator, at month, quarter and week grain and with --by segment,
the dimensioned metrics and every ``--by`` reading that is not a customers column, compared at
relative 1e-9 with NULL = NULL; and the window metrics at the window's edge (an event exactly
window_days after created_at counts, one microsecond later it does not) by hand-counted values.
"""

from __future__ import annotations

import datetime as dt

import attrs
import pytest

from csframe.core.project import Project, SourceBinding
from csframe.core.session import Session
from csframe.plugins.demo import SOURCES
from tests.engine.test_engines_equal import (
    EDGE_CUSTOMERS, EDGE_EVENTS, END, FEB, JAN, ONBOARDING_STEPS, _all_keys, _same)

pytest.importorskip("chdb", reason="the clickhouse adapter's tests need chdb (pip install 'csframe[clickhouse]')")


def _sessions(tmp, dataset, bindings):
    from csframe.adapters.clickhouse_init import test_namespace

    settings, drop = test_namespace("equal_" + tmp.name.replace("-", "_"), tmp, lambda name: None)
    out = {}
    for engine, adapter in {"duckdb": {"name": "duckdb", "database": "engines.duckdb"}, "clickhouse": settings}.items():
        s = out[engine] = Session.open(project=Project(dir=tmp, adapter=adapter, sources=bindings), entry_points=False)
        s.adapter().connect(write=True)
        s.adapter().load_tables(dataset)
    return out, drop


@pytest.fixture(scope="module")
def sessions(tmp_path_factory):
    from csframe.plugins.demo import generate

    dataset = generate(customers=120, months=30, end=END, seed=7)
    assert set(dataset.names) == set(SOURCES) and len(SOURCES) == 12
    out, drop = _sessions(tmp_path_factory.mktemp("ch_engines"), dataset, {s: SourceBinding(s, table=s) for s in SOURCES})
    yield out
    for s in out.values():
        s.close()
    drop()


CHUNK = 12
"""Keys per ClickHouse query: ClickHouse plans csframe's many-step query slowly (the whole catalog
in one query takes minutes to plan, docs/clickhouse.md), so the catalog is compared in chunks."""


def _agree(sessions, keys, **kwargs):
    """DuckDB's result, after checking ClickHouse's equals it row for row (chunk by chunk)."""
    rows, warnings = [], []
    for i in range(0, len(keys), CHUNK):
        part = keys[i:i + CHUNK]
        a = sessions["duckdb"].compute(part, end=END, **kwargs)
        b = sessions["clickhouse"].compute(part, end=END, **kwargs)
        assert a.columns == b.columns
        assert a.warnings == b.warnings  # e.g. how many customers time_to_value leaves out
        assert len(a.rows) == len(b.rows) > 0
        diffs = [(ra, rb) for ra, rb in zip(a.rows, b.rows) if ra[:-1] != rb[:-1] or not _same(ra[-1], rb[-1])]
        assert not diffs, f"clickhouse: {len(diffs)} rows differ from duckdb, e.g. {diffs[:3]}"
        rows += a.rows
        warnings += a.warnings
    return attrs.evolve(a, rows=tuple(rows), warnings=tuple(warnings)) if len(keys) > CHUNK else a


@pytest.mark.parametrize("grain,start,by", [
    ("month", "2023-01-01", ()),
    ("quarter", "2023-01-01", ()),
    ("week", "2024-09-01", ()),
    ("month", "2024-01-01", ("segment",)),
])
def test_clickhouse_agrees_with_duckdb_on_every_metric(sessions, grain, start, by):
    duck = sessions["duckdb"]
    keys = _all_keys(duck, by)
    assert len(keys) == len(list(duck.registry.all_variants())) if not by else len(keys) >= 60
    a = _agree(sessions, keys, grain=grain, start=start, by=by)
    # the data is not trivial: movements, churn, product use and support happen in the range
    values = {r[0] for r in a.rows if r[-1]}
    for metric in ("churned_customers", "expansion_mrr", "contraction_mrr", "new_customers", "renewal_rate",
                   "feature_adoption_rate", "customer_health_score", "nps", "time_to_resolution", "activation_rate"):
        assert metric in values, f"{metric} is 0 or NULL everywhere: the fixture proves nothing for it"


@pytest.mark.parametrize("metrics,by,grain,start", [
    (["onboarding_completion_rate"], ("step",), "month", "2023-07-01"),
    (["onboarding_completion_rate"], ("step", "segment"), "quarter", "2023-01-01"),
    (["customer_health_score", "health_band_customers"], ("health_band",), "month", "2023-07-01"),
    (["customer_health_score"], ("health_band", "segment"), "week", "2024-10-01"),
    (["customer_health_score"], ("customer_id",), "month", "2024-01-01"),
    (["kb_article_rating"], ("article_id",), "month", "2023-07-01"),
])
def test_clickhouse_agrees_with_duckdb_on_every_split(sessions, metrics, by, grain, start):
    a = _agree(sessions, metrics, grain=grain, start=start, by=by,
               params={"onboarding_steps": ONBOARDING_STEPS} if "step" in by else None)
    assert a.columns[-2] == by[0]
    assert len({r[-2] for r in a.rows}) >= 3 and any(r[-1] for r in a.rows)


def test_clickhouse_agrees_on_listed_features(sessions):
    a = _agree(sessions, ["feature_adoption_rate"], start="2024-01-01", by=("segment",),
               params={"features": "login, api_call, meeting"})
    assert {r[-2] for r in a.rows} == {"login", "api_call", "meeting"}


# the window's edge, the rows and hand counts of tests/engine/test_engines_equal.py:
# January, window 30 d: activated a, c, e → 3 of 6; onboarded b, c → 2 of 6.
# February, window 30 d: g and h → 2 of 2; window 1 d: g → 1 of 2.
@pytest.fixture(scope="module")
def edge_session(tmp_path_factory):
    from csframe.adapters.clickhouse_init import test_namespace
    from csframe.core.dataset import Column, Dataset, Table

    customers = Table("customers", (Column("customer_id", "VARCHAR"), Column("created_at", "TIMESTAMP")),
                      list(EDGE_CUSTOMERS.items()))
    events = Table("events", tuple(Column(n, t) for n, t in (("user_id", "VARCHAR"), ("customer_id", "VARCHAR"),
                                                           ("name", "VARCHAR"), ("occurred_at", "TIMESTAMP"))),
                   [(f"u_{c}", c, name, EDGE_CUSTOMERS[c] + dt.timedelta(microseconds=us)) for c, name, us in EDGE_EVENTS])
    tmp = tmp_path_factory.mktemp("ch_edge")
    settings, drop = test_namespace("edge_" + tmp.name.replace("-", "_"), tmp, lambda name: None)
    bindings = {s: SourceBinding(s, table=s) for s in ("customers", "events")}
    s = Session.open(project=Project(dir=tmp, adapter=settings, sources=bindings), entry_points=False)
    s.adapter().connect(write=True)
    s.adapter().load_tables(Dataset((customers, events)))
    yield s
    s.close()
    drop()


@pytest.mark.parametrize("metric,by,params,expected", [
    ("activation_rate", (), None, {(JAN,): 3 / 6, (FEB,): 2 / 2}),
    ("activation_rate", (), {"window_days": 1}, {(FEB,): 1 / 2}),
    ("onboarding_completion_rate", ("step",), {"onboarding_steps": ("activated", "onboarding_completed")},
     {(JAN, "activated"): 3 / 6, (JAN, "onboarding_completed"): 2 / 6,
      (FEB, "activated"): 2 / 2, (FEB, "onboarding_completed"): 0 / 2}),
], ids=["activation", "activation-window-1d", "onboarding-by-step"])
def test_an_event_exactly_window_days_after_created_at_counts_on_clickhouse(edge_session, metric, by, params, expected):
    r = edge_session.compute([metric], start="2024-01-01", end="2024-03-01", by=by, params=params)
    got = {(row[2], *row[4:-1]): row[-1] for row in r.rows}
    for key, value in expected.items():
        assert got.get(key) == pytest.approx(value, rel=1e-12), f"{metric} {key}: {got}"
