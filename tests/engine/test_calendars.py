"""``[calendar]`` of csframe.toml on the three engines: a time zone (period boundaries are local
midnights, daylight-saving days are 23 and 25 hours long), weeks from Sunday and fiscal years
from April (and February, where fiscal quarters differ from calendar ones).

Every expected value below is worked out by hand from the rows (the arithmetic is in the
comments). Paying status (data-contract.md): a row [started_at, ended_at) is paying at a
boundary b when started_at < b <= ended_at; a row starting exactly at b is new in the period
starting at b, one ending exactly at b is lost in it. Each case also checks the MRR identity
M(p.end) = M(p.start) + new + expansion + reactivation − contraction − churned per period.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from csframe.core.session import Session
from tests.support.bigquery_emulator import bq_emulator  # noqa: F401 - the fixture engine_project uses
from tests.support.engines import engine_project  # noqa: F401 - the fixture

T = dt.datetime
D = dt.date
METRICS = ["customers", "mrr", "new_customers", "churn_rate:lost_over_start"]
MOVEMENTS = ["new_mrr", "expansion_mrr", "reactivation_mrr", "contraction_mrr", "churned_mrr"]


def sub(sid: str, started: T, ended: T | None, mrr: int) -> dict:
    return {"subscription_id": sid, "customer_id": sid, "started_at": started, "ended_at": ended,
            "mrr": Decimal(mrr), "is_trial": False}


# America/New_York. Local midnights as UTC instants (EST = UTC−5, EDT = UTC−4; clocks go
# forward on 2024-03-10 at 02:00 EST and back on 2024-11-03 at 02:00 EDT):
#   03-09 00:00 EST = 03-09T05:00Z   03-10 00:00 EST = 03-10T05:00Z
#   03-11 00:00 EDT = 03-11T04:00Z   (so local 03-10 lasts 23 hours)   03-12 = 03-12T04:00Z
#   11-03 00:00 EDT = 11-03T04:00Z   11-04 00:00 EST = 11-04T05:00Z (local 11-03 lasts 25 hours)
#   11-05 00:00 EST = 11-05T05:00Z
DST_ROWS = [
    sub("a", T(2024, 3, 10, 4, 30), T(2024, 4, 1), 100),    # local 03-09 23:30 EST: new on 03-09 (UTC: 03-10)
    sub("b", T(2024, 3, 1), T(2024, 3, 11, 3, 30), 50),     # ends local 03-10 23:30 EDT: lost on 03-10 (UTC: 03-11)
    sub("c", T(2024, 3, 11, 4), T(2024, 4, 1), 30),         # starts exactly at local midnight 03-11: new on 03-11
    sub("d", T(2024, 3, 8, 12), T(2024, 3, 9, 4, 59, 59), 20),  # ends local 03-08 23:59:59: gone before 03-09
    sub("h", T(2024, 3, 12, 2), T(2024, 4, 1), 7),          # local 03-11 22:00 EDT: new on 03-11 (UTC: 03-12)
    sub("e", T(2024, 11, 4, 4, 30), None, 40),              # local 11-03 23:30 EST: new on 11-03 (UTC: 11-04)
    sub("f", T(2024, 10, 1), T(2024, 11, 4, 5), 60),        # ends exactly at local midnight 11-04: lost on 11-04
    sub("g", T(2024, 11, 3, 4), None, 10),                  # starts exactly at local midnight 11-03: new on 11-03
]
NEW_YORK = '[calendar]\ntime_zone = "America/New_York"\n'

# Fiscal years from April (and quarters from February). UTC.
FISCAL_ROWS = [
    sub("p", T(2024, 3, 31, 23), None, 100),                # the last hour of FY2023 (which starts 2023-04-01)
    sub("q", T(2024, 4, 1), T(2024, 7, 1), 200),            # the first instant of FY2024, ends exactly 2024-07-01
    sub("r", T(2024, 5, 15, 12), None, 50),                 # mid-May
    sub("s", T(2023, 1, 1), T(2024, 6, 1), 10),             # paying since 2023, ends 2024-06-01
]

# Weeks from Sunday. 2024-03-10 is a Sunday, 2024-03-04 a Monday. UTC.
WEEK_ROWS = [
    sub("u", T(2024, 3, 10), None, 10),                     # the first instant of the Sunday week 03-10
    sub("v", T(2024, 3, 4), T(2024, 3, 16, 12), 20),        # paying at 03-10, ends Saturday 03-16
    sub("w", T(2024, 3, 17), None, 5),                      # the first instant of the next Sunday week
]


@pytest.fixture
def on_engine(engine_project, tmp_path):  # noqa: F811
    opened: list[Session] = []

    def build(tables: dict, toml_extra: str = "") -> Session:
        s = Session.open(engine_project(tmp_path / f"p{len(opened)}", tables, toml_extra))
        opened.append(s)
        return s

    yield build
    for s in opened:
        s.close()


def values(s: Session, grain: str, start: str, end: str) -> dict:
    """{(metric, period_start): value} of METRICS and the MRR movements; the periods' ends;
    and the MRR identity checked on every period but the first (whose M(p.start) is not known)."""
    r = s.compute([*METRICS, *MOVEMENTS], grain=grain, start=start, end=end)
    out = {(row[0], row[2]): row[-1] for row in r.rows}
    ends = {row[2]: row[3] for row in r.rows}
    starts = sorted(ends)
    for previous, p in zip(starts, starts[1:]):
        moved = sum(out[(m, p)] * (1 if m in MOVEMENTS[:3] else -1) for m in MOVEMENTS)
        assert out[("mrr", p)] == pytest.approx(out[("mrr", previous)] + moved), p
    return {"values": out, "ends": ends}


def expect(got: dict, period: D, end: D, customers: int, mrr: int, new: int, churn: float | None) -> None:
    v = got["values"]
    assert got["ends"][period] == end
    assert (v[("customers", period)], v[("mrr", period)], v[("new_customers", period)]) == (customers, mrr, new)
    if churn is None:
        assert v[("churn_rate", period)] is None
    else:
        assert v[("churn_rate", period)] == pytest.approx(churn)


def test_days_in_a_time_zone_across_the_spring_transition(on_engine):
    got = values(on_engine({"subscriptions": DST_ROWS}, NEW_YORK), "day", "2024-03-09", "2024-03-12")
    assert sorted(got["ends"]) == [D(2024, 3, 9), D(2024, 3, 10), D(2024, 3, 11)]
    # 03-09: S at 03-09T05:00Z = {b} (d ended 04:59:59Z); E at 03-10T05:00Z = {a (04:30Z), b} → 2, 100 + 50
    #        N = {a}; L = {} → 0 / 1
    expect(got, D(2024, 3, 9), D(2024, 3, 10), customers=2, mrr=150, new=1, churn=0.0)
    # 03-10 (23 h): S = {a, b}; E at 03-11T04:00Z = {a} (b ended 03:30Z; c starts at 04:00Z, not yet
    #        paying) → 1, 100; N = {}; L = {b} → 1 / 2
    expect(got, D(2024, 3, 10), D(2024, 3, 11), customers=1, mrr=100, new=0, churn=0.5)
    # 03-11: S = {a}; E at 03-12T04:00Z = {a, c, h (02:00Z)} → 3, 100 + 30 + 7; N = {c, h}; L = {} → 0 / 1
    expect(got, D(2024, 3, 11), D(2024, 3, 12), customers=3, mrr=137, new=2, churn=0.0)


def test_days_in_a_time_zone_across_the_autumn_transition(on_engine):
    got = values(on_engine({"subscriptions": DST_ROWS}, NEW_YORK), "day", "2024-11-03", "2024-11-05")
    # 11-03 (25 h): S at 11-03T04:00Z = {f} (g starts at 04:00Z: not yet); E at 11-04T05:00Z =
    #        {f (ends at 05:00Z: still paying), g, e (04:30Z)} → 3, 60 + 10 + 40; N = {g, e}; L = {} → 0 / 1
    expect(got, D(2024, 11, 3), D(2024, 11, 4), customers=3, mrr=110, new=2, churn=0.0)
    # 11-04: S = {e, f, g}; E at 11-05T05:00Z = {e, g} → 2, 40 + 10; N = {}; L = {f} → 1 / 3
    expect(got, D(2024, 11, 4), D(2024, 11, 5), customers=2, mrr=50, new=0, churn=1 / 3)


def test_a_month_in_a_time_zone(on_engine):
    # March 2024 in New York: [03-01T05:00Z, 04-01T04:00Z). S = {} (b starts 03-01T00:00Z = 02-29 19:00
    # EST: new in February); the rows a, c, h end 04-01T00:00Z = 03-31 20:00 EDT: lost in March, as b and d.
    # E at 04-01T04:00Z = {} → 0, 0; N = {a, c, d, h} (b is February's); L = {b} → 1 / 1
    got = values(on_engine({"subscriptions": DST_ROWS}, NEW_YORK), "month", "2024-02-01", "2024-04-01")
    expect(got, D(2024, 3, 1), D(2024, 4, 1), customers=0, mrr=0, new=4, churn=1.0)
    # February: S = {} ; E at 03-01T05:00Z = {b} → 1, 50; N = {b}; L = {} → 0 / 0 = None
    expect(got, D(2024, 2, 1), D(2024, 3, 1), customers=1, mrr=50, new=1, churn=None)


def test_a_fiscal_year_starting_in_april(on_engine):
    got = values(on_engine({"subscriptions": FISCAL_ROWS}, "[calendar]\nfiscal_year_start = 4\n"),
                 "year", "2024-05-15", "2025-01-01")
    # 2024-05-15 is in FY2024 = [2024-04-01, 2025-04-01). S = {p, s} (110); E at 2025-04-01 = {p, r}
    # → 2, 100 + 50; N = {q, r}; L = {s} (q is new and lost: not in S) → 1 / 2.
    # Identity: 110 + new_mrr 50 (N ∩ E = {r}) − churned 10 = 150.
    assert sorted(got["ends"]) == [D(2024, 4, 1)]
    expect(got, D(2024, 4, 1), D(2025, 4, 1), customers=2, mrr=150, new=2, churn=0.5)
    before = values(on_engine({"subscriptions": FISCAL_ROWS}, "[calendar]\nfiscal_year_start = 4\n"),
                    "year", "2023-04-01", "2025-04-01")
    # FY2023 = [2023-04-01, 2024-04-01): S = {s}; E = {s, p} → 2, 110; N = {p} (s first paid in 2023-01,
    # in FY2022); L = {} → 0 / 1; then FY2024 as above, with the identity between the two
    expect(before, D(2023, 4, 1), D(2024, 4, 1), customers=2, mrr=110, new=1, churn=0.0)
    expect(before, D(2024, 4, 1), D(2025, 4, 1), customers=2, mrr=150, new=2, churn=0.5)


def test_fiscal_quarters(on_engine):
    april = values(on_engine({"subscriptions": FISCAL_ROWS}, "[calendar]\nfiscal_year_start = 4\n"),
                   "quarter", "2024-05-15", "2024-07-01")
    # The quarter of 2024-05-15 starts 2024-04-01: S = {p, s} (110); E at 2024-07-01 = {p, q (ends exactly
    # then: still paying), r} → 3, 350; N = {q, r}; L = {s} → 1 / 2. Identity: 110 + 250 − 10 = 350
    expect(april, D(2024, 4, 1), D(2024, 7, 1), customers=3, mrr=350, new=2, churn=0.5)
    february = values(on_engine({"subscriptions": FISCAL_ROWS}, "[calendar]\nfiscal_year_start = 2\n"),
                      "quarter", "2024-05-01", "2024-11-01")
    # Quarters from February: [05-01, 08-01): S = {p, q, s} (310); E = {p, r} → 2, 150; N = {r};
    # L = {q, s} → 2 / 3. Identity: 310 + 50 − 210 = 150
    expect(february, D(2024, 5, 1), D(2024, 8, 1), customers=2, mrr=150, new=1, churn=2 / 3)
    # [08-01, 11-01): nothing changes: S = E = {p, r} → 2, 150; N = {}; L = {} → 0 / 2
    expect(february, D(2024, 8, 1), D(2024, 11, 1), customers=2, mrr=150, new=0, churn=0.0)


def test_weeks_starting_on_sunday(on_engine):
    got = values(on_engine({"subscriptions": WEEK_ROWS}, '[calendar]\nweek_start = "sunday"\n'),
                 "week", "2024-03-12", "2024-03-24")
    # 2024-03-12 (a Tuesday) is in the week [Sun 03-10, Sun 03-17): S = {v} (u starts exactly at 03-10);
    # E at 03-17 = {u} (w starts exactly at 03-17) → 1, 10; N = {u}; L = {v} → 1 / 1
    assert sorted(got["ends"]) == [D(2024, 3, 10), D(2024, 3, 17)]
    expect(got, D(2024, 3, 10), D(2024, 3, 17), customers=1, mrr=10, new=1, churn=1.0)
    # [03-17, 03-24): S = {u}; E = {u, w} → 2, 15; N = {w}; L = {} → 0 / 1. Identity: 10 + 5 = 15
    expect(got, D(2024, 3, 17), D(2024, 3, 24), customers=2, mrr=15, new=1, churn=0.0)


def test_active_days_are_local_days(on_engine):
    def event(user: str, at: T) -> dict:
        return {"user_id": user, "customer_id": "c", "name": "login", "occurred_at": at}

    events = [event("u1", T(2024, 3, 10, 4, 30)),   # local Saturday 03-09 23:30 EST
              event("u1", T(2024, 3, 10, 5, 30)),   # local Sunday 03-10 00:30 EST (UTC: the same day as the first)
              event("u2", T(2024, 3, 11, 3)),       # local Sunday 03-10 23:00 EDT, before the week's end 03-11T04:00Z
              event("u3", T(2024, 3, 11, 4))]       # local Monday 03-11 00:00 EDT: the next week
    s = on_engine({"events": events}, NEW_YORK)
    r = s.compute(["active_users", "stickiness"], grain="week", start="2024-03-04", end="2024-03-11")
    got = {row[0]: row[-1] for row in r.rows}
    # the week [Mon 03-04, Mon 03-11) in New York: users u1, u2 → 2; user-days u1 {03-09, 03-10}, u2 {03-10}
    # → 3; stickiness = 3 / 7 days / 2 users
    assert got["active_users"] == 2
    assert got["stickiness"] == pytest.approx(3 / 7 / 2)


# --------------------------------------------------------------------------------------------
# A custom calendar: the source `calendar` (grain, period_start, period_end)
# --------------------------------------------------------------------------------------------

def _weeks(start: D, *weeks: int) -> list[tuple[D, D]]:
    out = []
    for w in weeks:
        end = start + dt.timedelta(weeks=w)
        out.append((start, end))
        start = end
    return out


# The retail year 2023 (NRF) runs 53 weeks, from Sunday 2023-01-29 to Saturday 2024-02-03: 4-4-5 months,
# the 53rd week added to the last (4-4-6). 2022 and 2024 have 52 weeks.
RETAIL_MONTHS = _weeks(D(2023, 1, 29), 4, 4, 5, 4, 4, 5, 4, 4, 5, 4, 4, 6) + _weeks(D(2024, 2, 4), 4, 4, 5)
RETAIL_YEARS = _weeks(D(2022, 1, 30), 52, 53, 52)
assert RETAIL_YEARS[1] == (D(2023, 1, 29), D(2024, 2, 4)) and RETAIL_MONTHS[11] == (D(2023, 12, 24), D(2024, 2, 4))
RETAIL_ROWS = [
    sub("k", T(2024, 2, 3, 12), None, 10),                   # the last day of the 53rd week: retail 2023
    sub("m", T(2023, 1, 28), None, 20),                      # the day before retail 2023: new in 2022
    sub("n", T(2023, 1, 29), T(2024, 2, 4), 30),             # exactly the retail year 2023
    sub("o", T(2022, 6, 1), T(2023, 12, 28), 40),            # lost in the 6-week December of 2023
]


def retail(calendar_rows: list[tuple[str, D, D]]):
    from csframe.core.dataset import Column, Dataset, Table
    from csframe.testing import load_rows

    table = Table("calendar", (Column("grain", "VARCHAR"), Column("period_start", "DATE"),
                               Column("period_end", "DATE")), [tuple(r) for r in calendar_rows])
    return Dataset((*load_rows({"subscriptions": RETAIL_ROWS}).tables, table))


RETAIL = [("retail_month", s, e) for s, e in RETAIL_MONTHS] + [("retail_year", s, e) for s, e in RETAIL_YEARS]


def test_a_53_week_retail_year(on_engine):
    s = on_engine(retail(RETAIL))
    got = values(s, "retail_year", "2023-06-01", "2024-03-01")
    assert got["ends"] == {D(2023, 1, 29): D(2024, 2, 4), D(2024, 2, 4): D(2025, 2, 2)}
    # 2023 (53 weeks): S at 01-29 = {m, o} (n starts exactly then) → 60; E at 2024-02-04 = {k, m, n (ends exactly
    # then: still paying)} → 3, 10 + 20 + 30; N = {n, k}; L = {o} → 1 / 2. Identity: 60 + 40 − 40 = 60
    expect(got, D(2023, 1, 29), D(2024, 2, 4), customers=3, mrr=60, new=2, churn=0.5)
    # 2024: S = {k, m, n}; E = {k, m} → 2, 30; N = {}; L = {n} → 1 / 3
    expect(got, D(2024, 2, 4), D(2025, 2, 2), customers=2, mrr=30, new=0, churn=1 / 3)
    months = values(s, "retail_month", "2023-12-24", "2024-02-04")
    # the 6-week month [12-24, 02-04): S = {m, n, o} → 90; E = {k, m, n} → 3, 60; N = {k}; L = {o} → 1 / 3
    assert months["ends"] == {D(2023, 12, 24): D(2024, 2, 4)}
    expect(months, D(2023, 12, 24), D(2024, 2, 4), customers=3, mrr=60, new=1, churn=1 / 3)


def test_calendar_periods_must_tile_time(on_engine):
    from csframe.core.errors import DataContractError, UsageError

    gap = [r for r in RETAIL if r[1] != D(2023, 4, 30)]                     # drops [04-30, 05-28)
    overlap = RETAIL + [("retail_month", D(2023, 5, 1), D(2023, 5, 8))]     # inside [04-30, 05-28)
    s = on_engine(retail(gap))
    with pytest.raises(DataContractError, match=r"grain 'retail_month': a gap from 2023-04-30 to 2023-05-28") as e:
        s.compute(["customers"], grain="retail_month", start="2023-12-24", end="2024-02-04")
    assert e.value.exit_code == 1
    s = on_engine(retail(overlap))
    with pytest.raises(DataContractError, match=r"periods starting 2023-04-30 \(ending 2023-05-28\) and 2023-05-01 "
                                                r"overlap"):
        s.compute(["customers"], grain="retail_month", start="2023-12-24", end="2024-02-04")
    with pytest.raises(UsageError, match=r"unknown grain 'retail_mnth'.*retail_month"):
        s.compute(["customers"], grain="retail_mnth", start="2023-12-24", end="2024-02-04")
