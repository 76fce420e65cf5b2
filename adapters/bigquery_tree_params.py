"""Query parameters of the metrics query from its tree, rendered once (the BigQuery adapter's
``execute_tree``).

:func:`csframe.adapters.bigquery.parameterize` finds the value literals of SQL text by parsing
it; the metrics query is csframe's own tree, so parsing its SQL again (the catalog's query: a
second or more) finds nothing the tree does not say. Here each value literal of the tree — by
the same rules (``_is_value_position``, the INT64 range, a finite FLOAT64) — is replaced by a
marked ``@`` parameter, the tree is rendered once as ``compile`` renders it (pretty), and the
marks are named ``@p0``, ``@p1``… in the order of the text, equal values sharing a name: the
text and parameters :func:`parameterize` makes of the rendered SQL
(``tests/unit/test_bigquery_tree_params.py`` holds them equal for every metric of the catalog).
A mark the generator did not write exactly once (it dropped or repeated a literal) gives None:
the caller then parameterizes the text as before.
"""

from __future__ import annotations

__all__ = ["parameterize_tree"]

import math
import re
from collections.abc import Sequence
from typing import Any

from sqlglot import exp

from csframe.core.errors import MetricFailedError

from .bigquery import _INT64, _NUMBER, _is_value_position

_MARK = "csframe_value_"
_MARKED = re.compile(r"@" + _MARK + r"(\d+)\b")


def _value(node: exp.Literal) -> tuple[bool, str, Any] | None:
    """(negative, BigQuery type, value) of a value literal, None for one that stays in the text."""
    if node.is_string:
        return False, "STRING", node.this
    raw = node.this.strip()
    negative = raw.startswith("-")  # written -n; read back, the n of a negation
    digits = raw[1:] if negative else raw
    if not _NUMBER.match(digits):
        return None
    if digits.isdigit():
        return (negative, "INT64", int(digits)) if _INT64[0] <= int(digits) <= _INT64[1] else None
    return (negative, "FLOAT64", float(digits)) if math.isfinite(float(digits)) else None


def parameterize_tree(tree: exp.Expression, *, taken: Sequence[str] = (), pretty: bool = True
                      ) -> tuple[str, list[tuple[str, str, Any]]] | None:
    """``tree``'s BigQuery SQL with its value literals as ``@p0``, ``@p1``… and the parameters
    as ``(name, BigQuery type, Python value)``, as :func:`~csframe.adapters.bigquery.parameterize`
    gives them for ``tree.sql("bigquery", pretty=pretty)``; None when the rendering did not keep
    every literal in place (``tree`` is then as it was given; else its literals are parameters)."""
    if not isinstance(tree, exp.Query):
        raise MetricFailedError("bigquery: csframe runs one query (SELECT or WITH … SELECT) at a time, "
                                "never a script, DDL or DML")
    values: list[tuple[str, Any]] = []
    replaced: list[tuple[exp.Expression, exp.Literal]] = []  # (what stands in the tree, the literal)
    for node in list(tree.find_all(exp.Literal)):
        if not _is_value_position(node):
            continue
        found = _value(node)
        if found is None:
            continue
        negative, kind, value = found
        mark = exp.Parameter(this=exp.Var(this=f"{_MARK}{len(values)}"))
        stand_in = exp.Neg(this=mark) if negative else mark
        node.replace(stand_in)
        replaced.append((stand_in, node))
        values.append((kind, value))
    text = tree.sql(dialect="bigquery", pretty=pretty)

    params: list[tuple[str, str, Any]] = []
    by_value: dict[tuple[str, str, Any], str] = {}
    used = set(taken)
    seen = [0] * len(values)
    counter = 0

    def name(m: re.Match) -> str:
        nonlocal counter
        i = int(m.group(1))
        if i >= len(values):
            return m.group(0)
        seen[i] += 1
        kind, value = values[i]
        key = (kind, type(value).__name__, value)
        if key not in by_value:
            while f"p{counter}" in used:
                counter += 1
            by_value[key] = f"p{counter}"
            used.add(f"p{counter}")
            params.append((f"p{counter}", kind, value))
        return "@" + by_value[key]

    text = _MARKED.sub(name, text)
    if any(n != 1 for n in seen):
        for stand_in, node in replaced:  # the tree as it was given
            stand_in.replace(node)
        return None
    return text, params
