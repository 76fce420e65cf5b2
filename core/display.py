"""How a person sees a metric's numbers: each series of values formatted by its unit
(``52.30 %``, ``3.5×``, ``5,888.66``, ``12.4 d``), the same decimals within a series. Used by
the ``table`` output format and by ``csframe report``; csv, json and jsonl keep raw numbers."""

from __future__ import annotations

__all__ = ["format_value", "format_series"]

import math
from typing import Any


def format_value(value: Any) -> Any:
    """A float as an int when it is integral, else as is; NULL stays None."""
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return None
        if value.is_integer() and abs(value) < 1e15:
            return int(value)
        return value
    return value


_SUFFIX = {"share": " %", "multiple": "×", "days": " d", "hours": " h", "months": " mo"}
# (fewest, most) decimals of a unit's values; money and durations show a fixed number
_DECIMALS = {"share": (2, 2), "money": (2, 2), "days": (1, 1), "hours": (1, 1), "months": (1, 1),
             "multiple": (1, 2), "per_unit": (0, 2), "score": (0, 2), "count": (0, 2)}


def _decimals(values: list[float], unit: str | None) -> int:
    """The fewest decimals (within the unit's bounds) that show every value as its most would."""
    low, high = _DECIMALS.get(unit or "", (0, 4))
    for d in range(low, high):
        if all(round(v, high) == round(v, d) for v in values):
            return d
    return high


def format_series(values: list[Any], unit: str | None) -> list[str]:
    """How a table shows one series of values (a metric variant's rows): ``share`` as a
    percentage (``52.30 %``), ``multiple`` as ``3.5×``, ``money`` with two decimals, durations
    with their unit (``12.4 d``), the rest as plain numbers; every value of the series with the
    same decimals; NULL as ``—``."""
    numbers = [format_value(v) for v in values]
    scale = 100 if unit == "share" else 1
    present = [float(v) * scale for v in numbers if v is not None]
    d = _decimals(present, unit)
    out = []
    for v in numbers:
        if v is None:
            out.append("—")
            continue
        text = f"{float(v) * scale:,.{d}f}"
        if text.startswith("-") and not text.strip("-0.,"):
            text = text[1:]  # -0.00: a tiny negative that rounds to zero is shown as zero
        out.append(text + _SUFFIX.get(unit or "", ""))
    return out
