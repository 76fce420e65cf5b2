"""The Spark adapter (pyspark; Spark SQL): csframe's one query on a SparkSession.

``[adapter]`` settings:

- ``master``: the Spark master of the process's session (default ``local[2]``: Spark embedded
  in the process, two threads). A process has ONE SparkSession (:mod:`.spark_session`), started
  by the first adapter that connects, on that adapter's master; each adapter reads through a
  session of its own over it (``newSession()``: its own current database, the same catalog).
- ``database``: the Spark database (schema) the sources' table names are read in (default
  ``default``).
- ``warehouse``: a directory (relative to the project) of csframe's own Parquet tables
  (:mod:`.spark_tables`: ``init --demo``, the test kit, ``compute --target``); every table of
  ``<warehouse>/<database>`` is registered in the session's catalog when the adapter connects.
  Without it the adapter reads the tables the session's catalog already has (a metastore's) and
  cannot write ``--target`` tables.
- ``statement_timeout_s``: stop a statement after this many seconds (0: no limit).

Timestamps: the session's time zone is UTC, so Spark's TIMESTAMP (an instant) reads as the data
contract's naive UTC timestamp; results are fetched as TIMESTAMP_NTZ so that pyspark does not
turn them into the Python process's local time.

Databricks (a SQL warehouse, through ``databricks-sql-connector``) is the separate adapter
``databricks`` (:mod:`.databricks`), in the same dialect.
"""

from __future__ import annotations

__all__ = ["SparkAdapter", "csframe_register_adapters", "spark_error"]

import threading
import uuid
from pathlib import Path
from typing import Any

from csframe.core.errors import EngineUnavailableError, MetricFailedError, ProjectError, RunTimeoutError
from csframe.core.hookspecs import hookimpl
from csframe.core.settings import want_int, want_str

from .init_support import InitFromModule
from .spark_dialect import TRANSFORMS

_SETTINGS = ("name", "master", "database", "warehouse", "statement_timeout_s")
_MAX_TIMEOUT_S = 7 * 24 * 3600


def spark_error(error: BaseException) -> str:
    """The first line of what Spark said (its error class and message), without the JVM's trace."""
    text = getattr(error, "getMessage", None)
    message = ""
    if callable(text):
        try:
            message = str(text())
        except Exception:  # noqa: BLE001 - fall back to str()
            message = ""
    message = message or str(error) or type(error).__name__
    for line in message.splitlines():
        if line.strip() and not line.startswith(("JVM stacktrace", "\tat ", "== SQL")):
            return line.strip()
    return type(error).__name__


class SparkAdapter(InitFromModule):
    """Runs csframe's query as Spark SQL on the process's SparkSession."""

    NAME = "spark"
    DIALECT = "spark"
    TRANSFORMS = TRANSFORMS

    def __init__(self, settings: dict[str, Any], project_dir: Path) -> None:
        unknown = set(settings) - set(_SETTINGS)
        if unknown:
            raise ProjectError(f"adapter: unknown key(s) for spark: {', '.join(sorted(unknown))}",
                               hint=f"spark takes: {', '.join(_SETTINGS[1:])}.")
        self.master = want_str(settings.get("master", "local[2]"), "adapter.master", 'master = "local[2]"')
        self.database = want_str(settings.get("database", "default"), "adapter.database", 'database = "analytics"')
        warehouse = settings.get("warehouse")
        self.warehouse = None if warehouse is None else (
            project_dir / want_str(warehouse, "adapter.warehouse", 'warehouse = "spark-warehouse"')).resolve()
        self.timeout_s = want_int(settings.get("statement_timeout_s", 0), "adapter.statement_timeout_s",
                                  minimum=0, maximum=_MAX_TIMEOUT_S)
        self.session: Any = None
        self.deadline: Any = None

    def describe(self) -> str:
        where = f", warehouse {self.warehouse}" if self.warehouse is not None else ""
        return f"spark ({self.master}) database {self.database}{where}"

    # -- the connection ------------------------------------------------------------------------
    def connect(self, *, write: bool = False) -> None:
        """Get the process's SparkSession (starting it: seconds), a session of this adapter's own
        over it, and the warehouse's tables registered; ``write`` creates the database."""
        try:
            import pyspark  # noqa: F401
        except ImportError:
            raise EngineUnavailableError("the spark adapter needs pyspark",
                                         hint="pip install 'csframe[spark]' (and Java 17: a JRE on the PATH "
                                              "or JAVA_HOME).") from None
        from .spark_session import SESSION_SETTINGS, shared_session
        from .spark_tables import quoted, register_all

        try:
            shared = shared_session(self.master)
        except Exception as e:  # noqa: BLE001 - no Java, a master that does not answer
            raise EngineUnavailableError(f"cannot start spark on {self.master}: {spark_error(e)}",
                                         hint="Check that Java 17 is installed (java -version) and that the "
                                              "master is right.") from None
        self.session = shared.newSession()
        try:
            for key, value in SESSION_SETTINGS.items():  # a new session starts from the context's settings
                self.session.conf.set(key, value)
            if self.warehouse is not None:
                register_all(self.session, self.warehouse, self.database)
            elif write:
                self.session.sql(f"CREATE DATABASE IF NOT EXISTS {quoted(self.database)}")
            if self.database != "default" or self.warehouse is not None:
                self.session.catalog.setCurrentDatabase(self.database)
        except Exception as e:  # noqa: BLE001
            self.session = None
            raise EngineUnavailableError(f"spark cannot use database {self.database}: {spark_error(e)}",
                                         hint="Check [adapter] database (and warehouse) in csframe.toml.") from None

    def _require(self) -> Any:
        if self.session is None:
            self.connect()
        return self.session

    def set_deadline(self, deadline: Any) -> None:
        """Hold every statement to ``deadline`` (None: no limit) until it is cleared."""
        self.deadline = deadline

    def _limit(self) -> float | None:
        left = self.deadline.remaining() if self.deadline is not None else None  # raises when already up
        if self.timeout_s:
            left = self.timeout_s if left is None else min(left, self.timeout_s)
        return left

    def _collect(self, frame_of: Any, what: str) -> Any:
        """``frame_of(session)`` run under the time limit: Spark's jobs of this thread carry a
        tag, interrupted by a timer when the time is up."""
        session = self._require()
        left = self._limit()
        tag = f"csframe-{uuid.uuid4().hex[:12]}"
        fired = threading.Event()
        timer = None
        if left is not None:
            def interrupt() -> None:
                fired.set()
                session.interruptTag(tag)

            timer = threading.Timer(left, interrupt)
            timer.daemon = True
        session.addTag(tag)
        try:
            if timer is not None:
                timer.start()
            return frame_of(session)
        except Exception as e:  # noqa: BLE001 - Spark's exceptions (analysis, parse, a job's)
            if fired.is_set():
                raise RunTimeoutError(f"spark stopped {what}: the run's time limit was reached") from None
            if isinstance(e, (MetricFailedError, EngineUnavailableError)):
                raise
            raise MetricFailedError(f"spark failed to run {what}: {spark_error(e)}") from None
        finally:
            if timer is not None:
                timer.cancel()
            session.removeTag(tag)

    def execute(self, sql: str) -> list[tuple]:
        return self._rows(sql)

    def execute_tree(self, tree: Any) -> list[tuple]:
        """The metrics query as csframe's tree: split without parsing its SQL again (spark_run.py)."""
        return self._rows(tree)

    def _rows(self, query: Any) -> list[tuple]:
        """The rows of ``query`` (text, or a tree this may change), its shared CTEs computed first."""
        from .spark_run import run_query

        def run(session: Any) -> list[tuple]:
            return run_query(session, query, lambda frame: [tuple(r) for r in _naive_timestamps(frame).collect()])

        return self._collect(run, "the query")

    def relation_columns(self, relation_sql: str) -> list[str]:
        return [name for name, _ in self.relation_types(relation_sql)]

    def relation_types(self, relation_sql: str) -> list[tuple[str, str]]:
        """(name, Spark type, e.g. ``timestamp``, ``decimal(18,2)``) of each column of the relation."""
        def run(session: Any) -> list[tuple[str, str]]:
            schema = session.sql(f"SELECT * FROM ({relation_sql}) AS t LIMIT 0").schema
            return [(f.name, f.dataType.simpleString()) for f in schema.fields]

        try:
            return self._collect(run, "reading a source")
        except RunTimeoutError:
            raise
        except MetricFailedError as e:
            raise MetricFailedError(e.message.removeprefix("spark failed to run reading a source: ")) from None

    # -- tables --------------------------------------------------------------------------------
    def load_tables(self, dataset: Any) -> None:
        """Write each table of ``dataset`` to the warehouse (Parquet, replacing it) and register it."""
        from .spark_write import load_dataset

        load_dataset(self, dataset)

    def check_target(self, table: str, columns: Any, keys: Any) -> None:
        """The pre-flight of a run that writes ``table`` (:func:`.spark_write.check_target`)."""
        from .spark_write import check_target

        check_target(self, table, columns)

    def write_results(self, table: str, columns: Any, rows: Any, keys: Any) -> int:
        """Replace the rows of ``keys`` in ``table`` by a new version swapped in whole."""
        from .spark_write import write_results

        return write_results(self, table, columns, rows, keys)

    # csframe init --adapter spark and the test kit (core/adapter.py): the code is in spark_init.py
    INIT_MODULE = "csframe.adapters.spark_init"
    INIT_OPTIONS: tuple[str, ...] = ()
    # among the kit's default engines only when set (or named: CSFRAME_TEST_ENGINES): every
    # csframe_case test would also start a JVM; the conformance suite runs it regardless
    TEST_OPT_IN_ENV = "CSFRAME_TEST_SPARK"

    def close(self) -> None:
        self.session = None  # the process's SparkSession stays up for the next adapter


def _naive_timestamps(frame: Any) -> Any:
    """``frame`` with its TIMESTAMP columns as TIMESTAMP_NTZ (the same UTC wall time): pyspark
    turns a TIMESTAMP into the Python process's local time, a TIMESTAMP_NTZ into a naive
    datetime of its own value."""
    from pyspark.sql import functions as F
    from pyspark.sql.types import TimestampType

    if not any(isinstance(f.dataType, TimestampType) for f in frame.schema.fields):
        return frame
    return frame.select(*[
        F.col(_quoted(f.name)).cast("timestamp_ntz").alias(f.name) if isinstance(f.dataType, TimestampType)
        else F.col(_quoted(f.name)) for f in frame.schema.fields])


def _quoted(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


@hookimpl
def csframe_register_adapters(register) -> None:
    register("spark", SparkAdapter)
