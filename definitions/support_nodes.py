"""Building blocks over ``survey_responses``, ``tickets`` and ``kb_ratings`` (metrics.md,
"Satisfaction and support"). Conventions as in :mod:`.engagement_nodes`: "in p" is
``BUCKET(ts) = p``, durations are exact seconds, means are Σ / count in the formula, medians
interpolated and written out."""

from __future__ import annotations

__all__ = ["NODES"]

from csframe.core.models import Measure, Node

from .engagement_nodes import duration_measures, durations_sql, seconds_between, windowed_values

_IN_SPINE = "{ts} >= :spine_start AND {ts} < :spine_end"
_FIRST_RESPONSES = f"""
          SELECT grp, BUCKET(created_at) AS period_start, {seconds_between("created_at", "first_response_at")} AS x
          FROM src_tickets
          WHERE first_response_at IS NOT NULL AND {_IN_SPINE.format(ts="created_at")}"""
_RESOLUTIONS = f"""
          SELECT grp, BUCKET(resolved_at) AS period_start, {seconds_between("created_at", "resolved_at")} AS x
          FROM src_tickets
          WHERE {_IN_SPINE.format(ts="resolved_at")}"""

NODES: tuple[Node, ...] = (
    Node(
        "survey_periods",
        "nps, csat and ces responses in each period: counts, NPS promoters (score ≥ 9) and detractors (≤ 6), "
        "score sums",
        f"""
        SELECT grp, BUCKET(responded_at) AS period_start,
          SUM(CASE WHEN survey = 'nps' THEN 1 ELSE 0 END) AS nps_responses,
          SUM(CASE WHEN survey = 'nps' AND score >= 9 THEN 1 ELSE 0 END) AS nps_promoters,
          SUM(CASE WHEN survey = 'nps' AND score <= 6 THEN 1 ELSE 0 END) AS nps_detractors,
          SUM(CASE WHEN survey = 'csat' THEN 1 ELSE 0 END) AS csat_responses,
          SUM(CASE WHEN survey = 'csat' THEN score ELSE 0 END) AS csat_score_sum,
          SUM(CASE WHEN survey = 'ces' THEN 1 ELSE 0 END) AS ces_responses,
          SUM(CASE WHEN survey = 'ces' THEN score ELSE 0 END) AS ces_score_sum
        FROM src_survey_responses
        WHERE survey IN ('nps', 'csat', 'ces') AND {_IN_SPINE.format(ts="responded_at")}
        GROUP BY grp, BUCKET(responded_at)
        """,
        measures=(
            Measure("nps_responses", "nps responses in p"),
            Measure("nps_promoters", "nps responses in p with score ≥ 9"),
            Measure("nps_detractors", "nps responses in p with score ≤ 6"),
            Measure("csat_responses", "csat responses in p"),
            Measure("csat_score_sum", "Σ score of csat responses in p"),
            Measure("ces_responses", "ces responses in p"),
            Measure("ces_score_sum", "Σ score of ces responses in p"),
        ),
        window="sum",
    ),
    Node(
        "csat_satisfied_periods",
        "csat responses in each period with score ≥ :csat_satisfied_min",
        f"""
        SELECT grp, BUCKET(responded_at) AS period_start, COUNT(*) AS csat_satisfied
        FROM src_survey_responses
        WHERE survey = 'csat' AND score >= :csat_satisfied_min AND {_IN_SPINE.format(ts="responded_at")}
        GROUP BY grp, BUCKET(responded_at)
        """,
        measures=(Measure("csat_satisfied", "csat responses in p with score ≥ csat_satisfied_min"),),
        window="sum",
    ),
    Node(
        "ticket_periods",
        "tickets created in each period, and of them those resolved (at any time), resolved at the first contact, "
        "and resolved but reopened",
        f"""
        SELECT grp, BUCKET(created_at) AS period_start, COUNT(*) AS tickets_created,
          SUM(CASE WHEN resolved_at IS NOT NULL THEN 1 ELSE 0 END) AS tickets_created_resolved,
          SUM(CASE WHEN resolved_at IS NOT NULL AND contacts = 1 THEN 1 ELSE 0 END) AS tickets_resolved_first_contact,
          SUM(CASE WHEN resolved_at IS NOT NULL AND COALESCE(reopened, FALSE) THEN 1 ELSE 0 END)
            AS tickets_resolved_reopened
        FROM src_tickets
        WHERE {_IN_SPINE.format(ts="created_at")}
        GROUP BY grp, BUCKET(created_at)
        """,
        measures=(
            Measure("tickets_created", "tickets with created_at in p"),
            Measure("tickets_created_resolved", "tickets created in p with resolved_at not null (at any time)"),
            Measure("tickets_resolved_first_contact", "tickets created in p, resolved, with contacts = 1"),
            Measure("tickets_resolved_reopened", "tickets created in p, resolved, and reopened"),
        ),
        window="sum",
    ),
    Node(
        "first_response_durations",
        "tickets created in each period that have a response (at any time): seconds from created_at to "
        "first_response_at — count, exact sum and interpolated median",
        durations_sql(_FIRST_RESPONSES, "first_response"),
        measures=duration_measures("first_response", "times from created_at to first_response_at of tickets "
                                                     "created in p that have a response"),
        window_sql=durations_sql(windowed_values(_FIRST_RESPONSES), "first_response"),
    ),
    Node(
        "resolution_durations",
        "tickets resolved in each period: seconds from created_at to resolved_at — count, exact sum and "
        "interpolated median",
        durations_sql(_RESOLUTIONS, "resolution"),
        measures=duration_measures("resolution", "times from created_at to resolved_at of tickets resolved in p"),
        window_sql=durations_sql(windowed_values(_RESOLUTIONS), "resolution"),
    ),
    Node(
        "kb_rating_periods",
        "knowledge-base ratings in each period: how many and their sum",
        f"""
        SELECT grp, BUCKET(rated_at) AS period_start, COUNT(*) AS kb_ratings, SUM(rating) AS kb_rating_sum
        FROM src_kb_ratings
        WHERE {_IN_SPINE.format(ts="rated_at")}
        GROUP BY grp, BUCKET(rated_at)
        """,
        measures=(
            Measure("kb_ratings", "kb ratings with rated_at in p"),
            Measure("kb_rating_sum", "Σ rating of kb ratings in p"),
        ),
        window="sum",
    ),
    Node(
        "kb_article_rating_periods",
        "knowledge-base ratings of each article in each period: how many and their sum; every article of the "
        "whole source in every period",
        f"""
        WITH articles AS (
          SELECT DISTINCT article_id FROM src_kb_ratings
        ), per_article AS (
          SELECT grp, BUCKET(rated_at) AS period_start, article_id, COUNT(*) AS ratings, SUM(rating) AS rating_sum
          FROM src_kb_ratings
          WHERE {_IN_SPINE.format(ts="rated_at")}
          GROUP BY grp, BUCKET(rated_at), article_id
        )
        SELECT g.grp, g.period_start, a.article_id, COALESCE(p.ratings, 0) AS kb_article_ratings,
          COALESCE(p.rating_sum, 0) AS kb_article_rating_sum
        FROM grid AS g
        CROSS JOIN articles AS a
        LEFT JOIN per_article AS p
          ON p.grp = g.grp AND p.period_start = g.period_start AND p.article_id IS NOT DISTINCT FROM a.article_id
        """,
        measures=(
            Measure("kb_article_ratings", "ratings of the article with rated_at in p", key="article_id"),
            Measure("kb_article_rating_sum", "Σ rating of the article's ratings in p", key="article_id"),
        ),
        window="sum",
    ),
)
