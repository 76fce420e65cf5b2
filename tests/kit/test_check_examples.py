"""``csframe check --examples``: every worked example declared on a registered variant, evaluated
on the project's engine (DuckDB in memory without a csframe.toml), one line each; exit 1 when one
fails, naming the metric, the example, the expected and the actual value."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

from tests.support.in_process import csframe

CSFRAME = shutil.which("csframe") or str(Path(sys.executable).parent / "csframe")

MODULE = '''
from csframe.core.hookspecs import hookimpl
from csframe.core.models import Example, Metric, Variant


@hookimpl
def csframe_register_metrics(registrar):
    registrar.metric(Metric("net_adds", "count", "customers gained net of those lost", (
        Variant("default", "customers_end - customers_start", ("industry",), examples=(
            Example("100 at start, 90 at end", {"customers_start": 100, "customers_end": 90}, -10),
            Example("a wrong sign", {"customers_start": 100, "customers_end": 90}, 10),
        )),
    )))
    registrar.variant("churn_rate", Variant("lost_over_end", "churned_customers / customers_end", examples=(
        Example("an input missing", {"churned_customers": 5}, 0.5),
    )))
'''


def cs(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    e = {k: v for k, v in os.environ.items() if k != "CSFRAME_DEBUG"}
    e.update(env or {})
    return csframe([CSFRAME, *map(str, args)], e, cwd=cwd, timeout=120)


def show(r: subprocess.CompletedProcess) -> str:
    return f"\n$ {' '.join(map(str, r.args))}\nexit {r.returncode}\n--- stdout ---\n{r.stdout}\n--- stderr ---\n{r.stderr}"


def project(tmp_path: Path, adapter: str = "") -> Path:
    (tmp_path / "net_adds_metrics.py").write_text(textwrap.dedent(MODULE), encoding="utf-8")
    (tmp_path / "csframe.toml").write_text(adapter + '\n[plugins]\nmodules = ["net_adds_metrics"]\n', encoding="utf-8")
    return tmp_path


def test_a_failing_example_exits_1_with_metric_text_expected_and_actual(tmp_path):
    r = cs("check", "--examples", "--project", project(tmp_path))
    assert r.returncode == 1, show(r)
    out = r.stdout.splitlines()
    assert "worked examples (on duckdb database :memory:):" in out
    assert "  ok    churn_rate:lost_over_start — 32 lost of 400 → 0.08" in out
    assert "  ok    net_adds:default — 100 at start, 90 at end → -10" in out
    assert "  FAIL  net_adds:default — a wrong sign: expected 10, got -10 (plugin 'net_adds_metrics')" in out
    assert ("  FAIL  churn_rate:lost_over_end — an input missing: expected 0.5, failed: example 'an input missing' "
            "of churn_rate:lost_over_end gives no value for 'customers_end' (plugin 'net_adds_metrics')") in out
    passed = len([line for line in out if line.startswith("  ok ")])
    assert f"worked examples: {passed} passed, 2 failed" in out and passed >= 26
    assert r.stderr.splitlines() == [
        "error: 2 worked example(s) failed:",
        "  churn_rate:lost_over_end — an input missing: expected 0.5, failed: example 'an input missing' of "
        "churn_rate:lost_over_end gives no value for 'customers_end' (plugin 'net_adds_metrics')",
        "  net_adds:default — a wrong sign: expected 10, got -10 (plugin 'net_adds_metrics')",
        "  Fix the variant's formula, or the example's inputs or expected value.",
    ], show(r)


PARAM_MODULE = '''
from csframe.core.hookspecs import hookimpl
from csframe.core.models import Example, Metric, Parameter, Variant


@hookimpl
def csframe_register_metrics(registrar):
    registrar.metric(Metric("seats_per_customer", "count", "customers at the end times a seat count", (
        Variant("default", "customers_end * param('seats_per_customer_seats')", ("industry",), examples=(
            Example("10 customers, the default 3 seats", {"customers_end": 10}, 30),
            Example("10 customers, 5 seats", {"customers_end": 10}, 50, parameters={"seats_per_customer_seats": 5}),
        )),
    ), parameters=(Parameter("seats_per_customer_seats", 3, "seats per customer", kind="int"),)))
'''


def test_an_example_of_a_formula_with_a_parameter_takes_its_default_or_its_own_value(tmp_path):
    (tmp_path / "seats.py").write_text(textwrap.dedent(PARAM_MODULE), encoding="utf-8")
    (tmp_path / "csframe.toml").write_text('[plugins]\nmodules = ["seats"]\n', encoding="utf-8")
    r = cs("check", "--examples", "--project", tmp_path)
    assert r.returncode == 0, show(r)
    assert "  ok    seats_per_customer:default — 10 customers, the default 3 seats → 30" in r.stdout.splitlines()
    assert "  ok    seats_per_customer:default — 10 customers, 5 seats → 50" in r.stdout.splitlines()


def test_without_the_flag_examples_are_not_run(tmp_path):
    r = cs("check", "--project", project(tmp_path))
    assert r.returncode == 0, show(r)
    assert "worked examples" not in r.stdout
    assert "node SQL: " in r.stdout and "sources: none configured" in r.stdout


def test_on_the_configured_engine_postgres(tmp_path, pg_dsn):
    toml = '[adapter]\nname = "postgres"\ndsn = "${CSFRAME_TEST_CHECK_DSN}"\n'
    r = cs("check", "--examples", "--project", project(tmp_path, toml), env={"CSFRAME_TEST_CHECK_DSN": pg_dsn})
    assert r.returncode == 1, show(r)
    assert any(line.startswith("worked examples (on postgres at ") for line in r.stdout.splitlines()), show(r)
    assert "  FAIL  net_adds:default — a wrong sign: expected 10, got -10 (plugin 'net_adds_metrics')" in r.stdout


def test_without_a_project_file_on_duckdb_in_memory(tmp_path):
    r = cs("check", "--examples", cwd=tmp_path)
    assert r.returncode == 0, show(r)
    assert r.stdout.splitlines()[0] == (f"project: no csframe.toml in {tmp_path}; checking the installed plugins on "
                                        "duckdb with its default settings")  # the default adapter: in memory
    assert "  ok    customer_lifetime_value:arpa_x_lifespan — churn 0 → NULL" in r.stdout.splitlines()
    assert "sources: none configured" in r.stdout


def test_an_explicit_project_still_needs_its_file(tmp_path):
    r = cs("check", "--examples", "--project", tmp_path)
    assert r.returncode == 2, show(r)
    assert r.stderr.startswith(f"error: no csframe.toml in {tmp_path}")
