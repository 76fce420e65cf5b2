"""``--vs year`` and ``--pivot cohort`` at a custom calendar's grain (a 4-4-5 retail month), on the
three engines: a year earlier is the period 12 retail months before (52 or 53 weeks), ages are
counted in retail months; a grain with no fixed number of periods per year is refused (exit 2).

Retail months (4-4-5 weeks a quarter; the retail year 2023 has 53 weeks, its last month 6), by index:
   0 2022-01-30   1 2022-02-27  …  11 2022-12-25 (5 weeks)
  12 2023-01-29  13 2023-02-26  14 2023-03-26  …  23 2023-12-24 (6 weeks, to 2024-02-04)
  24 2024-02-04  25 2024-03-03  26 2024-03-31 (to 2024-05-05)
Paying status per data-contract.md: a row is paying at b when started_at < b <= ended_at.
"""

from __future__ import annotations

import datetime as dt

import pytest
from click.testing import CliRunner

from csframe.cli.app import _load_commands, cli
from csframe.core.errors import UsageError
from csframe.core.session import Session
from tests.engine.test_calendars import _weeks, sub
from tests.support.bigquery_emulator import bq_emulator  # noqa: F401 - the fixture engine_project uses
from tests.support.engines import engine_project  # noqa: F401 - the fixture

T = dt.datetime
D = dt.date

RETAIL_MONTHS = (_weeks(D(2022, 1, 30), 4, 4, 5, 4, 4, 5, 4, 4, 5, 4, 4, 5)
                 + _weeks(D(2023, 1, 29), 4, 4, 5, 4, 4, 5, 4, 4, 5, 4, 4, 6) + _weeks(D(2024, 2, 4), 4, 4, 5))
TEN_DAYS = [(D(2022, 1, 30) + dt.timedelta(days=10 * i), D(2022, 1, 30) + dt.timedelta(days=10 * i + 10))
            for i in range(80)]
assert RETAIL_MONTHS[12][0] == D(2023, 1, 29) and RETAIL_MONTHS[24] == (D(2024, 2, 4), D(2024, 3, 3))
ROWS = [
    sub("a", T(2022, 2, 10), None, 100),            # cohort: month 0 (2022-01-30)
    sub("c", T(2022, 3, 1), T(2023, 3, 1), 30),     # cohort: month 1 (2022-02-27); gone from 2023-03-01
    sub("b", T(2023, 3, 1), None, 50),              # cohort: month 13 (2023-02-26)
    sub("d", T(2024, 2, 10), None, 20),             # cohort: month 24 (2024-02-04)
]


@pytest.fixture(scope="module")
def project(engine_project, tmp_path_factory):  # noqa: F811 - loaded once per engine
    from csframe.core.dataset import Column, Dataset, Table
    from csframe.testing import load_rows

    calendar = Table("calendar", (Column("grain", "VARCHAR"), Column("period_start", "DATE"),
                                  Column("period_end", "DATE")),
                     [("retail_month", s, e) for s, e in RETAIL_MONTHS] + [("ten_days", s, e) for s, e in TEN_DAYS])
    customers = [{"customer_id": c, "created_at": T(2022, 1, 1)} for c in "abcd"]
    dataset = Dataset((*load_rows({"subscriptions": ROWS, "customers": customers}).tables, calendar))
    return engine_project(tmp_path_factory.mktemp("retail") / "p", dataset)


@pytest.fixture(scope="module")
def session(project):
    s = Session.open(project)
    yield s
    s.close()


def test_vs_year_is_twelve_retail_months_earlier(session):
    r = session.compute(["mrr", "customers"], grain="retail_month", start="2024-02-04", end="2024-03-31", vs="year")
    got = {(row[0], row[2]): (row[-3], row[-2], row[-1]) for row in r.rows}
    assert r.columns[-3:] == ("value", "compared_value", "change")
    # month 24 [2024-02-04, 03-03): at 03-03 a 100, b 50, d 20 → 170, 3 customers;
    #   month 12 [2023-01-29, 02-26) (53 weeks earlier): at 02-26 a 100, c 30 (b starts 03-01) → 130, 2
    # month 25 [03-03, 03-31): at 03-31 still 170, 3; month 13 [2023-02-26, 03-26): at 03-26 a 100, b 50 (c ended
    #   03-01) → 150, 2
    want = {("mrr", D(2024, 2, 4)): (170, 130, 40 / 130), ("mrr", D(2024, 3, 3)): (170, 150, 20 / 150),
            ("customers", D(2024, 2, 4)): (3, 2, 0.5), ("customers", D(2024, 3, 3)): (3, 2, 0.5)}
    assert set(got) == set(want)
    for k, (value, compared, change) in want.items():
        assert got[k][:2] == (value, compared) and got[k][2] == pytest.approx(change), k


def test_vs_year_refuses_a_grain_without_a_fixed_number_of_periods_a_year(session):
    # ten-day periods: 365.2425 / 10 ≈ 37 periods, and 37 of them are 370 days: neither 52/53 weeks nor a year
    with pytest.raises(UsageError, match=r"--vs year: grain ten_days has no fixed number of periods per year.*"
                                         r"37 periods before it .* 370 days apart") as e:
        session.compute(["mrr"], grain="ten_days", start="2023-06-01", end="2023-07-01", vs="year")
    assert e.value.exit_code == 2
    # --vs previous is one period back, whatever the grain
    # period 39 starts 2022-01-30 + 390 days = 2023-02-24: [02-24, 03-06) at 03-06: a 100, b 50 (c ended 03-01)
    # → 150; the ten days before, at 02-24: a 100, c 30 → 130
    r = session.compute(["mrr"], grain="ten_days", start="2023-02-24", end="2023-03-06", vs="previous")
    assert [(row[2], row[-3], row[-2]) for row in r.rows] == [(D(2023, 2, 24), 150, 130)]


def test_the_cohort_triangle_counts_ages_in_retail_months(project, session):
    _load_commands()
    r = CliRunner().invoke(cli, ["compute", "--project", str(project), "-m", "cohort_customers", "--by", "cohort",
                                 "--grain", "retail_month", "--start", "2024-02-04", "--end", "2024-05-05",
                                 "--pivot", "cohort", "--format", "json", "-q"])
    assert r.exit_code == 0, r.output
    import json

    rows = {row["cohort"]: row for row in json.loads(r.stdout)}
    # months 24, 25, 26 are reported: d's cohort (month 24) is at ages 0, 1, 2; b's (month 13) at 11, 12, 13 —
    # where counting calendar months from 2023-02-26 would say 12, 13, 14; a's (month 0) at 24, 25, 26; each cell
    # one paying customer of that cohort
    for cohort, ages in ((D(2024, 2, 4), (0, 1, 2)), (D(2023, 2, 26), (11, 12, 13)), (D(2022, 1, 30), (24, 25, 26))):
        row = rows[cohort.isoformat()]
        assert [row[str(a)] for a in ages] == [1, 1, 1], (cohort, row)
        assert all(row[k] is None for k in row if k != "cohort" and int(k) not in ages)


def test_a_cohort_before_the_calendar_has_no_age():
    from csframe.core.cohort_triangle import age
    from csframe.core.periods import Grain

    g = Grain("retail_month", periods=tuple(RETAIL_MONTHS))
    assert age(D(2023, 2, 26), D(2024, 2, 4), g) == 24 - 13
    assert age(D(2023, 12, 24), D(2024, 2, 4), g) == 1  # the 6-week month is one period
    # a customer who first paid before the calendar's first period has its own date as cohort (custom_bucket)
    with pytest.raises(UsageError, match="cohort 2021-12-01 is outside the calendar's retail_month periods"):
        age(D(2021, 12, 1), D(2024, 2, 4), g)
