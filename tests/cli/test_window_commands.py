"""``--window`` on ``csframe sql`` and ``compare`` as on compute: the same parsing and the same
usage errors (exit 2), over the hand-worked window fixture of tests/engine/test_windows.py (on
DuckDB: the commands, not the engines, are under test here)."""

from __future__ import annotations

import csv
import io

import pytest
from click.testing import CliRunner

from csframe.cli.app import _load_commands, cli
from tests.engine.test_revenue_fixtures import open_session
from tests.engine.test_windows import INVOICES, SUBSCRIPTIONS


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    s = open_session(tmp_path_factory.mktemp("window_cli") / "p", {"subscriptions": SUBSCRIPTIONS, "invoices": INVOICES})
    s.close()
    _load_commands()
    return str(s.project.dir)


def run(*args: str):
    return CliRunner().invoke(cli, list(args))


DAY_30 = ("--grain", "day", "--start", "2024-02-14", "--end", "2024-02-15", "--window", "30d")


def test_compute_on_a_three_month_window(project):
    # (moved from tests/engine/test_windows.py, whose fixtures run on the three engines: the CLI once is enough)
    # February 2024's 3m window [2023-12-01, 2024-03-01): mrr at its end r 70 + x 150 + y 240 + z 80 + w 50 = 590
    r = run("compute", "--project", project, "-m", "mrr", "--grain", "month", "--start", "2024-02-01", "--end",
            "2024-03-01", "--window", "3m", "--format", "csv", "-q")
    assert r.exit_code == 0, r.output
    assert "mrr,default,2023-12-01,2024-03-01,590" in r.output.replace(".0\n", "\n")


def test_compare_on_a_30_day_window(project):
    r = run("compare", "churn_rate", "--project", project, *DAY_30, "--format", "csv")
    assert r.exit_code == 0, r.output
    rows = list(csv.DictReader(io.StringIO(r.stdout)))
    # the window [2024-01-16, 2024-02-15) of tests/engine/test_windows.py: |L| = 1 (s), |S| = 5, |A| = 7
    assert [(row["period_start"], row["period_end"]) for row in rows] == [("2024-01-16", "2024-02-15")]
    assert float(rows[0]["lost_over_start"]) == pytest.approx(1 / 5)
    assert float(rows[0]["lost_over_active"]) == pytest.approx(1 / 7)


def test_sql_on_a_window_is_the_windowed_query(project):
    plain = run("sql", "churn_rate", "--project", project, "--grain", "day", "--start", "2024-02-14", "--end",
                "2024-02-15")
    windowed = run("sql", "churn_rate", "--project", project, *DAY_30)
    assert plain.exit_code == 0 and windowed.exit_code == 0, windowed.output
    # each window starts 29 days before the day it ends with (30 days in all); its movements are summed
    # from each change's entering and leaving events (definitions/subscription_windows.py)
    assert "enters" in windowed.stdout and "enters" not in plain.stdout
    assert "INTERVAL '29' DAY" in windowed.stdout


@pytest.mark.parametrize("command", ["compute", "sql", "compare"])
def test_the_same_window_errors_on_every_command(project, command):
    metric = ("-m", "mrr") if command == "compute" else ("mrr",)
    for window, said in (("30d", "whole number of weeks"), ("thirty", "not a window length"), ("0d", "not a window length")):
        r = run(command, *metric, "--project", project, "--grain", "week", "--start", "2024-01-01", "--end",
                "2024-02-01", "--window", window)
        assert r.exit_code == 2, (command, window, r.output)
        assert f"--window {window}" in r.output.replace("'", "") and said in r.output and "Traceback" not in r.output
