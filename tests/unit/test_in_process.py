"""The suite's in-process ``csframe`` (tests/support/in_process.py) answers what the console script
answers as a process of its own: the same exit code, stdout and stderr, command by command; and it
leaves the test process as it found it."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.in_process import csframe, needs_a_process, run
from tests.support.projects import make_project

CSFRAME = shutil.which("csframe") or str(Path(sys.executable).parent / "csframe")
PG_DSN = "CSFRAME_PG_DSN"


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("in_process")
    r = subprocess.run([CSFRAME, "init", "demo", "--demo", "--customers", "40"], cwd=root, capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    make_project(root / "bad", {"subscriptions": [  # a subscription of no customer: exit 1
        {"subscription_id": "s1", "customer_id": "c1", "started_at": dt.datetime(2024, 1, 1), "ended_at": None,
         "mrr": 100.0},
        {"subscription_id": "s2", "customer_id": None, "started_at": dt.datetime(2024, 1, 1), "ended_at": None,
         "mrr": 30.0}]})
    (root / "unreachable").mkdir()
    (root / "unreachable" / "csframe.toml").write_text(
        f'[adapter]\nname = "postgres"\ndsn = "${{{PG_DSN}}}"\n\n[sources.subscriptions]\ntable = "subscriptions"\n')
    return root


COMMANDS = {  # name: (arguments, working directory under the demo root, extra environment)
    "help": (["--help"], ".", {}),
    "version": (["--version"], ".", {}),
    "list": (["list"], "demo", {}),
    "compute csv": (["compute", "--metric", "mrr", "--metric", "churn_rate", "--start", "2025-01-01",
                     "--format", "csv"], "demo", {}),
    "explain": (["explain", "nrr"], "demo", {}),
    "warnings on stderr": (["compute", "--metric", "time_to_value:median", "--format", "json"], "demo", {}),
    "usage error (2)": (["compute", "--metric", "mrr", "--by", "segmnt"], "demo", {}),
    "click's usage error (2)": (["compute", "--no-such-option"], "demo", {}),
    "no project (2)": (["list"], "..", {}),
    "bad data (1)": (["compute", "--metric", "mrr", "--start", "2024-01-01", "--end", "2024-03-01"], "bad", {}),
    "unreachable engine (3)": (["compute", "--metric", "mrr", "--retries", "0"], "unreachable",
                               {PG_DSN: "host=127.0.0.1 port=1 dbname=x connect_timeout=2"}),
    "--debug traceback": (["compute", "--metric", "mrr", "--by", "segmnt", "--debug"], "demo", {}),
    "CSFRAME_DEBUG": (["compute", "--metric", "nosuchmetric"], "demo", {"CSFRAME_DEBUG": "1"}),
}


def _traceback_head(text: str) -> str:
    """A traceback's frames differ (the test's own frames are above main in-process): compare
    its first line and the error it ends with."""
    lines = text.splitlines()
    if "Traceback (most recent call last):" not in lines:
        return text
    start = lines.index("Traceback (most recent call last):")
    return "\n".join(lines[:start + 1] + [line for line in lines[start + 1:] if not line.startswith(" ")])


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_in_process_answers_as_the_console_script(demo: Path, name: str) -> None:
    args, where, extra = COMMANDS[name]
    cwd = (demo / where).resolve()
    env = {**{k: v for k, v in os.environ.items() if k != "CSFRAME_DEBUG"}, **extra}
    proc = subprocess.run([CSFRAME, *args], capture_output=True, text=True, env=env, cwd=cwd, timeout=120)
    here = run([CSFRAME, *args], env, cwd)
    assert here.returncode == proc.returncode, (here, proc)
    assert here.stdout == proc.stdout
    assert _traceback_head(here.stderr) == _traceback_head(proc.stderr)


def test_the_cases_cover_each_exit_code_and_a_traceback(demo: Path) -> None:
    codes = set()
    for args, where, extra in COMMANDS.values():
        r = run([CSFRAME, *args], {**os.environ, **extra}, (demo / where).resolve())
        codes.add(r.returncode)
    assert {0, 1, 2, 3} <= codes
    r = run([CSFRAME, *COMMANDS["--debug traceback"][0]], dict(os.environ), demo / "demo")
    assert "Traceback (most recent call last):" in r.stderr


def test_an_exception_that_escapes_main_is_a_traceback_and_exit_1(monkeypatch, demo: Path) -> None:
    import csframe.cli as cli

    def broken(argv):  # what the interpreter does with an exception main lets through
        raise RuntimeError("escaped")

    monkeypatch.setattr(cli, "main", broken)
    r = run([CSFRAME, "list"], dict(os.environ), demo / "demo")
    assert r.returncode == 1
    assert r.stderr.startswith("Traceback (most recent call last):") and r.stderr.endswith("RuntimeError: escaped\n")


def test_the_test_process_is_left_as_it_was(demo: Path) -> None:
    from csframe.cli.app import cli

    before = (dict(os.environ), os.getcwd(), sys.stdout, sys.stderr, sys.stdin, dict(cli.commands))
    r = run([CSFRAME, "compute", "--metric", "mrr", "--format", "csv"], {**os.environ, "CSFRAME_X": "1"},
            demo / "demo")
    assert r.returncode == 0 and r.stdout.startswith("metric,")
    assert (dict(os.environ), os.getcwd(), sys.stdout, sys.stderr, sys.stdin, dict(cli.commands)) == before


def test_what_only_a_new_process_reads_gets_one(demo: Path) -> None:
    assert not needs_a_process(dict(os.environ))
    assert not needs_a_process({**os.environ, "CSFRAME_PG_DSN": "x"})
    assert needs_a_process({**os.environ, "PYTHONPATH": "/nowhere"})
    assert needs_a_process({**os.environ, "TMPDIR": "/nowhere"})
    assert needs_a_process({k: v for k, v in os.environ.items() if k != "HOME"})
    # a sitecustomize on PYTHONPATH runs only in a new interpreter: the command got one
    site = demo / "site"
    site.mkdir(exist_ok=True)
    (site / "sitecustomize.py").write_text("import sys\nsys.stderr.write('a new interpreter\\n')\n")
    r = csframe([CSFRAME, "--version"], {**os.environ, "PYTHONPATH": str(site)}, demo)
    assert r.returncode == 0 and r.stderr == "a new interpreter\n"
    r = csframe([CSFRAME, "--version"], dict(os.environ), demo)
    assert r.returncode == 0 and r.stderr == ""


def test_a_command_from_another_thread_gets_a_process(monkeypatch, demo: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    import tests.support.in_process as in_process

    def not_here(*args, **kwargs):
        raise AssertionError("run in this process from a thread other than the main one")

    monkeypatch.setattr(in_process, "run", not_here)
    with ThreadPoolExecutor(1) as pool:
        r = pool.submit(csframe, [CSFRAME, "--version"], dict(os.environ), demo).result()
    assert r.returncode == 0 and r.stdout.startswith("csframe")
    with pytest.raises(AssertionError, match="main one"):
        csframe([CSFRAME, "--version"], dict(os.environ), demo)  # the main thread: in this process
