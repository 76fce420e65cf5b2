"""``compute --target TABLE`` on DuckDB, PostgreSQL and BigQuery (the local-bigquery emulator),
through the real command: the table and its documented schema, idempotent re-runs, overlapping
runs, two writers at once, and a writer killed in the middle of its write (DuckDB, PostgreSQL:
inside its transaction, after its delete; BigQuery: after loading its staging table, before
its one MERGE). Then the pre-flight (a missing schema, a table of another shape: exit 2 before
anything is computed), DuckDB's read-only plain runs and its writer threads of one process, and
the run's warnings as observer events (printed once by the command)."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import time

import pytest

from tests.pipeline.commands import cs, expect, json_lines, ok, show, start
from tests.pipeline.pause import PauseAtWrite, paused_project, wait_for_file
from tests.pipeline.projects import RANGE

METRICS = ("-m", "mrr", "-m", "churn_rate", "-m", "new_customers")


def compute(engine, *args, extra_env=None, table="cs_metrics", target=None):
    return cs("compute", *METRICS, *args, "--target", target or engine.table(table), "--format", "json",
              project=engine.path, extra_env={**engine.env, **(extra_env or {})})


def test_target_ends_with_the_rows_written_the_table_and_the_engine(engine):
    r = ok(compute(engine, *RANGE))
    n = len(json.loads(r.stdout))
    assert n == len(engine.rows())
    last = r.stderr.splitlines()[-1]
    # the line compute adds, or (when the run took long enough to show progress) the "done" line
    assert last == f"csframe: wrote {n} rows to {engine.table()} ({engine.name})" or (
        last.startswith("csframe: done in") and f", {n} written to {engine.table()} ({engine.name}))" in last), show(r)


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
        assert unit in ("money", "share", "count") and len(fp) == 16 and version
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
    release, paused = tmp_path / "release-a", tmp_path / "paused-a"
    a = start("compute", *METRICS, "--start", "2024-01-01", "--end", "2024-07-01", "--target", engine.table(),
              "--format", "csv", "--log-format", "json", extra_env=engine.env,
              project=paused_project(engine, tmp_path / "a", marker=paused, release=release))
    try:
        wait_for_file(paused, a)  # inside its transaction, paused after its delete (BigQuery: staged)
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
    release, paused = tmp_path / "release-a", tmp_path / "paused-a"
    a = start("compute", *METRICS, *RANGE, "--target", engine.table(), "--format", "csv", "--log-format", "json",
              project=paused_project(engine, tmp_path / "a", marker=paused, release=release))
    try:
        wait_for_file(paused, a)
        b = compute(engine, "--start", "2024-03-01", "--end", "2024-09-01", "--retries", "0")
    finally:
        release.touch()
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


def test_writer_killed_inside_its_transaction_leaves_the_previous_rows(engine, tmp_path):
    ok(compute(engine, *RANGE, "--by", "segment"))
    before = engine.rows()
    staged_before = _staging_tables(engine) if engine.name == "bigquery" else {}
    paused = tmp_path / "paused"
    victim = start("compute", *METRICS, *RANGE, "--by", "segment", "--target", engine.table(), "--format", "csv",
                   "--log-format", "json", extra_env=engine.env,
                   project=paused_project(engine, tmp_path / "victim", marker=paused, release=tmp_path / "never"))
    wait_for_file(paused, victim)  # DuckDB, PostgreSQL: deleted, not yet inserted, not committed
    if engine.name == "bigquery":  # it has staged its rows (a table, a load job); its MERGE waits
        assert any(t.num_rows for k, t in _staging_tables(engine).items() if k not in staged_before)
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


# -- the pre-flight: a target that cannot be written fails before anything is computed -----------

SPELLED = {  # the documented column types, and two others, as each engine spells them in DDL
    "duckdb": {"text": "VARCHAR", "date": "DATE", "double": "DOUBLE", "timestamp": "TIMESTAMP", "int": "INTEGER"},
    "postgres": {"text": "TEXT", "date": "DATE", "double": "DOUBLE PRECISION", "timestamp": "TIMESTAMP",
                 "int": "INTEGER"},
    "bigquery": {"text": "STRING", "date": "DATE", "double": "FLOAT64", "timestamp": "DATETIME", "int": "INT64"},
}
FOUND = {  # how each engine's catalog names a column's type, in a message
    "duckdb": {"text": "VARCHAR", "int": "INTEGER"},
    "postgres": {"text": "text", "int": "integer"},
    "bigquery": {"text": "STRING", "int": "INTEGER"},  # tables.get says INTEGER for INT64
}
EXPECTED = {  # the documented types, as each engine spells them in a message
    "duckdb": {"text": "VARCHAR", "date": "DATE", "double": "DOUBLE", "timestamp": "TIMESTAMP"},
    "postgres": {"text": "text", "date": "date", "double": "double precision", "timestamp": "timestamp"},
    "bigquery": {"text": "STRING", "date": "DATE", "double": "FLOAT64", "timestamp": "DATETIME"},
}
DOCUMENTED = (("metric", "text"), ("variant", "text"), ("grain", "text"), ("period_start", "date"),
              ("period_end", "date"), ("dimensions", "text"), ("value", "double"), ("unit", "text"),
              ("computed_at", "timestamp"), ("fingerprint", "text"), ("csframe_version", "text"))


def run_sql(engine, sql: str) -> None:
    """A statement on the engine's database, read-write (DuckDB: the project's file)."""
    if engine.name == "duckdb":
        import duckdb

        with duckdb.connect(str(engine.path / "demo.duckdb")) as con:
            con.execute(sql)
    else:
        engine.query(sql)


def make_table(engine, name: str, columns) -> None:
    """``name`` (dropped first) with ``columns``: (column, family of SPELLED, constraint text)."""
    types = SPELLED[engine.name]
    run_sql(engine, f"DROP TABLE IF EXISTS {engine.table(name)}")
    run_sql(engine, f"CREATE TABLE {engine.table(name)} ("
                    + ", ".join(f"{c} {types[t]} {extra}".strip() for c, t, extra in columns) + ")")


def computed_anything(stderr: str) -> list[str]:
    """The stages past the connect (and its pre-flight) that a run reported (--log-format json)."""
    return [e["stage"] for e in json_lines(stderr)
            if e["event"] == "stage_start" and e["stage"] in ("check", "compile", "execute", "write")]


SHAPES = {
    # every documented name, every column text: DuckDB and PostgreSQL stored the values as text
    "all_text": ([(c, "text", "") for c, _ in DOCUMENTED],
                 [("period_start", "text", "date"), ("value", "text", "double"), ("computed_at", "text", "timestamp")]),
    # every documented name, every column an integer: failed at write time, after the compute
    "all_int": ([(c, "int", "") for c, _ in DOCUMENTED],
                [("metric", "int", "text"), ("period_end", "int", "date"), ("value", "int", "double")]),
    # the documented columns and one more that is NOT NULL without a default: failed at write time
    "extra_not_null": ([(c, t, "") for c, t in DOCUMENTED] + [("note", "text", "NOT NULL")], "note"),
    # value NOT NULL: a metric without a value for a period could not be written
    "value_not_null": ([(c, t, "NOT NULL" if c == "value" else "") for c, t in DOCUMENTED], "value is NOT NULL"),
}


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_a_table_of_another_shape_is_refused_before_anything_is_computed(engine, shape):
    columns, named = SHAPES[shape]
    table = f"shape_{shape}"
    make_table(engine, table, columns)
    r = compute(engine, *RANGE, "--log-format", "json", table=table)
    expect(r, 2, "not a csframe result table", "drop this one")
    assert r.stdout == "" and computed_anything(r.stderr) == [], r.stderr
    message = json_lines(r.stderr)[-1]["message"]
    if isinstance(named, str):
        assert named in message, message
    else:  # each wrong column with its type and the expected one, all in one message
        found, wanted = FOUND[engine.name], EXPECTED[engine.name]
        for column, have, expected in named:
            assert f"column {column} is {found[have]}, expected {wanted[expected]}" in message, message
    assert engine.query(f"SELECT count(*) FROM {engine.table(table)}") == [(0,)]


def test_extra_columns_that_take_null_or_have_a_default_are_fine(engine):
    extra = [("note", "text", "")]
    if engine.name != "bigquery":  # the emulator has no column defaults
        extra.append(("batch", "int", "NOT NULL DEFAULT 7"))
    make_table(engine, "shape_extra_ok", [(c, t, "") for c, t in DOCUMENTED] + extra)
    ok(compute(engine, *RANGE, table="shape_extra_ok"))
    assert len(engine.rows("shape_extra_ok")) == 3 * 6
    if engine.name != "bigquery":
        assert engine.query(f"SELECT DISTINCT batch FROM {engine.table('shape_extra_ok')}") == [(7,)]


def test_a_missing_schema_is_refused_before_anything_is_computed(engine):
    """csframe creates the table, never its schema (BigQuery: dataset); before, the run computed
    everything (on BigQuery: billed queries) and then failed with exit 1."""
    r = compute(engine, *RANGE, "--log-format", "json", target="csframe_no_such_schema.cs_metrics")
    expect(r, 2, "csframe_no_such_schema", "does not exist", "create it first")
    assert r.stdout == "" and computed_anything(r.stderr) == [], r.stderr
    hint = json_lines(r.stderr)[-1]["hint"]
    assert ("bq mk --dataset" if engine.name == "bigquery" else "CREATE SCHEMA") in hint


def test_write_results_checks_the_shape_again_in_its_transaction(engine, monkeypatch):
    """The table may change between the pre-flight and the write: the write checks again."""
    from csframe.core.errors import UsageError
    from csframe.core.session import Session
    from csframe.core.writeback import TARGET_COLUMNS, TARGET_KEY

    make_table(engine, "shape_late", [(c, "text", "") for c, _ in DOCUMENTED])
    for k, v in engine.env.items():
        monkeypatch.setenv(k, v)
    row = ("mrr", "default", "month", dt.date(2024, 1, 1), dt.date(2024, 2, 1), "{}", 1.0, "money",
           dt.datetime(2024, 2, 1), "0123456789abcdef", "0.test")
    with Session.open(engine.path) as s:
        adapter = s.adapter()
        adapter.connect()
        with pytest.raises(UsageError, match="column period_start is"):
            adapter.write_results(engine.table("shape_late"), TARGET_COLUMNS, [row], TARGET_KEY)
    assert engine.query(f"SELECT count(*) FROM {engine.table('shape_late')}") == [(0,)]


# -- DuckDB: plain runs read; writers of one process take turns -------------------------------------

def test_plain_runs_open_the_duckdb_file_read_only_so_they_share_it(duck_project, tmp_path):
    """Two plain computes at once, while another process (a BI reader, here this test) holds the
    file open read-only: before, each run opened it read-write and failed (exit 3)."""
    import duckdb

    engine = duck_project.copy(tmp_path / "duck")
    with duckdb.connect(str(engine.path / "demo.duckdb"), read_only=True) as reader:
        runs = [start("compute", *METRICS, *RANGE, "--format", "csv", "--retries", "0", project=engine.path)
                for _ in range(2)]
        outs = [run.finish() for run in runs]
        assert reader.execute("SELECT count(*) FROM customers").fetchone()[0] > 0  # still reading
    for run, (out, err) in zip(runs, outs):
        assert run.returncode == 0, err
    assert outs[0][0] == outs[1][0] and outs[0][0].startswith("metric,variant,period_start")


def test_a_duckdb_writer_waits_while_a_plain_run_or_reader_has_the_file(duck_project, tmp_path):
    """A --target run opens the file read-write: it cannot while others read it, says so, and
    tries again until they are done (--retries)."""
    import duckdb

    engine = duck_project.copy(tmp_path / "duck")
    reader = duckdb.connect(str(engine.path / "demo.duckdb"), read_only=True)
    try:
        w = start("compute", *METRICS, *RANGE, "--target", "cs_metrics", "--format", "csv", "--retries", "8",
                  "--log-format", "json", project=engine.path)
        w.wait_for(lambda line: '"event": "retry"' in line and "in use by another process" in line)
    finally:
        reader.close()
    _, err = w.finish()
    assert w.returncode == 0, err
    assert len(engine.rows()) == 3 * 6


def _threads(*calls):
    """Run the calls in threads at once; their results (or exceptions), in order."""
    import threading

    out: list = [None] * len(calls)

    def run(i, call):
        try:
            out[i] = call()
        except BaseException as e:  # noqa: BLE001 - reported by the test
            out[i] = e

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    return out


@pytest.mark.parametrize("table_exists", [False, True], ids=["creating", "replacing"])
def test_two_writer_threads_of_one_process_take_turns_on_duckdb(duck_project, tmp_path, monkeypatch, table_exists):
    """The Python API, two threads writing one DuckDB table: the first pauses inside its
    transaction (after its create and delete) until the second has lost to it ("Catalog
    write-write conflict on create" / "Conflict on tuple deletion!"), which used to fail the
    second run (exit 1); now it runs its transaction again once the first has committed."""
    import threading

    from csframe.adapters import duckdb_write
    from csframe.core.session import Session

    engine = duck_project.copy(tmp_path / "duck")
    if table_exists:
        ok(compute(engine, "--start", "2024-01-01", "--end", "2024-10-01"))
    release, lost = tmp_path / "release", threading.Event()
    conflicts = []
    real = duckdb_write.is_conflict

    def spy(error):
        found = real(error)
        if found:
            conflicts.append(str(error).splitlines()[0])
            lost.set()
        return found

    monkeypatch.setattr(duckdb_write, "is_conflict", spy)
    sessions = [Session.open(engine.path), Session.open(engine.path)]
    for s in sessions:  # a writer that gets to its uncommitted stage waits there until the release
        s.plugins.pm.register(PauseAtWrite(release))
    try:
        def write(s, start_, end):
            return lambda: s.compute(["mrr", "churn_rate", "new_customers"], start=start_, end=end,
                                     target="cs_metrics", timeout=60).written

        def release_after_a_conflict():
            lost.wait(30)
            release.touch()

        a, b, _ = _threads(write(sessions[0], "2024-01-01", "2024-07-01"), write(sessions[1], "2024-04-01", "2024-10-01"),
                           release_after_a_conflict)
    finally:
        release.touch()
        for s in sessions:
            s.close()
    assert a == 18 and b == 18, (a, b)
    assert conflicts and all("conflict" in c.lower() for c in conflicts), conflicts
    rows = engine.rows()
    assert len(rows) == len(keyed(rows)) == 3 * 9  # Jan–Sep, each key once, every row a's or b's
    assert len({r[8] for r in rows}) == 2


def test_sessions_of_one_process_share_a_duckdb_file_whatever_they_do(duck_project, tmp_path):
    """In one process DuckDB has a file open in one mode: a reading session (read-only) stays
    open while another writes (it lets go of the file, and reads on through the writer's)."""
    from csframe.core.session import Session

    engine = duck_project.copy(tmp_path / "duck")
    with Session.open(engine.path) as reader, Session.open(engine.path) as writer:
        first = reader.compute(["mrr"], start="2024-01-01", end="2024-04-01")
        assert writer.compute(["mrr"], start="2024-01-01", end="2024-04-01", target="cs_metrics").written == 3
        assert reader.compute(["mrr"], start="2024-01-01", end="2024-04-01").rows == first.rows
        assert reader.adapter().execute("SELECT count(*) FROM cs_metrics") == [(3,)]
    assert len(engine.rows()) == 3


# -- warnings reach a Python API observer, and the command prints each once ---------------------------

TTV = ("-m", "time_to_value", *RANGE)


def test_an_observer_receives_each_warning_of_a_run(duck_project, tmp_path, caplog):
    import logging

    from csframe.core.observe import LoggingObserver
    from csframe.core.session import Session

    class Recorder:
        def __init__(self):
            self.events = []

        def event(self, kind, **fields):
            self.events.append((kind, fields))

    engine = duck_project.copy(tmp_path / "duck")
    seen = Recorder()
    with Session.open(engine.path) as s:
        result = s.compute(["time_to_value"], start="2024-01-01", end="2024-07-01", target="cs_metrics",
                           observer=seen)
        assert result.warnings and any("leaves out" in w for w in result.warnings)
        assert [f["message"] for k, f in seen.events if k == "warning"] == list(result.warnings)
        assert seen.events[-1][0] == "warning"  # once the run is done, after its write
        caplog.set_level(logging.INFO, logger="csframe")
        s.compute(["time_to_value"], start="2024-01-01", end="2024-07-01", observer=LoggingObserver())
    logged = [r for r in caplog.records if getattr(r, "csframe_event", None) == "warning"]
    assert [r.csframe_message for r in logged] == list(result.warnings)
    assert all(r.levelno == logging.WARNING for r in logged)


def test_the_command_prints_each_warning_once(duck_project):
    r = ok(cs("compute", *TTV, "--format", "csv", project=duck_project.path))
    notes = [line for line in r.stderr.splitlines() if "leaves out" in line]
    assert len(notes) == 1 and notes[0].startswith("note: time_to_value:median leaves out"), r.stderr
    r = ok(cs("compute", *TTV, "--format", "csv", "--log-format", "json", project=duck_project.path))
    warnings = [e for e in json_lines(r.stderr) if e["event"] == "warning"]
    assert [w["message"] for w in warnings] == notes and warnings[0]["level"] == "warning", r.stderr
    assert ok(cs("compute", *TTV, "--format", "csv", "--quiet", project=duck_project.path)).stderr == ""


def test_a_connection_lost_while_writing_is_opened_again_and_the_write_repeated(pg_project, tmp_path):
    """PostgreSQL terminates the writer's connection inside its transaction (after its delete):
    nothing was committed, so the run connects again and writes again, and says so; the table
    then holds the run's rows once each."""
    engine = pg_project
    engine.query(f"DROP TABLE IF EXISTS {engine.table('lost')}")
    ok(compute(engine, *RANGE, table="lost"))
    before = engine.rows("lost")
    release, paused = tmp_path / "release", tmp_path / "paused"
    run = start("compute", *METRICS, *RANGE, "--target", engine.table("lost"), "--format", "csv", "--log-format",
                "json", extra_env=engine.env,
                project=paused_project(engine, tmp_path / "p", marker=paused, release=release))
    try:
        wait_for_file(paused, run)  # deleted, paused, not committed
        killed = engine.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid <> pg_backend_pid() "
                              f"AND state = 'idle in transaction' AND query LIKE '%{engine.schema}%lost%'")
        assert killed == [(True,)], killed
    finally:
        release.touch()
    _, err = run.finish()
    assert run.returncode == 0, err
    retried = [e for e in json_lines(err) if e["event"] == "retry"]
    assert [e["stage"] for e in retried] == ["write"] and "lost the connection to postgres" in retried[0]["error"]
    after = engine.rows("lost")
    assert keyed(after) == keyed(before) and len(after) == len(before)
