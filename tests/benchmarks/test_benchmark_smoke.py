"""Smoke run of the speed benchmark (run_benchmark.py) in-process, with --quick semantics:
5,000 customers, one repetition. Only correctness is asserted -- csframe's one query equals the
hand-written query, the naive per-variant queries and Session.run -- never a speed target, since
timings on a shared test machine mean nothing."""

from __future__ import annotations

import importlib.util
import pathlib

import pytest

_spec = importlib.util.spec_from_file_location(
    "csframe_bench_run_benchmark", pathlib.Path(__file__).with_name("run_benchmark.py")
)
run_benchmark = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(run_benchmark)


@pytest.mark.slow
def test_quick_benchmark_is_correct(tmp_path, capsys):
    code = run_benchmark.main(["--quick", "--compile-repeat", "1", "--workdir", str(tmp_path)])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "CORRECTNESS FAILED" not in out, out
    checks = [line for line in out.splitlines() if "equal" in line and ("PASS" in line or "FAIL" in line)]
    # csframe == hand-written at 2N and N, naive == csframe, Session.run == the SQL text
    assert len(checks) == 4, out
    assert all("PASS" in line for line in checks), out


def test_options():
    quick = run_benchmark.parse_args(["--quick"])
    assert (quick.customers, quick.repeat) == (5_000, 1)
    full = run_benchmark.parse_args([])
    assert (full.customers, full.repeat, full.months) == (100_000, 3, 36)
    assert run_benchmark.parse_args(["--quick", "--customers", "800"]).customers == 800


def test_compare_is_relative_and_none_aware():
    ref = {("m", "v", 1): 1.0, ("m", "v", 2): None, ("m", "v", 3): 0.0}
    assert run_benchmark.compare(ref, {("m", "v", 1): 1.0 + 1e-12, ("m", "v", 2): None, ("m", "v", 3): 0.0}, "x") == []
    bad = run_benchmark.compare(ref, {("m", "v", 1): 1.0 + 1e-6, ("m", "v", 2): 0.0}, "x")
    assert len(bad) == 3  # off by 1e-6, None vs 0.0, missing


@pytest.mark.slow
def test_subset_benchmark_is_correct(tmp_path, capsys):
    """subset_benchmark.py on 1,500 customers, one round, pruned and unpruned: every subset's
    query equals its hand-written one (only correctness is asserted)."""
    spec = importlib.util.spec_from_file_location(
        "csframe_bench_subset_benchmark", pathlib.Path(__file__).with_name("subset_benchmark.py"))
    subset_benchmark = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(subset_benchmark)
    code = subset_benchmark.main(["--customers", "1500", "--repeat", "1", "--unpruned", "--workdir", str(tmp_path)])
    out = capsys.readouterr().out
    assert code == 0, out
    lines = [line for line in out.splitlines() if " keys " in line]
    assert {line.split()[0] for line in lines} == {"kpis", "mrr", "bridge", "lifespans", "catalog"}
    assert all("equal" in line and "DIFF" not in line for line in lines), out


@pytest.mark.slow
def test_subset_benchmark_on_postgres_is_correct(tmp_path, capsys, monkeypatch, pg_dsn):
    """subset_benchmark.py --postgres on 300 customers, one round, with a work_mem variant: the
    catalog on PostgreSQL (bare connection, the adapter's, the variant) equals DuckDB's, in a schema
    of its own (only correctness is asserted)."""
    import uuid

    import psycopg

    spec = importlib.util.spec_from_file_location(
        "csframe_bench_subset_benchmark_pg", pathlib.Path(__file__).with_name("subset_benchmark.py"))
    subset_benchmark = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(subset_benchmark)
    schema = f"csframe_bench_smoke_{uuid.uuid4().hex[:8]}"
    monkeypatch.setattr(subset_benchmark, "PG_SCHEMA", schema)
    try:
        code = subset_benchmark.main(["--customers", "300", "--subsets", "", "--workdir", str(tmp_path),
                                      "--postgres", pg_dsn, "--pg-repeat", "1",
                                      "--pg-variant", "wm:work_mem=64MB", "--pg-explain", str(tmp_path / "explain")])
    finally:
        with psycopg.connect(pg_dsn, autocommit=True) as con:
            con.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
    out = capsys.readouterr().out
    assert code == 0, out
    lines = [line for line in out.splitlines() if line.startswith("catalog on PostgreSQL")]
    assert [line.split(",")[1].split()[0] for line in lines] == ["server", "adapter", "wm"], out
    assert all(line.endswith("equal") for line in lines), out
    for name in ("server_defaults", "adapter", "wm"):
        assert "Execution Time:" in (tmp_path / "explain" / f"{name}.txt").read_text()
