"""Plugins end to end: the sample third-party package found through the ``csframe``
entry-point group, a project's local modules, ``[plugins] disable``, and the errors a
plugin author meets (each pinned: its class, its exit code and the key parts of its
message).

The sample package ``docs/examples/engaged-agents`` is pip-installed into a directory put on
``sys.path`` for this module, so these tests exercise the real entry-point path (its
``dist-info`` declares the ``csframe`` entry point), not a registered object.
"""

from __future__ import annotations

import datetime as dt
import importlib
import importlib.metadata
import re
import shutil
import subprocess
import sys
import textwrap
from decimal import Decimal
from pathlib import Path

import pytest

from csframe.core.errors import DefinitionError, PluginError, UsageError
from csframe.core.plugin_manager import load_plugins
from csframe.core.graph import cycles
from csframe.core.session import Session

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "docs" / "examples" / "engaged-agents"
DIST = "csframe-engaged-agents"

T = dt.datetime
JAN = dt.date(2024, 1, 1)
FEB = dt.date(2024, 2, 1)


# -- the sample third-party package -------------------------------------------------

def _installed() -> bool:
    importlib.invalidate_caches()
    try:
        importlib.metadata.distribution(DIST)
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


def _pip(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pip", *args], capture_output=True, text=True)


@pytest.fixture(scope="module")
def engaged_agents_installed(tmp_path_factory):
    """``pip install --target DIR docs/examples/engaged-agents``, DIR put first on ``sys.path``
    for this module's tests (csframe itself is already installed, hence --no-deps). Built from a
    copy, so the source tree stays clean; nothing is installed into the interpreter's own
    environment, so tests running beside these (another process, another module) never see it.

    --no-build-isolation builds with the environment's own setuptools, which needs
    setuptools ≥ 70.1 (or an older one plus ``wheel``); a fresh Python 3.11 venv has
    setuptools 65.5 without ``wheel`` (3.12+ has no setuptools at all), so when that fails
    the package is built in pip's isolated build environment instead."""
    assert not _installed(), f"{DIST} is installed in this environment: uninstall it to run these tests"
    build_dir = tmp_path_factory.mktemp("engaged-agents") / "engaged-agents"
    target = tmp_path_factory.mktemp("engaged-agents-site")
    shutil.copytree(SAMPLE, build_dir, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    done = _pip("install", "--no-deps", "--no-build-isolation", "-q", "--target", str(target), str(build_dir))
    if done.returncode != 0:
        first = done
        done = _pip("install", "--no-deps", "-q", "--target", str(target), str(build_dir))
        if done.returncode != 0:
            pytest.fail(f"pip install {SAMPLE} failed, without build isolation:\n{first.stdout}{first.stderr}\n"
                        f"and with it:\n{done.stdout}{done.stderr}", pytrace=False)
    sys.path.insert(0, str(target))
    importlib.invalidate_caches()
    try:
        module = importlib.import_module("csframe_engaged_agents")
        eps = [ep for ep in importlib.metadata.entry_points(group="csframe") if ep.name == "engaged_agents"]
        assert [ep.value for ep in eps] == ["csframe_engaged_agents"], eps
        yield module
    finally:
        sys.path.remove(str(target))
        sys.modules.pop("csframe_engaged_agents", None)
        importlib.invalidate_caches()


def _meeting(user: str, at: T, name: str = "meeting", customer: str | None = None) -> dict:
    return {"user_id": user, "customer_id": customer or f"c_{user}", "name": name, "occurred_at": at}


# January 2024: p.end = 2024-02-01, the window is [2024-01-25 00:00, 2024-02-01 00:00).
# February 2024 (leap year): p.end = 2024-03-01, the window is [2024-02-23, 2024-03-01).
EVENTS = [
    # u1: one meeting in January's window (and one earlier in the month, outside it) → 1
    _meeting("u1", T(2024, 1, 10, 9)),
    _meeting("u1", T(2024, 1, 30, 9)),
    # u2: two meetings in the window → 2
    _meeting("u2", T(2024, 1, 26, 9)),
    _meeting("u2", T(2024, 1, 31, 23, 59, 59)),
    # u3: three meetings in the window → 3
    _meeting("u3", T(2024, 1, 25, 12)),
    _meeting("u3", T(2024, 1, 27, 12)),
    _meeting("u3", T(2024, 1, 29, 12)),
    # u4: one exactly at p.end − 7 days (included) and one inside → 2
    _meeting("u4", T(2024, 1, 25, 0, 0, 0)),
    _meeting("u4", T(2024, 1, 31, 8)),
    # u5: one inside and one exactly at p.end (excluded; nor is it in February's window) → 1
    _meeting("u5", T(2024, 1, 28, 8)),
    _meeting("u5", T(2024, 2, 1, 0, 0, 0)),
    # u6: one a second before the window and one inside → 1
    _meeting("u6", T(2024, 1, 24, 23, 59, 59)),
    _meeting("u6", T(2024, 1, 26, 8)),
    # u7: one meeting and three events of other names (ignored) → 1
    _meeting("u7", T(2024, 1, 27, 8)),
    _meeting("u7", T(2024, 1, 27, 9), name="login"),
    _meeting("u7", T(2024, 1, 28, 9), name="login"),
    _meeting("u7", T(2024, 1, 29, 9), name="meeting_scheduled"),
    # u8: two meetings and one other event (ignored, so not 3) → 2
    _meeting("u8", T(2024, 1, 26, 10)),
    _meeting("u8", T(2024, 1, 30, 10)),
    _meeting("u8", T(2024, 1, 30, 11), name="Meeting"),
    # February: u1 has two meetings on the last two days of the leap month → 2
    _meeting("u1", T(2024, 2, 28, 9)),
    _meeting("u1", T(2024, 2, 29, 9)),
    # u2: two in February, but one of them on 2024-02-22 (before the window) → 1
    _meeting("u2", T(2024, 2, 22, 23)),
    _meeting("u2", T(2024, 2, 23, 1)),
]
# min_events = 2: January {u2, u3, u4, u8}, February {u1}; min_events = 3: January {u3}, February {}.


def _values(result, metric: str = "engaged_agents") -> dict[dt.date, float | None]:
    return {r["period_start"]: r["value"] for r in (dict(zip(result.columns, row)) for row in result.rows)
            if r["metric"] == metric}


def test_engaged_agents_comes_from_the_entry_point(engaged_agents_installed, project):
    s = project({"events": EVENTS})
    assert s.plugins.origins["engaged_agents"] == f"entry point of {DIST} 0.1.0"
    assert s.registry.metric_plugin["engaged_agents"] == "engaged_agents"
    metric = s.registry.metric("engaged_agents")
    assert metric.unit == "count"
    assert [v.name for v in metric.variants] == ["default"]
    assert metric.variants[0].provenance == ("parative",)
    assert "CrankWheel" in metric.description and "parative" in metric.description
    assert s.registry.parameters["min_events"] == ("engaged_agents", metric.parameters[0])
    assert metric.parameters[0].default == 2 and metric.parameters[0].kind == "int"
    assert metric.parameters[0].minimum == 1
    assert engaged_agents_installed.METRIC is s.registry.metrics["engaged_agents"]
    assert s.graph.resolve(("engaged_agents", "default")).sources == ("events",)
    assert s.graph.resolve(("engaged_agents", "default")).parameters == ("min_events",)


def test_engaged_agents_default_min_events(engaged_agents_installed, project):
    s = project({"events": EVENTS})
    result = s.compute(["engaged_agents"], start="2024-01-01", end="2024-03-01")
    assert result.columns == ("metric", "variant", "period_start", "period_end", "value")
    assert result.rows == (
        ("engaged_agents", "default", JAN, FEB, 4.0),
        ("engaged_agents", "default", FEB, dt.date(2024, 3, 1), 1.0),
    )
    assert result.units == {("engaged_agents", "default"): "count"}
    assert "INTERVAL" in result.sql and ">= 2" in result.sql


def test_engaged_agents_min_events_from_the_project_file(engaged_agents_installed, project):
    s = project({"events": EVENTS}, toml_extra="[parameters]\nmin_events = 3\n")
    assert _values(s.compute(["engaged_agents"], start="2024-01-01", end="2024-03-01")) == {JAN: 1.0, FEB: 0.0}


def test_engaged_agents_min_events_on_the_command_line_wins(engaged_agents_installed, project):
    s = project({"events": EVENTS}, toml_extra="[parameters]\nmin_events = 3\n")
    got = s.compute(["engaged_agents"], start="2024-01-01", end="2024-03-01", params={"min_events": "1"})
    # min_events = 1: January {u1..u8} (u5's p.end event and u6's early one are outside,
    # but each still has one inside) = 8; February {u1, u2} = 2
    assert _values(got) == {JAN: 8.0, FEB: 2.0}


def test_engaged_agents_min_events_below_minimum(engaged_agents_installed, project):
    s = project({"events": EVENTS}, toml_extra="[parameters]\nmin_events = 0\n")
    with pytest.raises(UsageError) as e:
        s.compute(["engaged_agents"], start="2024-01-01", end="2024-02-01")
    assert e.value.exit_code == 2
    assert "parameter min_events (used by engaged_agents:default): must be ≥ 1, got 0" in str(e.value)


def test_engaged_agents_weekly_and_by_dimension(engaged_agents_installed, project):
    events = [
        _meeting("a", T(2024, 1, 3, 9), customer="c_pro"),
        _meeting("a", T(2024, 1, 4, 9), customer="c_pro"),
        _meeting("b", T(2024, 1, 5, 9), customer="c_free"),
        _meeting("b", T(2024, 1, 7, 23), customer="c_free"),
        _meeting("c", T(2024, 1, 6, 9), customer="c_free"),
    ]
    customers = [
        {"customer_id": "c_pro", "created_at": T(2023, 1, 1), "plan": "pro"},
        {"customer_id": "c_free", "created_at": T(2023, 1, 1), "plan": "free"},
    ]
    s = project({"events": events, "customers": customers})
    # ISO week of 2024-01-01 (a Monday): p.end = 2024-01-08, window [2024-01-01, 2024-01-08)
    got = s.compute(["engaged_agents"], grain="week", start="2024-01-01", end="2024-01-15", by=["plan"])
    assert got.value("engaged_agents", "2024-01-01", plan="pro") == 1
    assert got.value("engaged_agents", "2024-01-01", plan="free") == 1
    assert got.value("engaged_agents", "2024-01-08", plan="free") == 0


NODE_STEP = "per period: users with at least :min_events 'meeting' events in [p.end − 7 days, p.end)"


@pytest.mark.parametrize("dialect", ["duckdb", "postgres", "bigquery"])
def test_engaged_agents_renders_for_every_dialect(engaged_agents_installed, project, dialect):
    s = project({"events": EVENTS})
    plan = s.plan(s.request(s.keys(["engaged_agents"]), start="2024-01-01", end="2024-02-01"))
    compiled, sql = s.compile(plan, dialect)
    assert ("engaged_agents_last_7_days", NODE_STEP) in compiled.cte_steps
    code = re.sub(r"/\*.*?\*/", "", sql, flags=re.S)  # the step comments quote the SQL's :min_events
    assert "'meeting'" in code and ":min_events" not in code and ">= 2" in code



def test_disable_the_entry_point_plugin(engaged_agents_installed, project):
    s = project({"events": EVENTS}, toml_extra='[plugins]\ndisable = ["engaged_agents"]\n')
    assert "engaged_agents" not in s.plugins.origins
    assert "engaged_agents" not in s.registry.metrics
    assert "min_events" not in s.registry.parameters
    with pytest.raises(UsageError) as e:
        s.compute(["engaged_agents"], start="2024-01-01", end="2024-02-01")
    assert e.value.exit_code == 2
    assert str(e.value).startswith("unknown metric 'engaged_agents'.")


# -- project-local modules ------------------------------------------------------------

@pytest.fixture
def local_module(tmp_path):
    """local_module(name, source, project="proj") writes ``<project>/<name>.py`` beside the
    csframe.toml that the ``project`` fixture writes; forgets the module afterwards (Python
    caches imported modules by name across sessions)."""
    names: list[str] = []

    def write(name: str, source: str, project: str = "proj") -> str:
        d = tmp_path / project
        d.mkdir(parents=True, exist_ok=True)
        (d / f"{name}.py").write_text(textwrap.dedent(source), encoding="utf-8")
        names.append(name)
        sys.modules.pop(name, None)
        return f'[plugins]\nmodules = ["{name}"]\n'

    yield write
    for name in names:
        sys.modules.pop(name, None)


SUBSCRIPTIONS = [
    # Jan: S = {c1, c2, c4}, E = {c1, c3, c4, c5}, L = {c2}
    # Feb: S = {c1, c3, c4, c5}, E = {c1, c3}, L = {c4, c5}
    {"subscription_id": "s1", "customer_id": "c1", "started_at": T(2023, 11, 15), "ended_at": None, "mrr": Decimal("100")},
    {"subscription_id": "s2", "customer_id": "c2", "started_at": T(2023, 11, 10), "ended_at": T(2024, 1, 20),
     "mrr": Decimal("50")},
    {"subscription_id": "s3", "customer_id": "c3", "started_at": T(2024, 1, 5), "ended_at": None, "mrr": Decimal("70")},
    {"subscription_id": "s4", "customer_id": "c4", "started_at": T(2023, 12, 5), "ended_at": T(2024, 2, 10),
     "mrr": Decimal("30")},
    {"subscription_id": "s5", "customer_id": "c5", "started_at": T(2024, 1, 10), "ended_at": T(2024, 2, 20),
     "mrr": Decimal("20")},
]

MY_METRICS = '''
from csframe.core.hookspecs import hookimpl
from csframe.core.models import Metric, Variant


@hookimpl
def csframe_register_metrics(registrar):
    registrar.metric(Metric(
        "net_customer_adds", "count", "customers gained net of customers lost: |E| - |S|",
        (Variant("default", "customers_end - customers_start", ("industry",)),),
    ))
    registrar.variant("churn_rate", Variant(
        "lost_over_average", "churned_customers / ((customers_start + customers_end) / 2)", ("industry",),
        "|L| / mean(|S|, |E|)",
    ))
'''


def test_project_module_adds_a_metric_and_a_variant(project, local_module):
    toml = local_module("my_metrics", MY_METRICS)
    s = project({"subscriptions": SUBSCRIPTIONS}, toml_extra=toml)
    assert s.plugins.origins["my_metrics"] == "project module"
    assert s.registry.metric_plugin["net_customer_adds"] == "my_metrics"
    assert s.registry.variants[("churn_rate", "lost_over_average")].plugin == "my_metrics"
    assert s.registry.variant_names("churn_rate")[-1] == "lost_over_average"
    assert s.registry.default_variant("churn_rate") == "lost_over_start"  # adding a variant keeps the default
    got = s.compute(["net_customer_adds", "churn_rate:lost_over_average", "churn_rate"],
                    start="2024-01-01", end="2024-03-01")
    assert got.value("net_customer_adds", JAN) == 1  # 4 - 3
    assert got.value("net_customer_adds", FEB) == -2  # 2 - 4
    assert got.value("churn_rate", JAN, variant="lost_over_average") == pytest.approx(1 / 3.5)
    assert got.value("churn_rate", FEB, variant="lost_over_average") == pytest.approx(2 / 3)
    assert got.value("churn_rate", JAN, variant="lost_over_start") == pytest.approx(1 / 3)
    assert got.units[("net_customer_adds", "default")] == "count"
    assert got.units[("churn_rate", "lost_over_average")] == "share"  # the metric's unit


def test_project_variant_chosen_under_variants(project, local_module):
    toml = local_module("my_metrics", MY_METRICS) + '\n[variants]\nchurn_rate = "lost_over_average"\n'
    s = project({"subscriptions": SUBSCRIPTIONS}, toml_extra=toml)
    got = s.compute(["churn_rate"], start="2024-01-01", end="2024-02-01")
    assert got.rows == (("churn_rate", "lost_over_average", JAN, FEB, pytest.approx(1 / 3.5)),)


def test_disable_a_project_module(project, local_module):
    toml = local_module("my_metrics", MY_METRICS).replace("[plugins]\n", '[plugins]\ndisable = ["my_metrics"]\n')
    s = project({"subscriptions": SUBSCRIPTIONS}, toml_extra=toml)
    assert "my_metrics" not in s.plugins.origins
    with pytest.raises(UsageError, match=r"^unknown metric 'net_customer_adds'\.") as e:
        s.compute(["net_customer_adds"], start="2024-01-01", end="2024-02-01")
    assert e.value.exit_code == 2


def test_missing_project_module(project):
    with pytest.raises(PluginError) as e:
        project({"subscriptions": SUBSCRIPTIONS}, toml_extra='[plugins]\nmodules = ["no_such_metrics_module"]\n')
    assert e.value.exit_code == 2
    assert "[plugins] modules: no module 'no_such_metrics_module' in " in str(e.value)
    assert "remove it from [plugins] modules" in str(e.value)


# -- the errors a plugin author meets -------------------------------------------------

def _open_with(project, local_module, name: str, source: str) -> Session:
    return project({"subscriptions": SUBSCRIPTIONS}, toml_extra=local_module(name, source))


def test_duplicate_metric_names_both_plugins(project, local_module):
    src = '''
    from csframe.core.hookspecs import hookimpl
    from csframe.core.models import Metric, Variant

    @hookimpl
    def csframe_register_metrics(registrar):
        registrar.metric(Metric("mrr", "money", "mine", (Variant("default", "mrr_end"),)))
    '''
    with pytest.raises(PluginError) as e:
        _open_with(project, local_module, "dup_metric", src)
    assert e.value.exit_code == 2
    assert e.value.message == (
        "plugin 'dup_metric': metric 'mrr' is already registered by plugin 'csframe.definitions.revenue'")
    assert "registrar.variant()" in e.value.hint


def test_duplicate_variant_names_both_plugins(project, local_module):
    src = '''
    from csframe.core.hookspecs import hookimpl
    from csframe.core.models import Variant

    @hookimpl
    def csframe_register_metrics(registrar):
        registrar.variant("churn_rate", Variant("net_loss", "churned_customers / customers_end"))
    '''
    with pytest.raises(PluginError) as e:
        _open_with(project, local_module, "dup_variant", src)
    assert e.value.exit_code == 2
    assert e.value.message == (
        "plugin 'dup_variant': metric 'churn_rate' already has a variant 'net_loss' "
        "(registered by plugin 'csframe.definitions.revenue')")


def test_variant_for_an_unknown_metric(project, local_module):
    src = '''
    from csframe.core.hookspecs import hookimpl
    from csframe.core.models import Variant

    @hookimpl
    def csframe_register_metrics(registrar):
        registrar.variant("churn_rat", Variant("mine", "churned_customers / customers_end"))
    '''
    with pytest.raises(PluginError) as e:
        _open_with(project, local_module, "variant_typo", src)
    assert e.value.exit_code == 2
    assert ("plugin 'variant_typo': cannot add variant 'mine' to unknown metric 'churn_rat'. "
            "Did you mean 'churn_rate'") in str(e.value)  # the closest name first


CYCLE = '''
from csframe.core.hookspecs import hookimpl
from csframe.core.models import Metric, Variant

@hookimpl
def csframe_register_metrics(registrar):
    registrar.metric(Metric("a", "count", "a", (Variant("default", "ref('b')"),)))
    registrar.metric(Metric("b", "count", "b", (Variant("default", "ref('a') + 1"),)))
'''


def test_cycle_between_project_metrics(project, local_module):
    s = _open_with(project, local_module, "cyclic_metrics", CYCLE)
    expected = "cycle in metric references: a:default → b:default → a:default (plugin 'cyclic_metrics')"
    with pytest.raises(DefinitionError) as e:
        s.compute(["a"], start="2024-01-01", end="2024-02-01")
    assert e.value.exit_code == 2
    assert e.value.message == expected
    assert e.value.hint == "A metric cannot be built from itself; change one of these formulas."
    with pytest.raises(DefinitionError) as e:  # found from b, it reads the same
        s.graph.resolve(("b", "default"))
    assert e.value.message == expected
    assert cycles(s.registry) == [expected]  # what `csframe check` reports: once


def test_unknown_metric_reference(project, local_module):
    src = '''
    from csframe.core.hookspecs import hookimpl
    from csframe.core.models import Metric, Variant

    @hookimpl
    def csframe_register_metrics(registrar):
        registrar.metric(Metric("nrr_twice", "ratio", "x", (Variant("default", "2 * ref('net_revenue_retentoin')"),)))
    '''
    with pytest.raises(DefinitionError) as e:
        _open_with(project, local_module, "ref_typo", src)
    assert e.value.exit_code == 2
    assert ("plugin 'ref_typo', metric nrr_twice:default: unknown metric 'net_revenue_retentoin' in ref(). "
            "Did you mean 'net_revenue_retention'") in str(e.value)


def test_unknown_variant_reference(project, local_module):
    src = '''
    from csframe.core.hookspecs import hookimpl
    from csframe.core.models import Metric, Variant

    @hookimpl
    def csframe_register_metrics(registrar):
        registrar.metric(Metric("churn_twice", "ratio", "x", (Variant("default", "2 * ref('churn_rate', 'net_los')"),)))
    '''
    with pytest.raises(DefinitionError) as e:
        _open_with(project, local_module, "ref_variant_typo", src)
    assert e.value.exit_code == 2
    assert ("plugin 'ref_variant_typo', metric churn_twice:default: metric 'churn_rate' has no variant 'net_los'. "
            "Did you mean 'net_loss'") in str(e.value)


def test_unknown_measure(project, local_module):
    src = '''
    from csframe.core.hookspecs import hookimpl
    from csframe.core.models import Metric, Variant

    @hookimpl
    def csframe_register_metrics(registrar):
        registrar.metric(Metric("lost", "count", "x", (Variant("default", "churned_customer + 0"),)))
    '''
    with pytest.raises(DefinitionError) as e:
        _open_with(project, local_module, "measure_typo", src)
    assert e.value.exit_code == 2
    assert ("plugin 'measure_typo', metric lost:default: unknown measure 'churned_customer' in formula. "
            "Did you mean 'churned_customers'") in str(e.value)


def test_every_broken_reference_is_reported_at_once(project, local_module):
    src = '''
    from csframe.core.hookspecs import hookimpl
    from csframe.core.models import Metric, Variant

    @hookimpl
    def csframe_register_metrics(registrar):
        registrar.metric(Metric("x", "count", "x", (Variant("default", "churned_customer + ref('mmr')"),)))
        registrar.metric(Metric("y", "count", "y", (Variant("default", "param('min_event')"),)))
    '''
    with pytest.raises(DefinitionError) as e:
        _open_with(project, local_module, "many_typos", src)
    text = str(e.value)
    assert text.startswith("3 problem(s) in the registered definitions:")
    assert "unknown measure 'churned_customer'" in text
    assert "unknown metric 'mmr' in ref(). Did you mean 'mrr'" in text
    assert "unknown parameter 'min_event' in param()." in text


def test_bad_formula_names_plugin_and_metric(project, local_module):
    src = '''
    from csframe.core.hookspecs import hookimpl
    from csframe.core.models import Metric, Variant

    @hookimpl
    def csframe_register_metrics(registrar):
        registrar.metric(Metric("lost_share", "ratio", "x", (Variant("default", "safe_div(lost, "),)))
    '''
    with pytest.raises(DefinitionError) as e:
        _open_with(project, local_module, "bad_formula", src)
    assert e.value.exit_code == 2
    assert str(e.value).startswith(
        "plugin 'bad_formula', metric lost_share:default: formula 'safe_div(lost, ' does not parse: ")


def test_bad_node_sql_names_plugin_and_node(project, local_module):
    src = '''
    from csframe.core.hookspecs import hookimpl
    from csframe.core.models import Measure, Node

    @hookimpl
    def csframe_register_metrics(registrar):
        registrar.node(Node("my_node", "x", "SELECT grp, period_start, COUNT(* AS n FROM src_events GROUP BY 1, 2",
                            measures=(Measure("n", "x"),)))
    '''
    with pytest.raises(DefinitionError) as e:
        _open_with(project, local_module, "bad_node", src)
    assert e.value.exit_code == 2
    assert str(e.value).startswith("plugin 'bad_node', node 'my_node': SQL does not parse: ")


def test_wrong_hook_signature_names_the_plugin(project, local_module):
    src = '''
    from csframe.core.hookspecs import hookimpl

    @hookimpl
    def csframe_register_metrics(registry_typo):
        pass
    '''
    with pytest.raises(PluginError) as e:
        _open_with(project, local_module, "bad_signature", src)
    assert e.value.exit_code == 2
    text = str(e.value)
    assert text.startswith("plugin 'bad_signature' has a bad hook: ")
    assert "registry_typo" in text and "csframe_register_metrics" in text
    assert "docs/hooks.md" in e.value.hint


def test_unknown_hook_name_names_the_plugin(project, local_module):
    src = '''
    from csframe.core.hookspecs import hookimpl

    @hookimpl
    def csframe_register_metric(registrar):
        pass
    '''
    with pytest.raises(PluginError) as e:
        _open_with(project, local_module, "hook_typo", src)
    assert e.value.exit_code == 2
    assert e.value.message.startswith("plugin 'hook_typo' implements an unknown hook csframe_register_metric. "
                                      "Did you mean 'csframe_register_metrics' or ")
    assert e.value.hint == "The hooks and their parameters are in docs/hooks.md."


def test_a_hook_function_without_hookimpl_is_an_error_not_ignored(project, local_module):
    src = '''
    from csframe.core.models import Metric, Variant

    def csframe_register_metrics(registrar):
        registrar.metric(Metric("never_seen", "count", "x", (Variant("default", "customers_end"),)))
    '''
    with pytest.raises(PluginError) as e:
        _open_with(project, local_module, "unmarked", src)
    assert e.value.message == ("plugin 'unmarked': csframe_register_metrics is not marked @hookimpl, so csframe "
                               "would never call it")
    assert "from csframe.core.hookspecs import hookimpl" in e.value.hint


def test_a_project_module_named_like_an_installed_plugin_is_refused(engaged_agents_installed, project,
                                                                   local_module):
    src = """
    from csframe.core.hookspecs import hookimpl

    @hookimpl
    def csframe_register_metrics(registrar):
        pass
    """
    with pytest.raises(PluginError) as e:
        _open_with(project, local_module, "engaged_agents", src)
    assert e.value.message == (f"plugin 'engaged_agents' (project module) has the name of plugin 'engaged_agents' "
                               f"(entry point of {DIST} 0.1.0)")
    assert e.value.hint == "Plugin names are unique: rename one (a project module, or the entry point's name)."


def test_module_that_fails_to_import_names_it(project, local_module):
    with pytest.raises(PluginError) as e:
        _open_with(project, local_module, "broken_import", "import no_such_dependency_xyz\n")
    assert e.value.exit_code == 2
    assert ("cannot load project plugin module 'broken_import': ModuleNotFoundError: "
            "No module named 'no_such_dependency_xyz'") in str(e.value)


def test_two_installed_packages_with_one_plugin_name_are_refused(tmp_path, monkeypatch):
    """Two distributions whose entry points share a name: an error naming both (one was silently
    dropped); one distribution seen twice on sys.path is one plugin."""
    import importlib.metadata as md
    from types import SimpleNamespace

    for name in ("dup_one", "dup_two"):
        (tmp_path / f"{name}.py").write_text("", encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))

    def dist(package: str, module: str):
        return SimpleNamespace(metadata={"Name": package}, version="1.0",
                               entry_points=[md.EntryPoint(name="dup", value=module, group="csframe")])

    monkeypatch.setattr(md, "distributions", lambda: [dist("pkg-one", "dup_one"), dist("pkg-one", "dup_one")])
    plugins = load_plugins()
    assert plugins.origins["dup"] == "entry point of pkg-one 1.0"
    monkeypatch.setattr(md, "distributions", lambda: [dist("pkg-one", "dup_one"), dist("pkg-two", "dup_two")])
    with pytest.raises(PluginError) as e:
        load_plugins()
    assert e.value.message == "two installed packages name a plugin 'dup': pkg-one (dup_one) and pkg-two (dup_two)"
    assert e.value.hint == "Plugin names are unique: uninstall one of them, or rename its entry point."
