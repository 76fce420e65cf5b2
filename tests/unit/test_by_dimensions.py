"""The rules of --by (csframe.core.by_dimensions), each by name, and that nothing else checks --by:
the planner runs the rules once per plan, Session.plan adds none of its own."""

from __future__ import annotations

import ast
import datetime as dt
from pathlib import Path

import pytest

from csframe.core import by_dimensions as bd
from csframe.core.errors import UsageError
from csframe.core.graph import Graph
from csframe.core.periods import grain
from csframe.core.plan import Request, build_plan
from csframe.core.plugin_manager import load_plugins
from csframe.core.project import Project, SourceBinding
from csframe.core.registry import build_registry
from csframe.core.session import Session

REG = build_registry(load_plugins(entry_points=False))
GRAPH = Graph(REG)
ROOT = Path(__file__).resolve().parents[2]

HEALTH = ("customer_health_score", "frequency_breadth_depth")  # readings: --by customer_id, --by health_band
BANDS = ("health_band_customers", "default")  # reading --by health_band; its rows carry health_band
ADOPTION = ("feature_adoption_rate", "default")  # its rows carry feature
MRR = ("mrr", "default")
CAC = ("customer_acquisition_cost", "default")  # reads costs, which has no customer
COHORT_SIZE = ("cohort_size", "default")  # its step cohort_levels needs --by cohort


def _error(fn, *args) -> UsageError:
    with pytest.raises(UsageError) as e:
        fn(*args)
    assert e.value.exit_code == 2
    return e.value


# -- the rules that need no engine ----------------------------------------------------------------

def test_a_reading_splits_every_metric_of_the_run_or_none():
    e = _error(bd.split_readings, REG, [MRR, BANDS], ["health_band"])
    assert e.message == "--by health_band: metric mrr:default cannot be split by health_band"
    assert e.hint == "Compute it in a separate run; --by health_band is a reading of health_band_customers:default"


def test_a_reading_and_the_dimensions_are_told_apart():
    splits, customer_by = bd.split_readings(REG, [BANDS], ["health_band", "segment", "COHORT"])
    assert splits == {BANDS: "health_band"}
    assert customer_by == ("segment", "cohort")  # cohort is csframe's own name, in any case


def test_two_readings_cannot_split_one_metric():
    e = _error(bd.split_readings, REG, [HEALTH], ["customer_id", "health_band"])
    # the readings are visited as a set: either order names both
    assert e.message in ("--by customer_id and --by health_band cannot both split customer_health_score:frequency_breadth_depth",
                         "--by health_band and --by customer_id cannot both split customer_health_score:frequency_breadth_depth")


def test_a_dimension_a_metric_already_carries_is_refused():
    e = _error(bd.carried_dimensions, REG, [ADOPTION], {}, ("feature",))
    assert e.message == "--by feature: metric feature_adoption_rate:default already carries the dimension feature"
    assert bd.carried_dimensions(REG, [ADOPTION, MRR], {}, ("segment",)) == {ADOPTION: "feature"}


def test_a_metric_over_a_source_without_customer_cannot_be_split():
    r = GRAPH.resolve(CAC)
    e = _error(bd.check_key, REG, CAC, r, r, ("segment",))
    assert e.message == "metric customer_acquisition_cost:default reads costs, which has no customer, so --by cannot split it"
    assert e.hint == "Compute it without --by."
    bd.check_key(REG, CAC, r, r, ())  # without --by it is computed


def test_a_metric_whose_step_needs_a_dimension_needs_that_by():
    r = GRAPH.resolve(COHORT_SIZE)
    e = _error(bd.check_key, REG, COHORT_SIZE, r, r, ("segment",))
    assert e.message == "metric cohort_size:default needs --by cohort"
    assert e.hint == "Add --by cohort (it combines with other --by dimensions)."
    bd.check_key(REG, COHORT_SIZE, r, r, ("segment", "cohort"))


def test_dimensions_need_the_customers_source_mapped():
    e = _error(bd.check_names, ("segment",), ["subscriptions"])
    assert e.message == "--by needs the customers source (dimensions are its extra columns)"
    assert e.hint == "Map [sources.customers] in csframe.toml."
    bd.check_names(("segment",), ["subscriptions", "customers"])
    bd.check_names(("segment",), None)  # not a project's plan (check's run on empty sources): every source is there
    bd.check_names((), ["subscriptions"])  # no --by, no rule


def test_a_key_column_of_customers_is_no_dimension():
    e = _error(bd.check_names, ("Created_At",), ["customers"])
    assert e.message == "--by Created_At: Created_At is a key column of customers, not a dimension"


def test_a_name_of_the_result_is_no_dimension():
    e = _error(bd.check_names, ("segment", "Period_Start"), ["customers"])
    assert e.message == ("--by Period_Start: Period_Start is a name of csframe's own (metric, variant, period_start, "
                         "period_end, value, grp), so it cannot name a dimension")
    assert e.hint == ('Give the column another name in [sources.customers] sql = "SELECT *, Period_Start AS '
                      'customer_Period_Start FROM …", and use --by customer_Period_Start.')
    assert _error(bd.check_names, ("grp",), None).message.startswith("--by grp: grp is a name of csframe's own")


def test_a_dimension_named_twice_in_any_case_is_refused():
    e = _error(bd.check_names, ("segment", "plan", "SEGMENT"), ["customers"])
    assert e.message == "--by SEGMENT: named twice (names of dimensions are case-insensitive)"
    assert e.hint == "Name each dimension once."


def test_the_planned_dimensions():
    dims = bd.planned_dimensions(REG, [ADOPTION, MRR], ["region", "Cohort"])
    assert dims == bd.Dimensions(("region", "cohort"), {}, {ADOPTION: "feature"})
    dims = bd.planned_dimensions(REG, [HEALTH], ["region", "health_band"])
    assert (dims.by, dims.splits) == (("region",), {HEALTH: "health_band"})


def test_names_mapped_in_the_project_file_are_spelled_as_mapped():
    assert bd.mapped_names(("SEGMENT", "region", "cohort"), {"Segment": "seg_col", "customer_id": "id"}) == (
        "Segment", "region", "cohort")
    assert bd.mapped_names(("customer_id",), {"customer_id": "id"}) == ("customer_id",)  # a key column maps nothing


# -- the rules that need the engine's columns -----------------------------------------------------

def test_a_dimension_is_a_column_of_customers():
    binding = SourceBinding("customers", table="c", columns={"customer_id": "id", "segment": "Seg"})
    have = {"id", "created_at", "seg", "region"}
    bd.check_columns(REG, binding.column, ("segment", "REGION", "cohort"), have)  # mapped, any case, csframe's own
    e = _error(bd.check_columns, REG, binding.column, ("regoin",), have)
    assert e.message == "--by regoin: customers has no such column. Did you mean 'region'?"
    assert e.hint == "Its dimensions: region, seg."  # neither a key column nor its mapped name
    e = _error(bd.check_columns, REG, binding.column, ("health_band", "tier"), have)
    assert e.message == ("--by health_band, tier: customers has no such column (--by health_band is a reading of "
                         "customer_health_score:frequency_breadth_depth, health_band_customers:default only).")
    e = _error(bd.check_columns, REG, binding.column, ("tier",), {"id", "created_at"})
    assert e.hint == "Its dimensions: none (customers has no extra column)."


def test_a_name_is_the_column_equal_to_it_ignoring_case_but_only_one():
    assert bd.column_named("segment", ["Segment", "region"]) == "Segment"
    assert bd.column_named("Segment", ["Segment", "segment"]) == "Segment"  # the exact one first
    assert bd.column_named("tier", ["Segment"]) == "tier"
    e = _error(bd.column_named, "SEGMENT", ["Segment", "segment", "region"])
    assert e.message == "--by SEGMENT: customers has 2 columns of that name in different cases (Segment, segment)"
    assert e.hint == "Name one with its exact case."


# -- nothing else checks --by -------------------------------------------------------------------

def _session(tmp_path, sources=("customers", "subscriptions")) -> Session:
    project = Project(dir=tmp_path, sources={n: SourceBinding(n, table=n) for n in sources})
    return Session(project, None, REG, GRAPH)


def _request(*keys, by=()):
    return Request(tuple(keys), grain("month"), dt.date(2024, 1, 1), dt.date(2024, 4, 1), by=tuple(by))


def test_session_plan_checks_by_through_the_planner_once(tmp_path, monkeypatch):
    """With the module's name and per-metric rules switched off, Session.plan plans a --by that
    every rule refuses (a key column of customers, a project without customers, a metric over a
    source without customer): neither the session nor the planner checks --by on its own. The
    name rules ran once, given the project's mapped sources."""
    seen = []
    monkeypatch.setattr(bd, "check_names", lambda by, mapped: seen.append((by, sorted(mapped))))
    monkeypatch.setattr(bd, "check_key", lambda *args: None)
    plan = _session(tmp_path).plan(_request(MRR, by=["customer_id"]))
    assert plan.by == ("customer_id",) and seen == [(("customer_id",), ["customers", "subscriptions"])]
    plan = _session(tmp_path, ["subscriptions"]).plan(_request(MRR, by=["segment", "Segment"]))
    assert plan.by == ("segment", "Segment")
    s = _session(tmp_path, ["customers", "costs", "subscriptions", "invoices"])
    assert s.plan(_request(CAC, by=["segment"])).by == ("segment",)
    assert s.plan(_request(COHORT_SIZE)).by == ()


def test_the_planner_refuses_what_the_rules_refuse(tmp_path):
    """The same plans with the rules on: each refusal reaches the caller of Session.plan, and
    build_plan without a project's sources skips only the customers-mapped rule."""
    assert "key column" in _error(_session(tmp_path).plan, _request(MRR, by=["customer_id"])).message
    assert "needs the customers source" in _error(_session(tmp_path, ["subscriptions"]).plan,
                                                  _request(MRR, by=["segment"])).message
    plan = build_plan(REG, GRAPH, _request(MRR, by=["segment"]), {})
    assert plan.by == ("segment",) and "customers" in plan.sources
    e = _error(build_plan, REG, GRAPH, _request(MRR, by=["segment"]), {}, None, ["subscriptions"])
    assert e.message == "--by needs the customers source (dimensions are its extra columns)"


def _messages_starting_with_by(path: Path) -> list[int]:
    """Lines of ``path`` raising a UsageError whose message starts with ``--by``."""
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "UsageError" and node.args:
            first = node.args[0]
            if isinstance(first, ast.JoinedStr):
                first = first.values[0] if first.values else None
            if isinstance(first, ast.Constant) and isinstance(first.value, str) and first.value.startswith("--by"):
                out.append(node.lineno)
    return out


def test_usage_errors_about_by_are_raised_by_its_module_only():
    found = {p.relative_to(ROOT).as_posix(): lines for p in sorted([*(ROOT / "core").rglob("*.py"),
                                                                     *(ROOT / "cli").rglob("*.py")])
             if (lines := _messages_starting_with_by(p))}
    assert set(found) == {"core/by_dimensions.py"}, found
