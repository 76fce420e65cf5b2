"""BigQuery: writing a run's rows to a target table (``compute --target``).

``write_results`` replaces the run's keys with one atomic statement:

1. the target table: read with ``tables.get``; when absent, ``CREATE TABLE IF NOT EXISTS``
   (:func:`create_statement`: the documented columns with BigQuery types, NOT NULL where
   documented, ``PRIMARY KEY (…) NOT ENFORCED``). A missing dataset, or a table of another
   shape (:func:`csframe.core.writeback.check_shape`: a documented column missing or of another
   type, ``value`` REQUIRED, another REQUIRED column without a default) is refused (exit 2)
   before anything is written — and by :func:`check_target`, the run's pre-flight, before
   anything is computed (no query is billed for a run that could not be written);
2. the rows go into a staging table ``_csframe_stage_<hex>`` in the target's dataset, made with
   an expiration time (:data:`STAGING_TTL_S`, longer when the run's time limit is) so that it
   disappears even when the process is killed, and filled by ONE load job of newline-delimited
   JSON: no value ever enters the SQL text;
3. ONE ``MERGE`` (:func:`csframe.core.writeback.merge_replacing`) deletes every row of the
   target whose key a staged row has and inserts the staged rows. A DML statement is atomic on
   BigQuery: readers see the previous rows until it commits, and a failure, the time limit or
   a process killed before it commits changes nothing;
4. the staging table is dropped (best effort: else it expires).

Concurrent writers: BigQuery runs at most two mutating DML statements (UPDATE, DELETE, MERGE)
of one table at once and queues the others; two that change the same table conflict, and
BigQuery reruns the loser up to three times, then fails it ("Could not serialize access to
table … due to concurrent update"). :func:`merge_with_retries` sends such a MERGE again
(:data:`CONFLICT_RETRIES`, within the run's time limit; the mechanism is
:func:`csframe.core.writeback.retry_conflicts`, which the DuckDB adapter shares): the staged
rows are still there, and replacing keys twice with the same rows gives the same table.
"""

from __future__ import annotations

__all__ = [
    "CONFLICT_RETRIES",
    "STAGING_PREFIX",
    "STAGING_TTL_S",
    "check_target",
    "create_statement",
    "is_conflict",
    "merge_statement",
    "merge_with_retries",
    "qualified",
    "write_results",
]

import datetime as dt
import time
import uuid
from collections.abc import Callable, Sequence
from typing import Any

from csframe.core.errors import (
    EngineUnavailableError,
    MetricFailedError,
    RunTimeoutError,
    UsageError,
)
from csframe.core.retry import RetryPolicy
from csframe.core.writeback import (
    ExistingColumn,
    check_shape,
    create_table,
    merge_replacing,
    missing_schema,
    retry_conflicts,
    target_table,
    UNCOMMITTED,
    write_stage,
)
from sqlglot import exp

_DIALECT = "bigquery"
STAGING_PREFIX = "_csframe_stage_"
STAGING_TTL_S = 3600  # at least; the run's time limit plus 10 minutes when that is longer
CONFLICT_RETRIES = RetryPolicy(retries=4, base=1.0, cap=8.0)  # ~1, 2, 4, 8 s
_CONFLICT_TEXT = ("concurrent update", "could not serialize access", "too many dml statements outstanding")
_NOTHING_WRITTEN = "Nothing was written; the table holds what it held before."
_SPELLED = {"VARCHAR": "STRING", "DATE": "DATE", "DOUBLE": "FLOAT64", "TIMESTAMP": "DATETIME"}
# a field's type (tables.get spells FLOAT64 FLOAT) -> its family; TIMESTAMP is an instant, not
# csframe's naive DATETIME: a MERGE cannot insert a DATETIME into it
_FAMILIES = {"STRING": "text", "DATE": "date", "FLOAT": "floating", "FLOAT64": "floating", "DATETIME": "timestamp",
             "TIMESTAMP": "timestamp with time zone"}


def _ident(name: str) -> exp.Identifier:
    return exp.to_identifier(name, quoted=True)


def qualified(name: str, project: str, dataset: str) -> exp.Table:
    """``table``, ``dataset.table`` or ``project.dataset.table`` as ``project.dataset.table``
    (the adapter's project and dataset fill in what ``name`` leaves out)."""
    table = target_table(name)
    return exp.Table(this=_ident(table.name), db=_ident(table.db or dataset), catalog=_ident(table.catalog or project))


def create_statement(table: exp.Table, columns: Sequence[tuple[str, str]], keys: Sequence[str]) -> str:
    """``CREATE TABLE IF NOT EXISTS`` for BigQuery: its primary key is ``NOT ENFORCED`` (the
    only kind BigQuery has; it documents the key and informs the optimizer)."""
    tree = create_table(table, columns, keys)
    for key in tree.find_all(exp.PrimaryKey):
        key.set("options", [exp.var("NOT ENFORCED")])
    return tree.sql(_DIALECT)


def merge_statement(table: exp.Table, staging: exp.Table, columns: Sequence[tuple[str, str]],
                    keys: Sequence[str]) -> str:
    return merge_replacing(table, staging, columns, keys).sql(_DIALECT)


def is_conflict(message: str) -> bool:
    """Whether BigQuery refused a DML statement because another one changed the table."""
    text = message.lower()
    return any(t in text for t in _CONFLICT_TEXT)


def merge_with_retries(run: Callable[[], Any], deadline: Any = None, policy: RetryPolicy = CONFLICT_RETRIES,
                       sleep: Callable[[float], None] = time.sleep) -> Any:
    """``run()``, tried again while it fails with a concurrent-update conflict, at most
    ``policy.retries`` times and never past ``deadline``; then a MetricFailedError (exit 1)."""
    return retry_conflicts(run, lambda e: is_conflict(e.message), policy, deadline, sleep)


def _unique_keys(columns: Sequence[tuple[str, str]], rows: Sequence[Sequence[Any]], keys: Sequence[str],
                 name: str) -> None:
    """BigQuery enforces no primary key: two rows of one key would both be written."""
    names = [c for c, _ in columns]
    at = [names.index(k) for k in keys]
    seen: set[tuple] = set()
    for row in rows:
        key = tuple(row[i] for i in at)
        if key in seen:
            raise MetricFailedError(f"bigquery: cannot write {name}: the run has two rows of one key {key!r}",
                                    hint=_NOTHING_WRITTEN)
        seen.add(key)


def _api_timeout(adapter: Any) -> float:
    left = adapter._left()
    return 30.0 if left is None else max(1.0, min(30.0, left))


def existing_columns(table: Any) -> list[ExistingColumn]:
    """The columns of a ``google.cloud.bigquery.Table`` (names are case-insensitive)."""
    out = []
    for field in table.schema:
        kind = str(field.field_type).upper()
        repeated = field.mode == "REPEATED"
        out.append(ExistingColumn(name=field.name.lower(), type=f"ARRAY<{kind}>" if repeated else kind,
                                  family=None if repeated else _FAMILIES.get(kind), nullable=field.mode != "REQUIRED",
                                  filled=bool(getattr(field, "default_value_expression", None))))
    return out


def _existing(adapter: Any, client: Any, table: exp.Table, columns: Sequence[tuple[str, str]], name: str) -> Any:
    """The target's ``Table`` as ``tables.get`` reads it, or None when absent; a missing
    dataset or a table of another shape is refused (exit 2)."""
    from google.api_core import exceptions as gexc
    from google.cloud import bigquery

    dataset = bigquery.DatasetReference(table.catalog, table.db)
    try:
        try:
            existing = client.get_table(dataset.table(table.name), timeout=_api_timeout(adapter))
        except gexc.NotFound:
            existing = None
            try:
                client.get_dataset(dataset, timeout=_api_timeout(adapter))
            except gexc.NotFound:
                raise missing_schema(name, f"dataset {table.catalog}.{table.db}",
                                     f"bq mk --dataset {table.catalog}:{table.db}") from None
    except (MetricFailedError, EngineUnavailableError, UsageError):
        raise
    except Exception as e:  # noqa: BLE001 - mapped to csframe's errors
        raise adapter._fail(e, f"to read table {name}") from None
    if existing is not None:
        check_shape(name, existing_columns(existing), columns, lambda t: _SPELLED.get(t, t))
    return existing


def check_target(adapter: Any, name: str, columns: Sequence[tuple[str, str]], keys: Sequence[str]) -> None:
    """The run's pre-flight for a target ``name``: ``tables.get`` (and ``datasets.get`` when the
    table is absent), no job. A missing dataset or a table of another shape is a usage error
    (exit 2), before any query is sent."""
    _existing(adapter, adapter._require(), qualified(name, adapter.project, adapter.dataset), columns, name)


def _target(adapter: Any, client: Any, table: exp.Table, columns: Sequence[tuple[str, str]],
            keys: Sequence[str], name: str) -> None:
    """Create the table when it is absent; refuse a missing dataset or a table of another shape."""
    if _existing(adapter, client, table, columns, name) is not None:
        return
    sql = create_statement(table, columns, keys)
    adapter._job(lambda: client.query(sql, job_config=adapter.statement_config(), location=adapter.location),
                 f"to create {name}")
    _existing(adapter, client, table, columns, name)  # as created (or by another run meanwhile)


def _stage(adapter: Any, client: Any, ref: Any, columns: Sequence[tuple[str, str]], rows: Sequence[Sequence[Any]],
           name: str) -> None:
    """The staging table, with an expiration time, filled by one load job."""
    from google.cloud import bigquery

    from .bigquery import json_rows

    schema = [bigquery.SchemaField(n, t, mode="NULLABLE") for n, t in columns]
    staging = bigquery.Table(ref, schema=schema)
    left = adapter._left()
    ttl = STAGING_TTL_S if left is None else max(STAGING_TTL_S, left + 600)
    staging.expires = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=ttl)
    try:
        client.create_table(staging, timeout=_api_timeout(adapter))
    except Exception as e:  # noqa: BLE001
        raise adapter._fail(e, f"to create a staging table for {name}") from None
    config = bigquery.LoadJobConfig(
        schema=schema,
        source_format=bigquery.SourceFormat.NEWLINE_DELIMITED_JSON,
        write_disposition=bigquery.WriteDisposition.WRITE_APPEND,
        create_disposition=bigquery.CreateDisposition.CREATE_NEVER,
    )
    if left is not None:
        config.job_timeout_ms = max(1000, int(adapter._left() * 1000))
    data = json_rows(columns, rows)
    adapter._job(lambda: client.load_table_from_json(data, ref, job_config=config, location=adapter.location),
                 f"to load the rows for {name}", kind="load job")


def write_results(adapter: Any, name: str, columns: Sequence[tuple[str, str]], rows: Sequence[Sequence[Any]],
                  keys: Sequence[str]) -> int:
    """Replace the rows of ``keys`` in ``name`` (created if absent) with one MERGE; the
    number of rows written. ``adapter`` is the connected :class:`~csframe.adapters.bigquery.BigQueryAdapter`."""
    from google.cloud import bigquery

    from .bigquery import bigquery_type

    table = qualified(name, adapter.project, adapter.dataset)
    _unique_keys(columns, rows, keys, name)
    client = adapter._require()
    dataset = bigquery.DatasetReference(table.catalog, table.db)
    _target(adapter, client, table, columns, keys, name)
    if not rows:
        return 0
    staging_name = f"{STAGING_PREFIX}{uuid.uuid4().hex[:16]}"
    staging = exp.Table(this=_ident(staging_name), db=_ident(table.db), catalog=_ident(table.catalog))
    staging_ref = dataset.table(staging_name)
    try:
        _stage(adapter, client, staging_ref, [(n, bigquery_type(t)) for n, t in columns], rows, name)
        write_stage(UNCOMMITTED)  # staged, nothing changed yet: the tests kill a writer or race two here
        sql = merge_statement(table, staging, columns, keys)
        merge_with_retries(lambda: adapter._job(
            lambda: client.query(sql, job_config=adapter.statement_config(), location=adapter.location),
            f"to write {name}"), adapter.deadline)
    except MetricFailedError as e:
        if not isinstance(e, RunTimeoutError) and e.hint is None:
            e.hint = _NOTHING_WRITTEN
        raise
    finally:
        try:
            client.delete_table(staging_ref, not_found_ok=True, retry=None, timeout=10)
        except Exception:  # noqa: BLE001, S110 - best effort: the staging table expires anyway
            pass
    return len(rows)
