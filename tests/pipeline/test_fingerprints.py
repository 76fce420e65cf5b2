"""Fingerprints of definitions, stored beside the rows, and ``csframe diff --against``
a target table or a git commit of the project."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import time

import pytest

from tests.pipeline.commands import cs, expect, ok
from tests.pipeline.projects import RANGE, unreachable_pg

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


def git(cwd, *args: str) -> str:
    done = subprocess.run(["git", "-C", str(cwd), *args], check=True, capture_output=True, text=True)
    return done.stdout.strip()


def commit_all(repo, message: str = "v1") -> str:
    """``git init`` (if need be), ``add -A`` and commit in ``repo``; the commit's id."""
    if not (repo / ".git").exists():
        git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "-c", "user.email=t@example.com", "-c", "user.name=t", "-c", "commit.gpgsign=false",
        "commit", "-q", "-m", message)
    return git(repo, "rev-parse", "HEAD")


def changed(r) -> set[tuple[str, str]]:
    """(metric, status) of each change ``diff --format json`` lists."""
    return {(c["metric"], c["status"]) for c in json.loads(ok(r).stdout)}


BOTH_CHANGED = {("weighted_adds", "changed"), ("double_adds", "changed")}


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
    (proj.path / ".gitignore").write_text("*.duckdb\n__pycache__/\n")
    commit_all(proj.path)
    assert "no metric" in ok(cs("diff", "--against", "git:HEAD", project=proj.path)).stdout
    write_module(proj.path, V2)
    assert changed(cs("diff", "--against", "git:HEAD", "--format", "json", project=proj.path)) == BOTH_CHANGED
    # a metric the working tree adds, against the commit
    (proj.path / "team_metrics.py").write_text((proj.path / "team_metrics.py").read_text() + '''

@hookimpl
def csframe_register_metrics(registrar):
    registrar.metric(Metric("another", "count", "another", (Variant("default", "customers_end"),)))
''')
    r = ok(cs("diff", "--against", "git:HEAD", "--format", "json", project=proj.path))
    assert ("another", "added") in {(c["metric"], c["status"]) for c in json.loads(r.stdout)}
    expect(cs("diff", "--against", "git:no-such-ref", project=proj.path), 2, "no-such-ref")


def test_diff_against_git_with_the_project_in_a_subdirectory_of_the_repository(proj, tmp_path):
    """The layout of docs/schedulers.md: the repository's root holds other things, the
    project is ``metrics/``; from inside it, and with ``--project metrics`` from the root."""
    repo = tmp_path / "repo"
    project = repo / "metrics"
    shutil.copytree(proj.path, project)
    (repo / ".gitignore").write_text("*.duckdb\n__pycache__/\n")
    (repo / "README.md").write_text("the team's repository\n")
    commit_all(repo)
    from_inside = ("diff", "--against", "git:HEAD", "--format", "json")
    from_root = ("diff", "--project", "metrics", "--against", "git:HEAD", "--format", "json")
    assert changed(cs(*from_inside, cwd=project)) == set()
    assert changed(cs(*from_root, cwd=repo)) == set()
    write_module(project, V2)
    assert changed(cs(*from_inside, cwd=project)) == BOTH_CHANGED
    assert changed(cs(*from_root, cwd=repo)) == BOTH_CHANGED
    # a project that moved since: no csframe.toml there at the commit
    shutil.copytree(project, repo / "moved" / "metrics")
    expect(cs("diff", "--against", "git:HEAD", cwd=repo / "moved" / "metrics"), 2, "moved/metrics", "at that commit")


WITH_HELPER = '''
from csframe.core.hookspecs import hookimpl
from csframe.core.models import Metric, Variant
from team_formulas import WEIGHTED


@hookimpl
def csframe_register_metrics(registrar):
    registrar.metric(Metric("weighted_adds", "count", "net adds, weighted", (Variant("default", WEIGHTED),)))
    registrar.metric(Metric("double_adds", "count", "twice weighted_adds",
                            (Variant("default", "ref('weighted_adds') * 2"),)))
'''


def test_diff_against_git_sees_a_change_in_a_module_the_plugin_module_imports(proj):
    (proj.path / "team_metrics.py").write_text(WITH_HELPER)
    (proj.path / "team_formulas.py").write_text('WEIGHTED = "customers_end - customers_start"\n')
    (proj.path / ".gitignore").write_text("*.duckdb\n__pycache__/\n")
    commit_all(proj.path)
    assert changed(cs("diff", "--against", "git:HEAD", "--format", "json", project=proj.path)) == set()
    (proj.path / "team_formulas.py").write_text('WEIGHTED = "(customers_end - customers_start) * 3"\n')
    shutil.rmtree(proj.path / "__pycache__", ignore_errors=True)
    assert changed(cs("diff", "--against", "git:HEAD", "--format", "json", project=proj.path)) == BOTH_CHANGED


def test_a_git_ref_is_never_an_option_of_git(proj, tmp_path):
    (proj.path / ".gitignore").write_text("*.duckdb\n__pycache__/\n")
    sha = commit_all(proj.path)
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me\n")
    for ref in (f"--output={victim}", "-h", f"--remote={tmp_path}"):
        expect(cs("diff", "--against", f"git:{ref}", project=proj.path), 2, "cannot start with '-'", "git:HEAD")
    assert victim.read_text() == "keep me\n"
    expect(cs("diff", "--against", "git:", project=proj.path), 2, "names no ref")
    for not_a_commit in ("HEAD^{tree}", "HEAD:csframe.toml", "HEAD --output=x", "no-such-ref"):
        expect(cs("diff", "--against", f"git:{not_a_commit}", project=proj.path), 2, "no commit", not_a_commit)
    for good in ("HEAD~0", sha, sha[:10], git(proj.path, "branch", "--show-current")):
        assert "no metric" in ok(cs("diff", "--against", f"git:{good}", project=proj.path)).stdout
    outside = tmp_path / "not-a-repo"
    shutil.copytree(proj.path, outside, ignore=shutil.ignore_patterns(".git"))
    expect(cs("diff", "--against", "git:HEAD", project=outside), 2, "not in a git repository", "--against TABLE")


PG_NO_SECRETS = '''[adapter]
name = "postgres"
dsn = "${CSFRAME_TEST_UNSET_DSN}"
schema = "${CSFRAME_TEST_UNSET_SCHEMA}"

[sources.subscriptions]
table = "subscriptions"

[plugins]
modules = ["team_metrics"]
'''


def test_diff_against_git_needs_none_of_the_engines_settings(tmp_path, monkeypatch):
    for name in ("CSFRAME_TEST_UNSET_DSN", "CSFRAME_TEST_UNSET_SCHEMA", "CSFRAME_TEST_UNSET_WEIGHT"):
        monkeypatch.delenv(name, raising=False)
    project = tmp_path / "pg"
    project.mkdir()
    (project / "csframe.toml").write_text(PG_NO_SECRETS)
    write_module(project, V1)
    (project / ".gitignore").write_text("__pycache__/\n")
    commit_all(project)
    assert changed(cs("diff", "--against", "git:HEAD", "--format", "json", project=project)) == set()
    write_module(project, V2)
    assert changed(cs("diff", "--against", "git:HEAD", "--format", "json", project=project)) == BOTH_CHANGED
    # a target table is read on the engine: its settings are needed
    expect(cs("diff", "--against", "cs_metrics", project=project), 2, "CSFRAME_TEST_UNSET_DSN is not set")
    # the parameters are part of the fingerprints: their ${ENV} is expanded as ever
    weight = '\n[parameters]\nadds_weight = "${CSFRAME_TEST_UNSET_WEIGHT}"\n'
    (project / "csframe.toml").write_text(PG_NO_SECRETS + weight)
    expect(cs("diff", "--against", "git:HEAD", project=project), 2, "parameters.adds_weight",
           "CSFRAME_TEST_UNSET_WEIGHT is not set")


def test_diff_against_a_table_retries_the_connection_as_compute_does(tmp_path):
    path = unreachable_pg(tmp_path / "pg")
    t0 = time.monotonic()
    r = expect(cs("diff", "--against", "cs_metrics", "--retries", "2", project=path), 3, "gave up after 2 retries")
    assert time.monotonic() - t0 >= 0.6  # 0.25 s + 0.5 s, ±10 %
    retries = [line for line in r.stderr.splitlines() if "retry" in line]
    assert [line.split("retry ")[1].split(" in ")[0] for line in retries] == ["1/2", "2/2"], r.stderr
    r = expect(cs("diff", "--against", "cs_metrics", "--retries", "0", project=path), 3, "cannot connect")
    assert "retry" not in r.stderr and "gave up" not in r.stderr
    # the first retry waits 0.25 s, the second would wait 0.5 s: past a 0.5 s limit
    expect(cs("diff", "--against", "cs_metrics", "--retries", "5", "--timeout", "0.5", project=path), 1,
           "time limit of 0.5 s", "connect", "--timeout")
    expect(cs("diff", "--against", "cs_metrics", "--timeout", "0", project=path), 2, "--timeout 0")
    expect(cs("diff", "--against", "cs_metrics", "--retries", "-1", project=path), 2, "--retries")
