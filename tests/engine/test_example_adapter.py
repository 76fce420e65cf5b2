"""The example third-party adapter, docs/examples/csframe-datafusion (DataFusion over Parquet files,
written only against the public hooks), passes the adapter conformance suite: its own one-line test
file runs in a pytest of its own, as its authors would run it. Nothing is installed: the package is
put on the child's sys.path, and its ``csframe`` entry point declared by a ``.dist-info`` made in a
temporary directory from the example's pyproject.toml (importlib.metadata finds it there)."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "csframe-datafusion"


def _declare(example: Path, where: Path) -> None:
    """A minimal .dist-info for ``example``'s distribution in ``where``: its name, version and entry points."""
    project = tomllib.loads((example / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    info = where / f"{project['name'].replace('-', '_')}-{project['version']}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {project['name']}\nVersion: {project['version']}\n")
    groups = project["entry-points"]
    (info / "entry_points.txt").write_text("".join(
        f"[{group}]\n" + "".join(f"{name} = {value}\n" for name, value in eps.items()) for group, eps in groups.items()))


def test_the_example_datafusion_adapter_passes_the_conformance_suite(tmp_path):
    import datafusion  # noqa: F401 - csframe[test] installs it; a missing one fails here, never skips

    _declare(EXAMPLE, tmp_path / "site")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path / "site"), str(EXAMPLE)])}
    env.pop("CSFRAME_TEST_ENGINES", None)
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "csframe.testing",
                          "--csframe-engines=duckdb,datafusion", "tests/test_conformance.py"],
                         cwd=EXAMPLE, env=env, capture_output=True, text=True, timeout=1200)
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
    summary = run.stdout.strip().splitlines()[-1]
    assert " passed" in summary and "skipped" not in summary and "failed" not in summary, summary
