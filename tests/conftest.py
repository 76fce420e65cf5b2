from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.support.projects import make_project  # noqa: E402


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
