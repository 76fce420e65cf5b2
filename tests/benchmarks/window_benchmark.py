#!/usr/bin/env python
"""Benchmark: trailing windows on DuckDB (a script, not a test).

    python tests/benchmarks/window_benchmark.py [--customers 100000] [--months 36] [--repeat 3] [--quick]

The revenue catalog (every variant of ``csframe.definitions.revenue.METRICS``) over the same
``--months`` months of demo data (run_benchmark.py's generator, seed 42, written once into a
DuckDB file in a temporary directory, or ``--workdir``):

1. at month grain (one row per month);
2. ``--grain day --window 30d``: the "last 30 days" figure for every day (about 1,096 rows per
   variant over 36 months) — one query, each subscription change read twice (where it enters the
   windows and 30 days later where it leaves them), never a row per change and window;
3. ``--grain day`` without a window, for context;
4. ``--grain month --window 3m`` (L3M).

Each figure is csframe's one query (its DuckDB SQL text, fetchall, read-only connection in UTC),
median of ``--repeat`` after one warm-up run; compile time is reported apart. Correctness check:
``--grain month --window 1m`` gives the month grain's rows (relative 1e-9); exit status 1 if not.
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import run_benchmark as rb  # noqa: E402


def _close(a, b) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return abs(a - b) <= 1e-9 * max(1.0, abs(a), abs(b))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--customers", type=int, default=100_000)
    p.add_argument("--months", type=int, default=36)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--end", default="2025-01-01")
    p.add_argument("--workdir")
    p.add_argument("--quick", action="store_true")
    opts = p.parse_args(argv)
    if opts.quick:
        opts.customers, opts.repeat = 5_000, 1
    end = dt.date.fromisoformat(opts.end)
    start = rb._months_before(end, opts.months)
    root = Path(opts.workdir) if opts.workdir else Path(tempfile.mkdtemp(prefix="csframe-window-bench-"))
    try:
        t0 = time.perf_counter()
        data = rb.build_project(root, opts.customers, opts.months, end)
        print(f"data: {opts.customers:,} customers, {opts.months} months, rows {data.rows} "
              f"(generate {data.generate_s:.1f} s, write {data.write_s:.1f} s, total {time.perf_counter() - t0:.1f} s)")
        from csframe.core.session import Session

        s = Session.open(data.project)
        names = rb.catalog_names()
        keys = s.keys(names)
        runs = [("month grain", "month", None), ("day grain, --window 30d", "day", "30d"),
                ("day grain, no window", "day", None), ("month grain, --window 3m", "month", "3m"),
                ("month grain, --window 1m", "month", "1m")]
        con = rb.connect(data.database)
        results = {}
        print(f"\n{len(keys)} variants, {start} to {end}, DuckDB, median of {opts.repeat} after a warm-up\n")
        print(f"{'run':<28} {'rows':>9} {'compile s':>10} {'query s':>9}")
        for label, grain, window in runs:
            c0 = time.perf_counter()
            plan = s.plan(s.request(keys, grain=grain, start=start, end=end, window=window))
            _compiled, sql = s.compile(plan, "duckdb")
            compile_s = time.perf_counter() - c0
            rows = con.execute(sql).fetchall()  # warm-up
            times = []
            for _ in range(opts.repeat):
                q0 = time.perf_counter()
                rows = con.execute(sql).fetchall()
                times.append(time.perf_counter() - q0)
            results[label] = rows
            print(f"{label:<28} {len(rows):>9,} {compile_s:>10.3f} {statistics.median(times):>9.3f}")
        month = {r[:4]: r[-1] for r in results["month grain"]}
        one = {r[:4]: r[-1] for r in results["month grain, --window 1m"]}
        bad = [k for k in month if k not in one or not _close(month[k], one[k])] + [k for k in one if k not in month]
        print(f"\ncheck: --window 1m = month grain on {len(month):,} values: {'OK' if not bad else f'{len(bad)} differ'}")
        con.close()
        s.close()
        return 1 if bad else 0
    finally:
        if not opts.workdir:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
