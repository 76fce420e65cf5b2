"""Connect-for-tests on PostgreSQL (the adapter's ``test_server``): the server the test kit's
tests use — ``$CSFRAME_TEST_PG_DSN``, default 127.0.0.1:5432 as user postgres, or the one a
conftest gives — once one connection to it succeeds."""

from __future__ import annotations

__all__ = ["PG_TEST_DSN_ENV", "PG_TEST_DEFAULT_DSN", "test_server", "dsn_where"]

import os
import re
from typing import Any

from csframe.core.errors import EngineUnavailableError

PG_TEST_DSN_ENV = "CSFRAME_TEST_PG_DSN"
PG_TEST_DEFAULT_DSN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"


def dsn_where(dsn: str) -> str:
    """host:port of a DSN, never its password."""
    host = re.search(r"host=(\S+)", dsn) or re.search(r"@([^:/?]+)", dsn)
    port = re.search(r"port=(\d+)", dsn) or re.search(r"@[^:/?]+:(\d+)", dsn)
    return f"{host.group(1) if host else 'localhost'}:{port.group(1) if port else '5432'}"


def test_server(given: dict[str, Any] | None) -> dict[str, Any]:
    """``{"dsn": ...}`` of a server that answers, or EngineUnavailableError saying why not."""
    dsn = (given or {}).get("dsn") or os.environ.get(PG_TEST_DSN_ENV) or PG_TEST_DEFAULT_DSN
    try:
        import psycopg
    except ImportError:
        raise EngineUnavailableError("cannot test on postgres: psycopg is not installed (pip install "
                                     "'csframe[postgres]')", hint="Install it") from None
    try:
        with psycopg.connect(dsn, connect_timeout=5):
            return {"dsn": dsn}
    except psycopg.Error as e:
        problem = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise EngineUnavailableError(f"no PostgreSQL server at {dsn_where(dsn)} ({problem})",
                                     hint=f"Set {PG_TEST_DSN_ENV}") from None
