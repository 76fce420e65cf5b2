"""What a value leaves out, said on stderr: time_to_value (and time_to_complete_onboarding)
leave out the customers created in p who are yet to reach the event, and compute says how
many, per period, on stderr only (metrics.md, time_to_value).

The counts are worked out by hand on ``RICH`` of ``test_adoption_fixtures.py``:
February's cohort {a, b, c, f}, March's {d, e}.
  * activated (at or after created_at, at any time): a, b, c (its 02-20 event precedes
    created_at, its 03-01 one counts), f, d — e never → February 0, March 1 (e);
  * onboarding_completed: a, b (after the range), f, d, e (after the range) — c never →
    February 1 (c), March 0.
"""

from __future__ import annotations

import pytest

from csframe.core.errors import DefinitionError
from csframe.core.models import LeftOut, Metric, Variant
from csframe.core.hookspecs import hookimpl
from csframe.core.plugin_manager import load_plugins
from csframe.core.registry import build_registry
from tests.engine.test_adoption_fixtures import MODULES, RICH, check, open_session
from tests.cli.test_cli import cs
from tests.support.projects import make_project

RANGE = {"grain": "month", "start": "2024-02-01", "end": "2024-04-01"}
TTV = "note: time_to_value:{v} leaves out 1 customers created in these periods who have not reached value_event " \
      "'{event}' yet (2024-03-01: 1)"
ONB = "note: time_to_complete_onboarding:{v} leaves out 1 customers created in these periods who have not reached " \
      "onboarding_event 'onboarding_completed' yet (2024-02-01: 1)"


@pytest.fixture(scope="module")
def rich(tmp_path_factory):
    s = open_session(tmp_path_factory.mktemp("left_out"), RICH)
    yield s
    s.close()


def test_time_to_value_says_how_many_customers_it_leaves_out(rich):
    r = rich.compute(["time_to_value:median", "time_to_value:mean", "time_to_complete_onboarding:mean",
                      "activation_rate"], **RANGE)
    assert r.warnings == (TTV.format(v="median", event="activated"), TTV.format(v="mean", event="activated"),
                          ONB.format(v="mean"))
    # the count is taken off the rows: the columns and values are those of any run
    assert r.columns == ("metric", "variant", "period_start", "period_end", "value")
    check(r.value("time_to_value", "2024-03-01", "median"), 0)
    check(r.value("activation_rate", "2024-03-01"), 1 / 2)


def test_the_count_adds_up_over_the_by_groups(rich):
    # c is smb (February), e is ent (March): the same totals, summed over the groups
    r = rich.compute(["time_to_value", "time_to_complete_onboarding:median"], by=["segment"], **RANGE)
    assert r.warnings == (TTV.format(v="median", event="activated"), ONB.format(v="median"))
    assert r.columns == ("metric", "variant", "period_start", "period_end", "segment", "value")


def test_the_note_names_the_event_the_run_used(rich):
    # value_event = onboarding_completed: February c never (b, a, f do), March none left out
    r = rich.compute(["time_to_value"], params={"value_event": "onboarding_completed"}, **RANGE)
    assert r.warnings == ("note: time_to_value:median leaves out 1 customers created in these periods who have not "
                          "reached value_event 'onboarding_completed' yet (2024-02-01: 1)",)


def test_nothing_left_out_says_nothing(rich):
    # only February's cohort, who all reached "activated"
    assert rich.compute(["time_to_value"], grain="month", start="2024-02-01", end="2024-03-01").warnings == ()
    assert rich.compute(["activation_rate", "mrr"], **RANGE).warnings == ()


def test_compute_says_it_on_stderr_and_keeps_stdout_clean(tmp_path):
    project = make_project(tmp_path / "p", RICH, toml_extra=MODULES)
    r = cs("compute", "-m", "time_to_value", "--start", "2024-02-01", "--end", "2024-04-01", "--format", "csv",
           project=project)
    assert r.returncode == 0, r.stderr
    assert TTV.format(v="median", event="activated") in r.stderr.splitlines()
    assert r.stdout.splitlines() == [
        "metric,variant,period_start,period_end,value",
        "time_to_value,median,2024-02-01,2024-03-01,15.625", "time_to_value,median,2024-03-01,2024-04-01,0"]
    quiet = cs("compute", "-m", "time_to_value", "--start", "2024-02-01", "--end", "2024-04-01", "--quiet",
               project=project)
    assert quiet.returncode == 0 and quiet.stderr == ""


@pytest.mark.parametrize("count,match", [
    ("nobody_counted", "unknown measure 'nobody_counted' in left_out.count"),
    ("customers_created - param('window_days')", "left_out.count must be a formula over measures"),
    ("feature_adopters", "left_out.count must be a formula over measures"),
])
def test_a_bad_left_out_count_is_a_definition_error(count, match):
    metric = Metric("left_behind", "count", "a test metric", (
        Variant("default", "customers_created", left_out=LeftOut(count, "customers")),))

    class Plugin:
        @hookimpl
        def csframe_register_metrics(self, registrar):
            registrar.metric(metric)

    plugins = load_plugins(entry_points=False)
    plugins.pm.register(Plugin(), name="left_behind_plugin")
    with pytest.raises(DefinitionError, match=match) as caught:
        build_registry(plugins)
    assert "plugin 'left_behind_plugin', metric left_behind:default" in caught.value.message
