"""The data contract's "Bad data" checks as SQL, and ``--lenient``'s row filter.

Each rule is a predicate over a source's canonical columns that is TRUE on an
offending row. A check run counts every rule's offending rows and samples their keys
in one pass per source; ``--lenient`` keeps only rows that no rule flags. Rows of
``subscriptions`` with ended_at = started_at carry no time and are never flagged.
Duplicate keys flag every copy; an overlap flags the later row of the pair.
"""

from __future__ import annotations

__all__ = ["Rule", "Problem", "rules_for", "flagged_query", "lenient_filter", "count_query", "counts_of_all",
           "split_counts", "sample_query"]

from collections.abc import Iterable, Mapping, Sequence

import attrs
import sqlglot
from sqlglot import exp

from . import contract_types
from .contract import Source
from .formula import bind_placeholders

_FAR = "CAST('9999-12-31 00:00:00' AS TIMESTAMP)"


@attrs.frozen
class Rule:
    source: str
    name: str
    message: str
    predicate: str  # neutral SQL, TRUE on an offending row; values only as :placeholders
    bindings: dict = attrs.field(factory=dict)


@attrs.frozen
class Problem:
    """A broken rule with a sample of offending keys; a missing table or column (``key``: the
    csframe.toml key to fix); or, ``severity="warning"``, a source with no rows."""

    source: str
    column: str
    message: str
    rows: int = 0
    sample: tuple[str, ...] = ()
    severity: str = "error"
    key: str = ""

    def __str__(self) -> str:
        if self.key:
            return f"{self.key}: {self.message}"
        where = f"{self.source}.{self.column}" if self.column else self.source
        text = f"{where}: {self.message}"
        if self.rows:
            text += f" ({self.rows} row{'s' if self.rows != 1 else ''}"
            text += f"; e.g. {', '.join(self.sample)})" if self.sample else ")"
        return text


def rules_for(src: Source, parameters: Mapping[str, object] | None = None,
              conversions: Mapping[str, contract_types.Conversion] | Iterable[str] = ()) -> list[Rule]:
    """Every rule of data-contract.md that applies to ``src``; ``conversions``: the columns
    the scan reads with a check that their values convert (:mod:`.contract_types`)."""
    params = parameters or {}
    out: list[Rule] = [Rule(src.name, column, message, predicate)
                       for column, message, predicate in contract_types.conversion_rules(src, conversions)]
    live = "(ended_at IS NULL OR ended_at <> started_at)" if src.name == "subscriptions" else "TRUE"
    for col in src.columns:
        if col.type == "TIMESTAMP" and not col.nullable:
            out.append(Rule(src.name, col.name, "is NULL; the contract requires a timestamp", f"{col.name} IS NULL"))
        elif col.type.startswith(("DECIMAL", "DOUBLE")) and not col.nullable and col.name != "score":
            # a NULL amount would drop out of every sum yet count in every count (survey scores: below)
            out.append(Rule(src.name, col.name, "is NULL; the contract requires a number",
                            f"{live} AND {col.name} IS NULL"))
    if src.key:
        cols = ", ".join(src.key)
        out.append(Rule(src.name, cols, f"duplicate key ({cols})",
                        f"{live} AND COUNT(*) OVER (PARTITION BY {cols}) > 1"))
    for money in ("mrr", "amount"):
        if money in src.column_names:
            out.append(Rule(src.name, money, f"negative {money}", f"{live} AND {money} < 0"))
    if src.name == "subscriptions":
        out.append(Rule(src.name, "ended_at", "ended_at is before started_at", "ended_at < started_at"))
        out.append(Rule(
            src.name, "started_at", "overlaps an earlier row of the same subscription_id",
            f"{live} AND started_at < MAX(CASE WHEN ended_at IS NULL OR ended_at <> started_at "
            f"THEN COALESCE(ended_at, {_FAR}) END) OVER (PARTITION BY subscription_id ORDER BY started_at "
            "ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)",
        ))
    if src.name == "survey_responses":
        csat = params.get("csat_scale", (1, 5))
        ces = params.get("ces_scale", (1, 7))
        for survey, (lo, hi) in (("nps", (0, 10)), ("csat", tuple(csat)), ("ces", tuple(ces))):
            # score <> score: a NaN, which compares false with every number on BigQuery
            out.append(Rule(src.name, "score", f"{survey} score outside {lo:g}–{hi:g} (or NULL)",
                            "survey = :survey AND (score IS NULL OR score < :lo OR score > :hi OR score <> score)",
                            {"survey": survey, "lo": float(lo), "hi": float(hi)}))
    out += _not_null_rules(src, live)
    out += _contradiction_rules(src)
    return _once_per_value(out, conversions)


def _not_null_rules(src: Source, live: str) -> list[Rule]:
    """NULL in a column the contract marks NOT NULL, of the types the loop above leaves:
    keys, customer columns, text, booleans (a NULL ``renewed`` would count as not renewed,
    a NULL ``customer_id`` as one more customer)."""
    out = []
    for col in src.columns:
        if col.nullable or col.type == "TIMESTAMP" or col.type.startswith(("DECIMAL", "DOUBLE")):
            continue  # NULL allowed; timestamps and numbers are checked above
        if col.name == src.customer_column:
            what = "every row needs its customer"
        elif col.name in src.key:
            what = "the contract requires a key"
        elif col.type == "BOOLEAN":
            what = "the contract requires true or false"
        else:
            what = "the contract requires a value"
        out.append(Rule(src.name, col.name, f"{col.name} is NULL; {what}", f"{live} AND {col.name} IS NULL"))
    return out


def _contradiction_rules(src: Source) -> list[Rule]:
    """Rows that contradict themselves (data-contract.md "Bad data"): they would give a
    negative duration or an impossible ratio."""
    out = []
    if src.name == "tickets":
        for col in ("first_response_at", "resolved_at"):
            out.append(Rule(src.name, col, f"{col} is before created_at", f"{col} < created_at"))
        # contacts is "nullable while open": a resolved ticket with none would not count at the first contact
        out.append(Rule(src.name, "contacts", "contacts is NULL on a resolved ticket",
                        "resolved_at IS NOT NULL AND contacts IS NULL"))
    if src.name == "trials":
        out.append(Rule(src.name, "converted_at", "converted_at is before started_at", "converted_at < started_at"))
    if src.name == "renewals":
        out.append(Rule(src.name, "renewed_value", "renewed is false but renewed_value > 0",
                        "renewed = FALSE AND renewed_value > 0"))
        for col in ("value_up", "renewed_value"):
            out.append(Rule(src.name, col, f"negative {col}", f"{col} < 0"))
    return out


def _once_per_value(rules: list[Rule], conversions: Mapping[str, object] | Iterable[str]) -> list[Rule]:
    """A value that does not convert is reported by its "does not convert" rule only: the
    other rules of its column (it reads as NULL) leave that row alone."""
    checked = set(conversions)
    out = []
    for rule in rules:
        if rule.name in checked and not rule.message.startswith(contract_types.NOT_CONVERTING):
            raw = contract_types.raw_name(rule.name)
            rule = attrs.evolve(rule, predicate=f"({rule.predicate}) AND ({raw} IS NULL OR {rule.name} IS NOT NULL)")
        out.append(rule)
    return out


def _flags(scan: exp.Select, rules: list[Rule]) -> exp.Select:
    flagged = exp.select(exp.Star()).from_(scan.subquery("s"))
    for i, rule in enumerate(rules):
        tree = bind_placeholders(sqlglot.parse_one(rule.predicate), rule.bindings)
        pred = exp.Coalesce(this=exp.paren(tree), expressions=[exp.false()])
        flagged = flagged.select(exp.alias_(exp.Case().when(pred, exp.Literal.number(1)).else_(exp.Literal.number(0)), f"bad_{i}"))
    return flagged


def flagged_query(scan: exp.Select, rules: list[Rule]) -> exp.Select:
    """The scan with one 0/1 column ``bad_<i>`` per rule."""
    return _flags(scan, rules)


def count_query(scan: exp.Select, rules: list[Rule]) -> exp.Select:
    """One row: the number of offending rows of each rule, then the number of rows (``n_rows``)."""
    flagged = _flags(scan, rules).subquery("f")
    return exp.select(*[exp.alias_(exp.Sum(this=exp.column(f"bad_{i}")), f"n_{i}") for i in range(len(rules))],
                      exp.alias_(exp.Count(this=exp.Star()), "n_rows")).from_(flagged)


def counts_of_all(counts: Sequence[exp.Select]) -> exp.Select:
    """One row holding every row of ``counts`` (each a :func:`count_query`: one row), side by
    side as ``c<i>_<j>``: the data checks of all a run's sources in one round trip (on an engine
    that answers each query in a second, as BigQuery does, a run over twelve sources waited for
    twelve). Split it back with :func:`split_counts`."""
    out = exp.select(*[exp.alias_(exp.column(name, table=f"c{i}"), f"c{i}_{j}")
                       for i, q in enumerate(counts) for j, name in enumerate(q.named_selects)])
    out = out.from_(counts[0].subquery("c0"))
    for i, q in enumerate(counts[1:], start=1):
        out = out.join(q.subquery(f"c{i}"), join_type="cross")
    return out


def split_counts(counts: Sequence[exp.Select], row: Sequence[object]) -> list[tuple[object, ...]]:
    """The row of :func:`counts_of_all` cut back into each count query's own row."""
    out, at = [], 0
    for q in counts:
        width = len(q.named_selects)
        out.append(tuple(row[at:at + width]))
        at += width
    return out


def sample_query(scan: exp.Select, rules: list[Rule], index: int, src: Source, limit: int = 5) -> exp.Select:
    """Up to ``limit`` offending rows of rule ``index``, their key columns only (a key column
    read with a conversion check shows its raw value: it may be what does not convert)."""
    cols = list(src.key) or list(src.column_names[:2])
    names = set(scan.named_selects)
    shown = [exp.alias_(exp.column(contract_types.raw_name(c)), c) if contract_types.raw_name(c) in names
             else exp.column(c) for c in cols]
    flagged = _flags(scan, rules).subquery("f")
    return (exp.select(*shown).from_(flagged).where(exp.EQ(this=exp.column(f"bad_{index}"), expression=exp.Literal.number(1)))
            .order_by(*[exp.Literal.number(i + 1) for i in range(len(cols))]).limit(limit))


def lenient_filter(parameters: Mapping[str, object] | None = None):
    """For ``--lenient``: wrap a source scan so that flagged rows are left out."""

    def wrap(scan: exp.Select, src: Source) -> exp.Select:
        checked = [n.removeprefix(contract_types.raw_name("")) for n in scan.named_selects if contract_types.is_raw(n)]
        rules = rules_for(src, parameters, checked)
        if not rules:
            return scan
        flagged = _flags(scan, rules).subquery("f")
        keep = exp.and_(*[exp.EQ(this=exp.column(f"bad_{i}"), expression=exp.Literal.number(0)) for i in range(len(rules))])
        return exp.select(*[exp.column(c) for c in scan.named_selects]).from_(flagged).where(keep)

    return wrap
