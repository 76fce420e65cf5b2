"""Debian's Chromium, headless, for the tests of ``csframe report``'s page.

``.ci/run`` installs it (``apt-get install -y chromium``); a machine without it skips the
tests, which CI=true turns into failures (tests/conftest.py). Each call starts the browser on a
``file://`` page, lets its scripts run (``--virtual-time-budget``), and returns what it
printed: the DOM as the scripts left it, or a screenshot; the console messages come from its
log (``--enable-logging=stderr``: ``INFO:CONSOLE`` lines, errors and uncaught exceptions
included)."""

from __future__ import annotations

__all__ = ["chromium", "Rendered", "render"]

import re
import shutil
import subprocess
from pathlib import Path

import attrs
import pytest

_CONSOLE = re.compile(r":CONSOLE(?:\(\d+\)|:\d+)\] (.*)")


def chromium() -> str:
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    pytest.skip("Debian's chromium is not installed (apt-get install -y chromium; .ci/run installs it)")


@attrs.frozen
class Rendered:
    dom: str
    console: list[str]
    screenshot: Path | None


def _run(args: list[str], timeout: float) -> subprocess.CompletedProcess:
    return subprocess.run([chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                           "--no-first-run", "--disable-extensions", "--enable-logging=stderr", "--v=0",
                           "--host-resolver-rules=MAP * ~NOTFOUND",  # offline: nothing may come from a network
                           "--virtual-time-budget=20000", *args], capture_output=True, text=True, timeout=timeout)


def render(page: Path, screenshot: Path | None = None, size: tuple[int, int] = (1300, 2400),
           timeout: float = 120) -> Rendered:
    """The page's DOM after its scripts ran, its console messages, and (``screenshot``) a PNG of
    the top ``size`` of it."""
    url = page.resolve().as_uri()
    dom = _run(["--dump-dom", url], timeout)
    assert dom.returncode == 0, dom.stderr[-3000:]
    console = [m.group(1) for line in dom.stderr.splitlines() if (m := _CONSOLE.search(line))]
    if screenshot is not None:
        shot = _run([f"--window-size={size[0]},{size[1]}", f"--screenshot={screenshot}", url], timeout)
        assert shot.returncode == 0 and screenshot.exists(), shot.stderr[-3000:]
        console += [m.group(1) for line in shot.stderr.splitlines() if (m := _CONSOLE.search(line))]
    return Rendered(dom.stdout, console, screenshot)
