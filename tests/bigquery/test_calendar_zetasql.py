"""The queries of a project with a ``[calendar]`` (a time zone, Sunday weeks, fiscal years from
April and quarters from February) analyzed by ZetaSQL, as test_zetasql_analyze.py does for the
default calendar: every metric at every grain in one query, and the BigQuery text of BUCKET."""

from __future__ import annotations

import pytest
from csframe.core.calendar import Calendar
from csframe.core.contract import SOURCES
from csframe.core.project import Project, SourceBinding
from csframe.core.session import Session

from tests.bigquery.test_zetasql_analyze import GRAINS, KEYS, assert_analyzes, source_tables
from tests.support.zetasql import zetasql  # noqa: F401  (the session fixture)

CALENDARS = {
    "new_york_sunday_april": Calendar("America/New_York", 6, 4),
    "kolkata_february": Calendar("Asia/Kolkata", 0, 2),
}


@pytest.fixture(scope="module")
def catalog(zetasql):  # noqa: F811
    return zetasql.register_catalog(source_tables())


@pytest.mark.parametrize("name", list(CALENDARS))
def test_all_metrics_in_a_calendar_analyze(zetasql, catalog, tmp_path, name):  # noqa: F811
    bindings = {s.name: SourceBinding(s.name, table=s.name) for s in SOURCES}
    project = Project(dir=tmp_path, adapter={"name": "bigquery", "project": "p", "dataset": "d"}, sources=bindings,
                      calendar=CALENDARS[name])
    with Session.open(project=project, entry_points=False) as session:
        for grain in GRAINS:
            plan = session.plan(session.request(KEYS, grain=grain, start="2024-01-01", end="2024-07-01"))
            _, sql = session.compile(plan, "bigquery")
            assert "TIMESTAMP_MICROS(DATETIME_DIFF(" in sql
            assert_analyzes(zetasql, catalog, sql, f"all metrics by {grain} in {name}")


def test_a_custom_calendar_grain_analyzes(zetasql, catalog, tmp_path):  # noqa: F811
    """A custom grain's spine (a UNION ALL of its periods) and BUCKET (a CASE over them), in a zone."""
    import datetime as dt

    from csframe.core.periods import Grain
    from csframe.core.plan import Request

    starts = [dt.date(2023, 12, 31) + dt.timedelta(weeks=w) for w in (0, 4, 8, 13, 17, 21, 26)]
    grain = Grain("retail_month", periods=tuple(zip(starts, starts[1:])))
    bindings = {s.name: SourceBinding(s.name, table=s.name) for s in SOURCES}
    project = Project(dir=tmp_path, adapter={"name": "bigquery", "project": "p", "dataset": "d"}, sources=bindings,
                      calendar=CALENDARS["new_york_sunday_april"])
    with Session.open(project=project, entry_points=False) as session:
        # previous() reads periods before the calendar's first (a usage error: tests/engine/test_calendars.py)
        keys = [k for k in KEYS if not any(session.registry.variants[v].formula(None).lags
                                           for v in session.graph.resolve(k).variants)]
        plan = session.plan(Request(tuple(keys), grain, dt.date(2024, 2, 1), dt.date(2024, 5, 1),
                                    time_zone="America/New_York"))
        assert plan.spine_start == dt.date(2023, 12, 31) and plan.report_start == dt.date(2024, 1, 28)
        _, sql = session.compile(plan, "bigquery")
        assert "UNION ALL" in sql and "CASE" in sql
        assert_analyzes(zetasql, catalog, sql, "all metrics by a custom grain")
