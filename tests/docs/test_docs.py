"""The generated docs are fresh, and every hook is documented."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest

from csframe.core import docgen, hookspecs

DOCS = Path(__file__).resolve().parents[2] / "docs"


@pytest.mark.parametrize("page", sorted(docgen.PAGES))
def test_generated_page_is_fresh(page):
    expected = docgen.PAGES[page]()
    actual = (DOCS / page).read_text(encoding="utf-8")
    assert actual == expected, f"docs/{page} is stale: run `python -m csframe.core.docgen docs` and commit"


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
    from csframe.core.cli.app import _load_commands, cli

    _load_commands()
    text = (DOCS / "cli-reference.md").read_text(encoding="utf-8")
    assert "csframe csframe" not in text
    for name in cli.commands:
        assert f"\nUsage: csframe {name} [OPTIONS]" in text, name
