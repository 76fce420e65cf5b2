"""Time and money inside the simulation, and how they come out in rows.

Time runs as integer seconds since 1970-01-01 (UTC): :func:`_ts` and :func:`_date` turn them into
naive ``datetime.datetime`` (UTC) and ``datetime.date``; money runs as integer cents, and
:func:`_money` turns it into a ``Decimal`` with two places. :class:`_Calendar` holds the month
starts of the simulated span.
"""

from __future__ import annotations

import bisect
import datetime as _dt
from decimal import Decimal

import attrs

__all__ = [
    "_DAY",
    "_EPOCH",
    "_EPOCH_ORDINAL",
    "_HOUR",
    "_MINUTE",
    "_MONTH",
    "_Calendar",
    "_date",
    "_money",
    "_ts",
    "_ts_or_none",
]

_EPOCH = _dt.datetime(1970, 1, 1)
_EPOCH_ORDINAL = _EPOCH.toordinal()
_MINUTE, _HOUR, _DAY = 60, 3_600, 86_400
_MONTH = 2_629_800  # 30.4375 days


def _ts(seconds: int) -> _dt.datetime:
    return _EPOCH + _dt.timedelta(seconds=seconds)


def _ts_or_none(seconds: int | None) -> _dt.datetime | None:
    return None if seconds is None else _EPOCH + _dt.timedelta(seconds=seconds)


def _date(seconds: int) -> _dt.date:
    return _dt.date.fromordinal(_EPOCH_ORDINAL + seconds // _DAY)


def _money(cents: int) -> Decimal:
    return Decimal(cents).scaleb(-2)


@attrs.frozen
class _Calendar:
    """Month starts (seconds) of the span: index 0 is the first month, ``months`` is ``end``."""

    months: int
    starts: tuple[int, ...]  # months + 2 entries
    days: tuple[int, ...]  # days in each month, months + 1 entries

    @classmethod
    def ending(cls, end: _dt.date, months: int) -> _Calendar:
        first = end.year * 12 + end.month - 1 - months
        dates = []
        for i in range(months + 3):
            year, month = divmod(first + i, 12)
            dates.append(_dt.date(year, month + 1, 1))
        starts = tuple((d.toordinal() - _EPOCH_ORDINAL) * _DAY for d in dates)
        days = tuple((starts[i + 1] - starts[i]) // _DAY for i in range(months + 2))
        return cls(months, starts[: months + 2], days)

    @property
    def start_s(self) -> int:
        return self.starts[0]

    @property
    def end_s(self) -> int:
        return self.starts[self.months]

    def month_of(self, seconds: int) -> int:
        return bisect.bisect_right(self.starts, seconds) - 1

    def next_month_start(self, seconds: int) -> int:
        """The first month start at or after ``seconds`` (past ``end`` when none is in the span)."""
        i = bisect.bisect_left(self.starts, seconds)
        return self.starts[i] if i < len(self.starts) else self.starts[-1] + 31 * _DAY
