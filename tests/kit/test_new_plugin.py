"""``csframe new-plugin NAME``: the package it writes installs with pip and passes its own tests
(on DuckDB and on this suite's PostgreSQL server), and ``csframe check --examples`` run in it
finds the worked examples it declares. Then the usage errors.

The package is installed as its README tells a user, ``pip install -e 'DIR[test]'``, with pip's
defaults (build isolation: setuptools comes from the package index, here the machine's mirror;
dependencies resolved, the ``[test]`` extra included), into a throwaway virtual environment that
sees this one's packages, as a user's environment with csframe in it would: csframe is not on the
package index, so its dependency is met by the csframe installed here. Nothing is installed into
the running interpreter, so tests running beside this one never see the probe.
"""

from __future__ import annotations

import os
import shutil
import site
import subprocess
import sys
import tomllib
import venv
from pathlib import Path

import pytest

from tests.support.in_process import csframe

CSFRAME = shutil.which("csframe") or str(Path(sys.executable).parent / "csframe")
NAME = "kit_scaffold_probe"  # a name nothing else in the suite registers
DIST = "csframe-kit-scaffold-probe"


def cs(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    e = {k: v for k, v in os.environ.items() if k != "CSFRAME_DEBUG"}
    e.update(env or {})
    return csframe([CSFRAME, *map(str, args)], e, cwd=cwd, timeout=120)


def show(r: subprocess.CompletedProcess) -> str:
    return f"\n$ {' '.join(map(str, r.args))}\nexit {r.returncode}\n--- stdout ---\n{r.stdout}\n--- stderr ---\n{r.stderr}"


def pip(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pip", *args], capture_output=True, text=True, timeout=300)


def inner_env(where: Path) -> Path:
    """A virtual environment at ``where`` whose Python also sees this environment's packages
    (csframe, pytest, psycopg…); its python's path.

    Not ``venv --system-site-packages``: made from this environment's Python, that would see the
    base interpreter's site-packages, not this virtual environment's, where csframe is. A ``.pth``
    file adds this environment's site-packages as a site directory instead (after the inner one,
    so what pip installs in the inner environment comes first)."""
    venv.EnvBuilder(with_pip=False).create(where)
    python = where / "bin" / "python"
    inner_site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                capture_output=True, text=True, check=True).stdout.strip()
    outer = [p for p in site.getsitepackages() if Path(p).is_dir()]
    (Path(inner_site) / "zz_outer.pth").write_text(
        "import site; " + "; ".join(f"site.addsitedir({p!r})" for p in outer) + "\n", encoding="utf-8")
    return python


def inner_cs(python: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    """``csframe ARGS`` run by the inner environment's Python (its entry points are the inner ones)."""
    e = {k: v for k, v in os.environ.items() if k != "CSFRAME_DEBUG"}
    return subprocess.run([str(python), "-c", "from csframe.cli import main; main()", *map(str, args)],
                          capture_output=True, text=True, cwd=cwd, env=e, timeout=120)


def test_new_plugin_installs_and_passes_its_own_tests(tmp_path, pg_dsn):
    target = tmp_path / "pkg"
    r = cs("new-plugin", NAME, "--dir", target)
    assert r.returncode == 0, show(r)
    module = f"csframe_{NAME}"
    assert r.stdout.splitlines() == [
        f"wrote {target}", "  pyproject.toml", "  README.md", f"  {module}/__init__.py", "  tests/conftest.py",
        f"  tests/test_{NAME}.py", "next:", f"  pip install -e '{target}[test]'", f"  pytest {target / 'tests'}"]
    meta = tomllib.loads((target / "pyproject.toml").read_text(encoding="utf-8"))
    assert meta["project"]["name"] == DIST
    assert meta["project"]["entry-points"]["csframe"] == {NAME: module}
    source = (target / module / "__init__.py").read_text(encoding="utf-8")
    for part in ("Variant(", '"users"', '"share"', "Parameter(", "Example(", '("internal",)', "@hookimpl"):
        assert part in source
    assert "csframe_case(" in (target / "tests" / f"test_{NAME}.py").read_text(encoding="utf-8")
    assert "pip install -e '.[test]'" in (target / "README.md").read_text(encoding="utf-8")

    python = inner_env(tmp_path / "venv")
    # what the README and `next:` say, run by pip for the inner environment (pip --python: the
    # inner one has no pip of its own); every requirement is met, csframe's by this environment's
    done = pip("--python", str(python), "install", "-q", "-e", f"{target}[test]")
    assert done.returncode == 0, done.stdout + done.stderr
    env = {k: v for k, v in os.environ.items() if not k.startswith("CSFRAME_TEST_")}
    env["CSFRAME_TEST_PG_DSN"] = pg_dsn
    tests = subprocess.run([str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider", str(target / "tests")],
                           capture_output=True, text=True, cwd=target, env=env, timeout=300)
    assert tests.returncode == 0, show(tests)
    assert "12 passed" in tests.stdout, show(tests)  # six tests, on duckdb and postgres

    check = inner_cs(python, "check", "--examples", cwd=target)  # no csframe.toml there: DuckDB in memory
    assert check.returncode == 0, show(check)
    assert f"project: no csframe.toml in {target}" in check.stdout
    for line in (f"  ok    {NAME}:users — 30 users reached the threshold → 30",
                 f"  ok    {NAME}:share — 30 power users of 120 active users → 0.25",
                 f"  ok    {NAME}:share — nobody active → NULL"):
        assert line in check.stdout.splitlines(), show(check)

    again = inner_cs(python, "new-plugin", NAME, "--dir", tmp_path / "again", cwd=tmp_path)  # its names are taken
    assert again.returncode == 2, show(again)
    assert f"error: plugin name '{NAME}': metric '{NAME}' (plugin '{NAME}') is already registered" in again.stderr
    # and this environment never saw it
    assert cs("new-plugin", NAME, "--dir", tmp_path / "outer").returncode == 0


def test_default_directory_and_a_hyphenated_name(tmp_path):
    r = cs("new-plugin", "Seat-Usage", cwd=tmp_path)
    assert r.returncode == 0, show(r)
    target = tmp_path / "csframe-seat-usage"
    assert (target / "csframe_seat_usage" / "__init__.py").is_file()
    assert 'seat_usage = "csframe_seat_usage"' in (target / "pyproject.toml").read_text(encoding="utf-8")
    compile((target / "csframe_seat_usage" / "__init__.py").read_text(encoding="utf-8"), "m", "exec")
    compile((target / "tests" / "test_seat_usage.py").read_text(encoding="utf-8"), "t", "exec")


@pytest.mark.parametrize("args,message,hint", [
    (("new-plugin", "9lives"), "error: plugin name '9lives' is not a valid name",
     "Use lower-case letters, digits, '_' or '-', starting with a letter (at most 40)."),
    (("new-plugin", "churn_rate"),
     "error: plugin name 'churn_rate': metric 'churn_rate' (plugin 'csframe.definitions.revenue') is already registered",
     "Choose another NAME (it names the plugin and its first metric)."),
])
def test_usage_errors(tmp_path, args, message, hint):
    r = cs(*args, "--dir", tmp_path / "out")
    assert r.returncode == 2, show(r)
    assert r.stderr.splitlines() == [message, f"  {hint}"], show(r)
    assert not (tmp_path / "out").exists()


def test_refuses_a_directory_that_is_not_empty(tmp_path):
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "notes.txt").write_text("mine")
    r = cs("new-plugin", "seats", "--dir", tmp_path / "taken")
    assert r.returncode == 2, show(r)
    assert r.stderr.splitlines() == [f"error: {tmp_path / 'taken'} already exists and is not an empty directory",
                                     "  Choose another --dir, or remove it first."]
    assert [p.name for p in (tmp_path / "taken").iterdir()] == ["notes.txt"]
