"""The generated docs are fresh, and every hook is documented."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest

from csframe.cli import docgen
from csframe.core import hookspecs

DOCS = Path(__file__).resolve().parents[2] / "docs"


@pytest.mark.parametrize("page", sorted(docgen.PAGES))
def test_generated_page_is_fresh(page):
    expected = docgen.PAGES[page]()
    actual = (DOCS / page).read_text(encoding="utf-8")
    assert actual == expected, f"docs/{page} is stale: run `python -m csframe.cli.docgen docs` and commit"


HOOKS = [f for n, f in inspect.getmembers(hookspecs.CsframeSpec, inspect.isfunction) if n.startswith("csframe_")]


@pytest.mark.parametrize("hook", HOOKS, ids=lambda f: f.__name__)
def test_every_hook_is_documented(hook):
    doc = inspect.getdoc(hook) or ""
    assert doc.strip(), f"{hook.__name__} has no docstring"
    for param in list(inspect.signature(hook).parameters)[1:]:
        assert f":param {param}:" in doc, f"{hook.__name__}: parameter {param} is undocumented"
    assert ":return:" in doc, f"{hook.__name__}: the return contract is undocumented"


def test_every_metric_is_in_the_reference():
    text = (DOCS / "metrics.md").read_text(encoding="utf-8")
    reg = docgen._registry()
    for name in reg.metrics:
        assert f"### `{name}`" in text


def test_the_cli_reference_shows_each_command_as_it_is_typed():
    from csframe.cli.app import _load_commands, cli

    _load_commands()
    text = (DOCS / "cli-reference.md").read_text(encoding="utf-8")
    assert "csframe csframe" not in text
    for name in cli.commands:
        assert f"\nUsage: csframe {name} [OPTIONS]" in text, name


def _shown_example_files(page: Path, examples: Path) -> list[tuple[Path, str, str]]:
    """(file, what the page's block shows of it, where the block is) for each code
    block of ``page`` that shows a file under ``examples``: the block after a link to that
    file (in the prose since the previous block), or a block whose first line is a comment
    naming the file (``-- models/subscriptions.sql``, ``# csframe.toml``: a path relative to
    ``examples`` or to the folder the prose last linked), which the file itself lacks."""
    import re

    rel = examples.relative_to(page.parent).as_posix()
    link = re.compile(r"\]\(" + re.escape(rel) + r"/([^)#\s]*)\)")
    name_line = re.compile(r"^(?:#|--|//) (\S+\.\w+)$")
    shown, linked, pending, folder = [], set(), None, examples
    lines = page.read_text(encoding="utf-8").splitlines()
    i = 0
    while i < len(lines):
        fence = re.match(r"^(`{3,})", lines[i])
        if not fence:
            for target in link.findall(lines[i]):
                path = examples / target
                if target.endswith("/") or path.is_dir():
                    folder = path
                else:
                    pending = path
                    linked.add(path)
            i += 1
            continue
        start = i + 1
        i = start
        while not lines[i].startswith(fence.group(1)):
            i += 1
        block, where = lines[start:i], f"{page.name}:{start}"
        i += 1
        named = name_line.match(block[0]) if block else None
        if named:
            candidates = [p for p in (folder / named.group(1), examples / named.group(1)) if p.is_file()]
            assert candidates, f"the block at {where} names {named.group(1)}, which is no file under {examples}"
            if candidates[0].read_text(encoding="utf-8").startswith(block[0] + "\n"):
                named = None  # a comment the file has itself
        if named:
            shown.append((candidates[0], "\n".join(block[1:]) + "\n", where))
        elif pending is not None:
            shown.append((pending, "\n".join(block) + "\n", where))
        pending = None
    missing = linked - {f for f, _, _ in shown}
    assert not missing, f"{page.name} links {sorted(map(str, missing))} but shows no block after the link"
    return shown


def test_scheduler_examples_on_the_page_are_the_files():
    """docs/schedulers.md shows its examples as they are in docs/examples/schedulers/."""
    examples = DOCS / "examples" / "schedulers"
    shown = _shown_example_files(DOCS / "schedulers.md", examples)
    assert sorted(f.relative_to(examples).as_posix() for f, _, _ in shown) == [
        "airflow_csframe_nightly.py", "dbt/csframe.toml", "dbt/models/subscriptions.sql", "dbt/run-after-dbt.sh",
        "github-actions-csframe.yml", "nightly.sh"]
    import difflib

    diffs = []
    for path, text, where in shown:
        actual = path.read_text(encoding="utf-8")
        if text != actual:
            diffs.append("".join(difflib.unified_diff(text.splitlines(True), actual.splitlines(True),
                                                      f"{where} (the block)", str(path.relative_to(DOCS.parent)))))
    assert not diffs, "blocks of schedulers.md differ from the files they show:\n" + "\n".join(diffs)


def test_the_cli_reference_is_what_h_prints():
    """Each command's section is what `csframe NAME -h` prints (-h and --help both listed)."""
    from click.testing import CliRunner

    from csframe.cli.app import _load_commands, cli

    _load_commands()
    text = (DOCS / "cli-reference.md").read_text(encoding="utf-8")
    for name in [None, *cli.commands]:
        r = CliRunner().invoke(cli, [name, "-h"] if name else ["-h"], prog_name="csframe", terminal_width=100)
        assert r.exit_code == 0, r.output
        assert "-h, --help" in r.output
        assert f"```\n{r.output}```" in text, f"docs/cli-reference.md: csframe {name or ''} -h differs"
