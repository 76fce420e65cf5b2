"""The one SparkSession of a process (pyspark): started on first use, shared by every Spark
adapter of the process, never stopped by an adapter (a JVM takes seconds to start; the
process's exit stops it).

Local Spark (``master = "local[2]"``, the default) runs with the UI off, adaptive execution off,
1 shuffle partition
(csframe's data is small next to what Spark is built for: 200 partitions cost more than they
split), the session time zone UTC (the data contract's timestamps are UTC), ANSI mode off (a
cast that fails yields NULL, as on the other engines' ``TRY_CAST``), and its own warehouse
directory in a temporary directory (so nothing lands in the working directory), and variable substitution off (Spark would
replace ``${name}`` inside a user's string literal). A session
already running in the process (a notebook's, ``SparkSession.getActiveSession()``) is used as
it is, but for the time zone and ANSI mode, which are session settings csframe's SQL needs.
"""

from __future__ import annotations

__all__ = ["SESSION_SETTINGS", "shared_session", "running_session"]

import tempfile
import threading
from typing import Any

_LOCK = threading.Lock()
_SESSION: Any = None

_CONF = {
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    # 1, not Spark's 200 (nor 2): on csframe's small tables each partition is a task to schedule, and the
    # whole catalog at month grain took 35 s with 2, 27 s with 1 (a 2-core machine under load ~5)
    "spark.sql.shuffle.partitions": "1",
    "spark.default.parallelism": "1",
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.ansi.enabled": "false",
    # Spark replaces ${name} in SQL text with a setting's value: a user string such as '${HOME}' (a
    # --param value) came back empty, and '${spark.some.setting}' would read the session's settings
    "spark.sql.variable.substitute": "false",
    "spark.driver.extraJavaOptions": "-Duser.timezone=UTC",
    "spark.executor.extraJavaOptions": "-Duser.timezone=UTC",
    "spark.sql.execution.arrow.pyspark.enabled": "false",
}
_RUNTIME = ("spark.sql.session.timeZone", "spark.sql.ansi.enabled", "spark.sql.variable.substitute")
SESSION_SETTINGS = {key: _CONF[key] for key in _RUNTIME}
"""What every adapter's own session (``newSession()``) is set to when it connects."""
# Spark in this process (local[N]): adaptive re-planning after every stage costs more than it saves on
# csframe's tables (the catalog's statements at 100,000 customers: 17.0 s against 15.9 s without it).
# Whole-stage code generation stays on, Spark's default: off, the catalog at 100,000 customers (1M
# subscription rows) took 1.2x as long (1.3-1.65x for the query's statements alone), and the warm catalog
# on 120 customers was no faster; on it costs the process's first run of a query its compilation (the
# first whole-catalog test: 66 s against 48 s; tests/benchmarks/README.md, "Spark (local) beside DuckDB")
_LOCAL = {
    "spark.sql.adaptive.enabled": "false",
}


def running_session() -> Any:
    """The process's session when one was started, else None (starts nothing)."""
    return _SESSION


def shared_session(master: str) -> Any:
    """The process's SparkSession, started on ``master`` when there is none."""
    global _SESSION
    with _LOCK:
        if _SESSION is not None and not _stopped(_SESSION):
            return _SESSION
        from pyspark.sql import SparkSession

        active = SparkSession.getActiveSession()
        if active is not None:
            for key in _RUNTIME:
                active.conf.set(key, _CONF[key])
            _SESSION = active
            return active
        builder = SparkSession.builder.master(master).appName("csframe")
        for key, value in {**_CONF, **(_LOCAL if master.startswith("local") else {})}.items():
            builder = builder.config(key, value)
        builder = builder.config("spark.sql.warehouse.dir", tempfile.mkdtemp(prefix="csframe-spark-warehouse-"))
        session = builder.getOrCreate()
        session.sparkContext.setLogLevel("ERROR")
        _SESSION = session
        return session


def _stopped(session: Any) -> bool:
    try:
        return session.sparkContext._jsc is None
    except Exception:  # noqa: BLE001 - a session whose context went away
        return True
