"""csframe's pytest plugin: test a metric on every engine from a few rows written in the test.

    EVENTS = '''
    user_id | customer_id | name    | occurred_at
    u1      | c1          | meeting | 2024-01-30 09:00
    u1      | c1          | meeting | 2024-01-31 10:00
    '''

    def test_engaged_agents(csframe_case):
        csframe_case(rows={"events": EVENTS}, metric="engaged_agents", period="2024-01-01", expected=1)

Each test that uses ``csframe_case`` runs once per engine — ``test_engaged_agents[duckdb]``,
``test_engaged_agents[postgres]``, and ``[bigquery]`` when an emulator is configured. The rows
become the canonical sources (typed by the data contract) in a namespace of the test's own — a
DuckDB file in ``tmp_path``, a PostgreSQL schema, a BigQuery dataset — which is dropped after
the test; the metric is computed through the whole pipeline and its value in the period
starting ``period`` must equal ``expected`` (``None`` for NULL; relative tolerance 1e-9, as a
declared :class:`~csframe.core.models.Example`). The installed ``csframe`` plugins are loaded,
so a plugin package tests itself once it is ``pip install -e``-ed.

Rows are given per source as a text table (``|``- or comma-separated, first line the header,
an empty cell or ``NULL`` is NULL, a ``#`` at the start of a line or after a space begins a
comment), a list of dicts, a
``(columns, tuples)`` pair, or a CSV file; or the whole ``rows`` is a ``.toml``/``.json``/
``.yaml`` file or a directory of ``<source>.csv`` files (relative paths are relative to the
test file). Values are converted to the contract's column types (``"2024-01-31 10:00"`` is a
timestamp), extra columns (``--by`` dimensions of customers) are typed from their values, a
missing id column (``subscription_id``, ``invoice_id``, …) is numbered, an optional column left
out takes its contract default, and a column ``_repeat`` repeats a row that many times with
``{i}`` in its text replaced by 0, 1, …

Engines: ``--csframe-engines=duckdb,postgres`` or ``CSFRAME_TEST_ENGINES``; by default DuckDB and
PostgreSQL, plus BigQuery when ``CSFRAME_TEST_BIGQUERY_ENDPOINT`` is set (an emulator's URL;
project ``CSFRAME_TEST_BIGQUERY_PROJECT``, default ``test-project``). PostgreSQL is a real
server: ``CSFRAME_TEST_PG_DSN``, default ``host=127.0.0.1 port=5432 user=postgres
dbname=postgres``. An engine that cannot be reached skips its tests, or fails them when it was
asked for by name or under ``CI=true``. ``@pytest.mark.csframe_engines("duckdb")`` keeps one test
to some engines. Override the fixtures ``csframe_pg_dsn`` / ``csframe_bigquery_endpoint`` in a
conftest to provide servers another way, and implement the hook ``pytest_csframe_default_engines``
there to change the default engines of its directory's tests (e.g. add ``bigquery`` when the
conftest starts an emulator itself).

This module imports pytest and is loaded by pytest only (``-p csframe.core.testing``, or the
``pytest11`` entry point); nothing here runs at import.
"""

from __future__ import annotations

__all__ = [
    "ENGINES", "RowsError", "Column", "Table", "Dataset", "load_rows", "Case",
    "csframe_engine", "csframe_case", "csframe_pg_dsn", "csframe_bigquery_endpoint",
]

import csv
import datetime as dt
import decimal
import json
import os
import re
import tomllib
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs
import pytest

from .contract import SOURCES, source
from .errors import MetricFailedError, did_you_mean
from .examples import within
from .periods import floor, shift
from .periods import grain as to_grain
from .project import Project, SourceBinding
from .render import dialect_profile
from .verify import ExampleOutcome, explain_failure, run_examples

ENGINES = ("duckdb", "postgres", "bigquery")
ENGINES_ENV = "CSFRAME_TEST_ENGINES"
PG_DSN_ENV = "CSFRAME_TEST_PG_DSN"
PG_DEFAULT_DSN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
BQ_ENDPOINT_ENV = "CSFRAME_TEST_BIGQUERY_ENDPOINT"
BQ_PROJECT_ENV = "CSFRAME_TEST_BIGQUERY_PROJECT"
BQ_DEFAULT_PROJECT = "test-project"
SHOW_SQL_ENV = "CSFRAME_TEST_SHOW_SQL"
REPEAT = "_repeat"


# == rows → tables ==================================================================================

class RowsError(ValueError):
    """Rows a test gives that cannot become a canonical source."""


@attrs.frozen
class Column:
    name: str
    type: str


@attrs.frozen
class Table:
    """One source's rows, typed (the shape every adapter's ``load_tables`` takes)."""

    name: str
    columns: tuple[Column, ...]
    rows: list[tuple[Any, ...]]

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)


@attrs.frozen
class Dataset:
    tables: tuple[Table, ...]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(t.name for t in self.tables)

    def table(self, name: str) -> Table:
        for t in self.tables:
            if t.name == name:
                return t
        raise KeyError(name)


_FILES = (".csv", ".toml", ".json", ".yaml", ".yml")
_SEPARATOR = re.compile(r"^\|?[\s:|+-]*-[\s:|+-]*\|?$")  # a markdown table's |---|---| line
_COMMENT = re.compile(r"(^|\s)#.*$")  # a '#' at the start or after a space: the rest of the line is a comment
_NULLS = {"", "NULL", "null"}
_AUTO_ID = {s.name: s.key[0] for s in SOURCES if s.key and s.key[0].endswith("_id") and s.key[0] != s.customer_column}
_TRUE = {"true", "t", "yes", "y", "1"}
_FALSE = {"false", "f", "no", "n", "0"}


def _cell(text: str) -> str | None:
    text = text.strip()
    return None if text in _NULLS else text


def _text_table(text: str, where: str) -> list[dict[str, Any]]:
    lines = [_COMMENT.sub("", ln).strip() for ln in text.splitlines()]
    lines = [ln for ln in lines if ln and not _SEPARATOR.match(ln)]
    if not lines:
        return []
    if "|" in lines[0]:
        left, right = lines[0].startswith("|"), lines[0].endswith("|")  # a border is the header's

        def cells(line: str) -> list[str]:
            line = line[1:] if left and line.startswith("|") else line
            line = line[:-1] if right and line.endswith("|") else line
            return line.split("|")
        parsed = [cells(ln) for ln in lines]
    else:
        parsed = list(csv.reader(lines, skipinitialspace=True))
    header = [h.strip() for h in parsed[0]]
    out = []
    for n, cells_ in enumerate(parsed[1:], 2):
        if len(cells_) != len(header):
            raise RowsError(f"{where}, line {n}: {len(cells_)} cells for {len(header)} columns ({', '.join(header)})")
        out.append({h: _cell(c) for h, c in zip(header, cells_)})
    return out


def _csv_records(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        raise RowsError(f"rows: no file {path}")
    with path.open(encoding="utf-8", newline="") as f:
        return [{k.strip(): _cell(v or "") for k, v in r.items()} for r in csv.DictReader(f, skipinitialspace=True)]


def _read_file(path: Path) -> dict[str, Any]:
    """source → raw rows, from a .toml/.json/.yaml file, a <source>.csv, or a directory of them."""
    if path.is_dir():
        out: dict[str, Any] = {}
        for child in sorted(path.iterdir()):
            if child.suffix.lower() in _FILES:
                out.update(_read_file(child))
        return out
    if not path.is_file():
        raise RowsError(f"rows: no file {path}")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return {path.stem: _csv_records(path)}
    text = path.read_text(encoding="utf-8")
    if suffix == ".toml":
        data = tomllib.loads(text)
    elif suffix == ".json":
        data = json.loads(text)
    elif suffix in (".yaml", ".yml"):
        try:
            import yaml
        except ImportError:
            raise RowsError(f"rows: reading {path.name} needs PyYAML (pip install pyyaml); TOML, JSON and CSV need nothing") from None
        data = yaml.safe_load(text)
    else:
        raise RowsError(f"rows: cannot read {path.name}; use {', '.join(_FILES)} or a directory of <source>.csv")
    if not isinstance(data, Mapping):
        raise RowsError(f"rows: {path.name} must map source names to rows")
    return dict(data)


def _records(name: str, data: Any, base_dir: Path | None) -> list[dict[str, Any]]:
    where = f"rows of {name}"
    if isinstance(data, os.PathLike) or (isinstance(data, str) and "\n" not in data and data.strip().lower().endswith(_FILES)):
        path = _resolve(data, base_dir)
        if path.suffix.lower() != ".csv":
            raise RowsError(f"{where}: {path.name}: a file for one source is a .csv; pass .toml/.json/.yaml as the whole rows")
        return _csv_records(path)
    if isinstance(data, str):
        return _text_table(data, where)
    if isinstance(data, tuple) and len(data) == 2 and all(isinstance(c, str) for c in data[0]):
        columns = list(data[0])
        out = []
        for n, row in enumerate(data[1], 1):
            if len(row) != len(columns):
                raise RowsError(f"{where}, row {n}: {len(row)} values for {len(columns)} columns")
            out.append(dict(zip(columns, row)))
        return out
    if isinstance(data, Iterable) and not isinstance(data, (bytes, Mapping)):
        out = []
        for n, row in enumerate(data, 1):
            if not isinstance(row, Mapping):
                raise RowsError(f"{where}, row {n}: a row is a dict of column → value, not {type(row).__name__}")
            out.append(dict(row))
        return out
    raise RowsError(f"{where}: give a text table, a list of dicts, (columns, rows) or a .csv file")


def _resolve(path: str | os.PathLike, base_dir: Path | None) -> Path:
    p = Path(path)
    return p if p.is_absolute() or base_dir is None else base_dir / p


def _utc_naive(v: dt.datetime) -> dt.datetime:
    return v.astimezone(dt.UTC).replace(tzinfo=None) if v.tzinfo is not None else v


def _coerce(value: Any, type_: str, where: str) -> Any:
    if value is None:
        return None
    kind = type_.split("(")[0].strip().upper()
    try:
        if kind == "VARCHAR":
            return value if isinstance(value, str) else str(value)
        if kind == "TIMESTAMP":
            if isinstance(value, dt.datetime):
                return _utc_naive(value)
            if isinstance(value, dt.date):
                return dt.datetime(value.year, value.month, value.day)
            if isinstance(value, str):
                return _utc_naive(dt.datetime.fromisoformat(value.strip()))
        elif kind == "DATE":
            if isinstance(value, dt.datetime):
                return _utc_naive(value).date()
            if isinstance(value, dt.date):
                return value
            if isinstance(value, str):
                return dt.datetime.fromisoformat(value.strip()).date()
        elif kind == "DECIMAL" and not isinstance(value, bool):
            return decimal.Decimal(str(value).strip())
        elif kind == "DOUBLE" and not isinstance(value, bool):
            return float(value)
        elif kind in ("BIGINT", "INTEGER") and not isinstance(value, bool):
            return int(value)
        elif kind == "BOOLEAN":
            if isinstance(value, bool):
                return value
            if isinstance(value, int) and value in (0, 1):
                return bool(value)
            if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
                return value.strip().lower() in _TRUE
    except (ValueError, TypeError, ArithmeticError):
        pass
    what = {"TIMESTAMP": "a timestamp (YYYY-MM-DD[ HH:MM[:SS]])", "DATE": "a date (YYYY-MM-DD)",
            "BOOLEAN": "a boolean (true/false)"}.get(kind, f"a {type_} value")
    raise RowsError(f"{where}: {value!r} is not {what}")


def _infer(values: list[Any]) -> str:
    kinds = {type(v) for v in values if v is not None}
    if not kinds or kinds <= {str}:
        return "VARCHAR"
    if kinds <= {bool}:
        return "BOOLEAN"
    if kinds <= {int}:
        return "BIGINT"
    if kinds <= {int, float}:
        return "DOUBLE"
    if kinds <= {int, decimal.Decimal}:
        return "DECIMAL(38, 9)"
    if kinds <= {dt.datetime}:
        return "TIMESTAMP"
    if kinds <= {dt.date}:
        return "DATE"
    return "VARCHAR"


def _expand(records: list[dict[str, Any]], where: str) -> list[dict[str, Any]]:
    out = []
    for n, record in enumerate(records, 1):
        if REPEAT not in record:
            out.append(record)
            continue
        record = dict(record)
        times = record.pop(REPEAT)
        try:
            times = int(times)
        except (TypeError, ValueError):
            raise RowsError(f"{where}, row {n}: {REPEAT} must be a whole number, not {times!r}") from None
        for i in range(times):
            out.append({k: v.replace("{i}", str(i)) if isinstance(v, str) else v for k, v in record.items()})
    return out


def _table(name: str, records: list[dict[str, Any]]) -> Table:
    names = [s.name for s in SOURCES]
    if name not in names:
        raise RowsError(f"rows: unknown source {name!r}.{did_you_mean(name, names)} Sources: {', '.join(names)}")
    src = source(name)
    where = f"rows of {name}"
    records = _expand(records, where)
    present = list(dict.fromkeys(k for r in records for k in r))
    columns: list[Column] = []
    generated = None
    for col in src.columns:
        if col.name in present or not records:
            if col.name in present or not col.optional:
                columns.append(Column(col.name, col.type))
        elif col.optional:
            continue  # left out: the data contract's default applies
        elif _AUTO_ID.get(name) == col.name:
            columns.append(Column(col.name, col.type))
            generated = col.name
        elif col.nullable:
            columns.append(Column(col.name, col.type))
        else:
            raise RowsError(f"{where}: no column {col.name} (the data contract's {name} has "
                            f"{', '.join(src.column_names)}; optional: "
                            f"{', '.join(c.name for c in src.columns if c.optional) or 'none'})")
    for extra in present:
        if extra not in src.column_names:
            columns.append(Column(extra, _infer([r.get(extra) for r in records])))
    rows = []
    for n, r in enumerate(records, 1):
        row = []
        for c in columns:
            value = f"{name}-{n}" if c.name == generated else r.get(c.name)
            row.append(_coerce(value, c.type, f"{where}, row {n}, column {c.name}"))
        rows.append(tuple(row))
    return Table(name, tuple(columns), rows)


def load_rows(rows: Mapping[str, Any] | str | os.PathLike, base_dir: str | os.PathLike | None = None) -> Dataset:
    """The typed tables of ``rows`` (see the module's docs for the forms it takes)."""
    base = Path(base_dir) if base_dir is not None else None
    if isinstance(rows, (str, os.PathLike)):
        raw = _read_file(_resolve(rows, base))
    elif isinstance(rows, Mapping):
        raw = dict(rows)
    else:
        raise RowsError(f"rows: give a dict of source → rows, or a file; not {type(rows).__name__}")
    order = {s.name: i for i, s in enumerate(SOURCES)}
    tables = [_table(name, _records(name, data, base)) for name, data in raw.items()]
    return Dataset(tuple(sorted(tables, key=lambda t: order.get(t.name, len(order)))))


# == engines ========================================================================================

def _selected(config: pytest.Config) -> tuple[list[str], bool]:
    """(engines, whether they were named by the user)."""
    text = config.getoption("csframe_engines", default=None) or os.environ.get(ENGINES_ENV)
    if text:
        names = list(dict.fromkeys(n.strip() for n in text.split(",") if n.strip()))
        unknown = [n for n in names if n not in ENGINES]
        if unknown:
            raise pytest.UsageError(f"csframe engines: unknown {', '.join(unknown)}; the test kit knows {', '.join(ENGINES)}")
        return names, True
    return ["duckdb", "postgres", *(["bigquery"] if os.environ.get(BQ_ENDPOINT_ENV) else [])], False


def _unavailable(config: pytest.Config, engine: str, message: str) -> None:
    names, explicit = _selected(config)
    if os.environ.get("CI") == "true" or (explicit and engine in names):
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def _dsn_where(dsn: str) -> str:
    """host:port of a DSN, never its password."""
    host = re.search(r"host=(\S+)", dsn) or re.search(r"@([^:/?]+)", dsn)
    port = re.search(r"port=(\d+)", dsn) or re.search(r"@[^:/?]+:(\d+)", dsn)
    return f"{host.group(1) if host else 'localhost'}:{port.group(1) if port else '5432'}"


def _pg_problem(dsn: str) -> str | None:
    try:
        import psycopg
    except ImportError:
        return "psycopg is not installed (pip install 'csframe[postgres]')"
    try:
        with psycopg.connect(dsn, connect_timeout=5):
            return None
    except psycopg.Error as e:
        return str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__


def _drop_pg_schema(dsn: str, schema: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(dsn, autocommit=True, connect_timeout=10) as con:
        con.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


def _drop_bq_dataset(project: str, dataset: str, endpoint: str) -> None:
    from google.api_core.client_options import ClientOptions
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import bigquery

    client = bigquery.Client(project=project, credentials=AnonymousCredentials(),
                             client_options=ClientOptions(api_endpoint=endpoint))
    try:
        client.delete_dataset(f"{project}.{dataset}", delete_contents=True, not_found_ok=True)
    finally:
        client.close()


@attrs.define
class _Namespace:
    """Where one test's tables live on one engine, and how to drop them."""

    engine: str
    settings: dict[str, Any]
    drop: Callable[[], None] = lambda: None
    used: bool = False


def _namespace(request: pytest.FixtureRequest, engine: str, tmp_path: Path) -> _Namespace:
    tag = "csframe_t_" + uuid.uuid4().hex[:12]
    if engine == "duckdb":
        return _Namespace(engine, {"name": "duckdb", "database": str(tmp_path / "csframe_case.duckdb")})
    if engine == "postgres":
        dsn = request.getfixturevalue("csframe_pg_dsn")
        return _Namespace(engine, {"name": "postgres", "dsn": dsn, "schema": tag}, lambda: _drop_pg_schema(dsn, tag))
    endpoint = request.getfixturevalue("csframe_bigquery_endpoint")
    project = os.environ.get(BQ_PROJECT_ENV) or BQ_DEFAULT_PROJECT
    return _Namespace(engine, {"name": "bigquery", "project": project, "dataset": tag, "api_endpoint": endpoint},
                      lambda: _drop_bq_dataset(project, tag, endpoint))


# == the case =======================================================================================

def _same(value: float | None, expected: float | None, tolerance: float) -> bool:
    if expected is None or value is None:
        return expected is None and value is None
    return within(value, expected, tolerance)


def _show(v: Any) -> str:
    return "NULL" if v is None else f"{v:.12g}" if isinstance(v, float) else repr(v)


class Case:
    """``csframe_case``: load rows on one engine, compute, compare. Call it, or use
    :meth:`compute`, :meth:`session` and :meth:`examples` for more than one value."""

    def __init__(self, namespace: _Namespace, base_dir: Path | None = None, workdir: Path | None = None) -> None:
        self._ns = namespace
        self.base_dir = base_dir
        self.workdir = workdir or Path.cwd()
        self._sessions: list[Any] = []
        self.last_sql = ""

    @property
    def engine(self) -> str:
        return self._ns.engine

    def session(self, rows: Mapping[str, Any] | str | os.PathLike | None = None, *,
                variants: Mapping[str, str] | None = None, params: Mapping[str, Any] | None = None,
                modules: Sequence[str] = ()) -> Any:
        """A :class:`~csframe.core.session.Session` over ``rows`` loaded on this engine (closed after the test)."""
        from .session import Session

        dataset = load_rows(rows if rows is not None else {}, self.base_dir)
        project = Project(dir=self.base_dir or self.workdir, adapter=dict(self._ns.settings),
                          sources={t.name: SourceBinding(t.name, table=t.name) for t in dataset.tables},
                          variants=dict(variants or {}), parameters=dict(params or {}), plugin_modules=tuple(modules))
        s = Session.open(project=project)
        self._sessions.append(s)
        loader = dialect_profile(s.registry, self.engine)(dict(self._ns.settings), self.workdir)
        self._ns.used = True
        loader.connect(write=True)
        try:
            if dataset.tables:
                loader.load_tables(dataset)
        finally:
            loader.close()
        return s

    def compute(self, rows: Any, metrics: str | Sequence[str], *, start: str | dt.date, end: str | dt.date | None = None,
                grain: str = "month", by: Sequence[str] = (), variants: Mapping[str, str] | None = None,
                params: Mapping[str, Any] | None = None, modules: Sequence[str] = ()) -> Any:
        """The :class:`~csframe.core.result.Result` of ``metrics`` over [start, end) (one period when no end)."""
        s = self.session(rows, variants=variants, params=params, modules=modules)
        return self._run(s, [metrics] if isinstance(metrics, str) else list(metrics), start, end, grain, by)

    def _run(self, s: Any, metrics: list[str], start: Any, end: Any, grain: str, by: Sequence[str]) -> Any:
        g = to_grain(grain)
        start_d = floor(start if isinstance(start, dt.date) else dt.date.fromisoformat(start), g)
        end_d = shift(start_d, g, 1) if end is None else (end if isinstance(end, dt.date) else dt.date.fromisoformat(end))
        try:
            result = s.compute(metrics, grain=grain, start=start_d, end=end_d, by=by)
        except MetricFailedError as e:
            raise self._explain(s, metrics, start_d, end_d, grain, by, e) from None
        self.last_sql = result.sql
        return result

    def _explain(self, s: Any, metrics: list[str], start: dt.date, end: dt.date, grain: str, by: Sequence[str],
                 error: MetricFailedError) -> MetricFailedError:
        try:
            plan = s.plan(s.request(s.keys(metrics), grain=grain, start=start, end=end, by=by))
            _, absent = s.inspect_sources(plan.sources, plan.by)
            compiled, _ = s.compile(plan, absent=absent)
            profile = dialect_profile(s.registry, self.engine)
            return explain_failure(s.registry, compiled, profile, s.adapter(), error, self.engine)
        except Exception:  # noqa: BLE001 - the diagnosis is best effort; the engine's error stands
            return error

    def __call__(self, rows: Any, metric: str | None = None, period: str | dt.date | None = None,
                 expected: float | None | Mapping[str, float | None] = None, *, grain: str = "month",
                 where: Mapping[str, Any] | None = None, variants: Mapping[str, str] | None = None,
                 params: Mapping[str, Any] | None = None, modules: Sequence[str] = (),
                 tolerance: float = 1e-9) -> Any:
        """Load ``rows``, compute ``metric`` (``name`` or ``name:variant``) for the period of
        ``grain`` holding ``period``, and assert its value is ``expected`` (None = NULL); returns
        the value. Without ``metric``, ``expected`` maps several metrics to their values: one
        query computes them all, and every mismatch is reported at once (returns a dict).
        ``where`` picks one row by dimension (``{"plan": "pro"}`` computes ``--by plan``; a
        metric's own key such as ``feature`` is picked without splitting)."""
        if period is None:
            raise TypeError("csframe_case: give the period, e.g. period='2024-03-01'")
        if metric is None:
            if not isinstance(expected, Mapping) or not expected:
                raise TypeError("csframe_case: give metric=..., or expected={metric: value, ...}")
            wanted = dict(expected)
        else:
            wanted = {metric: expected}
        s = self.session(rows, variants=variants, params=params, modules=modules)
        keys = {m: s.graph.parse_key(m) for m in wanted}
        where = dict(where or {})
        own = {s.registry.dimension_of(*k) for k in keys.values()}
        by = [k for k in where if k not in own]
        g = to_grain(grain)
        start = floor(period if isinstance(period, dt.date) else dt.date.fromisoformat(str(period)), g)
        result = self._run(s, list(dict.fromkeys(f"{k[0]}:{k[1]}" for k in keys.values())), start, None, grain, by)
        span = f"the {grain} starting {start.isoformat()}" + (f" where {where}" if where else "")
        values, wrong = {}, []
        for name, key in keys.items():
            label = f"{key[0]}:{key[1]}"
            hits = []
            for row in result.rows:
                r = dict(zip(result.columns, row))
                if (r["metric"], r["variant"]) != key or r["period_start"] != start:
                    continue
                if all((r.get(k) is None) == (v is None) and str(r.get(k)) == str(v) for k, v in where.items()
                       if k in r):
                    hits.append(r)
            if len(hits) != 1:
                shown = "\n  ".join(str(row) for row in result.rows[:12])
                raise AssertionError(f"{label} for {span} on {self.engine}: {len(hits)} rows match, expected one"
                                     f"{' (pick one with where={...})' if len(hits) > 1 else ''}; the result's rows "
                                     f"{result.columns}:\n  {shown}")
            value = None if hits[0]["value"] is None else float(hits[0]["value"])
            values[name] = value
            if not _same(value, wanted[name], tolerance):
                wrong.append(f"{label}: expected {_show(wanted[name])}, got {_show(value)}")
        if wrong:
            sql = f"\n--- the query ({self.engine}) ---\n{result.sql}" if os.environ.get(SHOW_SQL_ENV) == "1" else \
                f"\n(set {SHOW_SQL_ENV}=1 to see the query)"
            head = f"for {span} on {self.engine}"
            raise AssertionError(f"{wrong[0]} {head}{sql}" if len(wrong) == 1 else
                                 f"{len(wrong)} values differ {head}:\n  " + "\n  ".join(wrong) + sql)
        return values[metric] if metric is not None else values

    def examples(self, *, plugin: str | None = None, metrics: Sequence[str] | None = None,
                 variants: Mapping[str, str] | None = None, modules: Sequence[str] = ()) -> list[ExampleOutcome]:
        """Evaluate every worked example declared on the variants ``plugin`` registered (or of
        ``metrics``; all when neither) on this engine; assert each gives its expected value."""
        s = self.session(None, variants=variants, modules=modules)
        adapter = s.adapter()
        adapter.connect(write=True)
        profile = dialect_profile(s.registry, self.engine)
        outcomes = run_examples(s.registry, s.graph, adapter.execute, profile,
                                plugins=None if plugin is None else {plugin},
                                metrics=None if metrics is None else set(metrics))
        if not outcomes:
            known = sorted({rv.plugin for rv in s.registry.all_variants() if rv.variant.examples})
            what = f"plugin {plugin!r}" if plugin else f"metrics {list(metrics or [])}"
            raise AssertionError(f"no worked example is declared on the variants of {what}; plugins with "
                                 f"examples: {', '.join(known) or 'none'}. Is the plugin installed (pip install -e .)?")
        failed = [o for o in outcomes if not o.passed]
        if failed:
            raise AssertionError(f"{len(failed)} of {len(outcomes)} worked example(s) failed on {self.engine}:\n  "
                                 + "\n  ".join(o.describe() for o in failed))
        return outcomes

    def close(self) -> None:
        for s in self._sessions:
            s.close()
        self._sessions.clear()
        if self._ns.used:
            self._ns.drop()


# == the pytest plugin ==============================================================================

def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("csframe", "csframe test kit")
    group.addoption("--csframe-engines", dest="csframe_engines", default=None, metavar="LIST",
                    help=f"engines csframe_case runs on, comma-separated ({', '.join(ENGINES)}); default "
                         f"${ENGINES_ENV}, else duckdb,postgres (+bigquery when ${BQ_ENDPOINT_ENV} is set)")


class _Hooks:
    @pytest.hookspec(firstresult=True)
    def pytest_csframe_default_engines(self, config: pytest.Config, engines: list[str]) -> list[str] | None:
        """The engines a test runs on when neither ``--csframe-engines`` nor ``$CSFRAME_TEST_ENGINES``
        names them: ``engines`` is the kit's default; return another list (of known engines) to replace
        it, or None to keep it. Called per test function, from the conftests of its directory."""


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    pluginmanager.add_hookspecs(_Hooks)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "csframe_engines(*names): run this test's csframe_case only on these engines")
    _selected(config)  # an unknown engine name is a usage error, before collection


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "csframe_engine" not in metafunc.fixturenames:
        return
    names, explicit = _selected(metafunc.config)
    if not explicit:
        chosen = metafunc.definition.ihook.pytest_csframe_default_engines(config=metafunc.config, engines=list(names))
        if chosen is not None:
            unknown = [n for n in chosen if n not in ENGINES]
            if unknown:
                raise pytest.UsageError(f"csframe engines: unknown {', '.join(unknown)}; the test kit knows {', '.join(ENGINES)}")
            names = list(dict.fromkeys(chosen))
    marker = metafunc.definition.get_closest_marker("csframe_engines")
    if marker is not None:
        names = [n for n in names if n in marker.args]
    metafunc.parametrize("csframe_engine", names, indirect=True, ids=names)


@pytest.fixture
def csframe_engine(request: pytest.FixtureRequest) -> str:
    """The engine this test runs on (``duckdb``, ``postgres`` or ``bigquery``): one test per engine."""
    return getattr(request, "param", "duckdb")


@pytest.fixture(scope="session")
def csframe_pg_dsn(request: pytest.FixtureRequest) -> str:
    """The PostgreSQL server's DSN: ``$CSFRAME_TEST_PG_DSN`` or 127.0.0.1:5432 (override in a conftest)."""
    dsn = os.environ.get(PG_DSN_ENV) or PG_DEFAULT_DSN
    problem = _pg_problem(dsn)
    if problem:
        _unavailable(request.config, "postgres",
                     f"csframe: no PostgreSQL server at {_dsn_where(dsn)} ({problem}). Set {PG_DSN_ENV}, "
                     f"or run on DuckDB only with {ENGINES_ENV}=duckdb.")
    return dsn


@pytest.fixture(scope="session")
def csframe_bigquery_endpoint(request: pytest.FixtureRequest) -> str:
    """A BigQuery emulator's URL: ``$CSFRAME_TEST_BIGQUERY_ENDPOINT`` (override in a conftest)."""
    endpoint = os.environ.get(BQ_ENDPOINT_ENV, "").strip()
    if not endpoint:
        _unavailable(request.config, "bigquery",
                     f"csframe: set {BQ_ENDPOINT_ENV} to a BigQuery emulator's URL to test on bigquery")
    return endpoint.rstrip("/")


@pytest.fixture
def csframe_case(request: pytest.FixtureRequest, csframe_engine: str, tmp_path: Path) -> Iterable[Case]:
    """Compute metrics from inline rows on this test's engine and assert their values (see :class:`Case`)."""
    case = Case(_namespace(request, csframe_engine, tmp_path), Path(str(request.node.path)).parent, tmp_path)
    try:
        yield case
    finally:
        case.close()

