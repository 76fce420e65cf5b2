"""The errors a plugin author meets that ``tests/plugins/test_plugins.py`` does not pin yet: each
test pins the message, which names the plugin (and the node, metric or parameter) and says what
to do, and the exit code (2: the definitions are wrong).

Registration errors are met when a session opens; an unknown column in a node's SQL only when an
engine binds the query, so it is pinned where it can be met: ``csframe check`` (which runs every
node on empty sources), the test kit (which finds the failing node when a computation fails), and
:func:`csframe.core.verify.explain_failure`, the piece a session would call for ``compute``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from csframe.core.errors import DefinitionError, MetricFailedError, PluginError
from csframe.core.project import Project, SourceBinding
from csframe.core.session import Session
from csframe.core.verify import explain_failure
from tests.support.in_process import csframe

CSFRAME = shutil.which("csframe") or str(Path(sys.executable).parent / "csframe")

HEADER = '''
from csframe.core.hookspecs import hookimpl
from csframe.core.models import Example, Measure, Metric, Node, Parameter, Variant
'''


@pytest.fixture
def plugin(tmp_path, monkeypatch):
    """plugin(name, source) writes ``name.py`` into a project directory (also put on sys.path)
    and returns that directory; the module is forgotten afterwards."""
    names: list[str] = []
    monkeypatch.syspath_prepend(str(tmp_path))

    def write(name: str, source: str) -> Path:
        (tmp_path / f"{name}.py").write_text(HEADER + textwrap.dedent(source), encoding="utf-8")
        names.append(name)
        sys.modules.pop(name, None)
        return tmp_path

    yield write
    for name in names:
        sys.modules.pop(name, None)


def open_with(directory: Path, module: str) -> Session:
    return Session.open(project=Project(dir=directory, plugin_modules=(module,)), entry_points=False)


def fails(directory: Path, module: str, kind: type[Exception]) -> Exception:
    with pytest.raises(kind) as e:
        open_with(directory, module)
    assert e.value.exit_code == 2
    return e.value


# -- node SQL: sources, tables and parameters it reads (found when the plugin registers) -----------

def test_unknown_source_in_node_sql(plugin):
    d = plugin("typo_source", '''
    @hookimpl
    def csframe_register_metrics(registrar):
        registrar.node(Node("typo_source_counts", "x", """
            SELECT grp, BUCKET(occurred_at) AS period_start, COUNT(*) AS typo_source_events
            FROM src_evnts GROUP BY grp, BUCKET(occurred_at)""", measures=(Measure("typo_source_events", "x"),)))
    ''')
    e = fails(d, "typo_source", DefinitionError)
    assert e.message == ("1 problem(s) in the registered definitions:\n"
                         "  plugin 'typo_source', node typo_source_counts: unknown source src_evnts. Did you mean 'events'?")
    assert e.hint == "Fix the definitions named above (or disable their plugin under [plugins] disable)."


def test_source_read_without_src_prefix(plugin):
    d = plugin("bare_table", '''
    @hookimpl
    def csframe_register_metrics(registrar):
        registrar.node(Node("bare_table_counts", "x", """
            SELECT grp, BUCKET(occurred_at) AS period_start, COUNT(*) AS bare_table_events
            FROM events GROUP BY grp, BUCKET(occurred_at)""", measures=(Measure("bare_table_events", "x"),)))
    ''')
    e = fails(d, "bare_table", DefinitionError)
    assert ("plugin 'bare_table', node bare_table_counts: reads unknown node or table 'events'. "
            "Sources are read as src_<source>.") in e.message


def test_unknown_parameter_in_node_sql(plugin):
    d = plugin("typo_param", '''
    @hookimpl
    def csframe_register_metrics(registrar):
        registrar.node(Node("typo_param_counts", "x", """
            SELECT grp, BUCKET(occurred_at) AS period_start, COUNT(*) AS typo_param_events
            FROM src_events WHERE name = :event_nmae GROUP BY grp, BUCKET(occurred_at)""",
            measures=(Measure("typo_param_events", "x"),)))
    ''')
    e = fails(d, "typo_param", DefinitionError)
    assert "plugin 'typo_param', node typo_param_counts: unknown parameter :event_nmae." in e.message
    assert "[plugins] disable" in e.hint


# -- bad formulas ---------------------------------------------------------------------------------

def test_bad_formula_in_a_variant_of_a_built_in_metric(plugin):
    d = plugin("bad_variant", '''
    @hookimpl
    def csframe_register_metrics(registrar):
        registrar.variant("churn_rate", Variant("floor_div", "churned_customers // customers_start"))
    ''')
    e = fails(d, "bad_variant", DefinitionError)
    assert e.message.startswith("plugin 'bad_variant', metric churn_rate:floor_div: "
                                "formula 'churned_customers // customers_start' does not parse: ")
    assert "measure names, ref('metric'[, 'variant']), param('name') and safe_div(a, b)" in e.hint


def test_bad_node_sql_says_what_a_node_is(plugin):
    d = plugin("bad_sql", '''
    @hookimpl
    def csframe_register_metrics(registrar):
        registrar.node(Node("bad_sql_counts", "x", "SELECT grp, FROM WHERE", measures=(Measure("bad_sql_n", "x"),)))
    ''')
    e = fails(d, "bad_sql", DefinitionError)
    assert e.message.startswith("plugin 'bad_sql', node 'bad_sql_counts': SQL does not parse: ")
    assert "one dialect-neutral SELECT" in e.hint


def test_invalid_metric_name_names_the_module(plugin):
    d = plugin("bad_name", '''
    METRIC = Metric("Seat Count", "count", "x", (Variant("default", "customers_end"),))
    ''')
    e = fails(d, "bad_name", PluginError)
    assert e.message == ("cannot load project plugin module 'bad_name': ValueError: Metric.name 'Seat Count' is not a "
                         "valid name (lower-case letters, digits and '_', starting with a letter)")
    assert e.hint == "Fix the module, or list it under [plugins] disable in csframe.toml."


# -- duplicate names --------------------------------------------------------------------------------

def test_duplicate_node_name(plugin):
    d = plugin("dup_node", '''
    @hookimpl
    def csframe_register_metrics(registrar):
        registrar.node(Node("invoice_periods", "x", """
            SELECT grp, BUCKET(paid_at) AS period_start, COUNT(*) AS dup_node_n FROM src_invoices
            GROUP BY grp, BUCKET(paid_at)""", measures=(Measure("dup_node_n", "x"),)))
    ''')
    e = fails(d, "dup_node", PluginError)
    assert e.message == "plugin 'dup_node': node 'invoice_periods' is already registered by plugin 'csframe.definitions.revenue'"
    assert e.hint == "Rename the node (node names are global)."


def test_duplicate_measure_name(plugin):
    d = plugin("dup_measure", '''
    @hookimpl
    def csframe_register_metrics(registrar):
        registrar.node(Node("dup_measure_mrr", "x", """
            SELECT grp, BUCKET(paid_at) AS period_start, SUM(amount) AS mrr_end FROM src_invoices
            GROUP BY grp, BUCKET(paid_at)""", measures=(Measure("mrr_end", "x"),)))
    ''')
    e = fails(d, "dup_measure", PluginError)
    assert e.message == ("plugin 'dup_measure': measure 'mrr_end' of node 'dup_measure_mrr' is already provided by node "
                         "'sub_levels' (plugin 'csframe.definitions.revenue')")
    assert e.hint == "Measure names are global; rename yours."


def test_parameter_declared_twice_differently(plugin):
    d = plugin("dup_param", '''
    @hookimpl
    def csframe_register_metrics(registrar):
        registrar.parameter(Parameter("dup_param_days", 7, "a window", kind="int"))
        registrar.parameter(Parameter("dup_param_days", 14, "another window", kind="int"))
    ''')
    e = fails(d, "dup_param", PluginError)
    assert e.message == "plugin 'dup_param': parameter 'dup_param_days' is already declared differently by plugin 'dup_param'"
    assert "rename yours" in e.hint


def test_duplicate_adapter_name(plugin):
    d = plugin("dup_adapter", '''
    @hookimpl
    def csframe_register_adapters(register):
        register("duckdb", object)
    ''')
    e = fails(d, "dup_adapter", PluginError)
    assert e.message == "plugin 'dup_adapter': adapter 'duckdb' is already registered by plugin 'csframe.adapters.duckdb'"
    assert e.hint == "Register yours under another name (adapter names are global)."


def test_default_variant_that_does_not_exist(plugin):
    d = plugin("bad_default", '''
    @hookimpl
    def csframe_register_metrics(registrar):
        registrar.default_variant("churn_rate", "net_los")
    ''')
    e = fails(d, "bad_default", PluginError)
    assert e.message == ("plugin 'bad_default': metric 'churn_rate' has no variant 'net_los' to make default. "
                         "Did you mean 'net_loss'?")
    assert e.hint.startswith("Its variants: lost_over_start, net_loss, lost_over_active, chartmogul_daily, stripe, "
                             "baremetrics; add yours with registrar.variant()")


def test_variant_for_unknown_metric_says_what_to_do(plugin):
    d = plugin("orphan_variant", '''
    @hookimpl
    def csframe_register_metrics(registrar):
        registrar.variant("seats", Variant("mine", "customers_end"))
    ''')
    e = fails(d, "orphan_variant", PluginError)
    assert e.message.startswith("plugin 'orphan_variant': cannot add variant 'mine' to unknown metric 'seats'.")
    assert "registrar.metric() first" in e.hint


# -- hook signatures and calls ----------------------------------------------------------------------

def test_wrong_signature_of_another_hook(plugin):
    d = plugin("bad_adapter_hook", '''
    @hookimpl
    def csframe_register_adapters(registrar):
        pass
    ''')
    e = fails(d, "bad_adapter_hook", PluginError)
    assert e.message.startswith("plugin 'bad_adapter_hook' has a bad hook: ")
    assert "csframe_register_adapters(registrar)" in e.message
    assert "{'registrar'} are declared in the hookimpl but can not be found in the hookspec" in e.message
    assert e.hint == "Check the hook's name and parameters against docs/hooks.md."


def test_registrar_called_wrongly(plugin):
    d = plugin("wrong_call", '''
    @hookimpl
    def csframe_register_metrics(registrar):
        registrar.metric("seats", "count")
    ''')
    e = fails(d, "wrong_call", PluginError)
    assert e.message == ("plugin 'wrong_call' failed in csframe_register_metrics: TypeError: "
                         "Registrar.metric() takes 2 positional arguments but 3 were given")
    assert e.hint == "Fix the plugin, or list it under [plugins] disable in csframe.toml."


# -- several mistakes: every one reported in one run ----------------------------------------------

def test_every_registration_mistake_of_every_plugin_is_reported_at_once(plugin):
    d = plugin("many_mistakes", '''
    @hookimpl
    def csframe_register_metrics(registrar):
        registrar.metric(Metric("many_a", "count", "a", (Variant("default", "customers_end +"),)))
        registrar.metric(Metric("mrr", "money", "again", (Variant("default", "customers_end"),)))
        registrar.node(Node("many_n", "n", "SELECT grp, BUCKET(occurred_at) AS period_start, COUNT(*) AS many_e "
                            "FROM src_evnts GROUP BY grp, BUCKET(occurred_at)", measures=(Measure("many_e", "e"),)))
        registrar.metric(Metric("many_b", "count", "b", (Variant("default", "many_e + nosuch_measure"),)))
    ''')
    plugin("broken_hook", '''
    @hookimpl
    def csframe_register_metrics(registrar):
        registrar.metric(Metric("broken_x", "count", "x", (Varaint("default", "customers_end"),)))
    ''')
    with pytest.raises(DefinitionError) as e:
        Session.open(project=Project(dir=d, plugin_modules=("many_mistakes", "broken_hook")), entry_points=False)
    lines = e.value.message.splitlines()
    assert lines[0] == "5 problem(s) in the registered definitions:"
    assert lines[1].startswith("  plugin 'many_mistakes', metric many_a:default: formula 'customers_end +' does not "
                               "parse")
    assert lines[2:] == [
        "  plugin 'many_mistakes': metric 'mrr' is already registered by plugin 'csframe.definitions.revenue'",
        "  plugin 'broken_hook' failed in csframe_register_metrics: NameError: name 'Varaint' is not defined",
        "  plugin 'many_mistakes', metric many_b:default: unknown measure 'nosuch_measure' in formula.",
        "  plugin 'many_mistakes', node many_n: unknown source src_evnts. Did you mean 'events'?",
    ]
    assert e.value.exit_code == 2


def test_an_exception_of_any_kind_in_a_hook_names_the_plugin(plugin):
    d = plugin("raising", '''
    @hookimpl
    def csframe_register_metrics(registrar):
        raise RuntimeError("the plugin's own bug")
    ''')
    e = fails(d, "raising", PluginError)
    assert e.message == "plugin 'raising' failed in csframe_register_metrics: RuntimeError: the plugin's own bug"
    assert e.hint == "Fix the plugin, or list it under [plugins] disable in csframe.toml."


# -- cycles, through csframe check -------------------------------------------------------------------

def cs(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "CSFRAME_DEBUG"}
    return csframe([CSFRAME, *args], env, cwd=cwd, timeout=120)


def check_project(directory: Path, module: str) -> Path:
    (directory / "csframe.toml").write_text(f'[plugins]\nmodules = ["{module}"]\n', encoding="utf-8")
    return directory


def test_cycle_in_csframe_check(plugin):
    d = check_project(plugin("cyclic", '''
    @hookimpl
    def csframe_register_metrics(registrar):
        registrar.metric(Metric("cyclic_a", "count", "a", (Variant("default", "ref('cyclic_b')"),)))
        registrar.metric(Metric("cyclic_b", "count", "b", (Variant("default", "ref('cyclic_a') + 1"),)))
    '''), "cyclic")
    r = cs("check", "--project", str(d))
    assert r.returncode == 2, r.stdout + r.stderr
    assert r.stderr.splitlines() == [
        "error: cycles in the definitions:",
        "  cycle in metric references: cyclic_a:default → cyclic_b:default → cyclic_a:default (plugin 'cyclic')",
        "  A metric cannot be built from itself; change one of these formulas."], r.stderr


def test_a_cycle_across_plugins_names_each_metric_s_plugin(plugin):
    d = plugin("cycle_one", '''
    @hookimpl
    def csframe_register_metrics(registrar):
        registrar.metric(Metric("loop_x", "count", "x", (Variant("default", "ref('loop_y')"),)))
    ''')
    plugin("cycle_two", '''
    @hookimpl
    def csframe_register_metrics(registrar):
        registrar.metric(Metric("loop_y", "count", "y", (Variant("default", "ref('loop_x') * 2"),)))
    ''')
    s = Session.open(project=Project(dir=d, plugin_modules=("cycle_one", "cycle_two")), entry_points=False)
    with pytest.raises(DefinitionError) as e:
        s.compute(["loop_y"], start="2024-01-01", end="2024-02-01")
    assert e.value.message == ("cycle in metric references: loop_x:default → loop_y:default → loop_x:default "
                               "(plugins 'cycle_one' (loop_x:default), 'cycle_two' (loop_y:default))")
    assert e.value.exit_code == 2


def test_a_cycle_of_nodes_names_the_plugin_and_says_what_to_do(plugin):
    d = plugin("node_loop", '''
    @hookimpl
    def csframe_register_metrics(registrar):
        registrar.node(Node("node_loop_a", "a", "SELECT grp, period_start, n AS node_loop_n FROM node_loop_b",
                            measures=(Measure("node_loop_n", "n"),)))
        registrar.node(Node("node_loop_b", "b", "SELECT grp, period_start, node_loop_n AS n FROM node_loop_a"))
        registrar.metric(Metric("node_loop", "count", "n", (Variant("default", "node_loop_n"),)))
    ''')
    s = open_with(d, "node_loop")
    with pytest.raises(DefinitionError) as e:
        s.compute(["node_loop"], start="2024-01-01", end="2024-02-01")
    assert e.value.message == "cycle in nodes: node_loop_a → node_loop_b → node_loop_a (plugin 'node_loop')"
    assert e.value.hint == "A node cannot read itself, even through other nodes; change one of their SQL."


# -- an unknown column in a node's SQL: found when an engine binds it ---------------------------------

TYPO_COLUMN = '''
@hookimpl
def csframe_register_metrics(registrar):
    registrar.node(Node("typo_column_users", "users with an event, per period", """
        SELECT grp, BUCKET(occured_at) AS period_start, COUNT(DISTINCT user_id) AS typo_column_users
        FROM src_events GROUP BY grp, BUCKET(occured_at)""", measures=(Measure("typo_column_users", "x"),)))
    registrar.metric(Metric("typo_column", "count", "x", (Variant("default", "typo_column_users"),)))
'''

NO_PERIOD = '''
@hookimpl
def csframe_register_metrics(registrar):
    registrar.node(Node("no_period_users", "users with an event, per period", """
        SELECT grp, BUCKET(occurred_at) AS period, COUNT(DISTINCT user_id) AS no_period_users
        FROM src_events GROUP BY grp, BUCKET(occurred_at)""", measures=(Measure("no_period_users", "x"),)))
    registrar.metric(Metric("no_period", "count", "x", (Variant("default", "no_period_users"),)))
'''


def test_unknown_column_in_csframe_check(plugin):
    d = check_project(plugin("typo_column", TYPO_COLUMN), "typo_column")
    r = cs("check", "--project", str(d))
    assert r.returncode == 2, r.stdout + r.stderr
    lines = r.stderr.splitlines()
    assert lines[0] == "error: 1 node(s) whose SQL fails:"
    assert lines[1].startswith("  plugin 'typo_column', node 'typo_column_users' (run on empty sources in duckdb): "
                               'Binder Error: Referenced column "occured_at" not found')
    assert '"occurred_at"' in lines[1]  # DuckDB's candidate
    assert lines[2] == "  Fix the node's SQL in its plugin (or disable the plugin under [plugins] disable)."


def test_node_without_period_start_in_csframe_check(plugin):
    d = check_project(plugin("no_period", NO_PERIOD), "no_period")
    r = cs("check", "--project", str(d))
    assert r.returncode == 2, r.stdout + r.stderr
    assert ("  plugin 'no_period', node 'no_period_users' (run on empty sources in duckdb): outputs no column "
            "period_start (a node with measures outputs grp, period_start and each measure; it outputs grp, period, "
            "no_period_users)") in r.stderr, r.stderr


EVENTS = """
user_id | customer_id | name  | occurred_at
u1      | c1          | login | 2024-03-02 10:00
"""


def test_unknown_column_through_the_test_kit(plugin, csframe_case):
    plugin("typo_column", TYPO_COLUMN)
    with pytest.raises(MetricFailedError) as e:
        csframe_case(rows={"events": EVENTS}, metric="typo_column", period="2024-03-01", expected=1,
                     modules=["typo_column"])
    engine = csframe_case.engine
    assert e.value.message.startswith(f"node 'typo_column_users' of plugin 'typo_column' fails on {engine}: ")
    assert "occured_at" in e.value.message
    assert "src_<source> (the columns docs/sources.md lists, plus grp)" in e.value.hint


def test_node_without_period_start_through_the_test_kit(plugin, csframe_case):
    plugin("no_period", NO_PERIOD)
    with pytest.raises(MetricFailedError) as e:
        csframe_case(rows={"events": EVENTS}, metric="no_period", period="2024-03-01", expected=1,
                     modules=["no_period"])
    assert e.value.message == (f"node 'no_period_users' of plugin 'no_period' fails on {csframe_case.engine}: outputs "
                               "no column period_start (a node with measures outputs grp, period_start and each "
                               "measure; it outputs grp, period, no_period_users)")


def test_explain_failure_restates_the_engines_error(plugin, tmp_path):
    # compute restates the engine's error as the node and plugin whose SQL is wrong
    d = plugin("typo_column", TYPO_COLUMN)
    import duckdb

    with duckdb.connect(str(tmp_path / "d.duckdb")) as con:
        con.execute("CREATE TABLE events AS SELECT 'u1' AS user_id, 'c1' AS customer_id, 'login' AS name, "
                    "TIMESTAMP '2024-03-02 10:00' AS occurred_at")
    project = Project(dir=d, adapter={"name": "duckdb", "database": str(tmp_path / "d.duckdb")},
                      sources={"events": SourceBinding("events", table="events")}, plugin_modules=("typo_column",))
    with Session.open(project=project, entry_points=False) as s:
        with pytest.raises(MetricFailedError) as e:
            s.compute(["typo_column"], start="2024-03-01", end="2024-04-01")
        assert "node 'typo_column_users' of plugin 'typo_column' fails on duckdb" in e.value.message
        assert "occured_at" in e.value.message
        plan = s.plan(s.request(s.keys(["typo_column"]), start="2024-03-01", end="2024-04-01"))
        compiled, _ = s.compile(plan)
        better = explain_failure(s.registry, compiled, s.registry.adapters["duckdb"][1], s.adapter(), e.value, "duckdb")
    assert better.message.startswith("node 'typo_column_users' of plugin 'typo_column' fails on duckdb: Binder Error: "
                                     'Referenced column "occured_at" not found in FROM clause!')
    assert "LINE" not in better.message  # the engine's line numbers are of the one query, not of the node
