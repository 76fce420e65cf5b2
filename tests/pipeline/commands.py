"""Running the installed ``csframe`` command for the pipeline tests, and reading target tables."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.support.in_process import csframe

CSFRAME = shutil.which("csframe") or str(Path(sys.executable).parent / "csframe")
PG_ENV = "CSFRAME_PG_DSN"


def env(extra: dict[str, str] | None = None) -> dict[str, str]:
    e = dict(os.environ)
    e.pop("CSFRAME_DEBUG", None)
    e.update(extra or {})
    return e


def argv(*args: str, project: Path | None = None) -> list[str]:
    out = [CSFRAME, *map(str, args)]
    if project is not None:
        out += ["--project", str(project)]
    return out


def cs(*args: str, project: Path | None = None, extra_env: dict[str, str] | None = None,
       timeout: float = 120, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """The command, run in this process as the console script runs it (tests/support/in_process.py),
    or as a process of its own when the environment needs one."""
    return csframe(argv(*args, project=project), env(extra_env), cwd=cwd, timeout=timeout)


class Running:
    """A ``csframe`` process in the background whose stderr lines are read as they come
    (a thread per pipe, so neither fills up and no line waits in a buffer)."""

    def __init__(self, popen: subprocess.Popen) -> None:
        import threading

        self.proc = popen
        self.lines: list[str] = []
        self.out: list[str] = []
        self.cond = threading.Condition()
        self.threads = [threading.Thread(target=self._pump, args=(popen.stderr, self.lines), daemon=True),
                        threading.Thread(target=self._pump, args=(popen.stdout, self.out), daemon=True)]
        for t in self.threads:
            t.start()

    def _pump(self, stream, into: list[str]) -> None:
        for line in stream:
            with self.cond:
                into.append(line)
                self.cond.notify_all()
        with self.cond:
            self.cond.notify_all()

    @property
    def pid(self) -> int:
        return self.proc.pid

    @property
    def returncode(self) -> int | None:
        return self.proc.returncode

    def wait_for(self, predicate, timeout: float = 30) -> list[str]:
        """Wait until a stderr line satisfies ``predicate``; return the lines so far."""
        import time

        deadline = time.monotonic() + timeout
        with self.cond:
            while not any(predicate(line) for line in self.lines):
                left = deadline - time.monotonic()
                if left <= 0 or (self.proc.poll() is not None and not self.threads[0].is_alive()):
                    raise AssertionError(f"the line never came; read: {self.lines!r}")
                self.cond.wait(min(left, 0.1))
            return list(self.lines)

    def finish(self, timeout: float = 60) -> tuple[str, str]:
        """Wait for the process to end; (stdout, stderr)."""
        self.proc.wait(timeout)
        for t in self.threads:
            t.join(timeout)
        return "".join(self.out), "".join(self.lines)


def start(*args: str, project: Path | None = None, extra_env: dict[str, str] | None = None) -> Running:
    return Running(subprocess.Popen(argv(*args, project=project), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                    text=True, env=env(extra_env)))


def show(r) -> str:
    return (f"\n$ {' '.join(map(str, r.args))}\nexit {r.returncode}\n--- stdout ---\n{(r.stdout or '')[-3000:]}"
            f"\n--- stderr ---\n{(r.stderr or '')[-3000:]}")


def expect(r, code: int, *in_stderr: str):
    assert r.returncode == code, f"expected exit {code}" + show(r)
    for fragment in in_stderr:
        assert fragment.lower() in r.stderr.lower(), f"{fragment!r} not on stderr" + show(r)
    assert "Traceback" not in r.stderr, "a traceback without --debug" + show(r)
    return r


def ok(r):
    return expect(r, 0)


def json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]
