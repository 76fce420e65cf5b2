"""Every metric and variant of "Onboarding, adoption and engagement" (metrics.md) on small
fixtures whose values are worked out by hand below, computed through the whole pipeline on
DuckDB (the catalog loaded as project modules: ``[plugins] modules = [...]``).

The main fixture (``RICH``, month grain, February and March 2024; February has 29 days) holds:

* customers created exactly at 2024-02-01 00:00 (February's cohort), at the last second of
  February (its cohort, with an event one second later), exactly at 2024-03-01 00:00 (March's);
* windows hit exactly (an event at created_at + 30 days counts, one at + 30 days + 1 s does not,
  one at created_at itself counts), an event *before* created_at (ignored), a second event
  after the first (the first counts), events after the reported range ("at all");
* durations that cross day boundaries in one second (exact elapsed time, not date_diff),
  half a second, medians of even and odd counts;
* trials started and converted on period boundaries, converted after the range, not at all;
* users created exactly at a period end (not "before p.end"), before the spine, after the range;
* customers of E with and without events and users (health score), a trial-only customer;
* referrals on the first instant and the last second of a period.

``EMPTY`` (every source, no rows) gives 0 for counts and None for ratios and means in
January 2024; ``SPARSE`` has numerators over zero denominators. A last test checks that the
pairs covered here are exactly the pairs ``csframe.definitions.adoption`` registers.

The metrics that always carry a dimension (``feature_adoption_rate``, ``health_band_customers``)
are checked on ``RICH`` too (``KEYED``); their ``--by`` readings and the splits
(``--by step | customer_id | health_band``) have their own fixture in ``test_dimensioned_metrics.py``.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from csframe.core.errors import UsageError
from csframe.core.examples import check_example
from csframe.core.plugin_manager import DEFAULT_PLUGINS
from csframe.core.session import Session
from csframe.definitions.adoption import METRICS
from csframe.definitions.provenance import PROVENANCE
from tests.support.projects import make_project

T = dt.datetime
D = dt.date
DAY = 86_400
# the catalog modules as project modules, until they are built-ins (DEFAULT_PLUGINS)
_CATALOG = [m for m in ("csframe.definitions.adoption", "csframe.definitions.satisfaction")
            if m not in DEFAULT_PLUGINS]
MODULES = f"[plugins]\nmodules = {_CATALOG!r}\n".replace("'", '"') if _CATALOG else ""
COLUMNS = {
    "customers": ("customer_id", "created_at"),
    "subscriptions": ("subscription_id", "customer_id", "started_at", "ended_at", "mrr", "is_trial"),
    "trials": ("trial_id", "customer_id", "started_at", "converted_at"),
    "users": ("user_id", "customer_id", "created_at"),
    "events": ("user_id", "customer_id", "name", "occurred_at"),
    "referrals": ("referral_id", "referrer_customer_id", "referred_at", "converted_at"),
}
# every event name of RICH: active_events listing them all reads like "any"
ALL_NAMES = ("activated", "onboarding_completed", "login", "report")


def open_session(directory, tables: dict, toml_extra: str = "") -> Session:
    """A DuckDB project holding ``tables`` (a source without rows keeps its columns), with the
    adoption and satisfaction catalogs loaded as project modules."""
    data = {name: rows if rows else (COLUMNS[name], []) for name, rows in tables.items()}
    return Session.open(make_project(directory, data, toml_extra=MODULES + toml_extra))


def check(value: float | None, expected: float | None) -> None:
    if expected is None:
        assert value is None
    else:
        assert value is not None and value == pytest.approx(expected, rel=1e-9, abs=0 if expected else 1e-12)


def customer(cid: str, created: T, segment: str | None = None) -> dict:
    return {"customer_id": cid, "created_at": created, "segment": segment}


def sub(sid: str, cid: str, start: T, end: T | None, mrr: float = 10.0, trial: bool = False) -> dict:
    return {"subscription_id": sid, "customer_id": cid, "started_at": start, "ended_at": end, "mrr": mrr,
            "is_trial": trial}


def trial(tid: str, cid: str, start: T, converted: T | None) -> dict:
    return {"trial_id": tid, "customer_id": cid, "started_at": start, "converted_at": converted}


def user(uid: str, cid: str, created: T) -> dict:
    return {"user_id": uid, "customer_id": cid, "created_at": created}


def event(uid: str, cid: str, name: str, at: T) -> dict:
    return {"user_id": uid, "customer_id": cid, "name": name, "occurred_at": at}


def referral(rid: str, cid: str, at: T) -> dict:
    return {"referral_id": rid, "referrer_customer_id": cid, "referred_at": at, "converted_at": None}


# --------------------------------------------------------------------------------------------
# The main fixture
# --------------------------------------------------------------------------------------------

RICH = {
    "customers": [
        customer("a", T(2024, 2, 1), "smb"),  # exactly the first instant of February
        customer("b", T(2024, 2, 10, 12), "smb"),
        customer("c", T(2024, 2, 29, 23, 59, 59), "smb"),  # the last second of February
        customer("f", T(2024, 2, 15), "smb"),
        customer("d", T(2024, 3, 1), "ent"),  # exactly the first instant of March
        customer("e", T(2024, 3, 15, 6), "ent"),
        customer("z", T(2023, 5, 20), "ent"),
        customer("g", T(2023, 11, 1), None),
    ],
    "subscriptions": [
        sub("sz", "z", T(2023, 6, 1), None),
        sub("sa", "a", T(2024, 2, 1), None),
        sub("sb", "b", T(2024, 2, 10), T(2024, 3, 1)),  # ends exactly 03-01: in E of February only
        sub("sc", "c", T(2024, 3, 1), None),  # starts exactly 03-01: in E of March only
        sub("sf", "f", T(2024, 2, 15), None, trial=True),  # a trial: never in E
        sub("sd", "d", T(2024, 3, 10), T(2024, 3, 20)),  # in and out within March
        sub("sg", "g", T(2024, 1, 15), None),  # paying, no user, no event: scores 0
    ],
    "trials": [
        trial("t1", "a", T(2024, 2, 1), T(2024, 2, 20)),  # started on the boundary, converted in February
        trial("t2", "b", T(2024, 2, 10), T(2024, 3, 1)),  # converted exactly 03-01: in March
        trial("t3", "c", T(2024, 2, 20), None),
        trial("t4", "f", T(2023, 12, 31, 23, 59, 59), T(2024, 2, 2)),  # started in December
        trial("t5", "d", T(2024, 3, 5), T(2024, 5, 1)),  # converted after the range: "at all"
        trial("t6", "e", T(2024, 3, 10), None),
    ],
    "users": [
        user("uz1", "z", T(2023, 12, 1)),  # before the spine
        user("ua3", "a", T(2024, 1, 10)),  # a seat without events
        user("ua1", "a", T(2024, 2, 1)),
        user("ua2", "a", T(2024, 2, 20)),
        user("ub1", "b", T(2024, 2, 10, 12)),
        user("uf1", "f", T(2024, 2, 15)),
        user("uc1", "c", T(2024, 3, 1)),  # exactly at February's end: not before it
        user("ud1", "d", T(2024, 3, 1)),
        user("ue1", "e", T(2024, 4, 1)),  # after the range
    ],
    "events": [
        event("ua1", "a", "activated", T(2024, 3, 2)),  # a + 30 days exactly: inside the window
        event("ua1", "a", "activated", T(2024, 3, 20, 10)),  # a second one: the first counts
        event("ub1", "b", "activated", T(2024, 3, 11, 12, 0, 1)),  # b + 30 days + 1 s: outside
        event("uc1", "c", "activated", T(2024, 2, 20)),  # before c was created: ignored
        event("uc1", "c", "activated", T(2024, 3, 1)),  # c + 1 s, across a day (and period) boundary
        event("uf1", "f", "activated", T(2024, 2, 16, 6)),  # f + 1.25 days
        event("ud1", "d", "activated", T(2024, 3, 1)),  # at d's created_at itself: inside
        event("ua1", "a", "onboarding_completed", T(2024, 2, 5)),  # a + 4 days
        event("ub1", "b", "onboarding_completed", T(2024, 4, 10, 12)),  # b + 60 days (after the range)
        event("uf1", "f", "onboarding_completed", T(2024, 2, 15, 12)),  # f + 0.5 days
        event("uf1", "f", "onboarding_completed", T(2024, 2, 20)),
        event("ud1", "d", "onboarding_completed", T(2024, 3, 31)),  # d + 30 days exactly
        event("ue1", "e", "onboarding_completed", T(2024, 4, 14, 6, 0, 0, 500_000)),  # e + 30 days + 0.5 s
        event("uz1", "z", "login", T(2024, 2, 1)),  # the first instant of February
        event("uz1", "z", "login", T(2024, 2, 1, 9)),  # same user, same day
        event("uz1", "z", "login", T(2024, 2, 29, 23, 59, 59)),  # the last second of February
        event("ua2", "a", "login", T(2024, 2, 29, 23, 59, 59, 999_000)),
        event("ua1", "a", "report", T(2024, 2, 10)),
        event("uz1", "z", "report", T(2024, 3, 1)),  # the first instant of March
    ],
    "referrals": [
        referral("r1", "a", T(2024, 2, 1)),
        referral("r2", "z", T(2024, 2, 29, 23, 59, 59)),
        referral("r3", "z", T(2024, 3, 1)),
    ],
}

# Worked out by hand.
#
# Cohorts (created in p): February {a, b, c, f} (4), March {d, e} (2).
# Activation ("activated" within 30 days = 2,592,000 s, both ends included):
#   a at +30 d exactly ✓; b at +30 d +1 s ✗; c at +1 s ✓ (its 02-20 event precedes created_at);
#   f at +1.25 d ✓; d at +0 s ✓; e none ✗  →  February 3/4, March 1/2
# Time to value (first "activated" at or after created_at, at any time), in days:
#   February: c 1/86400, f 1.25, a 30, b 30 + 1/86400 → median (1.25 + 30) / 2 (even count),
#             mean (61.25 + 2/86400) / 4;  March: d 0 (e never) → 0 and 0
# Onboarding ("onboarding_completed"; completion within 30 days; time to the first one, no window):
#   a 4 d ✓, b 60 d ✗ (but completed), c never, f 0.5 d ✓ (its second one is later),
#   d 30 d exactly ✓, e 30 d + 0.5 s ✗ (completed)
#   completion: February 2/4, March 1/2;
#   time: February {0.5, 4, 60} → mean 64.5 / 3 = 21.5, median 4 (odd count);
#         March {30, 30 + 0.5/86400} → mean = median = 30 + 0.25/86400
# Trials: started February {t1, t2, t3}, converted at all {t1, t2} → 2/3; March {t5, t6} → 1/2;
#   converted in February {t1, t4 (started in December)} → 2/3 of February's starts;
#   converted in March {t2 (exactly 03-01)} → 1/2
# Users created before p.end: February uz1, ua3, ua1, ua2, ub1, uf1 = 6 (uc1 and ud1 are created
#   exactly at 03-01); March + uc1, ud1 = 8 (ue1 is created 04-01)
# Active users (any event) and the sum of daily active users:
#   February: uc1 (02-20), uf1 (02-15, 02-16, 02-20), ua1 (02-05, 02-10), uz1 (02-01 twice, 02-29),
#             ua2 (02-29) → 5 users, 1 + 3 + 2 + 2 + 1 = 9 user-days over 29 days
#   March: ua1 (03-02, 03-20), ub1 (03-11), uc1 (03-01), ud1 (03-01, 03-31), uz1 (03-01)
#             → 5 users, 2 + 1 + 1 + 2 + 1 = 7 user-days over 31 days
# Engagement (any event): February 5 / 6, March 5 / 8
# Health (E from subscriptions: February {z, a, b, g}, March {z, a, c, g}; 4 event names in all):
#   February (29 days)  z: days {02-01, 02-29} 2, names {login} 1, seats uz1 1 of 1
#                       a: days {02-05, 02-10, 02-29} 3, names {onboarding_completed, report, login} 3,
#                          seats ua1, ua2 of ua3, ua1, ua2 → 2 of 3
#                       b: no event in February → 0;  g: no event, no seat → 0
#   March (31 days)     z: days {03-01} 1, names 1, seats 1 of 1
#                       a: days {03-02, 03-20} 2, names {activated} 1, seats ua1 → 1 of 3
#                       c: days {03-01} 1, names 1, seats uc1 1 of 1;  g → 0
# Referrals: February r1, r2; March r3; |E| = 4 and 4.


def _health(days: int, active_days: int, seats: float, names: int) -> float:
    return 100 * (active_days / days + seats + names / 4) / 3


H_FEB = (_health(29, 2, 1, 1) + _health(29, 3, 2 / 3, 3) + 0 + 0) / 4
H_MAR = (_health(31, 1, 1, 1) + _health(31, 2, 1 / 3, 1) + _health(31, 1, 1, 1) + 0) / 4

FEB, MAR, APR = D(2024, 2, 1), D(2024, 3, 1), D(2024, 4, 1)

# (metric, variant): (February, March)
EXPECTED: dict[tuple[str, str], tuple[float | None, float | None]] = {
    ("trial_conversion_rate", "default"): (2 / 3, 1 / 2),
    ("free_to_paid_conversion", "over_trials"): (2 / 3, 1 / 2),
    ("free_to_paid_conversion", "over_population"): (2 / 6, 1 / 8),
    ("activation_rate", "default"): (3 / 4, 1 / 2),
    ("time_to_value", "median"): ((1.25 + 30) / 2, 0),
    ("time_to_value", "mean"): ((1 / DAY + 1.25 + 30 + 30 + 1 / DAY) / 4, 0),
    ("onboarding_completion_rate", "default"): (2 / 4, 1 / 2),
    ("time_to_complete_onboarding", "mean"): ((4 + 60 + 0.5) / 3, 30 + 0.25 / DAY),
    ("time_to_complete_onboarding", "median"): (4, 30 + 0.25 / DAY),
    ("active_users", "default"): (5, 5),
    ("stickiness", "default"): (9 / 29 / 5, 7 / 31 / 5),
    ("engagement_rate", "default"): (5 / 6, 5 / 8),
    ("customer_health_score", "frequency_breadth_depth"): (H_FEB, H_MAR),
    ("referrals", "default"): (2, 1),
    ("referral_rate", "default"): (2 / 4, 1 / 4),
}
# until the core binds a list parameter's None ("any"), RICH lists every event name it has
ANY = {"active_events": ALL_NAMES}

# The metrics that carry a dimension: (metric, variant) → {period: {key value: value}}.
# Feature adoption (customers of E with the event in p / |E| = 4; c, d, f are not in E when they act):
#   February: login a (02-29 23:59:59.999), z → 2/4; report a → 1/4; onboarding_completed a → 1/4; activated 0
#   March:    activated a, c (03-01 exactly) → 2/4; report z (03-01 00:00) → 1/4; the others 0
# Health bands (the scores above): February z 43.97 and a 50.67 needs_attention, b and g 0 at_risk;
#   March z and c 42.74 needs_attention, a 21.59 and g 0 at_risk; nobody healthy
KEYED: dict[tuple[str, str], dict[dt.date, dict[str, float]]] = {
    ("feature_adoption_rate", "default"): {
        FEB: {"activated": 0.0, "login": 2 / 4, "onboarding_completed": 1 / 4, "report": 1 / 4},
        MAR: {"activated": 2 / 4, "login": 0.0, "onboarding_completed": 0.0, "report": 1 / 4}},
    ("health_band_customers", "default"): {
        FEB: {"at_risk": 2, "needs_attention": 2, "healthy": 0},
        MAR: {"at_risk": 2, "needs_attention": 2, "healthy": 0}},
}
KEY_COLUMN = {"feature_adoption_rate": "feature", "health_band_customers": "health_band"}


@pytest.fixture(scope="module")
def rich(tmp_path_factory):
    s = open_session(tmp_path_factory.mktemp("rich"), RICH)
    yield s
    s.close()


@pytest.fixture(scope="module")
def rich_result(rich):
    # one query for every variant at once, those that carry a dimension included
    return rich.compute([f"{m}:{v}" for m, v in (*EXPECTED, *KEYED)], grain="month", start="2024-02-01",
                        end="2024-04-01", params=ANY)


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


def test_rich_fixture_keyed(rich_result):
    assert rich_result.columns == ("metric", "variant", "period_start", "period_end", "feature", "health_band",
                                   "value")
    for (metric, variant), expected in KEYED.items():
        key = KEY_COLUMN[metric]
        i = rich_result.columns.index(key)
        rows = [r for r in rich_result.rows if (r[0], r[1]) == (metric, variant)]
        assert {(r[2], r[i]) for r in rows} == {(p, k) for p, values in expected.items() for k in values}
        for r in rows:
            check(r[-1], expected[r[2]][r[i]])
    # the bands partition E, whose customers the health score averages over
    for p in (FEB, MAR):
        assert sum(KEYED[("health_band_customers", "default")][p].values()) == 4


def test_health_bands_of_the_rich_scores():
    # the band counts above follow from the scores of the worked example
    scores = {FEB: (_health(29, 2, 1, 1), _health(29, 3, 2 / 3, 3), 0, 0),
              MAR: (_health(31, 1, 1, 1), _health(31, 2, 1 / 3, 1), _health(31, 1, 1, 1), 0)}
    for p, values in scores.items():
        bands = {"at_risk": 0, "needs_attention": 0, "healthy": 0}
        for v in values:
            bands["at_risk" if round(v, 6) < 40 else "needs_attention" if round(v, 6) < 70 else "healthy"] += 1
        assert bands == KEYED[("health_band_customers", "default")][p]


def test_one_metric_alone_gives_the_same_value(rich):
    # a metric computed on its own (only its nodes in the query) agrees with the shared query
    r = rich.compute(["customer_health_score", "time_to_value:mean"], grain="month", start="2024-02-01",
                     end="2024-04-01")
    check(r.value("customer_health_score", FEB), H_FEB)
    check(r.value("time_to_value", MAR, variant="mean"), 0)


def test_units_and_default_variants(rich_result):
    assert rich_result.units[("time_to_value", "median")] == "days"
    assert rich_result.units[("customer_health_score", "frequency_breadth_depth")] == "score"
    assert rich_result.units[("active_users", "default")] == "count"


def test_active_events_default_is_any(rich):
    r = rich.compute(["active_users", "stickiness"], grain="month", start="2024-02-01", end="2024-04-01")
    check(r.value("active_users", FEB), 5)
    check(r.value("stickiness", MAR), 7 / 31 / 5)


# --------------------------------------------------------------------------------------------
# Parameters
# --------------------------------------------------------------------------------------------


def test_active_events_restricts_users_and_days(rich):
    # login and report: February uz1 (02-01, 02-29), ua2 (02-29), ua1 (02-10 report) → 3 users,
    # 4 user-days; March uz1 (03-01 report) → 1 user, 1 day
    r = rich.compute(["active_users", "stickiness"], start="2024-02-01", end="2024-04-01",
                     params={"active_events": "login, report"})  # a comma-separated list, as --param gives it
    check(r.value("active_users", FEB), 3)
    check(r.value("stickiness", FEB), 4 / 29 / 3)
    check(r.value("active_users", MAR), 1)
    check(r.value("stickiness", MAR), 1 / 31 / 1)
    # one name: February uz1, ua2 → 2 users, 3 user-days; March nobody → 0 users, stickiness None
    r = rich.compute(["active_users", "stickiness"], start="2024-02-01", end="2024-04-01",
                     params={"active_events": ["login"]})
    check(r.value("active_users", FEB), 2)
    check(r.value("stickiness", FEB), 3 / 29 / 2)
    check(r.value("active_users", MAR), 0)
    check(r.value("stickiness", MAR), None)


def test_engagement_event(rich):
    # login: February uz1, ua2 → 2 of 6 users; March none → 0 of 8
    r = rich.compute(["engagement_rate"], start="2024-02-01", end="2024-04-01", params={"engagement_event": "login"})
    check(r.value("engagement_rate", FEB), 2 / 6)
    check(r.value("engagement_rate", MAR), 0 / 8)


def test_window_days_from_the_project_file(tmp_path):
    # window_days = 60: b (+30 d +1 s) activates, and completes onboarding at +60 d exactly; e (+30 d +0.5 s)
    # completes onboarding → activation 4/4 and 1/2, onboarding completion 3/4 and 2/2
    s = open_session(tmp_path / "w", RICH, toml_extra="[parameters]\nwindow_days = 60\n")
    try:
        r = s.compute(["activation_rate", "onboarding_completion_rate"], start="2024-02-01", end="2024-04-01")
    finally:
        s.close()
    check(r.value("activation_rate", FEB), 4 / 4)
    check(r.value("activation_rate", MAR), 1 / 2)
    check(r.value("onboarding_completion_rate", FEB), 3 / 4)
    check(r.value("onboarding_completion_rate", MAR), 2 / 2)


def test_window_days_zero_keeps_only_events_at_created_at(rich):
    # d's "activated" is at its created_at exactly; nobody else's
    r = rich.compute(["activation_rate"], start="2024-02-01", end="2024-04-01", params={"window_days": 0})
    check(r.value("activation_rate", FEB), 0 / 4)
    check(r.value("activation_rate", MAR), 1 / 2)


def test_event_name_parameters(rich):
    # value_event = onboarding_completed: February a 4, b 60, f 0.5 → median 4; March d 30, e 30 + 0.5/86400
    # activation_event = onboarding_completed: February a, f within 30 days → 2/4; March d → 1/2
    # onboarding_event = report: February a at 02-10 (+9 d); March nobody created in March has one
    r = rich.compute(["time_to_value", "activation_rate", "onboarding_completion_rate",
                      "time_to_complete_onboarding:median"], start="2024-02-01", end="2024-04-01",
                     params={"value_event": "onboarding_completed", "activation_event": "onboarding_completed",
                             "onboarding_event": "report"})
    check(r.value("time_to_value", FEB), 4)
    check(r.value("time_to_value", MAR), 30 + 0.25 / DAY)
    check(r.value("activation_rate", FEB), 2 / 4)
    check(r.value("onboarding_completion_rate", FEB), 1 / 4)
    check(r.value("time_to_complete_onboarding", FEB), 9)
    check(r.value("time_to_complete_onboarding", MAR), None)  # a median over nobody


def test_health_weights(rich):
    # frequency only: February (2/29 + 3/29 + 0 + 0) / 4 × 100; depth only: March (1/4 + 1/4 + 1/4 + 0) / 4 × 100
    r = rich.compute(["customer_health_score"], start="2024-02-01", end="2024-04-01",
                     params={"health_weight_frequency": 1, "health_weight_breadth": 0, "health_weight_depth": 0})
    check(r.value("customer_health_score", FEB), 100 * (2 / 29 + 3 / 29) / 4)
    r = rich.compute(["customer_health_score"], start="2024-02-01", end="2024-04-01",
                     params={"health_weight_frequency": 0, "health_weight_breadth": 0, "health_weight_depth": 1.0})
    check(r.value("customer_health_score", MAR), 100 * (3 / 4) / 4)


@pytest.mark.parametrize("params,match", [
    ({"window_days": "thirty"}, "window_days"),
    ({"window_days": 1.5}, "window_days"),
    ({"window_days": -1}, "window_days"),
    ({"health_weight_depth": -0.5}, "health_weight_depth"),
    ({"active_events": 3}, "active_events"),
    ({"activation_event": 7}, "activation_event"),
    ({"activation_evnt": "x"}, "activation_evnt"),
    ({"activation_event": " "}, r"activation_event \(used by activation_rate:default\): expected a non-empty name"),
    ({"active_events": "login,,report"}, "active_events .* expected a list of names without empty ones"),
    ({"active_events": ["login", ""]}, "active_events .* expected a list of names without empty ones"),
    ({"health_weight_depth": "nan"}, "health_weight_depth .* expected a number"),
    ({"health_weight_depth": -0.5}, r"health_weight_depth \(used by customer_health_score:frequency_breadth_depth\): "
                                    r"must be ≥ 0, got -0.5$"),  # the variant named once, though three readings use it
])
def test_bad_parameters_are_usage_errors(rich, params, match):
    with pytest.raises(UsageError, match=match):
        rich.compute(["activation_rate", "customer_health_score", "active_users"], start="2024-02-01",
                     end="2024-03-01", params=params)


def test_events_of_no_user_make_nobody_active(tmp_path):
    # week of 2024-01-01: u1 on Monday; two events without a user on Tuesday and Wednesday: 1 active
    # user, 1 user-day → stickiness 1 / 7 / 1 (not 3 / 7 / 1)
    s = open_session(tmp_path / "nouser", {"events": [
        event("u1", "c1", "login", T(2024, 1, 1, 9)), event(None, "c1", "sync", T(2024, 1, 2, 9)),
        event(None, "c1", "sync", T(2024, 1, 3, 9))]})
    try:
        r = s.compute(["active_users", "stickiness"], grain="week", start="2024-01-01",
                      end="2024-01-08")
    finally:
        s.close()
    check(r.value("active_users", D(2024, 1, 1)), 1)
    check(r.value("stickiness", D(2024, 1, 1)), 1 / 7 / 1)


def test_a_list_of_numbers_for_names_is_a_usage_error(tmp_path):
    # TOML [1, 2] is no list of event names: a usage error, never an engine's conversion error
    s = open_session(tmp_path / "numbers", {"events": [event("u1", "c1", "login", T(2024, 1, 1, 9))]},
                     toml_extra="[parameters]\nactive_events = [1, 2]\n")
    try:
        with pytest.raises(UsageError, match=r"parameter active_events \(used by active_users:default\): "
                                             r"expected a list of names \(strings\), got \[1, 2\]"):
            s.compute(["active_users"], start="2024-01-01", end="2024-02-01")
    finally:
        s.close()


def test_a_parameter_the_run_does_not_read_is_checked_too(rich):
    # a typo in a value fails the run that sets it, whichever metrics it computes, naming the
    # metrics that declare the parameter
    with pytest.raises(UsageError, match=r"parameter window_days \(used by activation_rate, "
                                         r"onboarding_completion_rate\): expected an integer, got 'thirty'"):
        rich.compute(["active_users"], start="2024-02-01", end="2024-03-01", params={"window_days": "thirty"})


# --------------------------------------------------------------------------------------------
# Other grains, --by
# --------------------------------------------------------------------------------------------


def test_week_and_day_grains(rich):
    # ISO week of Monday 02-26: uz1 (02-29, 03-01), ua2 (02-29), uc1 (03-01), ud1 (03-01), ua1 (03-02)
    #   → 5 users, 6 user-days over 7 days
    r = rich.compute(["active_users", "stickiness", "referrals"], grain="week", start="2024-02-26",
                     end="2024-03-04", params=ANY)
    check(r.value("active_users", D(2024, 2, 26)), 5)
    check(r.value("stickiness", D(2024, 2, 26)), 6 / 7 / 5)
    check(r.value("referrals", D(2024, 2, 26)), 2)  # r2 (02-29 23:59:59) and r3 (03-01)
    # day 02-01: uz1 twice → 1 user, 1 user-day over 1 day; referral r1 at 00:00 exactly
    r = rich.compute(["active_users", "stickiness", "referrals"], grain="day", start="2024-02-01",
                     end="2024-02-03", params=ANY)
    check(r.value("active_users", D(2024, 2, 1)), 1)
    check(r.value("stickiness", D(2024, 2, 1)), 1.0)
    check(r.value("referrals", D(2024, 2, 1)), 1)
    check(r.value("stickiness", D(2024, 2, 2)), None)
    check(r.value("referrals", D(2024, 2, 2)), 0)


def test_quarter_grain(rich):
    # Q1 2024: cohort {a, b, c, f, d, e} → activation 4/6; trials started {t1, t2, t3, t5, t6}, converted in
    # Q1 {t1, t4, t2}; users before 04-01: 8; time to value {1/86400, 1.25, 30, 30 + 1/86400, 0} → median 1.25
    r = rich.compute(["activation_rate", "free_to_paid_conversion", "free_to_paid_conversion:over_population",
                      "time_to_value", "referral_rate"], grain="quarter", start="2024-01-01", end="2024-04-01")
    q1 = D(2024, 1, 1)
    check(r.value("activation_rate", q1), 4 / 6)
    check(r.value("free_to_paid_conversion", q1, variant="over_trials"), 3 / 5)
    check(r.value("free_to_paid_conversion", q1, variant="over_population"), 3 / 8)
    check(r.value("time_to_value", q1), 1.25)
    check(r.value("referral_rate", q1), 3 / 4)  # E at 04-01 = {z, a, c, g}


BY_FEBRUARY = {
    # smb {a, b, c, f}, ent {d, e, z}, NULL {g}
    "active_users": {"smb": 4, "ent": 1, None: 0},  # uc1, uf1, ua1, ua2 | uz1
    "engagement_rate": {"smb": 4 / 5, "ent": 1 / 1, None: None},  # users: ua3 ua1 ua2 ub1 uf1 | uz1 | none
    "referral_rate": {"smb": 1 / 2, "ent": 1 / 1, None: 0 / 1},  # E: {a, b} | {z} | {g}
    "customer_health_score": {"smb": (_health(29, 3, 2 / 3, 3) + 0) / 2, "ent": _health(29, 2, 1, 1), None: 0},
    "free_to_paid_conversion": {"smb": 2 / 3, "ent": None, None: None},  # t1, t4 of f | no trial started
}


def test_by_segment(rich):
    r = rich.compute(list(BY_FEBRUARY), start="2024-02-01", end="2024-03-01", by=("segment",), params=ANY)
    for metric, expected in BY_FEBRUARY.items():
        for segment, value in expected.items():
            check(r.value(metric, FEB, segment=segment), value)


def test_by_segment_of_customer_cohorts(rich):
    r = rich.compute(["activation_rate", "time_to_value"], start="2024-02-01", end="2024-03-01", by=("segment",))
    check(r.value("activation_rate", FEB, segment="smb"), 3 / 4)
    check(r.value("time_to_value", FEB, segment="smb"), (1.25 + 30) / 2)
    check(r.value("activation_rate", FEB, segment="ent"), None)


CHECK_PLUGIN = """
from csframe.core.hookspecs import hookimpl
from csframe.core.models import Metric, Variant

@hookimpl
def csframe_register_metrics(registrar):
    registrar.metric(Metric("e_by_customer_minus_customers_end", "count", "test only", (
        Variant("default", "health_scored_customers - customers_end"),)))
"""


@pytest.mark.parametrize("grain,start,by", [("month", "2023-09-01", ()), ("week", "2024-10-07", ()),
                                            ("quarter", "2023-04-01", ("segment",))])
def test_e_customer_by_customer_is_customers_end(tmp_path, grain, start, by):
    # the health score's set E (read customer by customer off sub_customer_periods) has |E| customers in every
    # period, on the demo data (price changes, reactivations, churn on boundaries)
    from csframe.core.project import Project, SourceBinding
    from csframe.plugins.demo import generate

    names = ("customers", "subscriptions", "users", "events")
    (tmp_path / "e_check_plugin.py").write_text(CHECK_PLUGIN)
    project = Project(dir=tmp_path, adapter={"name": "duckdb", "database": "d.duckdb"},
                      sources={n: SourceBinding(n, table=n) for n in names},
                      plugin_modules=(*_CATALOG, "e_check_plugin"))
    with Session.open(project=project, entry_points=False) as s:
        s.adapter().connect(write=True)
        s.adapter().load_tables(generate(customers=80, months=18, end=D(2025, 1, 1), seed=3, sources=set(names)))
        r = s.compute(["e_by_customer_minus_customers_end", "customers"], grain=grain, start=start,
                      end="2025-01-01", by=by)
    diffs = [row for row in r.rows if row[0] == "e_by_customer_minus_customers_end" and row[-1] != 0]
    assert not diffs
    assert sum(row[-1] for row in r.rows if row[0] == "customers") > 100  # the data is not trivial


# --------------------------------------------------------------------------------------------
# Empty periods and zero denominators
# --------------------------------------------------------------------------------------------

EMPTY = {name: [] for name in COLUMNS}
_COUNTS = {"active_users", "referrals"}
EMPTY_JANUARY = {key: (0 if key[0] in _COUNTS else None) for key in EXPECTED}


@pytest.fixture(scope="module")
def empty_result(tmp_path_factory):
    s = open_session(tmp_path_factory.mktemp("empty"), EMPTY)
    try:
        return s.compute(_ids(EMPTY_JANUARY), start="2024-01-01", end="2024-02-01", params=ANY)
    finally:
        s.close()


@pytest.mark.parametrize("key", list(EMPTY_JANUARY), ids=_ids(EMPTY_JANUARY))
def test_empty_period(empty_result, key):
    # every count is 0 (a count over no rows), every ratio, mean, median and score None
    check(empty_result.value(key[0], D(2024, 1, 1), variant=key[1]), EMPTY_JANUARY[key])


def test_empty_period_keyed(tmp_path):
    # no event name in the source: feature_adoption_rate has no feature, so no row; every band, 0 customers
    s = open_session(tmp_path / "empty_keyed", EMPTY)
    try:
        r = s.compute(_ids(KEYED), start="2024-01-01", end="2024-02-01")
    finally:
        s.close()
    assert [(row[0], row[5], row[-1]) for row in r.rows] == [
        ("health_band_customers", band, 0) for band in ("at_risk", "healthy", "needs_attention")]


SPARSE = {
    **EMPTY,
    # January: one customer created, nothing reached; a referral, but nobody pays; a conversion, but no
    # trial started in January and no user; an event by a user of no customer account
    "customers": [customer("x", T(2024, 1, 10))],
    "referrals": [referral("rx", "x", T(2024, 1, 5))],
    "trials": [trial("tx", "x", T(2023, 12, 20), T(2024, 1, 3))],
    "events": [event("ux", "x", "login", T(2024, 1, 10))],
}


def test_zero_denominators_with_numerators(tmp_path):
    s = open_session(tmp_path / "sparse", SPARSE)
    try:
        r = s.compute(["referrals", "referral_rate", "free_to_paid_conversion:over_trials",
                       "free_to_paid_conversion:over_population", "activation_rate", "time_to_value",
                       "time_to_value:mean", "time_to_complete_onboarding", "engagement_rate", "active_users",
                       "customer_health_score"], start="2024-01-01", end="2024-02-01", params=ANY)
    finally:
        s.close()
    jan = D(2024, 1, 1)
    check(r.value("referrals", jan), 1)
    check(r.value("referral_rate", jan), None)  # 1 / |E| = 1 / 0
    check(r.value("free_to_paid_conversion", jan, variant="over_trials"), None)  # 1 / 0 started
    check(r.value("free_to_paid_conversion", jan, variant="over_population"), None)  # 1 / 0 users
    check(r.value("activation_rate", jan), 0 / 1)
    check(r.value("time_to_value", jan, variant="median"), None)  # x never reached value: left out
    check(r.value("time_to_value", jan, variant="mean"), None)
    check(r.value("time_to_complete_onboarding", jan), None)
    check(r.value("engagement_rate", jan), None)  # 1 engaged / 0 users
    check(r.value("active_users", jan), 1)
    check(r.value("customer_health_score", jan), None)  # E is empty


# --------------------------------------------------------------------------------------------
# Declarations: worked examples, provenance, parameters, notes
# --------------------------------------------------------------------------------------------


def _examples(session):
    return [((rv.metric, rv.variant.name), ex) for rv in session.registry.all_variants()
            if rv.metric in {m.name for m in METRICS} for ex in rv.variant.examples]


def test_declared_examples(rich):
    con = duckdb.connect()
    cases = _examples(rich)
    for key, example in cases:
        ok, value = check_example(rich.registry, rich.graph, key, example,
                                  lambda q: con.execute(q.sql("duckdb")).fetchone()[0])
        assert ok, f"{key[0]}:{key[1]} — {example.text}: got {value}, expected {example.expected}"
    texts = {(k, e.text): e.expected for k, e in cases}
    # metrics.md's worked examples for this section
    assert texts[(("free_to_paid_conversion", "over_population"), "60 converted, 100 users")] == 0.60
    assert texts[(("stickiness", "default"), "mean daily active users 9,400; monthly 142,000")] == 0.0662


def test_stickiness_example_is_about_0_0662():
    (example,) = [e for m in METRICS if m.name == "stickiness" for e in m.variants[0].examples if e.expected]
    i = example.inputs
    assert i["active_user_days"] / i["days_in_period"] / i["period_active_users"] == pytest.approx(0.0662, abs=5e-5)


def test_definitions_are_complete():
    names = {m.name for m in METRICS}
    assert names == {"trial_conversion_rate", "free_to_paid_conversion", "activation_rate", "time_to_value",
                     "onboarding_completion_rate", "time_to_complete_onboarding", "active_users", "stickiness",
                     "feature_adoption_rate", "engagement_rate", "customer_health_score", "health_band_customers",
                     "referrals", "referral_rate"}
    for m in METRICS:
        assert m.family == "adoption"
        for v in m.variants:
            assert v.provenance and set(v.provenance) <= set(PROVENANCE), (m.name, v.name)
            assert v.description
    by_name = {m.name: m for m in METRICS}
    assert by_name["time_to_value"].default == "median"
    assert by_name["time_to_complete_onboarding"].default == "mean"
    assert [v.name for v in by_name["free_to_paid_conversion"].variants] == ["over_trials", "over_population"]
    params = {p.name: p for m in METRICS for p in m.parameters}
    assert {n: (p.default, p.kind) for n, p in params.items()} == {
        "activation_event": ("activated", "str"), "window_days": (30, "int"), "value_event": ("activated", "str"),
        "onboarding_event": ("onboarding_completed", "str"), "active_events": (None, "list"),
        "engagement_event": (None, "str"), "health_weight_frequency": (1 / 3, "float"),
        "health_weight_breadth": (1 / 3, "float"), "health_weight_depth": (1 / 3, "float"),
        "features": (None, "list"), "onboarding_steps": (None, "list")}
    assert all(p.description for p in params.values())
    # "at all" and window-bounded metrics say so in explain; the others do not
    noted = {m.name for m in METRICS if m.cohort_note}
    assert noted == {"trial_conversion_rate", "activation_rate", "time_to_value", "onboarding_completion_rate",
                     "time_to_complete_onboarding", "customer_health_score", "health_band_customers",
                     "feature_adoption_rate"}
    # the --by readings that are not customers columns
    splits = {(m.name, v.name): set(v.splits) for m in METRICS for v in m.variants if v.splits}
    assert splits == {("onboarding_completion_rate", "default"): {"step"},
                      ("customer_health_score", "frequency_breadth_depth"): {"customer_id", "health_band"},
                      ("health_band_customers", "default"): {"health_band"}}


def test_each_metric_reads_only_its_parameters(rich):
    def params(key):
        return set(rich.graph.resolve(key).parameters)

    assert params(("activation_rate", "default")) == {"activation_event", "window_days"}
    assert params(("onboarding_completion_rate", "default")) == {"onboarding_event", "window_days"}
    assert params(("time_to_value", "mean")) == {"value_event"}
    assert params(("stickiness", "default")) == {"active_events"}
    assert params(("customer_health_score", "frequency_breadth_depth")) == {
        "health_weight_frequency", "health_weight_breadth", "health_weight_depth"}
    assert params(("referral_rate", "default")) == set()
    assert params(("feature_adoption_rate", "default")) == {"features"}
    assert params(("health_band_customers", "default")) == {
        "health_weight_frequency", "health_weight_breadth", "health_weight_depth"}
    assert set(rich.graph.resolve(("onboarding_completion_rate", "default"), "step").parameters) == {
        "window_days", "onboarding_steps"}  # the steps replace onboarding_event


# --------------------------------------------------------------------------------------------
# Coverage
# --------------------------------------------------------------------------------------------


def test_every_registered_adoption_variant_is_covered(rich):
    registered = {(m.name, v.name) for m in METRICS for v in m.variants}
    assert set(EXPECTED) | set(KEYED) == registered
    assert set(EMPTY_JANUARY) | set(KEYED) == registered
    in_session = {(rv.metric, rv.variant.name) for rv in rich.registry.all_variants()
                  if rv.plugin == "csframe.definitions.adoption"}
    assert in_session == registered
