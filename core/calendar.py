"""The project's calendar (``[calendar]`` of csframe.toml): the time zone whose local midnights
are the period boundaries, the first day of a week and the first month of a fiscal year.

Data timestamps stay UTC. A period is still a half-open range of local calendar dates
[period_start, period_end); its boundaries are the UTC instants of those dates' local midnights,
so a day is 23 or 25 hours long on the days the zone's clocks change. A timestamp belongs to the
period holding its local date. In the default calendar (UTC, weeks from Monday, years from
January) every tree below is what the compiler built before calendars existed.
"""

from __future__ import annotations

__all__ = ["Calendar", "UTC_CALENDAR", "WEEKDAYS", "calendar_from_table", "local_date", "expand_local_dates", "bucket_in",
           "midnight", "instant", "bind_instants"]

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import attrs
from sqlglot import exp

from .errors import ProjectError, did_you_mean
from .periods import Grain
from .settings import describe, want_int, want_str

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
# the week starts csframe.toml accepts (the two; any weekday is the same arithmetic)
_WEEK_STARTS = ("monday", "sunday")
_KEYS = ("time_zone", "week_start", "fiscal_year_start")
_UNITS = {"day": "DAY", "week": "WEEK", "month": "MONTH", "quarter": "QUARTER", "year": "YEAR"}


@attrs.frozen
class Calendar:
    """``time_zone`` (IANA name), ``week_start`` (0 Monday … 6 Sunday), ``fiscal_year_start`` (1–12)."""

    time_zone: str = "UTC"
    week_start: int = 0
    fiscal_year_start: int = 1

    @property
    def is_utc(self) -> bool:
        return self.time_zone == "UTC"

    def anchor(self, grain_name: str) -> int:
        """The offset of a grain's periods from the default calendar's: days after Monday for a
        week, months after January (modulo the grain's length) for a quarter or a year."""
        if grain_name == "week":
            return self.week_start
        months = {"quarter": 3, "year": 12}.get(grain_name)
        return (self.fiscal_year_start - 1) % months if months else 0

    def today(self) -> dt.date:
        """Today's date in the calendar's time zone (the default ``--end``'s reference)."""
        return dt.datetime.now(ZoneInfo(self.time_zone)).date()


UTC_CALENDAR = Calendar()


def _zone(value: Any) -> str:
    name = want_str(value, "calendar.time_zone", 'time_zone = "Europe/Paris"')
    zones = available_timezones()
    if name in zones or name == "UTC":
        try:
            ZoneInfo(name)
            return name
        except (ZoneInfoNotFoundError, ValueError):
            pass
    raise ProjectError(f"calendar.time_zone: unknown time zone {name!r}.{did_you_mean(name, sorted(zones))}",
                       hint='Use an IANA time zone name, e.g. time_zone = "America/New_York" (or "UTC").')


def calendar_from_table(table: Mapping[str, Any]) -> tuple[Calendar, list[str]]:
    """The ``[calendar]`` table read and checked: the calendar, and the problems found (each
    naming its key and what to write), for :meth:`csframe.core.project.Project.from_toml`."""
    problems: list[str] = []
    values: dict[str, Any] = {}
    for key in table:
        if key not in _KEYS:
            problems.append(f"calendar.{key}: unknown key.{did_you_mean(key, _KEYS)} Keys: {', '.join(_KEYS)}")
    if "time_zone" in table:
        try:
            values["time_zone"] = _zone(table["time_zone"])
        except ProjectError as e:
            problems.append(f"{e.message} ({e.hint})")
    if "week_start" in table:
        value = table["week_start"]
        text = value.strip().lower() if isinstance(value, str) else None
        if text in _WEEK_STARTS:
            values["week_start"] = WEEKDAYS.index(text)
        else:
            problems.append(f"calendar.week_start: must be \"monday\" or \"sunday\", not {describe(value)} "
                            '(write week_start = "sunday", or leave it out for Monday)')
    if "fiscal_year_start" in table:
        try:
            values["fiscal_year_start"] = want_int(table["fiscal_year_start"], "calendar.fiscal_year_start",
                                                   minimum=1, maximum=12)
        except ProjectError as e:
            problems.append(e.message + " (the month the fiscal year starts in: 1 January … 12 December, "
                            "e.g. fiscal_year_start = 4 for April)")
    return Calendar(**values), problems


def local_date(ts: exp.Expression, time_zone: str) -> exp.Expression:
    """The local calendar date of a UTC timestamp ``ts``: CAST(ts AS DATE) in UTC, else the
    timestamp converted from UTC to the zone (exp.ConvertTimezone, each adapter renders it) as a DATE."""
    if time_zone == "UTC":
        return exp.cast(ts, "DATE")
    local = exp.ConvertTimezone(source_tz=exp.Literal.string("UTC"), target_tz=exp.Literal.string(time_zone),
                                timestamp=ts)
    return exp.cast(local, "DATE")


def expand_local_dates(tree: exp.Expression, time_zone: str) -> exp.Expression:
    """LOCAL_DATE(ts) of node SQL: the calendar date of ``ts`` in ``time_zone`` (CAST(ts AS DATE) in UTC)."""
    for node in list(tree.find_all(exp.Anonymous)):
        if node.name.upper() == "LOCAL_DATE" and len(node.expressions) == 1:
            node.replace(local_date(node.expressions[0], time_zone))
    return tree


def _months(n: int) -> exp.Interval:
    return exp.Interval(this=exp.Literal.string(str(n)), unit=exp.Var(this="MONTH"))


def _days(n: int) -> exp.Interval:
    return exp.Interval(this=exp.Literal.string(str(n)), unit=exp.Var(this="DAY"))


def bucket_in(grain: Grain, time_zone: str) -> Callable[[exp.Expression], exp.Expression]:
    """BUCKET(ts): the first date of the period of ``grain`` holding ``ts``'s local date in ``time_zone``.

    A week starting ``k`` days after Monday is the ISO week of (date − k days), plus k days; a
    quarter or year starting ``m`` months after January is the calendar one of (date − m months),
    plus m months (a month's arithmetic never leaves the month: the 31st − 1 month is the 30th or
    the 28th/29th of the month before)."""
    offset, grain_name = grain.anchor, grain.name

    def build(ts: exp.Expression) -> exp.Expression:
        day = local_date(ts, time_zone)
        if grain.periods:
            from .custom_calendar import custom_bucket

            return custom_bucket(day, grain)
        if grain_name == "day":
            return day
        unit = exp.Var(this=_UNITS[grain_name])
        if not offset:
            return exp.cast(exp.DateTrunc(this=ts if time_zone == "UTC" else day, unit=unit), "DATE")
        step = _days(offset) if grain_name == "week" else _months(offset)
        trunc = exp.cast(exp.DateTrunc(this=exp.cast(exp.Sub(this=day, expression=step), "DATE"), unit=unit), "DATE")
        return exp.cast(exp.Add(this=trunc, expression=step.copy()), "DATE")

    return build


def midnight(day: dt.date, time_zone: str) -> dt.datetime:
    """The UTC instant (naive, as the data contract's timestamps) of ``day``'s local midnight."""
    local = dt.datetime.combine(day, dt.time(), tzinfo=ZoneInfo(time_zone))
    return local.astimezone(dt.timezone.utc).replace(tzinfo=None)


def instant(day: dt.date, time_zone: str) -> exp.Expression:
    """A TIMESTAMP literal: the UTC instant of ``day``'s local midnight."""
    return exp.cast(exp.Literal.string(midnight(day, time_zone).isoformat(sep=" ")), "TIMESTAMP")


_COMPARISONS = (exp.EQ, exp.NEQ, exp.LT, exp.LTE, exp.GT, exp.GTE)


def _date_like(node: exp.Expression) -> bool:
    """An operand that is a date (a period's column, a DATE cast such as BUCKET(ts), a date placeholder)."""
    if isinstance(node, exp.Paren):
        return _date_like(node.this)
    if isinstance(node, exp.Cast):
        return node.to.is_type(exp.DataType.Type.DATE)
    if isinstance(node, exp.Column):
        return node.name.startswith("period_")
    if isinstance(node, exp.Placeholder):
        return True
    if isinstance(node, (exp.Greatest, exp.Least, exp.Coalesce)):
        return any(_date_like(e) for e in [node.this, *node.expressions])
    return False


def bind_instants(tree: exp.Expression, values: Mapping[str, dt.date], time_zone: str) -> exp.Expression:
    """In a time zone other than UTC, each boundary placeholder (``:spine_start``, ``:spine_end``)
    compared with a timestamp becomes the UTC instant of that date's local midnight; compared with
    a date (``GREATEST(BUCKET(t), :spine_start)``, ``period_start``) it stays the date (bound later
    by :func:`csframe.core.formula.bind_placeholders`)."""
    if time_zone == "UTC":
        return tree
    for node in list(tree.find_all(exp.Placeholder)):
        parent = node.parent
        if node.name not in values or not isinstance(parent, _COMPARISONS):
            continue
        other = parent.expression if node.arg_key == "this" else parent.this
        if not _date_like(other):
            node.replace(instant(values[node.name], time_zone))
    return tree
