"""The BigQuery adapter (google-cloud-bigquery, imported inside ``connect()``).

``[adapter]`` settings: ``project`` and ``dataset`` (required; the dataset is the query's
default dataset, so a source's ``table = "subscriptions"`` means ``project.dataset.subscriptions``),
``location``, ``maximum_bytes_billed`` (an integer: a query that would bill more fails instead
of running), ``api_endpoint`` (an emulator's address; then the client sends no credentials) and
``query_parameters`` (default true). Credentials are Google's application-default ones
(``GOOGLE_APPLICATION_CREDENTIALS`` or ``gcloud auth application-default login``): the project
file never holds a secret.

Query parameters: csframe's tree carries its values (dates of the range, metric and variant
names, parameters such as an activation event) as literals. Before a query is sent, every
string and number literal of the rendered SQL becomes a named parameter ``@p0``, ``@p1``…
(:func:`parameterize`), so no value is spliced into the text that BigQuery receives. The
literals are found by parsing the rendered SQL with sqlglot and replaced in the text at the
positions the parser reports, so the rest of the query stays byte for byte what the dialect
rendered (re-rendering a parsed tree would not: it drops ``NUMERIC(P, S)``, for one).
Equal values share one parameter, so an expression repeated in GROUP BY stays the same
expression. The metrics query itself comes as csframe's tree (:meth:`BigQueryAdapter.execute_tree`):
its literals are found in the tree by the same rules, made parameters there, and the tree is
rendered once (:mod:`csframe.adapters.bigquery_tree_params`), the catalog's long SQL never parsed. Literals that are syntax rather than values stay: INTERVAL counts, DATE_TRUNC and
EXTRACT units, format strings, window frame offsets, LIMIT/OFFSET, GROUP BY/ORDER BY ordinals,
type parameters, JSON literals, and raw/byte strings. So do the fixed constants the dialect writes
itself (:func:`_is_dialect_constant`: the 1000000 µs of a second in ``EPOCH_SECONDS``): they are
no one's value, and as an INT64 parameter the divisor of a NUMERIC makes the emulator compute the
seconds in FLOAT64, so that an event exactly ``window_days`` after ``created_at`` fell outside.

Only queries are sent (one SELECT/WITH statement; a script, DDL or DML is refused before it
leaves): BigQuery has no read-only session to enforce what PostgreSQL's READ ONLY does. The one
exception is write-back (``compute --target``, :meth:`BigQueryAdapter.write_results`), whose
CREATE TABLE and MERGE csframe builds itself (:mod:`csframe.adapters.bigquery_write`). A source's
columns come from the table's metadata (tables.get) for a ``table =`` source, from a dry run for SQL.
``connect()`` makes one request (the dataset's metadata); a failure that may pass (no
connection, 429/5xx) is ``transient`` and the session's ``--retries`` policy tries again.
A run's time limit (``set_deadline``) becomes each job's ``job_timeout_ms``, and the client
stops waiting at the deadline and cancels the job.
"""

from __future__ import annotations

__all__ = ["BigQueryAdapter", "csframe_register_adapters", "parameterize", "parse_query", "bigquery_type", "json_rows"]

import datetime as _dt
import decimal
import math
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import sqlglot
from sqlglot import exp

from csframe.core.errors import EngineUnavailableError, MetricFailedError, ProjectError, RunTimeoutError
from csframe.core.hookspecs import hookimpl
from csframe.core.settings import FromEnv, want_bool, want_int, want_str

from .bigquery_dialect import TRANSFORMS

_SETTINGS = ("project", "dataset", "location", "api_endpoint", "maximum_bytes_billed", "query_parameters")
_INT64 = (-(2**63), 2**63 - 1)
_LOAD_CHUNK_ROWS = 200_000

# -- query parameters ---------------------------------------------------------------------------

# A literal under one of these is syntax, not a value.
_SYNTAX_PARENTS = (exp.Interval, exp.DataTypeParam, exp.DataType, exp.Limit, exp.Offset, exp.Fetch,
                   exp.WindowSpec, exp.ParseJSON, exp.TableSample)
_SYNTAX_ARGS = frozenset({"unit", "format", "default_year", "zone_format", "part"})
_TYPED_LITERAL = re.compile(r"\b(DATE|DATETIME|TIMESTAMP|TIME|NUMERIC|BIGNUMERIC|DECIMAL|BIGDECIMAL)\s*$", re.I)
_TYPED_KINDS = {"DATE": "DATE", "DATETIME": "DATETIME", "TIMESTAMP": "TIMESTAMP", "NUMERIC": "NUMERIC",
                "DECIMAL": "NUMERIC", "BIGNUMERIC": "BIGNUMERIC", "BIGDECIMAL": "BIGNUMERIC"}
_NUMBER = re.compile(r"^(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
_PARAM_NAME = re.compile(r"^p(\d+)$")
_MICROS_PER_SECOND = "1000000"


def _is_dialect_constant(node: exp.Literal) -> bool:
    """A fixed constant of the SQL the dialect's transforms write: the 1000000 of
    ``CAST(UNIX_MICROS(…) AS NUMERIC) / 1000000`` (bigquery_dialect's EPOCH_SECONDS). No value
    from a user is written there: a parameter's literal stands where the definition put it."""
    parent = node.parent
    return (isinstance(parent, exp.Div) and node.arg_key == "expression" and not node.is_string
            and node.this == _MICROS_PER_SECOND and isinstance(parent.this, exp.Cast)
            and _is_unix_micros(parent.this.this))


def _is_unix_micros(node: exp.Expression) -> bool:
    """UNIX_MICROS(…): as parsed (exp.UnixMicros), or as the dialect's transform writes it in
    csframe's tree (an anonymous function: :meth:`BigQueryAdapter.execute_tree` reads the tree)."""
    return isinstance(node, exp.UnixMicros) or (isinstance(node, exp.Anonymous) and node.name.upper() == "UNIX_MICROS")


def _is_value_position(node: exp.Literal) -> bool:
    if node.arg_key in _SYNTAX_ARGS or _is_dialect_constant(node):
        return False
    parent = node.parent
    if isinstance(parent, (exp.Group, exp.Ordered)):  # ordinals: GROUP BY 1, ORDER BY 1
        return False
    ancestor = node.parent
    while ancestor is not None:
        if isinstance(ancestor, _SYNTAX_PARENTS):
            return False
        ancestor = ancestor.parent
    return True


def _typed_value(kind: str, text: str) -> Any:
    if kind == "DATE":
        return _dt.date.fromisoformat(text.strip())
    if kind == "DATETIME":
        return _dt.datetime.fromisoformat(text.strip().replace(" ", "T", 1))
    if kind == "TIMESTAMP":
        value = _dt.datetime.fromisoformat(text.strip().replace(" ", "T", 1))
        return value if value.tzinfo else value.replace(tzinfo=_dt.UTC)
    return decimal.Decimal(text.strip())


def parse_query(sql: str) -> exp.Expression:
    """The parsed statement; MetricFailedError unless it is one query (SELECT, WITH, set
    operations): csframe only reads, and BigQuery has no read-only mode to enforce it."""
    try:
        trees = sqlglot.parse(sql, read="bigquery")
    except sqlglot.errors.SqlglotError as e:
        first = re.sub(r"\x1b\[[0-9;]*m", "", str(e)).strip().split("\n")[0]
        raise MetricFailedError(f"bigquery: the query does not parse as BigQuery SQL: {first}") from None
    trees = [t for t in trees if t is not None]
    if len(trees) != 1 or not isinstance(trees[0], exp.Query):
        raise MetricFailedError("bigquery: csframe runs one query (SELECT or WITH … SELECT) at a time, "
                                "never a script, DDL or DML")
    return trees[0]


def parameterize(sql: str, *, taken: Sequence[str] = (), tree: exp.Expression | None = None
                 ) -> tuple[str, list[tuple[str, str, Any]]]:
    """``sql`` with its value literals replaced by ``@p0``, ``@p1``…, and the parameters as
    ``(name, BigQuery type, Python value)``, numbered in the order of the text. Equal values (of
    one type) share a name; names in ``taken`` are skipped. A typed literal (``DATE '2024-01-01'``)
    becomes one parameter of its type; a literal whose text cannot be read back exactly stays.
    ``tree`` is ``sql`` already parsed (by :func:`parse_query`)."""
    if tree is None:
        tree = parse_query(sql)
    found: list[tuple[int, int, str, Any]] = []  # (start, end, type, value) of each value literal
    for node in tree.find_all(exp.Literal):
        meta = node.meta
        if "start" not in meta or "end" not in meta or not _is_value_position(node):
            continue
        start, end = meta["start"], meta["end"] + 1
        raw = sql[start:end]
        if node.is_string:
            if raw[:1] not in ("'", '"'):  # not a plain quoted string in the text (r'…', b'…', a keyword)
                continue
            typed = _TYPED_LITERAL.search(sql, 0, start) if isinstance(node.parent, exp.Cast) else None
            if typed and typed.group(1).upper() in _TYPED_KINDS:
                kind = _TYPED_KINDS[typed.group(1).upper()]
                try:
                    found.append((typed.start(), end, kind, _typed_value(kind, node.this)))
                except (ValueError, decimal.InvalidOperation):
                    pass
            elif not typed:  # TIME '…' stays: no parameter type worth the risk
                found.append((start, end, "STRING", node.this))
        elif _NUMBER.match(raw):
            if raw.isdigit():
                if _INT64[0] <= int(raw) <= _INT64[1]:
                    found.append((start, end, "INT64", int(raw)))
            elif math.isfinite(float(raw)):
                found.append((start, end, "FLOAT64", float(raw)))

    params: list[tuple[str, str, Any]] = []
    by_value: dict[tuple[str, str, Any], str] = {}
    used = set(taken)
    counter = 0
    spans: list[tuple[int, int, str]] = []
    for start, end, kind, value in sorted(found, key=lambda f: f[0]):
        key = (kind, type(value).__name__, value)
        if key not in by_value:
            while f"p{counter}" in used:
                counter += 1
            by_value[key] = name = f"p{counter}"
            used.add(name)
            params.append((name, kind, value))
        spans.append((start, end, by_value[key]))

    out, last = [], 0
    for start, end, name in sorted(spans):
        if start < last:  # overlapping (cannot happen for literals; be safe)
            continue
        out += [sql[last:start], "@", name]
        last = end
    out.append(sql[last:])
    return "".join(out), params


def _param_type(value: Any) -> str:
    if value is None or isinstance(value, str):
        return "STRING"
    if isinstance(value, bool):
        return "BOOL"
    if isinstance(value, int):
        return "INT64"
    if isinstance(value, float):
        return "FLOAT64"
    if isinstance(value, decimal.Decimal):
        return "NUMERIC" if abs(value.as_tuple().exponent) <= 9 and len(value.as_tuple().digits) <= 38 else "BIGNUMERIC"
    if isinstance(value, _dt.datetime):
        return "TIMESTAMP" if value.tzinfo else "DATETIME"
    if isinstance(value, _dt.date):
        return "DATE"
    if isinstance(value, bytes):
        return "BYTES"
    raise MetricFailedError(f"bigquery: cannot pass a query parameter of type {type(value).__name__}")


# -- types and rows for load_tables --------------------------------------------------------------

def bigquery_type(neutral: str) -> str:
    """The BigQuery column type for one of csframe's neutral (DuckDB-spelled) column types."""
    T = exp.DataType.Type
    kind = exp.DataType.build(neutral, dialect="duckdb")
    if kind.is_type(*exp.DataType.TEXT_TYPES):
        return "STRING"
    if kind.is_type(T.DATE):
        return "DATE"
    if kind.is_type(T.TIMESTAMPTZ, T.TIMESTAMPLTZ):
        return "TIMESTAMP"
    if kind.is_type(T.TIMESTAMP, T.TIMESTAMPNTZ, T.DATETIME, T.DATETIME2, T.TIMESTAMP_S, T.TIMESTAMP_MS, T.TIMESTAMP_NS):
        return "DATETIME"  # csframe's TIMESTAMP is naive UTC: BigQuery's DATETIME
    if kind.is_type(T.DECIMAL):
        params = [int(p.name) for p in kind.expressions]
        precision = params[0] if params else 18
        scale = params[1] if len(params) > 1 else (0 if params else 3)
        return "NUMERIC" if scale <= 9 and precision - scale <= 29 else "BIGNUMERIC"
    if kind.is_type(*exp.DataType.REAL_TYPES):
        return "FLOAT64"
    if kind.is_type(*exp.DataType.INTEGER_TYPES):
        return "INT64"
    if kind.is_type(T.BOOLEAN):
        return "BOOL"
    raise ValueError(f"the bigquery adapter cannot load columns of type {neutral!r}")


def _utc_naive(v: _dt.datetime) -> _dt.datetime:
    return v.astimezone(_dt.UTC).replace(tzinfo=None) if v.tzinfo is not None else v


def _json_value(bq_type: str, v: Any) -> Any:
    if v is None:
        return None
    if bq_type == "STRING":
        return str(v)
    if bq_type == "DATE":
        return (v.date() if isinstance(v, _dt.datetime) else v).isoformat()
    if bq_type in ("DATETIME", "TIMESTAMP"):
        if not isinstance(v, _dt.datetime):
            v = _dt.datetime(v.year, v.month, v.day)
        v = _utc_naive(v)
        return v.isoformat(timespec="microseconds") + ("Z" if bq_type == "TIMESTAMP" else "")
    if bq_type in ("NUMERIC", "BIGNUMERIC", "INT64"):
        return str(v)  # exact: no float on the way
    if bq_type == "FLOAT64":
        v = float(v)
        if math.isnan(v):
            return "NaN"
        if math.isinf(v):
            return "Infinity" if v > 0 else "-Infinity"
        return v
    if bq_type == "BOOL":
        return bool(v)
    raise ValueError(bq_type)


def json_rows(columns: Sequence[tuple[str, str]], rows: Sequence[Sequence[Any]]) -> list[dict[str, Any]]:
    """Rows as JSON-ready dicts for a load job; ``columns`` are (name, BigQuery type)."""
    out = []
    for row in rows:
        if len(row) != len(columns):
            raise ValueError(f"a row has {len(row)} values for {len(columns)} columns: {row!r}")
        out.append({name: _json_value(t, v) for (name, t), v in zip(columns, row)})
    return out


# -- the adapter -------------------------------------------------------------------------------------

def _plain_table(relation_sql: str) -> tuple[str | None, str | None, str] | None:
    """(project, dataset, table) when ``relation_sql`` is exactly ``SELECT * FROM table`` (what
    the session asks of a ``table =`` source), None for any other relation. A part that names
    more than one table or is not a plain name (a wildcard ``events_*``, a dot) is None too."""
    if not relation_sql.lstrip()[:6].upper() == "SELECT":
        return None
    try:
        tree = sqlglot.parse_one(relation_sql, read="bigquery")
    except sqlglot.errors.SqlglotError:
        return None
    if not isinstance(tree, exp.Select) or {k for k, v in tree.args.items() if v} != {"expressions", "from_"}:
        return None
    star, from_ = tree.expressions, tree.args["from_"]
    if len(star) != 1 or type(star[0]) is not exp.Star or any(star[0].args.values()):
        return None
    table = from_.this
    if type(table) is not exp.Table or {k for k, v in table.args.items() if v} - {"this", "db", "catalog"}:
        return None
    parts = [table.args.get(k) for k in ("catalog", "db", "this")]
    if any(p is not None and (type(p) is not exp.Identifier or not p.name or any(c in p.name for c in ".*`"))
           for p in parts) or parts[2] is None or (parts[0] is not None and parts[1] is None):
        return None
    if any(p is not None and (p.name.upper() == "INFORMATION_SCHEMA" or p.name.lower().startswith("region-"))
           for p in parts):  # metadata views: queried, not tables.get
        return None
    return parts[0] and parts[0].name, parts[1] and parts[1].name, parts[2].name


def _schema_types(schema: Any) -> list[tuple[str, str]]:
    return [(field.name, f"ARRAY<{field.field_type}>" if field.mode == "REPEATED" else field.field_type)
            for field in (schema or [])]


def _first_line(e: BaseException) -> str:
    errors = getattr(e, "errors", None)
    if errors and isinstance(errors, list) and isinstance(errors[0], dict) and errors[0].get("message"):
        text = errors[0]["message"]
    else:
        text = getattr(e, "message", None) or str(e) or type(e).__name__
    text = str(text).strip().split("\n")[0]
    return text if len(text) <= 300 else text[:297] + "..."


def _transient(e: BaseException) -> bool:
    """A failure that may pass when tried again: no connection, a timeout, 429/500/502/503/504."""
    import requests
    from google.api_core import exceptions as gexc

    return isinstance(e, (requests.exceptions.ConnectionError, requests.exceptions.Timeout, ConnectionError,
                          TimeoutError, gexc.TooManyRequests, gexc.InternalServerError, gexc.BadGateway,
                          gexc.ServiceUnavailable, gexc.GatewayTimeout))


class BigQueryAdapter:
    """Runs csframe's query as one BigQuery query job, its values as query parameters."""

    NAME = "bigquery"
    DIALECT = "bigquery"
    TRANSFORMS = TRANSFORMS
    CONNECT_TIMEOUT_S = 10.0  # connect()'s one request; the session retries a transient failure

    def __init__(self, settings: dict[str, Any], project_dir: Path) -> None:
        unknown = set(settings) - {"name", *_SETTINGS}
        if unknown:
            raise ProjectError(f"adapter: unknown key(s) for bigquery: {', '.join(sorted(unknown))}",
                               hint=f"bigquery takes: {', '.join(_SETTINGS)}.")
        for key in ("project", "dataset"):
            if not want_str(settings.get(key, ""), f"adapter.{key}", f'{key} = "…"').strip():
                raise ProjectError(f"adapter: bigquery needs a {key}",
                                   hint='Set project = "my-project" and dataset = "cs" under [adapter].')
        self.project = settings["project"].strip()
        self.dataset = settings["dataset"].strip()
        location = want_str(settings.get("location", ""), "adapter.location", 'location = "EU"')
        self.location = location or None
        endpoint = want_str(settings.get("api_endpoint", ""), "adapter.api_endpoint", 'api_endpoint = "http://…"')
        self.api_endpoint = endpoint.rstrip("/") or None
        mbb = settings.get("maximum_bytes_billed")
        self.maximum_bytes_billed: int | None = (
            None if mbb is None or (isinstance(mbb, FromEnv) and not mbb.strip())
            else want_int(mbb, "adapter.maximum_bytes_billed", minimum=1, maximum=_INT64[1]))
        self.query_parameters = want_bool(settings.get("query_parameters", True), "adapter.query_parameters")
        self.client = None
        self.last_job = None  # the last query job sent (for messages and tests)
        self.deadline = None  # the run's time limit (csframe.core.deadline.Deadline), while it runs
        self._dataset_ready = False

    def set_deadline(self, deadline: Any) -> None:
        """Hold every job to ``deadline`` (None: no limit) until it is cleared: the job gets
        ``job_timeout_ms`` (BigQuery stops it) and the client stops waiting and cancels it."""
        self.deadline = deadline

    def _left(self) -> float | None:
        return self.deadline.remaining() if self.deadline is not None else None  # raises when none is left

    def describe(self) -> str:
        where = f" at {self.api_endpoint}" if self.api_endpoint else ""
        return f"bigquery dataset {self.project}.{self.dataset}{where}"

    # -- connection --------------------------------------------------------------------------
    def connect(self, *, write: bool = False) -> None:
        """Make a client and check that the dataset is there (``write``: create it if not)."""
        if self.client is not None and (self._dataset_ready or not write):
            return
        try:
            from google.api_core import exceptions as gexc
            from google.api_core.client_options import ClientOptions
            from google.cloud import bigquery
        except ImportError:
            raise EngineUnavailableError("the bigquery adapter needs google-cloud-bigquery",
                                         hint="pip install 'csframe[bigquery]'") from None
        where = self.api_endpoint or "BigQuery"
        if self.client is None:
            try:
                if self.api_endpoint:
                    from google.auth.credentials import AnonymousCredentials

                    credentials = AnonymousCredentials()
                    options = ClientOptions(api_endpoint=self.api_endpoint)
                else:
                    import google.auth

                    credentials, _ = google.auth.default(scopes=["https://www.googleapis.com/auth/bigquery"])
                    options = None
                client = bigquery.Client(project=self.project, credentials=credentials, location=self.location,
                                         client_options=options)
            except Exception as e:  # noqa: BLE001 - google.auth raises several kinds
                raise EngineUnavailableError(
                    f"cannot set up a bigquery client for project {self.project} ({where}): {type(e).__name__}",
                    hint="Set up application-default credentials (gcloud auth application-default login, "
                         "or GOOGLE_APPLICATION_CREDENTIALS).",
                ) from None
        else:
            client = self.client
        ref = bigquery.DatasetReference(self.project, self.dataset)
        left = self._left()
        timeout = self.CONNECT_TIMEOUT_S if left is None else max(1.0, min(self.CONNECT_TIMEOUT_S, left))
        try:  # one try: the session's retry policy (--retries) retries a transient failure
            if write:
                ds = bigquery.Dataset(ref)
                if self.location:
                    ds.location = self.location
                client.create_dataset(ds, exists_ok=True, retry=None, timeout=timeout)
            else:
                client.get_dataset(ref, retry=None, timeout=timeout)
        except gexc.NotFound:
            client.close()
            raise EngineUnavailableError(
                f"bigquery dataset {self.project}.{self.dataset} does not exist ({where})",
                hint="Check [adapter] project and dataset in csframe.toml.",
            ) from None
        except (gexc.Unauthorized, gexc.Forbidden) as e:
            client.close()
            raise EngineUnavailableError(
                f"bigquery refused access to dataset {self.project}.{self.dataset} ({where}): {_first_line(e)}",
                hint="Check the credentials' permissions on the project (roles/bigquery.dataViewer and jobUser).",
            ) from None
        except Exception as e:  # noqa: BLE001 - connection errors come from requests, google.auth, …
            client.close()
            raise EngineUnavailableError(
                f"cannot reach bigquery for project {self.project} at {where}: {type(e).__name__}",
                hint="Check the network (or that the emulator runs) and [adapter] api_endpoint.",
                transient=_transient(e),
            ) from None
        self.client = client
        self._dataset_ready = self._dataset_ready or write

    def _require(self):
        if self.client is None:
            self.connect()
        return self.client

    # -- queries -----------------------------------------------------------------------------
    def _job_config(self, sql: str | exp.Expression, params: Mapping[str, Any] | None, **extra: Any) -> tuple[str, Any]:
        """The text to send and its job configuration. ``sql`` is text (parsed to find its value
        literals) or csframe's tree (:meth:`execute_tree`: its literals found in it, rendered once)."""
        from google.cloud import bigquery

        values = dict(params or {})
        done, found = None, []
        if isinstance(sql, exp.Expression):
            from .bigquery_tree_params import parameterize_tree

            if not isinstance(sql, exp.Query):
                raise MetricFailedError("bigquery: csframe runs one query (SELECT or WITH … SELECT) at a time, "
                                        "never a script, DDL or DML")
            tree = sql
            if self.query_parameters:
                done = parameterize_tree(tree, taken=tuple(values))
            if done is None:  # no parameters wanted, or a literal the rendering moved: the text, as before
                sql = tree.sql(dialect=self.DIALECT, pretty=True)
                if self.query_parameters:
                    sql, found = parameterize(sql, taken=tuple(values), tree=parse_query(sql))
            else:
                sql, found = done
        else:
            tree = parse_query(sql)
            if self.query_parameters:
                sql, found = parameterize(sql, taken=tuple(values), tree=tree)
        query_params = [bigquery.ScalarQueryParameter(n, t, v) for n, t, v in found]
        query_params += [bigquery.ScalarQueryParameter(n, _param_type(v), v) for n, v in values.items()]
        config = bigquery.QueryJobConfig(
            default_dataset=bigquery.DatasetReference(self.project, self.dataset),
            query_parameters=query_params,
            **extra,
        )
        if self.maximum_bytes_billed is not None:
            config.maximum_bytes_billed = self.maximum_bytes_billed
        left = self._left()
        if left is not None and not extra.get("dry_run"):
            config.job_timeout_ms = max(1000, int(left * 1000))  # BigQuery stops the job itself
        return sql, config

    def _fail(self, e: BaseException, what: str) -> Exception:
        """csframe's error for what the client raised: the engine out of reach or refusing the
        credentials → EngineUnavailableError (exit 3); anything else → MetricFailedError."""
        import requests
        from google.api_core import exceptions as gexc
        from google.auth import exceptions as aexc

        unreachable = (gexc.Unauthorized, gexc.RetryError, gexc.ServiceUnavailable, aexc.GoogleAuthError,
                       requests.exceptions.ConnectionError, requests.exceptions.Timeout, ConnectionError, TimeoutError)
        if isinstance(e, unreachable):
            return EngineUnavailableError(
                f"bigquery for project {self.project} ({self.api_endpoint or 'BigQuery'}) failed {what}: "
                f"{type(e).__name__}: {_first_line(e)}",
                hint="Check the network, the credentials and [adapter] in csframe.toml.")
        reason = ""
        errors = getattr(e, "errors", None) or []
        if errors and isinstance(errors[0], dict):
            reason = errors[0].get("reason", "")
        hint = None
        if reason == "bytesBilledLimitExceeded" or "bytes billed" in _first_line(e).lower():
            hint = f"The query would bill more than maximum_bytes_billed = {self.maximum_bytes_billed}; raise it under [adapter]."
        return MetricFailedError(f"bigquery failed {what}: {_first_line(e)}", hint=hint)

    def _run(self, sql: str | exp.Expression, params: Mapping[str, Any] | None, **extra: Any):
        client = self._require()
        text, config = self._job_config(sql, params, **extra)
        return self._job(lambda: client.query(text, job_config=config, location=self.location), "to run the query",
                         wait=not extra.get("dry_run"))

    def _job(self, submit: Any, what: str, *, wait: bool = True, kind: str = "query job"):
        """``(job, its result)`` of the job ``submit()`` starts, waited for until the run's
        time limit (then cancelled: RunTimeoutError); failures mapped by :meth:`_fail`."""
        import concurrent.futures

        job = None
        try:
            job = submit()
            self.last_job = job
            if not wait:
                return job, None
            return job, job.result(timeout=self._left())
        except (concurrent.futures.TimeoutError, TimeoutError, RunTimeoutError) as e:
            if self.deadline is None or self.deadline.seconds is None:
                raise self._fail(e, what) from None
            if job is None:
                raise RunTimeoutError(f"bigquery: the run's time limit was reached before the {kind} was sent") from None
            try:
                job.cancel(retry=None, timeout=5)
            except Exception:  # noqa: BLE001 - best effort: BigQuery also stops it at job_timeout_ms
                pass
            raise RunTimeoutError(f"bigquery: the run's time limit was reached; the {kind} was cancelled") from None
        except Exception as e:  # noqa: BLE001 - mapped to csframe's errors below
            raise self._fail(e, what) from None

    def statement_config(self) -> Any:
        """The job configuration of a statement csframe builds itself (write-back's CREATE
        TABLE and MERGE): the default dataset, ``maximum_bytes_billed``, and the time left in
        the run as ``job_timeout_ms``. Such statements carry no value: nothing to parameterize."""
        from google.cloud import bigquery

        config = bigquery.QueryJobConfig(default_dataset=bigquery.DatasetReference(self.project, self.dataset))
        if self.maximum_bytes_billed is not None:
            config.maximum_bytes_billed = self.maximum_bytes_billed
        left = self._left()
        if left is not None:
            config.job_timeout_ms = max(1000, int(left * 1000))
        return config

    def execute(self, sql: str, params: Mapping[str, Any] | None = None) -> list[tuple]:
        """Run one query; rows as tuples (DATE → date, DATETIME → naive datetime, NUMERIC → Decimal,
        FLOAT64 → float). ``params`` are extra named parameters (``@name`` in ``sql``)."""
        _, rows = self._run(sql, params)
        return [tuple(row.values()) for row in rows]

    def execute_tree(self, tree: exp.Expression) -> list[tuple]:
        """:meth:`execute` of the metrics query given as csframe's tree (after TRANSFORMS): its
        value literals become parameters in the tree and it is rendered once, never parsed
        (:mod:`csframe.adapters.bigquery_tree_params`); the same text and parameters as
        :meth:`execute` of its SQL."""
        _, rows = self._run(tree, None)
        return [tuple(row.values()) for row in rows]

    def dry_run(self, sql: str, params: Mapping[str, Any] | None = None) -> int:
        """The bytes the query would process (BigQuery bills these; nothing runs)."""
        job, _ = self._run(sql, params, dry_run=True, use_query_cache=False)
        return int(job.total_bytes_processed or 0)

    def relation_columns(self, relation_sql: str) -> list[str]:
        """Column names of the relation (:meth:`relation_types`; free: nothing is read)."""
        return [name for name, _ in self.relation_types(relation_sql)]

    def relation_types(self, relation_sql: str) -> list[tuple[str, str]]:
        """(name, BigQuery type, e.g. ``TIMESTAMP``) of each column of the relation (a REPEATED
        field is an ARRAY): a plain table read (``SELECT * FROM t``, a source's ``table =``) from
        the table's metadata (one tables.get: no query job), anything else from a dry run's schema."""
        table = _plain_table(relation_sql)
        if table is not None:
            return self._table_types(*table)
        client = self._require()
        text, config = self._job_config(f"SELECT * FROM ({relation_sql}) AS t", None,
                                        dry_run=True, use_query_cache=False)
        try:
            job = client.query(text, job_config=config, location=self.location)
        except Exception as e:  # noqa: BLE001
            err = self._fail(e, "to read the relation")
            if isinstance(err, MetricFailedError):
                raise MetricFailedError(_first_line(e)) from None
            raise err from None
        return _schema_types(job.schema)

    def _table_types(self, project: str | None, dataset: str | None, name: str) -> list[tuple[str, str]]:
        """:meth:`relation_types` of one table, from its metadata (tables.get); a missing table
        is a MetricFailedError with BigQuery's message (``Not found: Table p:d.t``), as a dry run's."""
        from google.cloud import bigquery

        client = self._require()
        ref = bigquery.DatasetReference(project or self.project, dataset or self.dataset).table(name)
        timeout = self._left()  # raises when the run's time is up
        try:
            table = client.get_table(ref, timeout=timeout)
        except Exception as e:  # noqa: BLE001
            err = self._fail(e, "to read the relation")
            if isinstance(err, MetricFailedError):
                raise MetricFailedError(_first_line(e)) from None
            raise err from None
        return _schema_types(table.schema)

    # the test kit (core/adapter.py): the code is in bigquery_testing.py
    @classmethod
    def test_namespace(cls, tag: str, workdir: Path, fixture: Any) -> tuple[dict[str, Any], Any]:
        from .bigquery_testing import test_namespace

        return test_namespace(tag, workdir, fixture)

    TEST_OPT_IN_ENV = "CSFRAME_TEST_BIGQUERY_ENDPOINT"  # among the kit's default engines only when set

    @classmethod
    def test_server(cls, given: dict[str, Any] | None) -> dict[str, Any]:
        from .bigquery_testing import test_server

        return test_server(given)

    # -- loading -----------------------------------------------------------------------------
    def load_tables(self, dataset: Any) -> None:
        """Create (or replace) each table of ``dataset`` in project.dataset and load its rows with
        load jobs of newline-delimited JSON (free on BigQuery, unlike streaming inserts)."""
        from google.cloud import bigquery

        self.connect(write=True)
        client = self.client
        for table in dataset.tables:
            columns = [(c.name, bigquery_type(c.type)) for c in table.columns]
            schema = [bigquery.SchemaField(name, t, mode="NULLABLE") for name, t in columns]
            ref = bigquery.DatasetReference(self.project, self.dataset).table(table.name)
            try:
                if not table.rows:
                    client.delete_table(ref, not_found_ok=True)
                    client.create_table(bigquery.Table(ref, schema=schema))
                    continue
                for start in range(0, len(table.rows), _LOAD_CHUNK_ROWS):
                    chunk = json_rows(columns, table.rows[start:start + _LOAD_CHUNK_ROWS])
                    config = bigquery.LoadJobConfig(
                        schema=schema,
                        source_format=bigquery.SourceFormat.NEWLINE_DELIMITED_JSON,
                        write_disposition=(bigquery.WriteDisposition.WRITE_TRUNCATE if start == 0
                                           else bigquery.WriteDisposition.WRITE_APPEND),
                        create_disposition=bigquery.CreateDisposition.CREATE_IF_NEEDED,
                    )
                    client.load_table_from_json(chunk, ref, job_config=config, location=self.location).result()
            except Exception as e:  # noqa: BLE001
                raise self._fail(e, f"to load table {table.name}") from None

    # -- write-back ----------------------------------------------------------------------------
    def check_target(self, table: str, columns: Any, keys: Any) -> None:
        """The pre-flight of a run that writes ``table`` (:func:`.bigquery_write.check_target`)."""
        from .bigquery_write import check_target

        check_target(self, table, columns, keys)

    def write_results(self, table: str, columns: Any, rows: Any, keys: Any) -> int:
        """Replace the rows of ``keys`` in ``table`` (created if absent) with one MERGE statement
        (:mod:`csframe.adapters.bigquery_write`)."""
        from .bigquery_write import write_results

        return write_results(self, table, columns, rows, keys)

    def close(self) -> None:
        if self.client is not None:
            self.client.close()
            self.client = None
            self._dataset_ready = False


@hookimpl
def csframe_register_adapters(register) -> None:
    register("bigquery", BigQueryAdapter)
