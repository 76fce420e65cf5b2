"""Write-back (``compute --target TABLE``): the target table's schema, its rows, and the
dialect-neutral statements adapters run to replace a run's keys in one transaction.

The target table (created when absent)::

    metric           text       not null   key
    variant          text       not null   key
    grain            text       not null   key: day, week, month, quarter or year, a custom
                                           calendar's grain (retail_month); with --window,
                                           the grain and the window: day/30d, month/3m
    period_start     date       not null   key
    period_end       date       not null
    dimensions       text       not null   key: a JSON object, keys sorted, no spaces
                                           ({"segment":"smb"}; "{}" without dimensions)
    value            double                NULL when the metric has no value
    unit             text       not null
    computed_at      timestamp  not null   UTC (naive, like every csframe timestamp)
    fingerprint      text       not null   the definition's fingerprint (fingerprint.py)
    csframe_version  text       not null
    PRIMARY KEY (metric, variant, grain, period_start, dimensions)

An adapter's ``write_results(table, columns, rows, keys)`` replaces, in one transaction,
every row whose key a run computed: it deletes the rows whose ``keys`` match a new row,
then inserts the new rows (:func:`delete_matching` and :func:`insert_from` over a staging
table), so a re-run never duplicates or drops a row and a failure leaves the old rows.
Where one statement must do both (BigQuery, whose DML statements are each their own
transaction), :func:`merge_replacing` is the same replacement as one ``MERGE``.

Before anything is computed, an adapter's ``check_target`` refuses a target it could not
write (a usage error, exit 2): a schema (dataset) that does not exist, or an existing table of
another shape (:func:`check_shape`: a documented column missing or of another type family, a
NOT NULL ``value``, an extra NOT NULL column without a default). ``write_results`` checks
again inside its transaction. :func:`retry_conflicts` sends a replacement again when it lost
to a concurrent one (BigQuery's concurrent-update errors, DuckDB's write-write conflicts).
"""

from __future__ import annotations

__all__ = [
    "TARGET_COLUMNS",
    "TARGET_KEY",
    "FAMILIES",
    "CONFLICT_HINT",
    "ExistingColumn",
    "check_shape",
    "missing_schema",
    "retry_conflicts",
    "target_table",
    "target_rows",
    "target_grain",
    "dimensions_json",
    "create_table",
    "delete_matching",
    "insert_from",
    "merge_replacing",
    "fingerprints_query",
    "csframe_version",
    "UNCOMMITTED",
    "write_stage",
    "stage_calls",
]

import contextlib
import contextvars
import datetime as dt
import decimal
import json
import re
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, TypeVar

import attrs
from sqlglot import exp

from .errors import EngineUnavailableError, MetricFailedError, RunTimeoutError, UsageError
from .retry import RetryPolicy, retry

T = TypeVar("T")

TARGET_COLUMNS: tuple[tuple[str, str], ...] = (
    ("metric", "VARCHAR"),
    ("variant", "VARCHAR"),
    ("grain", "VARCHAR"),
    ("period_start", "DATE"),
    ("period_end", "DATE"),
    ("dimensions", "VARCHAR"),
    ("value", "DOUBLE"),
    ("unit", "VARCHAR"),
    ("computed_at", "TIMESTAMP"),
    ("fingerprint", "VARCHAR"),
    ("csframe_version", "VARCHAR"),
)
TARGET_KEY: tuple[str, ...] = ("metric", "variant", "grain", "period_start", "dimensions")
_NULLABLE = {"value"}
# The type family of each neutral type: an existing column of the family takes the values as
# they are (an adapter maps its engine's types to families; e.g. DuckDB's FLOAT and DOUBLE are
# both "floating", PostgreSQL's text and varchar both "text").
FAMILIES: dict[str, str] = {"VARCHAR": "text", "DATE": "date", "DOUBLE": "floating", "TIMESTAMP": "timestamp"}
_PART = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]*$")
_CATALOG = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")  # a BigQuery project id may have hyphens: my-project
UNCOMMITTED = "uncommitted"  # the stage of csframe_write_stage (hookspecs.py) the adapters report
_STAGE_CALL: contextvars.ContextVar[Callable[[str], None] | None] = contextvars.ContextVar("csframe_write_stage",
                                                                                         default=None)


def _ident(name: str) -> exp.Identifier:
    return exp.to_identifier(name, quoted=True)


def target_table(name: str, flag: str = "--target") -> exp.Table:
    """``table``, ``schema.table`` or ``catalog.schema.table`` as a table whose every part is
    a quoted identifier. Parts are plain names (letters, digits, ``_``, ``$``; a catalog, e.g.
    a BigQuery project id, may also have ``-``): anything else is a usage error, so nothing
    typed after ``--target`` can change a statement's shape."""
    parts = name.split(".") if isinstance(name, str) else []
    ok = 1 <= len(parts) <= 3 and all(_PART.match(p) for p in parts[-2:])
    if not ok or (len(parts) == 3 and not _CATALOG.match(parts[0])):
        raise UsageError(
            f"{flag} {name!r} is not a table name",
            hint="Write TABLE, SCHEMA.TABLE or CATALOG.SCHEMA.TABLE with letters, digits and _ "
                 "(and - in a CATALOG, e.g. a BigQuery project id; names are used as written, quoted).",
        )
    parts = list(reversed(parts)) + [None, None]
    return exp.Table(this=_ident(parts[0]),
                     db=_ident(parts[1]) if parts[1] else None,
                     catalog=_ident(parts[2]) if parts[2] else None)


def _canonical(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    return str(value)


def dimensions_json(dimensions: Mapping[str, Any]) -> str:
    """The canonical text of a row's dimensions: a JSON object with sorted keys, no spaces."""
    return json.dumps({k: _canonical(v) for k, v in dimensions.items()}, sort_keys=True,
                      separators=(",", ":"), ensure_ascii=False)


def csframe_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("csframe")
    except PackageNotFoundError:  # run from a source tree
        return "unknown"


def target_grain(grain: Any, window: Any = None) -> str:
    """The ``grain`` key of a run's rows: the grain's name; with ``--window``, the grain and the
    window's length in that grain's unit (``day/30d``, ``week/13w``, ``month/3m``,
    ``quarter/12m``), one spelling per window (``--window 4w`` at day grain is ``day/28d``).

    A window's row ends where a plain row of the grain ends but starts earlier, so it must not
    share a plain row's key: keyed by ``period_start`` alone, the 30-day window starting June 1
    would replace the plain day June 1 (and the other way round)."""
    if window is None:
        return grain.name
    if grain.days == 7:
        return f"{grain.name}/{window.periods}w"
    if grain.days:
        return f"{grain.name}/{window.periods * grain.days}d"
    return f"{grain.name}/{window.periods * grain.months}m"


def target_rows(result: Any, computed_at: dt.datetime | None = None, version: str | None = None,
                grain: str | None = None) -> list[tuple]:
    """The rows of ``result`` in the target table's column order (TARGET_COLUMNS); ``grain``:
    the rows' ``grain`` key (:func:`target_grain`; default: the result's grain)."""
    computed_at = computed_at or dt.datetime.now(dt.UTC)
    if computed_at.tzinfo is not None:
        computed_at = computed_at.astimezone(dt.UTC).replace(tzinfo=None)
    version = version or csframe_version()
    cols = result.columns
    i_metric, i_variant = cols.index("metric"), cols.index("variant")
    i_start, i_end, i_value = cols.index("period_start"), cols.index("period_end"), cols.index("value")
    dim_index = {c: cols.index(c) for c in cols if c not in ("metric", "variant", "period_start", "period_end", "value")}
    out = []
    for row in result.rows:
        key = (row[i_metric], row[i_variant])
        dims = {d: row[dim_index[d]] for d in result.dimension_keys.get(key, ())}
        out.append((key[0], key[1], grain or result.grain, row[i_start], row[i_end], dimensions_json(dims), row[i_value],
                    result.units.get(key), computed_at, result.fingerprints.get(key, ""), version))
    return out


# -- an existing target table ------------------------------------------------------------------

@attrs.frozen
class ExistingColumn:
    """A column of an existing table, as an adapter read it from its engine's catalog.

    ``name`` as the engine matches it (folded to lower case where names are case-insensitive),
    ``type`` as the engine spells it (for messages), ``family`` its :data:`FAMILIES` family
    (None: none of them), ``nullable`` whether it takes NULL, ``filled`` whether the engine
    fills it when an INSERT leaves it out (a default, an identity or generated column)."""

    name: str
    type: str
    family: str | None
    nullable: bool = True
    filled: bool = False


def check_shape(name: str, existing: Sequence[ExistingColumn], columns: Sequence[tuple[str, str]],
                spelled: Callable[[str], str] = str) -> None:
    """Refuse (UsageError, exit 2) an existing table ``name`` that cannot hold csframe's rows:
    a column of ``columns`` missing or of another type family, ``value`` NOT NULL, or another
    column that is NOT NULL and has no default. Every problem is named at once, each column
    with its type and the expected one (``spelled(neutral type)``: the engine's spelling)."""
    have = {c.name: c for c in existing}
    wanted = {n for n, _ in columns}
    problems: list[str] = []
    missing = [f"{n} ({spelled(t)})" for n, t in columns if n not in have]
    if missing:
        problems.append(f"no column {', '.join(missing)}")
    for n, t in columns:
        c = have.get(n)
        if c is None:
            continue
        if c.family != FAMILIES[t]:
            problems.append(f"column {n} is {c.type}, expected {spelled(t)}")
        if n in _NULLABLE and not c.nullable:
            problems.append(f"column {n} is NOT NULL, but csframe writes NULL there when a metric has no value")
    for c in existing:
        if c.name not in wanted and not c.nullable and not c.filled:
            problems.append(f"column {c.name} ({c.type}) is NOT NULL without a default: csframe's rows have no "
                            "value for it")
    if problems:
        raise UsageError(
            f"--target {name}: the table exists but is not a csframe result table: " + "; ".join(problems),
            hint="Name another table (csframe creates it), drop this one, or alter the columns named above to the "
                 "documented ones (docs/write-back.md). Nothing was written.")


def missing_schema(name: str, what: str, create: str) -> UsageError:
    """The usage error of a target whose schema (``what``: "schema s", "dataset p.d") does not
    exist: csframe creates tables, never schemas. ``create`` says how to make it."""
    return UsageError(f"--target {name}: {what} does not exist (csframe creates the table, not its {what.split()[0]})",
                      hint=f"Create it first ({create}), or name a table in an existing {what.split()[0]}.")


CONFLICT_HINT = ("Another run was replacing rows of the same table. Nothing was written; the table holds what it "
                 "held before. Run it again.")


class _Conflict(EngineUnavailableError):
    """A replacement that lost to a concurrent one: transient, for :func:`~csframe.core.retry.retry`."""


def retry_conflicts(run: Callable[[], T], is_conflict: Callable[[MetricFailedError], bool], policy: RetryPolicy,
                    deadline: Any = None, sleep: Callable[[float], None] = time.sleep) -> T:
    """``run()`` (one whole replacement of a run's keys, which changes nothing when it fails),
    tried again while it fails with an error ``is_conflict`` calls a conflict with a concurrent
    writer, at most ``policy.retries`` times and never past ``deadline``; then a
    MetricFailedError (exit 1) saying so. Other errors pass through."""
    def attempt() -> T:
        try:
            return run()
        except MetricFailedError as e:
            if isinstance(e, RunTimeoutError) or not is_conflict(e):
                raise
            raise _Conflict(e.message, transient=True) from None

    try:
        return retry(attempt, policy, deadline=deadline, sleep=sleep)
    except _Conflict as e:
        raise MetricFailedError(e.message, hint=CONFLICT_HINT) from None


# -- statements, dialect-neutral trees ------------------------------------------------------

def create_table(table: exp.Table, columns: Sequence[tuple[str, str]] = TARGET_COLUMNS,
                 keys: Sequence[str] = TARGET_KEY, *, primary_key: bool = True) -> exp.Create:
    """``CREATE TABLE IF NOT EXISTS table (columns…, PRIMARY KEY (keys…))``."""
    defs: list[exp.Expression] = []
    for name, type_ in columns:
        constraints = [] if name in _NULLABLE else [exp.ColumnConstraint(kind=exp.NotNullColumnConstraint())]
        defs.append(exp.ColumnDef(this=_ident(name), kind=exp.DataType.build(type_), constraints=constraints))
    if primary_key:
        defs.append(exp.PrimaryKey(expressions=[_ident(k) for k in keys]))
    return exp.Create(this=exp.Schema(this=table.copy(), expressions=defs), kind="TABLE", exists=True)


def delete_matching(table: exp.Table, staging: exp.Table, keys: Sequence[str] = TARGET_KEY) -> exp.Delete:
    """``DELETE FROM table AS t WHERE EXISTS (SELECT 1 FROM staging AS s WHERE s.k = t.k …)``:
    the rows of ``table`` whose key a new row has (every key column is NOT NULL)."""
    cond = exp.and_(*[exp.EQ(this=exp.column(_ident(k), table=_ident("s")), expression=exp.column(_ident(k), table=_ident("t")))
                      for k in keys])
    sub = exp.select(exp.Literal.number(1)).from_(staging.copy().as_("s")).where(cond)
    return exp.Delete(this=table.copy().as_("t"), where=exp.Where(this=exp.Exists(this=sub)))


def insert_from(table: exp.Table, staging: exp.Table, columns: Sequence[tuple[str, str]] = TARGET_COLUMNS) -> exp.Insert:
    """``INSERT INTO table (columns…) SELECT columns… FROM staging``."""
    names = [_ident(n) for n, _ in columns]
    select = exp.select(*[exp.column(n.copy()) for n in names]).from_(staging.copy())
    return exp.Insert(this=exp.Schema(this=table.copy(), expressions=[n.copy() for n in names]), expression=select)


MATCH_FLAG = "_csframe_match"


def merge_replacing(table: exp.Table, staging: exp.Table, columns: Sequence[tuple[str, str]] = TARGET_COLUMNS,
                    keys: Sequence[str] = TARGET_KEY) -> exp.Merge:
    """One ``MERGE`` doing what :func:`delete_matching` then :func:`insert_from` do::

        MERGE table AS t
        USING (SELECT columns…, TRUE AS _csframe_match FROM staging
               UNION ALL
               SELECT columns…, FALSE AS _csframe_match FROM staging) AS s
        ON s._csframe_match AND t.k = s.k …            -- every key column
        WHEN MATCHED THEN DELETE
        WHEN NOT MATCHED AND NOT s._csframe_match THEN INSERT (columns…) VALUES (s.columns…)

    Each staged row comes twice: as a matcher, which deletes every row of ``table`` with its
    key (however many there are), and as a row to insert, which never matches. No subquery
    sits in a WHEN clause (BigQuery refuses correlated ones there). The staged keys must be
    unique: two staged rows of one key would both be inserted."""
    names = [n for n, _ in columns]
    t, s = _ident("t"), _ident("s")

    def half(flag: bool) -> exp.Select:
        return exp.select(*[exp.column(_ident(n)) for n in names],
                          exp.alias_(exp.Boolean(this=flag), _ident(MATCH_FLAG))).from_(staging.copy())

    source = exp.union(half(True), half(False), distinct=False).subquery(s.copy())
    on = exp.and_(exp.column(_ident(MATCH_FLAG), table=s.copy()),
                  *[exp.EQ(this=exp.column(_ident(k), table=t.copy()), expression=exp.column(_ident(k), table=s.copy()))
                    for k in keys])
    insert = exp.Insert(this=exp.Tuple(expressions=[exp.column(_ident(n)) for n in names]),
                        expression=exp.Tuple(expressions=[exp.column(_ident(n), table=s.copy()) for n in names]))
    whens = exp.Whens(expressions=[
        exp.When(matched=True, source=False, then=exp.var("DELETE")),
        exp.When(matched=False, source=False, condition=exp.not_(exp.column(_ident(MATCH_FLAG), table=s.copy())),
                 then=insert),
    ])
    target = table.copy()
    target.set("alias", exp.TableAlias(this=t.copy()))
    return exp.Merge(this=target, using=source, on=on, whens=whens)


def fingerprints_query(table: exp.Table) -> exp.Select:
    """Per metric variant of a target table: its latest fingerprint, when it was computed, the
    grain key of that latest row (its fingerprint may hold a custom grain's periods), and how
    many rows carry another fingerprint (computed with another definition or calendar)."""
    latest_cols = ("metric", "variant", "fingerprint", "computed_at", "grain")
    ranked = exp.select(
        *[exp.column(c) for c in latest_cols],
        exp.alias_(exp.Window(this=exp.RowNumber(), partition_by=[exp.column("metric"), exp.column("variant")],
                              order=exp.Order(expressions=[exp.Ordered(this=exp.column("computed_at"), desc=True),
                                                           exp.Ordered(this=exp.column("fingerprint")),
                                                           exp.Ordered(this=exp.column("grain"))])), "rn"),
    ).from_(table.copy())
    latest = exp.select(*[exp.column(c) for c in latest_cols]).from_(ranked.subquery("r")).where(
        exp.EQ(this=exp.column("rn"), expression=exp.Literal.number(1)))
    stale = exp.Sum(this=exp.Case(ifs=[exp.If(this=exp.NEQ(this=exp.column("fingerprint", table="a"),
                                                           expression=exp.column("fingerprint", table="l")),
                                              true=exp.Literal.number(1))], default=exp.Literal.number(0)))
    return (exp.select(*[exp.column(c, table="l") for c in latest_cols],
                       exp.alias_(stale, "other_rows"), exp.alias_(exp.Count(this=exp.Star()), "all_rows"))
            .from_(latest.subquery("l"))
            .join(table.copy().as_("a"), on=exp.and_(
                exp.EQ(this=exp.column("metric", table="a"), expression=exp.column("metric", table="l")),
                exp.EQ(this=exp.column("variant", table="a"), expression=exp.column("variant", table="l"))))
            .group_by(*[exp.column(c, table="l") for c in latest_cols])
            .order_by(exp.column("metric", table="l"), exp.column("variant", table="l")))


def write_stage(stage: str) -> None:
    """Report that the write of this run has reached ``stage`` (:data:`UNCOMMITTED`: an
    adapter calls this between the delete and the insert of its write, inside its
    transaction; BigQuery: with the rows staged, before the MERGE). The run turns it into the
    ``csframe_write_stage`` hook (:func:`stage_calls`); outside a run it does nothing."""
    call = _STAGE_CALL.get()
    if call is not None:
        call(stage)


@contextlib.contextmanager
def stage_calls(call: Callable[[str], None]) -> Iterator[None]:
    """Within the block (this thread or task), :func:`write_stage` calls ``call(stage)``."""
    token = _STAGE_CALL.set(call)
    try:
        yield
    finally:
        _STAGE_CALL.reset(token)
