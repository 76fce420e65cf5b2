"""What a value leaves out: the per-period counts a variant declares with ``left_out``
(:class:`~csframe.core.models.LeftOut`), taken off the query's rows and said as notes on
stderr, e.g. how many customers time_to_value leaves out because they are yet to reach value."""

from __future__ import annotations

__all__ = ["describe", "notes", "split_counts"]

import datetime as dt
import string
from collections.abc import Mapping, Sequence
from typing import Any

from .graph import Key

_SHOWN = 6  # periods listed one by one; the rest are summed up


def split_counts(rows: Sequence[Sequence[Any]]) -> tuple[list[tuple], dict[Key, dict[dt.date, float]]]:
    """The rows without their last column (the left-out count), and the counts summed over the
    ``--by`` groups, per variant and period (first columns: metric, variant, period_start)."""
    kept, counts = [], {}
    for row in rows:
        kept.append(tuple(row[:-1]))
        if row[-1] is not None:
            per = counts.setdefault((row[0], row[1]), {})
            per[row[2]] = per.get(row[2], 0) + float(row[-1])
    return kept, counts


def _number(x: float) -> str:
    return f"{int(x):,}" if float(x).is_integer() else f"{x:,.2f}"


def describe(template: str, parameters: Mapping[str, Any]) -> str:
    """A ``LeftOut.what`` with the values of the parameters it names."""
    names = {f for _, f, _, _ in string.Formatter().parse(template) if f}
    return template.format_map({n: parameters.get(n) for n in names})


def notes(registry: Any, keys: Sequence[Key], counts: Mapping[Key, Mapping[dt.date, float]],
          parameters: Mapping[str, Any]) -> list[str]:
    """One line per variant that left something out in the periods computed; none when nothing was."""
    out = []
    for key in keys:
        per = {p: n for p, n in sorted(counts.get(key, {}).items()) if n}
        if not per:
            continue
        what = describe(registry.variants[key].variant.left_out.what, parameters)
        shown = [f"{p}: {_number(n)}" for p, n in list(per.items())[:_SHOWN]]
        if len(per) > _SHOWN:
            shown.append(f"{len(per) - _SHOWN} more period(s): {_number(sum(list(per.values())[_SHOWN:]))}")
        out.append(f"note: {key[0]}:{key[1]} leaves out {_number(sum(per.values()))} {what} "
                   f"({'; '.join(shown)})")
    return out
