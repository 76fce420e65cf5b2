"""A test plugin that stops a ``--target`` run at its write's ``uncommitted`` stage (the
``csframe_write_stage`` hook): the rows staged and the old ones deleted, nothing committed.
For the command, :func:`paused_project` gives a project whose ``[plugins] modules`` loads it;
for the Python API, :class:`PauseAtWrite` is registered on a session's plugin manager."""

from __future__ import annotations

__all__ = ["PauseAtWrite", "paused_project", "wait_for_file"]

import json
import re
import time
from pathlib import Path

import attrs
from csframe.core.hookspecs import hookimpl

MODULE = "csframe_test_pause"
_SOURCE = '''"""A csframe test plugin: pauses a write at its uncommitted stage (tests/pipeline/pause.py)."""
import json
import re
import time
from pathlib import Path

from csframe.core.hookspecs import hookimpl

SECONDS = {seconds!r}
MARKER = {marker!r}
RELEASE = {release!r}


@hookimpl
def csframe_write_stage(stage, table, engine):
    if stage != "uncommitted":
        return
    if MARKER:  # written whole, then renamed: whoever sees the marker can read it
        Path(MARKER + ".tmp").write_text(f"{{table}} {{engine}}")
        Path(MARKER + ".tmp").replace(MARKER)
    if RELEASE:
        deadline = time.monotonic() + 120
        while not Path(RELEASE).exists() and time.monotonic() < deadline:
            time.sleep(0.02)
    if SECONDS:
        time.sleep(SECONDS)
'''


def paused_project(engine, dest: Path, *, seconds: float = 0.0, marker: Path | None = None,
                   release: Path | None = None) -> Path:
    """A project directory ``dest`` for ``engine``'s database (its csframe.toml; DuckDB: the
    same file, by its absolute path) whose runs, at the write's uncommitted stage, write
    ``marker`` (the table and engine), wait until ``release`` exists (at most 120 s), then
    sleep ``seconds``. Run it with ``engine.env``; read the tables through ``engine``."""
    dest.mkdir(parents=True)
    (dest / f"{MODULE}.py").write_text(_SOURCE.format(
        seconds=seconds, marker=str(marker) if marker else None, release=str(release) if release else None))
    text = (engine.path / "csframe.toml").read_text()
    assert "modules" not in text, text
    modules = f'modules = ["{MODULE}"]\n'
    if "[plugins]\n" in text:
        text = text.replace("[plugins]\n", f"[plugins]\n{modules}")
    else:
        text = f"{text}\n[plugins]\n{modules}"
    if engine.name == "duckdb":
        text, n = re.subn(r"(?m)^database = .*$", f"database = {json.dumps(str(engine.path / 'demo.duckdb'))}", text)
        assert n == 1, text
    (dest / "csframe.toml").write_text(text)
    return dest


def wait_for_file(path: Path, run, timeout: float = 60) -> None:
    """Wait until ``path`` exists (the plugin's marker); fail when ``run`` (a
    :class:`tests.pipeline.commands.Running`) ends first."""
    deadline = time.monotonic() + timeout
    while not path.exists():
        if run.proc.poll() is not None:
            _, err = run.finish()
            raise AssertionError(f"the run ended (exit {run.returncode}) before its write paused:\n{err}")
        assert time.monotonic() < deadline, f"the run never paused at its write; stderr so far: {run.lines!r}"
        time.sleep(0.02)


@attrs.define
class PauseAtWrite:
    """The same, as a plugin object for ``session.plugins.pm.register``: waits at the
    uncommitted stage until ``release`` exists (at most 120 s)."""

    release: Path
    reached: list[str] = attrs.field(factory=list)

    @hookimpl
    def csframe_write_stage(self, stage: str, table: str, engine: str) -> None:
        self.reached.append(stage)
        if stage != "uncommitted":
            return
        deadline = time.monotonic() + 120
        while not self.release.exists() and time.monotonic() < deadline:
            time.sleep(0.02)

