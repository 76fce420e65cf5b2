#!/usr/bin/env python
"""The whole revenue catalog at 100,000 customers on Spark (local, in this process) beside
DuckDB: a script, not a timed unit test.

    python tests/benchmarks/spark_benchmark.py [--duckdb FILE] [--workdir DIR] [--repeat 2]
                                               [--master local[2]] [--variant NAME:KEY=VALUE,...]
                                               [--profile] [--explain FILE]

It reads the subset benchmark's data (``subset_benchmark.py`` writes it: demo generate(seed=42),
36 months to 2025-01-01, ``--duckdb`` its ``bench.duckdb``), loads the five revenue sources into
a Spark warehouse under ``--workdir`` through the adapter's ``load_tables`` (as the Spark tests
load theirs: Parquet versions registered in the process's one SparkSession), then runs
``Session.compute`` of every variant of ``csframe.definitions.revenue`` at month grain from
2022-01 on both engines (one untimed warm-up each, then interleaved rounds: contract checks +
csframe's query, as a run does),
checks the numbers are equal (relative 1e-9, None == None) and prints the medians, the ratio and
the run's stage timings (connect, check, compile, execute).

``--variant NAME:KEY=VALUE,...`` (repeatable) adds a Spark run with those Spark SQL settings set
on the adapter's session besides the adapter's own (e.g. ``p2:spark.sql.shuffle.partitions=2``),
timed in the same rounds and checked equal too: what a setting changes, measured under the same
load. ``--profile`` then times the checks and each statement of the split query (each view, the
final query) for Spark and each variant; ``--explain FILE`` writes Spark's plan of each statement
(``--repeat 0``: load and explain only). Only a wrong number (or an error) makes the exit status
non-zero.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import importlib.util
import io
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


def _variant(text: str) -> tuple[str, dict[str, str]]:
    name, _, pairs = text.partition(":")
    conf = dict(p.split("=", 1) for p in pairs.split(",") if p)
    if not name or not conf:
        raise argparse.ArgumentTypeError(f"--variant {text!r}: want NAME:KEY=VALUE[,KEY=VALUE]")
    return name, conf


@contextlib.contextmanager
def _settings(conf: dict[str, str]):
    """The adapter's per-session settings (set on every connect) with ``conf`` added, for the block."""
    from csframe.adapters import spark_session

    saved = dict(spark_session.SESSION_SETTINGS)
    spark_session.SESSION_SETTINGS.update(conf)
    try:
        yield
    finally:
        spark_session.SESSION_SETTINGS.clear()
        spark_session.SESSION_SETTINGS.update(saved)


def _load() -> str:
    return f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--duckdb", type=Path,
                   default=Path("/tmp/csframe-bench-subsets/c100000_m36_2025-01-01/bench.duckdb"))
    p.add_argument("--workdir", type=Path, default=Path("/tmp/csframe-bench-spark"))
    p.add_argument("--repeat", type=int, default=2)
    p.add_argument("--master", default="local[2]")
    p.add_argument("--variant", type=_variant, action="append", default=[],
                   help="NAME:KEY=VALUE,... a Spark run with these session settings added (repeatable)")
    p.add_argument("--profile", action="store_true",
                   help="after the rounds, time each statement of the split query on its own (views, then the final query)")
    p.add_argument("--explain", type=Path, default=None,
                   help="write Spark's formatted plans of the split query's statements to this file")
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
    warehouse = args.workdir / "spark-warehouse"
    if warehouse.exists():
        shutil.rmtree(warehouse)
    sp = Session.open(project=Project(dir=args.workdir, adapter={"name": "spark", "master": args.master,
                                                                  "warehouse": "spark-warehouse",
                                                                  "database": "bench"}, sources=sources),
                      entry_points=False)
    t = time.perf_counter()
    sp.adapter().connect(write=True)
    started = time.perf_counter() - t
    t = time.perf_counter()
    sp.adapter().load_tables(Dataset(tables))
    print(f"rows: {', '.join(f'{tb.name} {len(tb.rows):,}' for tb in tables)}; "
          f"spark start {started:.1f} s, load {time.perf_counter() - t:.1f} s ({args.master})", flush=True)
    del tables
    dk = Session.open(project=Project(dir=args.workdir, adapter={"name": "duckdb", "database": "bench.duckdb",
                                                                  "read_only": True}, sources=sources),
                      entry_points=False)
    keys = rb.catalog_names()
    kwargs = {"grain": "month", "start": "2022-01-01", "end": dt.date(2025, 1, 1)}
    if args.explain is not None:
        explain(sp, keys, kwargs, args.explain)
        print(f"plans written to {args.explain}")
    if args.repeat < 1:  # --repeat 0: load (and --explain) only
        sp.close()
        dk.close()
        return 0
    print(f"{_load()} on {os.cpu_count()} CPU(s); {len(keys)} variants, month grain 2022-01 .. 2024-12; "
          f"repeat {args.repeat}", flush=True)
    runs = [("duckdb", dk, {}), ("spark", sp, {})] + [(f"spark {n}", sp, c) for n, c in args.variant]
    for name, s, conf in runs[:2]:  # untimed warm-ups: the JVM's first run of the query compiles its code
        with _settings(conf):
            t = time.perf_counter()
            s.compute(keys, **kwargs)
        print(f"  warm-up {name:<12} {time.perf_counter() - t:7.2f} s", flush=True)
    times: dict[str, list[float]] = {name: [] for name, _, _ in runs}
    stages: dict[str, list[dict[str, float]]] = {name: [] for name, _, _ in runs}
    results = {}
    for r in range(args.repeat):
        for name, s, conf in runs:
            with _settings(conf):
                t = time.perf_counter()
                results[name] = s.compute(keys, **kwargs)
                times[name].append(time.perf_counter() - t)
            stages[name].append(dict(results[name].timings))
            print(f"  round {r + 1} {name:<12} {times[name][-1]:7.2f} s  "
                  f"{ {k: round(v, 2) for k, v in results[name].timings.items()} }", flush=True)
    base = results["duckdb"]
    d = statistics.median(times["duckdb"])
    print(f"catalog on DuckDB {d:7.3f} s (runs {', '.join(f'{x:.2f}' for x in times['duckdb'])})")
    failed = False
    for name, _, _ in runs[1:]:
        c = results[name]
        bad = [(x, y) for x, y in zip(base.rows, c.rows) if x[:-1] != y[:-1] or not data.same(x[-1], y[-1])]
        equal = base.columns == c.columns and len(base.rows) == len(c.rows) and not bad
        failed |= not equal
        k = statistics.median(times[name])
        ratios = [a / b for a, b in zip(times[name], times["duckdb"])]
        execute = statistics.median(st.get("execute", 0.0) for st in stages[name])
        print(f"catalog on {name:<12} {k:7.3f} s (runs {', '.join(f'{x:.2f}' for x in times[name])}; "
              f"execute {execute:.2f} s): {name} / DuckDB {k / d:.1f}x (per-round median "
              f"{statistics.median(ratios):.1f}x); "
              f"{'equal' if equal else f'DIFFER ({len(bad)} rows, e.g. {bad[:2]})'} ({len(c.rows):,} rows)")
    if args.profile:
        for name, conf in [("spark", {}), *args.variant]:
            with _settings(conf):
                profile(sp, keys, kwargs, name)
    print(f"{_load()} at the end")
    sp.close()
    dk.close()
    return 1 if failed else 0


def profile(sp, keys, kwargs, label: str) -> None:
    """Wall time of the checks (the sources' columns, the counts query), then of each statement the
    adapter runs for the catalog's query: each shared CTE's view
    (computed and checkpointed, as adapters/spark_run.py does), then the final query's collect."""
    from csframe.adapters.spark_run import split_query

    plan = sp.plan(sp.request([tuple(k.split(":")) for k in keys], **kwargs))
    _, sql = sp.compile(plan)
    sp.adapter().connect()
    t = time.perf_counter()
    _, absent = sp.inspect_sources(plan.sources, plan.by)
    inspected = time.perf_counter() - t
    t = time.perf_counter()
    sp.check_data(plan.sources, plan.parameters, absent)
    print(f"profile [{label}] checks: reading the sources' columns {inspected:.2f} s, "
          f"the data-contract counts query {time.perf_counter() - t:.2f} s", flush=True)
    session = sp.adapter()._require()
    views, final = split_query(sql, "csframe_profile_")
    parts = []
    for name, body in views:
        t = time.perf_counter()
        session.sql(body).localCheckpoint(eager=True).createOrReplaceTempView(name)
        parts.append((name.removeprefix("csframe_profile_"), time.perf_counter() - t))
    t = time.perf_counter()
    frame = session.sql(final)
    analysed = time.perf_counter() - t
    rows = frame.collect()
    parts.append((f"final ({len(rows):,} rows; analysis {analysed:.2f} s)", time.perf_counter() - t))
    for name, _ in views:
        session.catalog.dropTempView(name)
    t = time.perf_counter()
    sp.adapter().execute(sql)
    parts.append(("(the same SQL through adapter.execute", time.perf_counter() - t))
    print(f"profile [{label}] total {sum(x for _, x in parts[:-1]):.2f} s: "
          + ", ".join(f"{n} {x:.2f} s" for n, x in parts) + ")", flush=True)


def explain(sp, keys, kwargs, out: Path) -> None:
    """Spark's formatted plan of each statement the adapter runs for the catalog (views, then the final
    query), each view computed and checkpointed before the next is planned, as the adapter runs them."""
    from csframe.adapters.spark_run import split_query

    plan = sp.plan(sp.request([tuple(k.split(":")) for k in keys], **kwargs))
    _, sql = sp.compile(plan)
    views, final = split_query(sql, "csframe_explain_")
    session = sp.adapter()._require()
    with out.open("w", encoding="utf-8") as f:
        for name, body in views:
            frame = session.sql(body)
            f.write(f"== view {name}\n{_plan(frame)}\n")
            frame.localCheckpoint(eager=True).createOrReplaceTempView(name)  # as adapters/spark_run.py does
        f.write(f"== final\n{_plan(session.sql(final))}\n")
        for name, _ in views:
            session.catalog.dropTempView(name)


def _plan(frame) -> str:
    text = io.StringIO()
    with contextlib.redirect_stdout(text):
        frame.explain(mode="formatted")
    return text.getvalue()


if __name__ == "__main__":
    sys.exit(main())
