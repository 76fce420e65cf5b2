"""Grains and period arithmetic on the Python side (the SQL side builds its own spine).

A period is the half-open interval [start, end). Weeks are ISO weeks starting Monday.
"""

from __future__ import annotations

__all__ = ["GRAINS", "Grain", "grain", "floor", "shift", "periods_between", "default_range", "FIRST_DATE",
           "LAST_DATE", "check_span"]

import datetime as dt

import attrs

GRAINS = ("day", "week", "month", "quarter", "year")
_DAYS_PER_MONTH = 30.4375
# The dates every engine represents: BigQuery's DATE and TIMESTAMP range (DuckDB's and
# PostgreSQL's are wider), which is also Python's.
FIRST_DATE = dt.date(1, 1, 1)
LAST_DATE = dt.date(9999, 12, 31)


@attrs.frozen
class Grain:
    """A period length: ``months`` calendar months, or ``days`` days; ``anchor`` (the project's
    calendar, :mod:`.calendar`): a week's first day in days after Monday, a quarter's or a year's
    first month in months after January. A custom calendar's grain (:mod:`.custom_calendar`)
    has its ``periods`` instead: (start, end) dates, tiling time."""

    name: str
    months: int = 0
    days: int = 0
    anchor: int = 0
    periods: tuple[tuple[dt.date, dt.date], ...] = ()

    @property
    def length_in_months(self) -> float:
        """g of metrics.md: month 1, quarter 3, year 12, week 7/30.4375, day 1/30.4375 (a custom
        grain: its periods' mean length; the grid carries each period's own)."""
        if self.periods:
            return sum((e - s).days for s, e in self.periods) / len(self.periods) / _DAYS_PER_MONTH
        return float(self.months) if self.months else self.days / _DAYS_PER_MONTH


_GRAINS = {
    "day": Grain("day", days=1),
    "week": Grain("week", days=7),
    "month": Grain("month", months=1),
    "quarter": Grain("quarter", months=3),
    "year": Grain("year", months=12),
}


def grain(name: str, anchor: int = 0) -> Grain:
    from .errors import UsageError, did_you_mean

    try:
        return attrs.evolve(_GRAINS[name], anchor=anchor) if anchor else _GRAINS[name]
    except KeyError:
        raise UsageError(
            f"unknown grain {name!r}.{did_you_mean(name, GRAINS)}", hint=f"Use one of: {', '.join(GRAINS)}."
        ) from None


def floor(day: dt.date, g: Grain) -> dt.date:
    """The start of the period of grain ``g`` that holds ``day``."""
    if g.periods:
        from .custom_calendar import period_index

        i = period_index(day, g)
        return g.periods[i][0] if i < len(g.periods) else g.periods[-1][1]
    if g.name == "day":
        return day
    if g.name == "week":
        return day - dt.timedelta(days=(day.weekday() - g.anchor) % 7)
    index = day.year * 12 + day.month - 1 - g.anchor  # months since year 0, less the anchor
    start = index // g.months * g.months + g.anchor
    return dt.date(start // 12, start % 12 + 1, 1)


def shift(start: dt.date, g: Grain, n: int) -> dt.date:
    """The start of the period ``n`` periods after the one starting at ``start``."""
    if g.periods:
        from .custom_calendar import shift_index

        return shift_index(start, g, n)
    if g.days:
        return start + dt.timedelta(days=g.days * n)
    total = start.year * 12 + (start.month - 1) + g.months * n
    return dt.date(total // 12, total % 12 + 1, 1)


def periods_between(start: dt.date, end: dt.date, g: Grain) -> list[tuple[dt.date, dt.date]]:
    """Every period whose start is >= floor(start) and < end."""
    out = []
    p = floor(start, g)
    while p < end:
        nxt = shift(p, g, 1)
        out.append((p, nxt))
        p = nxt
    return out


def default_range(g: Grain, today: dt.date | None = None) -> tuple[dt.date, dt.date]:
    """cli.md's defaults: end = first day of the current period, start = 12 periods before."""
    today = today or dt.datetime.now(dt.timezone.utc).date()
    end = floor(today, g)
    return shift(end, g, -12), end


def _shifted(start: dt.date, g: Grain, n: int) -> dt.date | None:
    """:func:`shift`, or None when the date falls outside Python's (and the engines') range."""
    try:
        return shift(start, g, n)
    except (ValueError, OverflowError):
        return None


def check_span(start: dt.date, end: dt.date, g: Grain) -> None:
    """A run's range reads from the period before ``start``'s to the end of ``end``'s last
    period (the spine of the query): all of it must lie within FIRST_DATE..LAST_DATE, or a
    UsageError names the flag and the nearest date that works."""
    from .errors import UsageError

    def before_of(day: dt.date) -> dt.date | None:
        try:
            return _shifted(floor(day, g), g, -1)
        except ValueError:  # a fiscal period starting before year 1
            return None

    before = before_of(start)
    if before is None or before < FIRST_DATE:
        earliest = FIRST_DATE
        while (b := before_of(earliest)) is None or b < FIRST_DATE:
            earliest = shift(earliest, g, 1)
        earliest = floor(earliest, g)
        raise UsageError(
            f"--start {start}: with --grain {g.name}, a run also reads the {g.name} before its first period, "
            f"and dates start at {FIRST_DATE} on every engine",
            hint=f"Use --start {earliest} or later.")
    last = floor(end, g)
    if last == end:
        last = _shifted(last, g, -1) or last
    after = _shifted(last, g, 1)
    if after is None or after > LAST_DATE:
        latest = floor(LAST_DATE, g)
        raise UsageError(
            f"--end {end}: with --grain {g.name}, its last period would end after {LAST_DATE}, the last date "
            "every engine represents",
            hint=f"Use --end {latest} or earlier.")
