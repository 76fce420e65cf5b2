"""Custom calendars (a 4-4-5 retail calendar, any other): the optional source ``calendar``
(``grain``, ``period_start``, ``period_end``, DATEs: local dates of the ``[calendar]`` time zone)
gives ``--grain NAME`` for every grain name it holds.

The periods of a grain are read once, when a run is planned (a small query of their own, like
the data-contract checks), and checked: they must tile time, each one starting where the one
before it ends, each ending after it starts (bad data otherwise, exit 1, naming the rows). The
grain then carries its periods: the run's range, its spine (one row per period) and BUCKET (a
CASE over the period starts) come from them, and the query stays one query.
"""

from __future__ import annotations

__all__ = ["CALENDAR_SOURCE", "custom_grain", "periods_per_year", "read_calendar", "grain_problems", "tiling_problems", "custom_bucket",
           "custom_spine"]

import datetime as dt
import re
from collections.abc import Sequence
from typing import Any

from sqlglot import exp

from .contract import Column, Source
from .errors import DataContractError, UsageError, did_you_mean
from .periods import GRAINS, Grain

CALENDAR_SOURCE = Source("calendar", "the periods of custom calendars, one row per period of each grain", (
    Column("grain", "VARCHAR", note="the name --grain takes, e.g. retail_month"),
    Column("period_start", "DATE", note="the period's first local date"),
    Column("period_end", "DATE", note="the first local date after the period: the next period's start"),
), key=("grain", "period_start"), customer_column=None)

_DAYS_PER_MONTH = 30.4375
_GRAIN_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")  # what --grain takes and the target's grain key holds


def _date(value: Any) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value


def tiling_problems(name: str, periods: Sequence[tuple[dt.date, dt.date]]) -> list[str]:
    """What keeps ``periods`` (sorted by start) from tiling time: an empty or reversed period, a
    gap or an overlap between neighbours, each naming its rows."""
    problems = []
    for start, end in periods:
        if end <= start:
            problems.append(f"calendar: grain {name!r}: the period starting {start} ends {end}, not after it")
    for (s1, e1), (s2, e2) in zip(periods, periods[1:]):
        if s2 > e1:
            problems.append(f"calendar: grain {name!r}: a gap from {e1} to {s2} between the periods starting {s1} "
                            f"and {s2}")
        elif s2 < e1:
            problems.append(f"calendar: grain {name!r}: the periods starting {s1} (ending {e1}) and {s2} overlap")
    return problems


def grain_problems(name: Any, periods: Sequence[tuple[Any, Any]]) -> list[str]:
    """What is wrong with the rows of one grain of the calendar source: a name ``--grain`` cannot
    take (empty, a built-in grain's, other than letters, digits and ``_``), a period without a
    start or an end, and what keeps its periods (sorted by start) from tiling time."""
    problems = []
    if name is None or not _GRAIN_NAME.match(str(name)):
        shown = "NULL" if name is None else repr(name)
        problems.append(f"calendar: grain {shown} ({len(periods)} row(s)): a grain's name is a letter, then letters, "
                        "digits or _ (it is what --grain takes)")
    elif name in GRAINS:
        problems.append(f"calendar: grain {name!r} ({len(periods)} row(s)) has a built-in grain's name, so --grain "
                        f"{name} never reads it: name it otherwise (e.g. retail_{name})")
    undated = [p for p in periods if p[0] is None or p[1] is None]
    for start, end in undated:
        problems.append(f"calendar: grain {name!r}: a period with no "
                        f"{'period_start' if start is None else 'period_end'} (period_start {start}, period_end {end})")
    dated = [p for p in periods if p[0] is not None and p[1] is not None]
    return problems + tiling_problems(name, dated)


def read_calendar(session: Any) -> dict[Any, list[tuple[Any, Any]]]:
    """Every row of the project's calendar source, grouped by grain: (period_start, period_end)
    as dates, sorted by start (a NULL start first). One small query."""
    from .compiler import SourceScan, source_scan
    from .render import dialect_profile, render

    binding = session.project.sources["calendar"]
    profile = dialect_profile(session.registry, session.project.adapter["name"])
    scan = source_scan(CALENDAR_SOURCE, SourceScan(binding, profile.DIALECT))
    query = exp.select("grain", "period_start", "period_end").from_(scan.subquery("c"))
    adapter = session.adapter()
    adapter.connect()
    grains: dict[Any, list[tuple[Any, Any]]] = {}
    for grain, start, end in adapter.execute(render(query, profile)):
        grains.setdefault(grain, []).append((None if start is None else _date(start), None if end is None else _date(end)))
    for periods in grains.values():
        periods.sort(key=lambda p: (p[0] is not None, p[0] or dt.date.min, p[1] or dt.date.min))
    return grains


def custom_grain(session: Any, name: str) -> Grain:
    """The grain ``name`` of the project's ``calendar`` source, its periods read and checked
    (:func:`grain_problems`, the rules ``csframe check`` applies to every grain)."""
    if session.project.sources.get("calendar") is None:
        raise UsageError(f"unknown grain {name!r}.{did_you_mean(name, GRAINS)}",
                         hint=f"Use one of: {', '.join(GRAINS)}, or map a calendar source of your own periods "
                              "under [sources.calendar] in csframe.toml (docs/calendars.md).")
    grains = read_calendar(session)
    if name not in grains:
        known = sorted(str(g) for g in grains if g is not None)
        raise UsageError(f"unknown grain {name!r}: neither built in nor in the calendar source."
                         f"{did_you_mean(name, [*GRAINS, *known])}",
                         hint=f"Use one of: {', '.join([*GRAINS, *known])}.")
    periods = tuple(grains[name])
    problems = grain_problems(name, periods)
    if problems:
        raise DataContractError("the data breaks the contract:\n  " + "\n  ".join(problems), problems=tuple(problems),
                                hint="Fix the calendar rows named above: each period of a grain must start where "
                                     "the one before it ends.")
    return Grain(name, periods=periods)


def periods_per_year(g: Grain) -> int:
    """The n of ``--vs year`` at a custom grain: the period "a year earlier" is the one n periods
    earlier, n = 365.2425 days / the periods' mean length, rounded. The grain has n periods per
    year only if, for every period with one n periods before it, that one starts a year earlier:
    52 or 53 weeks (a retail year; a 53-week year is 4-4-6), or on the same date of the year
    before (a calendar year). Otherwise a usage error naming two periods that are not a year apart."""
    mean = sum((e - s).days for s, e in g.periods) / len(g.periods)
    n = max(1, round(365.2425 / mean))
    for (earlier, _), (start, _) in zip(g.periods, g.periods[n:]):
        days = (start - earlier).days
        same_date = (earlier.month, earlier.day) == (start.month, start.day) and start.year == earlier.year + 1
        if days not in (364, 371) and not same_date:
            raise UsageError(
                f"--vs year: grain {g.name} has no fixed number of periods per year: the period starting {start} "
                f"and the one {n} periods before it (starting {earlier}) are {days} days apart, neither 52 or 53 "
                "weeks nor a calendar year",
                hint="Use --vs previous, or compute at a built-in grain; a calendar grain compares with a year "
                     "earlier when each period starts 52 or 53 weeks, or a calendar year, after the one n periods "
                     "before it.")
    return n


def period_index(day: dt.date, g: Grain) -> int:
    """The index of the period of ``g`` holding ``day`` (a UsageError outside the calendar); the
    end of the last period, where a run's range may stop, is the index after the last."""
    import bisect

    if day == g.periods[-1][1]:
        return len(g.periods)
    i = bisect.bisect_right([s for s, _ in g.periods], day) - 1
    if i < 0 or day > g.periods[-1][1]:
        raise UsageError(f"{day} is outside the calendar's {g.name} periods ({g.periods[0][0]} to "
                         f"{g.periods[-1][1]})", hint="Choose --start and --end within them, or add periods to the "
                                                      "calendar source.")
    return i


def shift_index(start: dt.date, g: Grain, n: int) -> dt.date:
    i = period_index(start, g) + n
    if i == len(g.periods) and n >= 0:
        return g.periods[-1][1]  # the end of the last period: where a run's range may stop
    if not 0 <= i < len(g.periods):
        raise UsageError(f"the calendar has no {g.name} period {abs(n)} {'before' if n < 0 else 'after'} the one "
                         f"starting {start} (a run also reads the period before its first)",
                         hint="Choose a later --start or an earlier --end, or add periods to the calendar source.")
    return g.periods[i][0]


def _d(day: dt.date) -> exp.Expression:
    return exp.cast(exp.Literal.string(day.isoformat()), "DATE")


def custom_bucket(day: exp.Expression, g: Grain) -> exp.Expression:
    """The start of the period holding the date ``day``; a date outside the calendar stays itself
    (before the first period it sorts before every period; after the last, after every one)."""
    ifs = [exp.If(this=exp.GTE(this=day.copy(), expression=_d(g.periods[-1][1])), true=day.copy())]
    ifs += [exp.If(this=exp.GTE(this=day.copy(), expression=_d(s)), true=_d(s)) for s, _ in reversed(g.periods)]
    return exp.Case(ifs=ifs, default=day.copy())


def custom_spine(g: Grain, first: dt.date, last: dt.date) -> exp.Query:
    """One row per period of ``g`` from the one starting ``first`` to the one starting ``last``:
    period_start, period_end and grain_months (its days / 30.4375)."""
    rows = [exp.select(exp.alias_(_d(s), "period_start"), exp.alias_(_d(e), "period_end"),
                       exp.alias_(exp.cast(exp.convert((e - s).days / _DAYS_PER_MONTH), "DOUBLE"), "grain_months"))
            for s, e in g.periods if first <= s <= last]
    query: exp.Query = rows[0]
    for r in rows[1:]:
        query = exp.union(query, r, distinct=False)
    return query
