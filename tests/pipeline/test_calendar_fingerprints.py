"""Issue 13's loose ends in write-back: the fingerprint covers the project's calendar (a
changed time zone, week start or fiscal year, or a custom grain's periods, changes numbers, so
``diff`` must see it), and windowed rows keep keys of their own beside plain rows."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from csframe.core.periods import Grain
from tests.pipeline.commands import cs, ok
from tests.pipeline.test_fingerprints import commit_all

D = dt.date
JANUARY = ("--grain", "day", "--start", "2024-01-01", "--end", "2024-02-01")


@pytest.fixture
def proj(duck_project, tmp_path):
    return duck_project.copy(tmp_path / "duck")


def _with_calendar(path, body: str) -> None:
    toml = path / "csframe.toml"
    text = toml.read_text().split("\n[calendar]\n")[0]
    toml.write_text(text + "\n[calendar]\n" + body)


def _fps(path, grain=None):
    from csframe.core.session import Session

    with Session.open(path) as s:
        keys = [(rv.metric, rv.variant.name) for rv in s.registry.all_variants()]
        return s.fingerprints(keys, grain=grain)


def test_plain_and_windowed_rows_keep_their_own_keys_in_one_target(proj):
    ok(cs("compute", "-m", "customers", *JANUARY, "--target", "cs_metrics", "-q", project=proj.path))
    plain_before = {r[3]: r for r in proj.rows() if r[2] == "day"}
    for _ in range(2):  # written twice: a re-run replaces its own rows, nothing else
        ok(cs("compute", "-m", "customers", *JANUARY, "--window", "7d", "--target", "cs_metrics", "-q",
              project=proj.path))
    rows = proj.rows()
    plain = {r[3]: r for r in rows if r[2] == "day"}
    windowed = {r[4]: r for r in rows if r[2] == "day/7d"}
    # 31 days of January; the windows end at Jan 2 … Feb 1, so they start at Dec 26 … Jan 25: keyed by
    # period_start alone, 25 of them (Jan 1 … Jan 25) would have replaced plain days
    assert len(rows) == 62 and len(plain) == 31 and len(windowed) == 31
    assert plain == plain_before  # the plain rows are untouched
    assert min(r[3] for r in windowed.values()) == D(2023, 12, 26)
    for end, r in windowed.items():
        assert (r[4] - r[3]).days == 7
        if end in {p[4] for p in plain.values()}:  # customers at a window's end = at its last day's end
            day = next(p for p in plain.values() if p[4] == end)
            assert r[6] == day[6]


def test_the_target_grain_key_spells_each_window_once():
    from csframe.core.periods import grain
    from csframe.core.windows import parse_window
    from csframe.core.writeback import target_grain

    day, week, month, quarter = grain("day"), grain("week"), grain("month"), grain("quarter")
    assert target_grain(day) == "day"
    assert target_grain(day, parse_window("30d", day)) == "day/30d"
    assert target_grain(day, parse_window("4w", day)) == target_grain(day, parse_window("28d", day)) == "day/28d"
    assert target_grain(week, parse_window("13w", week)) == "week/13w"
    assert target_grain(month, parse_window("1y", month)) == "month/12m"
    assert target_grain(quarter, parse_window("4q", quarter)) == "quarter/12m"


def test_diff_against_a_table_sees_a_calendar_change(proj):
    ok(cs("compute", "-m", "mrr", "-m", "customers", "--grain", "month", "--start", "2024-01-01", "--end",
          "2024-03-01", "--target", "cs_metrics", "-q", project=proj.path))
    utc_prints = {r[9] for r in proj.rows()}
    assert "no metric" in ok(cs("diff", "--against", "cs_metrics", project=proj.path)).stdout
    _with_calendar(proj.path, 'time_zone = "America/New_York"\n')
    r = ok(cs("diff", "--against", "cs_metrics", "--format", "json", project=proj.path))
    assert {(c["metric"], c["status"]) for c in json.loads(r.stdout)} == {("mrr", "changed"),
                                                                           ("customers", "changed")}
    # computed again in that calendar: new fingerprints stored, and nothing differs
    ok(cs("compute", "-m", "mrr", "-m", "customers", "--grain", "month", "--start", "2024-01-01", "--end",
          "2024-03-01", "--target", "cs_metrics", "-q", project=proj.path))
    assert not {r[9] for r in proj.rows()} & utc_prints
    assert "no metric" in ok(cs("diff", "--against", "cs_metrics", project=proj.path)).stdout
    _with_calendar(proj.path, 'time_zone = "America/New_York"\nweek_start = "sunday"\n')
    assert ok(cs("diff", "--against", "cs_metrics", project=proj.path)).stdout.count("changed") == 2


def test_diff_against_git_sees_a_calendar_change(proj):
    (proj.path / ".gitignore").write_text("*.duckdb\n__pycache__/\n")
    commit_all(proj.path)
    _with_calendar(proj.path, "fiscal_year_start = 4\n")
    r = ok(cs("diff", "--against", "git:HEAD", "--format", "json", project=proj.path))
    changes = json.loads(r.stdout)
    assert {c["status"] for c in changes} == {"changed"} and len(changes) == len(_fps(proj.path))


def test_each_calendar_setting_and_a_custom_grains_periods_change_every_fingerprint(proj):
    from csframe.core.calendar import Calendar
    from csframe.core.fingerprint import calendar_text

    assert calendar_text(Calendar()) is None  # the default calendar: fingerprints as before calendars
    base = _fps(proj.path)
    seen = [base]
    for body in ('time_zone = "Europe/Paris"\n', 'week_start = "sunday"\n', "fiscal_year_start = 7\n"):
        _with_calendar(proj.path, body)
        now = _fps(proj.path)
        assert all(now[k] != f for p in seen for k, f in p.items())
        seen.append(now)
    _with_calendar(proj.path, "")
    assert _fps(proj.path) == base
    # a 4-4-5 quarter: 4 weeks, 4 weeks, 5 weeks; then its last month ends a week later
    p1 = ((D(2024, 1, 1), D(2024, 1, 29)), (D(2024, 1, 29), D(2024, 2, 26)), (D(2024, 2, 26), D(2024, 4, 1)))
    p2 = p1[:2] + ((D(2024, 2, 26), D(2024, 4, 8)),)
    a, b = _fps(proj.path, Grain("retail_month", periods=p1)), _fps(proj.path, Grain("retail_month", periods=p2))
    assert all(a[k] != base[k] and b[k] != a[k] for k in base)
    assert _fps(proj.path, Grain("retail_month", periods=p1)) == a


def test_diff_against_rows_of_a_custom_grain_reads_its_periods_as_they_are_now(tmp_path):
    from tests.support.projects import make_project

    months = [("retail_month", D(2024, 2, 4), D(2024, 3, 3)), ("retail_month", D(2024, 3, 3), D(2024, 3, 31)),
              ("retail_month", D(2024, 3, 31), D(2024, 5, 5))]
    subs = [{"subscription_id": "s", "customer_id": "a", "started_at": dt.datetime(2024, 1, 1), "ended_at": None,
             "mrr": 10.0, "is_trial": False}]
    path = make_project(tmp_path / "p", {"subscriptions": subs,
                                         "calendar": (("grain", "period_start", "period_end"), months)})
    ok(cs("compute", "-m", "mrr", "--grain", "retail_month", "--start", "2024-03-03", "--end", "2024-05-05",
          "--target", "cs_metrics", "-q", project=path))
    assert "no metric" in ok(cs("diff", "--against", "cs_metrics", project=path)).stdout
    import duckdb

    con = duckdb.connect(str(path / "data.duckdb"))
    try:  # the last 5-week month becomes 4 weeks and a new 5-week month follows it: numbers may move
        con.execute("UPDATE calendar SET period_end = DATE '2024-04-28' WHERE period_start = DATE '2024-03-31'")
        con.execute("INSERT INTO calendar VALUES ('retail_month', DATE '2024-04-28', DATE '2024-06-02')")
    finally:
        con.close()
    r = ok(cs("diff", "--against", "cs_metrics", "--format", "json", project=path))
    assert [(c["metric"], c["status"]) for c in json.loads(r.stdout)] == [("mrr", "changed")]
    con = duckdb.connect(str(path / "data.duckdb"))
    try:  # the grain is gone from the calendar: still changed, and the detail says why
        con.execute("UPDATE calendar SET grain = 'fiscal_period'")
    finally:
        con.close()
    (change,) = json.loads(ok(cs("diff", "--against", "cs_metrics", "--format", "json", project=path)).stdout)
    assert change["status"] == "changed" and "grain retail_month: unknown grain" in change["detail"]
