"""The queries of trailing windows (``--window``) analyzed by ZetaSQL, as test_zetasql_analyze.py does
without a window: every metric in one query, at the windows of the docs (30 days by day, 3 months by
month, 13 weeks by week) in UTC, and 30 days in a calendar's time zone. The engines' numbers on windows are
compared in tests/engine/test_engines_equal.py; this proves the text is BigQuery's (the window steps'
running sums over events, their ORDER BY a boolean, the CAST to INTEGER)."""

from __future__ import annotations

import pytest
from csframe.core.calendar import Calendar
from csframe.core.contract import SOURCES
from csframe.core.project import Project, SourceBinding
from csframe.core.session import Session

from tests.bigquery.test_zetasql_analyze import KEYS, assert_analyzes, source_tables
from tests.support.zetasql import zetasql  # noqa: F401  (the session fixture)

ZONES = {"utc": Calendar(), "new_york": Calendar("America/New_York", 6, 4)}
CASES = [("utc", "day", "30d"), ("utc", "month", "3m"), ("utc", "week", "13w"), ("new_york", "day", "30d")]


@pytest.fixture(scope="module")
def catalog(zetasql):  # noqa: F811
    return zetasql.register_catalog(source_tables())


@pytest.mark.parametrize("zone,grain,window", CASES)
def test_all_metrics_on_windows_analyze(zetasql, catalog, tmp_path, zone, grain, window):  # noqa: F811
    bindings = {s.name: SourceBinding(s.name, table=s.name) for s in SOURCES}
    project = Project(dir=tmp_path, adapter={"name": "bigquery", "project": "p", "dataset": "d"}, sources=bindings,
                      calendar=ZONES[zone])
    with Session.open(project=project, entry_points=False) as session:
        plan = session.plan(session.request(KEYS, grain=grain, start="2024-01-01", end="2024-07-01", window=window))
        _, sql = session.compile(plan, "bigquery")
    assert "ORDER BY a, enters" in sql  # the window steps' events are in it
    assert_analyzes(zetasql, catalog, sql, f"all metrics by {grain} on {window} windows in {zone}")
