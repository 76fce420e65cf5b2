"""The suite's fixtures (a DuckDB project, the PostgreSQL server), the servers every
``csframe_case`` test of the suite runs on (this PostgreSQL server, and the session's BigQuery
emulator whenever local-bigquery is installed, always in CI), and its rule for CI: under
``CI=true`` (``.ci/run`` exports it) every test runs on every engine, so a skip or an xfail,
whether of a test, a fixture or a whole module, is reported as a failure, and the engines the
test kit runs on cannot be narrowed (``CSFRAME_TEST_ENGINES``, ``--csframe-engines``)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# The suite's JVMs (local Spark: each worker's, and the writer the conformance suite kills) are
# short-lived: the JIT's first tier only (C1) spends less of the two CPUs compiling what runs a
# few times (Spark's conformance class on one CPU: 160 s -> 128 s). A JIT tier changes no
# result; a JAVA_TOOL_OPTIONS of the caller's own is kept. (The JVM notes it on stderr.)
os.environ.setdefault("JAVA_TOOL_OPTIONS", "-XX:TieredStopAtLevel=1")

from tests.support.bigquery_emulator import Emulator, EmulatorUnavailable, bq_emulator  # noqa: E402, F401 - the fixture
from tests.support.engines import parametrize_engine_project  # noqa: E402
from tests.support.projects import make_project  # noqa: E402

ALL_ENGINES = ("duckdb", "postgres", "bigquery")
KIT = "csframe.testing"


def _in_ci() -> bool:
    return os.environ.get("CI") == "true"


def pytest_configure(config):
    # once csframe declares the kit as a pytest11 entry point, pytest has loaded it already
    if not config.pluginmanager.has_plugin(KIT):
        config.pluginmanager.import_plugin(KIT)
    if not _in_ci():
        return
    named = config.getoption("csframe_engines", default=None) or os.environ.get("CSFRAME_TEST_ENGINES")
    if named and set(ALL_ENGINES) - {n.strip() for n in named.split(",")}:
        raise pytest.UsageError(f"CI=true runs the tests on every engine ({', '.join(ALL_ENGINES)}): unset "
                                f"CSFRAME_TEST_ENGINES and --csframe-engines (they name {named!r})")


def pytest_generate_tests(metafunc):
    parametrize_engine_project(metafunc)  # engine_project on the test kit's engines


def _skip_reason(report) -> str:
    if hasattr(report, "wasxfail"):
        return f"xfail: {report.wasxfail or 'no reason given'}"
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:  # (path, line, "Skipped: why")
        return f"{longrepr[2]} ({longrepr[0]}:{longrepr[1]})"
    return str(longrepr)


def _fail_the_skip(report) -> None:
    """Under CI=true a skipped (or xfailed) report becomes a failure that says why it skipped."""
    if _in_ci() and report.skipped:
        reason = _skip_reason(report)
        if hasattr(report, "wasxfail"):
            del report.wasxfail
        report.outcome = "failed"
        report.longrepr = (f"skipped under CI=true, where every test must run: {reason}. Install what it "
                           f"needs (.ci/run does) or fix the test; a skip is a failure in CI.")


def _emulator_installed() -> bool:
    try:
        Emulator()
    except EmulatorUnavailable:
        return False
    return True


def pytest_csframe_default_engines(config, engines):
    # bigquery by default whenever the emulator can be had; under CI=true a missing one fails
    if "bigquery" not in engines and (_in_ci() or _emulator_installed()):
        return [*engines, "bigquery"]
    return None


def pytest_csframe_test_server(request, engine):
    # the suite's servers: its PostgreSQL (pg_dsn, which may start one); for bigquery
    # $CSFRAME_TEST_BIGQUERY_ENDPOINT when set, else the session's emulator
    if engine == "postgres":
        return {"dsn": request.getfixturevalue("pg_dsn")}
    if engine == "bigquery":
        endpoint = os.environ.get("CSFRAME_TEST_BIGQUERY_ENDPOINT", "").strip().rstrip("/")
        return {"api_endpoint": endpoint or request.getfixturevalue("bq_emulator").endpoint}
    return None


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    _fail_the_skip(outcome.get_result())


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector):
    outcome = yield
    _fail_the_skip(outcome.get_result())  # a module-level importorskip or pytest.skip(allow_module_level=True)


@pytest.fixture
def project(tmp_path):
    """project(tables, toml_extra="") -> Session over a fresh DuckDB project holding ``tables``."""
    from csframe.core.session import Session

    opened = []

    def build(tables, toml_extra: str = "", sources=None, name: str = "proj"):
        path = make_project(tmp_path / name, tables, toml_extra=toml_extra, sources=sources)
        s = Session.open(path)
        opened.append(s)
        return s

    yield build
    for s in opened:
        s.close()


@pytest.fixture(scope="session")
def pg_dsn():
    """A PostgreSQL server's DSN. Fails (never skips) under CI=true when none can be had."""
    import os

    from tests.support.postgres import server_dsn

    try:
        dsn, stop = server_dsn()
    except Exception as e:  # noqa: BLE001
        if os.environ.get("CI") == "true":
            pytest.fail(f"no PostgreSQL server for the tests in CI: {e}")
        pytest.skip(f"no PostgreSQL server: {e}")
    yield dsn
    stop()


@pytest.fixture
def pg_schema(pg_dsn):
    """A fresh schema on the test server, dropped after the test."""
    from tests.support.postgres import fresh_schema

    name, drop = fresh_schema(pg_dsn)
    yield name
    drop()
