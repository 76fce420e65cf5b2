"""Every metric and variant of "Satisfaction and support" (metrics.md) on small fixtures whose
values are worked out by hand below, computed through the whole pipeline on DuckDB (the catalog
loaded as project modules: ``[plugins] modules = [...]``); the survey scales and the rows that break
the data contract also on PostgreSQL and the BigQuery emulator (``on_engine``).

The main fixture (``RICH``, month grain, February and March 2024) holds:

* survey answers on the first instant and the last second of a period, NPS scores exactly at
  the promoter (9) and detractor (6) limits, passives, csat and ces answers, a survey of another
  name (not used);
* tickets created and resolved exactly on period boundaries, resolved after the range ("at
  all"), never resolved, reopened with and without a resolution;
* durations that cross a day boundary (4 h from 22:00 to 02:00: exact hours, not date_diff),
  half a second, one second, medians of even and odd counts;
* knowledge-base ratings on boundaries.

``EMPTY`` (every source, no rows) gives 0 for counts and None for ratios and means in
January 2024; ``SPARSE`` has numerators over zero denominators. A last test checks that the
pairs covered here are exactly the pairs ``csframe.definitions.satisfaction`` registers.
"""

from __future__ import annotations

import datetime as dt
import re

import duckdb
import pytest

from csframe.core.errors import DataContractError, UsageError
from csframe.core.examples import check_example
from csframe.core.plugin_manager import DEFAULT_PLUGINS
from csframe.core.session import Session
from csframe.definitions.provenance import PROVENANCE
from csframe.definitions.satisfaction import METRICS, NPS_REJECTED_READINGS
from tests.support.bigquery_emulator import bq_emulator  # noqa: F401 - the fixture engine_project uses
from tests.support.engines import engine_project  # noqa: F401 - the fixture
from tests.support.projects import make_project

T = dt.datetime
D = dt.date
HOUR = 3_600
# the catalog modules as project modules, until they are built-ins (DEFAULT_PLUGINS)
_CATALOG = [m for m in ("csframe.definitions.adoption", "csframe.definitions.satisfaction")
            if m not in DEFAULT_PLUGINS]
MODULES = f"[plugins]\nmodules = {_CATALOG!r}\n".replace("'", '"') if _CATALOG else ""
COLUMNS = {
    "customers": ("customer_id", "created_at"),
    "subscriptions": ("subscription_id", "customer_id", "started_at", "ended_at", "mrr", "is_trial"),
    "users": ("user_id", "customer_id", "created_at"),
    "survey_responses": ("response_id", "customer_id", "survey", "score", "responded_at"),
    "tickets": ("ticket_id", "customer_id", "created_at", "first_response_at", "resolved_at", "contacts", "reopened"),
    "kb_ratings": ("article_id", "rated_at", "rating"),
}


def open_session(directory, tables: dict, toml_extra: str = "") -> Session:
    """A DuckDB project holding ``tables`` (a source without rows keeps its columns), with the
    adoption and satisfaction catalogs loaded as project modules."""
    data = {name: rows if rows else (COLUMNS[name], []) for name, rows in tables.items()}
    return Session.open(make_project(directory, data, toml_extra=MODULES + toml_extra))


@pytest.fixture
def on_engine(engine_project, tmp_path):  # noqa: F811
    """on_engine(tables, toml_extra="") -> a Session over ``tables`` on each of the three engines."""
    opened: list[Session] = []

    def build(tables: dict, toml_extra: str = "") -> Session:
        s = Session.open(engine_project(tmp_path / f"p{len(opened)}", tables, MODULES + toml_extra))
        opened.append(s)
        return s

    yield build
    for s in opened:
        s.close()


def check(value: float | None, expected: float | None) -> None:
    if expected is None:
        assert value is None
    else:
        assert value is not None and value == pytest.approx(expected, rel=1e-9, abs=0 if expected else 1e-12)


def answer(rid: str, cid: str, survey: str, score: float, at: T) -> dict:
    return {"response_id": rid, "customer_id": cid, "survey": survey, "score": float(score), "responded_at": at}


def ticket(tid: str, cid: str, created: T, first_response: T | None, resolved: T | None, contacts: int | None,
           reopened: bool | None) -> dict:
    return {"ticket_id": tid, "customer_id": cid, "created_at": created, "first_response_at": first_response,
            "resolved_at": resolved, "contacts": contacts, "reopened": reopened}


def rating(article: str, at: T, value: float) -> dict:
    return {"article_id": article, "rated_at": at, "rating": float(value)}


def sub(sid: str, cid: str, start: T, end: T | None) -> dict:
    return {"subscription_id": sid, "customer_id": cid, "started_at": start, "ended_at": end, "mrr": 10.0,
            "is_trial": False}


# --------------------------------------------------------------------------------------------
# The main fixture
# --------------------------------------------------------------------------------------------

RICH = {
    "customers": [
        {"customer_id": "z", "created_at": T(2023, 1, 1), "segment": "ent"},
        {"customer_id": "a", "created_at": T(2023, 1, 1), "segment": "smb"},
        {"customer_id": "b", "created_at": T(2023, 1, 1), "segment": "smb"},
        {"customer_id": "q", "created_at": T(2023, 1, 1), "segment": "idle"},  # nothing anywhere
    ],
    "subscriptions": [
        sub("sz", "z", T(2023, 6, 1), None),
        sub("sa", "a", T(2024, 2, 1), None),
        sub("sb", "b", T(2024, 1, 10), T(2024, 3, 1)),  # ends exactly 03-01: in E of February only
    ],
    "users": [
        {"user_id": "u1", "customer_id": "z", "created_at": T(2024, 1, 1)},
        {"user_id": "u2", "customer_id": "a", "created_at": T(2024, 2, 29, 23, 59, 59)},
        {"user_id": "u3", "customer_id": "a", "created_at": T(2024, 3, 1)},  # exactly February's end
        {"user_id": "u4", "customer_id": "b", "created_at": T(2024, 4, 1)},
    ],
    "survey_responses": [
        answer("n1", "a", "nps", 10, T(2024, 2, 1)),  # the first instant of February
        answer("n2", "a", "nps", 9, T(2024, 2, 3)),  # promoter at the limit
        answer("n3", "z", "nps", 9, T(2024, 2, 4)),
        answer("n4", "z", "nps", 8, T(2024, 2, 5)),  # passive
        answer("n5", "z", "nps", 7, T(2024, 2, 6)),  # passive
        answer("n6", "b", "nps", 6, T(2024, 2, 7)),  # detractor at the limit
        answer("n7", "z", "nps", 3, T(2024, 2, 29, 23, 59, 59)),  # the last second of February
        answer("m1", "a", "nps", 10, T(2024, 3, 1)),  # the first instant of March
        answer("m2", "z", "nps", 2, T(2024, 3, 10)),
        answer("m3", "b", "nps", 5, T(2024, 3, 31, 23, 59, 59)),
        answer("c1", "a", "csat", 5, T(2024, 2, 2)),
        answer("c2", "z", "csat", 4, T(2024, 2, 3)),  # satisfied at the limit
        answer("c3", "z", "csat", 3, T(2024, 2, 4)),
        answer("c4", "b", "csat", 1, T(2024, 2, 29, 23, 59, 59)),
        answer("c5", "a", "csat", 4, T(2024, 3, 1)),
        answer("e1", "z", "ces", 7, T(2024, 2, 1)),
        answer("e2", "a", "ces", 2, T(2024, 2, 10)),
        answer("p1", "z", "pmf", 99, T(2024, 2, 10)),  # another survey: neither checked nor used
    ],
    "tickets": [
        # created 02-01 00:00; response after 1 h; resolved after 3 h at the first contact
        ticket("k1", "a", T(2024, 2, 1), T(2024, 2, 1, 1), T(2024, 2, 1, 3), 1, False),
        # response 4 h later across midnight; resolved exactly 03-01 00:00 (in March); reopened
        ticket("k2", "b", T(2024, 2, 10, 22), T(2024, 2, 11, 2), T(2024, 3, 1), 1, True),
        # response after 0.5 h; resolved after 24 h in 3 contacts; reopened
        ticket("k3", "z", T(2024, 2, 15), T(2024, 2, 15, 0, 30), T(2024, 2, 16), 3, True),
        # the last second of February; no response, never resolved, reopened (not subtracted)
        ticket("k4", "a", T(2024, 2, 29, 23, 59, 59), None, None, None, True),
        # response after 10 h; resolved after the range ("at all"); not reopened
        ticket("k5", "z", T(2024, 2, 20), T(2024, 2, 20, 10), T(2024, 4, 2), 1, False),
        # created 03-01 00:00; response after half a second; resolved after 6 h in 2 contacts; reopened
        ticket("k6", "a", T(2024, 3, 1), T(2024, 3, 1, 0, 0, 0, 500_000), T(2024, 3, 1, 6), 2, True),
        # created in December, resolved exactly 02-01 00:00 (in February), 31.5 days = 756 h later
        ticket("k7", "b", T(2023, 12, 31, 12), T(2023, 12, 31, 13), T(2024, 2, 1), 4, False),
        # no response; resolved after one second at the first contact
        ticket("k8", "z", T(2024, 3, 5), None, T(2024, 3, 5, 0, 0, 1), 1, False),
    ],
    "kb_ratings": [
        rating("A", T(2024, 2, 1), 5),
        rating("A", T(2024, 2, 15), 4),
        rating("B", T(2024, 2, 29, 23, 59, 59), 2),
        rating("B", T(2024, 3, 1), 3),
    ],
}

# Worked out by hand.
#
# NPS  February: n1..n7 → promoters {n1, n2, n3} 3, detractors {n6, n7} 2 → 100 × (3 − 2) / 7
#      March:    m1, m2, m3 → promoters 1, detractors 2 → 100 × (1 − 2) / 3
# CSAT February: 5, 4, 3, 1 → mean 13 / 4; satisfied (≥ 4) 2 of 4.  March: 4 → 4; 1 of 1
# CES  February: 7, 2 → 4.5.  March: none → None (a mean over nothing)
# Tickets created: February k1, k2, k3, k4, k5 (5); March k6, k8 (2)
#   resolved with contacts = 1: February k1, k2 (resolved in March), k5 (after the range) → 3/5;
#                               March k8 → 1/2
#   resolved − reopened: February {k1, k2, k3, k5} − {k2, k3} → 2/5 (k4 is reopened but unresolved;
#                        k5 is not reopened);  March {k6, k8} − {k6} → 1/2
# First response (tickets created in p with one), hours:
#   February k1 1, k2 4, k3 0.5, k5 10 → mean 15.5 / 4, median (1 + 4) / 2 (even count)
#   March    k6 0.5 s → 0.5 / 3600 (k8 has none)
# Resolution (tickets resolved in p), hours:
#   February k1 3, k3 24, k7 756 → mean 783 / 3 = 261, median 24 (odd count)
#   March    k2 2 + 19 × 24 = 458, k6 6, k8 1 s → mean (464 + 1/3600) / 3, median 6
# |E|: February {z, a, b} 3, March {z, a} 2.  Users before p.end: February u1, u2 (2); March + u3 (3)
# KB: February 5, 4, 2 → 11 / 3; March 3

FEB, MAR, APR = D(2024, 2, 1), D(2024, 3, 1), D(2024, 4, 1)

# (metric, variant): (February, March)
EXPECTED: dict[tuple[str, str], tuple[float | None, float | None]] = {
    ("nps", "default"): (100 * (3 - 2) / 7, 100 * (1 - 2) / 3),
    ("csat", "mean_score"): (13 / 4, 4),
    ("csat", "percent_satisfied"): (2 / 4, 1 / 1),
    ("ces", "default"): (4.5, None),
    ("first_contact_resolution_rate", "single_contact"): (3 / 5, 1 / 2),
    ("first_contact_resolution_rate", "resolved_minus_reopened"): ((4 - 2) / 5, (2 - 1) / 2),
    ("first_response_time", "mean"): ((1 + 4 + 0.5 + 10) / 4, 0.5 / HOUR),
    ("first_response_time", "median"): ((1 + 4) / 2, 0.5 / HOUR),
    ("time_to_resolution", "mean"): ((3 + 24 + 756) / 3, (458 + 6 + 1 / HOUR) / 3),
    ("time_to_resolution", "median"): (24, 6),
    ("support_tickets", "default"): (5, 2),
    ("tickets_per_customer", "per_customer"): (5 / 3, 2 / 2),
    ("tickets_per_customer", "per_user"): (5 / 2, 2 / 3),
    ("kb_article_rating", "default"): (11 / 3, 3),
}


@pytest.fixture(scope="module")
def rich(tmp_path_factory):
    s = open_session(tmp_path_factory.mktemp("rich"), RICH)
    yield s
    s.close()


@pytest.fixture(scope="module")
def rich_result(rich):
    # one query for every variant at once
    return rich.compute([f"{m}:{v}" for m, v in EXPECTED], grain="month", start="2024-02-01", end="2024-04-01")


def _ids(pairs) -> list[str]:
    return [f"{m}:{v}" for m, v in pairs]


@pytest.mark.parametrize("key", list(EXPECTED), ids=_ids(EXPECTED))
def test_rich_fixture(rich_result, key):
    metric, variant = key
    rows = [r for r in rich_result.rows if (r[0], r[1]) == key]
    assert [(r[2], r[3]) for r in rows] == [(FEB, MAR), (MAR, APR)]
    feb, mar = EXPECTED[key]
    check(rich_result.value(metric, FEB, variant=variant), feb)
    check(rich_result.value(metric, MAR, variant=variant), mar)


def test_defaults_and_units(rich):
    r = rich.compute(["nps", "csat", "first_contact_resolution_rate", "first_response_time", "time_to_resolution",
                      "tickets_per_customer"], start="2024-02-01", end="2024-03-01")
    assert [(row[0], row[1]) for row in r.rows] == [
        ("nps", "default"), ("csat", "mean_score"), ("first_contact_resolution_rate", "single_contact"),
        ("first_response_time", "mean"), ("time_to_resolution", "mean"), ("tickets_per_customer", "per_customer")]
    assert r.units[("csat", "mean_score")] == "score"
    assert rich.registry.unit("csat", "percent_satisfied") == "share"
    assert r.units[("first_response_time", "mean")] == "hours"
    assert r.units[("nps", "default")] == "score"


def test_csat_satisfied_min(rich):
    # 5 only: February c1 → 1/4; March c5 (4) → 0/1.  3.5: the same as 4 on whole scores
    r = rich.compute(["csat:percent_satisfied"], start="2024-02-01", end="2024-04-01",
                     params={"csat_satisfied_min": 5})
    check(r.value("csat", FEB), 1 / 4)
    check(r.value("csat", MAR), 0 / 1)
    r = rich.compute(["csat:percent_satisfied"], start="2024-02-01", end="2024-04-01",
                     params={"csat_satisfied_min": "3.5"})
    check(r.value("csat", FEB), 2 / 4)
    with pytest.raises(UsageError, match="csat_satisfied_min"):
        rich.compute(["csat:percent_satisfied"], start="2024-02-01", end="2024-03-01",
                     params={"csat_satisfied_min": "high"})


def test_week_and_day_grains(rich):
    # ISO week of Monday 02-26: k4 (02-29 23:59:59), k6 (03-01) created; k2 resolved 03-01 (458 h),
    # k6 (6 h); nps n7 (3), m1 (10) → 100 × (1 − 1) / 2
    r = rich.compute(["support_tickets", "time_to_resolution:median", "nps", "first_response_time:median"],
                     grain="week", start="2024-02-26", end="2024-03-04")
    w = D(2024, 2, 26)
    check(r.value("support_tickets", w), 2)
    check(r.value("time_to_resolution", w), (458 + 6) / 2)
    check(r.value("nps", w), 0)
    check(r.value("first_response_time", w), 0.5 / HOUR)  # k4 has no response
    # day 02-01: k1 created at 00:00 (resolved 3 h later, the same day) and k7 resolved at 00:00
    r = rich.compute(["support_tickets", "time_to_resolution", "kb_article_rating", "ces"], grain="day",
                     start="2024-02-01", end="2024-02-03")
    check(r.value("support_tickets", FEB), 1)
    check(r.value("time_to_resolution", FEB), (3 + 756) / 2)
    check(r.value("kb_article_rating", FEB), 5)
    check(r.value("ces", FEB), 7)
    check(r.value("kb_article_rating", D(2024, 2, 2)), None)
    check(r.value("support_tickets", D(2024, 2, 2)), 0)


BY_FEBRUARY = {
    # smb {a, b}, ent {z}, idle {q}: nothing
    "support_tickets": {"smb": 3, "ent": 2, "idle": 0},  # k1, k2, k4 | k3, k5
    "tickets_per_customer": {"smb": 3 / 2, "ent": 2 / 1, "idle": None},  # E: {a, b} | {z} | {}
    "nps": {"smb": 100 * (2 - 1) / 3, "ent": 100 * (1 - 1) / 4, "idle": None},  # n1 n2 n6 | n3 n4 n5 n7
    "csat:percent_satisfied": {"smb": 1 / 2, "ent": 1 / 2, "idle": None},  # c1, c4 | c2, c3
    "first_response_time:median": {"smb": (1 + 4) / 2, "ent": (0.5 + 10) / 2, "idle": None},
}


def test_by_segment(rich):
    r = rich.compute(list(BY_FEBRUARY), start="2024-02-01", end="2024-03-01", by=("segment",))
    for metric, expected in BY_FEBRUARY.items():
        name, _, variant = metric.partition(":")
        for segment, value in expected.items():
            check(r.value(name, FEB, variant=variant or None, segment=segment), value)


def test_kb_article_rating_by_article_id(rich):
    # February A 5, 4 → 4.5; B 2 (02-29 23:59:59).  March A none → None; B 3 (03-01 00:00)
    r = rich.compute(["kb_article_rating"], start="2024-02-01", end="2024-04-01", by=("article_id",))
    assert r.columns == ("metric", "variant", "period_start", "period_end", "article_id", "value")
    got = {(row[2], row[4]): row[-1] for row in r.rows}
    assert got.keys() == {(FEB, "A"), (FEB, "B"), (MAR, "A"), (MAR, "B")}
    check(got[(FEB, "A")], 4.5)
    check(got[(FEB, "B")], 2)
    check(got[(MAR, "A")], None)  # a mean over no rating
    check(got[(MAR, "B")], 3)
    # day grain, across the period boundary: B on 02-29 and on 03-01
    r = rich.compute(["kb_article_rating"], grain="day", start="2024-02-29", end="2024-03-02", by=("article_id",))
    got = {(row[2], row[4]): row[-1] for row in r.rows}
    assert got == {(D(2024, 2, 29), "A"): None, (D(2024, 2, 29), "B"): 2, (MAR, "A"): None, (MAR, "B"): 3}


def test_by_segment_of_kb_article_rating_is_a_usage_error(rich):
    with pytest.raises(UsageError, match="kb_article_rating"):
        rich.compute(["kb_article_rating"], start="2024-02-01", end="2024-03-01", by=("segment",))


# --------------------------------------------------------------------------------------------
# Survey scales (data-contract.md, "Bad data")
# --------------------------------------------------------------------------------------------


def test_a_score_outside_the_scale_is_bad_data(on_engine):
    s = on_engine({"survey_responses": RICH["survey_responses"] + [answer("c9", "a", "csat", 6, T(2024, 2, 5))]})
    with pytest.raises(DataContractError, match="csat"):
        s.compute(["csat"], start="2024-02-01", end="2024-03-01")
    r = s.compute(["csat"], start="2024-02-01", end="2024-03-01", lenient=True)  # c9 is left out
    check(r.value("csat", FEB), 13 / 4)
    assert any("left out 1 row" in w for w in r.warnings)


def test_a_nan_score_is_bad_data(on_engine):
    # NaN compares false with everything on BigQuery (so neither below 0 nor above 10 there), while
    # DuckDB and PostgreSQL sort it above every number: outside the scale on every engine
    tables = {"survey_responses": [answer("c1", "a", "nps", 9, T(2024, 2, 5)),
                                   answer("c2", "a", "nps", float("nan"), T(2024, 2, 6))]}
    s = on_engine(tables)
    with pytest.raises(DataContractError, match="nps score outside 0–10"):
        s.compute(["nps"], start="2024-02-01", end="2024-03-01")
    r = s.compute(["nps"], start="2024-02-01", end="2024-03-01", lenient=True)  # c2 left out: one promoter of one
    check(r.value("nps", FEB), 100)
    assert any("left out 1 row" in w for w in r.warnings)


def test_csat_scale_from_the_project_file(on_engine):
    tables = {"survey_responses": [answer("c1", "a", "csat", 8, T(2024, 2, 5)), answer("c2", "a", "csat", 10,
                                                                                        T(2024, 2, 6))]}
    s = on_engine(tables, toml_extra="[parameters]\ncsat_scale = [1, 10]\n")
    check(s.compute(["csat"], start="2024-02-01", end="2024-03-01").value("csat", FEB), 9)


def test_a_scale_given_for_the_run_reaches_the_data_checks(on_engine):
    # csat_scale set by --param (the Python API's params) decides the check of every run reading
    # survey_responses, whether or not the run's metric reads the scale itself: csat:mean_score
    # and nps do not, yet a csat 8 is outside 1–5 and inside 1–10
    tables = {"survey_responses": [answer("c1", "a", "csat", 8, T(2024, 2, 5)), answer("c2", "a", "nps", 9,
                                                                                        T(2024, 2, 6))]}
    s = on_engine(tables)
    for metrics in (["csat:mean_score"], ["nps"]):
        with pytest.raises(DataContractError, match="csat score outside 1–5"):
            s.compute(metrics, start="2024-02-01", end="2024-03-01")
        r = s.compute(metrics, start="2024-02-01", end="2024-03-01", params={"csat_scale": "1,10"})
        assert r.rows
    check(r.value("nps", FEB), 100)
    with pytest.raises(DataContractError, match="csat score outside 2–3"):
        s.compute(["nps"], start="2024-02-01", end="2024-03-01", params={"csat_scale": [2, 3]})


def test_a_survey_score_or_a_rating_that_is_null_is_bad_data(on_engine):
    # a NULL score would count as a response (an NPS passive) and add nothing to the sum; a NULL
    # rating the same: bad data, which --lenient leaves out, saying how many
    tables = {"survey_responses": [answer("r1", "a", "nps", 6, T(2024, 2, 5)), answer("r2", "a", "nps", 9, T(2024, 2, 5)),
                                   {**answer("r3", "a", "nps", 0, T(2024, 2, 6)), "score": None},
                                   {**answer("r4", "a", "pmf", 0, T(2024, 2, 6)), "score": None}],  # not checked
              "kb_ratings": [rating("A", T(2024, 2, 1), 2), {**rating("A", T(2024, 2, 2), 0), "rating": None}]}
    s = on_engine(tables)
    with pytest.raises(DataContractError, match=r"survey_responses.score: nps score outside 0–10 \(or NULL\) "
                                                r"\(1 row; e.g. r3\)"):
        s.compute(["nps"], start="2024-02-01", end="2024-03-01")
    with pytest.raises(DataContractError, match=r"kb_ratings.rating: is NULL; the contract requires a number"):
        s.compute(["kb_article_rating"], start="2024-02-01", end="2024-03-01")
    r = s.compute(["nps", "kb_article_rating"], start="2024-02-01", end="2024-03-01", lenient=True)
    check(r.value("nps", FEB), 0)  # one promoter, one detractor: 100 (1 − 1) / 2
    check(r.value("kb_article_rating", FEB), 2)
    assert {w for w in r.warnings if "left out" in w} == {
        "warning: left out 1 row(s) of survey_responses: nps score outside 0–10 (or NULL)",
        "warning: left out 1 row(s) of kb_ratings: is NULL; the contract requires a number"}


@pytest.mark.parametrize("value,message", [
    ("5", "expected two numbers, low,high, got '5'"),
    ("5,1", "expected two numbers with low < high, got '5,1'"),
    ([1, "x"], "expected two numbers, low,high"),
    ("1,5,7", "expected two numbers, low,high"),
])
def test_a_bad_scale_names_the_parameter_and_its_metric(tmp_path, value, message):
    s = open_session(tmp_path / "scale", {"survey_responses": [answer("c1", "a", "nps", 9, T(2024, 2, 6))]})
    try:
        with pytest.raises(UsageError, match=r"parameter csat_scale \(used by csat\): " + re.escape(message)):
            s.compute(["nps"], start="2024-02-01", end="2024-03-01", params={"csat_scale": value})
    finally:
        s.close()


# --------------------------------------------------------------------------------------------
# Empty periods and zero denominators
# --------------------------------------------------------------------------------------------

EMPTY = {name: [] for name in COLUMNS}
EMPTY_JANUARY = {key: (0 if key[0] == "support_tickets" else None) for key in EXPECTED}


@pytest.fixture(scope="module")
def empty_result(tmp_path_factory):
    s = open_session(tmp_path_factory.mktemp("empty"), EMPTY)
    try:
        return s.compute(_ids(EMPTY_JANUARY), start="2024-01-01", end="2024-02-01")
    finally:
        s.close()


@pytest.mark.parametrize("key", list(EMPTY_JANUARY), ids=_ids(EMPTY_JANUARY))
def test_empty_period(empty_result, key):
    # every count is 0 (a count over no rows), every ratio, mean, median and score None
    check(empty_result.value(key[0], D(2024, 1, 1), variant=key[1]), EMPTY_JANUARY[key])


SPARSE = {
    **EMPTY,
    # January: one open ticket without a response; nobody pays, no user; only a survey of another name
    "tickets": [ticket("kx", "x", T(2024, 1, 10), None, None, None, False)],
    "survey_responses": [answer("px", "x", "pmf", 3, T(2024, 1, 10))],
}


def test_zero_denominators_with_numerators(tmp_path):
    s = open_session(tmp_path / "sparse", SPARSE)
    try:
        r = s.compute(["support_tickets", "tickets_per_customer:per_customer", "tickets_per_customer:per_user",
                       "first_contact_resolution_rate:single_contact",
                       "first_contact_resolution_rate:resolved_minus_reopened", "first_response_time:mean",
                       "first_response_time:median", "time_to_resolution", "nps", "csat:percent_satisfied"],
                      start="2024-01-01", end="2024-02-01")
    finally:
        s.close()
    jan = D(2024, 1, 1)
    check(r.value("support_tickets", jan), 1)
    check(r.value("tickets_per_customer", jan, variant="per_customer"), None)  # 1 / |E| = 1 / 0
    check(r.value("tickets_per_customer", jan, variant="per_user"), None)  # 1 / 0 users
    check(r.value("first_contact_resolution_rate", jan, variant="single_contact"), 0 / 1)
    check(r.value("first_contact_resolution_rate", jan, variant="resolved_minus_reopened"), 0 / 1)
    check(r.value("first_response_time", jan, variant="mean"), None)  # no ticket with a response
    check(r.value("first_response_time", jan, variant="median"), None)
    check(r.value("time_to_resolution", jan), None)
    check(r.value("nps", jan), None)  # a pmf answer is no nps response
    check(r.value("csat", jan, variant="percent_satisfied"), None)


# --------------------------------------------------------------------------------------------
# Declarations: worked examples, provenance, parameters, notes
# --------------------------------------------------------------------------------------------


def test_declared_examples(rich):
    con = duckdb.connect()
    names = {m.name for m in METRICS}
    cases = [((rv.metric, rv.variant.name), ex) for rv in rich.registry.all_variants() if rv.metric in names
             for ex in rv.variant.examples]
    for key, example in cases:
        ok, value = check_example(rich.registry, rich.graph, key, example,
                                  lambda q: con.execute(q.sql("duckdb")).fetchone()[0])
        assert ok, f"{key[0]}:{key[1]} — {example.text}: got {value}, expected {example.expected}"
    texts = {(k, e.text): e.expected for k, e in cases}
    # metrics.md's worked examples for this section
    assert texts[(("nps", "default"), "74 % promoters, 12 % detractors")] == 62
    assert texts[(("nps", "default"), "30 % promoters, 20 % detractors")] == 10
    assert texts[(("csat", "percent_satisfied"), "100 responses, 60 of them 4 or 5")] == 0.60


def test_nps_carries_the_rejected_readings(rich):
    nps = rich.registry.metric("nps")
    assert nps.rejected == NPS_REJECTED_READINGS and len(nps.rejected) == 3
    assert "flips the sign" in nps.rejected[0] and "a count" in nps.rejected[1] and "1–10" in nps.rejected[2]


def test_definitions_are_complete():
    names = {m.name for m in METRICS}
    assert names == {"nps", "csat", "ces", "first_contact_resolution_rate", "first_response_time",
                     "time_to_resolution", "support_tickets", "tickets_per_customer", "kb_article_rating"}
    for m in METRICS:
        assert m.family == "satisfaction"
        for v in m.variants:
            assert v.provenance and set(v.provenance) <= set(PROVENANCE), (m.name, v.name)
            assert v.description
    by_name = {m.name: m for m in METRICS}
    assert set(by_name["nps"].variants[0].provenance) == {"agile", "dock", "guide13", "podium", "parative"}
    params = {p.name: p for m in METRICS for p in m.parameters}
    assert {n: (p.default, p.kind) for n, p in params.items()} == {
        "csat_satisfied_min": (4.0, "float"), "csat_scale": ((1, 5), "range"), "ces_scale": ((1, 7), "range")}
    assert all(p.description for p in params.values())
    noted = {m.name for m in METRICS if m.cohort_note}
    assert noted == {"first_contact_resolution_rate", "first_response_time"}
    splits = {(m.name, v.name): set(v.splits) for m in METRICS for v in m.variants if v.splits}
    assert splits == {("kb_article_rating", "default"): {"article_id"}}


# --------------------------------------------------------------------------------------------
# Coverage
# --------------------------------------------------------------------------------------------


def test_every_registered_satisfaction_variant_is_covered(rich):
    registered = {(m.name, v.name) for m in METRICS for v in m.variants}
    assert set(EXPECTED) == registered
    assert set(EMPTY_JANUARY) == registered
    in_session = {(rv.metric, rv.variant.name) for rv in rich.registry.all_variants()
                  if rv.plugin == "csframe.definitions.satisfaction"}
    assert in_session == registered
