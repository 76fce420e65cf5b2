"""``csframe report``'s content from a result, without an engine: the cohorts section (a
heatmap, once the catalog has ``logo_retention``; else the note "cohorts: not available"), and
a section whose metrics have no value in the periods left out with a note. The registry,
graph and result are made by hand; the numbers below are the rows' own."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

from csframe.core.report_model import build_report, plan_report, table_of
from csframe.core.report_page import figure
from csframe.core.result import Result

D = dt.date
JAN, FEB, MAR = (D(2024, 1, 1), D(2024, 2, 1)), (D(2024, 2, 1), D(2024, 3, 1)), (D(2024, 3, 1), D(2024, 4, 1))


class _Registry:
    def __init__(self, metrics: dict[str, str]) -> None:  # name → unit
        self.metrics = {m: SimpleNamespace(description=f"{m} described") for m in metrics}
        self._units = metrics
        self.variants = {(m, "default"): SimpleNamespace(variant=SimpleNamespace(
            formula=f"{m}_formula", description="", provenance=("industry",))) for m in metrics}

    def unit(self, metric: str, variant: str) -> str:
        return self._units[metric]

    def variant_names(self, metric: str) -> list[str]:
        return ["default"]


def _session(metrics: dict[str, str]) -> SimpleNamespace:
    graph = SimpleNamespace(default_variant=lambda m: "default", unsplittable_sources=lambda k: [],
                            parse_key=lambda t: (t.partition(":")[0], t.partition(":")[2] or "default"))
    return SimpleNamespace(registry=_Registry(metrics), graph=graph, missing_sources=lambda k: [])


def _result(rows: list[tuple], keyed: dict[tuple[str, str], tuple[str, ...]]) -> Result:
    return Result(columns=("metric", "variant", "period_start", "period_end", "cohort", "value"), rows=tuple(rows),
                  grain="month", dimension_keys=keyed)


def test_the_cohort_triangle_is_a_heatmap_of_cohort_by_period_once_logo_retention_exists():
    s = _session({"logo_retention": "share", "nps": "score"})
    plan = plan_report(s)
    # the triangle is its own run, --by cohort (the cohort metrics need it); the rest is one run
    assert plan.charts == {"nps": [("nps", "default")]}
    assert plan.cohort_charts == {"cohort_triangle": [("logo_retention", "default")]}
    # two cohorts: January's keeps 100 %, then 50 %, then 25 %; February's starts in February
    rows = [("logo_retention", "default", *JAN, "2024-01", 1.0), ("logo_retention", "default", *FEB, "2024-01", 0.5),
            ("logo_retention", "default", *MAR, "2024-01", 0.25), ("logo_retention", "default", *FEB, "2024-02", 1.0),
            ("logo_retention", "default", *MAR, "2024-02", 0.75),
            ("nps", "default", *JAN, None, 10.0), ("nps", "default", *FEB, None, 20.0), ("nps", "default", *MAR, None, 30.0)]
    report = build_report(s, plan, _result(rows[5:], {}), (), _result(rows[:5], {}))
    assert [sec.id for sec in report.sections] == ["health", "cohorts"]
    (heat,) = report.sections[1].charts
    assert heat.kind == "heatmap" and [c.label for c in heat.series] == ["2024-01", "2024-02"]
    fig = figure(heat, report)["data"][0]
    assert fig["type"] == "heatmap" and fig["x"] == ["2024-01", "2024-02", "2024-03"]
    assert figure(heat, report)["layout"]["yaxis"]["type"] == "category"  # cohorts are never read as dates
    assert fig["z"] == [[1, 0.5, 0.25], [None, 1, 0.75]]  # 1.0 shown as 1 (an integral value), as compute writes it
    _, head, table = table_of(heat, report.periods, report.grain)
    assert head == ["period", "2024-01", "2024-02"]
    assert [[shown for _, shown in row[1:]] for row in table] == [["100.00 %", "—"], ["50.00 %", "100.00 %"],
                                                                  ["25.00 %", "75.00 %"]]
    assert "cohorts: not available" not in report.notes
    # the support, MRR... sections: none of their metrics is registered here
    assert "Support: none of its metrics can be computed here" in report.notes


def test_without_logo_retention_cohorts_are_not_available_and_a_section_without_values_is_left_out():
    s = _session({"nps": "score", "support_tickets": "count"})
    plan = plan_report(s)
    rows = [("nps", "default", *JAN, None, 10.0), ("nps", "default", *FEB, None, 20.0),
            ("support_tickets", "default", *JAN, None, None), ("support_tickets", "default", *FEB, None, None)]
    report = build_report(s, plan, _result(rows, {}))
    assert [sec.id for sec in report.sections] == ["health"]
    assert "cohorts: not available" in report.notes
    assert "Support: no data for it in these periods" in report.notes
    (nps,) = report.sections[0].charts
    assert nps.series[0].values == (10, 20)
