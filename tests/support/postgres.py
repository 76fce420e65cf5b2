"""A PostgreSQL server for the tests: the machine's (127.0.0.1:5432), or a throwaway one.

The tests must run in CI (CI=true): when no server can be had there, the fixture fails,
it never skips. A throwaway server is started with initdb/pg_ctl as the ``postgres`` user
when the tests run as root (both refuse to run as root).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

DEFAULT_DSN = "host=127.0.0.1 port=5432 dbname=test user=postgres"


def _can_connect(dsn: str) -> bool:
    try:
        import psycopg

        with psycopg.connect(dsn, connect_timeout=3):
            return True
    except Exception:  # noqa: BLE001
        return False


def _pg_bin() -> Path | None:
    for root in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (root / "initdb").exists():
            return root
    return None


class Throwaway:
    """initdb + pg_ctl in a temporary directory, on a free port."""

    def __init__(self) -> None:
        bin_ = _pg_bin()
        if bin_ is None:
            raise RuntimeError("no PostgreSQL binaries (apt-get install -y postgresql-15)")
        self.bin = bin_
        self.dir = Path(tempfile.mkdtemp(prefix="csframe-pg-"))
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.as_root = os.geteuid() == 0
        if self.as_root:
            shutil.chown(self.dir, "postgres", "postgres")

    def _run(self, *args: str) -> None:
        cmd = [str(self.bin / args[0]), *args[1:]]
        if self.as_root:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        subprocess.run(cmd, check=True, capture_output=True, text=True)

    def start(self) -> str:
        data = self.dir / "data"
        self._run("initdb", "-D", str(data), "-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8")
        self._run("pg_ctl", "-D", str(data), "-w", "-l", str(self.dir / "log"), "-o",
                  f"-k {self.dir} -p {self.port} -c listen_addresses=127.0.0.1 -c fsync=off", "start")
        return f"host=127.0.0.1 port={self.port} dbname=postgres user=postgres"

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.dir / "data"), "-m", "immediate", "stop")
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)


def server_dsn():
    """(dsn, stop) for a reachable server; raises when none can be had."""
    dsn = os.environ.get("CSFRAME_TEST_PG_DSN", DEFAULT_DSN)
    if _can_connect(dsn):
        return dsn, lambda: None
    t = Throwaway()
    dsn = t.start()
    deadline = time.time() + 10
    while not _can_connect(dsn):
        if time.time() > deadline:
            t.stop()
            raise RuntimeError("the throwaway PostgreSQL server did not answer")
        time.sleep(0.2)
    return dsn, t.stop


def fresh_schema(dsn: str):
    """A new schema name and a function that drops it."""
    import psycopg

    name = "t_" + uuid.uuid4().hex[:12]

    def drop() -> None:
        with psycopg.connect(dsn, autocommit=True) as con:
            con.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')

    return name, drop
