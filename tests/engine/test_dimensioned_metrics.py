"""The readings of the catalog that carry a dimension (metrics.md, "Onboarding, adoption and
engagement" and "Satisfaction and support"), on one small fixture whose values are worked out
by hand below, through the whole pipeline on DuckDB **and** on a real PostgreSQL server:

* ``feature_adoption_rate`` (always ``feature``: every event name of the whole source, or the
  ``features`` listed) and ``health_band_customers`` (always ``health_band``);
* ``customer_health_score --by customer_id`` and ``--by health_band``;
* ``onboarding_completion_rate --by step`` (``onboarding_steps``);
* ``kb_article_rating --by article_id``;

with health scores exactly on the band limits (40 and 70), an empty band, customers entering and
leaving E exactly at a period boundary, events on the first instant and the last microsecond of a
period, onboarding windows hit exactly, ``--by segment`` beside a metric's own dimension, and every
source empty.

A listed name the events source does not have still gets a row (of 0 for ``features``, of
0 / cohort for ``onboarding_steps``): the list is bound as rows (``UNNEST(:p)``, see
``REQUIRES_CORE`` for the core support this needed).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import sqlglot

from csframe.core.errors import UsageError
from csframe.core.project import Project, SourceBinding
from csframe.core.session import Session
from csframe.plugins.demo import Column, Dataset, Table

T = dt.datetime
D = dt.date
FEB, MAR, APR = D(2024, 2, 1), D(2024, 3, 1), D(2024, 4, 1)

COLUMNS = {
    "customers": (("customer_id", "VARCHAR"), ("created_at", "TIMESTAMP"), ("segment", "VARCHAR")),
    "subscriptions": (("subscription_id", "VARCHAR"), ("customer_id", "VARCHAR"), ("started_at", "TIMESTAMP"),
                      ("ended_at", "TIMESTAMP"), ("mrr", "DECIMAL(18,2)"), ("is_trial", "BOOLEAN")),
    "users": (("user_id", "VARCHAR"), ("customer_id", "VARCHAR"), ("created_at", "TIMESTAMP")),
    "events": (("user_id", "VARCHAR"), ("customer_id", "VARCHAR"), ("name", "VARCHAR"), ("occurred_at", "TIMESTAMP")),
    "kb_ratings": (("article_id", "VARCHAR"), ("rated_at", "TIMESTAMP"), ("rating", "DOUBLE")),
}


def dataset(tables: dict[str, list[tuple]]) -> Dataset:
    return Dataset(tuple(Table(name, tuple(Column(c, t) for c, t in COLUMNS[name]), rows)
                         for name, rows in tables.items()))


def sub(sid: str, cid: str, start: T, end: T | None, trial: bool = False) -> tuple:
    return (sid, cid, start, end, Decimal("10.00"), trial)


def feb_days(uid: str, cid: str, hour: int) -> list[tuple]:
    """A login on every day of February 2024 (29 days); the first at 00:00:00 exactly and the last
    at 23:59:59.999999, so both ends of the period are hit."""
    rows = [(uid, cid, "login", T(2024, 2, d, hour)) for d in range(2, 29)]
    return [(uid, cid, "login", T(2024, 2, 1)), *rows, (uid, cid, "login", T(2024, 2, 29, 23, 59, 59, 999_999))]


DIM = {
    "customers": [
        ("a", T(2023, 6, 1), "smb"), ("b", T(2023, 6, 1), "smb"),
        ("c", T(2023, 6, 1), "ent"), ("g", T(2023, 6, 1), "ent"), ("k", T(2023, 6, 1), "ent"),
        ("h", T(2023, 6, 1), None), ("t", T(2023, 6, 1), None),
        # onboarding cohorts: February {n1, n2, n3}, March {n4, n5}
        ("n1", T(2024, 2, 1), "smb"),  # the first instant of February
        ("n2", T(2024, 2, 29, 23, 59, 59), "smb"),  # the last second of February
        ("n3", T(2024, 2, 10, 12), "ent"),
        ("n4", T(2024, 3, 1), None),  # the first instant of March
        ("n5", T(2024, 3, 15), None),
    ],
    "subscriptions": [
        sub("sa", "a", T(2023, 6, 1), None), sub("sb", "b", T(2023, 6, 1), None),
        sub("sc", "c", T(2023, 6, 1), None), sub("sg", "g", T(2023, 6, 1), None),
        sub("sk", "k", T(2023, 6, 1), T(2024, 3, 1)),  # ends exactly 03-01: in E of February only
        sub("sh", "h", T(2024, 3, 1), None),  # starts exactly 03-01: in E of March only
        sub("st", "t", T(2024, 1, 1), None, trial=True),  # a trial: never in E
    ],
    "users": [
        ("ua1", "a", T(2023, 6, 1)), ("ua2", "a", T(2023, 6, 1)),
        *[(f"ub{i}", "b", T(2023, 7, 1)) for i in range(1, 11)],
        ("uc1", "c", T(2023, 8, 1)), ("uh1", "h", T(2024, 2, 1)), ("uk1", "k", T(2024, 1, 5)),
        ("ut1", "t", T(2024, 1, 1)),
        *[(f"u{n}", n, created) for n, created in (("n1", T(2024, 2, 1)), ("n2", T(2024, 2, 29, 23, 59, 59)),
                                                   ("n3", T(2024, 2, 10, 12)), ("n4", T(2024, 3, 1)),
                                                   ("n5", T(2024, 3, 15)))],
    ],
    "events": [
        *feb_days("ua1", "a", 10),
        ("ua1", "a", "report", T(2024, 2, 10, 11)), ("ua1", "a", "export", T(2024, 2, 11, 11)),
        ("ua1", "a", "share", T(2024, 2, 12, 11)), ("ua1", "a", "alert", T(2024, 2, 13, 11)),
        ("ua1", "a", "api", T(2024, 2, 14, 11)),
        ("ua1", "a", "report", T(2024, 3, 1)),  # the first instant of March
        *feb_days("ub1", "b", 9),
        ("uc1", "c", "login", T(2024, 2, 15)),
        *[("uc1", "c", "login", T(2024, 3, d, 8)) for d in (2, 3, 4, 5)],
        ("uc1", "c", "login", T(2024, 3, 31, 23, 59, 59)), ("uc1", "c", "report", T(2024, 3, 5, 9)),
        ("uh1", "h", "login", T(2024, 2, 20)),  # h is not in E in February
        ("uk1", "k", "report", T(2024, 2, 29, 23)), ("uk1", "k", "meeting", T(2024, 2, 29, 23, 59, 59)),
        ("ut1", "t", "login", T(2024, 2, 5)),  # a trial-only customer: never in E
        ("un1", "n1", "connected_data", T(2024, 2, 1)),  # at created_at itself: inside the window
        ("un1", "n1", "onboarding_completed", T(2024, 3, 2)),  # created_at + 30 days exactly: inside
        ("un2", "n2", "connected_data", T(2024, 3, 1)),  # + 1 s, across the period boundary: inside
        ("un2", "n2", "onboarding_completed", T(2024, 3, 31)),  # + 30 days + 1 s: outside
        ("un3", "n3", "connected_data", T(2024, 2, 10, 11, 59, 59)),  # before created_at: ignored
        ("un3", "n3", "activated", T(2024, 2, 11)),
        ("un4", "n4", "onboarding_completed", T(2024, 3, 1)),  # at created_at: inside
        ("un4", "n4", "connected_data", T(2024, 3, 31)),  # + 30 days exactly: inside
    ],
    "kb_ratings": [
        ("KB1", T(2024, 2, 1), 4.0), ("KB1", T(2024, 2, 29, 23, 59, 59, 999_999), 5.0),
        ("KB2", T(2024, 3, 1), 3.0),  # the first instant of March
        ("KB3", T(2023, 5, 1), 2.0),  # before the spine: KB3 is an article of the source, unrated in the range
    ],
}

# Worked out by hand.
#
# The events source has 10 distinct names: login, report, export, share, alert, api, meeting,
# activated, onboarding_completed, connected_data (the features by default, depth's denominator).
# E: February {a, b, c, g, k} (k ends exactly 03-01), March {a, b, c, g, h} (h starts exactly 03-01).
#
# Health score = 100 × (frequency + breadth + depth) / 3:
#   February (29 days)
#     a: 29 of 29 days, 1 of 2 users (ua1), 6 names (login report export share alert api) → 70 (healthy)
#     b: 29 of 29 days, 1 of 10 users, 1 name                                             → 40 (needs_attention)
#     c: 1 day, 1 of 1 user, 1 name → 100 (1/29 + 1 + 1/10) / 3 ≈ 37.82                        (at_risk)
#     g: no event, no user → 0                                                                 (at_risk)
#     k: 1 day (02-29), 1 of 1 user, 2 names (report, meeting) → 100 (1/29 + 1.2) / 3 ≈ 41.15  (needs_attention)
#   March (31 days)
#     a: 1 day (03-01 00:00), 1 of 2 users, 1 name → 100 (1/31 + 1/2 + 1/10) / 3 ≈ 21.08        (at_risk)
#     c: 5 days (03-02..05, 03-31 23:59:59), 1 of 1, 2 names → 100 (5/31 + 1.2) / 3 ≈ 45.38     (needs_attention)
#     b, g, h: 0                                                                               (at_risk)
# Feature adoption (customers of E with the event in p / |E| = 5):
#   February: login a b c 3/5; report a k 2/5; export, share, alert, api a 1/5; meeting k 1/5;
#             activated, onboarding_completed, connected_data 0 (n1, n3 are not in E); h's and t's logins
#             do not count (not in E)
#   March:    report a c 2/5; login c 1/5; the rest 0
# Onboarding steps (within 30 days, both ends included): February cohort {n1, n2, n3}:
#   connected_data n1 (+0), n2 (+1 s) → 2/3; onboarding_completed n1 (+30 d) → 1/3 (n2 +30 d +1 s: no)
#   March cohort {n4, n5}: connected_data n4 (+30 d) → 1/2; onboarding_completed n4 (+0) → 1/2
# KB: February KB1 (4 + 5) / 2; March KB2 3; KB3 NULL in both; overall February 9 / 2. (A rating of no
#     article is bad data: article_id is NOT NULL.)


def _h(days: int, active_days: int, breadth: float, names: int) -> float:
    return 100 * (active_days / days + breadth + names / 10) / 3


SCORES = {
    FEB: {"a": _h(29, 29, 1 / 2, 6), "b": _h(29, 29, 1 / 10, 1), "c": _h(29, 1, 1, 1), "g": 0.0,
          "k": _h(29, 1, 1, 2)},
    MAR: {"a": _h(31, 1, 1 / 2, 1), "b": 0.0, "c": _h(31, 5, 1, 2), "g": 0.0, "h": 0.0},
}
BANDS = {
    FEB: {"at_risk": ("c", "g"), "needs_attention": ("b", "k"), "healthy": ("a",)},
    MAR: {"at_risk": ("a", "b", "g", "h"), "needs_attention": ("c",), "healthy": ()},
}
NAMES = ("activated", "alert", "api", "connected_data", "export", "login", "meeting", "onboarding_completed",
         "report", "share")
ADOPTION = {
    FEB: {"login": 3 / 5, "report": 2 / 5, "export": 1 / 5, "share": 1 / 5, "alert": 1 / 5, "api": 1 / 5,
          "meeting": 1 / 5},
    MAR: {"report": 2 / 5, "login": 1 / 5},
}
STEPS = ("connected_data", "onboarding_completed", "invited_team")  # invited_team: in no event
STEP_RATES = {FEB: {"connected_data": 2 / 3, "onboarding_completed": 1 / 3},
              MAR: {"connected_data": 1 / 2, "onboarding_completed": 1 / 2}}
KB = {FEB: {"KB1": 4.5, "KB2": None, "KB3": None}, MAR: {"KB1": None, "KB2": 3.0, "KB3": None}}

REQUIRES_CORE = ("needs core support: a list parameter bound as rows (e.g. `UNNEST(:p)` folded to a typed "
                 "array literal) — see the report")


def check(value: float | None, expected: float | None) -> None:
    if expected is None:
        assert value is None
    else:
        assert value is not None and value == pytest.approx(expected, rel=1e-9, abs=0 if expected else 1e-12)


def _open(engine: str, directory, tables: dict, pg_dsn: str | None = None) -> tuple[Session, object]:
    bindings = {name: SourceBinding(name, table=name) for name in tables}
    if engine == "duckdb":
        s = Session.open(project=Project(dir=directory, adapter={"name": "duckdb", "database": "d.duckdb"},
                                         sources=bindings), entry_points=False)
        s.adapter().connect(write=True)
        s.adapter().load_tables(dataset(tables))
        return s, lambda: None
    from tests.support.postgres import fresh_schema

    schema, drop = fresh_schema(pg_dsn)
    s = Session.open(project=Project(dir=directory, adapter={"name": "postgres", "dsn": pg_dsn, "schema": schema},
                                     sources=bindings), entry_points=False)
    s.adapter().load_tables(dataset(tables))
    return s, drop


@pytest.fixture(scope="module", params=["duckdb", "postgres"])
def dim(request, tmp_path_factory):
    dsn = request.getfixturevalue("pg_dsn") if request.param == "postgres" else None
    s, drop = _open(request.param, tmp_path_factory.mktemp(f"dim_{request.param}"), DIM, dsn)
    yield s
    s.close()
    drop()


def _compute(s: Session, metrics, **kwargs):
    return s.compute(metrics, grain=kwargs.pop("grain", "month"), start=kwargs.pop("start", "2024-02-01"),
                     end=kwargs.pop("end", "2024-04-01"), **kwargs)


def _rows(result, metric: str, key: str) -> dict:
    i = result.columns.index(key)
    return {(r[2], r[i]): r[-1] for r in result.rows if r[0] == metric}


# --------------------------------------------------------------------------------------------
# feature_adoption_rate
# --------------------------------------------------------------------------------------------


def test_feature_adoption_rate_every_event_name_of_the_source(dim):
    r = _compute(dim, ["feature_adoption_rate"])
    assert r.columns == ("metric", "variant", "period_start", "period_end", "feature", "value")
    got = _rows(r, "feature_adoption_rate", "feature")
    assert set(got) == {(p, f) for p in (FEB, MAR) for f in NAMES}  # one row per period and feature
    for (period, feature), value in got.items():
        check(value, ADOPTION[period].get(feature, 0.0))  # 0 where none used it
    assert [r_[4] for r_ in r.rows[:10]] == list(NAMES)  # ordered by period, then feature


def test_feature_adoption_rate_beside_unkeyed_metrics(dim):
    # an unkeyed metric in the same run has no feature; the keyed one shares |E| with it
    r = _compute(dim, ["customers", "feature_adoption_rate"], start="2024-02-01", end="2024-03-01")
    assert r.value("customers", FEB, feature=None) == 5
    check(r.value("feature_adoption_rate", FEB, feature="login"), 3 / 5)
    assert len(r.rows) == 1 + len(NAMES)


@pytest.mark.parametrize("features", [("login", "meeting"), "login, meeting"])
def test_features_parameter_restricts_the_rows(dim, features):
    r = _compute(dim, ["feature_adoption_rate"], params={"features": features})
    got = _rows(r, "feature_adoption_rate", "feature")
    assert set(got) == {(p, f) for p in (FEB, MAR) for f in ("login", "meeting")}
    check(got[(FEB, "meeting")], 1 / 5)
    check(got[(MAR, "meeting")], 0.0)
    check(got[(MAR, "login")], 1 / 5)


def test_a_listed_feature_nobody_ever_used_gets_a_row_of_zero(dim):
    r = _compute(dim, ["feature_adoption_rate"], params={"features": ["login", "never_seen"]})
    check(r.value("feature_adoption_rate", FEB, feature="never_seen"), 0.0)


def test_feature_adoption_rate_by_segment_keeps_the_whole_source_names(dim):
    # smb E {a, b}; ent E {c, g, k}; NULL E {} in February (h pays from March): NULL ratios, but still
    # every name of the whole source (the ent group's own events have only five of them)
    r = _compute(dim, ["feature_adoption_rate"], start="2024-02-01", end="2024-03-01", by=["segment"])
    assert r.columns == ("metric", "variant", "period_start", "period_end", "segment", "feature", "value")
    smb = {"login": 1.0, "report": 1 / 2, "export": 1 / 2, "share": 1 / 2, "alert": 1 / 2, "api": 1 / 2}
    ent = {"login": 1 / 3, "report": 1 / 3, "meeting": 1 / 3}
    for f in NAMES:
        check(r.value("feature_adoption_rate", FEB, segment="smb", feature=f), smb.get(f, 0.0))
        check(r.value("feature_adoption_rate", FEB, segment="ent", feature=f), ent.get(f, 0.0))
        check(r.value("feature_adoption_rate", FEB, segment=None, feature=f), None)
    assert len(r.rows) == 3 * len(NAMES)


# --------------------------------------------------------------------------------------------
# health bands and customer_health_score's readings
# --------------------------------------------------------------------------------------------


def test_scores_sit_exactly_on_the_band_limits():
    # the fixture is built so: a scores 70 and b 40 (computed in floating point, maybe a hair off)
    assert SCORES[FEB]["a"] == pytest.approx(70, abs=1e-9) and SCORES[FEB]["b"] == pytest.approx(40, abs=1e-9)


def test_health_band_customers_every_band_in_every_period(dim):
    r = _compute(dim, ["health_band_customers", "customers"])
    assert r.columns == ("metric", "variant", "period_start", "period_end", "health_band", "value")
    got = _rows(r, "health_band_customers", "health_band")
    assert got == {(p, band): len(members) for p, bands in BANDS.items() for band, members in bands.items()}
    assert got[(MAR, "healthy")] == 0  # an empty band is 0, not missing
    for p in (FEB, MAR):  # the bands partition E
        assert sum(v for (q, _), v in got.items() if q == p) == r.value("customers", p, health_band=None)


def test_health_band_customers_by_health_band_is_the_same_reading(dim):
    plain = _compute(dim, ["health_band_customers"])
    split = _compute(dim, ["health_band_customers"], by=["health_band"])
    assert split.rows == plain.rows


def test_customer_health_score_by_health_band(dim):
    r = _compute(dim, ["customer_health_score"], by=["health_band"])
    assert r.columns == ("metric", "variant", "period_start", "period_end", "health_band", "value")
    got = _rows(r, "customer_health_score", "health_band")
    assert len(got) == 6
    for p, bands in BANDS.items():
        for band, members in bands.items():
            expected = sum(SCORES[p][c] for c in members) / len(members) if members else None  # NULL: empty
            check(got[(p, band)], expected)


def test_customer_health_score_by_customer_id(dim):
    r = _compute(dim, ["customer_health_score"], by=["customer_id"])
    assert r.columns == ("metric", "variant", "period_start", "period_end", "customer_id", "value")
    got = _rows(r, "customer_health_score", "customer_id")
    # the customers of E only (k leaves and h arrives exactly at 03-01; t, a trial, never pays)
    assert set(got) == {(p, c) for p, scores in SCORES.items() for c in scores}
    for (p, c), value in got.items():
        check(value, SCORES[p][c])
    # the mean of the readings is the metric
    plain = _compute(dim, ["customer_health_score"])
    for p in (FEB, MAR):
        check(plain.value("customer_health_score", p), sum(SCORES[p].values()) / 5)


def test_depth_denominator_is_the_whole_source_under_by_segment(dim):
    # ent's own events have 5 names; depth still divides by the source's 10
    r = _compute(dim, ["customer_health_score"], start="2024-02-01", end="2024-03-01",
                 by=["customer_id", "segment"])
    assert r.columns == ("metric", "variant", "period_start", "period_end", "segment", "customer_id", "value")
    for c, segment in (("a", "smb"), ("b", "smb"), ("c", "ent"), ("g", "ent"), ("k", "ent")):
        check(r.value("customer_health_score", FEB, segment=segment, customer_id=c), SCORES[FEB][c])
    bands = _compute(dim, ["health_band_customers"], start="2024-02-01", end="2024-03-01", by=["segment"])
    assert bands.columns[4:6] == ("segment", "health_band")
    assert {(r_[4], r_[5]): r_[-1] for r_ in bands.rows} == {
        ("smb", "at_risk"): 0, ("smb", "needs_attention"): 1, ("smb", "healthy"): 1,
        ("ent", "at_risk"): 2, ("ent", "needs_attention"): 1, ("ent", "healthy"): 0,
        (None, "at_risk"): 0, (None, "needs_attention"): 0, (None, "healthy"): 0}


def test_health_weights_move_customers_between_bands(dim):
    # depth only: February a 60, b 10, c 10, g 0, k 20 → healthy none, needs_attention a
    r = _compute(dim, ["health_band_customers"], start="2024-02-01", end="2024-03-01",
                 params={"health_weight_frequency": 0, "health_weight_breadth": 0, "health_weight_depth": 1})
    got = _rows(r, "health_band_customers", "health_band")
    assert got == {(FEB, "at_risk"): 4, (FEB, "needs_attention"): 1, (FEB, "healthy"): 0}


# Scores exactly on a band limit that floating point computes a hair below, in April 2024 (30 days).
# The events source has 5 distinct names (login, report, and export, share, alert of March).
#   x: 19 of 30 days, 1 of 6 users, 2 of 5 names. Default weights: 100 (19/30 + 1/6 + 2/5) / 3 = 40,
#      computed 39.99999999999999; weights 0.57/0.08/0.35: 100 (0.361 + 0.01333 + 0.14) ≈ 51.43
#   y: 30 of 30 days, 3 of 4 users, 1 of 5 names. Weights 0.57/0.08/0.35: 100 (0.57 + 0.06 + 0.07) = 70,
#      computed 69.99999999999999; default weights: 100 (1 + 3/4 + 1/5) / 3 = 65
LIMITS = {
    "customers": [("x", T(2024, 1, 1), "smb"), ("y", T(2024, 1, 1), "smb")],
    "subscriptions": [sub("sx", "x", T(2024, 1, 1), None), sub("sy", "y", T(2024, 1, 1), None)],
    "users": [*[(f"x{i}", "x", T(2024, 1, 1)) for i in range(6)], *[(f"y{i}", "y", T(2024, 1, 1)) for i in range(4)]],
    "events": [
        *[("x0", "x", "login", T(2024, 4, d, 9)) for d in range(1, 20)], ("x0", "x", "report", T(2024, 4, 3, 10)),
        *[(f"y{i}", "y", "login", T(2024, 4, d, 9 + i)) for i in range(3) for d in range(1, 31)],
        *[("x0", "x", name, T(2024, 3, 5)) for name in ("export", "share", "alert")],
    ],
}


def _session_on(request, directory, tables: dict):
    """A session over ``tables`` on the engine of ``request.param``, closed (and its schema
    dropped) after the test."""
    dsn = request.getfixturevalue("pg_dsn") if request.param == "postgres" else None
    s, drop = _open(request.param, directory, tables, dsn)
    yield s
    s.close()
    drop()


@pytest.fixture(params=["duckdb", "postgres"])
def limits(request, tmp_path):
    yield from _session_on(request, tmp_path, LIMITS)


@pytest.mark.parametrize("weights,customer,limit,bands", [
    # the default weights (⅓ each): x scores 40 → needs_attention, not at_risk; y 65
    ((1 / 3, 1 / 3, 1 / 3), "x", 40, {"at_risk": 0, "needs_attention": 2, "healthy": 0}),
    # y scores 70 → healthy, not needs_attention; x ≈ 51.43
    ((0.57, 0.08, 0.35), "y", 70, {"at_risk": 0, "needs_attention": 1, "healthy": 1}),
])
def test_bands_are_decided_on_the_score_rounded_to_6_decimals(limits, weights, customer, limit, bands):
    w_f, w_b, w_d = weights
    f, b, d = {"x": (19 / 30, 1 / 6, 2 / 5), "y": (1.0, 3 / 4, 1 / 5)}[customer]
    assert 100 * (w_f * f + w_b * b + w_d * d) < limit  # what the engine computes: a hair below
    params = {"health_weight_frequency": w_f, "health_weight_breadth": w_b, "health_weight_depth": w_d}
    r = _compute(limits, ["customer_health_score"], start="2024-04-01", end="2024-05-01", by=["customer_id"],
                 params=params)
    assert r.value("customer_health_score", APR, customer_id=customer) < limit
    assert r.value("customer_health_score", APR, customer_id=customer) == pytest.approx(limit, abs=1e-9)
    r = _compute(limits, ["health_band_customers"], start="2024-04-01", end="2024-05-01", params=params)
    assert {row[4]: row[-1] for row in r.rows} == bands


@pytest.mark.parametrize("w_f,band", [
    # on 2024-04-01 (day grain) x and y both have frequency 1 and depth 1/5: with breadth's weight 0 they
    # score 100 (w_f + 0.2 (1 − w_f)) = 39.9999994997 (→ 39.999999: at_risk) and 69.9999994997
    # (→ 69.999999: needs_attention); a score rounded at 9 decimals first would land a band higher
    (0.24999999374625, "at_risk"),
    (0.62499999374625, "needs_attention"),
])
def test_bands_round_the_score_once_at_the_sixth_decimal(limits, w_f, band):
    params = {"health_weight_frequency": w_f, "health_weight_breadth": 0, "health_weight_depth": 1 - w_f}
    r = _compute(limits, ["customer_health_score"], grain="day", start="2024-04-01", end="2024-04-02",
                 by=["customer_id"], params=params)
    limit = 40 if band == "at_risk" else 70
    for c in ("x", "y"):
        assert r.value("customer_health_score", APR, customer_id=c) == pytest.approx(limit - 5.003e-7, abs=1e-12)
    r = _compute(limits, ["health_band_customers"], grain="day", start="2024-04-01", end="2024-04-02", params=params)
    assert {row[4]: row[-1] for row in r.rows} == {"at_risk": 0, "needs_attention": 0, "healthy": 0, band: 2}


def test_health_weights_must_sum_to_one(limits):
    with pytest.raises(UsageError, match=r"metric customer_health_score: the health weights must sum to 1.*"
                                         r"they sum to 1\.87 \(health_weight_frequency = 0\.57"):
        _compute(limits, ["customer_health_score"], params={
            "health_weight_frequency": 0.57, "health_weight_breadth": 0.6, "health_weight_depth": 0.7})
    with pytest.raises(UsageError, match=r"metric health_band_customers: the health weights must sum to 1.*"
                                         r"they sum to 0\.6666666667 \(health_weight_frequency = 0\.3333333333"):
        _compute(limits, ["health_band_customers"], params={"health_weight_depth": 0})


ORPHANS = {
    "customers": [("x", T(2023, 1, 1), "smb")],
    "subscriptions": [sub("sx", "x", T(2023, 1, 1), None)],
    "users": [("ux", "x", T(2023, 1, 1))],
    # x logs in on one day of February; "ghost" is an event of a customer the customers source does not have
    "events": [("ux", "x", "login", T(2024, 2, 10)), ("uq", "nobody", "ghost", T(2023, 6, 1))],
}


@pytest.fixture(params=["duckdb", "postgres"])
def orphans(request, tmp_path):
    yield from _session_on(request, tmp_path, ORPHANS)


def test_the_whole_source_includes_events_of_unknown_customers(orphans):
    # without --by: 2 names (login, ghost) → x scores 100 (1/29 + 1 + 1/2) / 3, and ghost is a feature (0)
    r = _compute(orphans, ["customer_health_score", "feature_adoption_rate"], start="2024-02-01", end="2024-03-01")
    check(r.value("customer_health_score", FEB, feature=None), _h(29, 1, 1, 0) + 100 * (1 / 2) / 3)
    assert {row[4] for row in r.rows if row[0] == "feature_adoption_rate"} == {"ghost", "login"}


def test_the_whole_source_under_by_segment_includes_events_of_unknown_customers(orphans):
    # --by segment drops "nobody"'s event from every group, but not from the whole source (all_events)
    r = _compute(orphans, ["customer_health_score", "feature_adoption_rate"], start="2024-02-01", end="2024-03-01",
                 by=["segment"])
    assert {row[5] for row in r.rows if row[0] == "feature_adoption_rate"} == {"ghost", "login"}
    check(r.value("customer_health_score", FEB, segment="smb", feature=None), _h(29, 1, 1, 0) + 100 * (1 / 2) / 3)


# --------------------------------------------------------------------------------------------
# onboarding_completion_rate --by step
# --------------------------------------------------------------------------------------------


def test_onboarding_completion_rate_by_step(dim):
    r = _compute(dim, ["onboarding_completion_rate"], by=["step"], params={"onboarding_steps": STEPS})
    assert r.columns == ("metric", "variant", "period_start", "period_end", "step", "value")
    got = _rows(r, "onboarding_completion_rate", "step")
    assert {k: v for k, v in got.items() if k[1] != "invited_team"}.keys() == {
        (p, s) for p in STEP_RATES for s in STEP_RATES[p]}
    for (p, step), value in got.items():
        if step != "invited_team":
            check(value, STEP_RATES[p][step])
    # the step of onboarding_event is the metric itself
    plain = _compute(dim, ["onboarding_completion_rate"])
    for p in (FEB, MAR):
        check(plain.value("onboarding_completion_rate", p), STEP_RATES[p]["onboarding_completed"])


def test_onboarding_steps_window_parameter(dim):
    # window_days = 0: only events at created_at itself — n1 connected_data, n4 onboarding_completed
    r = _compute(dim, ["onboarding_completion_rate"], by=["step"],
                 params={"onboarding_steps": "connected_data,onboarding_completed", "window_days": 0})
    got = _rows(r, "onboarding_completion_rate", "step")
    assert got == pytest.approx({(FEB, "connected_data"): 1 / 3, (FEB, "onboarding_completed"): 0.0,
                                 (MAR, "connected_data"): 0.0, (MAR, "onboarding_completed"): 1 / 2}, rel=1e-12)


def test_onboarding_steps_by_segment(dim):
    # February cohort: smb {n1, n2}, ent {n3}; March: NULL {n4, n5}
    r = _compute(dim, ["onboarding_completion_rate"], by=["step", "segment"],
                 params={"onboarding_steps": ["connected_data"]})
    check(r.value("onboarding_completion_rate", FEB, segment="smb", step="connected_data"), 1.0)
    check(r.value("onboarding_completion_rate", FEB, segment="ent", step="connected_data"), 0.0)
    check(r.value("onboarding_completion_rate", FEB, segment=None, step="connected_data"), None)
    check(r.value("onboarding_completion_rate", MAR, segment=None, step="connected_data"), 1 / 2)


def test_a_listed_step_nobody_ever_took_gets_a_row_of_zero(dim):
    r = _compute(dim, ["onboarding_completion_rate"], by=["step"], params={"onboarding_steps": STEPS})
    check(r.value("onboarding_completion_rate", FEB, step="invited_team"), 0.0)


def test_by_step_without_onboarding_steps_is_a_usage_error(dim):
    try:
        r = _compute(dim, ["onboarding_completion_rate"], by=["step"])
    except UsageError as e:
        assert "onboarding_steps" in e.message and e.exit_code == 2
        return
    assert False, f"no usage error: {len(r.rows)} rows"


def test_onboarding_steps_is_read_by_the_step_split_only(dim):
    # no default, a list, required by --by step and read by nothing else
    spec = dim.registry.parameters["onboarding_steps"][1]
    assert (spec.default, spec.kind, spec.required) == (None, "list", True)
    key = ("onboarding_completion_rate", "default")
    assert "onboarding_steps" in dim.graph.resolve(key, "step").parameters
    assert "onboarding_steps" not in dim.graph.resolve(key).parameters
    users = {k for k in ((rv.metric, rv.variant.name) for rv in dim.registry.all_variants())
             if "onboarding_steps" in dim.graph.resolve(k).parameters}
    assert users == set()
    plain = _compute(dim, ["onboarding_completion_rate"])  # without --by step it is not needed
    assert plain.rows


# --------------------------------------------------------------------------------------------
# kb_article_rating --by article_id
# --------------------------------------------------------------------------------------------


def test_kb_article_rating_by_article_id(dim):
    r = _compute(dim, ["kb_article_rating"], by=["article_id"])
    assert r.columns == ("metric", "variant", "period_start", "period_end", "article_id", "value")
    got = _rows(r, "kb_article_rating", "article_id")
    assert set(got) == {(p, a) for p in KB for a in KB[p]}  # every article of the source, every period
    for (p, a), value in got.items():
        check(value, KB[p][a])
    plain = _compute(dim, ["kb_article_rating"])
    check(plain.value("kb_article_rating", FEB), 9 / 2)


def test_kb_article_rating_cannot_be_split_by_a_customer_dimension(dim):
    with pytest.raises(UsageError, match="kb_article_rating:default reads kb_ratings"):
        _compute(dim, ["kb_article_rating"], by=["article_id", "segment"])


# --------------------------------------------------------------------------------------------
# Usage
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("metrics,by,match", [
    (["customer_health_score", "mrr"], ["health_band"], "mrr:default cannot be split by health_band"),
    (["onboarding_completion_rate", "feature_adoption_rate"], ["step"], "feature_adoption_rate:default cannot"),
    (["kb_article_rating", "customers"], ["article_id"], "customers:default cannot be split by article_id"),
    (["customer_health_score"], ["health_band", "customer_id"], "cannot both split"),
])
def test_a_split_a_metric_does_not_offer_is_a_usage_error(dim, metrics, by, match):
    with pytest.raises(UsageError, match=match) as e:
        _compute(dim, metrics, by=by, params={"onboarding_steps": ["connected_data"]})
    assert e.value.exit_code == 2


def test_a_dimension_a_metric_carries_cannot_be_a_customers_dimension(dim):
    with pytest.raises(UsageError, match="already carries the dimension feature"):
        _compute(dim, ["feature_adoption_rate"], by=["feature"])


def test_sql_renders_in_every_dialect(dim):
    for metrics, by, params in [
        (["feature_adoption_rate", "health_band_customers", "mrr"], [], {"features": ["login"]}),
        (["customer_health_score"], ["health_band", "segment"], {}),
        (["customer_health_score"], ["customer_id"], {}),
        (["onboarding_completion_rate"], ["step"], {"onboarding_steps": ["a", "b"]}),
        (["kb_article_rating"], ["article_id"], {}),
    ]:
        plan = dim.plan(dim.request(dim.keys(metrics), start="2024-02-01", end="2024-04-01", by=by), params)
        for dialect in ("duckdb", "postgres", "bigquery"):
            _, sql = dim.compile(plan, dialect)
            sqlglot.parse_one(sql, read=dialect)


# --------------------------------------------------------------------------------------------
# Every source empty
# --------------------------------------------------------------------------------------------


def test_every_source_empty(tmp_path):
    s, _ = _open("duckdb", tmp_path, {name: [] for name in COLUMNS})
    try:
        jan = D(2024, 1, 1)
        kw = dict(start="2024-01-01", end="2024-02-01")
        r = _compute(s, ["feature_adoption_rate", "health_band_customers"], **kw)
        # no event name in the source: no feature; every band, 0
        assert [(row[0], row[5], row[-1]) for row in r.rows] == [
            ("health_band_customers", b, 0) for b in ("at_risk", "healthy", "needs_attention")]
        r = _compute(s, ["customer_health_score"], by=["health_band"], **kw)
        assert {row[4]: row[-1] for row in r.rows} == {"at_risk": None, "healthy": None, "needs_attention": None}
        assert _compute(s, ["customer_health_score"], by=["customer_id"], **kw).rows == ()
        assert _compute(s, ["kb_article_rating"], by=["article_id"], **kw).rows == ()
        # a listed step is a row even when the source has no event of it: no cohort, so NULL
        r = _compute(s, ["onboarding_completion_rate"], by=["step"], params={"onboarding_steps": ["x"]}, **kw)
        assert [(row[4], row[-1]) for row in r.rows] == [("x", None)]
        assert _compute(s, ["customer_health_score"], **kw).value("customer_health_score", jan) is None
    finally:
        s.close()


# --------------------------------------------------------------------------------------------
# metrics.md's worked example, end to end
# --------------------------------------------------------------------------------------------


def test_feature_adoption_worked_example(tmp_path):
    # 8,000 customers paying at the end of March 2024; 2,400 of them used report_export in March
    # (and 100 in February, which does not count), every customer logged in once
    n, users = 8_000, 2_400
    ids = [f"c{i:05d}" for i in range(n)]
    tables = {
        "customers": [(c, T(2023, 1, 1), None) for c in ids],
        "subscriptions": [(f"s{c}", c, T(2023, 1, 1), None, Decimal("25.00"), False) for c in ids],
        "users": [(f"u{c}", c, T(2023, 1, 1)) for c in ids],
        "events": [(f"u{c}", c, "login", T(2024, 3, 2)) for c in ids]
        + [(f"u{c}", c, "report_export", T(2024, 3, 5, 12)) for c in ids[:users]]
        + [(f"u{c}", c, "report_export", T(2024, 2, 29, 23, 59, 59)) for c in ids[-100:]],
    }
    s, _ = _open("duckdb", tmp_path, tables)
    try:
        r = _compute(s, ["feature_adoption_rate", "customers"], start="2024-03-01", end="2024-04-01")
    finally:
        s.close()
    assert r.value("customers", MAR, feature=None) == 8_000
    assert r.value("feature_adoption_rate", MAR, feature="report_export") == pytest.approx(0.30, rel=1e-12)
    assert r.value("feature_adoption_rate", MAR, feature="login") == 1.0
