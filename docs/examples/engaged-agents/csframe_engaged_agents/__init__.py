"""engaged_agents: a sample third-party csframe plugin.

CrankWheel, one of the experts parative quotes in "Top 15 SaaS Customer Success
Metrics (According to the Experts)", calls the number of *engaged agents* its
north-star metric: the users who held at least a couple of meetings in the last week.
This plugin adds it to csframe as

    engaged_agents = |{ u : #{ e ∈ events : e.user_id = u, e.name = 'meeting',
                              p.end − 7 days ≤ e.occurred_at < p.end } ≥ min_events }|

per period p (and per ``--by`` group). ``min_events`` (default 2) is set per project
under ``[parameters]`` in ``csframe.toml`` or with ``--param min_events=3``.

It is found through the ``csframe`` entry-point group (see ``pyproject.toml``) and
registered through the same hook csframe's own catalog uses. Its tests (``tests/``) use
csframe's test kit: ``pip install -e '.[test]'``, then ``pytest``.

``min_events`` has no ``engaged_agents_`` prefix although parameter names are global across
plugins: it is the name csframe's specification (metrics.md) gives it. A plugin of your own should prefix
its parameters (``csframe new-plugin`` does), so that two plugins never claim the same name.
"""

from __future__ import annotations

__all__ = ["NODE", "METRIC", "csframe_register_metrics"]

from csframe.core.hookspecs import hookimpl
from csframe.core.models import Example, Measure, Metric, Node, Parameter, Variant

# The node's SQL is dialect-neutral: csframe reads the canonical events source as
# `src_events`, gives every row its `--by` group in `grp`, binds `:min_events` as a
# literal, and renders the query for DuckDB, PostgreSQL or BigQuery. `grid` holds one
# row per period and group, with `period_start` and `period_end`.
NODE = Node(
    "engaged_agents_last_7_days",
    "per period: users with at least :min_events 'meeting' events in [p.end − 7 days, p.end)",
    """
    SELECT m.grp, m.period_start, COUNT(*) AS engaged_agents
    FROM (
      SELECT g.grp, g.period_start, e.user_id
      FROM grid AS g
      JOIN src_events AS e
        ON e.grp = g.grp
       AND e.occurred_at >= CAST(g.period_end AS TIMESTAMP) - INTERVAL '7' DAY
       AND e.occurred_at < CAST(g.period_end AS TIMESTAMP)
      WHERE e.name = 'meeting'
      GROUP BY g.grp, g.period_start, e.user_id
      HAVING COUNT(*) >= :min_events
    ) AS m
    GROUP BY m.grp, m.period_start
    """,
    measures=(
        Measure("engaged_agents", "distinct users with ≥ min_events 'meeting' events in [p.end − 7 days, p.end)"),
    ),
)

METRIC = Metric(
    "engaged_agents",
    "count",
    "CrankWheel's north-star metric, quoted by parative: distinct users with at least min_events "
    "(default 2) 'meeting' events in the 7 days before the end of the period, [p.end − 7 days, p.end)",
    (
        Variant(
            "default",
            "engaged_agents",
            ("parative",),
            "|{users with ≥ min_events 'meeting' events in [p.end − 7 days, p.end)}|",
            # the formula is the node's count itself: the worked example pins that; what the count
            # means (the 7-day window, its edges, min_events) is pinned by tests/ on real rows
            examples=(
                Example("4 users held at least min_events meetings in the last 7 days of the period",
                        {"engaged_agents": 4}, 4, source="internal"),
            ),
        ),
    ),
    parameters=(
        Parameter(
            "min_events",
            2,
            "engaged_agents: the 'meeting' events a user needs in the last 7 days of a period to count",
            kind="int",
            minimum=1,
        ),
    ),
    family="adoption",
)


@hookimpl
def csframe_register_metrics(registrar) -> None:
    registrar.node(NODE)
    registrar.metric(METRIC)
