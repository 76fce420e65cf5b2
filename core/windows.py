"""Trailing windows (``compute --window 30d``): each row's period is [b − window, b) for every
grain boundary b of the range.

A window is a whole number k of grain periods, so b − window is a grain boundary. Inside the
query every window is keyed by its last grain period (the *anchor*: ``period_start`` of the
grid, as without a window); only the output shows the window's own start. Each node says how
it reads on windows (:attr:`csframe.core.models.Node.window`):

* ``"sum"``: its measures are sums over the rows of p; on a window they are the sums over its
  k periods, a running sum over the last k rows of the grid (no row is read twice);
* ``"as_is"``: its SQL is right as written (levels as of p.end, which is the anchor's end, or
  it reads only steps that are themselves windowed);
* ``window_sql``: the SQL to use on windows; it may read ``window_map`` (each grain period with
  the k windows holding it: ``period_start``, ``window_period``), ``grid.window_start`` (the
  start of each window) and ``:window_periods`` (k).

A metric that reads a node with none of these is refused with a usage error naming it.
"""

from __future__ import annotations

__all__ = ["Window", "parse_window", "check_windowable", "unwindowed_steps", "window_node_tree", "window_map_query",
           "window_start", "WINDOW_MAP"]

import re

import attrs
import sqlglot
from sqlglot import exp

from .errors import UsageError
from .formula import parse_node_sql
from .periods import Grain
from .registry import Registry

WINDOW_MAP = "window_map"
_UNITS = {"d": (1, 0), "w": (7, 0), "m": (0, 1), "q": (0, 3), "y": (0, 12)}
_WORDS = {"d": "day", "w": "week", "m": "month", "q": "quarter", "y": "year"}
_FORMAT = re.compile(r"^\s*([0-9]{1,5})\s*([dwmqy])\s*$", re.IGNORECASE)


@attrs.frozen
class Window:
    """A trailing window: its text as given (``30d``) and its length in grain periods."""

    text: str
    periods: int


def _fits(grain: Grain) -> str:
    """The windows that fit ``grain``, for a hint."""
    if grain.days == 1:
        return "a number of days or weeks (e.g. 30d, 7d, 4w)"
    if grain.days:
        return "a number of weeks (e.g. 13w, 4w)"
    if grain.months == 1:
        return "a number of months, quarters or years (e.g. 3m, 12m, 1y)"
    return f"a whole number of {grain.name}s (e.g. {2 * grain.months}m)"


def parse_window(text: str, grain: Grain) -> Window:
    """``30d``, ``13w``, ``3m``, ``12m``, ``1q``, ``1y``: a whole number (≥ 1) of ``grain`` periods,
    else a usage error naming --window and what fits the grain."""
    match = _FORMAT.match(str(text))
    if match is None or int(match.group(1)) < 1:
        raise UsageError(f"--window {text!r} is not a window length",
                         hint=f"Write a number and a unit d, w, m, q or y; with --grain {grain.name}: {_fits(grain)}.")
    n, unit = int(match.group(1)), match.group(2).lower()
    days, months = _UNITS[unit]
    if grain.days and days and (n * days) % grain.days == 0:
        return Window(f"{n}{unit}", n * days // grain.days)
    if grain.months and months and (n * months) % grain.months == 0:
        return Window(f"{n}{unit}", n * months // grain.months)
    raise UsageError(
        f"--window {text}: a window is a whole number of periods of the grain, and {n} {_WORDS[unit]}"
        f"{'s' if n != 1 else ''} is not a whole number of {grain.name}s",
        hint=f"With --grain {grain.name}, use {_fits(grain)}; or pick the --grain the window is made of.")


def unwindowed_steps(registry: Registry, nodes) -> list[str]:
    """The steps among ``nodes`` that say nothing of how they read on windows."""
    return [n for n in nodes if registry.nodes[n].node.window is None and registry.nodes[n].node.window_sql is None]


def check_windowable(registry: Registry, keys, closure, window: Window) -> None:
    """Refuse (usage error, every such metric named) the keys that read a node not defined on
    windows; ``closure(key)`` gives a key's resolved closure."""
    bad: list[str] = []
    for key in keys:
        nodes = unwindowed_steps(registry, closure(key).nodes)
        if nodes:
            bad.append(f"{key[0]}:{key[1]} (step {', '.join(nodes)})")
    if bad:
        raise UsageError(
            f"--window {window.text}: not defined on trailing windows: {'; '.join(bad)}",
            hint="Compute these metrics without --window (docs/choices.md says why they are not windowed).")


def _rolling(column: exp.Expression, partition: list[exp.Expression], k: int) -> exp.Expression:
    """SUM(COALESCE(column, 0)) over the last k rows of the partition, in period order."""
    spec = exp.WindowSpec(kind="ROWS", start=exp.Literal.number(k - 1), start_side="PRECEDING", end="CURRENT ROW")
    return exp.Window(this=exp.Sum(this=exp.Coalesce(this=column, expressions=[exp.Literal.number(0)])),
                      partition_by=partition, order=exp.Order(expressions=[exp.Ordered(
                          this=exp.column("period_start", table="g"))]), spec=spec)


def _summed(tree: exp.Query, measures, k: int) -> exp.Query:
    """A "sum" node on windows: every measure summed over the window's k periods, one row per
    grid row (and key value, for keyed measures, whose node gives every key in every period)."""
    keys = list(dict.fromkeys(m.key for m in measures if m.key is not None))
    key = keys[0] if keys else None
    g, r = "g", "r"
    partition: list[exp.Expression] = [exp.column("grp", table=g)]
    conds = [exp.EQ(this=exp.column("grp", table=r), expression=exp.column("grp", table=g)),
             exp.EQ(this=exp.column("period_start", table=r), expression=exp.column("period_start", table=g))]
    selects: list[exp.Expression] = [exp.column("grp", table=g), exp.column("period_start", table=g)]
    query = exp.select().from_(exp.to_table("grid").as_(g))
    if key is not None:
        kid = exp.to_identifier(key, quoted=True)
        query = query.join(exp.select(exp.column(kid.copy())).distinct().from_("period_rows").subquery("kv"),
                           join_type="cross")
        partition.append(exp.column(kid.copy(), table="kv"))
        conds.append(exp.NullSafeEQ(this=exp.column(kid.copy(), table=r), expression=exp.column(kid.copy(), table="kv")))
        selects.append(exp.column(kid.copy(), table="kv"))
    for m in measures:
        selects.append(exp.alias_(_rolling(exp.column(m.name, table=r), [p.copy() for p in partition], k), m.name))
    query = query.select(*selects).join(exp.to_table("period_rows").as_(r), on=exp.and_(*conds), join_type="left")
    return query.with_("period_rows", as_=tree)


def window_node_tree(registry: Registry, name: str, k: int) -> exp.Query:
    """The SELECT of node ``name`` on windows of ``k`` periods (macros and placeholders not yet
    expanded)."""
    node = registry.nodes[name].node
    if node.window_sql is not None:
        return parse_node_sql(node.window_sql).tree
    tree = registry.nodes[name].parsed.tree.copy()
    if node.window == "sum" and node.measures:
        return _summed(tree, node.measures, k)
    return tree


def window_start(period_start: exp.Expression, step: exp.Interval, k: int) -> exp.Expression:
    """The start of the window of ``k`` periods of length ``step`` whose last period starts at
    ``period_start``."""
    if k == 1:
        return exp.cast(period_start, "DATE")
    n = int(step.this.this) * (k - 1)
    back = exp.Interval(this=exp.Literal.string(str(n)), unit=step.unit.copy())
    return exp.cast(exp.Sub(this=period_start, expression=back), "DATE")


def window_map_query(k: int) -> exp.Query:
    """Each grain period of the spine with the k windows holding it (keyed by their last
    period; ``window_start``: the start of that window): k rows per period, found by equality
    on the spine's row numbers."""
    return sqlglot.parse_one(f"""
        WITH spine_index AS (
          SELECT period_start, window_start, ROW_NUMBER() OVER (ORDER BY period_start) AS i FROM spine
        )
        SELECT p.period_start, w.period_start AS window_period, w.window_start
        FROM spine_index AS p
        JOIN spine_index AS o ON o.i <= {int(k)}
        JOIN spine_index AS w ON w.i = p.i + o.i - 1
        """)
