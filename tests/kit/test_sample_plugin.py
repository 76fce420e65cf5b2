"""The sample third-party plugin (``docs/examples/engaged-agents``) passes its own tests, run with
csframe's test kit as its author runs them (``pytest`` in the package, the kit loaded by its
``tests/conftest.py`` and csframe's pytest11 entry point), on DuckDB and this suite's PostgreSQL
server; and the tests docs/plugins.md section 3 shows are that package's code.

The package is installed as tests/plugins/test_plugins.py installs it: ``pip install --target``
into a directory of its own, put on the inner pytest's ``PYTHONPATH``, so its entry point is found
there and nowhere else (nothing is installed into this environment).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "docs" / "examples" / "engaged-agents"
DOC = ROOT / "docs" / "plugins.md"


def _pip(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pip", *args], capture_output=True, text=True, timeout=300)


def test_the_doc_shows_the_sample_plugins_tests():
    block = next(b for b in re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.S)
                 if "def test_engaged_agents(csframe_case)" in b)
    tests = (SAMPLE / "tests" / "test_engaged_agents.py").read_text(encoding="utf-8")
    assert block in tests, "docs/plugins.md section 3 shows tests that docs/examples/engaged-agents/tests lacks"
    assert 'pytest_plugins = ["csframe.testing"]' in (SAMPLE / "tests" / "conftest.py").read_text(encoding="utf-8")


def test_the_sample_plugin_passes_its_own_tests(tmp_path, pg_dsn):
    package = tmp_path / "engaged-agents"
    site = tmp_path / "site"
    shutil.copytree(SAMPLE, package, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    # --no-deps: its one dependency, csframe, is not on the package index; it is this environment's.
    # --no-build-isolation builds with this environment's setuptools (≥ 70.1; else pip's isolated build)
    done = _pip("install", "--no-deps", "--no-build-isolation", "-q", "--target", str(site), str(package))
    if done.returncode != 0:
        done = _pip("install", "--no-deps", "-q", "--target", str(site), str(package))
    assert done.returncode == 0, done.stdout + done.stderr
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("CSFRAME_TEST_", "PYTEST_")) and k not in ("CI", "CSFRAME_DEBUG")}
    env.update(PYTHONPATH=str(site), PYTHONDONTWRITEBYTECODE="1", CSFRAME_TEST_PG_DSN=pg_dsn)
    r = subprocess.run([sys.executable, "-m", "pytest", "-v", "-p", "no:cacheprovider"],
                       capture_output=True, text=True, cwd=package, env=env, timeout=300)
    out = r.stdout + r.stderr
    assert r.returncode == 0, out
    ran = sorted(re.findall(r"::(test_\w+\[\w+\]) PASSED", r.stdout))
    names = ["test_by_plan", "test_declared_worked_examples", "test_engaged_agents", "test_min_events",
             "test_only_meetings_inside_the_window_count"]
    assert ran == sorted(f"{n}[{e}]" for n in names for e in ("duckdb", "postgres")), out
    assert "10 passed" in r.stdout, out

