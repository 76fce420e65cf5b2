"""How a source column of the engine's type becomes the data contract's type, and the
"Bad data" rule of a value that does not convert (data-contract.md).

The scan reads each column by what the engine says it is (:meth:`Session.inspect_sources`
learns the types):

- already of the contract's family (a TIMESTAMP, DATETIME or DATE for a timestamp; an
  integer or decimal for an amount; …), or of a type not known: ``CAST(x AS <type>)``,
  as before — a clean typed column costs nothing extra;
- a time-zoned timestamp (PostgreSQL ``timestamptz``, DuckDB ``TIMESTAMPTZ``, BigQuery
  ``TIMESTAMP``): its UTC instant, ``x AT TIME ZONE 'UTC'``, whatever the session's zone;
- text, or a float for an amount (NaN, ±infinity): a cast that yields NULL where the value
  does not convert (``TRY_CAST``; BigQuery ``SAFE_CAST``; PostgreSQL has none: its adapter
  guards a ``CAST`` with a pattern). Text timestamps go through the time-zoned type, so an
  offset (``+05:30``, ``-05:00``, ``Z``) is honoured and text without one is UTC (the
  adapters hold their session at UTC);
- any other type (a number where a timestamp belongs, a timestamp where a number does):
  NULL.

A column read either of the last two ways carries its raw value beside it in the checked
scan (:func:`raw_name`), and the rule "does not convert" is TRUE on a row whose raw value is
not NULL and whose converted value is.
"""

from __future__ import annotations

__all__ = ["NOT_CONVERTING", "Conversion", "conversion", "convert", "raw_name", "is_raw", "conversion_rules"]

from collections.abc import Iterable, Mapping

import attrs
from sqlglot import exp

from .contract import Column, Source
from .neutral import NEUTRAL_DIALECT

T = exp.DataType.Type
_RAW = "csframe_raw_"
NOT_CONVERTING = "does not convert to the contract's"
"""How the message of every "does not convert" rule begins."""
_TIMESTAMPS = {T.TIMESTAMP, T.TIMESTAMPNTZ, T.DATETIME, T.DATETIME2, T.DATE, T.TIMESTAMP_S, T.TIMESTAMP_MS,
               T.TIMESTAMP_NS, T.SMALLDATETIME, T.DATETIME64}
_ZONED = {T.TIMESTAMPTZ, T.TIMESTAMPLTZ}
_EXACT = set(exp.DataType.INTEGER_TYPES) | {T.DECIMAL, T.BIGDECIMAL, T.MONEY, T.SMALLMONEY, T.UDECIMAL}
_FLOATS = set(exp.DataType.REAL_TYPES) - _EXACT
_TEXT = set(exp.DataType.TEXT_TYPES) | {T.BPCHAR, T.CHAR, T.NCHAR, T.NVARCHAR}


@attrs.frozen
class Conversion:
    """How one column is read: ``cast`` (a plain CAST), ``utc`` (a zoned timestamp's UTC
    instant), ``try`` (NULL where the value does not convert) or ``never`` (no value of the
    column's type converts); ``problem`` says what an offending value is."""

    how: str
    problem: str = ""

    @property
    def checked(self) -> bool:
        return self.how in ("try", "never")


_PLAIN = Conversion("cast")


def _family(contract_type: str) -> str:
    kind = exp.DataType.build(contract_type)
    if kind.is_type(T.TIMESTAMP):
        return "timestamp"
    if kind.is_type(T.DECIMAL):
        return "amount"
    if kind.is_type(T.DOUBLE):
        return "number"
    if kind.is_type(T.BOOLEAN):
        return "boolean"
    return "text"


def conversion(col: Column, actual: exp.DataType | None, dialect: str = NEUTRAL_DIALECT) -> Conversion:
    """How ``col`` is read from a column the engine types ``actual`` (None: not known); a
    problem names the type as ``dialect`` spells it."""
    family = _family(col.type)
    if actual is None or family == "text" or actual.this in (T.UNKNOWN, T.USERDEFINED, T.NULL):
        return _PLAIN
    kind = actual.this
    spelled = actual.sql(dialect)
    if kind in _TEXT:
        what = {"timestamp": "text that is not a timestamp (write e.g. 2024-01-31 23:30:00+05:30)",
                "amount": "text that is not a number", "number": "text that is not a number",
                "boolean": "text that is not a boolean (true or false)"}[family]
        return Conversion("try", what)
    if family == "timestamp":
        if kind in _TIMESTAMPS:
            return _PLAIN
        if kind in _ZONED:
            return Conversion("utc")
        return Conversion("never", f"a {spelled} where the contract wants a timestamp")
    if family in ("amount", "number"):
        if kind in _EXACT or (family == "number" and kind in _FLOATS):
            return _PLAIN
        if kind in _FLOATS:  # money: NaN and ±infinity are no amount
            return Conversion("try", "NaN, ±infinity or a float beyond what an amount holds")
        return Conversion("never", f"a {spelled} where the contract wants a number")
    if kind == T.BOOLEAN or kind in _EXACT:
        return _PLAIN
    return Conversion("never", f"a {spelled} where the contract wants a boolean")


def convert(value: exp.Expression, col: Column, how: Conversion) -> exp.Expression:
    """``value`` (the source column) as ``col``'s contract type, read as ``how`` says."""
    to = exp.DataType.build(col.type)
    if how.how == "never":
        return exp.cast(exp.Null(), to)
    if how.how == "utc" or (how.how == "try" and to.is_type(T.TIMESTAMP)):
        zoned = value if how.how == "utc" else exp.TryCast(this=value, to=exp.DataType.build("TIMESTAMPTZ"))
        return exp.cast(exp.AtTimeZone(this=zoned, zone=exp.Literal.string("UTC")), to)
    if how.how == "try":
        return exp.TryCast(this=value, to=to)
    return exp.cast(value, to)


def raw_name(column: str) -> str:
    """The name of ``column``'s raw value in a checked scan."""
    return _RAW + column


def is_raw(name: str) -> bool:
    return name.startswith(_RAW)


def conversion_rules(src: Source, conversions: Mapping[str, Conversion] | Iterable[str]) -> list[tuple[str, str, str]]:
    """(column, message, predicate) of each column read with a check, in ``src``'s order; the
    predicate is TRUE on a row whose raw value is not NULL and does not convert."""
    problems = dict(conversions) if isinstance(conversions, Mapping) else {c: None for c in conversions}
    out = []
    for col in src.columns:
        if col.name in problems:
            how = problems[col.name]
            what = how.problem if how is not None and how.problem else "a value that does not convert"
            out.append((col.name, f"{NOT_CONVERTING} {col.type}: {what}",
                        f"{raw_name(col.name)} IS NOT NULL AND {col.name} IS NULL"))
    return out
