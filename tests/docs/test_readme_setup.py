"""The README's command 1 makes and uses its own virtual environment (a Debian/Ubuntu python3
refuses `pip install` outside one), and `.ci/run` runs exactly that line with /usr/bin/python3."""

from __future__ import annotations

import re
import shlex
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CI_RUN = ROOT / ".ci" / "run"


def _command_1() -> str:
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    starts = [i for i, line in enumerate(lines) if line.startswith("# 1.")]
    assert len(starts) == 1, "README.md: one line starting with '# 1.' above command 1"
    return lines[starts[0] + 1]


def test_command_1_installs_into_its_own_venv_only():
    parts = [shlex.split(p) for p in _command_1().split(" && ")]
    assert parts[0] == ["python3", "-m", "venv", ".venv"], parts[0]
    for argv in parts[1:]:
        # pip and csframe of the venv, never a bare `pip`/`csframe` from the PATH
        assert argv[0].startswith(".venv/bin/"), f"{argv[0]!r} is not the venv's"
    assert parts[1][:3] == [".venv/bin/pip", "install", "-e"], parts[1]
    assert [".venv/bin/csframe", "compute", "--project", "demo", "--all"] in parts


def test_the_tour_does_not_reuse_command_1s_project():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    tour = text[text.index("## A five-minute tour"):]
    init = re.search(r"^csframe init (\S+) --demo", tour, re.M)
    assert init and init.group(1) != "demo", "the tour must init another directory than command 1's demo/"


def test_ci_runs_command_1_verbatim_with_debians_python():
    text = CI_RUN.read_text(encoding="utf-8")
    function = re.search(r"^readme_command_1\(\) \{.*\}$", text, re.M)
    assert function, ".ci/run defines readme_command_1"
    extracted = subprocess.run(["bash", "-c", f"{function.group(0)}\nreadme_command_1"], cwd=ROOT,
                               capture_output=True, text=True, check=True).stdout
    assert extracted == _command_1() + "\n"
    assert 'command_1=$(readme_command_1)' in text
    assert 'PATH=/usr/bin:$PATH bash -c "$command_1"' in text
    # before the CI venv is activated: /usr/bin/python3 is the system's, not the venv's
    assert text.index('bash -c "$command_1"') < text.index(". .venv/bin/activate")
