"""Fingerprints of definitions, stored beside the rows, and ``csframe diff --against``
a target table or a git commit of the project."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from tests.pipeline.commands import cs, expect, ok
from tests.pipeline.projects import RANGE

MODULE = '''
from csframe.core.hookspecs import hookimpl
from csframe.core.models import Metric, Parameter, Variant


@hookimpl
def csframe_register_metrics(registrar):
    registrar.metric(Metric(
        "weighted_adds", "count", "customers gained net of customers lost, weighted",
        (Variant("default", "{formula}"),),
        parameters=(Parameter("adds_weight", 1.0, "the weight", kind="float"),),
    ))
    registrar.metric(Metric(
        "double_adds", "count", "twice weighted_adds", (Variant("default", "ref('weighted_adds') * 2"),),
    ))
'''
V1 = "(customers_end - customers_start) * param('adds_weight')"
V1_SPACED = "( customers_end   -  customers_start )*param( 'adds_weight' )  /* same */"
V2 = "(customers_end - customers_start + 0) * param('adds_weight')"


@pytest.fixture
def proj(duck_project, tmp_path):
    engine = duck_project.copy(tmp_path / "duck")
    toml = engine.path / "csframe.toml"
    toml.write_text(toml.read_text().replace("[plugins]\n", '[plugins]\nmodules = ["team_metrics"]\n'))
    write_module(engine.path, V1)
    yield engine
    sys.modules.pop("team_metrics", None)


def write_module(path, formula: str) -> None:
    (path / "team_metrics.py").write_text(MODULE.replace("{formula}", formula))
    for cached in (path / "__pycache__").glob("team_metrics*"):
        cached.unlink()


def fps(path, **params):
    from csframe.core.session import Session

    with Session.open(path) as s:
        keys = [(rv.metric, rv.variant.name) for rv in s.registry.all_variants()]
        return s.fingerprints(keys, params)


def test_fingerprints_are_short_stable_hashes_one_per_variant(proj):
    a, b = fps(proj.path), fps(proj.path)
    assert a == b
    assert all(re.fullmatch(r"[0-9a-f]{16}", f) for f in a.values())
    assert a[("churn_rate", "lost_over_start")] != a[("churn_rate", "net_loss")]


def test_a_changed_formula_changes_its_fingerprint_and_its_dependents_only(proj):
    before = fps(proj.path)
    write_module(proj.path, V1_SPACED)
    assert fps(proj.path) == before  # whitespace and comments are not the definition
    write_module(proj.path, V2)
    after = fps(proj.path)
    changed = {k for k in after if after[k] != before[k]}
    assert changed == {("weighted_adds", "default"), ("double_adds", "default")}  # and what refs it


def test_a_parameter_value_changes_the_fingerprints_that_use_it(proj):
    before, after = fps(proj.path), fps(proj.path, adds_weight=2)
    assert {k for k in after if after[k] != before[k]} == {("weighted_adds", "default"), ("double_adds", "default")}


def test_a_changed_node_changes_every_metric_reading_it():
    import attrs

    from csframe.core.fingerprint import fingerprint
    from csframe.core.graph import Graph
    from csframe.core.plugin_manager import load_plugins
    from csframe.core.registry import build_registry

    reg = build_registry(load_plugins(entry_points=False))
    graph = Graph(reg)
    keys = [(rv.metric, rv.variant.name) for rv in reg.all_variants()]
    before = {k: fingerprint(reg, graph, k, {}) for k in keys}
    rn = reg.nodes["sub_rows"]
    reg.nodes["sub_rows"] = attrs.evolve(rn, parsed=attrs.evolve(rn.parsed, tree=rn.parsed.tree.copy().where("mrr > 0")))
    after = {k: fingerprint(reg, graph, k, {}) for k in keys}
    readers = {k for k in keys if "sub_rows" in graph.resolve(k).nodes}
    assert readers and {k for k in keys if after[k] != before[k]} == readers


def test_stored_fingerprints_and_diff_against_the_target_table(proj):
    metrics = ("-m", "weighted_adds", "-m", "double_adds", "-m", "mrr")
    ok(cs("compute", *metrics, *RANGE, "--target", "cs_metrics", "-q", project=proj.path))
    stored = {(r[0], r[1]): r[9] for r in proj.rows()}
    current = fps(proj.path)
    assert stored == {k: current[k] for k in stored}
    r = ok(cs("diff", "--against", "cs_metrics", project=proj.path))
    assert "no metric's fingerprint differs" in r.stdout
    write_module(proj.path, V2)
    r = ok(cs("diff", "--against", "cs_metrics", "--format", "json", project=proj.path))
    changes = {(c["metric"], c["variant"]): c for c in json.loads(r.stdout)}
    assert set(changes) == {("weighted_adds", "default"), ("double_adds", "default")}
    c = changes[("weighted_adds", "default")]
    assert c["status"] == "changed" and c["reference"] == stored[("weighted_adds", "default")]
    assert c["current"] == fps(proj.path)[("weighted_adds", "default")]
    text = ok(cs("diff", "--against", "cs_metrics", project=proj.path)).stdout
    assert text.splitlines()[0].split()[:3] == ["metric", "variant", "status"] and "weighted_adds" in text
    assert "mrr" not in text
    # the same run with the parameter the table was written with
    ok(cs("compute", *metrics, *RANGE, "--target", "cs_metrics", "--param", "adds_weight=3", "-q", project=proj.path))
    assert ok(cs("diff", "--against", "cs_metrics", project=proj.path)).stdout.count("changed") == 2
    assert "no metric" in ok(cs("diff", "--against", "cs_metrics", "--param", "adds_weight=3", project=proj.path)).stdout


def test_diff_against_a_table_that_is_not_a_result_table(proj):
    expect(cs("diff", "--against", "no_such_table", project=proj.path), 2, "no_such_table", "--target")
    expect(cs("diff", "--against", "x; drop", project=proj.path), 2, "not a table name")


def test_diff_against_a_git_commit_of_the_project(proj):
    def git(*args):
        subprocess.run(["git", "-C", str(proj.path), *args], check=True, capture_output=True)

    (proj.path / ".gitignore").write_text("*.duckdb\n__pycache__/\n")
    git("init", "-q")
    git("add", "-A")
    git("-c", "user.email=t@example.com", "-c", "user.name=t", "commit", "-q", "-m", "v1")
    assert "no metric" in ok(cs("diff", "--against", "git:HEAD", project=proj.path)).stdout
    write_module(proj.path, V2)
    r = ok(cs("diff", "--against", "git:HEAD", "--format", "json", project=proj.path))
    assert {(c["metric"], c["status"]) for c in json.loads(r.stdout)} == {("weighted_adds", "changed"),
                                                                         ("double_adds", "changed")}
    # a metric the working tree adds, against the commit
    (proj.path / "team_metrics.py").write_text((proj.path / "team_metrics.py").read_text() + '''

@hookimpl
def csframe_register_metrics(registrar):
    registrar.metric(Metric("another", "count", "another", (Variant("default", "customers_end"),)))
''')
    r = ok(cs("diff", "--against", "git:HEAD", "--format", "json", project=proj.path))
    assert ("another", "added") in {(c["metric"], c["status"]) for c in json.loads(r.stdout)}
    expect(cs("diff", "--against", "git:no-such-ref", project=proj.path), 2, "no-such-ref")
