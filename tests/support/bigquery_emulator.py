"""A BigQuery emulator for the tests: local-bigquery, speaking BigQuery's REST API.

``.ci/setup-bq-emulator.sh`` installs it into its own virtual environment under
``.cache/bq-emulator/venv`` (it needs Python 3.13 and pins its own DuckDB and sqlglot).
:class:`Emulator` starts ``local-bigquery serve`` on two free ports of 127.0.0.1 with a fresh
data directory, waits until the REST API answers a dataset listing (its DuckDB catalog is
opened on the first request, which is also where a missing DuckDB extension shows), and
stops it (its whole process group) afterwards.

The fixture :func:`bq_emulator` (session scope) yields the running emulator; it fails under
``CI=true`` when the emulator cannot be started (``.ci/run`` installs it) and skips otherwise.
"""

from __future__ import annotations

__all__ = ["Emulator", "EmulatorUnavailable", "EMULATOR_DIR", "PROJECT", "bq_emulator"]

import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EMULATOR_DIR = Path(os.environ.get("CSFRAME_BQ_EMULATOR_DIR", ROOT / ".cache" / "bq-emulator"))
PROJECT = "test-project"


class EmulatorUnavailable(RuntimeError):
    """local-bigquery is not installed or did not start (run .ci/setup-bq-emulator.sh)."""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Emulator:
    """One ``local-bigquery serve`` process with a data directory of its own."""

    def __init__(self, directory: Path = EMULATOR_DIR, project: str = PROJECT) -> None:
        self.exe = Path(directory) / "venv" / "bin" / "local-bigquery"
        if not self.exe.exists():
            raise EmulatorUnavailable(f"no local-bigquery at {self.exe} (run .ci/setup-bq-emulator.sh)")
        self.project = project
        self.proc: subprocess.Popen | None = None
        self.dir: Path | None = None
        self.port = self.grpc_port = 0

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> Emulator:
        last = ""
        for _ in range(3):  # a free port can be taken between the probe and the server's bind
            self.dir = Path(tempfile.mkdtemp(prefix="csframe-bq-"))
            self.port, self.grpc_port = _free_port(), _free_port()
            while self.grpc_port == self.port:
                self.grpc_port = _free_port()
            log = open(self.dir / "log", "wb")  # noqa: SIM115 - closed by the process's end
            self.proc = subprocess.Popen(
                [str(self.exe), "serve", "--host", "127.0.0.1", "--port", str(self.port),
                 "--grpc-port", str(self.grpc_port), "--project", self.project, "--data-dir", str(self.dir / "data")],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                cwd=self.dir,
            )
            log.close()
            error = self._wait(timeout)
            if error is None:
                return self
            last = error
            self.stop()
        raise EmulatorUnavailable(f"local-bigquery did not start: {last}")

    def _wait(self, timeout: float) -> str | None:
        """None once the API lists datasets, else what went wrong."""
        url = f"{self.endpoint}/bigquery/v2/projects/{self.project}/datasets"
        deadline = time.monotonic() + timeout
        error = "no answer"
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return f"exited with {self.proc.returncode}: {self.output()}"
            try:
                with urllib.request.urlopen(url, timeout=5) as r:
                    json.load(r)
                    return None
            except urllib.error.HTTPError as e:  # it answers, but cannot serve: a setup problem
                body = e.read().decode(errors="replace")[:500]
                return f"HTTP {e.code} on {url}: {body} {self.output()}"
            except (urllib.error.URLError, ConnectionError, TimeoutError, OSError) as e:
                error = str(e)
            time.sleep(0.1)
        return f"not ready after {timeout:.0f} s ({error}): {self.output()}"

    def output(self) -> str:
        if self.dir is None or not (self.dir / "log").exists():
            return ""
        return (self.dir / "log").read_text(errors="replace").strip()[-2000:]

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)  # its own session: the server and any child
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=5)
        self.proc = None
        if self.dir is not None:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@pytest.fixture(scope="session")
def bq_emulator():
    """A running local-bigquery. Skips when it is not installed; fails under CI=true."""
    try:
        emulator = Emulator().start()
    except EmulatorUnavailable as e:
        if os.environ.get("CI") == "true":
            pytest.fail(f"the BigQuery emulator is needed in CI (.ci/setup-bq-emulator.sh installs it): {e}")
        pytest.skip(str(e))
    try:
        yield emulator
    finally:
        emulator.stop()
