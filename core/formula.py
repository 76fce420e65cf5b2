"""The formula language: dialect-neutral SQL parsed once with sqlglot.

Two kinds of text are parsed here, both written by definition authors (never by
users: user values reach SQL only as literals):

* a variant's **formula**, an expression over measure names, ``ref('metric'[,
  'variant'])``, ``param('name')``, ``safe_div(a, b)`` and ``previous(expr[, n])`` (the value
  of ``expr`` n periods earlier at the same dimensions, :mod:`.previous`);
* a node's **SQL**, a SELECT that may use the macros ``BUCKET(ts)``, ``LOCAL_DATE(ts)``,
  ``EPOCH_SECONDS(ts)`` and ``SAFE_DIV(a, b)`` and ``:name`` placeholders.
"""

from __future__ import annotations

__all__ = [
    "bottom_up",
    "ParsedFormula",
    "ParsedNode",
    "parse_formula",
    "parse_node_sql",
    "safe_div",
    "expand_macros",
    "bind_placeholders",
]

from collections.abc import Callable, Mapping
from typing import Any

import attrs
import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError

from .models import MetricRef

BUILTIN_NODES = ("spine", "groups", "grid", "customer_groups")
BUILTIN_MEASURES = ("grain_months",)
WHOLE_PREFIX = "all_"  # a node reads all_<source> for the whole source, ignoring the --by groups
COMPILER_PLACEHOLDERS = ("spine_start", "spine_end", "grain_months", "window_periods")
_FORMULA_FUNCTIONS = {"ref", "param", "safe_div", "previous"}
_MACROS = {"BUCKET": 1, "EPOCH_SECONDS": 1, "SAFE_DIV": 2, "LOCAL_DATE": 1}
_ALLOWED_FORMULA_NODES = (
    exp.Column, exp.Identifier, exp.Literal, exp.Paren, exp.Neg, exp.Add, exp.Sub, exp.Mul, exp.Div,
    exp.Case, exp.If, exp.Coalesce, exp.Greatest, exp.Least, exp.Abs, exp.Null, exp.Boolean,
    exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE, exp.And, exp.Or, exp.Not, exp.Is,
    exp.Anonymous, exp.Cast, exp.DataType,
)


@attrs.frozen
class ParsedFormula:
    """A formula's tree and what it reads."""

    tree: exp.Expression
    measures: tuple[str, ...]
    refs: tuple[MetricRef, ...]
    parameters: tuple[str, ...]
    lags: tuple[int, ...] = ()  # the n of each previous(expr, n)


@attrs.frozen
class ParsedNode:
    """A node's SELECT tree and what it reads."""

    tree: exp.Query
    sources: tuple[str, ...]  # every source it reads, as src_<source> or all_<source>
    nodes: tuple[str, ...]
    parameters: tuple[str, ...]
    whole_sources: tuple[str, ...] = ()  # those read as all_<source>: every row, whatever its --by group


def _string_args(fn: exp.Anonymous, count: tuple[int, ...]) -> list[str]:
    args = fn.expressions
    if len(args) not in count or not all(isinstance(a, exp.Literal) and a.is_string for a in args):
        raise ValueError(f"{fn.name}() takes {' or '.join(map(str, count))} quoted name(s): {fn.sql()}")
    return [a.this for a in args]


def parse_formula(text: str) -> ParsedFormula:
    """Parse a variant's formula; ValueError names what is wrong."""
    try:
        tree = sqlglot.parse_one(text)
    except ParseError as e:
        raise ValueError(f"formula {text!r} does not parse: {e.errors[0]['description'] if e.errors else e}") from None
    if isinstance(tree, exp.Query):
        raise ValueError(f"formula {text!r} must be an expression, not a query")
    measures: list[str] = []
    refs: list[MetricRef] = []
    params: list[str] = []
    lags: list[int] = []
    for node in tree.walk():
        if not isinstance(node, _ALLOWED_FORMULA_NODES):
            raise ValueError(f"formula {text!r}: {node.sql()!r} ({type(node).__name__}) is not allowed in a formula")
        if isinstance(node, exp.Anonymous):
            name = node.name.lower()
            if name not in _FORMULA_FUNCTIONS:
                raise ValueError(
                    f"formula {text!r}: unknown function {node.name}(); formulas may call "
                    + ", ".join(sorted(_FORMULA_FUNCTIONS))
                )
            if name == "ref":
                refs.append(MetricRef(*_string_args(node, (1, 2))))
            elif name == "param":
                params.append(_string_args(node, (1,))[0])
            elif name == "previous":
                from .previous import previous_lag

                lags.append(previous_lag(node, text))
            elif len(node.expressions) != 2:
                raise ValueError(f"formula {text!r}: safe_div() takes two arguments")
        elif isinstance(node, exp.Column):
            if node.table:
                raise ValueError(f"formula {text!r}: {node.sql()} — name a measure without a table")
            measures.append(node.name)
    return ParsedFormula(tree, tuple(dict.fromkeys(measures)), tuple(dict.fromkeys(refs)), tuple(dict.fromkeys(params)),
                         tuple(dict.fromkeys(lags)))


def parse_node_sql(text: str) -> ParsedNode:
    """Parse a node's SELECT; ValueError names what is wrong."""
    try:
        tree = sqlglot.parse_one(text)
    except ParseError as e:
        raise ValueError(f"SQL does not parse: {e.errors[0]['description'] if e.errors else e}") from None
    if not isinstance(tree, exp.Query):
        raise ValueError("a node's SQL must be a SELECT")
    inner_ctes = {cte.alias_or_name for cte in tree.find_all(exp.CTE)}
    sources: list[str] = []
    whole: list[str] = []
    nodes: list[str] = []
    for table in tree.find_all(exp.Table):
        name = table.name
        if not name or name in inner_ctes:
            continue
        if table.db:
            raise ValueError(f"{table.sql()}: a node reads sources as src_<source> and nodes by name, never a schema")
        if name.startswith("src_"):
            sources.append(name[4:])
        elif name.startswith(WHOLE_PREFIX):
            sources.append(name[len(WHOLE_PREFIX):])
            whole.append(name[len(WHOLE_PREFIX):])
        else:
            nodes.append(name)
    for fn in tree.find_all(exp.Anonymous):
        arity = _MACROS.get(fn.name.upper())
        if arity is not None and len(fn.expressions) != arity:
            raise ValueError(f"{fn.name}() takes {arity} argument(s): {fn.sql()}")
    params = [p.name for p in tree.find_all(exp.Placeholder) if p.name not in COMPILER_PLACEHOLDERS]
    return ParsedNode(tree, tuple(dict.fromkeys(sources)), tuple(dict.fromkeys(nodes)), tuple(dict.fromkeys(params)),
                      tuple(dict.fromkeys(whole)))


def safe_div(numerator: exp.Expression, denominator: exp.Expression) -> exp.Expression:
    """numerator / denominator as DOUBLE, NULL when the denominator is 0 or NULL (every engine)."""
    num = exp.cast(exp.paren(numerator.copy(), copy=False), "DOUBLE")
    den = exp.Nullif(this=exp.cast(exp.paren(denominator.copy(), copy=False), "DOUBLE"), expression=exp.Literal.number(0))
    return exp.Div(this=num, expression=den)


def bottom_up(node: exp.Expression, fn: Callable[[exp.Expression], exp.Expression]) -> exp.Expression:
    """Rewrite children first, then the node: a replacement's parts are already rewritten
    (sqlglot's own ``transform`` works top-down and skips what it returns)."""
    for key, value in list(node.args.items()):
        if isinstance(value, exp.Expression):
            new = bottom_up(value, fn)
            if new is not value:  # set() only what changed: it is the costly part of a walk
                node.set(key, new)
        elif isinstance(value, list):
            items = [bottom_up(v, fn) if isinstance(v, exp.Expression) else v for v in value]
            if any(a is not b for a, b in zip(items, value)):
                node.set(key, items)
    return fn(node)


def expand_macros(tree: exp.Expression, bucket: Callable[[exp.Expression], exp.Expression]) -> exp.Expression:
    """Replace BUCKET(), EPOCH_SECONDS() and SAFE_DIV() by neutral trees."""

    def rewrite(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Anonymous):
            name = node.name.upper()
            if name == "BUCKET":
                return bucket(node.expressions[0])
            if name == "EPOCH_SECONDS":
                return exp.TimeToUnix(this=node.expressions[0])
            if name == "SAFE_DIV":
                return safe_div(node.expressions[0], node.expressions[1])
        return node

    return bottom_up(tree, rewrite)


def literal(value: Any) -> exp.Expression:
    """A Python value as a SQL literal tree (dates become DATE literals)."""
    import datetime as dt

    if isinstance(value, dt.datetime):
        return exp.cast(exp.Literal.string(value.isoformat(sep=" ")), "TIMESTAMP")
    if isinstance(value, dt.date):
        return exp.cast(exp.Literal.string(value.isoformat()), "DATE")
    if isinstance(value, (list, tuple)):
        return exp.Tuple(expressions=[literal(v) for v in value])
    return exp.convert(value)


def bind_placeholders(tree: exp.Expression, values: Mapping[str, Any]) -> exp.Expression:
    """Replace every ``:name`` placeholder by the literal of ``values[name]``.

    Two shapes are folded first, so that list parameters whose default is "any" (None)
    work on every engine: ``:p IS NULL`` becomes TRUE/FALSE, ``x IN :p`` becomes
    ``x IN (v1, v2, …)`` (FALSE for an empty list), and ``UNNEST(:p)`` becomes
    ``UNNEST(ARRAY[v1, v2, …])`` (a typed empty VARCHAR array for an empty or None list),
    so that a list can be bound as rows."""

    def fold(node: exp.Expression) -> exp.Expression:
        if (isinstance(node, exp.Is) and isinstance(node.this, exp.Placeholder)
                and isinstance(node.expression, exp.Null) and node.this.name in values):
            return exp.Boolean(this=values[node.this.name] is None)
        field = node.args.get("field") if isinstance(node, exp.In) else None
        if isinstance(field, exp.Placeholder) and field.name in values:
            items = values[field.name] or ()
            if not items:
                return exp.false()
            return exp.In(this=node.this, expressions=[literal(v) for v in items])
        if (isinstance(node, exp.Unnest) and len(node.expressions) == 1
                and isinstance(node.expressions[0], exp.Placeholder) and node.expressions[0].name in values):
            items = values[node.expressions[0].name] or ()
            array: exp.Expression = (exp.Array(expressions=[literal(v) for v in items]) if items else
                                     exp.cast(exp.Array(expressions=[]), exp.DataType.build("ARRAY<VARCHAR>")))
            node = node.copy()
            node.set("expressions", [array])
        return node

    def rewrite(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Placeholder) and node.name in values:
            return literal(values[node.name])
        return node

    return bottom_up(bottom_up(tree, fold), rewrite)
