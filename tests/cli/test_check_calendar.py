"""``csframe check`` reads the custom calendar source (docs/calendars.md) with the rules a run at
one of its grains applies (custom_calendar.grain_problems), for every grain: periods tile time
(no gap, no overlap, each ending after it starts), every period has both dates, and a grain's
name is one ``--grain`` can take. It reports them as bad data: exit 1, or warnings with --lenient."""

from __future__ import annotations

import datetime as dt

import pytest
from click.testing import CliRunner

from csframe.cli.app import _load_commands, cli
from tests.support.projects import make_project

D = dt.date
COLUMNS = ("grain", "period_start", "period_end")
# a 4-4-5 quarter from Sunday 2024-02-04: 4 weeks to 03-03, 4 to 03-31, 5 to 05-05
GOOD = [("retail_month", D(2024, 2, 4), D(2024, 3, 3)), ("retail_month", D(2024, 3, 3), D(2024, 3, 31)),
        ("retail_month", D(2024, 3, 31), D(2024, 5, 5)), ("retail_quarter", D(2024, 2, 4), D(2024, 5, 5))]


def check(tmp_path, rows, *args: str):
    path = make_project(tmp_path / "p", {"calendar": (COLUMNS, rows)})
    _load_commands()
    return CliRunner().invoke(cli, ["check", "--project", str(path), *args])


def test_a_calendar_that_tiles_time_is_ok(tmp_path):
    r = check(tmp_path, GOOD)
    assert r.exit_code == 0, r.output
    assert "source calendar: ok" in r.output and "data contract: ok" in r.output


def test_every_broken_rule_of_every_grain_is_named(tmp_path):
    rows = [
        ("retail_month", D(2024, 2, 4), D(2024, 3, 3)),
        ("retail_month", D(2024, 3, 10), D(2024, 4, 7)),      # a gap: 03-03 to 03-10
        ("retail_month", D(2024, 4, 1), D(2024, 5, 5)),       # overlaps [03-10, 04-07)
        ("retail_quarter", D(2024, 2, 4), D(2024, 2, 4)),     # ends where it starts
        ("retail_week", D(2024, 2, 4), None),                 # no period_end
        ("month", D(2024, 2, 4), D(2024, 3, 3)),              # a built-in grain's name: --grain month never reads it
        ("retail month", D(2024, 2, 4), D(2024, 3, 3)),       # not a name --grain takes
    ]
    r = check(tmp_path, rows)
    assert r.exit_code == 1, r.output
    assert "source calendar: 6 problem(s)" in r.output
    for said in ("grain 'retail_month': a gap from 2024-03-03 to 2024-03-10",
                 "grain 'retail_month': the periods starting 2024-03-10 (ending 2024-04-07) and 2024-04-01 overlap",
                 "grain 'retail_quarter': the period starting 2024-02-04 ends 2024-02-04, not after it",
                 "grain 'retail_week': a period with no period_end",
                 "grain 'month' (1 row(s)) has a built-in grain's name",
                 "grain 'retail month' (1 row(s)): a grain's name is a letter"):
        assert said in r.output, said
    assert "Traceback" not in r.output
    lenient = check(tmp_path / "l", rows, "--lenient")
    # reported, but a run at a broken grain still stops (a period left out would leave a hole in the spine)
    assert lenient.exit_code == 0 and lenient.output.count("a run at this grain stops even with --lenient") == 6


def test_a_calendar_source_without_its_columns_is_a_project_file_mistake(tmp_path):
    r = check(tmp_path, [])
    assert r.exit_code == 0 and "source calendar: ok (no rows)" in r.output
    path = make_project(tmp_path / "q", {"calendar": (("grain", "period_start"), [("retail_month", D(2024, 2, 4))])})
    r = CliRunner().invoke(cli, ["check", "--project", str(path)])
    assert r.exit_code == 2, r.output
    assert "sources.calendar.table" in r.output and "period_end" in r.output
