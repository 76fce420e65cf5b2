"""Under CI=true nothing in the suite may skip (tests/conftest.py): a skip of a test, of a fixture
or of a whole module, a skipif and an xfail are failures there, each saying why it would have
skipped; and the kit's engines cannot be narrowed. Run on a small suite of its own that loads
tests/conftest.py's hooks, with and without CI=true."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

SKIPPING = '''
import pytest

@pytest.fixture
def server():
    pytest.skip("no server at 127.0.0.1:1")

def test_runs():
    assert True

def test_skips():
    pytest.skip("no engine here")

@pytest.mark.skipif(True, reason="not on this machine")
def test_skipif():
    assert True

@pytest.mark.xfail(reason="a known bug")
def test_xfail():
    assert False

def test_fixture_skips(server):
    assert True
'''
MODULE_SKIP = '''
import pytest

pytest.importorskip("csframe_no_such_module")

def test_never_collected():
    assert True
'''


def _run(tmp_path: Path, module: str = SKIPPING, **env: str) -> subprocess.CompletedProcess:
    (tmp_path / "conftest.py").write_text(
        "from tests.conftest import pytest_configure, pytest_make_collect_report, pytest_runtest_makereport  # noqa\n")
    (tmp_path / "test_it.py").write_text(module)
    base = {k: v for k, v in os.environ.items()
            if k not in ("CI", "CSFRAME_TEST_ENGINES", "PYTEST_ADDOPTS") and not k.startswith("PYTEST_XDIST")}
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:xdist", "-q", "-rfEsx",
                           str(tmp_path)], cwd=tmp_path, capture_output=True, text=True, timeout=120,
                          env={**base, "PYTHONPATH": str(ROOT), **env})


def _counts(stdout: str) -> dict[str, int]:
    last = stdout.strip().splitlines()[-1]
    return {word: int(n) for n, word in re.findall(r"(\d+) (\w+)", last)}


def test_outside_ci_a_skip_is_a_skip(tmp_path):
    r = _run(tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    assert _counts(r.stdout) == {"passed": 1, "skipped": 3, "xfailed": 1}, r.stdout
    r = _run(tmp_path, MODULE_SKIP)
    assert r.returncode == 5 and _counts(r.stdout) == {"skipped": 1}, r.stdout + r.stderr  # 5: no test ran


def test_under_ci_every_skip_and_xfail_fails_and_says_why(tmp_path):
    r = _run(tmp_path, CI="true")
    assert r.returncode == 1, r.stdout + r.stderr
    # the skip in the test and the xfail fail; the skipif and the fixture's skip are errors of the setup
    assert _counts(r.stdout) == {"failed": 2, "passed": 1, "errors": 2}, r.stdout
    for why in ("no engine here", "not on this machine", "xfail: a known bug", "no server at 127.0.0.1:1"):
        assert why in r.stdout, (why, r.stdout)
    assert r.stdout.count("skipped under CI=true, where every test must run") == 2 * 4, r.stdout  # report + summary


def test_under_ci_a_module_that_skips_is_a_collection_error(tmp_path):
    r = _run(tmp_path, MODULE_SKIP, CI="true")
    assert r.returncode == 2, r.stdout + r.stderr  # pytest stops at a collection error
    assert "ERROR test_it.py - skipped under CI=true, where every test must run: Skipped: could not " \
           "import 'csframe_no_such_module'" in r.stdout, r.stdout


def test_under_ci_the_kits_engines_cannot_be_narrowed(tmp_path):
    r = _run(tmp_path, CI="true", CSFRAME_TEST_ENGINES="duckdb,postgres")
    assert r.returncode == 4, r.stdout + r.stderr  # pytest's usage error, before any test runs
    assert "CI=true runs the tests on every engine (duckdb, postgres, bigquery)" in r.stderr, r.stderr
    assert _run(tmp_path, CI="true", CSFRAME_TEST_ENGINES="bigquery,postgres,duckdb").returncode == 1  # all named: runs


def test_ci_run_sets_ci_and_never_narrows_the_engines(tmp_path):
    """.ci/run exports CI=true and unsets CSFRAME_TEST_ENGINES before it runs pytest: its lines up to the
    test command, run in a shell that had CSFRAME_TEST_ENGINES=duckdb and no CI, leave CI=true and no engines."""
    lines = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    setup = [line for line in lines[:next(i for i, line in enumerate(lines) if "python -m pytest" in line)]
             if line.startswith(("export ", "unset "))]
    script = "\n".join([*setup, 'echo "CI=${CI:-} ENGINES=${CSFRAME_TEST_ENGINES-unset}"'])
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    r = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=30,
                       env={**env, "CSFRAME_TEST_ENGINES": "duckdb"})
    assert r.stdout.strip() == "CI=true ENGINES=unset", (setup, r.stdout, r.stderr)


KIT_CASE = '''
def test_a_case(csframe_case):
    pass
'''


def test_under_ci_a_kit_case_anywhere_in_the_suite_runs_on_the_three_engines(tmp_path):
    """tests/conftest.py gives every csframe_case test bigquery too under CI=true (not only tests/kit's), even
    with no emulator installed: its fixture then fails, it is never left out of the collection."""
    (tmp_path / "conftest.py").write_text(
        "from tests.conftest import bq_emulator, pg_dsn, pytest_csframe_test_server, "
        "pytest_csframe_default_engines  # noqa\n")
    (tmp_path / "test_it.py").write_text(KIT_CASE)
    base = {k: v for k, v in os.environ.items() if k not in ("CI", "PYTEST_ADDOPTS") and not k.startswith("CSFRAME_")}
    r = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:xdist", "-q",
                        "--collect-only", str(tmp_path)], cwd=tmp_path, capture_output=True, text=True, timeout=120,
                       env={**base, "PYTHONPATH": str(ROOT), "CI": "true",
                            "CSFRAME_BQ_EMULATOR_DIR": str(tmp_path / "no-emulator")})
    assert r.returncode == 0, r.stdout + r.stderr
    assert [line.rsplit("::", 1)[1] for line in r.stdout.splitlines() if "::" in line] == [
        "test_a_case[duckdb]", "test_a_case[postgres]", "test_a_case[bigquery]"], r.stdout
