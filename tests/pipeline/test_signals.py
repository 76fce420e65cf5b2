"""A run stopped by SIGTERM, SIGHUP or SIGINT while it writes its target table (paused by a
test plugin at the write's uncommitted stage: rows staged, old rows deleted, nothing
committed; BigQuery: rows staged, MERGE not sent): it says so, exits 128 + the signal's number,
the table holds what it held before, and nothing is left beside ``--output``. Through the real
command."""

from __future__ import annotations

import os
import signal

import pytest

from tests.pipeline.commands import json_lines, ok, start
from tests.pipeline.pause import paused_project, wait_for_file
from tests.pipeline.projects import RANGE
from tests.pipeline.test_writeback import compute

CASES = [("duckdb", signal.SIGTERM), ("duckdb", signal.SIGHUP), ("duckdb", signal.SIGINT),
         ("postgres", signal.SIGTERM), ("postgres", signal.SIGHUP), ("bigquery", signal.SIGTERM)]


@pytest.fixture
def project(request, tmp_path):
    name = request.param
    if name == "duckdb":
        return request.getfixturevalue("duck_project").copy(tmp_path / "duck")
    shared = request.getfixturevalue("pg_project" if name == "postgres" else "bq_project")
    shared.query(f"DROP TABLE IF EXISTS {shared.table()}")
    return shared


@pytest.mark.parametrize(("project", "signum"), CASES, indirect=["project"],
                         ids=[f"{e}-{s.name}" for e, s in CASES])
def test_a_stop_signal_during_the_write_leaves_the_table_and_no_temporary_file(project, signum, tmp_path):
    ok(compute(project, *RANGE))  # the table, with rows the stopped run must not lose
    before = project.rows()
    assert len(before) == 3 * 6
    out = tmp_path / "out"
    out.mkdir()
    (out / "result.csv").write_text("the previous result\n")
    paused = tmp_path / "paused"
    run = start("compute", "-m", "mrr", "-m", "churn_rate", "-m", "new_customers", "--start", "2024-04-01", "--end",
                "2024-10-01", "--target", project.table(), "--format", "csv", "-o", out / "result.csv",
                extra_env=project.env,
                project=paused_project(project, tmp_path / "p", marker=paused, release=tmp_path / "never"))
    wait_for_file(paused, run)  # deleted Apr–Jun, staged Apr–Sep, nothing committed
    assert paused.read_text() == f"{project.table()} {project.name}"  # the hook's table and engine
    assert sorted(os.listdir(out))[0].startswith(".csframe-")  # the output's temporary file is there now
    os.kill(run.pid, signum)
    stdout, stderr = run.finish(30)
    assert run.returncode == 128 + signum, stderr
    assert f"interrupted by {signum.name}" in stderr and "holds what it held before" in stderr, stderr
    assert "Traceback" not in stderr and stdout == ""
    assert project.rows() == before  # every row as it was, none of the stopped run's
    assert sorted(os.listdir(out)) == ["result.csv"] and (out / "result.csv").read_text() == "the previous result\n"


def test_load_directories_a_killed_run_left_are_removed_by_the_next_run(duck_project, tmp_path):
    """DuckDB loads rows (a --target run's staging table, init --demo's tables) through CSV files
    in ``$TMPDIR/csframe-load-<pid>-…``, removed when the load ends; a run killed outright
    (SIGKILL) cannot remove them: the next load removes those of processes that no longer run."""
    import subprocess

    engine = duck_project.copy(tmp_path / "duck")
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    gone = subprocess.Popen(["true"])
    gone.wait()  # a process that no longer runs
    stale = tmp / f"csframe-load-{gone.pid}-k3x9q1"
    stale.mkdir()
    (stale / "table-0.csv").write_text('"mrr","default"\n')
    running = tmp / f"csframe-load-{os.getpid()}-a8b2c0"  # this test's process runs: its files stay
    running.mkdir()
    unnamed = tmp / "csframe-load-q7w1e2"  # no process named: left alone
    unnamed.mkdir()
    ok(compute(engine, *RANGE, extra_env={"TMPDIR": str(tmp)}))
    assert sorted(os.listdir(tmp)) == sorted([running.name, unnamed.name])  # and the run left none of its own
    assert len(engine.rows()) == 3 * 6


SLOW_SOURCE = ('[sources.subscriptions]\nsql = "select s.* from subscriptions s, (select count(*) as n from '
               'range(40000000000)) r where r.n > 0"')  # its checks run for many seconds, all in DuckDB


def _cpu_seconds(pid: int) -> float:
    fields = open(f"/proc/{pid}/stat").read().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def test_a_stop_signal_during_a_duckdb_query_is_the_signal_not_a_bug(duck_project, tmp_path):
    """DuckDB notices the signal inside its query and raises its own "Query interrupted": before,
    that was "unexpected RuntimeError … a bug in csframe", exit 1."""
    import time

    engine = duck_project.copy(tmp_path / "duck")
    toml = engine.path / "csframe.toml"
    assert '[sources.subscriptions]\ntable = "subscriptions"' in toml.read_text()
    toml.write_text(toml.read_text().replace('[sources.subscriptions]\ntable = "subscriptions"', SLOW_SOURCE))
    run = start("compute", "-m", "mrr", *RANGE, "--format", "csv", "--log-format", "json", project=engine.path)
    run.wait_for(lambda line: '"stage_start", "stage": "check"' in line)
    busy = _cpu_seconds(run.pid) + 1.0
    deadline = time.monotonic() + 30
    while _cpu_seconds(run.pid) < busy:  # DuckDB is counting: the signal comes inside its query
        assert time.monotonic() < deadline and run.proc.poll() is None, run.lines
        time.sleep(0.05)
    os.kill(run.pid, signal.SIGTERM)
    _, stderr = run.finish(60)
    assert run.returncode == 143, stderr
    error = [e for e in json_lines(stderr) if e["event"] == "error"]
    assert error[0]["message"] == "interrupted by SIGTERM: nothing was written", stderr
    assert error[0]["exit_code"] == 143 and "bug" not in stderr


def test_a_stop_signal_after_the_write_says_the_table_was_written(duck_project, tmp_path):
    """The output (about 200 kB) goes to a pipe nobody reads, so the run waits in its output,
    after its write has committed: a SIGTERM then says the rows were written, the output not."""
    import subprocess

    from tests.pipeline.commands import argv, env

    engine = duck_project.copy(tmp_path / "duck")
    args = ("compute", "-m", "mrr", "-m", "churn_rate", "-m", "new_customers", "--grain", "day", "--start",
            "2023-01-01", "--end", "2025-01-01", "--format", "jsonl", "--target", "cs_metrics", "--log-format", "json")
    read, write = os.pipe()  # kept open, never read: the run's output fills it and waits
    try:
        proc = subprocess.Popen(argv(*args, project=engine.path), stdout=write, stderr=subprocess.PIPE, text=True,
                                env=env())
        os.close(write)
        try:
            lines = []
            for line in proc.stderr:  # the events, as they come
                lines.append(line)
                if '"stage_end", "stage": "write"' in line:
                    break
            os.kill(proc.pid, signal.SIGTERM)
            lines += proc.stderr.readlines()
            proc.wait(30)
        finally:
            proc.kill()
    finally:
        os.close(read)
    stderr = "".join(lines)
    assert proc.returncode == 143, stderr
    error = [e for e in json_lines(stderr) if e["event"] == "error"]
    assert error[0]["message"] == "interrupted by SIGTERM: the rows were written to cs_metrics; the output was not"
    assert len(engine.rows()) == 3 * 731
