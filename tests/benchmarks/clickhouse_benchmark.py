#!/usr/bin/env python
"""The whole revenue catalog at 100,000 customers on ClickHouse (chdb, in this process) beside
DuckDB: a script, not a timed unit test.

    python tests/benchmarks/clickhouse_benchmark.py [--duckdb FILE] [--workdir DIR] [--repeat 3]

It reads the subset benchmark's data (``subset_benchmark.py`` writes it: demo generate(seed=42),
36 months to 2025-01-01, ``--duckdb`` its ``bench.duckdb``), copies the five revenue sources into
a chdb data directory under ``--workdir`` through the adapter's ``load_tables``, then runs
``Session.compute`` of every variant of ``csframe.definitions.revenue`` at month grain from
2022-01 on both engines in interleaved rounds (contract checks + csframe's query, as a run does),
checks the numbers are equal (relative 1e-9, None == None) and prints the medians. Only a wrong
number (or an error) makes the exit status non-zero.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import os
import shutil
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _subset_data():
    """tests/benchmarks/subset_data.py (loaded as a file: this script runs as one)."""
    spec = importlib.util.spec_from_file_location("csframe_bench_subset_data", HERE / "subset_data.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--duckdb", type=Path,
                   default=Path("/tmp/csframe-bench-subsets/c100000_m36_2025-01-01/bench.duckdb"))
    p.add_argument("--workdir", type=Path, default=Path("/tmp/csframe-bench-clickhouse"))
    p.add_argument("--repeat", type=int, default=3)
    args = p.parse_args(argv)

    from csframe.core.dataset import Dataset
    from csframe.core.project import Project
    from csframe.core.session import Session

    data = _subset_data()
    rb = data.sibling("run_benchmark")
    if not args.duckdb.exists():
        print(f"no {args.duckdb}: run tests/benchmarks/subset_benchmark.py first (it writes the data)")
        return 2
    tables, sources = data.read_tables(args.duckdb, args.workdir)
    chdb_dir = args.workdir / "bench.chdb"
    if chdb_dir.exists():
        shutil.rmtree(chdb_dir)
    ch = Session.open(project=Project(dir=args.workdir, adapter={"name": "clickhouse", "path": "bench.chdb",
                                                                  "database": "bench"}, sources=sources),
                      entry_points=False)
    t = time.perf_counter()
    ch.adapter().connect(write=True)
    ch.adapter().load_tables(Dataset(tables))
    print(f"rows: {', '.join(f'{tb.name} {len(tb.rows):,}' for tb in tables)}; "
          f"chdb load {time.perf_counter() - t:.1f} s")
    del tables
    dk = Session.open(project=Project(dir=args.workdir, adapter={"name": "duckdb", "database": "bench.duckdb",
                                                                  "read_only": True}, sources=sources),
                      entry_points=False)
    keys = rb.catalog_names()
    kwargs = {"grain": "month", "start": "2022-01-01", "end": dt.date(2025, 1, 1)}
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} CPU(s); "
          f"{len(keys)} variants, month grain 2022-01 .. 2024-12; repeat {args.repeat}")
    times: dict[str, list[float]] = {"duckdb": [], "clickhouse": []}
    results = {}
    for _ in range(args.repeat):
        for name, s in (("duckdb", dk), ("clickhouse", ch)):
            t = time.perf_counter()
            results[name] = s.compute(keys, **kwargs)
            times[name].append(time.perf_counter() - t)
    a, c = results["duckdb"], results["clickhouse"]
    bad = [(x, y) for x, y in zip(a.rows, c.rows) if x[:-1] != y[:-1] or not data.same(x[-1], y[-1])]
    equal = a.columns == c.columns and len(a.rows) == len(c.rows) and not bad
    d, k = statistics.median(times["duckdb"]), statistics.median(times["clickhouse"])
    print(f"catalog on ClickHouse (chdb) {k:7.3f} s (runs {', '.join(f'{x:.2f}' for x in times['clickhouse'])}), "
          f"on DuckDB {d:7.3f} s (runs {', '.join(f'{x:.2f}' for x in times['duckdb'])}): "
          f"ClickHouse / DuckDB {k / d:.1f}x; {'equal' if equal else f'DIFFER ({len(bad)} rows, e.g. {bad[:2]})'}")
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())} at the end")
    ch.close()
    dk.close()
    return 0 if equal else 1


if __name__ == "__main__":
    sys.exit(main())
