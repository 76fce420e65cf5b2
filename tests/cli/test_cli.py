"""The command line: the public contract of docs cli.md.

Every test runs the ``csframe`` console script's function (``csframe.cli:main``) with the
command's arguments and environment, in the test process (tests/support/in_process.py, which
tests/unit/test_in_process.py holds to what a process of its own answers; a command whose
environment only a new process reads runs in one), and checks the exit code
(0 ok, 1 bad data / failed metric, 2 usage or bad project file, 3 engine unreachable),
the key parts of the message, and that stdout carries nothing but data.

One demo project is built once for the module; small hand-made projects (see
``tests/support/projects.py``) hold the exact rows a test needs. The rows that break the data
contract are tried on the three engines (``tests/support/engines.py``): DuckDB, PostgreSQL and the
BigQuery emulator.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.bigquery_emulator import bq_emulator  # noqa: F401 - the fixture engine_project uses
from tests.support.engines import engine_project  # noqa: F401 - the fixture
from tests.support.in_process import csframe
from tests.support.projects import make_project

CSFRAME = shutil.which("csframe") or str(Path(sys.executable).parent / "csframe")
UNSET_VAR = "CSFRAME_TEST_SURELY_UNSET_VAR_7Q"
COMMANDS = ["compute", "list", "explain", "compare", "sql", "graph", "check", "init", "plugins", "report"]
T = dt.datetime


# -- running the command ---------------------------------------------------------------------

def _env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("CSFRAME_DEBUG", None)
    env.pop(UNSET_VAR, None)
    env.update(extra or {})
    return env


def cs(*args: str, project: Path | None = None, cwd: Path | None = None,
       env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    """The command, run in this process as the console script runs it (tests/support/in_process.py),
    or as a process of its own when the environment needs one."""
    argv = [CSFRAME, *map(str, args)]
    if project is not None:
        argv += ["--project", str(project)]
    return csframe(argv, _env(env), cwd=cwd, timeout=timeout)


def show(r: subprocess.CompletedProcess) -> str:
    return (f"\n$ {' '.join(r.args)}\nexit {r.returncode}\n--- stdout ---\n{r.stdout[-4000:]}"
            f"\n--- stderr ---\n{r.stderr[-4000:]}")


def expect(r: subprocess.CompletedProcess, code: int, *in_stderr: str) -> subprocess.CompletedProcess:
    """Exit ``code``; each fragment appears on stderr; never a traceback without --debug."""
    assert r.returncode == code, f"expected exit {code}" + show(r)
    for fragment in in_stderr:
        assert fragment.lower() in r.stderr.lower(), f"{fragment!r} not on stderr" + show(r)
    assert "Traceback" not in r.stderr, "a traceback without --debug" + show(r)
    return r


def ok(r: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    return expect(r, 0)


def error_lines(r: subprocess.CompletedProcess) -> list[str]:
    return [line for line in r.stderr.splitlines() if line.strip()]


def parse_csv(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def by_key(rows: list[dict], *key: str) -> dict:
    return {tuple(r[k] for k in key): r["value"] for r in rows}


# -- projects --------------------------------------------------------------------------------

def _subscriptions(*extra: dict) -> list[dict]:
    """3 customers: c1 100/month from 1 Jan, c2 50/month 1 Jan – 1 Mar (a month boundary),
    c3 30/month from 15 Jan 00:00 (a week boundary)."""
    rows = [
        dict(subscription_id="s1", customer_id="c1", started_at=T(2024, 1, 1), ended_at=None, mrr=100.0),
        dict(subscription_id="s2", customer_id="c2", started_at=T(2024, 1, 1), ended_at=T(2024, 3, 1), mrr=50.0),
        dict(subscription_id="s3", customer_id="c3", started_at=T(2024, 1, 15), ended_at=None, mrr=30.0),
    ]
    return rows + list(extra)


_CUSTOMERS = [
    dict(customer_id="c1", created_at=T(2023, 12, 1), segment="smb"),
    dict(customer_id="c2", created_at=T(2023, 12, 1), segment="ent"),
    dict(customer_id="c3", created_at=T(2024, 1, 10), segment=None),
]

_BAD = {
    # name: (extra subscription row, fragments the error names: source.column, sample key)
    "negative_mrr": (dict(subscription_id="s9", customer_id="c9", started_at=T(2024, 1, 1), ended_at=None, mrr=-5.0),
                     ["subscriptions.mrr", "negative", "s9"], 1),
    "overlap": (dict(subscription_id="s1", customer_id="c1", started_at=T(2024, 2, 1), ended_at=None, mrr=120.0),
                ["subscriptions.started_at", "overlap", "s1", "2024-02-01"], 1),
    "duplicate_key": (dict(subscription_id="s2", customer_id="c2", started_at=T(2024, 1, 1), ended_at=T(2024, 3, 1), mrr=50.0),
                      ["subscriptions.subscription_id", "duplicate key", "s2"], 2),
    "ended_before_started": (dict(subscription_id="s7", customer_id="c7", started_at=T(2024, 5, 1), ended_at=T(2024, 4, 1), mrr=10.0),
                             ["subscriptions.ended_at", "before", "s7"], 1),
    # a NULL mrr would drop out of M(b) yet leave its row running
    "null_mrr": (dict(subscription_id="s8", customer_id="c8", started_at=T(2024, 1, 1), ended_at=None, mrr=None),
                 ["subscriptions.mrr", "is NULL; the contract requires a number", "s8"], 1),
}


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("cli")


@pytest.fixture(scope="module")
def demo(root) -> Path:
    path = root / "demo"
    ok(cs("init", path, "--demo", "--customers", "150", "--months", "24", "--end", "2025-01-01"))
    return path


@pytest.fixture(scope="module")
def tiny(root) -> Path:
    return make_project(root / "tiny", {"subscriptions": _subscriptions(), "customers": _CUSTOMERS})


@pytest.fixture(scope="module")
def subs_only(root) -> Path:
    return make_project(root / "subs_only", {"subscriptions": _subscriptions()})


@pytest.fixture(scope="module")
def bad(root):
    """bad(name) -> a project whose subscriptions break the contract as _BAD[name] says."""
    made: dict[str, Path] = {}

    def build(name: str) -> Path:
        if name not in made:
            if name == "missing_column":
                rows = [{k: v for k, v in r.items() if k != "mrr"} for r in _subscriptions()]
            else:
                rows = _subscriptions(_BAD[name][0])
            made[name] = make_project(root / f"bad_{name}", {"subscriptions": rows})
        return made[name]

    return build


@pytest.fixture(scope="module")
def bad_on(root, engine_project):  # noqa: F811
    """bad_on(name) -> a project on each engine whose subscriptions break the contract as _BAD[name] says."""
    made: dict[str, Path] = {}

    def build(name: str) -> Path:
        if name not in made:
            if name == "missing_column":  # a table without mrr: not rows of the contract, so given typed
                from csframe.core.dataset import Column, Dataset, Table

                columns = (("subscription_id", "VARCHAR"), ("customer_id", "VARCHAR"), ("started_at", "TIMESTAMP"),
                           ("ended_at", "TIMESTAMP"))
                tables = Dataset((Table("subscriptions", tuple(Column(*c) for c in columns),
                                        [tuple(r[c] for c, _ in columns) for r in _subscriptions()]),))
            else:
                tables = {"subscriptions": _subscriptions(_BAD[name][0])}
            made[name] = engine_project(root / f"bad_{engine_project.engine}_{name}", tables)
        return made[name]

    return build


def _toml_project(root: Path, name: str, text: str, with_db_from: Path | None = None) -> Path:
    path = root / name
    path.mkdir(parents=True, exist_ok=True)
    if with_db_from is not None:
        shutil.copy(with_db_from / "data.duckdb", path / "data.duckdb")
    (path / "csframe.toml").write_text(text, encoding="utf-8")
    return path


_SUBS_SOURCE = '[sources.subscriptions]\ntable = "subscriptions"\n'
_DUCKDB = '[adapter]\nname = "duckdb"\ndatabase = "data.duckdb"\n'

RANGE = ("--start", "2024-01-01", "--end", "2024-04-01")


# == compute: numbers ========================================================================

def test_compute_hand_computed_numbers(tiny):
    """c2 ends exactly at 1 March: it is paying at the end of February and lost in March."""
    r = ok(cs("compute", "-m", "customers", "-m", "churned_customers", "-m", "churn_rate", "-m", "mrr",
              "-m", "churned_mrr", *RANGE, "--format", "json", project=tiny))
    v = by_key(json.loads(r.stdout), "metric", "period_start")
    assert v["customers", "2024-01-01"] == 3 and v["customers", "2024-02-01"] == 3 and v["customers", "2024-03-01"] == 2
    assert v["churned_customers", "2024-02-01"] == 0 and v["churned_customers", "2024-03-01"] == 1
    assert v["mrr", "2024-01-01"] == 180 and v["mrr", "2024-02-01"] == 180 and v["mrr", "2024-03-01"] == 130
    assert v["churned_mrr", "2024-03-01"] == 50
    assert v["churn_rate", "2024-03-01"] == pytest.approx(1 / 3)  # |L| / |S| = 1 / 3
    assert v["churn_rate", "2024-02-01"] == 0
    assert v["churn_rate", "2024-01-01"] is None  # nobody paying at 1 Jan: 0 / 0 is NULL


def test_compute_repeated_metric_and_variants(tiny):
    r = ok(cs("compute", "--metric", "churn_rate", "--metric", "churn_rate:net_loss",
              "--metric", "churn_rate:lost_over_active", *RANGE, "--format", "jsonl", project=tiny))
    rows = [json.loads(line) for line in r.stdout.splitlines()]
    assert {(x["metric"], x["variant"]) for x in rows} == {
        ("churn_rate", "lost_over_start"), ("churn_rate", "net_loss"), ("churn_rate", "lost_over_active")}
    assert len(rows) == 9
    v = by_key(rows, "variant", "period_start")
    # March: S = {c1, c2, c3}, E = {c1, c3}, L = {c2}, A = S
    assert v["net_loss", "2024-03-01"] == pytest.approx(1 / 3)
    assert v["lost_over_active", "2024-03-01"] == pytest.approx(1 / 3)


def test_compute_default_variant_follows_project_file(root, tiny):
    path = _toml_project(root, "variants", _DUCKDB + _SUBS_SOURCE + '[variants]\nchurn_rate = "net_loss"\n', tiny)
    r = ok(cs("compute", "-m", "churn_rate", *RANGE, "--format", "csv", project=path))
    assert {row[1] for row in parse_csv(r.stdout)[1:]} == {"net_loss"}


def test_compute_grain_week(tiny):
    """c3 starts at Monday 15 Jan 00:00: new in the week of the 15th, not paying at the end of the week before."""
    r = ok(cs("compute", "-m", "mrr", "--grain", "week", "--start", "2024-01-01", "--end", "2024-01-29",
              "--format", "csv", project=tiny))
    rows = parse_csv(r.stdout)
    assert [(x[2], x[3], x[-1]) for x in rows[1:]] == [
        ("2024-01-01", "2024-01-08", "150"), ("2024-01-08", "2024-01-15", "150"),
        ("2024-01-15", "2024-01-22", "180"), ("2024-01-22", "2024-01-29", "180")]


def test_compute_grain_quarter(tiny):
    r = ok(cs("compute", "-m", "churn_rate", "-m", "mrr", "--grain", "quarter", "--start", "2024-01-01",
              "--end", "2024-07-01", "--format", "json", project=tiny))
    v = {(x["metric"], x["period_start"], x["period_end"]): x["value"] for x in json.loads(r.stdout)}
    assert v["mrr", "2024-01-01", "2024-04-01"] == 130
    assert v["mrr", "2024-04-01", "2024-07-01"] == 130
    assert v["churn_rate", "2024-01-01", "2024-04-01"] is None
    assert v["churn_rate", "2024-04-01", "2024-07-01"] == 0


def test_compute_start_is_rounded_down_and_end_is_exclusive(tiny):
    r = ok(cs("compute", "-m", "mrr", "--start", "2024-02-15", "--end", "2024-04-01", "--format", "csv", project=tiny))
    assert [x[2] for x in parse_csv(r.stdout)[1:]] == ["2024-02-01", "2024-03-01"]


def test_compute_default_start_is_12_periods_before_end(tiny):
    r = ok(cs("compute", "-m", "mrr", "--end", "2024-04-01", "--format", "csv", project=tiny))
    starts = [x[2] for x in parse_csv(r.stdout)[1:]]
    assert starts[0] == "2023-04-01" and starts[-1] == "2024-03-01" and len(starts) == 12


def test_compute_by_segment(tiny):
    r = ok(cs("compute", "-m", "churn_rate", "-m", "customers", "--by", "segment", *RANGE, "--format", "csv", project=tiny))
    rows = parse_csv(r.stdout)
    assert rows[0] == ["metric", "variant", "period_start", "period_end", "segment", "value"]
    v = {(x[0], x[2], x[4]): x[5] for x in rows[1:]}
    assert {k[2] for k in v} == {"smb", "ent", ""}  # NULL is a group of its own, shown empty
    assert v["churn_rate", "2024-03-01", "ent"] == "1"
    assert v["churn_rate", "2024-03-01", "smb"] == "0"
    assert v["churn_rate", "2024-01-01", "smb"] == ""  # nobody at start: NULL
    assert v["customers", "2024-03-01", "ent"] == "0"  # an empty group counts 0
    assert v["customers", "2024-03-01", ""] == "1"


def test_compute_by_two_dimensions_keeps_their_order(demo):
    r = ok(cs("compute", "-m", "mrr", "--by", "region", "--by", "segment", "--start", "2024-01-01",
              "--end", "2024-02-01", "--format", "csv", project=demo))
    rows = parse_csv(r.stdout)
    assert rows[0] == ["metric", "variant", "period_start", "period_end", "region", "segment", "value"]
    assert len(rows) > 2


def test_compute_by_splits_sum_to_total(demo):
    args = ("-m", "mrr", "-m", "customers", "--start", "2024-06-01", "--end", "2024-09-01", "--format", "json")
    total = by_key(json.loads(ok(cs("compute", *args, project=demo)).stdout), "metric", "period_start")
    split = json.loads(ok(cs("compute", *args, "--by", "segment", project=demo)).stdout)
    sums: dict = {}
    for x in split:
        sums[x["metric"], x["period_start"]] = sums.get((x["metric"], x["period_start"]), 0) + (x["value"] or 0)
    assert sums.keys() == total.keys()
    for k, v in total.items():
        assert sums[k] == pytest.approx(v), k


# == compute: --all ==========================================================================

def test_compute_all_lists_unavailable_on_stderr(subs_only):
    r = ok(cs("compute", "--all", *RANGE, "--format", "jsonl", project=subs_only))
    rows = [json.loads(line) for line in r.stdout.splitlines()]  # stdout: only data
    metrics = {x["metric"] for x in rows}
    assert {"mrr", "churn_rate", "customers"} <= metrics
    assert not {"customer_acquisition_cost", "renewal_rate"} & metrics
    unavailable = [line for line in r.stderr.splitlines() if line.startswith("unavailable")]
    assert any("customer_acquisition_cost" in line and "costs" in line for line in unavailable), show(r)
    assert any("renewal_rate" in line and "renewals" in line for line in unavailable), show(r)


def test_compute_all_on_demo_covers_every_listed_available_metric(demo):
    r = ok(cs("compute", "--all", "--start", "2024-06-01", "--end", "2024-07-01", "--format", "csv", project=demo))
    rows = parse_csv(r.stdout)
    got = {x[0] for x in rows[1:]}
    listed = ok(cs("list", project=demo)).stdout.splitlines()[1:]
    # --all takes each metric's default variant (the row marked *) when it is available
    available = {line.split()[0] for line in listed if line.split()[3] == "*" and line.rstrip().endswith("yes")}
    assert available == got


def test_compute_all_by_leaves_out_unsplittable_metrics_with_a_warning(demo):
    r = ok(cs("compute", "--all", "--by", "segment", "--start", "2024-06-01", "--end", "2024-07-01",
              "--format", "csv", project=demo))
    got = {x[0] for x in parse_csv(r.stdout)[1:]}
    assert "customer_acquisition_cost" not in got and "mrr" in got
    assert re.search(r"warning: .*customer_acquisition_cost", r.stderr), show(r)


# == compute: formats and output =============================================================

def test_compute_csv_header_order_and_null_is_empty(tiny):
    r = ok(cs("compute", "-m", "churn_rate", "-m", "mrr", *RANGE, "--format", "csv", project=tiny))
    rows = parse_csv(r.stdout)
    assert rows[0] == ["metric", "variant", "period_start", "period_end", "value"]
    assert ["churn_rate", "lost_over_start", "2024-01-01", "2024-02-01", ""] in rows
    assert ["mrr", "default", "2024-03-01", "2024-04-01", "130"] in rows
    # nothing said but the progress of a run that took over 2 s (a loaded machine)
    assert all(line.startswith("csframe: ") for line in r.stderr.splitlines()), r.stderr


def test_compute_json_is_one_array_with_ordered_keys_and_null(tiny):
    r = ok(cs("compute", "-m", "churn_rate", *RANGE, "--by", "segment", "--format", "json", project=tiny))
    data = json.loads(r.stdout)
    assert isinstance(data, list) and data
    for x in data:
        assert list(x) == ["metric", "variant", "period_start", "period_end", "segment", "value"]
    jan = [x for x in data if x["period_start"] == "2024-01-01"]
    assert jan and all(x["value"] is None for x in jan)
    assert any(x["segment"] is None for x in data)


def test_compute_jsonl_is_one_object_per_line(tiny):
    r = ok(cs("compute", "-m", "churn_rate", "-m", "mrr", *RANGE, "--format", "jsonl", project=tiny))
    lines = r.stdout.splitlines()
    assert len(lines) == 6
    objs = [json.loads(line) for line in lines]
    assert all(list(o) == ["metric", "variant", "period_start", "period_end", "value"] for o in objs)
    assert objs[0] == {"metric": "churn_rate", "variant": "lost_over_start", "period_start": "2024-01-01",
                       "period_end": "2024-02-01", "value": None}


def test_compute_table_is_the_default(tiny):
    r = ok(cs("compute", "-m", "churn_rate", "-m", "mrr", *RANGE, project=tiny))
    lines = r.stdout.splitlines()
    assert lines[0].split() == ["metric", "variant", "period_start", "period_end", "value", "unit"]
    assert set(lines[1].replace(" ", "")) == {"-"}
    march = [line for line in lines if line.split()[:3] == ["churn_rate", "lost_over_start", "2024-03-01"]]
    assert march and march[0].split()[-3:] == ["33.33", "%", "share"]  # shares as percentages
    assert any(line.startswith("mrr") and line.split()[-2:] == ["130.00", "money"] for line in lines)


def test_compute_output_file_leaves_stdout_empty(tiny, tmp_path):
    out = tmp_path / "result.csv"
    r = ok(cs("compute", "-m", "mrr", *RANGE, "--format", "csv", "--output", out, project=tiny))
    assert r.stdout == ""
    rows = parse_csv(out.read_text(encoding="utf-8"))
    assert rows[0][0] == "metric" and len(rows) == 4
    assert not [p for p in tmp_path.iterdir() if p.name != "result.csv"]  # no temporary file left


def test_compute_output_dash_is_stdout(tiny):
    r = ok(cs("compute", "-m", "mrr", *RANGE, "--format", "json", "--output", "-", project=tiny))
    assert [x["value"] for x in json.loads(r.stdout)] == [180, 180, 130]


def test_compute_output_into_missing_directory_is_a_clear_error(tiny, tmp_path):
    r = cs("compute", "-m", "mrr", *RANGE, "--format", "csv", "--output", tmp_path / "no" / "such" / "x.csv", project=tiny)
    assert r.returncode != 0 and "Traceback" not in r.stderr
    assert "unexpected" not in r.stderr and "bug in csframe" not in r.stderr, show(r)
    assert "no/such" in r.stderr or "no" + os.sep + "such" in r.stderr, show(r)


def test_compute_unknown_format_is_usage(tiny):
    expect(cs("compute", "-m", "mrr", *RANGE, "--format", "xml", project=tiny), 2, "xml", "csv")


def test_compute_unknown_param_is_usage_and_stdout_empty(tiny):
    r = expect(cs("compute", "-m", "mrr", *RANGE, "--param", "no_such_parameter=1", "--format", "csv", project=tiny),
               2, "no_such_parameter")
    assert r.stdout == ""
    expect(cs("compute", "-m", "mrr", *RANGE, "--param", "novalue", project=tiny), 2, "name=value")


def test_compute_metric_and_all_together_is_usage(tiny):
    expect(cs("compute", project=tiny), 2, "--all")
    expect(cs("compute", "--all", "-m", "mrr", project=tiny), 2, "--all")


def test_compute_lenient_stdout_is_only_data(bad_on):
    """Warnings go to stderr; stdout parses as CSV with nothing else in it."""
    r = ok(cs("compute", "-m", "mrr", *RANGE, "--format", "csv", "--lenient", project=bad_on("negative_mrr")))
    rows = parse_csv(r.stdout)
    assert rows[0] == ["metric", "variant", "period_start", "period_end", "value"]
    assert all(len(x) == 5 and x[0] == "mrr" for x in rows[1:])
    assert "warning" in r.stderr and "warning" not in r.stdout


# == exit 1: data that breaks the contract ===================================================

@pytest.mark.parametrize("name", sorted(_BAD))
def test_bad_data_exits_1_naming_source_column_and_key(bad_on, name):
    r = expect(cs("compute", "-m", "mrr", *RANGE, "--format", "csv", project=bad_on(name)), 1, *_BAD[name][1])
    assert r.stdout == ""
    assert "--lenient" in r.stderr


@pytest.mark.parametrize("name", sorted(_BAD))
def test_lenient_leaves_out_bad_rows_and_says_how_many(bad_on, name):
    r = ok(cs("compute", "-m", "mrr", "-m", "customers", *RANGE, "--format", "json", "--lenient",
              project=bad_on(name)))
    n = _BAD[name][2]
    assert re.search(rf"left out {n} row", r.stderr), show(r)
    v = by_key(json.loads(r.stdout), "metric", "period_start")
    if name == "duplicate_key":  # both rows holding the duplicated key are left out: c2 is gone
        assert v["mrr", "2024-02-01"] == 130 and v["customers", "2024-02-01"] == 2
    else:  # the good rows compute exactly as without the bad one
        assert v["mrr", "2024-02-01"] == 180 and v["mrr", "2024-03-01"] == 130
        assert v["customers", "2024-03-01"] == 2


def test_a_zero_length_row_is_never_flagged(root, engine_project):  # noqa: F811
    # ended_at = started_at: "ignored everywhere, the data checks included", whatever its mrr
    path = engine_project(root / f"zero_length_{engine_project.engine}", {"subscriptions": _subscriptions(
        dict(subscription_id="s6", customer_id="c6", started_at=T(2024, 2, 1), ended_at=T(2024, 2, 1), mrr=-5.0),
        dict(subscription_id="s5", customer_id="c5", started_at=T(2024, 2, 1), ended_at=T(2024, 2, 1), mrr=None))})
    r = ok(cs("compute", "-m", "mrr", *RANGE, "--format", "json", project=path))
    assert "warning" not in r.stderr  # nothing left out (a slow run shows its progress there)
    assert by_key(json.loads(r.stdout), "metric", "period_start")["mrr", "2024-02-01"] == 180


def test_missing_column_exits_2_even_when_lenient(bad_on):
    # a project-file mistake (cli.md, data-contract.md), naming the key of csframe.toml
    path = bad_on("missing_column")
    r = expect(cs("compute", "-m", "mrr", *RANGE, project=path), 2, "sources.subscriptions.columns.mrr", "missing column")
    assert "customer_id" in r.stderr  # the columns it did find
    expect(cs("compute", "-m", "mrr", *RANGE, "--lenient", project=path), 2, "sources.subscriptions.columns.mrr",
           "missing column")


def test_missing_table_exits_2_naming_it(root, tiny):
    path = _toml_project(root, "no_table", _DUCKDB + '[sources.subscriptions]\ntable = "subs_typo"\n', tiny)
    expect(cs("compute", "-m", "mrr", *RANGE, project=path), 2, "sources.subscriptions.table", "subs_typo")


def test_bad_rows_of_other_sources(root, engine_project):  # noqa: F811
    path = engine_project(root / f"bad_other_{engine_project.engine}", {
        "subscriptions": _subscriptions(),
        "customers": _CUSTOMERS + [dict(customer_id="c1", created_at=T(2023, 12, 2), segment="ent")],
        "invoices": [dict(invoice_id="i1", customer_id="c1", paid_at=T(2024, 1, 5), amount=-3.0, kind="subscription")],
    })
    expect(cs("compute", "-m", "arpu:invoiced", *RANGE, project=path), 1, "invoices.amount", "negative", "i1")
    expect(cs("compute", "-m", "mrr", "--by", "segment", *RANGE, project=path), 1, "customers.customer_id", "duplicate", "c1")
    ok(cs("compute", "-m", "mrr", *RANGE, project=path))  # the run reads only the sources it needs


# == exit 2: usage and the project file ======================================================

def test_unknown_metric_did_you_mean(tiny):
    r = expect(cs("compute", "-m", "churn_rat", *RANGE, project=tiny), 2, "churn_rat", "Did you mean", "'churn_rate'")
    assert r.stdout == ""
    assert len(error_lines(r)) <= 2


def test_unknown_variant(tiny):
    expect(cs("compute", "-m", "churn_rate:nope", *RANGE, project=tiny), 2, "nope", "lost_over_start", "net_loss")


def test_bad_grain(tiny):
    expect(cs("compute", "-m", "mrr", "--grain", "fortnight", project=tiny), 2, "fortnight", "month")


@pytest.mark.parametrize("flag,value", [("--start", "2024-13-01"), ("--end", "yesterday")])
def test_bad_date(tiny, flag, value):
    expect(cs("compute", "-m", "mrr", flag, value, project=tiny), 2, flag, value, "YYYY-MM-DD")


def test_start_after_end(tiny):
    expect(cs("compute", "-m", "mrr", "--start", "2024-05-01", "--end", "2024-02-01", project=tiny), 2, "--start", "--end")


def test_by_on_a_metric_without_customers(demo):
    expect(cs("compute", "-m", "customer_acquisition_cost", "--by", "segment", "--start", "2024-01-01",
              "--end", "2024-02-01", project=demo), 2, "customer_acquisition_cost", "costs", "--by")


def test_by_unknown_dimension_names_it(tiny):
    r = expect(cs("compute", "-m", "mrr", "--by", "segmnt", *RANGE, project=tiny), 2,
               "--by segmnt: customers has no such column. Did you mean 'segment'?", "Its dimensions: segment.")
    assert r.stdout == "" and "Traceback" not in r.stderr, show(r)


def test_by_a_reading_of_other_metrics_says_which(demo):
    # health_band splits the health metrics only; for any other metric it is no customers column
    expect(cs("compute", "-m", "feature_adoption_rate", "--by", "health_band", *RANGE, project=demo), 2,
           "--by health_band: customers has no such column (--by health_band is a reading of "
           "customer_health_score:frequency_breadth_depth, health_band_customers:default only)")


@pytest.mark.parametrize("name", ["value", "period_end", "metric", "grp"])
def test_by_a_name_of_csframe_s_own_is_usage(root, name):
    path = make_project(root / f"by_{name}", {"subscriptions": _subscriptions(),
                                               "customers": [{**c, name: "x"} for c in _CUSTOMERS]})
    for extra in ((), ("--target", "t")):
        r = expect(cs("compute", "-m", "mrr", "--by", name, *RANGE, *extra, project=path), 2,
                   f"--by {name}: {name} is a name of csframe's own", f"--by customer_{name}")
        assert r.stdout == "" and "Traceback" not in r.stderr


def test_by_the_same_dimension_twice_is_usage(tiny):
    expect(cs("compute", "-m", "mrr", "--by", "segment", "--by", "segment", *RANGE, project=tiny), 2,
           "--by segment: named twice")


def test_by_a_key_column_is_usage(tiny):
    expect(cs("compute", "-m", "mrr", "--by", "customer_id", *RANGE, project=tiny), 2, "customer_id")


def test_metric_needing_an_unconfigured_source(subs_only):
    expect(cs("compute", "-m", "customer_acquisition_cost", *RANGE, project=subs_only), 2, "costs", "[sources.costs]")


def test_no_project_file(root):
    empty = root / "empty"
    empty.mkdir(exist_ok=True)
    expect(cs("compute", "-m", "mrr", cwd=empty), 2, "csframe.toml", "init")
    expect(cs("list", project=empty), 2, "csframe.toml", str(empty.name))


@pytest.mark.parametrize("name,text,fragments", [
    ("unknown_table_key", _DUCKDB + '[sources.subscriptions]\ntable = "subscriptions"\nbogus = 1\n',
     ["sources.subscriptions", "bogus"]),
    ("unknown_top_table", _DUCKDB + '[sourcez.subscriptions]\ntable = "subscriptions"\n',
     ["sourcez", "Did you mean", "sources"]),
    ("unknown_source", _DUCKDB + _SUBS_SOURCE + '[sources.subscription]\ntable = "x"\n',
     ["sources.subscription", "unknown source"]),
    ("toml_syntax", '[adapter\nname = "duckdb"\n', ["csframe.toml", "TOML", "line 1"]),
    ("unset_env_var", f'[adapter]\nname = "duckdb"\ndatabase = "${{{UNSET_VAR}}}"\n' + _SUBS_SOURCE,
     [UNSET_VAR, "adapter.database", "not set"]),
    ("table_and_sql", _DUCKDB + '[sources.subscriptions]\ntable = "s"\nsql = "select 1"\n', ["sources.subscriptions", "table", "sql"]),
])
def test_bad_project_file_is_usage(root, tiny, name, text, fragments):
    path = _toml_project(root, f"toml_{name}", text, tiny)
    r = expect(cs("compute", "-m", "mrr", *RANGE, project=path), 2, *fragments)
    assert r.stdout == "" and len(error_lines(r)) <= 3
    if name == "unknown_top_table":  # every command reads the project file the same way
        expect(cs("list", project=path), 2, *fragments)


def test_env_var_is_expanded_when_set(root, tiny):
    path = _toml_project(root, "env_set", f'[adapter]\nname = "duckdb"\ndatabase = "${{{UNSET_VAR}}}"\n' + _SUBS_SOURCE, tiny)
    r = ok(cs("compute", "-m", "mrr", *RANGE, "--format", "csv", project=path, env={UNSET_VAR: "data.duckdb"}))
    assert parse_csv(r.stdout)[-1][-1] == "130"


# == exit 3: the engine ======================================================================

def test_duckdb_database_that_does_not_exist(root):
    path = _toml_project(root, "no_db", '[adapter]\nname = "duckdb"\ndatabase = "does/not/exist.duckdb"\n' + _SUBS_SOURCE)
    r = expect(cs("compute", "-m", "mrr", *RANGE, project=path), 3, "exist.duckdb")
    assert r.stdout == ""
    expect(cs("check", project=path), 3, "exist.duckdb")
    assert not (path / "does").exists()  # nothing created on the way


def test_postgres_unreachable_never_shows_the_password(root):
    path = _toml_project(root, "pg", '[adapter]\nname = "postgres"\n'
                         'dsn = "postgresql://u:secretpw@127.0.0.1:1/x"\n' + _SUBS_SOURCE)
    r = expect(cs("compute", "-m", "mrr", *RANGE, "--retries", "1", project=path), 3, "postgres", "127.0.0.1")
    assert "secretpw" not in r.stderr + r.stdout, show(r)  # in the error and in the retry's line
    assert "retry 1/1" in r.stderr, show(r)
    d = cs("compute", "-m", "mrr", *RANGE, "--retries", "1", "--debug", project=path)
    assert d.returncode == 3 and "Traceback" in d.stderr, show(d)
    assert "secretpw" not in d.stderr + d.stdout, "the password leaked in --debug output" + show(d)


@pytest.mark.parametrize("dsn,reason", [
    ("{server} dbname=csframe_no_such_db", 'failed: FATAL: database "csframe_no_such_db" does not exist'),
    # libpq quotes the value it cannot read, here the password itself: blanked out
    ("{server} password=secretpw sslmode=secretpw", 'invalid sslmode value: "***"'),
    ("{server} password secretpw", "the dsn is not a PostgreSQL connection string"),
])
def test_postgres_connection_errors_say_why_and_never_show_the_password(root, pg_dsn, dsn, reason):
    from psycopg.conninfo import conninfo_to_dict

    server = conninfo_to_dict(pg_dsn)
    dsn = dsn.format(server=f"host={server['host']} port={server.get('port', 5432)} user={server.get('user', 'postgres')}")
    path = _toml_project(root, f"pg_{abs(hash(dsn))}", f'[adapter]\nname = "postgres"\ndsn = "{dsn}"\n' + _SUBS_SOURCE)
    r = expect(cs("compute", "-m", "mrr", *RANGE, "--retries", "0", project=path), 3,
               f"cannot connect to postgres at {server['host']}: ", reason)
    assert "secretpw" not in r.stderr + r.stdout, show(r)


# == tracebacks ==============================================================================

def test_no_traceback_on_errors_but_debug_shows_one(tiny, bad):
    cases = [
        (("compute", "-m", "churn_rat"), tiny, 2),
        (("compute", "-m", "mrr", *RANGE), bad("negative_mrr"), 1),
        (("explain", "nosuch"), tiny, 2),
        (("sql", "mrr", "--dialect", "oracle"), tiny, 2),
    ]
    for args, path, code in cases:
        r = expect(cs(*args, project=path), code)
        assert r.stderr.startswith("error:"), show(r)
    for args, path, code in cases[:2]:
        d = cs(*args, "--debug", project=path)
        assert d.returncode == code and "Traceback" in d.stderr, show(d)
    d = cs("compute", "-m", "churn_rat", project=tiny, env={"CSFRAME_DEBUG": "1"})
    assert d.returncode == 2 and "Traceback" in d.stderr, show(d)


# == list, explain, compare ==================================================================

def _registry(path: Path):
    from csframe.core.session import Session

    return Session.open(path).registry


def test_list_every_metric_and_variant(demo):
    r = ok(cs("list", project=demo))
    lines = r.stdout.splitlines()
    assert lines[0].split()[:3] == ["metric", "variant", "unit"] and "available" in lines[0]
    pairs = {tuple(line.split()[:2]) for line in lines[1:]}
    reg = _registry(demo)
    expected = {(m, v) for m in reg.metrics for v in reg.variant_names(m)}
    assert expected <= pairs
    mrr = [line for line in lines if line.split()[:2] == ["mrr", "default"]]
    assert mrr and mrr[0].rstrip().endswith("yes") and "*" in mrr[0].split()


def test_list_availability_says_what_is_missing(subs_only):
    lines = ok(cs("list", project=subs_only)).stdout.splitlines()
    row = {tuple(line.split()[:2]): line for line in lines[1:]}
    assert row["mrr", "default"].rstrip().endswith("yes")
    assert "no: needs costs" in row["customer_acquisition_cost", "default"]
    assert "no: needs invoices" in row["arpu", "invoiced"]
    assert "no: needs renewals" in row["renewal_rate", "default"]


def test_explain_metric(demo):
    r = ok(cs("explain", "ltv_to_cac", project=demo))
    out = r.stdout
    reg = _registry(demo)
    rv = reg.variants["ltv_to_cac", "default"]
    assert out.startswith("ltv_to_cac:default")
    assert f"formula: {rv.variant.formula}" in out
    assert "provenance:" in out and all(p in out for p in rv.variant.provenance)
    tree = out.split("depends on:", 1)[1].split("sources:", 1)[0]
    assert "customer_lifetime_value:" in tree and "customer_acquisition_cost:" in tree
    assert re.search(r"^\s+churn_rate:", tree, re.M)  # the tree goes deeper than one level
    assert "sources:" in out and "costs" in out
    sql = out.split("SQL (duckdb):", 1)[1]
    assert re.search(r"\bSELECT\b", sql, re.I) and re.search(r"\bFROM\b", sql, re.I)


def test_explain_variant_and_no_sql(demo):
    reg = _registry(demo)
    v = reg.variants["churn_rate", "net_loss"].variant
    out = ok(cs("explain", "churn_rate:net_loss", "--no-sql", project=demo)).stdout
    assert out.startswith("churn_rate:net_loss")
    assert v.formula in out and all(p in out for p in v.provenance)
    assert "other variants:" in out and "lost_over_start" in out
    assert "SQL (" not in out
    m = reg.metric("churn_rate")
    for note in (*m.notes, *m.rejected):  # the notes and rejected readings, if any
        assert note in out
    expect(cs("explain", "churn_rate:nope", project=demo), 2, "nope")


def test_explain_shows_the_rejected_readings_and_the_notes(demo):
    from csframe.definitions.satisfaction import NPS_REJECTED_READINGS

    out = ok(cs("explain", "nps", "--no-sql", project=demo)).stdout
    assert "rejected readings:\n" + "".join(f"  - {r}\n" for r in NPS_REJECTED_READINGS) in out
    out = ok(cs("explain", "mrr", "--no-sql", project=demo)).stdout
    assert 'rejected readings:\n  - mrr as "ARPU × active customers" (dock, guide13, podium)' in out
    # a note is no rejected reading; a cohort metric says its past values can change
    out = ok(cs("explain", "onboarding_completion_rate", "--no-sql", project=demo)).stdout
    assert "note: --by step reports the event names listed in onboarding_steps" in out
    assert "rejected readings" not in out
    out = ok(cs("explain", "time_to_value", "--no-sql", project=demo)).stdout
    assert "so a period's value can change as data arrives" in out


def test_explain_an_unavailable_metric(subs_only):
    r = ok(cs("explain", "ltv_to_cac", project=subs_only))
    assert "unavailable here: needs costs" in r.stdout


def test_compare_shows_every_variant(tiny, demo):
    reg = _registry(demo)
    variants = reg.variant_names("churn_rate")
    assert len(variants) >= 3
    r = ok(cs("compare", "churn_rate", *RANGE, project=tiny))
    lines = r.stdout.splitlines()
    assert lines[0].split() == ["period_start", "period_end", *variants]
    march = [line.split() for line in lines if line.startswith("2024-03-01")]
    assert march and march[0][2:] == ["33.33", "%"] * len(variants)  # shares as percentages, as compute shows them
    jan = [line.split() for line in lines if line.startswith("2024-01-01")][0]
    assert jan[2] == "—"  # NULL
    assert "why they differ:" in r.stdout
    for v in variants:
        assert reg.variants["churn_rate", v].variant.formula in r.stdout


def test_compare_on_demo_and_unknown(demo):
    r = ok(cs("compare", "churn_rate", "--start", "2024-01-01", "--end", "2024-07-01", project=demo))
    assert len([line for line in r.stdout.splitlines() if re.match(r"\d{4}-\d\d-01", line)]) == 6
    expect(cs("compare", "no_such_metric", project=demo), 2, "no_such_metric")


# == sql =====================================================================================

@pytest.mark.parametrize("dialect", ["duckdb", "postgres", "bigquery"])
def test_sql_parses_back_in_its_dialect(demo, dialect):
    import sqlglot

    r = ok(cs("sql", "mrr", "--dialect", dialect, project=demo))
    tree = sqlglot.parse_one(r.stdout, read=dialect)
    assert tree.find(sqlglot.exp.Select) is not None
    assert "subscriptions" in r.stdout


def test_sql_runs_and_gives_the_numbers_of_compute(demo):
    """The printed SQL, run by hand on the demo database, gives what compute gives."""
    import duckdb

    args = ("mrr", "--start", "2024-01-01", "--end", "2024-07-01")
    text = ok(cs("sql", *args, "--dialect", "duckdb", project=demo)).stdout
    computed = json.loads(ok(cs("compute", "-m", *args, "--format", "json", project=demo)).stdout)
    con = duckdb.connect(str(demo / "demo.duckdb"), read_only=True)
    try:
        cur = con.execute(text)
        cols = [d[0] for d in cur.description]
        rows = cur.fetchall()
    finally:
        con.close()
    assert cols[:4] == ["metric", "variant", "period_start", "period_end"] and cols[-1] == "value"
    assert [float(r[-1]) for r in rows] == pytest.approx([x["value"] for x in computed])
    assert len(rows) == 6


def test_sql_dialects_differ_and_default_is_the_project_engine(tiny):
    default = ok(cs("sql", "mrr", *RANGE, project=tiny)).stdout
    assert default == ok(cs("sql", "mrr", "--dialect", "duckdb", *RANGE, project=tiny)).stdout
    assert default != ok(cs("sql", "mrr", "--dialect", "bigquery", *RANGE, project=tiny)).stdout


def test_sql_unknown_dialect(demo):
    r = expect(cs("sql", "mrr", "--dialect", "oracle", project=demo), 2, "oracle", "duckdb", "postgres", "bigquery")
    assert r.stdout == ""


# == graph ===================================================================================

def test_graph_text(demo):
    out = ok(cs("graph", "ltv_to_cac", project=demo)).stdout
    assert out.startswith("ltv_to_cac:default")
    assert "customer_acquisition_cost:default" in out and "customer_lifetime_value:" in out
    assert "sources:" in out and "costs" in out
    whole = ok(cs("graph", project=demo)).stdout
    for m in ("mrr:default", "churn_rate:net_loss", "ltv_to_cac:default"):
        assert re.search(rf"^{re.escape(m)}\b", whole, re.M), m


def test_graph_dot(demo):
    out = ok(cs("graph", "ltv_to_cac", "--format", "dot", project=demo)).stdout.strip()
    assert out.startswith("digraph") and out.endswith("}") and out.count("{") == out.count("}")
    assert re.search(r'"ltv_to_cac[^"]*"\s*->\s*"customer_acquisition_cost[^"]*"', out), out
    assert re.search(r'"customer_acquisition_cost[^"]*"\s*->\s*"[^"]*cost', out), out
    for line in out.splitlines()[1:-1]:
        assert line.strip().endswith(";"), line
    expect(cs("graph", "ltv_to_cac", "--format", "png", project=demo), 2, "png")
    expect(cs("graph", "nosuch", project=demo), 2, "nosuch")


# == check ===================================================================================

def test_check_ok_on_demo(demo):
    r = ok(cs("check", project=demo))
    assert "data contract: ok" in r.stdout
    for src in ("subscriptions", "customers", "costs"):
        assert f"source {src}: ok" in r.stdout


def test_check_bad_data(bad_on):
    path = bad_on("negative_mrr")
    r = expect(cs("check", project=path), 1, "subscriptions.mrr", "negative", "s9")
    assert "source subscriptions: 1 problem" in r.stdout
    r = ok(cs("check", "--lenient", project=path))
    assert "warning" in r.stderr and "subscriptions.mrr" in r.stderr


def test_check_bad_project_file(root, tiny):
    path = _toml_project(root, "check_toml", _DUCKDB + '[sources.subscriptions]\ntable = "subscriptions"\nbogus = 1\n', tiny)
    expect(cs("check", project=path), 2, "bogus")


@pytest.mark.parametrize("text,fragments", [
    ('[parameters]\nwindow_dayz = 7\n', ["unknown parameter 'window_dayz'", "Did you mean", "window_days"]),
    ('[parameters]\nwindow_days = "a week"\n', ["parameter window_days", "activation_rate", "expected an integer"]),
    ('[parameters]\ncsat_scale = [5, 1]\n', ["parameter csat_scale (used by csat)", "low < high"]),
])
def test_check_and_compute_read_every_project_parameter(root, tiny, text, fragments):
    # a value no metric of the run reads is still checked: by `check`, and by any compute
    path = _toml_project(root, f"check_params_{abs(hash(text))}", _DUCKDB + _SUBS_SOURCE + text, tiny)
    r = expect(cs("check", project=path), 2, *fragments)
    assert "Traceback" not in r.stderr
    r = expect(cs("compute", "-m", "mrr", *RANGE, project=path), 2, *fragments)
    assert r.stdout == ""


def test_check_says_the_project_parameters_are_ok(root, tiny):
    path = _toml_project(root, "check_params_ok", _DUCKDB + _SUBS_SOURCE + '[parameters]\nwindow_days = 7\n', tiny)
    assert "parameters: 1 set in csframe.toml — ok" in ok(cs("check", project=path)).stdout


def test_check_missing_column(bad_on):
    r = expect(cs("check", project=bad_on("missing_column")), 2, "sources.subscriptions.columns.mrr", "missing column")
    assert "Binder Error" not in r.stderr


# == init ====================================================================================

def test_init_starter_file(tmp_path):
    target = tmp_path / "starter"
    r = ok(cs("init", target))
    toml = target / "csframe.toml"
    assert toml.is_file() and str(toml) in r.stdout
    text = toml.read_text(encoding="utf-8")
    assert "[adapter]" in text and "[sources.subscriptions]" in text
    ok(cs("list", project=target))  # the starter file is a valid project file
    expect(cs("init", target), 2, "exists", "--force")
    assert toml.read_text(encoding="utf-8") == text
    ok(cs("init", target, "--force"))


def _digest(db: Path) -> dict:
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    try:
        out = {}
        for (t,) in con.execute("SHOW TABLES").fetchall():
            out[t] = con.execute(f'SELECT count(*), bit_xor(hash(x)) FROM (SELECT x FROM "{t}" AS x)').fetchone()
        return out
    finally:
        con.close()


def test_init_demo_is_reproducible(demo, tmp_path):
    args = ("--demo", "--customers", "40", "--months", "8", "--end", "2025-01-01", "--seed", "7")
    ok(cs("init", tmp_path / "a", *args))
    ok(cs("init", tmp_path / "b", *args))
    a, b = _digest(tmp_path / "a" / "demo.duckdb"), _digest(tmp_path / "b" / "demo.duckdb")
    assert a == b
    assert {"customers", "subscriptions", "invoices", "costs", "events"} <= a.keys()
    assert a["customers"][0] == 40
    other = tmp_path / "c"
    ok(cs("init", other, *args[:-1], "8"))
    assert _digest(other / "demo.duckdb") != a  # another seed, other data
    expect(cs("init", tmp_path / "a", *args), 2, "exists", "--force")
    ok(cs("init", tmp_path / "a", *args, "--force"))
    assert _digest(tmp_path / "a" / "demo.duckdb") == a
    assert (demo / "demo.duckdb").is_file() and (demo / "csframe.toml").is_file()


# == plugins and help ========================================================================

def test_plugins(demo, root):
    r = ok(cs("plugins", project=demo))
    out = r.stdout
    assert re.search(r"^csframe\.definitions\.\S+\s+\(built-in\)", out, re.M)
    for adapter in ("duckdb", "postgres", "bigquery"):
        assert re.search(rf"adapters: .*\b{adapter}\b", out), adapter
    assert re.search(r"output formats: .*csv", out)
    assert re.search(r"metrics: .*\bmrr\b", out)
    empty = root / "plugins_no_project"
    empty.mkdir(exist_ok=True)
    assert "built-in" in ok(cs("plugins", cwd=empty)).stdout  # works without a project file


def test_help_of_every_command():
    top = ok(cs("--help"))
    for command in COMMANDS:
        assert re.search(rf"^\s+{command}\b", top.stdout, re.M), command
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda c: cs(c, "--help"), COMMANDS))
    for command, r in zip(COMMANDS, results):
        ok(r)
        assert r.stdout.startswith(f"Usage: csframe {command}"), show(r)
        assert "--project" in r.stdout and "--debug" in r.stdout
    assert ok(cs("--version")).stdout.startswith("csframe")
