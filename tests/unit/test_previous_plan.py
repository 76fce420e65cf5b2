"""previous() and --vs in the planner and the formula parser (no engine)."""

from __future__ import annotations

import datetime as dt

import pytest

from csframe.core.errors import UsageError
from csframe.core.formula import parse_formula
from csframe.core.graph import Graph
from csframe.core.periods import grain
from csframe.core.plan import Request, build_plan
from csframe.core.plugin_manager import load_plugins
from csframe.core.previous import vs_periods
from csframe.core.registry import build_registry

REG = build_registry(load_plugins(entry_points=False))
GRAPH = Graph(REG)
D = dt.date


def _plan(metric: str, start: dt.date, g: str = "month", vs: str | None = None):
    key = (metric, GRAPH.default_variant(metric))
    request = Request((key,), grain(g), start, dt.date(start.year + 1, 1, 1), vs=vs)
    return build_plan(REG, GRAPH, request, {})


def test_the_spine_reaches_one_period_more_than_the_farthest_lag():
    assert _plan("mrr", D(2024, 3, 1)).spine_start == D(2024, 2, 1)  # p−1, as before
    assert _plan("mrr_growth_rate", D(2024, 3, 1)).spine_start == D(2024, 1, 1)  # previous(…, 1): 1 + 1 back
    assert _plan("mrr", D(2024, 3, 1), vs="year").spine_start == D(2023, 2, 1)  # 12 months + 1
    # 52 weeks (364 days) before Monday 2024-03-04 is 2023-03-06; one week more: 2023-02-27
    assert _plan("mrr", D(2024, 3, 4), g="week", vs="year").spine_start == D(2023, 2, 27)
    assert _plan("mrr", D(2024, 3, 1), vs="year").vs == 12 and _plan("mrr", D(2024, 3, 1)).vs is None


def test_vs_year_in_periods_of_each_grain():
    assert {g: vs_periods("year", grain(g)) for g in ("day", "week", "month", "quarter", "year")} == \
        {"day": 364, "week": 52, "month": 12, "quarter": 4, "year": 1}
    assert vs_periods("previous", grain("day")) == 1


def test_a_comparison_before_the_first_date_is_a_usage_error():
    with pytest.raises(UsageError, match="13 month"):
        _plan("mrr", D(1, 6, 1), vs="year")


@pytest.mark.parametrize("formula,message", [
    ("previous(mrr_end, 0)", "whole number of periods"),
    ("previous(mrr_end, 1.5)", "whole number of periods"),
    ("previous(mrr_end, 'a')", "whole number of periods"),
    ("previous()", "takes an expression"),
    ("previous(mrr_end, 1, 2)", "takes an expression"),
])
def test_previous_arguments(formula, message):
    with pytest.raises(ValueError, match=message):
        parse_formula(formula)


def test_previous_lags_are_parsed():
    assert parse_formula("previous(mrr_end) - previous(mrr_end, 3)").lags == (1, 3)
