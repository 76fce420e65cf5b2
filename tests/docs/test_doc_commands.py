"""Every shell command the README and docs/*.md show runs, and every output they show is what it prints.

The convention, for a page's fenced blocks:

- a ``bash``, ``sh`` or ``console`` block is run, line by line, with ``bash`` (``$ `` prompts are
  dropped, ``\\`` continues a line), in a copy of one small demo project; ``cd DIR`` moves into
  DIR. Each command must exit 0. Lines that set up the environment (``pip install``, ``. .venv/bin/
  activate``) are skipped: the test runs where csframe and its test extras are installed. Any
  other program than ``csframe`` fails the test, unless the block is marked;
- ``<!-- not run: REASON -->`` on the line before a block marks it illustrative: it needs an
  engine or a network this test does not have, or is a file shown elsewhere;
- ``<!-- output -->`` on the line before a block (no language) says the block is what the last
  command of the previous run block prints on stdout, exactly.

``csframe init … --demo --customers N`` runs with at most ``SMALL`` customers, to stay fast.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from csframe.cli import docgen

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md"] + sorted(p for p in (ROOT / "docs").glob("*.md") if p.name not in docgen.PAGES)
RUN_LANGUAGES = {"bash", "sh", "console"}
SET_UP = (("pip", "install"), (".", ".venv/bin/activate"))
SMALL = 120
NOT_RUN = re.compile(r"^<!-- not run: .+ -->$")
OUTPUT = "<!-- output -->"


@dataclass
class Block:
    language: str
    lines: list[str]
    where: str
    marker: str = ""
    commands: list[str] = field(default_factory=list)


def blocks(page: Path) -> list[Block]:
    """The fenced blocks of ``page``, each with the marker comment on the line before it."""
    lines = page.read_text(encoding="utf-8").splitlines()
    out, i = [], 0
    while i < len(lines):
        fence = re.match(r"^(`{3,})(\S*)\s*$", lines[i])
        if not fence:
            i += 1
            continue
        end = i + 1
        while not lines[end].startswith(fence.group(1)):
            end += 1
        marker = lines[i - 1].strip() if i and lines[i - 1].startswith("<!--") else ""
        out.append(Block(fence.group(2), lines[i + 1:end], f"{page.name}:{i + 1}", marker))
        i = end + 1
    return out


def commands(block: Block) -> list[str]:
    """The block's command lines: prompts dropped, continuations joined, comments and blanks left out."""
    out, pending = [], ""
    for raw in block.lines:
        line = raw[2:] if block.language == "console" and raw.startswith("$ ") else raw
        if block.language == "console" and not raw.startswith("$ ") and not pending:
            continue  # output shown in the console block
        line = pending + line
        if line.endswith("\\"):
            pending = line[:-1]
            continue
        pending = ""
        if shlex.split(line, comments=True):
            out.append(line)
    return out


def _small(argv: list[str], line: str) -> str:
    if argv[:2] == ["csframe", "init"] and "--demo" in argv and "--customers" in argv:
        n = argv[argv.index("--customers") + 1]
        if int(n) > SMALL:
            return re.sub(rf"--customers\s+{n}\b", f"--customers {SMALL}", line)
    return line


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("docs") / "demo"
    subprocess.run([shutil.which("csframe", path=_path()) or "csframe", "init", str(path), "--demo",
                    "--customers", str(SMALL), "--months", "36"], check=True, capture_output=True, env=_env())
    return path


def _path() -> str:
    return os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "CSFRAME_DEBUG"}
    env["PATH"] = _path()
    return env


def test_every_run_block_is_csframe_or_marked():
    """A block with another program is marked (so that a new page's commands are not silently skipped)."""
    problems = []
    for page in PAGES:
        for block in blocks(page):
            if block.language not in RUN_LANGUAGES or NOT_RUN.match(block.marker):
                continue
            for line in commands(block):
                argv = shlex.split(line, comments=True)
                if argv[0] not in ("csframe", "cd") and tuple(argv[:2]) not in SET_UP:
                    problems.append(f"{block.where}: {line!r}")
    assert not problems, ("these commands are not csframe's: mark their block <!-- not run: why --> or "
                          "change them:\n" + "\n".join(problems))


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_the_page_s_commands_run_and_print_what_it_shows(page, demo, tmp_path):
    cwd = tmp_path / "project"
    shutil.copytree(demo, cwd)
    last_stdout, ran = None, 0
    for block in blocks(page):
        if block.marker == OUTPUT:
            assert last_stdout is not None, f"{block.where}: an output block after no command"
            assert last_stdout == "\n".join(block.lines) + "\n", (
                f"{block.where} shows an output that differs from what the command prints:\n{last_stdout}")
            continue
        if block.language not in RUN_LANGUAGES or NOT_RUN.match(block.marker):
            continue
        for line in commands(block):
            argv = shlex.split(line, comments=True)
            if tuple(argv[:2]) in SET_UP or argv[0] != "csframe" and argv[0] != "cd":
                continue  # the test above fails for the latter
            if argv[0] == "cd":
                cwd = (cwd / argv[1]).resolve()
                continue
            r = subprocess.run(["bash", "-o", "pipefail", "-c", _small(argv, line)], cwd=cwd, env=_env(),
                               capture_output=True, text=True, timeout=300)
            assert r.returncode == 0, f"{block.where}: `{line}` exited {r.returncode}\n{r.stderr[-2000:]}"
            assert "Traceback" not in r.stderr, f"{block.where}: `{line}`\n{r.stderr[-2000:]}"
            last_stdout, ran = r.stdout, ran + 1
    if page.name == "README.md":
        assert ran >= 10, "the README's tour ran"
