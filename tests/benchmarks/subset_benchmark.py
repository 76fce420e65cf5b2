#!/usr/bin/env python
"""Subsets of the revenue catalog against hand-written queries for the same subsets (issue 12):
a script, not a timed unit test.

    python tests/benchmarks/subset_benchmark.py [--customers 100000] [--repeat 7] [--workdir DIR]
                                                [--postgres DSN] [--subsets kpis,mrr,...]
                                                [--pg-repeat 3] [--pg-variant NAME:KEY=VALUE,...] [--pg-explain DIR]

For each subset (``handwritten_subsets.SUBSETS`` and ``catalog``, the whole revenue catalog with
``handwritten.HANDWRITTEN_SQL``) it compiles csframe's DuckDB query for just those keys (the text
``Session.run`` executes), checks that it gives the hand-written query's numbers (relative 1e-9,
None == None, same keys), then times both in interleaved rounds on one read-only connection
after an untimed warm-up of each, and reports the medians and the median of the per-round
ratios csframe / hand-written (target <= 1.25 on DuckDB), and beside it the median of the
per-round ratios of process CPU time (all threads), the steadier figure on a loaded machine.

The demo data (``run_benchmark.build_project``: generate(seed=42), ``--months`` months) is
written once into ``--workdir`` (default ``/tmp/csframe-bench-subsets``) and reused while the
same size and end are asked. ``--postgres DSN`` also loads it into schema ``csframe_bench`` on
that server (once) and times csframe's whole-catalog query there, beside DuckDB's, checking its
numbers against DuckDB's, in interleaved rounds: on a bare connection (the server's settings:
``jit`` on, ``work_mem`` 4 MB, what this benchmark timed before), through the adapter
(``PostgresAdapter.execute``: its connection settings, ``jit`` off, and read-only transaction, what a
run executes), and with each ``--pg-variant NAME:KEY=VALUE,...`` (those settings ``set_config(...,
true)`` in the adapter's transaction, e.g. ``wm:work_mem=256MB``); ``--pg-explain DIR`` writes
EXPLAIN (ANALYZE, BUFFERS) of the query under each. Only a wrong number (or an error) makes the
exit status non-zero.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
TARGET = 1.25
PG_SCHEMA = "csframe_bench"


def _load(name: str):
    spec = importlib.util.spec_from_file_location(f"csframe_bench_{name}", HERE / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


rb = _load("run_benchmark")
hw = _load("handwritten")
hs = _load("handwritten_subsets")


def parse_args(argv) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--customers", type=int, default=100_000)
    p.add_argument("--months", type=int, default=36)
    p.add_argument("--end", type=dt.date.fromisoformat, default=dt.date(2025, 1, 1))
    p.add_argument("--repeat", type=int, default=7, help="timed rounds (default 7)")
    p.add_argument("--workdir", type=Path, default=Path("/tmp/csframe-bench-subsets"))
    p.add_argument("--subsets", default=",".join([*hs.SUBSETS, "catalog"]))
    p.add_argument("--postgres", default=None, metavar="DSN",
                   help="also time the whole catalog on this PostgreSQL server (schema csframe_bench)")
    p.add_argument("--pg-repeat", type=int, default=3)
    p.add_argument("--pg-variant", action="append", default=[], metavar="NAME:KEY=VALUE,...",
                   help="also time the PostgreSQL query with these settings (SET LOCAL in its transaction), "
                        "in the same rounds (repeatable)")
    p.add_argument("--pg-explain", type=Path, default=None, metavar="DIR",
                   help="write EXPLAIN (ANALYZE, BUFFERS) of the catalog query under each PostgreSQL setup there")
    p.add_argument("--unpruned", action="store_true",
                   help="also time csframe's query compiled without core/prune.py (what pruning gains)")
    return p.parse_args(argv)


def _echo(msg: str = "") -> None:
    print(msg, flush=True)


def data(opts) -> Path:
    """The project directory holding bench.duckdb for this size, built once."""
    root = opts.workdir / f"c{opts.customers}_m{opts.months}_{opts.end}"
    stamp = root / "built.json"
    if stamp.exists():
        _echo(f"data: reusing {root}")
        return root
    _echo(f"data: generating {opts.customers:,} customers x {opts.months} months into {root} ...")
    d = rb.build_project(root, opts.customers, opts.months, opts.end)
    stamp.write_text(json.dumps({"rows": d.rows, "generate_s": d.generate_s, "write_s": d.write_s}))
    return root


def keys_of(name: str) -> list[tuple[str, str]]:
    if name == "catalog":
        return [tuple(n.split(":")) for n in rb.catalog_names()]
    return list(hs.SUBSETS[name])


def hand_rows(con, name: str, start: dt.date, end: dt.date) -> list[tuple]:
    return hw.run_handwritten(con, start, end) if name == "catalog" else hs.run_subset(con, name, start, end)


def compare(hand: list[tuple], mine: list[tuple], keys) -> list[str]:
    want, dup = rb._table(hand, "hand-written")
    got, dup2 = rb.csframe_table(mine)
    wanted = {k: v for k, v in want.items() if (k[0], k[1]) in set(keys)}
    problems = dup + dup2 + rb.compare(wanted, got, "csframe vs hand-written")
    if set(got) != set(wanted):
        problems.append(f"keys differ: {len(set(got) ^ set(wanted))} (csframe {len(got)}, hand {len(wanted)})")
    return problems


def timed(fn) -> tuple[float, Any]:
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def cpu_timed(fn) -> tuple[float, float]:
    """(wall, process CPU summed over all threads) seconds of ``fn()``."""
    t0, c0 = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - t0, time.process_time() - c0


def main(argv=None) -> int:
    opts = parse_args(argv)
    from csframe.core.session import Session

    start = rb._months_before(opts.end, opts.months)
    root = data(opts)
    _echo(f"{rb._load()} on {os.cpu_count()} CPU(s) at start; repeat {opts.repeat}; "
          f"periods {start} .. {rb._months_before(opts.end, 1)}")
    errors: list[str] = []
    lines: list[str] = []
    s = Session.open(root)
    con = rb.connect(root / "bench.duckdb")
    sqls: dict[str, str] = {}
    try:
        for name in [n for n in opts.subsets.split(",") if n]:
            keys = keys_of(name)
            plan = s.plan(s.request(keys, grain="month", start=start, end=opts.end))
            sql = s.compile(plan, "duckdb")[1]
            sqls[name] = sql
            whole = _unpruned(s, plan) if opts.unpruned else None
            mine = con.execute(sql).fetchall()  # warm-ups, untimed
            hand = hand_rows(con, name, start, opts.end)
            problems = compare(hand, mine, keys)
            errors += [f"{name}: {p}" for p in problems[:20]]
            if whole is not None:
                errors += [f"{name} unpruned: {p}" for p in compare(hand, con.execute(whole).fetchall(), keys)[:20]]
            cs, hq, ratios, cpu_ratios, un = [], [], [], [], []
            for _ in range(opts.repeat):
                a, a_cpu = cpu_timed(lambda: con.execute(sql).fetchall())
                b, b_cpu = cpu_timed(lambda: hand_rows(con, name, start, opts.end))
                cs.append(a), hq.append(b), ratios.append(a / b), cpu_ratios.append(a_cpu / b_cpu)
                if whole is not None:
                    un.append(timed(lambda: con.execute(whole).fetchall())[0] / b)
            ratio = statistics.median(ratios)
            line = (f"{name:<10} {len(keys):>3} keys  csframe {statistics.median(cs):7.3f} s  "
                    f"hand-written {statistics.median(hq):7.3f} s  ratio {ratio:5.2f}x "
                    f"(rounds {min(ratios):.2f}..{max(ratios):.2f}; cpu {statistics.median(cpu_ratios):.2f}x)  "
                    f"{'PASS' if ratio <= TARGET else 'FAIL'} <= {TARGET}  "
                    f"{'equal' if not problems else f'{len(problems)} DIFF'}"
                    + (f"  (unpruned: ratio {statistics.median(un):.2f}x)" if un else ""))
            lines.append(line)
            _echo(line)
    finally:
        con.close()
    if opts.postgres:
        lines += postgres(opts, s, root, start, errors)
    s.close()
    _echo(f"{rb._load()} at the end")
    _echo("\n" + "\n".join(lines))
    for e in errors[:30]:
        _echo(f"ERROR {e}")
    return 1 if errors else 0


def _unpruned(s, plan) -> str:
    """csframe's DuckDB SQL for ``plan`` compiled with core/prune.py switched off."""
    from csframe.core import compiler

    s.forget_compiled()
    saved, compiler.prune = compiler.prune, lambda query: query
    try:
        return s.compile(plan, "duckdb")[1]
    finally:
        compiler.prune = saved
        s.forget_compiled()


def postgres(opts, s, root: Path, start: dt.date, errors: list[str]) -> list[str]:
    """The whole catalog on PostgreSQL beside DuckDB: same data, csframe's query on both."""
    import duckdb
    import psycopg

    from csframe.core.session import Session

    keys = keys_of("catalog")
    pg_root = root / "postgres"
    pg_root.mkdir(exist_ok=True)
    toml = ['[adapter]', 'name = "postgres"', f'dsn = "{opts.postgres}"', f'schema = "{PG_SCHEMA}"', ""]
    for name in rb.SOURCES:
        toml += [f"[sources.{name}]", f'table = "{name}"', ""]
    (pg_root / "csframe.toml").write_text("\n".join(toml), encoding="utf-8")
    stamp = root / "postgres.json"
    if not stamp.exists():
        _echo(f"postgres: copying the DuckDB tables into schema {PG_SCHEMA} ...")
        t0 = time.perf_counter()
        src = duckdb.connect(str(root / "bench.duckdb"), read_only=True)
        with psycopg.connect(opts.postgres, autocommit=False) as pg, pg.cursor() as cur:
            cur.execute(f"DROP SCHEMA IF EXISTS {PG_SCHEMA} CASCADE")
            cur.execute(f"CREATE SCHEMA {PG_SCHEMA}")
            for name in rb.SOURCES:
                cols = src.execute(f"DESCRIBE {name}").fetchall()
                ddl = ", ".join(f'"{c[0]}" {_pg_type(c[1])}' for c in cols)
                cur.execute(f'CREATE TABLE {PG_SCHEMA}."{name}" ({ddl})')
                with cur.copy(f'COPY {PG_SCHEMA}."{name}" FROM STDIN') as copy:
                    for row in src.execute(f"SELECT * FROM {name}").fetchall():
                        copy.write_row(row)
                cur.execute(f'ANALYZE {PG_SCHEMA}."{name}"')
            pg.commit()
        src.close()
        stamp.write_text(json.dumps({"load_s": time.perf_counter() - t0}))
    ps = Session.open(pg_root)
    try:
        plan = ps.plan(ps.request(keys, grain="month", start=start, end=opts.end))
        pg_sql = ps.compile(plan, "postgres")[1]
        adapter = ps.adapter()
        adapter.connect()
    except BaseException:
        ps.close()
        raise
    duck_sql = s.compile(s.plan(s.request(keys, grain="month", start=start, end=opts.end)), "duckdb")[1]
    con = rb.connect(root / "bench.duckdb")
    # each setup: (name, its run of the query). "server defaults" is a bare connection (the server's
    # settings: jit on, work_mem 4 MB): the figure this README reported before; "adapter" is what a
    # csframe run executes (PostgresAdapter.execute: its connection and transaction settings); each
    # --pg-variant is the adapter's connection with the variant's settings SET LOCAL in the transaction
    bare = psycopg.connect(opts.postgres, autocommit=True)
    bare.execute("SET TimeZone = 'UTC'")
    bare.execute(f"SET search_path = {PG_SCHEMA}")
    setups: list[tuple[str, Any]] = [("server defaults", lambda q=pg_sql: bare.execute(q).fetchall()),
                                     ("adapter", lambda q=pg_sql: adapter.execute(q))]
    for text in opts.pg_variant:
        name, _, pairs = text.partition(":")
        conf = [tuple(x.split("=", 1)) for x in pairs.split(",") if x]
        setups.append((name, _in_transaction(adapter, conf, pg_sql)))
    try:
        duck_rows = con.execute(duck_sql).fetchall()
        want, _ = rb.csframe_table(duck_rows)
        problems: dict[str, list[str]] = {}
        for name, run in setups:  # each once, untimed: its numbers against DuckDB's (and a warm-up)
            got, dup = rb.csframe_table(run())
            problems[name] = dup + rb.compare(want, got, f"postgres ({name}) vs duckdb")
            errors += [f"postgres {name}: {p}" for p in problems[name][:20]]
        if opts.pg_explain is not None:
            _explain(opts.pg_explain, bare, adapter, setups, opts.pg_variant, pg_sql)
        times: dict[str, list[float]] = {name: [] for name, _ in [("duckdb", None), *setups]}
        for r in range(opts.pg_repeat):
            times["duckdb"].append(timed(lambda: con.execute(duck_sql).fetchall())[0])
            for name, run in setups:
                times[name].append(timed(run)[0])
            _echo(f"  postgres round {r + 1}: " + ", ".join(f"{n} {t[-1]:.2f} s" for n, t in times.items())
                  + f"; {rb._load()}")
    finally:
        con.close()
        bare.close()
        ps.close()
    d_med = statistics.median(times["duckdb"])
    out = [f"catalog on DuckDB {d_med:7.3f} s (runs {', '.join(f'{x:.2f}' for x in times['duckdb'])})"]
    for name, _ in setups:
        med = statistics.median(times[name])
        ratios = [a / b for a, b in zip(times[name], times["duckdb"])]
        out.append(f"catalog on PostgreSQL, {name:<16} {med:7.3f} s (runs {', '.join(f'{x:.2f}' for x in times[name])}): "
                   f"PostgreSQL / DuckDB {med / d_med:.1f}x (per-round median {statistics.median(ratios):.1f}x); "
                   f"{'equal' if not problems[name] else f'{len(problems[name])} DIFF'}")
    return out


def _in_transaction(adapter, conf: list[tuple[str, str]], sql: str):
    """A run of ``sql`` as PostgresAdapter.execute does it, with ``conf`` set local to its transaction."""
    def run() -> list[tuple]:
        con = adapter._require()
        with con.transaction(), con.cursor() as cur:
            cur.execute("SET TRANSACTION READ ONLY")
            cur.execute("SET LOCAL standard_conforming_strings = on")
            for key, value in conf:
                cur.execute("SELECT set_config(%s, %s, true)", (key, value))
            cur.execute(sql)
            return cur.fetchall()
    return run


def _explain(where: Path, bare, adapter, setups, variants, sql: str) -> None:
    """EXPLAIN (ANALYZE, BUFFERS) of ``sql`` under the bare connection, the adapter's, and each variant."""
    where.mkdir(parents=True, exist_ok=True)
    confs = {"server defaults": None, "adapter": []}
    for text in variants:
        name, _, pairs = text.partition(":")
        confs[name] = [tuple(x.split("=", 1)) for x in pairs.split(",") if x]
    query = f"EXPLAIN (ANALYZE, BUFFERS) {sql}"
    for name, _ in setups:
        conf = confs[name]
        if conf is None:
            lines = bare.execute(query).fetchall()
        else:
            lines = _in_transaction(adapter, conf, query)()
        path = where / (name.replace(" ", "_").replace("/", "_") + ".txt")
        path.write_text("\n".join(r[0] for r in lines) + "\n", encoding="utf-8")
        _echo(f"  EXPLAIN ANALYZE under {name}: {path}")


def _pg_type(duck_type: str) -> str:
    t = duck_type.upper()
    return {"VARCHAR": "text", "DOUBLE": "double precision", "BOOLEAN": "boolean", "TIMESTAMP": "timestamp",
            "DATE": "date", "BIGINT": "bigint", "INTEGER": "integer"}.get(t, t.lower())


if __name__ == "__main__":
    sys.exit(main())
