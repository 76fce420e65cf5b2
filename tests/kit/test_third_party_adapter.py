"""A third-party adapter, installed as a plugin package (an entry point of group ``csframe``),
gets ``csframe init --demo --adapter NAME`` and a ``csframe_case`` engine from its class alone:
csframe names no engine for it. The fake wraps DuckDB under the name ``fake``, with its own
``[adapter]`` table, demo file name and test namespace, so that each of them is seen used."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

CSFRAME = str(Path(sys.executable).with_name("csframe"))

FAKE = '''
import os
from pathlib import Path

from csframe.adapters.duckdb import DuckDBAdapter
from csframe.core.hookspecs import hookimpl


class FakeAdapter(DuckDBAdapter):
    NAME = "fake"
    INIT_OPTIONS = ()

    @classmethod
    def init_settings(cls, options, demo):
        return {"database": "fake_demo.db" if demo else "fake_warehouse.db"}

    @classmethod
    def init_section(cls, settings):
        return f'name = "fake"\\ndatabase = "{settings["database"]}"\\n'

    @classmethod
    def test_namespace(cls, tag, workdir, fixture):
        def drop():
            with open(os.environ["FAKE_DROP_LOG"], "a", encoding="utf-8") as f:
                f.write(tag + "\\n")
        return {"name": "fake", "database": str(Path(workdir) / f"{tag}.fake")}, drop


@hookimpl
def csframe_register_adapters(register):
    register("fake", FakeAdapter)
'''

# 10 customers from January; one of them ends in mid-March: churn_rate of March = 1 / 10
INNER = '''
import pytest

SUBS = """
customer_id | started_at | ended_at         | mrr | _repeat
k{i}        | 2024-01-01 |                  | 100 | 9
l0          | 2024-01-01 | 2024-03-15 12:00 | 100 | 1
"""


def test_churn(csframe_case, csframe_engine, tmp_path):
    csframe_case(rows={"subscriptions": SUBS}, metric="churn_rate", period="2024-03-01", expected=0.1)
    if csframe_engine == "fake":  # the fake's namespace: a .fake file in the test's directory
        assert [p.suffix for p in tmp_path.iterdir() if p.suffix == ".fake"] == [".fake"]
'''


def _site(tmp_path: Path) -> Path:
    """A directory that, on PYTHONPATH, installs the fake adapter's plugin package."""
    site = tmp_path / "site"
    if site.exists():
        return site
    info = site / "fake_csframe_engine-0.1.dist-info"
    info.mkdir(parents=True)
    (site / "fake_csframe_engine.py").write_text(FAKE, encoding="utf-8")
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: fake-csframe-engine\nVersion: 0.1\n", encoding="utf-8")
    (info / "entry_points.txt").write_text("[csframe]\nfake = fake_csframe_engine\n", encoding="utf-8")
    return site


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    e = {k: v for k, v in os.environ.items() if not k.startswith("CSFRAME_TEST_") and k not in ("CI", "CSFRAME_DEBUG")}
    e["PYTHONPATH"] = os.pathsep.join([str(_site(tmp_path)), *filter(None, [os.environ.get("PYTHONPATH")])])
    e.update(extra)
    return e


def _show(r: subprocess.CompletedProcess) -> str:
    return f"\n$ {' '.join(map(str, r.args))}\nexit {r.returncode}\n--- stdout ---\n{r.stdout}\n--- stderr ---\n{r.stderr}"


def test_init_demo_on_a_third_party_adapter(tmp_path):
    env = _env(tmp_path)
    target = tmp_path / "proj"
    r = subprocess.run([CSFRAME, "init", str(target), "--demo", "--adapter", "fake", "--customers", "7",
                        "--months", "3", "--end", "2025-01-01"], capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 0, _show(r)
    toml = (target / "csframe.toml").read_text(encoding="utf-8")
    assert 'name = "fake"\ndatabase = "fake_demo.db"\n' in toml, toml
    assert not (target / "demo.duckdb").exists()
    import duckdb

    con = duckdb.connect(str(target / "fake_demo.db"), read_only=True)
    try:
        assert con.execute("SELECT count(*) FROM customers").fetchone()[0] == 7  # --customers 7
    finally:
        con.close()
    # the project runs on the fake adapter
    r = subprocess.run([CSFRAME, "compute", "-m", "mrr", "--project", str(target), "--format", "csv"],
                       capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 0, _show(r)
    # the fake takes no --schema: refused, naming the adapter that does
    r = subprocess.run([CSFRAME, "init", str(tmp_path / "other"), "--adapter", "fake", "--schema", "s"],
                       capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 2 and "--schema is not for --adapter fake" in r.stderr and "--adapter postgres" in r.stderr, \
        _show(r)
    assert not (tmp_path / "other").exists()
    # an adapter without the init methods (BigQuery's, for now) is refused; the fake is offered
    r = subprocess.run([CSFRAME, "init", str(tmp_path / "bq"), "--adapter", "bigquery"],
                       capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 2 and "cannot write a project" in r.stderr and "duckdb, postgres, clickhouse, spark, fake" in r.stderr, _show(r)
    assert not (tmp_path / "bq").exists()
    # and without --demo, the starter file is the fake's
    r = subprocess.run([CSFRAME, "init", str(tmp_path / "starter"), "--adapter", "fake"],
                       capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 0 and 'database = "fake_warehouse.db"' in (tmp_path / "starter" / "csframe.toml").read_text()


def _run_inner(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    d = tmp_path / "inner"
    d.mkdir(exist_ok=True)
    (d / "pytest.ini").write_text("[pytest]\n")
    (d / "test_inner.py").write_text(textwrap.dedent(INNER))
    e = _env(tmp_path, PYTEST_DISABLE_PLUGIN_AUTOLOAD="1", **env)
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "csframe.testing", "-p", "no:cacheprovider",
                           "-q", "-rs", *args, str(d)], capture_output=True, text=True, env=e, cwd=d, timeout=300)


def test_a_third_party_adapter_is_a_kit_engine(tmp_path):
    log = tmp_path / "drops.log"
    # by default an installed adapter's engine is among the kit's engines
    r = _run_inner(tmp_path, "--collect-only", FAKE_DROP_LOG=str(log))
    assert "test_inner.py::test_churn[fake]" in r.stdout and "test_inner.py::test_churn[duckdb]" in r.stdout, _show(r)
    # and it runs there, in the namespace the adapter gives, dropped after the test
    r = _run_inner(tmp_path, "--csframe-engines=fake", FAKE_DROP_LOG=str(log))
    assert r.returncode == 0 and "1 passed" in r.stdout, _show(r)
    tags = log.read_text(encoding="utf-8").split()
    assert len(tags) == 1 and tags[0].startswith("csframe_t_")
    # a name no adapter registers is still a usage error, listing the fake among the known engines
    r = _run_inner(tmp_path, "--csframe-engines=nosuch", FAKE_DROP_LOG=str(log))
    assert r.returncode != 0 and "unknown nosuch" in r.stderr + r.stdout and "fake" in r.stderr + r.stdout, _show(r)


def test_a_plugin_that_does_not_load_stops_the_kit_saying_which(tmp_path):
    site = _site(tmp_path)
    info = site / "broken_csframe_plugin-0.1.dist-info"
    info.mkdir()
    (site / "broken_csframe_plugin.py").write_text('raise RuntimeError("boom")\n', encoding="utf-8")
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: broken-csframe-plugin\nVersion: 0.1\n", encoding="utf-8")
    (info / "entry_points.txt").write_text("[csframe]\nbroken = broken_csframe_plugin\n", encoding="utf-8")
    r = _run_inner(tmp_path, "--csframe-engines=duckdb", FAKE_DROP_LOG=str(tmp_path / "drops.log"))
    out = r.stdout + r.stderr
    assert r.returncode == 4 and "installed csframe plugins do not load" in out and "'broken'" in out \
        and "boom" in out and "[plugins] disable" in out, _show(r)
