"""Period-over-period: the formula function ``previous(expr[, n])`` and ``compute --vs
previous|year``.

Both are a LAG over the periods of one group (and key): the metric values step is computed
over the whole spine, which the planner makes reach far enough back (:func:`reach`), and
only then are the reported periods kept. ``previous(expr, n)`` is the value of ``expr`` n
periods earlier at the same dimensions; ``--vs`` compares each value with the one
:func:`vs_periods` periods earlier (``compared_value``) and gives the relative ``change``.
"""

from __future__ import annotations

__all__ = ["MAX_LAG", "VS", "previous_lag", "lag", "vs_periods", "reach", "relative_change", "compared_step"]

from collections.abc import Sequence

from sqlglot import exp

from .errors import DefinitionError, UsageError
from .periods import Grain

MAX_LAG = 1000  # previous(expr, n): n periods back at most
VS = ("previous", "year")


def previous_lag(node: exp.Anonymous, text: str) -> int:
    """The n of ``previous(expr[, n])`` (1 when left out); ValueError names what is wrong."""
    args = node.expressions
    if len(args) not in (1, 2):
        raise ValueError(f"formula {text!r}: previous() takes an expression and, optionally, a number of periods")
    if len(args) == 1:
        return 1
    n = args[1]
    if not (isinstance(n, exp.Literal) and not n.is_string and n.this.isdigit() and 1 <= int(n.this) <= MAX_LAG):
        raise ValueError(f"formula {text!r}: previous()'s second argument is a whole number of periods, "
                         f"1 to {MAX_LAG}: {n.sql()}")
    return int(n.this)


def lag(expr: exp.Expression, n: int, partition: Sequence[exp.Expression], what: str = "") -> exp.Window:
    """LAG(expr, n) over the periods of one group (``partition``), ordered by period_start."""
    if any(True for _ in expr.find_all(exp.Window)):
        raise DefinitionError(f"{what}: previous() of a value that itself uses previous() is not supported",
                              hint="Write the earlier value with measures, e.g. previous(mrr_end, 2), not "
                                   "previous() of a metric built with previous().")
    return exp.Window(this=exp.Lag(this=expr, offset=exp.Literal.number(n)),
                      partition_by=[p.copy() for p in partition],
                      order=exp.Order(expressions=[exp.Ordered(this=exp.column("period_start"))]))


def vs_periods(vs: str, g: Grain) -> int:
    """How many periods back ``--vs`` compares: ``previous`` 1; ``year`` the same period a year
    earlier — 12 months, 4 quarters, 1 year; 52 weeks, and 364 days at day grain (the same
    weekday, as 52 weeks are); a custom calendar's grain: its periods per year
    (:func:`~csframe.core.custom_calendar.periods_per_year`, a usage error when it has no fixed number)."""
    if vs not in VS:
        raise UsageError(f"--vs {vs}: unknown comparison", hint=f"Use one of: {', '.join(VS)}.")
    if vs == "previous":
        return 1
    if g.periods:
        from .custom_calendar import periods_per_year

        return periods_per_year(g)
    if g.months:
        return max(1, 12 // g.months)
    return max(1, 364 // g.days)


def reach(lags: Sequence[int], vs: int | None) -> int:
    """How many periods before the first reported one the spine starts: one (p−1 is read from
    the data) plus the farthest previous() or --vs — one more than the LAG needs, since the
    spine's first period also holds every change before it."""
    return 1 + max([0, *lags, *([vs] if vs else [])])


def relative_change(value: exp.Expression, compared: exp.Expression) -> exp.Expression:
    """(value − compared) / |compared|, NULL when compared is 0 or NULL (a rise is positive,
    even from a negative value)."""
    num = exp.Sub(this=exp.cast(value.copy(), "DOUBLE"), expression=exp.cast(compared.copy(), "DOUBLE"))
    den = exp.Nullif(this=exp.Abs(this=exp.cast(compared.copy(), "DOUBLE")), expression=exp.Literal.number(0))
    return exp.Div(this=exp.paren(num, copy=False), expression=den)


def compared_step(source: str, values: Sequence[str], partition: Sequence[exp.Expression], n: int) -> exp.Select:
    """Every column of ``source`` and, for each value column ``v<i>``, ``c<i>``: its value n
    periods earlier in the same group."""
    q = exp.select(exp.Star()).from_(source)
    for v in values:
        q = q.select(exp.alias_(lag(exp.column(v), n, partition, v), "c" + v[1:]), copy=False)
    return q
