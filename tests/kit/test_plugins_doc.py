"""docs/plugins.md is true: its Python compiles, the modules it shows (blocks opening with
``# name.py``) do what the text says on DuckDB and PostgreSQL, its test of the sample plugin
passes, and it links to the generated hook reference."""

from __future__ import annotations

import importlib.metadata
import re
import sys
from pathlib import Path

import pytest
from csframe.core import hookspecs
from csframe.core.project import Project
from csframe.core.session import Session

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "plugins.md"
SAMPLE = ROOT / "docs" / "examples" / "engaged-agents"
BLOCKS = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.S)
FILES = {m.group(1): b for b in BLOCKS if (m := re.match(r"# (\w+)\.py\n", b))}

SUBS = """
customer_id | started_at | ended_at         | mrr | _repeat
k{i}        | 2024-01-01 |                  | 100 | 85
l{i}        | 2024-01-01 | 2024-03-15 12:00 | 100 | 15
n{i}        | 2024-03-15 12:00 |            | 100 | 5
"""  # March: 100 at start, 15 lost, 5 new, 90 at end


@pytest.fixture
def doc_module(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(tmp_path))
    written = []

    def write(name: str) -> str:
        (tmp_path / f"{name}.py").write_text(FILES[name], encoding="utf-8")
        written.append(name)
        return name

    yield write
    for name in written:
        sys.modules.pop(name, None)


@pytest.mark.parametrize("i", range(len(BLOCKS)))
def test_every_python_block_compiles(i):
    compile(BLOCKS[i], f"docs/plugins.md block {i}", "exec")


def test_the_doc_links_the_hook_reference_and_names_every_registration_hook():
    text = DOC.read_text(encoding="utf-8")
    assert "(hooks.md)" in text
    for hook in ("csframe_register_metrics", "csframe_register_adapters"):
        assert hook in text and hasattr(hookspecs.CsframeSpec, hook)
    for call in ("registrar.node(", "registrar.metric(", "registrar.variant(", "registrar.default_variant("):
        assert call in text


def test_a_variant_added_to_a_built_in_metric(csframe_case, doc_module):
    mod = doc_module("my_churn")
    # |L| / mean(|S|, |E|) = 15 / 95
    csframe_case(rows={"subscriptions": SUBS}, period="2024-03-01", modules=[mod],
                 expected={"churn_rate:lost_over_average": 15 / 95, "churn_rate": 0.15})  # the default is unchanged
    assert [o.passed for o in csframe_case.examples(plugin=mod, modules=[mod])] == [True]


def test_overriding_a_default(csframe_case, doc_module):
    mod = doc_module("our_defaults")
    got = csframe_case.compute({"subscriptions": SUBS}, ["churn_rate"], start="2024-03-01", modules=[mod])
    assert [(r[0], r[1], r[-1]) for r in got.rows] == [("churn_rate", "net_loss", pytest.approx(0.10))]
    got = csframe_case.compute({"subscriptions": SUBS}, ["churn_rate"], start="2024-03-01", modules=[mod],
                               variants={"churn_rate": "lost_over_start"})  # a project's [variants] wins
    assert got.rows[0][1] == "lost_over_start"


@pytest.mark.csframe_engines("duckdb")
def test_the_adapter_example(csframe_case, doc_module):
    mod = doc_module("tagged_duckdb")
    s = csframe_case.session({"subscriptions": SUBS}, modules=[mod])  # the rows, in this test's DuckDB file
    project = Project(dir=s.project.dir, adapter=dict(s.project.adapter, name="tagged_duckdb"),
                      sources=s.project.sources, plugin_modules=(mod,))
    with Session.open(project=project) as tagged:
        assert tagged.registry.adapters["tagged_duckdb"][0] == mod
        got = tagged.compute(["churn_rate"], start="2024-03-01", end="2024-04-01")
    assert got.rows[0][-1] == pytest.approx(0.15)
    assert "/* sent by csframe */" in got.sql


def _sample_installed() -> bool:
    try:
        importlib.metadata.distribution("csframe-engaged-agents")
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


def test_the_documented_tests_of_the_sample_plugin(csframe_case, monkeypatch):
    block = next(b for b in BLOCKS if "def test_engaged_agents(csframe_case)" in b)
    namespace: dict = {}
    exec(compile(block, "docs/plugins.md", "exec"), namespace)
    if _sample_installed():  # tests/plugins installs it for the session: it is found by its entry point
        case = csframe_case
    else:
        monkeypatch.syspath_prepend(str(SAMPLE))

        def case(**kwargs):
            return csframe_case(modules=["csframe_engaged_agents"], **kwargs)

    tests = [f for name, f in namespace.items() if name.startswith("test_")]
    assert len(tests) == 2
    try:
        for test in tests:
            test(case)
    finally:
        if case is not csframe_case:
            sys.modules.pop("csframe_engaged_agents", None)
