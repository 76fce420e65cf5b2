"""Write-back on BigQuery (``compute --target``; adapters/bigquery_write.py).

- The two statements it sends, CREATE TABLE and MERGE, pass Google's analyzer (ZetaSQL), and
  the MERGE keeps to a restriction the analyzer does not check: BigQuery refuses correlated
  subqueries in a MERGE's WHEN clauses.
- A MERGE that loses to a concurrent one is sent again, a bounded number of times (no emulator
  can produce that conflict: local-bigquery runs one DML statement of a table at a time).
- Through the emulator and the official client: a key whose row count changes, NULL values,
  a run with two rows of one key, a MERGE that fails, the staging table (its expiration, the
  rows in it, dropped afterwards) and the run's time limit.
- The pre-flight (``check_target``): a missing dataset or a table of another shape is refused
  without a job; the type families it accepts are ones the analyzer accepts in the MERGE. The command-level tests (re-runs,
  overlapping runs, two writers, SIGKILL) are in tests/pipeline/test_writeback.py.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from csframe.adapters import bigquery_write as bw
from csframe.core.deadline import Deadline
from csframe.core.errors import MetricFailedError, RunTimeoutError, UsageError
from csframe.core.retry import RetryPolicy
from csframe.core.writeback import TARGET_COLUMNS, TARGET_KEY
from sqlglot import exp

from tests.support.bigquery_emulator import PROJECT, bq_emulator  # noqa: F401 - the fixture
from tests.support.zetasql import zetasql  # noqa: F401 - Google's analyzer (ZetaSQL)

BQ_TYPES = [(n, {"VARCHAR": "STRING", "DATE": "DATE", "DOUBLE": "FLOAT64", "TIMESTAMP": "DATETIME"}[t])
            for n, t in TARGET_COLUMNS]
COMPUTED = dt.datetime(2025, 1, 2, 3, 4, 5, 123456)


def row(metric="mrr", month=1, value=1.0, dims="{}", at=COMPUTED, variant="default"):
    return (metric, variant, "month", dt.date(2024, month, 1), dt.date(2024, month + 1, 1), dims, value, "money", at,
            "0123456789abcdef", "0.test")


# -- the statements, analyzed by ZetaSQL ------------------------------------------------------------

@pytest.mark.parametrize("name", ["cs_metrics", "other.cs_metrics", "my_project.other.cs_metrics"])
def test_create_table_and_merge_pass_bigquerys_analyzer(zetasql, name):
    table = bw.qualified(name, "test_project", "cs")
    staging = exp.Table(this=exp.to_identifier("_csframe_stage_0123", quoted=True), db=table.args["db"].copy(),
                        catalog=table.args["catalog"].copy())
    where = f"{table.catalog}.{table.db}"
    create = bw.create_statement(table, TARGET_COLUMNS, TARGET_KEY)
    assert "PRIMARY KEY (`metric`, `variant`, `grain`, `period_start`, `dimensions`) NOT ENFORCED" in create
    catalog = zetasql.register_catalog({f"{where}._csframe_stage_0123": BQ_TYPES})  # the target is absent
    assert zetasql.analyze(create, catalog, statements=("CREATE_TABLE",)) is None, create
    merge = bw.merge_statement(table, staging, TARGET_COLUMNS, TARGET_KEY)
    catalog = zetasql.register_catalog({f"{where}.{table.name}": BQ_TYPES, f"{where}._csframe_stage_0123": BQ_TYPES})
    assert zetasql.analyze(merge, catalog, statements=("MERGE",)) is None, merge


def test_the_analyzer_would_catch_a_staging_table_of_other_types(zetasql):
    """The analysis above proves something: a staged value of another type is refused."""
    table = bw.qualified("cs_metrics", "p", "cs")
    staging = bw.qualified("_csframe_stage_0123", "p", "cs")
    wrong = [(n, "STRING" if n == "period_start" else t) for n, t in BQ_TYPES]
    catalog = zetasql.register_catalog({"p.cs.cs_metrics": BQ_TYPES, "p.cs._csframe_stage_0123": wrong})
    error = zetasql.analyze(bw.merge_statement(table, staging, TARGET_COLUMNS, TARGET_KEY), catalog,
                            statements=("MERGE",))
    assert error is not None


def test_the_merge_has_no_subquery_in_a_when_clause():
    """BigQuery: "Correlated subqueries within a when_clause, search_condition, merge_update_clause
    or merge_insert_clause are not supported for MERGE statements" — ZetaSQL accepts them, and so
    does the emulator, so only this checks it. (The usual ``ON FALSE … WHEN NOT MATCHED BY SOURCE
    AND EXISTS (…) THEN DELETE`` is such a statement.)"""
    import sqlglot

    sql = bw.merge_statement(bw.qualified("cs_metrics", "p", "cs"), bw.qualified("_s", "p", "cs"),
                             TARGET_COLUMNS, TARGET_KEY)
    tree = sqlglot.parse_one(sql, read="bigquery")
    assert isinstance(tree, exp.Merge)
    for when in tree.args["whens"].expressions:
        assert when.find(exp.Select, exp.Subquery, exp.Exists, exp.In) is None, when.sql("bigquery")
    assert tree.args["on"].find(exp.Select) is None
    assert "$" not in sql and "'" not in sql  # no value in the text: they come with the load job


# -- the retry of a conflicting MERGE --------------------------------------------------------------

CONFLICT = ("bigquery failed to write cs_metrics: Could not serialize access to table p:cs.cs_metrics "
            "due to concurrent update")


def test_a_merge_that_lost_to_a_concurrent_one_is_sent_again():
    calls, waits = [], []

    def run():
        calls.append(1)
        if len(calls) < 3:
            raise MetricFailedError(CONFLICT)
        return "merged"

    assert bw.merge_with_retries(run, sleep=waits.append) == "merged"
    assert len(calls) == 3 and len(waits) == 2 and 0.9 <= waits[0] <= 1.1 and 1.8 <= waits[1] <= 2.2


def test_the_retries_of_a_conflict_are_bounded_and_fail_with_exit_1():
    calls = []

    def run():
        calls.append(1)
        raise MetricFailedError(CONFLICT)

    with pytest.raises(MetricFailedError) as e:
        bw.merge_with_retries(run, policy=RetryPolicy(retries=2, base=0.01), sleep=lambda s: None)
    assert len(calls) == 3 and e.value.exit_code == 1
    assert "concurrent update" in e.value.message and "gave up after 2 retries" in e.value.message
    assert "Nothing was written" in e.value.hint


def test_other_failures_are_not_retried_and_the_time_limit_bounds_the_retries():
    calls = []

    def other():
        calls.append(1)
        raise MetricFailedError("bigquery failed to write cs_metrics: Syntax error")

    with pytest.raises(MetricFailedError, match="Syntax error"):
        bw.merge_with_retries(other, sleep=lambda s: None)
    assert len(calls) == 1

    def conflict():
        raise MetricFailedError(CONFLICT)

    with pytest.raises(RunTimeoutError):  # the next wait (1 s) would pass the time limit
        bw.merge_with_retries(conflict, Deadline(0.5), sleep=lambda s: None)
    assert bw.is_conflict("Resources exceeded during query execution: Too many DML statements outstanding "
                          "against table p:d.t, limit is 20.")


# -- through the emulator ----------------------------------------------------------------------------

@pytest.fixture
def adapter(bq_emulator, tmp_path):  # noqa: F811
    """The adapter on a fresh dataset of the emulator."""
    import uuid

    from csframe.adapters.bigquery import BigQueryAdapter

    dataset = f"write_{uuid.uuid4().hex[:10]}"
    a = BigQueryAdapter({"project": PROJECT, "dataset": dataset, "api_endpoint": bq_emulator.endpoint}, Path(tmp_path))
    a.connect(write=True)
    yield a
    a.close()


def rows_of(adapter, table="cs_metrics"):
    return adapter.execute(f"SELECT metric, variant, grain, period_start, period_end, dimensions, value, unit, "
                           f"computed_at, fingerprint, csframe_version FROM {table} "
                           "ORDER BY metric, variant, period_start, dimensions, value")


def staging_tables(adapter):
    return [t.table_id for t in adapter.client.list_tables(f"{adapter.project}.{adapter.dataset}")
            if t.table_id.startswith(bw.STAGING_PREFIX)]


def test_written_rows_read_back_exactly_and_null_stays_null(adapter):
    rows = [row(month=1, value=1.25), row(month=2, value=None), row(month=1, dims='{"segment":"smb"}', value=-3.5)]
    assert adapter.write_results("cs_metrics", TARGET_COLUMNS, rows, TARGET_KEY) == 3
    assert adapter.last_job.query.startswith("MERGE INTO `test-project`.") and "@" not in adapter.last_job.query
    assert rows_of(adapter) == sorted(rows, key=lambda r: (r[0], r[1], r[3], r[5], r[6] is None, r[6] or 0))
    assert staging_tables(adapter) == []  # dropped after the MERGE


def test_every_row_of_a_key_is_replaced_whatever_their_number(adapter):
    """A key with two rows in the table (written by hand: BigQuery enforces no key) gets the one
    new row; a key the run does not compute keeps its rows."""
    adapter.write_results("cs_metrics", TARGET_COLUMNS, [row(month=1, value=1.0), row(month=3, value=3.0)], TARGET_KEY)
    adapter.client.query(f"INSERT INTO `{adapter.project}.{adapter.dataset}.cs_metrics` SELECT * REPLACE (9.0 AS value) "
                         f"FROM `{adapter.project}.{adapter.dataset}.cs_metrics` WHERE period_start = '2024-01-01'").result()
    assert len(rows_of(adapter)) == 3
    later = COMPUTED + dt.timedelta(hours=1)
    adapter.write_results("cs_metrics", TARGET_COLUMNS, [row(month=1, value=5.0, at=later), row(month=2, value=6.0, at=later)],
                          TARGET_KEY)
    assert [(r[3].month, r[6], r[8]) for r in rows_of(adapter)] == [(1, 5.0, later), (2, 6.0, later), (3, 3.0, COMPUTED)]


def test_two_rows_of_one_key_are_refused_and_nothing_is_written(adapter):
    adapter.write_results("cs_metrics", TARGET_COLUMNS, [row(month=1, value=1.0)], TARGET_KEY)
    before = rows_of(adapter)
    with pytest.raises(MetricFailedError, match="two rows of one key") as e:
        adapter.write_results("cs_metrics", TARGET_COLUMNS, [row(month=1, value=2.0), row(month=1, value=3.0)],
                              TARGET_KEY)
    assert e.value.exit_code == 1 and "Nothing was written" in e.value.hint
    assert rows_of(adapter) == before


def test_a_table_of_another_shape_is_refused_before_anything_is_written(adapter):
    adapter.client.query(f"CREATE TABLE `{adapter.project}.{adapter.dataset}.not_ours` (metric STRING, note STRING)").result()
    with pytest.raises(UsageError, match="not a csframe result table.*variant") as e:
        adapter.write_results("not_ours", TARGET_COLUMNS, [row()], TARGET_KEY)
    assert e.value.exit_code == 2
    assert staging_tables(adapter) == []


def test_a_failing_merge_changes_nothing_and_drops_its_staging_table(adapter, monkeypatch):
    """The documented column names, but ``value`` a DATE: the MERGE cannot insert a FLOAT64 there.
    (The shape check refuses such a table before anything is staged: it is switched off here, to
    make the MERGE itself fail.)"""
    columns = ", ".join(f"{n} {'DATE' if n == 'value' else t}" for n, t in BQ_TYPES)
    adapter.client.query(f"CREATE TABLE `{adapter.project}.{adapter.dataset}.odd` ({columns})").result()
    with pytest.raises(UsageError, match="column value is DATE, expected FLOAT64"):
        adapter.write_results("odd", TARGET_COLUMNS, [row()], TARGET_KEY)
    assert staging_tables(adapter) == []
    monkeypatch.setattr(bw, "check_shape", lambda *args, **kwargs: None)
    with pytest.raises(MetricFailedError, match="bigquery failed to write odd") as e:
        adapter.write_results("odd", TARGET_COLUMNS, [row()], TARGET_KEY)
    assert e.value.exit_code == 1 and "Nothing was written" in e.value.hint
    assert rows_of(adapter, "odd") == [] and staging_tables(adapter) == []


def test_the_staging_table_expires_holds_the_rows_and_the_target_is_untouched_until_the_merge(adapter, monkeypatch):
    adapter.write_results("cs_metrics", TARGET_COLUMNS, [row(month=1, value=1.0)], TARGET_KEY)
    before = rows_of(adapter)
    seen = {}

    def pause(stage):  # the write's uncommitted stage (csframe_write_stage): staged, MERGE not sent
        assert stage == "uncommitted"
        (name,) = staging_tables(adapter)
        table = adapter.client.get_table(f"{adapter.project}.{adapter.dataset}.{name}")
        seen.update(expires=table.expires, staged=rows_of(adapter, name), target=rows_of(adapter))

    monkeypatch.setattr(bw, "write_stage", pause)
    new = [row(month=1, value=2.0, at=COMPUTED + dt.timedelta(hours=1)), row(month=2, value=None)]
    adapter.write_results("cs_metrics", TARGET_COLUMNS, new, TARGET_KEY)
    now = dt.datetime.now(dt.UTC)
    assert now + dt.timedelta(minutes=55) < seen["expires"] < now + dt.timedelta(minutes=65)
    assert seen["staged"] == new and seen["target"] == before
    assert rows_of(adapter) == new and staging_tables(adapter) == []


def test_the_run_time_limit_holds_the_write(adapter, monkeypatch):
    """Each job gets the time left as job_timeout_ms; a run out of time sends no MERGE."""
    import time

    adapter.set_deadline(Deadline(600))
    adapter.write_results("cs_metrics", TARGET_COLUMNS, [row(month=1, value=1.0)], TARGET_KEY)
    timeout = int(adapter.last_job._properties["configuration"]["jobTimeoutMs"])
    assert 590_000 < timeout <= 600_000
    before = rows_of(adapter)
    adapter.set_deadline(Deadline(1.0))
    monkeypatch.setattr(bw, "write_stage", lambda stage: time.sleep(1.2))
    with pytest.raises(RunTimeoutError, match="time limit"):
        adapter.write_results("cs_metrics", TARGET_COLUMNS, [row(month=1, value=2.0)], TARGET_KEY)
    adapter.set_deadline(None)
    assert rows_of(adapter) == before and staging_tables(adapter) == []


# -- the pre-flight (check_target): before the run computes anything ---------------------------------

def test_check_target_sends_no_job_and_refuses_a_missing_dataset_or_a_table_of_another_shape(adapter):
    def create(name, columns):
        adapter.client.query(f"CREATE TABLE `{adapter.project}.{adapter.dataset}.{name}` ({columns})").result()

    jobs = adapter.last_job
    adapter.check_target("cs_metrics", TARGET_COLUMNS, TARGET_KEY)  # absent: fine, and not created
    assert [t.table_id for t in adapter.client.list_tables(f"{adapter.project}.{adapter.dataset}")] == []
    with pytest.raises(UsageError, match="dataset test-project.no_such_dataset does not exist") as e:
        adapter.check_target("no_such_dataset.cs_metrics", TARGET_COLUMNS, TARGET_KEY)
    assert e.value.exit_code == 2 and "bq mk --dataset test-project:no_such_dataset" in e.value.hint
    # TIMESTAMP is an instant: a MERGE cannot insert csframe's DATETIME into it
    create("instants", ", ".join(f"{n} {'TIMESTAMP' if n == 'computed_at' else t}" for n, t in BQ_TYPES))
    with pytest.raises(UsageError, match="column computed_at is TIMESTAMP, expected DATETIME"):
        adapter.check_target("instants", TARGET_COLUMNS, TARGET_KEY)
    create("required", ", ".join(f"{n} {t}" for n, t in BQ_TYPES) + ", note STRING NOT NULL")
    with pytest.raises(UsageError, match="column note \\(STRING\\) is NOT NULL without a default"):
        adapter.check_target("required", TARGET_COLUMNS, TARGET_KEY)
    create("fine", ", ".join(f"{n} {t}" for n, t in BQ_TYPES) + ", note STRING")
    adapter.check_target("fine", TARGET_COLUMNS, TARGET_KEY)
    assert adapter.last_job is jobs  # tables.get and datasets.get only: no job, nothing billed


def test_the_shape_check_lets_through_only_tables_bigquerys_merge_can_write(zetasql):
    """For each documented column and each BigQuery type: when check_shape accepts a table with
    that column of that type, Google's analyzer accepts the MERGE into it (so a table that passes
    the pre-flight never fails the write for its types). Stricter by design: a DATE column as
    DATETIME, which the MERGE would take, is refused (it would read back as a DATETIME)."""
    from csframe.core.writeback import ExistingColumn, check_shape

    table, staging = bw.qualified("cs_metrics", "p", "cs"), bw.qualified("_csframe_stage_0123", "p", "cs")
    merge = bw.merge_statement(table, staging, TARGET_COLUMNS, TARGET_KEY)
    accepted = []
    for column, _ in BQ_TYPES:
        for kind in ("STRING", "DATE", "FLOAT64", "DATETIME", "TIMESTAMP", "INT64", "NUMERIC", "BIGNUMERIC", "BOOL",
                     "BYTES", "TIME", "JSON"):
            target = [(n, kind if n == column else t) for n, t in BQ_TYPES]
            field = "FLOAT" if kind == "FLOAT64" else kind  # as tables.get spells it
            existing = [ExistingColumn(n, field if n == column else t, bw._FAMILIES.get(field if n == column else t))
                        for n, t in target]
            try:
                check_shape("cs_metrics", existing, TARGET_COLUMNS)
            except UsageError:
                continue
            accepted.append((column, kind))
            catalog = zetasql.register_catalog({"p.cs.cs_metrics": target, "p.cs._csframe_stage_0123": BQ_TYPES})
            assert zetasql.analyze(merge, catalog, statements=("MERGE",)) is None, (column, kind)
    assert accepted == BQ_TYPES  # exactly the documented type of each column
