"""What ``compute`` says while it runs and how it fails: progress (a bar on a terminal,
plain lines otherwise, nothing with --quiet), --log-format json with the timings per stage,
retries with backoff on transient connection errors, and --timeout."""

from __future__ import annotations

import os
import pty
import subprocess
import time

import pytest

from tests.pipeline.commands import argv, cs, env, expect, json_lines, ok
from tests.pipeline.pause import paused_project
from tests.pipeline.projects import RANGE, unreachable_pg

METRICS = ("-m", "mrr", "-m", "churn_rate")


def test_json_logs_one_object_per_line_with_the_timings_per_stage(duck_project, tmp_path):
    engine = duck_project.copy(tmp_path / "duck")
    r = ok(cs("compute", *METRICS, *RANGE, "--target", "cs_metrics", "--format", "csv", "--log-format", "json",
              project=engine.path))
    assert r.stdout.startswith("metric,variant,period_start")  # stdout is the data, only
    events = json_lines(r.stderr)  # every line parses
    assert all({"ts", "level", "event"} <= e.keys() for e in events)
    ended = [e["stage"] for e in events if e["event"] == "stage_end"]
    assert ended == ["load", "plan", "connect", "check", "compile", "execute", "write"]
    run = events[-1]
    assert run["event"] == "run" and run["status"] == "ok" and run["rows"] == 12 and run["written"] == 12
    assert run["engine"] == "duckdb"
    assert {"load", "plan", "compile", "execute", "write"} <= run["timings"].keys()
    assert all(isinstance(v, float) and v >= 0 for v in run["timings"].values())
    assert run["seconds"] >= sum(run["timings"].values()) * 0.9


def test_json_logs_report_errors_as_json_too(duck_project):
    r = expect(cs("compute", "-m", "churn_rat", "--log-format", "json", project=duck_project.path), 2)
    events = json_lines(r.stderr)
    assert events[-1]["level"] == "error" and events[-1]["exit_code"] == 2
    assert "churn_rat" in events[-1]["message"] and "hint" in events[-1]
    assert r.stdout == ""


@pytest.mark.parametrize("args,fragment", [
    (("--timeout", "abc"), "Invalid value for '--timeout': 'abc' is not a valid float."),
    (("--retries", "-1"), "Invalid value for '--retries': -1 is not in the range x>=0"),  # (--grain takes any name)
    (("--no-such-option",), "No such option '--no-such-option'"),
])
def test_json_logs_report_the_command_line_s_own_errors_as_json(duck_project, args, fragment):
    # click's usage errors, found before the command runs, are JSON lines too (and only those)
    for log in (("--log-format", "json"), ("--log-format=json",)):
        r = expect(cs("compute", "-m", "mrr", *args, *log, project=duck_project.path), 2)
        (event,) = json_lines(r.stderr)
        assert event["level"] == "error" and event["exit_code"] == 2 and fragment in event["message"], r.stderr
    assert "Usage: csframe compute" in expect(cs("compute", "-m", "mrr", *args, project=duck_project.path), 2).stderr


def test_a_quick_run_says_nothing_and_quiet_says_nothing_ever(duck_project):
    assert ok(cs("compute", *METRICS, *RANGE, "--format", "csv", project=duck_project.path)).stderr == ""
    assert ok(cs("compute", *METRICS, *RANGE, "--progress", "--quiet", "--format", "csv",
                 project=duck_project.path)).stderr == ""


def test_quiet_says_nothing_in_json_either_but_errors(duck_project):
    args = ("compute", "-m", "time_to_value", *RANGE, "--format", "csv", "--log-format", "json")
    loud = ok(cs(*args, project=duck_project.path))
    assert any(e["event"] == "warning" and "time_to_value" in e["message"] for e in json_lines(loud.stderr))
    assert ok(cs(*args, "--quiet", project=duck_project.path)).stderr == ""
    r = expect(cs(*args, "--quiet", "--param", "value_event=", project=duck_project.path), 2)
    (event,) = json_lines(r.stderr)  # an error is still said, as JSON
    assert event["level"] == "error" and "value_event" in event["message"]


def test_progress_as_plain_lines_when_not_a_terminal(duck_project):
    r = ok(cs("compute", *METRICS, *RANGE, "--progress", "--format", "csv", project=duck_project.path))
    lines = r.stderr.splitlines()
    assert all(line.startswith("csframe: ") for line in lines) and "\r" not in r.stderr
    assert any(line.startswith("csframe: execute done in") and "rows 12" in line for line in lines)
    assert lines[-1].startswith("csframe: done in") and "(12 rows)" in lines[-1]


def test_a_long_run_shows_progress_without_being_asked(duck_project, tmp_path):
    engine = duck_project.copy(tmp_path / "duck")
    r = ok(cs("compute", *METRICS, *RANGE, "--target", "cs_metrics", "--format", "csv",
              project=paused_project(engine, tmp_path / "paused", seconds=2.5)))
    lines = r.stderr.splitlines()
    assert lines[0].startswith("csframe: write … (running"), r.stderr  # once 2 s have passed
    # the "done" line ends the run and says what the --target line would (so that one is not added)
    assert lines[-1].startswith("csframe: done in") and "12 written to cs_metrics (duckdb)" in lines[-1]
    assert not any(line.startswith("csframe: wrote") for line in lines)


def test_progress_is_a_bar_on_a_terminal(duck_project):
    master, slave = pty.openpty()
    try:
        p = subprocess.run(argv("compute", *METRICS, *RANGE, "--progress", "--format", "csv",
                                project=duck_project.path),
                           stdout=subprocess.PIPE, stderr=slave, env=env(), timeout=60)
        os.close(slave)
        slave = None
        chunks = []
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:
                break
            if not data:
                break
            chunks.append(data)
    finally:
        if slave is not None:
            os.close(slave)
        os.close(master)
    assert p.returncode == 0
    tty = b"".join(chunks).decode()
    assert "\r\x1b[Kcsframe [" in tty and "/6 execute" in tty  # six stages without --target
    assert "csframe: done in" in tty
    assert p.stdout.decode().startswith("metric,variant")


# -- retries --------------------------------------------------------------------------------

def test_transient_connection_errors_are_retried_with_backoff_and_logged(tmp_path):
    path = unreachable_pg(tmp_path / "pg")
    t0 = time.monotonic()
    r = expect(cs("compute", "-m", "mrr", *RANGE, "--retries", "2", project=path), 3, "gave up after 2 retries")
    assert time.monotonic() - t0 >= 0.6  # 0.25 s + 0.5 s, ±10 %
    retries = [line for line in r.stderr.splitlines() if "retry" in line]
    assert [line.split("retry ")[1].split(" in ")[0] for line in retries] == ["1/2", "2/2"], r.stderr
    j = expect(cs("compute", "-m", "mrr", *RANGE, "--retries", "1", "--log-format", "json", project=path), 3)
    events = json_lines(j.stderr)
    assert [e["attempt"] for e in events if e["event"] == "retry"] == [1]
    assert events[-1]["event"] == "error" and events[-1]["exit_code"] == 3
    assert "retry" not in expect(cs("compute", "-m", "mrr", *RANGE, "--retries", "0", project=path), 3).stderr


def test_permanent_connection_errors_are_not_retried(pg_dsn):
    from csframe.adapters.postgres import PostgresAdapter
    from csframe.core.errors import EngineUnavailableError

    bad_db = PostgresAdapter({"name": "postgres", "dsn": pg_dsn.replace("dbname=test", "dbname=no_such_db_zz")}, None)
    with pytest.raises(EngineUnavailableError) as e:
        bad_db.connect()
    assert e.value.transient is False
    refused = PostgresAdapter({"name": "postgres", "dsn": "host=127.0.0.1 port=1 dbname=x user=u"}, None)
    with pytest.raises(EngineUnavailableError) as e:
        refused.connect()
    assert e.value.transient is True


def test_retry_policy():
    from csframe.core.deadline import Deadline
    from csframe.core.errors import EngineUnavailableError, RunTimeoutError
    from csframe.core.retry import RetryPolicy, retry

    calls, waits = [], []

    def flaky(fail_times, transient=True):
        def fn():
            calls.append(1)
            if len(calls) <= fail_times:
                raise EngineUnavailableError("down", transient=transient)
            return "up"
        return fn

    assert retry(flaky(3), RetryPolicy(3), sleep=waits.append) == "up" and len(calls) == 4
    assert [round(w / b, 1) for w, b in zip(waits, (0.25, 0.5, 1.0))] == [pytest.approx(1, abs=0.11)] * 3
    calls.clear()
    with pytest.raises(EngineUnavailableError):
        retry(flaky(5, transient=False), RetryPolicy(3), sleep=waits.append)
    assert len(calls) == 1  # never retried
    calls.clear()
    with pytest.raises(RunTimeoutError):  # the backoff would pass the run's time limit
        retry(flaky(5), RetryPolicy(5, base=10), deadline=Deadline.of(1), sleep=waits.append)
    assert RetryPolicy(10).delay(10) <= 5.5  # capped


# -- timeouts ----------------------------------------------------------------------------------

def _slow(engine, sql: str):
    toml = engine.path / "csframe.toml"
    toml.write_text(toml.read_text().replace('[sources.subscriptions]\ntable = "subscriptions"',
                                             f'[sources.subscriptions]\nsql = "{sql}"'))
    return engine


def test_timeout_on_duckdb_interrupts_the_query(duck_project, tmp_path):
    engine = _slow(duck_project.copy(tmp_path / "duck"),
                   "select s.* from subscriptions s where (select sum(r.range % 7) from range(20000000000) r) > 0")
    t0 = time.monotonic()
    r = expect(cs("compute", "-m", "mrr", *RANGE, "--timeout", "1.5", project=engine.path), 1,
               "longer than its time limit of 1.5 s", "--timeout")
    assert time.monotonic() - t0 < 8
    assert r.stdout == ""


def test_timeout_on_postgres_cancels_the_query(pg_project, tmp_path, monkeypatch):
    from csframe.core.errors import RunTimeoutError
    from csframe.core.session import Session

    engine = _slow(pg_project.copy(tmp_path / "pg"),
                   "select s.* from subscriptions s where (select sum(g % 7) from generate_series(1, 500000000) g) > 0")
    t0 = time.monotonic()
    r = expect(cs("compute", "-m", "mrr", *RANGE, "--timeout", "1.5", "--log-format", "json", project=engine.path,
                  extra_env=engine.env), 1)
    assert time.monotonic() - t0 < 8
    err = json_lines(r.stderr)[-1]
    assert err["error_type"] == "RunTimeoutError" and "time limit of 1.5 s" in err["message"]
    for k, v in engine.env.items():
        monkeypatch.setenv(k, v)
    with Session.open(engine.path) as s, pytest.raises(RunTimeoutError):  # the same through the API
        s.compute(["mrr"], start="2024-01-01", end="2024-03-01", timeout=1)


@pytest.mark.parametrize("value", ["0", "-5", "nan", "inf", "1e300"])
def test_a_timeout_must_be_positive_and_finite(duck_project, value):
    r = expect(cs("compute", "-m", "mrr", *RANGE, "--timeout", value, project=duck_project.path), 2,
               f"--timeout {float(value)!r}: must be a positive number of seconds, at most 3.16224e+07 (a year)")
    assert "Traceback" not in r.stderr and r.stdout == ""
