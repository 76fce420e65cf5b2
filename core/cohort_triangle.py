"""``compute --by cohort --pivot cohort``: the long result of one metric as the familiar
cohort triangle — one row per cohort (and other ``--by`` dimensions), one column per age
0, 1, 2 … (age 0 is the cohort period itself), each cell the metric's value in the period
``age`` periods after the cohort's."""

from __future__ import annotations

__all__ = ["PIVOTS", "check_pivot", "cohort_triangle", "age"]

import datetime as dt
from collections.abc import Sequence
from typing import Any

from .cohorts import COHORT, has_cohort
from .errors import UsageError
from .periods import Grain, grain as to_grain
from .result import Result

PIVOTS = (COHORT,)


def check_pivot(pivot: str, keys: Sequence[tuple[str, str]], by: Sequence[str], with_units: bool) -> None:
    """A usage error, before anything is computed, for a pivot that cannot be made."""
    if pivot not in PIVOTS:
        raise UsageError(f"--pivot {pivot}: unknown pivot", hint=f"Pivots: {', '.join(PIVOTS)}.")
    if not has_cohort(by):
        raise UsageError("--pivot cohort needs --by cohort", hint="Add --by cohort.")
    if len(keys) != 1:
        raise UsageError(f"--pivot cohort shows one metric at a time; {len(keys)} were asked for",
                         hint="Name one metric with --metric NAME[:VARIANT] (run once per metric).")
    if with_units:
        raise UsageError("--with-units is for the long result, not --pivot cohort",
                         hint="Leave out --with-units: the triangle's values all have the metric's unit.")


def age(cohort: dt.date, period_start: dt.date, g: Grain) -> int:
    """How many periods of ``g`` the period starting ``period_start`` is after the cohort's (a
    custom calendar's grain: how many of its periods, whatever their lengths)."""
    if g.periods:
        from .custom_calendar import period_index

        try:
            first = period_index(cohort, g)
        except UsageError:
            raise UsageError(f"--pivot cohort: the cohort {cohort} is outside the calendar's {g.name} periods "
                             f"({g.periods[0][0]} to {g.periods[-1][1]}): its customers first paid before them, so its "
                             "age in periods is unknown",
                             hint="Add the earlier periods to the calendar source, or leave out --pivot for the "
                                  "long result.") from None
        return period_index(period_start, g) - first
    if g.days:
        return (period_start - cohort).days // g.days
    months = (period_start.year - cohort.year) * 12 + period_start.month - cohort.month
    return months // g.months


def cohort_triangle(result: Result, g: Grain | None = None) -> Result:
    """``result`` (one metric variant, ``--by cohort``) as a triangle: columns ``cohort``, the
    other dimensions, then ``0``, ``1`` … up to the largest age in the result. A cell for a
    period outside the run's range is empty. ``g``: the run's grain (its anchor, or a custom
    calendar's periods; default: the built-in grain named by the result)."""
    g = g or to_grain(result.grain)
    dims = [c for c in result.columns[4:-1] if c != COHORT]
    i_cohort = result.columns.index(COHORT)
    i_dims = [result.columns.index(d) for d in dims]
    cells: dict[tuple, dict[int, Any]] = {}
    for row in result.rows:
        group = (row[i_cohort], *(row[i] for i in i_dims))
        cells.setdefault(group, {})[age(row[i_cohort], row[2], g)] = row[-1]
    width = 1 + max((a for ages in cells.values() for a in ages), default=-1)
    ages = [str(a) for a in range(width)]
    order = sorted(cells, key=lambda group: tuple((v is None, "" if v is None else v) for v in group))
    rows = tuple((*group, *[cells[group].get(a) for a in range(width)]) for group in order)
    unit = next(iter(result.units.values()), None)
    return Result(columns=(COHORT, *dims, *ages), rows=rows, units=dict(result.units), warnings=result.warnings,
                  sql=result.sql, grain=result.grain, fingerprints=result.fingerprints, timings=result.timings,
                  written=result.written, value_columns={a: unit for a in ages})
