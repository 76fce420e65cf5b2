"""csframe's tables in a local Spark warehouse directory: Parquet, replaced by a pointer swap.

A Spark session without a Hive metastore (local pyspark) forgets its catalog when the process
ends, so the tables csframe loads (``init --demo``, the test kit) and writes (``--target``) live
in a directory the project names (``[adapter] warehouse``), one directory per table::

    <warehouse>/<database>/<table>/
        v-<time>-<random>/   a version: a Parquet directory Spark wrote, never changed after
        CURRENT              the name of the table's current version (one line)
        .lock                a writer's lock (fcntl.flock), so that writers take turns

A new content is written whole to a new version directory; only when Spark's write has
committed is ``CURRENT`` replaced, by ``os.replace`` of a file written beside it (atomic on a
POSIX file system). A failure or a killed process before that leaves ``CURRENT`` naming the
old version: the table holds what it held. Readers open the version ``CURRENT`` named when
they registered the table (:func:`register`); the version before the current one is kept, so a
reader of another process that registered it just before a swap still finds its files; older
ones are removed.
"""

from __future__ import annotations

__all__ = ["CURRENT", "table_dir", "current_version", "forget", "register", "register_all", "replace", "writer_lock"]

import contextlib
import fcntl
import os
import shutil
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

CURRENT = "CURRENT"
_KEEP = 2  # the current version and the one before it


def table_dir(warehouse: Path, database: str, table: str) -> Path:
    return warehouse / database / table


def current_version(directory: Path) -> Path | None:
    """The directory of the table's current version (None: no committed version)."""
    try:
        name = (directory / CURRENT).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    version = directory / name
    return version if name and version.is_dir() else None


def quoted(name: str) -> str:
    """A Spark SQL identifier in backquotes (a backquote doubled)."""
    return "`" + name.replace("`", "``") + "`"


def _location(path: Path) -> str:
    """A string literal of ``path`` for LOCATION (quote and backslash escaped, as Spark reads)."""
    text = path.resolve().as_uri()
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


# (the process's SparkContext, database, table) → the version registered there. Every session of the
# process shares one catalog, so a table registered at its current version is not registered again
# when the next adapter connects (3 statements and a Parquet footer read per table: ~0.1–0.3 s each,
# seconds per connect on the twelve demo tables and more in a test's database)
_REGISTERED: dict[tuple[int, str, str], Path] = {}


def register(spark: Any, database: str, table: str, version: Path) -> None:
    """Point ``database.table`` of the session's catalog at ``version`` (Parquet), unless it
    already points there."""
    key = (id(spark.sparkContext), database, table)
    name = f"{quoted(database)}.{quoted(table)}"
    if _REGISTERED.get(key) == version and spark.catalog.tableExists(f"{quoted(database)}.{quoted(table)}"):
        return
    spark.sql(f"CREATE DATABASE IF NOT EXISTS {quoted(database)}")
    spark.sql(f"DROP TABLE IF EXISTS {name}")
    spark.sql(f"CREATE TABLE {name} USING PARQUET LOCATION {_location(version)}")
    _REGISTERED[key] = version


def forget(spark: Any, database: str) -> None:
    """Drop ``database`` and its tables from the process's catalog (their files stay)."""
    spark.sql(f"DROP DATABASE IF EXISTS {quoted(database)} CASCADE")
    for key in [k for k in _REGISTERED if k[1] == database]:
        del _REGISTERED[key]


def register_all(spark: Any, warehouse: Path, database: str) -> list[str]:
    """Register every table of ``<warehouse>/<database>`` at its current version; their names."""
    root = warehouse / database
    spark.sql(f"CREATE DATABASE IF NOT EXISTS {quoted(database)}")
    names = []
    if root.is_dir():
        for directory in sorted(p for p in root.iterdir() if p.is_dir()):
            version = current_version(directory)
            if version is not None:
                register(spark, database, directory.name, version)
                names.append(directory.name)
    return names


@contextlib.contextmanager
def writer_lock(directory: Path) -> Iterator[None]:
    """Hold the table's writer lock (blocking) while the block runs."""
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / ".lock", "a+b") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def new_version(directory: Path) -> Path:
    return directory / f"v-{time.time_ns():020d}-{uuid.uuid4().hex[:8]}"


def replace(directory: Path, version: Path) -> None:
    """Make ``version`` (written and committed) the table's current one, atomically; then
    remove the versions older than the one before it, and versions a failed write left."""
    pointer = directory / f".{CURRENT}.{uuid.uuid4().hex[:8]}"
    previous = current_version(directory)
    with open(pointer, "w", encoding="utf-8") as f:
        f.write(version.name + "\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(pointer, directory / CURRENT)
    keep = {version.name} | ({previous.name} if previous is not None else set())
    for old in directory.iterdir():
        if old.is_dir() and old.name.startswith("v-") and old.name not in keep:
            shutil.rmtree(old, ignore_errors=True)
