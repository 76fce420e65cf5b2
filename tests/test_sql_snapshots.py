"""The generated SQL, pinned: `csframe sql METRIC:VARIANT --dialect D` for every metric and variant
in duckdb, postgres, bigquery and the SQL-only snowflake, trino and redshift, compared with tests/snapshots/<dialect>/<metric>__<variant>.sql.

A change to the SQL (a definition, the compiler, a dialect transform) fails here with a unified
diff; when the change is meant, regenerate the files and commit them with it:

    python -m tests.snapshots.update      # or: CSFRAME_UPDATE_SNAPSHOTS=1 pytest tests/test_sql_snapshots.py

Under CI=true both refuse (the run fails, no file is touched): CI checks the SQL against the files.
"""

from __future__ import annotations

import difflib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.snapshots import update as snap

MAX_DIFF_LINES = 60  # per file: enough to see what changed, short enough to read the report


@pytest.fixture(scope="module")
def rendered():
    if os.environ.get(snap.UPDATE_ENV) == "1":
        try:
            snap.refuse_in_ci()
        except snap.RefusedInCI as e:
            pytest.fail(f"{snap.UPDATE_ENV}=1: {e}", pytrace=False)
    out = snap.render_all()
    if os.environ.get(snap.UPDATE_ENV) == "1":
        for line in snap.write(out):
            print(line)
    return out


def _diff(dialect: str, name: str, old: str, new: str) -> str:
    lines = list(difflib.unified_diff(old.splitlines(keepends=True), new.splitlines(keepends=True),
                                      fromfile=f"tests/snapshots/{dialect}/{name} (stored)",
                                      tofile=f"{dialect}/{name} (generated now)"))
    if len(lines) > MAX_DIFF_LINES:
        lines = lines[:MAX_DIFF_LINES] + [f"... {len(lines) - MAX_DIFF_LINES} more diff lines\n"]
    return "".join(lines)


@pytest.mark.parametrize("dialect", snap.DIALECTS)
def test_sql_matches_the_snapshots(rendered, dialect):
    new, old = rendered[dialect], snap.stored(dialect)
    problems = []
    for name in sorted(set(new) - set(old)):
        problems.append(f"missing snapshot: tests/snapshots/{dialect}/{name}")
    for name in sorted(set(old) - set(new)):
        problems.append(f"stale snapshot (no such metric/variant any more): tests/snapshots/{dialect}/{name}")
    changed = sorted(n for n in set(new) & set(old) if new[n] != old[n])
    diffs = [_diff(dialect, n, old[n], new[n]) for n in changed]
    if problems or diffs:
        summary = (f"the generated {dialect} SQL differs from the snapshots "
                   f"({len(changed)} changed, {len(problems)} missing/stale).\n"
                   f"If the change is meant, regenerate with `{snap.UPDATE_COMMAND}` "
                   f"(or `{snap.UPDATE_ENV}=1 pytest tests/test_sql_snapshots.py`) and commit the files.\n")
        pytest.fail(summary + "\n".join(problems + diffs), pytrace=False)


def test_snapshots_cover_every_variant_and_the_defaults(rendered):
    with snap._session() as s:
        expected = {snap.file_name(rv.metric, rv.variant.name) for rv in s.registry.all_variants()}
        defaults = {snap.file_name(m, s.graph.default_variant(m)) for m in s.registry.metrics}
    assert defaults <= expected and len(expected) > len(defaults)  # defaults and the other variants
    for dialect in snap.DIALECTS:
        assert set(rendered[dialect]) == expected


def test_a_snapshot_is_what_the_command_prints(tmp_path):
    """The snapshots are `csframe sql` output, byte for byte (the real command on a project file)."""
    from csframe.core.contract import SOURCES

    lines = ["[adapter]", 'name = "duckdb"', 'database = ":memory:"', ""]
    for s in SOURCES:
        lines += [f"[sources.{s.name}]", f'table = "{s.name}"', ""]
    (tmp_path / "csframe.toml").write_text("\n".join(lines), encoding="utf-8")
    dialect, metric, snapshot = "bigquery", "churn_rate", "churn_rate__lost_over_start.sql"  # the default variant
    exe = shutil.which("csframe") or str(Path(sys.executable).parent / "csframe")
    r = subprocess.run([exe, "sql", metric, "--dialect", dialect, "--grain", snap.GRAIN, "--start", snap.START,
                        "--end", snap.END, "--project", str(tmp_path)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout == (snap.SNAPSHOTS / dialect / snapshot).read_text(encoding="utf-8"), (
        f"`csframe sql {metric} --dialect {dialect}` differs from tests/snapshots/{dialect}/{snapshot}: "
        f"regenerate with `{snap.UPDATE_COMMAND}`")


def _snapshot_files() -> dict[str, bytes]:
    return {str(p.relative_to(snap.SNAPSHOTS)): p.read_bytes() for p in sorted(snap.SNAPSHOTS.glob("*/*.sql"))}


def test_the_snapshots_refuse_to_rewrite_themselves_under_ci(tmp_path, monkeypatch):
    """`python -m tests.snapshots.update` and CSFRAME_UPDATE_SNAPSHOTS=1 fail under CI=true and touch no file;
    a test that calls write() directly is refused too (pointed at a scratch folder, in case it were not)."""
    before = _snapshot_files()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTEST_ADDOPTS",)}
    root = snap.SNAPSHOTS.parents[1]
    r = subprocess.run([sys.executable, "-m", "tests.snapshots.update"], cwd=root, capture_output=True, text=True,
                       timeout=120, env={**env, "CI": "true"})
    assert r.returncode == 2 and r.stdout == "", r.stdout + r.stderr
    assert r.stderr.startswith("error: CI=true: the SQL snapshots are not rewritten in CI") and \
        snap.UPDATE_COMMAND in r.stderr, r.stderr

    scratch = tmp_path / "snapshots"  # where the second test would write, were it not refused
    (tmp_path / "test_rewrites.py").write_text(
        "from pathlib import Path\n\nfrom tests.snapshots import update as snap\n\n"
        "def test_rewrite():\n"
        f"    snap.SNAPSHOTS = Path({str(scratch)!r})\n"
        "    snap.write({'duckdb': {'mrr__default.sql': 'SELECT 1\\n'}})\n")
    r = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:xdist", "-q",
                        f"{root}/tests/test_sql_snapshots.py::test_snapshots_cover_every_variant_and_the_defaults",
                        str(tmp_path / "test_rewrites.py"), "--rootdir", str(root)],
                       cwd=root, capture_output=True, text=True, timeout=600,
                       env={**env, "CI": "true", snap.UPDATE_ENV: "1", "PYTHONPATH": str(root)})
    assert r.returncode == 1, r.stdout + r.stderr
    assert f"{snap.UPDATE_ENV}=1: CI=true: the SQL snapshots are not rewritten in CI" in r.stdout, r.stdout
    assert "RefusedInCI: CI=true: the SQL snapshots are not rewritten in CI" in r.stdout, r.stdout
    assert "1 failed, 1 error" in r.stdout, r.stdout  # test_rewrite fails; the fixture of the other errs
    assert _snapshot_files() == before and not scratch.exists()

    monkeypatch.delenv("CI", raising=False)  # outside CI the same call writes
    monkeypatch.setattr(snap, "SNAPSHOTS", scratch)
    scratch.mkdir()
    assert snap.write({"duckdb": {"mrr__default.sql": "SELECT 1\n"}}) == ["added duckdb/mrr__default.sql"]
