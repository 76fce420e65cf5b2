"""``compute --target TABLE`` on DuckDB, PostgreSQL and BigQuery (the local-bigquery emulator),
through the real command: the table and its documented schema, idempotent re-runs, overlapping
runs, two writers at once, and a writer killed in the middle of its write (DuckDB, PostgreSQL:
inside its transaction, after its delete; BigQuery: after loading its staging table, before
its one MERGE)."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import time

import pytest

from tests.pipeline.commands import cs, expect, json_lines, ok, show, start
from tests.pipeline.projects import RANGE

METRICS = ("-m", "mrr", "-m", "churn_rate", "-m", "new_customers")
PAUSE = "CSFRAME_TEST_WRITE_PAUSE"


def compute(engine, *args, extra_env=None, table="cs_metrics", target=None):
    return cs("compute", *METRICS, *args, "--target", target or engine.table(table), "--format", "json",
              project=engine.path, extra_env={**engine.env, **(extra_env or {})})


def keyed(rows):
    """(metric, variant, grain, period_start, dimensions) -> value."""
    return {r[:4] + (r[5],): r[6] for r in rows}


def test_target_is_created_with_the_documented_schema(engine):
    before = dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(seconds=1)
    r = ok(compute(engine, *RANGE, "--by", "segment"))
    out = json.loads(r.stdout)
    assert engine.columns() == ["metric", "variant", "grain", "period_start", "period_end", "dimensions", "value",
                                "unit", "computed_at", "fingerprint", "csframe_version"]
    if engine.name == "bigquery":  # the documented BigQuery types; NOT NULL (REQUIRED) but for value
        with engine.bigquery() as client:
            schema = client.get_table(f"{engine.project}.{engine.table()}").schema
        assert [(f.field_type, f.mode) for f in schema] == [
            ("STRING", "REQUIRED"), ("STRING", "REQUIRED"), ("STRING", "REQUIRED"), ("DATE", "REQUIRED"),
            ("DATE", "REQUIRED"), ("STRING", "REQUIRED"), ("FLOAT", "NULLABLE"), ("STRING", "REQUIRED"),
            ("DATETIME", "REQUIRED"), ("STRING", "REQUIRED"), ("STRING", "REQUIRED")]
    rows = engine.rows()
    assert len(rows) == len(out) > 0
    segments = {o["segment"] for o in out}
    for row in rows:
        _, _, grain, start, end, dims, _, unit, computed_at, fp, version = row
        assert grain == "month" and isinstance(start, dt.date) and end > start
        assert json.loads(dims).keys() == {"segment"} and json.loads(dims)["segment"] in segments
        assert dims == json.dumps(json.loads(dims), sort_keys=True, separators=(",", ":"))
        assert unit in ("money", "ratio", "count") and len(fp) == 16 and version
        assert before <= computed_at <= dt.datetime.now(dt.UTC).replace(tzinfo=None) + dt.timedelta(seconds=1)
    # the values are the command's own output
    printed = {(o["metric"], o["period_start"], o["segment"]): o["value"] for o in out}
    stored = {(r[0], r[3].isoformat(), json.loads(r[5])["segment"]): r[6] for r in rows}
    assert stored.keys() == printed.keys()
    assert all(stored[k] == pytest.approx(printed[k]) if printed[k] is not None else stored[k] is None for k in stored)


def test_without_dimensions_the_dimensions_column_is_an_empty_object(engine):
    ok(compute(engine, *RANGE))
    assert {r[5] for r in engine.rows()} == {"{}"}


def test_a_bigquery_project_id_with_hyphens_names_the_target(bq_project):
    # PROJECT.DATASET.TABLE, the emulator's project being "test-project"
    assert "-" in bq_project.project
    bq_project.query(f"DROP TABLE IF EXISTS {bq_project.table('cs_hyphen')}")
    ok(compute(bq_project, *RANGE, target=f"{bq_project.project}.{bq_project.schema}.cs_hyphen"))
    assert len(bq_project.rows("cs_hyphen")) == 3 * 6  # three metrics × six months


def test_rerun_is_idempotent(engine):
    ok(compute(engine, *RANGE, "--by", "segment"))
    first = engine.rows()
    ok(compute(engine, *RANGE, "--by", "segment"))
    second = engine.rows()
    assert len(second) == len(first) and keyed(second) == keyed(first)
    assert len(keyed(second)) == len(second)  # one row per key
    assert min(r[8] for r in second) > max(r[8] for r in first)  # every row was replaced


def test_overlapping_runs_replace_only_their_own_keys(engine):
    ok(compute(engine, "--start", "2024-01-01", "--end", "2024-07-01"))
    first = {r[:4] + (r[5],): r for r in engine.rows()}
    ok(compute(engine, "--start", "2024-04-01", "--end", "2024-10-01"))
    both = {r[:4] + (r[5],): r for r in engine.rows()}
    months = sorted({k[3] for k in both})
    assert months == [dt.date(2024, m, 1) for m in range(1, 10)]
    assert len(both) == 3 * 9
    for key, row in both.items():
        if key[3] < dt.date(2024, 4, 1):
            assert row == first[key]  # untouched
        else:
            assert row[8] > max(r[8] for r in first.values())  # written by the second run
    # a run with --by writes other keys (dimensions) beside the totals, never over them
    ok(compute(engine, "--start", "2024-01-01", "--end", "2024-04-01", "--by", "segment"))
    after = engine.rows()
    assert {k: v for k, v in keyed(after).items() if k[4] == "{}"} == keyed(both.values())


def test_two_writers_at_once_leave_one_consistent_set(engine, tmp_path):
    """The first writer pauses in the middle of its write until the test releases it; the
    second starts then, on overlapping keys. PostgreSQL (paused inside its transaction, after
    its delete): the second waits for the lock, then replaces the overlap. DuckDB: it cannot
    open the file until the first is done, retries, then does. BigQuery (paused with its rows
    staged, before its one MERGE): nothing is locked, so the second writes all of its keys
    meanwhile, and the first's MERGE then replaces the overlap; the last MERGE wins, key by
    key, whole."""
    ok(compute(engine, "--start", "2024-01-01", "--end", "2024-04-01"))  # the table exists, with earlier rows
    release = tmp_path / "release-a"
    a = start("compute", *METRICS, "--start", "2024-01-01", "--end", "2024-07-01", "--target", engine.table(),
              "--format", "csv", "--log-format", "json", project=engine.path,
              extra_env={**engine.env, PAUSE: f"until:{release}"})
    try:
        a.wait_for(lambda line: '"stage_start", "stage": "write"' in line)
        time.sleep(0.3 if engine.name != "bigquery" else 0)  # inside its transaction, paused after its delete
        b = start("compute", *METRICS, "--start", "2024-04-01", "--end", "2024-10-01", "--target", engine.table(),
                  "--format", "json", "--retries", "8", "--log-format", "json", project=engine.path,
                  extra_env=engine.env)
        if engine.name == "duckdb":  # b cannot open the file: it says so and tries again
            b.wait_for(lambda line: '"event": "retry"' in line)
        elif engine.name == "postgres":  # b reaches its write and waits there for a's lock
            b.wait_for(lambda line: '"stage_start", "stage": "write"' in line)
            time.sleep(0.5)
        else:  # nothing is locked: b writes all of its keys while a is paused
            b.finish()
    finally:
        release.touch()
    _, a_err = a.finish()
    _, b_err = b.finish()
    assert a.returncode == 0, a_err
    assert b.returncode == 0, b_err
    a_done = next(e["ts"] for e in json_lines(a_err)
                  if e["event"] == "stage_end" and e["stage"] == "write")
    b_events = json_lines(b_err)
    if engine.name == "duckdb":  # it could not open the file, said so, and tried again until it could
        waiting = [e for e in b_events if e["event"] == "retry"]
        assert waiting and "in use by another process" in waiting[0]["error"], b_err
    else:  # it reached its write (PostgreSQL: and waited there for a's lock)
        waiting = [e for e in b_events if e["event"] == "stage_start" and e["stage"] == "write"]
    assert waiting[0]["ts"] < a_done, "the second writer did not overlap the first\n" + b_err
    b_done = next(e["ts"] for e in b_events if e["event"] == "stage_end" and e["stage"] == "write")
    rows = engine.rows()
    keys = keyed(rows)
    assert len(keys) == len(rows) == 3 * 9  # Jan–Sep, each key once
    by_time = {}
    for r in rows:
        by_time.setdefault(r[8], set()).add(r[3])
    assert len(by_time) == 2  # every row is a's or b's, none is the first run's
    a_time, b_time = sorted(by_time)  # a computed first
    a_months = sorted(by_time[a_time])
    b_months = sorted(by_time[b_time])
    if engine.name == "bigquery":  # b wrote all while a was paused; a's MERGE came last: the overlap is a's
        assert b_done < a_done, "b did not finish while a was paused\n" + b_err
        assert a_months == [dt.date(2024, m, 1) for m in range(1, 7)]
        assert b_months == [dt.date(2024, m, 1) for m in range(7, 10)]
    else:  # b waited for a: the overlap is b's
        assert b_done > a_done
        assert a_months == [dt.date(2024, m, 1) for m in range(1, 4)]
        assert b_months == [dt.date(2024, m, 1) for m in range(4, 10)]


def test_duckdb_second_writer_without_retries_fails_cleanly(duck_project, tmp_path):
    engine = duck_project.copy(tmp_path / "duck")
    ok(compute(engine, *RANGE))
    before = engine.rows()
    a = start("compute", *METRICS, *RANGE, "--target", engine.table(), "--format", "csv", "--log-format", "json",
              project=engine.path, extra_env={PAUSE: "1.5"})
    a.wait_for(lambda line: '"stage_start", "stage": "write"' in line)
    b = compute(engine, "--start", "2024-03-01", "--end", "2024-09-01", "--retries", "0")
    expect(b, 3, "in use by another process", "--retries")
    assert b.stdout == ""
    a.finish()
    assert a.returncode == 0
    after = engine.rows()
    assert keyed(after) == keyed(before) and len(after) == len(before)  # b wrote nothing, a replaced its keys


def _staging_tables(engine) -> dict:
    """BigQuery: the staging tables in the dataset, name -> its google.cloud.bigquery.Table."""
    with engine.bigquery() as client:
        return {t.table_id: client.get_table(t.reference)
                for t in client.list_tables(f"{engine.project}.{engine.schema}")
                if t.table_id.startswith("_csframe_stage_")}


def test_writer_killed_inside_its_transaction_leaves_the_previous_rows(engine):
    ok(compute(engine, *RANGE, "--by", "segment"))
    before = engine.rows()
    staged_before = _staging_tables(engine) if engine.name == "bigquery" else {}
    victim = start("compute", *METRICS, *RANGE, "--by", "segment", "--target", engine.table(), "--format", "csv",
                   "--log-format", "json", project=engine.path, extra_env={**engine.env, PAUSE: "30"})
    victim.wait_for(lambda line: '"stage_start", "stage": "write"' in line)
    if engine.name == "bigquery":  # wait until it has staged its rows (a table, a load job); its MERGE waits
        deadline = time.monotonic() + 20
        while not any(t.num_rows for k, t in _staging_tables(engine).items() if k not in staged_before):
            assert time.monotonic() < deadline, "the victim staged nothing"
            time.sleep(0.1)
    time.sleep(0.7)  # DuckDB, PostgreSQL: deleted, not yet inserted, not committed
    if engine.name in ("postgres", "bigquery"):  # readers are not blocked by the writer, and see the old rows
        assert engine.rows() == before
    os.kill(victim.pid, signal.SIGKILL)
    victim.finish(10)
    assert victim.returncode == -signal.SIGKILL
    assert engine.rows() == before  # intact and readable
    if engine.name == "duckdb":
        leftovers = engine.query("SELECT table_name FROM information_schema.tables WHERE table_name LIKE 'csframe_staging%'")
        assert leftovers == []
    if engine.name == "bigquery":  # the victim's staging table stays, until it expires (in about an hour)
        left = {k: t for k, t in _staging_tables(engine).items() if k not in staged_before}
        assert len(left) == 1, left
        now = dt.datetime.now(dt.UTC)
        assert all(now + dt.timedelta(minutes=50) < t.expires < now + dt.timedelta(minutes=70) for t in left.values())
    ok(compute(engine, *RANGE, "--by", "segment"))  # nothing is left locked: the next run writes
    assert keyed(engine.rows()) == keyed(before)
    if engine.name == "bigquery":  # and drops its own staging table
        assert set(_staging_tables(engine)) == set(staged_before) | set(left)


def test_a_failed_write_changes_nothing(engine):
    """A table of another shape under the name: the write fails (exit 2) and the table is untouched."""
    if engine.name == "duckdb":
        import duckdb

        con = duckdb.connect(str(engine.path / "demo.duckdb"))
        con.execute("CREATE TABLE not_ours (metric VARCHAR, variant VARCHAR, grain VARCHAR, period_start DATE, "
                    "dimensions VARCHAR, note VARCHAR)")
        con.close()
    elif engine.name == "bigquery":
        engine.query(f"CREATE OR REPLACE TABLE {engine.table('not_ours')} (metric STRING, variant STRING, "
                     "grain STRING, period_start DATE, dimensions STRING, note STRING)")
    else:
        import psycopg

        with psycopg.connect(engine.dsn, autocommit=True) as con:
            con.execute(f"DROP TABLE IF EXISTS {engine.table('not_ours')}")
            con.execute(f"CREATE TABLE {engine.table('not_ours')} (metric TEXT, variant TEXT, grain TEXT, "
                        "period_start DATE, dimensions TEXT, note TEXT)")
    r = compute(engine, *RANGE, table="not_ours")
    expect(r, 2, "not a csframe result table", "value")
    assert r.stdout == ""
    assert engine.query(f"SELECT count(*) FROM {engine.table('not_ours')}") == [(0,)]


@pytest.mark.parametrize("name", ["cs metrics", "a.b.c.d", "x;drop table customers", "m-etrics", "my-schema.t",
                                  "p.d.t-x", "-p.d.t", ""])
def test_bad_target_names_are_usage_errors(duck_project, name):
    r = cs("compute", *METRICS, *RANGE, "--target", name, project=duck_project.path)
    expect(r, 2, "is not a table name")
    assert r.stdout == ""


def test_an_adapter_without_write_back_is_a_clear_usage_error():
    """Any adapter without write_results (a plugin's); every built-in one has it."""
    from csframe.adapters.bigquery import BigQueryAdapter
    from csframe.adapters.duckdb import DuckDBAdapter
    from csframe.adapters.postgres import PostgresAdapter
    from csframe.core.errors import UsageError
    from csframe.core.runner import writer_of

    class NoWriteBack:
        NAME = "someengine"

    with pytest.raises(UsageError, match="someengine adapter cannot write result tables.*not implemented"):
        writer_of(NoWriteBack(), "cs_metrics")
    for adapter in (BigQueryAdapter, DuckDBAdapter, PostgresAdapter):
        assert callable(adapter.write_results)


def test_duckdb_read_only_project_refuses_to_write(duck_project, tmp_path):
    engine = duck_project.copy(tmp_path / "duck")
    toml = engine.path / "csframe.toml"
    toml.write_text(toml.read_text().replace('database = "demo.duckdb"', 'database = "demo.duckdb"\nread_only = true'))
    expect(compute(engine, *RANGE), 2, "read_only")


def test_schema_qualified_target_on_duckdb(duck_project, tmp_path):
    engine = duck_project.copy(tmp_path / "duck")
    ok(compute(engine, *RANGE, table="main.cs_q"))
    assert engine.query("SELECT count(*) FROM main.cs_q") == [(18,)]



@pytest.mark.parametrize("args,fragment", [
    (("--format", "yaml"), "unknown format"),
    (("--output", "/no/such/dir/out.csv"), "does not exist"),
    (("--format", "parquet"), "--output"),
    (("--timeout", "-1"), "--timeout"),
])
def test_usage_errors_fail_before_anything_is_written(duck_project, tmp_path, args, fragment):
    engine = duck_project.copy(tmp_path / "duck")
    r = cs("compute", *METRICS, *RANGE, "--target", "cs_metrics", *args, project=engine.path)
    expect(r, 2, fragment)
    assert engine.query("SELECT count(*) FROM information_schema.tables WHERE table_name = 'cs_metrics'") == [(0,)]
