"""``all_<source>`` in a node's SQL: the whole source, read without the ``--by`` groups."""

from __future__ import annotations

import pytest
from sqlglot import exp

from csframe.core.formula import parse_node_sql
from csframe.core.project import Project, SourceBinding
from csframe.core.session import Session


def test_a_node_reading_all_events_reads_the_events_source_whole():
    parsed = parse_node_sql("SELECT grp, COUNT(*) AS n FROM src_events\n"
                            "CROSS JOIN (SELECT COUNT(*) AS k FROM all_events)")
    assert parsed.sources == ("events",)
    assert parsed.whole_sources == ("events",)
    assert parse_node_sql("SELECT grp FROM src_events").whole_sources == ()


def _ctes(by):
    project = Project(dir=".", adapter={"name": "duckdb"},
                      sources={n: SourceBinding(n, table=n) for n in ("customers", "subscriptions", "users", "events")})
    s = Session.open(project=project, entry_points=False)
    compiled, _ = s.compile(s.plan(s.request(s.keys(["customer_health_score"]), start="2024-01-01",
                                             end="2024-03-01", by=by)), dialect="duckdb")
    return {c.alias: c.this for c in compiled.query.find_all(exp.CTE)}


@pytest.mark.parametrize("by", [(), ("segment",)])
def test_the_whole_source_is_scanned_without_groups_only_under_by(by):
    ctes = _ctes(by)
    tables = {t.name for t in ctes["health_customer_scores"].find_all(exp.Table)}
    if not by:
        # one group: the node reads src_events itself and there is no second scan
        assert "all_events" not in ctes and "src_events" in tables and "all_events" not in tables
        return
    assert "all_events" in tables
    whole, grouped = ctes["all_events"], ctes["src_events"]
    # the grouped scan joins customer_groups (dropping customers without a group); the whole one does not
    assert "customer_groups" in {t.name for t in grouped.find_all(exp.Table)}
    assert "customer_groups" not in {t.name for t in whole.find_all(exp.Table)}
    assert {t.name for t in whole.find_all(exp.Table)} == {"events"}
