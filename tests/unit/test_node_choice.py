"""A node's alternatives (``Node.alternative_to``) and the planner's choice between them
(core/node_choice.py): ``mrr`` alone reads M(p.end) from ``sub_mrr_levels`` (the +/- events
summed per period) instead of ``sub_levels`` and its per-customer steps; any run that computes
those steps anyway keeps ``sub_levels``. The numbers of both routes are checked equal on
engines elsewhere (tests/engine/test_revenue_fixtures.py computes ``mrr`` and ``arr`` alone
against hand-worked values; test_engines_equal.py, the catalog and ``mrr`` alone)."""

from __future__ import annotations

import re
import sys
import textwrap
from pathlib import Path

import attrs
import pytest

from csframe.core.contract import SOURCES as CONTRACT
from csframe.core.errors import DefinitionError
from csframe.core.fingerprint import fingerprints
from csframe.core.project import Project, SourceBinding
from csframe.core.session import Session

SOURCES = tuple(s.name for s in CONTRACT)
PER_CUSTOMER = {"sub_customer_periods", "sub_movements", "sub_levels"}


@pytest.fixture(scope="module")
def s():
    project = Project(dir=".", adapter={"name": "duckdb"}, sources={n: SourceBinding(n, table=n) for n in SOURCES})
    with Session.open(project=project, entry_points=False) as session:
        yield session


def plan(s, metrics, **kwargs):
    return s.plan(s.request(s.keys(metrics), start="2024-01-01", end="2024-04-01", **kwargs))


@pytest.mark.parametrize("metrics", [["mrr"], ["arr"], ["mrr", "arr"]])
def test_mrr_alone_reads_the_levels_from_the_events_per_period(s, metrics):
    p = plan(s, metrics)
    assert p.providers == {"mrr_end": "sub_mrr_levels"}
    assert p.nodes == ("sub_rows", "sub_mrr_levels")
    assert p.sources == ("subscriptions",)
    steps = set(re.findall(r"(\w+) AS (?:MATERIALIZED )?\(\n  (?:WITH|/\* step)", s.compile(p, "duckdb")[1]))
    assert "sub_mrr_levels" in steps and not steps & PER_CUSTOMER


def test_the_alternative_serves_every_group_of_by(s):
    p = plan(s, ["mrr"], by=("segment",))
    assert p.providers == {"mrr_end": "sub_mrr_levels"}
    assert p.sources == ("subscriptions", "customers")


@pytest.mark.parametrize("metrics, why", [
    (["mrr", "customers"], "customers_end is sub_levels' too, and the alternative has none"),
    (["mrr", "new_mrr"], "the per-customer steps are computed for new_mrr anyway: sub_levels adds only itself"),
    (["mrr", "churn_rate"], "customers_start"),
    (["arpu:mrr"], "mrr_end / customers_end"),
])
def test_a_run_that_computes_the_per_customer_steps_anyway_keeps_sub_levels(s, metrics, why):
    p = plan(s, metrics)
    assert p.providers == {}, why
    assert "sub_levels" in p.nodes and "sub_mrr_levels" not in p.nodes


def test_a_step_that_reads_sub_levels_itself_keeps_it(s):
    p = plan(s, ["mrr", "revenue_retention"], by=("cohort",))  # the cohort node reads sub_levels
    assert p.providers == {} and "sub_levels" in p.nodes


def test_on_windows_only_an_alternative_defined_on_them_is_chosen(s):
    assert plan(s, ["mrr"], window="3m").providers == {}  # sub_mrr_levels says nothing of windows


def test_the_choice_leaves_the_definitions_and_fingerprints_alone(s):
    alone, shared = plan(s, ["mrr"]), plan(s, ["mrr", "customers"])
    mrr = s.keys(["mrr"])[0]
    assert alone.closure(mrr) == shared.closure(mrr)
    assert "sub_levels" in alone.closure(mrr).nodes  # the definition: M is sub_levels' measure
    assert (fingerprints(s.registry, s.graph, [mrr], {}, alone.closures)
            == fingerprints(s.registry, s.graph, [mrr], {}, shared.closures))


def test_a_changed_alternative_changes_the_fingerprints_of_what_it_may_compute(s):
    keys = s.keys(["mrr", "customers", "new_mrr", "renewal_rate"])
    before = fingerprints(s.registry, s.graph, keys, {})
    reg = attrs.evolve(s.registry, nodes=dict(s.registry.nodes))
    rn = reg.nodes["sub_mrr_levels"]
    reg.nodes["sub_mrr_levels"] = attrs.evolve(rn, parsed=attrs.evolve(rn.parsed, tree=rn.parsed.tree.copy().where("1 = 0")))
    graph = attrs.evolve(s.graph, registry=reg)
    after = fingerprints(reg, graph, keys, {})
    assert {k[0] for k in keys if after[k] != before[k]} == {"mrr", "customers"}  # those reading sub_levels


# -- registering an alternative ------------------------------------------------------------------

HEADER = '''
from csframe.core.hookspecs import hookimpl
from csframe.core.models import Measure, Node
'''
LEVELS = """SELECT g.grp, g.period_start, 0 AS mrr_start, 0 AS mrr_end FROM grid AS g"""


@pytest.fixture
def plugin(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(tmp_path))
    names: list[str] = []

    def write(name: str, nodes: str) -> Path:
        body = f"\n@hookimpl\ndef csframe_register_metrics(registrar):\n    for node in ({nodes}):\n" \
               "        registrar.node(node)\n"
        (tmp_path / f"{name}.py").write_text(HEADER + textwrap.dedent(body), encoding="utf-8")
        names.append(name)
        sys.modules.pop(name, None)
        return tmp_path

    yield write
    for name in names:
        sys.modules.pop(name, None)


def problems(directory: Path, module: str) -> list[str]:
    with pytest.raises(DefinitionError) as e:
        Session.open(project=Project(dir=directory, plugin_modules=(module,)), entry_points=False)
    assert e.value.exit_code == 2
    return [line.strip() for line in e.value.message.splitlines()[1:]]


@pytest.mark.parametrize("node, problem", [
    (f'Node("alt_x", "x", "{LEVELS}", measures=(Measure("mrr_end", "x"),), alternative_to="sub_levelz")',
     "alternative_to names unknown node 'sub_levelz'. Did you mean 'sub_levels' or 'sub_mrr_levels'?"),
    (f'Node("alt_x", "x", "{LEVELS}", measures=(Measure("mrr_ends", "x"),), alternative_to="sub_levels")',
     "measure 'mrr_ends' is not a measure of node 'sub_levels'. Did you mean 'mrr_end'?"),
    (f'Node("alt_x", "x", "{LEVELS}", measures=(Measure("mrr_end", "x", fill=None),), alternative_to="sub_levels")',
     "measure 'mrr_end' has fill=None, key=None; node 'sub_levels' has fill=0, key=None"),
    (f'Node("alt_x", "x", "{LEVELS}", alternative_to="sub_levels")', "declares no measure of node 'sub_levels'"),
    ('Node("alt_x", "x", "SELECT grp, BUCKET(paid_at) AS period_start, SUM(amount) AS mrr_end FROM src_invoices '
     'GROUP BY grp, BUCKET(paid_at)", measures=(Measure("mrr_end", "x"),), alternative_to="sub_levels")',
     "reads source(s) invoices, which node 'sub_levels' does not"),
    ('Node("alt_x", "x", "SELECT grp, period_start, mrr_end FROM sub_levels", measures=(Measure("mrr_end", "x"),), '
     'alternative_to="sub_levels")', "reads node 'sub_levels', to which it is an alternative"),
    (f'Node("alt_x", "x", "{LEVELS}", measures=(Measure("mrr_end", "x"),), alternative_to="sub_mrr_levels")',
     "alternative_to names node 'sub_mrr_levels', itself an alternative (to 'sub_levels'); name 'sub_levels'"),
])
def test_a_wrong_alternative_is_named_with_its_plugin(plugin, node, problem):
    d = plugin("alt_plugin", node + ",")
    assert problems(d, "alt_plugin") == [f"plugin 'alt_plugin', node alt_x: {problem}"]


def test_an_alternative_measure_is_not_a_second_provider(plugin):
    d = plugin("alt_ok", f'Node("alt_x", "x", "{LEVELS}", measures=(Measure("mrr_end", "x"),), '
                         'alternative_to="sub_levels"),')
    with Session.open(project=Project(dir=d, plugin_modules=("alt_ok",)), entry_points=False) as session:
        assert session.registry.measures["mrr_end"][0] == "sub_levels"
        assert session.registry.alternatives["sub_levels"] == ["sub_mrr_levels", "alt_x"]



ALTERNATIVE_WITH_A_TYPO = HEADER + '''
from csframe.core.models import Metric, Variant


@hookimpl
def csframe_register_metrics(registrar):
    registrar.node(Node("alt_check_days", "x", """SELECT grp, BUCKET(occurred_at) AS period_start,
        COUNT(*) AS alt_check_events FROM src_events GROUP BY grp, BUCKET(occurred_at)"""))
    registrar.node(Node("alt_check_counts", "x", """SELECT grp, period_start, alt_check_events AS alt_check_n,
        1 AS alt_check_m FROM alt_check_days""", measures=(Measure("alt_check_n", "x"), Measure("alt_check_m", "x"))))
    registrar.node(Node("alt_check_fast", "x", """SELECT grp, BUCKET(occured_at) AS period_start,
        COUNT(*) AS alt_check_n FROM src_events GROUP BY grp, BUCKET(occured_at)""",
        measures=(Measure("alt_check_n", "x"),), alternative_to="alt_check_counts"))
    registrar.metric(Metric("alt_check", "count", "x", (Variant("default", "alt_check_n"),)))
    # in the plan of every variant alt_check_counts is read for alt_check_m: the alternative is not chosen there
    registrar.metric(Metric("alt_check_both", "count", "x", (Variant("default", "alt_check_n + alt_check_m"),)))
'''


def test_check_runs_each_alternative_once(tmp_path, monkeypatch):
    """An alternative runs only in plans that choose it; csframe check plans one such run for
    each, so a mistake in its SQL is found before a run meets it."""
    from csframe.core.verify import check_node_sql

    monkeypatch.syspath_prepend(str(tmp_path))
    (tmp_path / "alt_check.py").write_text(ALTERNATIVE_WITH_A_TYPO, encoding="utf-8")
    sys.modules.pop("alt_check", None)
    try:
        project = Project(dir=tmp_path, plugin_modules=("alt_check",), adapter={"name": "duckdb"},
                          sources={n: SourceBinding(n, table=n) for n in SOURCES})
        with Session.open(project=project, entry_points=False) as s:
            alone = s.plan(s.request(s.keys(["alt_check"]), start="2024-01-01", end="2024-02-01"))
            assert alone.providers == {"alt_check_n": "alt_check_fast"}
            both = s.plan(s.request(s.keys(["alt_check", "alt_check_both"]), start="2024-01-01", end="2024-02-01"))
            assert both.providers == {}
            _, problems = check_node_sql(s.registry, s.graph, {}, tmp_path, "duckdb")
    finally:
        sys.modules.pop("alt_check", None)
    assert len(problems) == 1 and problems[0].startswith(
        "plugin 'alt_check', node 'alt_check_fast' (run on empty sources in duckdb): Binder Error"), problems
