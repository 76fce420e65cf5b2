#!/usr/bin/env python
"""Benchmark: ``customer_health_score --by customer_id`` on DuckDB, at scale (a script, not a test).

    python tests/benchmarks/health_benchmark.py [--customers 100000] [--months 36] [--repeat 3] [--quick]

1. generates the demo data (``csframe.plugins.demo.generate``, seed 42) for the sources the health
   score reads (customers, subscriptions, users, events) and writes it into a DuckDB file with
   ``csframe.adapters.duckdb_io.write_dataset`` (both timed, rows and peak memory reported);
2. derives a half-size dataset from it (the customers whose ``hash(customer_id)`` is even, with all
   their rows) for the scaling figure;
3. times csframe's one query for ``customer_health_score --by customer_id`` at month grain over the
   reported range (default: the last 12 months): its DuckDB SQL text run with ``fetchall`` on a
   read-only connection in UTC, median of ``--repeat`` after one warm-up run, at 2N and N customers;
4. times a hand-written DuckDB query for the same numbers (``HANDWRITTEN``) and checks that every
   (customer, month) value is equal (relative 1e-9, the same rows);
5. times ``Session.run`` once (contract checks + query + fetch into a Result), the plain metric
   (the mean) and ``--by health_band`` for context.

The exit status is 1 when a correctness check fails; speed is reported, never judged (there is no
stated target besides "must scale": time(2N) / time(N) is printed against 2).
``--quick``: 5,000 customers, one repetition.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

SOURCES = ("customers", "subscriptions", "users", "events")
REL_TOL = 1e-9

# The same numbers written by hand (month grain): E from the subscription rows running just before
# each month's end, then each customer's frequency, breadth and depth, weights 1/3 each.
HANDWRITTEN = """
WITH months AS (
  SELECT CAST(m AS TIMESTAMP) AS p, CAST(m + INTERVAL 1 MONTH AS TIMESTAMP) AS p_end,
    (epoch(m + INTERVAL 1 MONTH) - epoch(m)) / 86400 AS days
  FROM range(CAST($start AS TIMESTAMP), CAST($end AS TIMESTAMP), INTERVAL 1 MONTH) AS t(m)
), paying AS (
  SELECT DISTINCT m.p, m.p_end, m.days, s.customer_id
  FROM subscriptions AS s
  JOIN months AS m ON s.started_at < m.p_end AND (s.ended_at IS NULL OR s.ended_at >= m.p_end)
  WHERE NOT COALESCE(s.is_trial, FALSE) AND s.mrr > 0
), activity AS (
  SELECT customer_id, date_trunc('month', occurred_at) AS p,
    COUNT(DISTINCT CAST(occurred_at AS DATE)) AS active_days, COUNT(DISTINCT name) AS names,
    COUNT(DISTINCT CASE WHEN date_trunc('month', u.created_at) <= date_trunc('month', e.occurred_at)
                        THEN e.user_id END) AS active_users
  FROM events AS e
  LEFT JOIN users AS u USING (user_id, customer_id)
  WHERE occurred_at >= CAST($start AS TIMESTAMP) AND occurred_at < CAST($end AS TIMESTAMP)
  GROUP BY ALL
), seats AS (
  SELECT p.p, p.customer_id, COUNT(*) AS users
  FROM paying AS p JOIN users AS u ON u.customer_id = p.customer_id AND u.created_at < p.p_end
  GROUP BY ALL
), vocabulary AS (
  SELECT COUNT(DISTINCT name) AS names FROM events
)
SELECT CAST(p.p AS DATE) AS period_start, p.customer_id,
  100 * ((1.0 / 3) * COALESCE(a.active_days / p.days, 0)
         + (1.0 / 3) * COALESCE(a.active_users / NULLIF(s.users, 0), 0)
         + (1.0 / 3) * COALESCE(a.names / NULLIF(v.names, 0), 0)) AS score
FROM paying AS p
CROSS JOIN vocabulary AS v
LEFT JOIN activity AS a ON a.customer_id = p.customer_id AND a.p = p.p
LEFT JOIN seats AS s ON s.customer_id = p.customer_id AND s.p = p.p
"""


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--customers", type=int, default=None, help="customers (2N; default 100000, 5000 with --quick)")
    p.add_argument("--months", type=int, default=36, help="months of demo history (default 36)")
    p.add_argument("--report-months", type=int, default=12, help="months reported, the last ones (default 12)")
    p.add_argument("--end", type=dt.date.fromisoformat, default=dt.date(2025, 1, 1), help="first day after the data")
    p.add_argument("--repeat", type=int, default=None, help="timed runs per query (median; default 3, 1 with --quick)")
    p.add_argument("--threads", type=int, default=None, help="DuckDB threads (default: DuckDB's)")
    p.add_argument("--workdir", type=Path, default=None, help="keep the DuckDB files here (default: a temp dir)")
    p.add_argument("--quick", action="store_true", help="5,000 customers, one repetition")
    a = p.parse_args(argv)
    a.customers = a.customers or (5_000 if a.quick else 100_000)
    a.repeat = a.repeat or (1 if a.quick else 3)
    return a


def _peak_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6  # KiB on Linux


def _shift_months(d: dt.date, n: int) -> dt.date:
    k = d.year * 12 + d.month - 1 + n
    return dt.date(k // 12, k % 12 + 1, 1)


def build(directory: Path, customers: int, months: int, end: dt.date) -> dict:
    import duckdb

    from csframe.adapters.duckdb_io import write_dataset
    from csframe.plugins.demo import generate

    t0 = time.perf_counter()
    data = generate(customers=customers, months=months, end=end, seed=42, sources=set(SOURCES))
    t1 = time.perf_counter()
    rows = {t.name: len(t.rows) for t in data}
    con = duckdb.connect(str(directory / "full.duckdb"))
    write_dataset(con, data)
    con.close()
    del data
    t2 = time.perf_counter()
    # the half-size dataset: the customers whose hash is even, with all their rows
    con = duckdb.connect(str(directory / "half.duckdb"))
    con.execute(f"ATTACH '{directory / 'full.duckdb'}' AS f (READ_ONLY)")
    for name in SOURCES:
        con.execute(f"CREATE TABLE {name} AS SELECT * FROM f.{name} WHERE hash(customer_id) % 2 = 0")
    half = con.execute("SELECT COUNT(*) FROM customers").fetchone()[0]
    con.close()
    t3 = time.perf_counter()
    return {"generate": t1 - t0, "write": t2 - t1, "half": t3 - t2, "rows": rows, "half_customers": half}


def session_for(directory: Path, database: str, threads: int | None):
    from csframe.core.project import Project, SourceBinding
    from csframe.core.session import Session

    adapter = {"name": "duckdb", "database": database}
    if threads:
        adapter["threads"] = threads
    return Session.open(project=Project(dir=directory, adapter=adapter,
                                        sources={n: SourceBinding(n, table=n) for n in SOURCES}), entry_points=False)


def csframe_sql(s, start: dt.date, end: dt.date, metric: str = "customer_health_score", by=("customer_id",)) -> str:
    plan = s.plan(s.request(s.keys([metric]), grain="month", start=start, end=end, by=by))
    return s.compile(plan, "duckdb")[1]


def timed(con, sql: str, repeat: int, params=None) -> tuple[float, list[float], list]:
    con.execute(sql, params).fetchall()  # warm-up: fills the buffer pool
    times, rows = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        rows = con.execute(sql, params).fetchall()
        times.append(time.perf_counter() - t)
    return statistics.median(times), times, rows


def connect(path: Path, threads: int | None):
    import duckdb

    con = duckdb.connect(str(path), read_only=True)
    con.execute("SET TimeZone = 'UTC'")
    if threads:
        con.execute(f"SET threads = {threads}")
    return con


def compare(ours: list, theirs: list) -> list[str]:
    """ours: csframe rows (metric, variant, period_start, period_end, customer_id, value);
    theirs: (period_start, customer_id, score)."""
    a = {(r[2], r[4]): r[-1] for r in ours}
    b = {(r[0], r[1]): r[2] for r in theirs}
    problems = []
    if len(a) != len(ours) or len(b) != len(theirs):
        problems.append("duplicate rows")
    if a.keys() != b.keys():
        problems.append(f"rows differ: {len(a.keys() - b.keys())} only in csframe, {len(b.keys() - a.keys())} "
                        f"only hand-written, e.g. {sorted(a.keys() ^ b.keys())[:3]}")
    for k in a.keys() & b.keys():
        x, y = a[k], b[k]
        if (x is None) != (y is None) or (x is not None and abs(x - y) > REL_TOL * max(1.0, abs(y))):
            problems.append(f"{k}: csframe {x} hand-written {y}")
            if len(problems) > 5:
                break
    return problems


def main(argv=None) -> int:
    a = parse_args(argv)
    start = _shift_months(a.end, -a.report_months)
    print(f"health benchmark: {a.customers:,} customers x {a.months} months ending {a.end}; "
          f"reporting {start} .. {a.end} (month grain); repeat {a.repeat}; load {os.getloadavg()[0]:.1f} "
          f"on {os.cpu_count()} CPUs")
    workdir = a.workdir or Path(tempfile.mkdtemp(prefix="csframe-health-"))
    workdir.mkdir(parents=True, exist_ok=True)
    failed = False
    try:
        if not (workdir / "full.duckdb").exists():
            info = build(workdir, a.customers, a.months, a.end)
            print(f"generate {info['generate']:.1f} s, write {info['write']:.1f} s, half-size copy {info['half']:.1f} s; "
                  f"peak memory {_peak_gb():.1f} GB; rows: "
                  + ", ".join(f"{k} {v:,}" for k, v in info["rows"].items())
                  + f"; half: {info['half_customers']:,} customers")
        lines = []
        results = {}
        for size in ("full", "half"):
            s = session_for(workdir, f"{size}.duckdb", a.threads)
            t = time.perf_counter()
            sql = csframe_sql(s, start, a.end)
            compile_s = time.perf_counter() - t
            con = connect(workdir / f"{size}.duckdb", a.threads)
            med, times, rows = timed(con, sql, a.repeat)
            hmed, htimes, hrows = timed(con, HANDWRITTEN, a.repeat, {"start": start, "end": a.end})
            results[size] = (med, hmed)
            problems = compare(rows, hrows)
            failed |= bool(problems)
            n = con.execute("SELECT COUNT(*) FROM customers").fetchone()[0]
            lines.append(f"[{size}: {n:,} customers] compile (plan + compile + render) {compile_s:.3f} s")
            lines.append(f"[{size}] csframe's query, --by customer_id: {med:.3f} s (runs {', '.join(f'{x:.2f}' for x in times)}); "
                         f"{len(rows):,} rows")
            lines.append(f"[{size}] hand-written query:               {hmed:.3f} s (runs "
                         f"{', '.join(f'{x:.2f}' for x in htimes)}); csframe / hand-written {med / hmed:.2f}x")
            lines.append(f"[{size}] csframe == hand-written ({len(rows):,} values, rel {REL_TOL:g}): "
                         + ("PASS" if not problems else "FAIL " + "; ".join(problems)))
            if size == "full":
                for label, by in (("the mean (no --by)", ()), ("--by health_band", ("health_band",))):
                    m, _, r = timed(con, csframe_sql(s, start, a.end, by=by), a.repeat)
                    lines.append(f"[{size}] customer_health_score {label}: {m:.3f} s ({len(r):,} rows)")
                con.close()  # the session opens its own connection (DuckDB: one configuration per file)
                t = time.perf_counter()
                result = s.compute(["customer_health_score"], start=start, end=a.end, by=["customer_id"])
                lines.append(f"[{size}] Session.compute (checks + query + Result), --by customer_id: "
                             f"{time.perf_counter() - t:.3f} s; timings {({k: round(v, 3) for k, v in result.timings.items()})}")
                same = sorted((r[2], r[4], r[-1]) for r in result.rows) == sorted((r[2], r[4], r[-1]) for r in rows)
                failed |= not same
                lines.append(f"[{size}] Session.compute == the SQL text: {'PASS' if same else 'FAIL'}")
            else:
                con.close()
            s.close()
        print("\n".join(lines))
        scale = results["full"][0] / results["half"][0]
        print(f"scaling time(2N) / time(N): csframe {scale:.2f}x, hand-written {results['full'][1] / results['half'][1]:.2f}x "
              f"(linear would be 2)")
        print(f"peak memory {_peak_gb():.1f} GB; load {os.getloadavg()[0]:.1f}")
    finally:
        if a.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)
    if failed:
        print("CORRECTNESS FAILED")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    sys.exit(main())
