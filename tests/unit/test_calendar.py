"""``[calendar]`` of csframe.toml read and checked, and the calendar's period arithmetic on the
Python side (the range a run reads): every expected date worked out by hand."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from csframe.core.calendar import Calendar, midnight
from csframe.core.errors import ProjectError
from csframe.core.periods import check_span, floor, grain, shift
from csframe.core.project import Project

D = dt.date


def load(text: str) -> Project:
    import tomllib

    return Project.from_toml(tomllib.loads(text), Path("."))


def test_the_default_calendar():
    assert load("").calendar == Calendar("UTC", 0, 1)


def test_a_calendar_read():
    cal = load('[calendar]\ntime_zone = "America/New_York"\nweek_start = "sunday"\nfiscal_year_start = 4\n').calendar
    assert cal == Calendar("America/New_York", 6, 4)
    assert (cal.anchor("week"), cal.anchor("quarter"), cal.anchor("year"), cal.anchor("month")) == (6, 0, 3, 0)


@pytest.mark.parametrize(("toml", "says"), [
    ('time_zone = "America/New_Yrok"', r"calendar\.time_zone: unknown time zone 'America/New_Yrok'.*America/New_York"),
    ("time_zone = 5", r"calendar\.time_zone: must be a string"),
    ('week_start = "saturday"', r'calendar\.week_start: must be "monday" or "sunday", not \'saturday\''),
    ("week_start = 1", r"calendar\.week_start: must be"),
    ("fiscal_year_start = 13", r"calendar\.fiscal_year_start: must be an integer from 1 to 12, not 13"),
    ("fiscal_year_start = 0", r"calendar\.fiscal_year_start: must be an integer from 1 to 12, not 0"),
    ('fiscal_year_start = "4"', r"calendar\.fiscal_year_start: must be an integer"),
    ('timezone = "UTC"', r"calendar\.timezone: unknown key.*time_zone"),
])
def test_a_bad_calendar_key_is_a_project_error_naming_it(toml, says):
    with pytest.raises(ProjectError, match=says) as e:
        load(f"[calendar]\n{toml}\n")
    assert e.value.exit_code == 2


def test_local_midnights_around_daylight_saving():
    ny = "America/New_York"
    # 2024-03-10 lasts 23 hours in New York (02:00 EST → 03:00 EDT), 2024-11-03 25 hours
    assert midnight(D(2024, 3, 10), ny) == dt.datetime(2024, 3, 10, 5)
    assert midnight(D(2024, 3, 11), ny) == dt.datetime(2024, 3, 11, 4)
    assert midnight(D(2024, 3, 11), ny) - midnight(D(2024, 3, 10), ny) == dt.timedelta(hours=23)
    assert midnight(D(2024, 11, 4), ny) - midnight(D(2024, 11, 3), ny) == dt.timedelta(hours=25)
    assert midnight(D(2024, 3, 10), "UTC") == dt.datetime(2024, 3, 10)


def test_fiscal_and_sunday_periods():
    fy_april, fq_feb, sunday = grain("year", 3), grain("quarter", 1), grain("week", 6)
    assert floor(D(2024, 5, 15), fy_april) == D(2024, 4, 1)
    assert floor(D(2024, 3, 31), fy_april) == D(2023, 4, 1)
    assert shift(D(2024, 4, 1), fy_april, 1) == D(2025, 4, 1)
    assert floor(D(2024, 5, 15), grain("quarter", 0)) == D(2024, 4, 1)  # April's quarters are the calendar's
    assert [floor(D(2024, m, 1), fq_feb) for m in (1, 2, 4, 5, 12)] == [
        D(2023, 11, 1), D(2024, 2, 1), D(2024, 2, 1), D(2024, 5, 1), D(2024, 11, 1)]
    # 2024-03-10 is a Sunday: the Sunday week of Saturday 03-09 starts 03-03, of Sunday 03-10 on 03-10
    assert [floor(D(2024, 3, d), sunday) for d in (9, 10, 16, 17)] == [D(2024, 3, 3), D(2024, 3, 10), D(2024, 3, 10),
                                                                       D(2024, 3, 17)]


def test_the_first_dates_a_fiscal_year_can_start():
    # a run reads the period before its first: the fiscal year starting 0001-04-01 has none before it
    with pytest.raises(Exception, match=r"Use --start 0002-04-01 or later") as e:
        check_span(D(1, 6, 1), D(3, 1, 1), grain("year", 3))
    assert "0002-04-01" in (e.value.hint or "")
