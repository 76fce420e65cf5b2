"""The command line on the "Bad data" rules of data-contract.md that decide an exit code or a
line on stderr: a NULL in a NOT NULL column (exit 1, or --lenient's note), a source with no rows
(a warning on stderr, exit 0), and a configured table or column that does not exist (exit 2,
naming the csframe.toml key), for ``compute`` and ``check``. The engines' side of each rule is in
tests/engine/test_bad_data_rules.py.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.in_process import csframe
from tests.support.projects import make_project

CSFRAME = shutil.which("csframe") or str(Path(sys.executable).parent / "csframe")
T = dt.datetime
RANGE = ("--start", "2024-02-01", "--end", "2024-03-01")


def cs(*args: str, project: Path) -> subprocess.CompletedProcess:
    return csframe([CSFRAME, *map(str, args), "--project", str(project)], dict(os.environ), timeout=120)


def expect(r: subprocess.CompletedProcess, code: int, *in_stderr: str) -> subprocess.CompletedProcess:
    shown = f"\n$ {' '.join(r.args)}\nexit {r.returncode}\n--- stdout ---\n{r.stdout}\n--- stderr ---\n{r.stderr}"
    assert r.returncode == code, f"expected exit {code}" + shown
    for fragment in in_stderr:
        assert fragment in r.stderr, f"{fragment!r} not on stderr" + shown
    assert "Traceback" not in r.stderr, shown
    return r


def _value(r: subprocess.CompletedProcess, metric: str) -> float | None:
    (row,) = [x for x in json.loads(r.stdout) if x["metric"] == metric and x["period_start"] == "2024-02-01"]
    return row["value"]


SUBSCRIPTIONS = [  # c1 100 and c2 50 from 1 January; s3, of no customer, 30
    dict(subscription_id="s1", customer_id="c1", started_at=T(2024, 1, 1), ended_at=None, mrr=100.0),
    dict(subscription_id="s2", customer_id="c2", started_at=T(2024, 1, 1), ended_at=None, mrr=50.0),
    dict(subscription_id="s3", customer_id=None, started_at=T(2024, 1, 1), ended_at=None, mrr=30.0),
]
RENEWALS = [  # r1 renewed, r2 of unknown outcome
    dict(contract_id="r1", customer_id="c1", due_at=T(2024, 2, 10), value_up=100.0, renewed=True, renewed_value=100.0),
    dict(contract_id="r2", customer_id="c2", due_at=T(2024, 2, 20), value_up=100.0, renewed=None, renewed_value=0.0),
]
TICKET_COLUMNS = ("ticket_id", "customer_id", "created_at", "first_response_at", "resolved_at", "contacts", "reopened")


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("cli_bad_data")


@pytest.fixture(scope="module")
def nulls(root) -> Path:
    good = SUBSCRIPTIONS[:2]
    return make_project(root / "nulls", {"subscriptions": SUBSCRIPTIONS, "renewals": RENEWALS, "good_subs": good},
                        sources=["subscriptions", "renewals"])


def test_a_null_customer_or_boolean_exits_1_naming_source_column_count_and_sample(nulls):
    r = expect(cs("compute", "-m", "customers", "-m", "renewal_rate", *RANGE, "--format", "json", project=nulls), 1,
               "subscriptions.customer_id: customer_id is NULL; every row needs its customer "
               "(1 row; e.g. (s3, 2024-01-01 00:00:00))",
               "renewals.renewed: renewed is NULL; the contract requires true or false (1 row; e.g. r2)", "--lenient")
    assert r.stdout == ""
    expect(cs("check", project=nulls), 1, "subscriptions.customer_id: customer_id is NULL",
           "renewals.renewed: renewed is NULL")


def test_lenient_leaves_the_null_rows_out_and_says_how_many(nulls):
    r = expect(cs("compute", "-m", "customers", "-m", "renewal_rate", *RANGE, "--format", "json", "--lenient",
                  project=nulls), 0,
               "warning: left out 1 row(s) of subscriptions: customer_id is NULL; every row needs its customer",
               "warning: left out 1 row(s) of renewals: renewed is NULL; the contract requires true or false")
    assert _value(r, "customers") == 2  # c1 and c2 paying at 1 March (the NULL customer would make 3)
    assert _value(r, "renewal_rate") == 1  # r1 renewed, of 1 due (r2's NULL read as false would make 1/2)


@pytest.fixture(scope="module")
def empty(root) -> Path:
    return make_project(root / "empty", {"subscriptions": SUBSCRIPTIONS[:2], "tickets": (TICKET_COLUMNS, [])})


def test_a_source_with_no_rows_is_a_warning_on_stderr(empty):
    r = expect(cs("compute", "-m", "support_tickets", "-m", "mrr", *RANGE, "--format", "json", project=empty), 0)
    assert r.stderr.splitlines() == [
        "warning: tickets: has no rows (counts and sums over it are 0, means and ratios NULL)"]
    assert _value(r, "support_tickets") == 0 and _value(r, "mrr") == 150  # 100 + 50
    r = expect(cs("check", project=empty), 0, "warning: tickets: has no rows")
    assert "source tickets: ok (no rows)" in r.stdout and "source subscriptions: ok\n" in r.stdout


def _mapped(root: Path, name: str, mapping: str) -> Path:
    path = root / name
    path.mkdir(exist_ok=True)
    shutil.copy(root / "nulls" / "data.duckdb", path / "data.duckdb")
    (path / "csframe.toml").write_text('[adapter]\nname = "duckdb"\ndatabase = "data.duckdb"\n\n' + mapping,
                                       encoding="utf-8")
    return path


MAPPINGS = [
    ("no_table", '[sources.subscriptions]\ntable = "subs_typo"\n', "sources.subscriptions.table", "subs_typo"),
    ("no_sql_table", '[sources.subscriptions]\nsql = "SELECT * FROM subs_typo"\n', "sources.subscriptions.sql",
     "subs_typo"),
    ("no_mapped_column", '[sources.subscriptions]\ntable = "good_subs"\ncolumns = { mrr = "mrr_usd" }\n',
     "sources.subscriptions.columns.mrr", "missing column mrr_usd (mapped to mrr)"),
    ("no_column", '[sources.subscriptions]\nsql = "SELECT subscription_id, customer_id, started_at, ended_at '
                  'FROM good_subs"\n', "sources.subscriptions.columns.mrr", "missing column mrr in the subscriptions"),
]


@pytest.mark.parametrize("name,mapping,key,named", MAPPINGS, ids=[m[0] for m in MAPPINGS])
def test_a_table_or_column_that_does_not_exist_exits_2_naming_the_key(nulls, root, name, mapping, key, named):
    path = _mapped(root, name, mapping)
    for args in (("compute", "-m", "mrr", *RANGE), ("compute", "-m", "mrr", *RANGE, "--lenient"), ("check",)):
        r = expect(cs(*args, project=path), 2, f"\n  {key}: ", named)
        assert r.stdout == "" or args[0] == "check"


def test_check_exits_2_for_the_project_file_and_still_names_the_bad_rows(nulls, root):
    path = _mapped(root, "mixed", '[sources.subscriptions]\ntable = "subs_typo"\n\n'
                                  '[sources.renewals]\ntable = "renewals"\n')
    r = expect(cs("check", project=path), 2, "sources.subscriptions.table: ",
               "renewals.renewed: renewed is NULL; the contract requires true or false (1 row; e.g. r2)")
    assert "source subscriptions: 1 problem(s)" in r.stdout and "source renewals: 1 problem(s)" in r.stdout
