"""What the engine-beside-DuckDB benchmarks share (clickhouse_benchmark.py, spark_benchmark.py):
the subset benchmark's data read into csframe Tables, and the equality they check.

The scripts run as files (``python tests/benchmarks/x.py``), so they load this one with
:func:`sibling`, as they load ``run_benchmark.py``."""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

HERE = Path(__file__).resolve().parent


def sibling(name: str) -> ModuleType:
    """The module ``tests/benchmarks/<name>.py``, loaded once."""
    key = f"csframe_bench_{name}"
    if key in sys.modules:
        return sys.modules[key]
    spec = importlib.util.spec_from_file_location(key, HERE / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[key] = module
    spec.loader.exec_module(module)
    return module


def same(a: Any, b: Any) -> bool:
    """Equal at relative 1e-9, None only with None."""
    if a is None or b is None:
        return a is None and b is None
    return abs(a - b) <= 1e-9 * max(1.0, abs(a), abs(b))


def read_tables(duckdb_file: Path, workdir: Path) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """(the revenue sources of ``duckdb_file`` as csframe Tables, a SourceBinding each), read from
    a copy in ``workdir`` (the subset benchmark may rewrite its file meanwhile)."""
    import duckdb

    from csframe.core.dataset import Column, Table
    from csframe.core.project import SourceBinding

    names = sibling("run_benchmark").SOURCES
    workdir.mkdir(parents=True, exist_ok=True)
    copy = workdir / "bench.duckdb"
    shutil.copyfile(duckdb_file, copy)
    con = duckdb.connect(str(copy), read_only=True)
    try:
        tables = tuple(Table(name, tuple(Column(c[0], c[1]) for c in con.execute(f'DESCRIBE "{name}"').fetchall()),
                             con.execute(f'SELECT * FROM "{name}"').fetchall()) for name in names)
    finally:
        con.close()
    return tables, {s: SourceBinding(s, table=s) for s in names}
