#!/usr/bin/env python
"""The csframe speed benchmark: a script, not a timed unit test.

    python tests/benchmarks/run_benchmark.py [--customers 100000] [--months 36] [--repeat 3] [--quick]

In one run it reports, for the whole revenue catalog (every metric variant of
``csframe.definitions.revenue.METRICS``) at month grain over the ``--months`` months of demo data:

1. compile time: keys + request + plan, then compile + render for duckdb, postgres and bigquery
   (median of ``--compile-repeat``; target < 0.3 s);
2. the wall time of ``csframe sql <metric> --dialect bigquery`` as a whole process (the installed
   ``csframe`` script; median of ``--cli-repeat``; target < 1 s);
3. the run time of csframe's one query on DuckDB (its SQL text executed on a DuckDB connection;
   median of ``--repeat``);
4. the run time of the hand-written single-pass query (``handwritten.py``), and a check that both
   give the same value (relative 1e-9, None == None) for every metric, variant and period the
   hand-written query reports;
5. the run time of the naive plan: each metric variant planned, compiled and run as its own
   query (only execution is timed), and a check that its values equal the one query's;
6. the ratios csframe / hand-written (target <= 1.5) and naive / csframe (target >= 3), and the
   scaling time(2N) / time(N) of csframe's query, N = ``--customers`` / 2 (target <= 2).

The demo data is generated once per size into a DuckDB file in a temporary directory (or
``--workdir``, which is kept); generation is timed separately. Speed targets are reported PASS or
FAIL; only a failed correctness check (or an error) makes the exit status non-zero.
``--quick`` is a smoke run: 5,000 customers, one repetition.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import attrs

HERE = Path(__file__).resolve().parent
SOURCES = ("customers", "subscriptions", "invoices", "renewals", "costs")
DIALECTS = ("duckdb", "postgres", "bigquery")
REL_TOL = 1e-9
SEED = 42

# targets
COMPILE_TARGET_S = 0.3
CLI_TARGET_S = 1.0
VS_HANDWRITTEN_MAX = 1.5
NAIVE_MIN = 3.0
SCALING_MAX = 2.0


def _load_handwritten():
    spec = importlib.util.spec_from_file_location("csframe_bench_handwritten", HERE / "handwritten.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ---------------------------------------------------------------------------------------------
# options


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--customers", type=int, default=None,
                   help="customers of the large dataset (2N; default 100000, 5000 with --quick)")
    p.add_argument("--months", type=int, default=36, help="months of history, all reported (default 36)")
    p.add_argument("--repeat", type=int, default=None,
                   help="timed runs of each query; the median is reported (default 3, 1 with --quick)")
    p.add_argument("--compile-repeat", type=int, default=None,
                   help="timed compiles of the full catalog (default 7, 3 with --quick)")
    p.add_argument("--cli-repeat", type=int, default=None,
                   help="timed `csframe sql` processes (default 5, 1 with --quick)")
    p.add_argument("--cli-metric", default="customer_lifetime_value",
                   help="the metric of the `csframe sql` timing (default customer_lifetime_value)")
    p.add_argument("--end", type=dt.date.fromisoformat, default=dt.date(2025, 1, 1),
                   help="first day of the month after the data (default 2025-01-01)")
    p.add_argument("--workdir", type=Path, default=None,
                   help="write the projects here and keep them (default: a temporary directory)")
    p.add_argument("--quick", action="store_true", help="smoke run: 5,000 customers, 1 repetition")
    a = p.parse_args(argv)
    a.customers = a.customers if a.customers is not None else (5_000 if a.quick else 100_000)
    a.repeat = a.repeat if a.repeat is not None else (1 if a.quick else 3)
    a.compile_repeat = a.compile_repeat if a.compile_repeat is not None else (3 if a.quick else 7)
    a.cli_repeat = a.cli_repeat if a.cli_repeat is not None else (1 if a.quick else 5)
    if a.customers < 2:
        p.error("--customers must be at least 2")
    if a.months < 1 or min(a.repeat, a.compile_repeat, a.cli_repeat) < 1:
        p.error("--months and the repeat counts must be at least 1")
    if a.end.day != 1:
        p.error("--end must be the first day of a month")
    return a


# ---------------------------------------------------------------------------------------------
# helpers


def _median(xs: Sequence[float]) -> float:
    return statistics.median(xs)


def _timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


@attrs.define
class Series:
    """Timed runs of one measurement: wall-clock and process CPU seconds (all threads)."""

    wall: list[float] = attrs.Factory(list)
    cpu: list[float] = attrs.Factory(list)
    first: Any = None

    def run(self, fn: Callable[[], Any]) -> Any:
        c0, w0 = time.process_time(), time.perf_counter()
        out = fn()
        self.wall.append(time.perf_counter() - w0)
        self.cpu.append(time.process_time() - c0)
        if len(self.wall) == 1:
            self.first = out
        return out

    @property
    def median(self) -> float:
        return _median(self.wall)

    @property
    def cpu_median(self) -> float:
        return _median(self.cpu)

    def note(self) -> str:
        spread = f"wall min {min(self.wall):.3f} max {max(self.wall):.3f}; " if len(self.wall) > 1 else ""
        return f"{spread}cpu {self.cpu_median:.3f} s"


def _months_before(end: dt.date, months: int) -> dt.date:
    k = end.year * 12 + end.month - 1 - months
    return dt.date(k // 12, k % 12 + 1, 1)


def catalog_names() -> list[str]:
    from csframe.definitions.revenue import METRICS

    return [f"{m.name}:{v.name}" for m in METRICS for v in m.variants]


@attrs.define
class Data:
    customers: int
    project: Path
    database: Path
    rows: dict[str, int]
    generate_s: float
    write_s: float


def build_project(root: Path, customers: int, months: int, end: dt.date) -> Data:
    """Demo data for ``customers`` customers in ``root/bench.duckdb``, and its csframe.toml."""
    import duckdb

    from csframe.adapters.duckdb_io import write_dataset
    from csframe.plugins.demo import generate

    root.mkdir(parents=True, exist_ok=True)
    db = root / "bench.duckdb"
    for stale in (db, root / "bench.duckdb.wal"):
        if stale.exists():
            stale.unlink()
    gen_s, dataset = _timed(lambda: generate(customers=customers, months=months, end=end, seed=SEED,
                                             sources=set(SOURCES)))
    rows = {t.name: len(t.rows) for t in dataset.tables}
    con = duckdb.connect(str(db))
    try:
        write_s, _ = _timed(lambda: write_dataset(con, dataset))
        con.execute("CHECKPOINT")
    finally:
        con.close()
    del dataset
    toml = ['[adapter]', 'name = "duckdb"', 'database = "bench.duckdb"', 'read_only = true', ""]
    for name in SOURCES:
        toml += [f"[sources.{name}]", f'table = "{name}"', ""]
    (root / "csframe.toml").write_text("\n".join(toml), encoding="utf-8")
    return Data(customers, root, db, rows, gen_s, write_s)


def connect(db: Path):
    """A connection set up as csframe's DuckDB adapter sets up its own."""
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    con.execute("SET TimeZone = 'UTC'")
    return con


def _same(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(float(a), float(b), rel_tol=REL_TOL, abs_tol=0.0)


def compare(reference: dict[tuple, Any], got: dict[tuple, Any], what: str) -> list[str]:
    """Differences, as lines, for every key of ``reference``."""
    bad = []
    for key in sorted(reference, key=lambda k: tuple(map(str, k))):
        want = reference[key]
        if key not in got:
            bad.append(f"{what}: {key[0]}:{key[1]} {key[2]}: missing (expected {want!r})")
        elif not _same(want, got[key]):
            bad.append(f"{what}: {key[0]}:{key[1]} {key[2]}: {got[key]!r} != {want!r}")
    return bad


def _table(rows: Sequence[tuple], what: str) -> tuple[dict[tuple, Any], list[str]]:
    out, dup = {}, []
    for row in rows:
        key = tuple(row[:3])
        if key in out:
            dup.append(f"{what}: {key[0]}:{key[1]} {key[2]}: reported twice")
        out[key] = row[-1]
    return out, dup


def csframe_table(rows: Sequence[tuple]) -> tuple[dict[tuple, Any], list[str]]:
    """(metric, variant, period_start) -> value of csframe's rows (m, v, start, end, value)."""
    return _table([(r[0], r[1], r[2], r[-1]) for r in rows], "csframe")


def find_cli() -> str | None:
    here = Path(sys.executable).parent / ("csframe.exe" if os.name == "nt" else "csframe")
    return str(here) if here.exists() else shutil.which("csframe")


# ---------------------------------------------------------------------------------------------
# the benchmark


@attrs.define
class Line:
    label: str
    value: str
    target: str = ""
    verdict: str = ""  # PASS / FAIL / ""
    note: str = ""


@attrs.define
class Report:
    lines: list[Line] = attrs.Factory(list)
    errors: list[str] = attrs.Factory(list)
    speed_misses: list[str] = attrs.Factory(list)
    figures: dict[str, float] = attrs.Factory(dict)

    def speed(self, label: str, value: float, fmt: str, target: str, ok: bool, note: str = "") -> None:
        self.lines.append(Line(label, fmt.format(value), target, "PASS" if ok else "FAIL", note))
        if not ok:
            self.speed_misses.append(label)

    def info(self, label: str, value: str, note: str = "") -> None:
        self.lines.append(Line(label, value, note=note))

    def check(self, label: str, problems: list[str]) -> None:
        self.lines.append(Line(label, "ok" if not problems else f"{len(problems)} diff", "equal",
                               "PASS" if not problems else "FAIL"))
        self.errors += problems


def _echo(msg: str = "") -> None:
    print(msg, flush=True)


def _s(x: float) -> str:
    return f"{x:.3f} s" if x < 100 else f"{x:.1f} s"


def _load() -> str:
    try:
        return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())
    except (AttributeError, OSError):
        return "load average n/a"


def run(opts: argparse.Namespace) -> Report:
    import duckdb
    import sqlglot

    from csframe.core.session import Session

    hw = _load_handwritten()
    rep = Report()
    end = opts.end
    start = _months_before(end, opts.months)
    names = catalog_names()
    big = opts.customers
    small = big // 2

    _echo("csframe speed benchmark")
    _echo(f"  catalog: {len(names)} metric variants of csframe.definitions.revenue, month grain, "
          f"{opts.months} periods {start} .. {_months_before(end, 1)}")
    _echo(f"  data: demo generate(seed={SEED}) at N = {small:,} and 2N = {big:,} customers; "
          f"repeat {opts.repeat}, compile repeat {opts.compile_repeat}, cli repeat {opts.cli_repeat}")
    _echo(f"  python {platform.python_version()}, duckdb {duckdb.__version__}, sqlglot {sqlglot.__version__}, "
          f"{os.cpu_count()} CPU(s), {platform.platform()}")
    _echo(f"  {_load()} at start")

    tmp = None
    if opts.workdir is None:
        tmp = tempfile.TemporaryDirectory(prefix="csframe-bench-")
        root = Path(tmp.name)
    else:
        root = opts.workdir.resolve()
    try:
        _echo("\ndata generation (generate + write_dataset into a DuckDB file, once per size)")
        datasets = {}
        for n in (small, big):
            d = build_project(root / f"c{n}", n, opts.months, end)
            datasets[n] = d
            counts = ", ".join(f"{k} {v:,}" for k, v in d.rows.items())
            _echo(f"  {n:>9,} customers: generate {d.generate_s:6.2f} s, write {d.write_s:6.2f} s   ({counts})")

        s = Session.open(datasets[big].project)
        try:
            _measure(opts, rep, s, hw, datasets, small, big, names, start, end)
        finally:
            s.close()
    finally:
        if tmp is not None:
            tmp.cleanup()
    _echo(f"\n  {_load()} at the end")
    return rep


def _measure(opts, rep: Report, s, hw, datasets, small: int, big: int, names: list[str],
             start: dt.date, end: dt.date) -> None:
    f = rep.figures

    # -- 1. compile time ---------------------------------------------------------------------------
    _echo(f"\n[1/6] compiling the full catalog for {', '.join(DIALECTS)} ...")

    def compile_all() -> dict[str, str]:
        s.forget_compiled()  # a cold compile each time: the session keeps the last plan's query
        keys = s.keys(names)
        plan = s.plan(s.request(keys, grain="month", start=start, end=end))
        return {d: s.compile(plan, d)[1] for d in DIALECTS}

    comp = Series()
    for _ in range(opts.compile_repeat):
        comp.run(compile_all)
    sqls = comp.first
    for d, text in sqls.items():
        if "SELECT" not in text.upper():
            rep.errors.append(f"compile: no SQL for {d}")
    f["compile_s"] = comp.median
    rep.speed(f"compile {len(names)} variants x {len(DIALECTS)} dialects: plan+compile+render (median of "
              f"{opts.compile_repeat})", f["compile_s"], "{:.3f} s", f"< {COMPILE_TARGET_S} s",
              f["compile_s"] < COMPILE_TARGET_S, comp.note())

    # -- 2. the CLI as a process -----------------------------------------------------------------
    _echo(f"[2/6] `csframe sql {opts.cli_metric} --dialect bigquery` as a process ...")
    exe = find_cli()
    if exe is None:
        rep.errors.append("cli: the installed `csframe` script was not found next to python or on PATH")
    else:
        cmd = [exe, "sql", opts.cli_metric, "--dialect", "bigquery", "--project", str(datasets[big].project),
               "--start", start.isoformat(), "--end", end.isoformat()]
        cli = []
        for _ in range(opts.cli_repeat):
            t, proc = _timed(lambda: subprocess.run(cmd, capture_output=True, text=True))
            cli.append(t)
            if proc.returncode != 0 or "SELECT" not in proc.stdout.upper():
                rep.errors.append(f"cli: {' '.join(cmd)} exited {proc.returncode}: {proc.stderr.strip()[:500]}")
                break
        f["cli_s"] = _median(cli)
        rep.speed(f"csframe sql {opts.cli_metric} --dialect bigquery: process wall (median of {len(cli)})",
                  f["cli_s"], "{:.3f} s", f"< {CLI_TARGET_S} s", f["cli_s"] < CLI_TARGET_S,
                  f"min {min(cli):.3f} max {max(cli):.3f}" if len(cli) > 1 else "")

    # -- 3./4./6. csframe's query at 2N and N, the hand-written one at 2N, interleaved --------------
    csframe_sql = sqls["duckdb"]  # the text Session.run executes on DuckDB
    con, con_n = connect(datasets[big].database), connect(datasets[small].database)
    try:
        _echo(f"[3/6] csframe's query at {big:,} and {small:,} customers, [4/6] the hand-written query at "
              f"{big:,}: {opts.repeat} interleaved round(s) after a warm-up ...")
        for c in (con, con_n):  # fill DuckDB's buffer pool; untimed
            c.execute(csframe_sql).fetchall()
        cs, hwq, cs_n = Series(), Series(), Series()
        for _ in range(opts.repeat):
            cs.run(lambda: con.execute(csframe_sql).fetchall())
            hwq.run(lambda: hw.run_handwritten(con, start, end))
            cs_n.run(lambda: con_n.execute(csframe_sql).fetchall())
        f["csframe_s"], f["handwritten_s"], f["csframe_n_s"] = cs.median, hwq.median, cs_n.median
        rep.info(f"csframe's query on DuckDB, {big:,} customers (median of {opts.repeat})", _s(cs.median), cs.note())
        rep.info(f"hand-written query, {big:,} customers (median of {opts.repeat})", _s(hwq.median), hwq.note())
        rep.info(f"csframe's query on DuckDB, {small:,} customers (median of {opts.repeat})", _s(cs_n.median),
                 cs_n.note())

        for n, rows, c in ((big, cs.first, con), (small, cs_n.first, con_n)):
            got, dup = csframe_table(rows)
            ref, dup2 = _table(hwq.first if n == big else hw.run_handwritten(c, start, end), "hand-written")
            problems = dup + dup2 + compare(ref, got, f"csframe vs hand-written ({n:,})")
            if len(ref) != len(names) * opts.months:
                problems.append(f"hand-written ({n:,}): {len(ref)} values, expected {len(names)} x {opts.months}")
            rep.check(f"csframe == hand-written at {n:,} customers: {len(ref):,} values, rel {REL_TOL:g}", problems)
        combined, _ = csframe_table(cs.first)

        # -- 5. the naive plan: one query per metric variant ---------------------------------------
        _echo(f"[5/6] naive plan: {len(names)} queries, one per metric variant, {opts.repeat} round(s) ...")
        naive_sql, naive_compile = [], Series()
        for name in names:
            def one(name=name) -> str:
                plan = s.plan(s.request(s.keys([name]), grain="month", start=start, end=end))
                return s.compile(plan)[1]

            naive_sql.append((name, naive_compile.run(one)))
        naive, naive_rows = Series(), {}

        def all_queries() -> None:
            for name, text in naive_sql:
                rows = con.execute(text).fetchall()
                naive_rows.setdefault(name, rows)

        for _ in range(opts.repeat):
            naive.run(all_queries)
        f["naive_s"] = naive.median
        problems = []
        for name, rows in naive_rows.items():
            metric, variant = name.split(":")
            got, dup = csframe_table([r for r in rows if (r[0], r[1]) == (metric, variant)])
            want = {k: v for k, v in combined.items() if (k[0], k[1]) == (metric, variant)}
            problems += dup + compare(want, got, f"naive {name}")
        rep.info(f"naive plan: {len(names)} queries executed, {big:,} customers (median of {opts.repeat})",
                 _s(naive.median), naive.note())
        rep.info(f"naive plan: planning + compiling its {len(names)} queries (once, not in the ratio)",
                 _s(sum(naive_compile.wall)))
        rep.check(f"naive (one query per variant) == csframe's one query: {len(combined):,} values", problems)
    finally:
        con.close()
        con_n.close()

    # the API path (contract checks, then the same query) gives the same rows
    _echo("      and Session.run of the catalog once ...")
    t, result = _timed(lambda: s.run(s.plan(s.request(s.keys(names), grain="month", start=start, end=end))))
    got, dup = csframe_table(result.rows)
    rep.info(f"Session.run of the catalog, {big:,} customers (contract checks + query, once)", _s(t))
    rep.check("Session.run == the SQL text executed above", dup + compare(combined, got, "Session.run"))

    # -- ratios (of wall-clock medians; the CPU-time ratio is shown alongside) -----------------------
    f["vs_handwritten"] = f["csframe_s"] / f["handwritten_s"]
    f["naive_over_csframe"] = f["naive_s"] / f["csframe_s"]
    f["scaling"] = f["csframe_s"] / f["csframe_n_s"]
    rep.speed("csframe / hand-written", f["vs_handwritten"], "{:.2f}x", f"<= {VS_HANDWRITTEN_MAX}",
              f["vs_handwritten"] <= VS_HANDWRITTEN_MAX, f"cpu {cs.cpu_median / hwq.cpu_median:.2f}x")
    rep.speed("naive / csframe", f["naive_over_csframe"], "{:.2f}x", f">= {NAIVE_MIN:g}",
              f["naive_over_csframe"] >= NAIVE_MIN, f"cpu {naive.cpu_median / cs.cpu_median:.2f}x")
    rep.speed(f"scaling: time(2N = {big:,}) / time(N = {small:,})", f["scaling"], "{:.2f}x",
              f"<= {SCALING_MAX:g}", f["scaling"] <= SCALING_MAX, f"cpu {cs.cpu_median / cs_n.cpu_median:.2f}x")


def print_report(rep: Report) -> None:
    header = Line("measure", "value", "target", "result", "note (cpu = process CPU time, all threads)")
    rows = [header] + rep.lines
    w = [max(len(getattr(r, a)) for r in rows) for a in ("label", "value", "target", "verdict")]
    rule = "-" * (sum(w) + 8 + max(len(r.note) for r in rows))
    _echo("\n" + rule)
    for r in rows:
        _echo(f"{r.label:<{w[0]}}  {r.value:>{w[1]}}  {r.target:<{w[2]}}  {r.verdict:<{w[3]}}  {r.note}".rstrip())
        if r is header:
            _echo(rule)
    _echo(rule)
    if rep.errors:
        _echo(f"\nCORRECTNESS FAILED: {len(rep.errors)} problem(s); the first ones:")
        for e in rep.errors[:30]:
            _echo(f"  {e}")
    if rep.speed_misses:
        _echo(f"\nspeed targets missed ({len(rep.speed_misses)}): " + "; ".join(rep.speed_misses))
    if not rep.errors and not rep.speed_misses:
        _echo("\nall correctness checks and speed targets PASS")
    elif not rep.errors:
        _echo("correctness checks PASS (a missed speed target is reported, it does not fail the run)")


def main(argv: Sequence[str] | None = None) -> int:
    opts = parse_args(argv)
    try:
        rep = run(opts)
    except Exception as e:  # report, and fail loudly
        import traceback

        traceback.print_exc()
        _echo(f"\nERROR: the benchmark could not run: {type(e).__name__}: {e}")
        return 1
    print_report(rep)
    return 1 if rep.errors else 0


if __name__ == "__main__":
    sys.exit(main())
