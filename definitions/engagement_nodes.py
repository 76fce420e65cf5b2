"""Building blocks over ``customers``, ``trials``, ``users``, ``events`` and ``referrals``
(metrics.md, "Onboarding, adoption and engagement"), and the duration helpers the support
nodes share.

Conventions (data-contract.md, "Numbers, time and empty sets"):

* "in p" is ``BUCKET(ts) = p``; "before p.end" is ``BUCKET(ts) <= p`` (periods partition time),
  and a level as of each p.end is a running sum over the grid of per-period counts, with rows
  older than the spine counted in its first period (``GREATEST(BUCKET(ts), :spine_start)``).
* Durations are exact elapsed seconds, ``CAST(EPOCH_SECONDS(b) - EPOCH_SECONDS(a) AS DECIMAL)``
  (microseconds survive the cast on every engine), summed exactly; the metric's formula turns
  them into days (/ 86,400) or hours (/ 3,600). A mean is ``Σ seconds / count`` in the formula,
  so a mean over nothing is 0 / 0 = NULL.
* A median is the interpolated one, written out rather than left to an engine's percentile
  function: the rows of each (grp, period) are numbered in order, and the median is the mean of
  the rows whose number ``rn`` satisfies ``n <= 2·rn <= n + 2`` — the middle row for an odd
  count ``n``, the two middle rows for an even one. The average of two exact decimals is exact,
  so every engine gives the same number, and a period without rows has no row (NULL).
* Parameters are ``:name`` placeholders only: user values reach SQL as literals.
"""

from __future__ import annotations

__all__ = ["HEALTH_BANDS", "NODES", "duration_measures", "durations_sql", "register_nodes", "seconds_between",
           "windowed_values"]

from collections.abc import Iterable

from csframe.core.models import Measure, Node

AT_RISK, NEEDS_ATTENTION, HEALTHY = "at_risk", "needs_attention", "healthy"
HEALTH_BANDS = (AT_RISK, NEEDS_ATTENTION, HEALTHY)
_G = "PARTITION BY g.grp ORDER BY g.period_start ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW"
_IN_SPINE = "{ts} >= :spine_start AND {ts} < :spine_end"


def seconds_between(start: str, end: str) -> str:
    """Exact elapsed seconds from ``start`` to ``end`` (a decimal with microseconds)."""
    return f"CAST(EPOCH_SECONDS({end}) - EPOCH_SECONDS({start}) AS DECIMAL(38, 6))"


def durations_sql(values: str, prefix: str) -> str:
    """A node's SQL over ``values`` (a SELECT of ``grp, period_start, x`` with x in exact
    seconds, never NULL): per (grp, period) ``<prefix>_count``, ``<prefix>_seconds_sum`` and
    ``<prefix>_seconds_median`` (the interpolated median; see the module docstring)."""
    return f"""
        WITH duration_values AS ({values}
        ), duration_ranks AS (
          SELECT grp, period_start, x,
            ROW_NUMBER() OVER (PARTITION BY grp, period_start ORDER BY x) AS rn,
            COUNT(*) OVER (PARTITION BY grp, period_start) AS n
          FROM duration_values
        )
        SELECT grp, period_start, COUNT(*) AS {prefix}_count, SUM(x) AS {prefix}_seconds_sum,
          AVG(CASE WHEN 2 * rn BETWEEN n AND n + 2 THEN x END) AS {prefix}_seconds_median
        FROM duration_ranks
        GROUP BY grp, period_start
        """


def windowed_values(values: str) -> str:
    """``values`` (rows of ``grp, period_start, x``) on trailing windows: each row in each of the
    k windows holding its period (``window_map``; :mod:`csframe.core.windows`)."""
    return f"""
          SELECT v.grp, m.window_period AS period_start, v.x
          FROM ({values}) AS v
          JOIN window_map AS m ON m.period_start = v.period_start"""


def _swap(sql: str, *pairs: tuple[str, str]) -> str:
    """``sql`` with each (old, new) replaced once: a node's SQL on windows, where it differs."""
    for old, new in pairs:
        if sql.count(old) != 1:
            raise ValueError(f"windowed SQL: {old!r} is not found once")
        sql = sql.replace(old, new)
    return sql


def duration_measures(prefix: str, what: str) -> tuple[Measure, ...]:
    return (
        Measure(f"{prefix}_count", f"how many {what}"),
        Measure(f"{prefix}_seconds_sum", f"Σ of the {what}, in exact seconds"),
        Measure(f"{prefix}_seconds_median", f"the interpolated median of the {what}, in exact seconds", fill=None),
    )


def register_nodes(registrar, nodes: Iterable[Node]) -> None:
    """Register ``nodes``, skipping one that another csframe module of this catalog already
    registered with the very same definition (adoption and satisfaction share a few)."""
    registered = registrar.registry.nodes
    for node in nodes:
        if node.name in registered and registered[node.name].node == node:
            continue
        registrar.node(node)


# customers created in p: shared by activation_rate, onboarding_completion_rate, time_to_value and
# time_to_complete_onboarding
_COHORT = f"""
          SELECT grp, customer_id, created_at, BUCKET(created_at) AS period_start
          FROM src_customers
          WHERE {_IN_SPINE.format(ts="created_at")}"""


def _within_window(name: str, event_param: str, measure: str, what: str) -> Node:
    """Customers created in p with an ``event_param`` event at created_at ≤ occurred_at ≤
    created_at + window_days days (both ends included, exact seconds)."""
    return Node(
        name,
        f"customers created in each period with a :{event_param} event within :window_days days of created_at",
        f"""
        WITH signup_cohort AS ({_COHORT}
        ), reached AS (
          SELECT DISTINCT c.grp, c.customer_id, c.period_start
          FROM signup_cohort AS c
          JOIN src_events AS e ON e.customer_id = c.customer_id
          WHERE e.name = :{event_param} AND e.occurred_at >= c.created_at
            AND {seconds_between("c.created_at", "e.occurred_at")} <= :window_days * 86400
        )
        SELECT grp, period_start, COUNT(*) AS {measure}
        FROM reached
        GROUP BY grp, period_start
        """,
        measures=(Measure(measure, what),),
        window="sum",
    )


def _first_event_durations(name: str, event_param: str, prefix: str, what: str) -> Node:
    """Over customers created in p with an ``event_param`` event at or after created_at (at any
    time): seconds from created_at to the first such event."""
    values = f"""
          SELECT c.grp, c.period_start, {seconds_between("c.created_at", "MIN(e.occurred_at)")} AS x
          FROM ({_COHORT}) AS c
          JOIN src_events AS e ON e.customer_id = c.customer_id
          WHERE e.name = :{event_param} AND e.occurred_at >= c.created_at
          GROUP BY c.grp, c.period_start, c.customer_id, c.created_at"""
    return Node(
        name,
        f"customers created in each period that reached :{event_param} (at any time): seconds from created_at to "
        "their first such event — count, exact sum and interpolated median",
        durations_sql(values, prefix),
        measures=duration_measures(prefix, what),
        window_sql=durations_sql(windowed_values(values), prefix),
    )


_ACTIVE_USER_PERIODS_SQL = f"""
        WITH active_days AS (
          SELECT DISTINCT grp, user_id, LOCAL_DATE(occurred_at) AS day, BUCKET(occurred_at) AS period_start
          FROM src_events
          WHERE {_IN_SPINE.format(ts="occurred_at")}
            AND user_id IS NOT NULL  -- an event of no user makes no user active, on any day
            AND (:active_events IS NULL OR name IN :active_events)
        )
        SELECT grp, period_start, COUNT(DISTINCT user_id) AS period_active_users, COUNT(*) AS active_user_days
        FROM active_days
        GROUP BY grp, period_start
        """

_ENGAGED_USER_PERIODS_SQL = f"""
        SELECT grp, BUCKET(occurred_at) AS period_start, COUNT(DISTINCT user_id) AS engaged_users
        FROM src_events
        WHERE {_IN_SPINE.format(ts="occurred_at")}
          AND (:engagement_event IS NULL OR name = :engagement_event)
        GROUP BY grp, BUCKET(occurred_at)
        """

_END_CUSTOMER_PERIODS_SQL = """
        WITH customer_changes AS (
          SELECT grp, customer_id, period_start, n_end,
            LEAD(period_start) OVER (PARTITION BY grp, customer_id ORDER BY period_start) AS next_change
          FROM sub_customer_periods
        )
        SELECT g.grp, g.period_start, c.customer_id,
          (EPOCH_SECONDS(g.period_end) - EPOCH_SECONDS(g.period_start)) / 86400 AS days
        FROM customer_changes AS c
        JOIN grid AS g ON g.grp = c.grp AND g.period_start >= c.period_start
          AND (c.next_change IS NULL OR g.period_start < c.next_change)
        WHERE c.n_end > 0
        """

_HEALTH_CUSTOMER_SCORES_SQL = f"""
        WITH activity AS (
          -- one pass over the events of the spine: active days, names, and the users of the customer created
          -- before p.end with an event in p (breadth's numerator)
          SELECT e.grp, e.customer_id, BUCKET(e.occurred_at) AS period_start,
            COUNT(DISTINCT LOCAL_DATE(e.occurred_at)) AS active_days, COUNT(DISTINCT e.name) AS names,
            COUNT(DISTINCT CASE WHEN BUCKET(u.created_at) <= BUCKET(e.occurred_at) THEN e.user_id END) AS active_users
          FROM src_events AS e
          LEFT JOIN src_users AS u ON u.user_id = e.user_id AND u.customer_id = e.customer_id
          WHERE {_IN_SPINE.format(ts="e.occurred_at")}
          GROUP BY e.grp, e.customer_id, BUCKET(e.occurred_at)
        ), seats_created AS (
          SELECT grp, customer_id, GREATEST(BUCKET(created_at), :spine_start) AS period_start, COUNT(*) AS n
          FROM src_users
          WHERE created_at < :spine_end
          GROUP BY grp, customer_id, GREATEST(BUCKET(created_at), :spine_start)
        ), seats AS (
          SELECT p.grp, p.period_start, p.customer_id, SUM(s.n) AS users
          FROM end_customer_periods AS p
          JOIN seats_created AS s
            ON s.grp = p.grp AND s.customer_id = p.customer_id AND s.period_start <= p.period_start
          GROUP BY p.grp, p.period_start, p.customer_id
        ), vocabulary AS (
          -- distinct event names in the whole source, whatever the period and the group
          SELECT COUNT(DISTINCT name) AS names FROM all_events
        )
        SELECT p.grp, p.period_start, p.customer_id,
          100 * (:health_weight_frequency * COALESCE(SAFE_DIV(a.active_days, p.days), 0)
                 + :health_weight_breadth * COALESCE(SAFE_DIV(a.active_users, c.users), 0)
                 + :health_weight_depth * COALESCE(SAFE_DIV(a.names, v.names), 0)) AS score
        FROM end_customer_periods AS p
        CROSS JOIN vocabulary AS v
        LEFT JOIN activity AS a ON a.grp = p.grp AND a.customer_id = p.customer_id AND a.period_start = p.period_start
        LEFT JOIN seats AS c ON c.grp = p.grp AND c.customer_id = p.customer_id AND c.period_start = p.period_start
        """

_FEATURE_ADOPTION_SQL = f"""
        WITH feature_names AS (
          -- the whole source: every period and every --by group
          SELECT DISTINCT name AS feature
          FROM all_events
          WHERE name IS NOT NULL AND :features IS NULL
          UNION
          -- or the listed names, whether or not the source has them
          SELECT f AS feature FROM UNNEST(:features) AS t(f)
        ), feature_use AS (
          SELECT DISTINCT grp, customer_id, BUCKET(occurred_at) AS period_start, name AS feature
          FROM src_events
          WHERE {_IN_SPINE.format(ts="occurred_at")} AND (:features IS NULL OR name IN :features)
        ), adopters AS (
          SELECT p.grp, p.period_start, u.feature, COUNT(*) AS customers
          FROM end_customer_periods AS p
          JOIN feature_use AS u
            ON u.grp = p.grp AND u.customer_id = p.customer_id AND u.period_start = p.period_start
          GROUP BY p.grp, p.period_start, u.feature
        )
        SELECT g.grp, g.period_start, f.feature, COALESCE(a.customers, 0) AS feature_adopters
        FROM grid AS g
        CROSS JOIN feature_names AS f
        LEFT JOIN adopters AS a ON a.grp = g.grp AND a.period_start = g.period_start AND a.feature = f.feature
        """

NODES: tuple[Node, ...] = (
    Node(
        "customer_signups",
        "customers whose created_at falls in each period",
        f"""
        SELECT grp, BUCKET(created_at) AS period_start, COUNT(*) AS customers_created
        FROM src_customers
        WHERE {_IN_SPINE.format(ts="created_at")}
        GROUP BY grp, BUCKET(created_at)
        """,
        measures=(Measure("customers_created", "customers with created_at in p"),),
        window="sum",
    ),
    _within_window("activation_cohorts", "activation_event", "customers_activated",
                   "customers created in p with an activation_event within window_days days of created_at"),
    _within_window("onboarding_cohorts", "onboarding_event", "customers_onboarded_in_window",
                   "customers created in p with an onboarding_event within window_days days of created_at"),
    _first_event_durations("time_to_value_durations", "value_event", "time_to_value",
                           "times from created_at to the first value_event, of customers created in p that reached it"),
    _first_event_durations("onboarding_durations", "onboarding_event", "onboarding_time",
                           "times from created_at to the first onboarding_event, of customers created in p that "
                           "completed onboarding"),
    Node(
        "trial_periods",
        "trials started in each period (and of them, those converted at any time), and trials converted in it",
        f"""
        WITH trial_events AS (
          SELECT grp, BUCKET(started_at) AS period_start, 1 AS started,
            CASE WHEN converted_at IS NOT NULL THEN 1 ELSE 0 END AS started_converted, 0 AS converted
          FROM src_trials
          WHERE {_IN_SPINE.format(ts="started_at")}
          UNION ALL
          SELECT grp, BUCKET(converted_at) AS period_start, 0 AS started, 0 AS started_converted, 1 AS converted
          FROM src_trials
          WHERE {_IN_SPINE.format(ts="converted_at")}
        )
        SELECT grp, period_start, SUM(started) AS trials_started, SUM(started_converted) AS trials_started_converted,
          SUM(converted) AS trials_converted
        FROM trial_events
        GROUP BY grp, period_start
        """,
        measures=(
            Measure("trials_started", "trials with started_at in p"),
            Measure("trials_started_converted", "trials with started_at in p and converted_at not null (at any time)"),
            Measure("trials_converted", "trials with converted_at in p"),
        ),
        window="sum",
    ),
    Node(
        "user_population",
        "users created before each p.end: a running count over the periods",
        f"""
        WITH per_period AS (
          SELECT grp, GREATEST(BUCKET(created_at), :spine_start) AS period_start, COUNT(*) AS n
          FROM src_users
          WHERE created_at < :spine_end
          GROUP BY grp, GREATEST(BUCKET(created_at), :spine_start)
        )
        SELECT g.grp, g.period_start, SUM(COALESCE(p.n, 0)) OVER ({_G}) AS users_to_date
        FROM grid AS g
        LEFT JOIN per_period AS p ON p.grp = g.grp AND p.period_start = g.period_start
        """,
        measures=(Measure("users_to_date", "users with created_at < p.end"),),
        window="as_is",  # as of p.end
    ),
    Node(
        "period_days",
        "the length of each period in days (a month has 28 to 31)",
        """
        SELECT grp, period_start, (EPOCH_SECONDS(period_end) - EPOCH_SECONDS(period_start)) / 86400 AS days_in_period
        FROM grid
        """,
        measures=(Measure("days_in_period", "days in p", fill=None),),
        window_sql="""
        SELECT grp, period_start, (EPOCH_SECONDS(period_end) - EPOCH_SECONDS(window_start)) / 86400 AS days_in_period
        FROM grid
        """,
    ),
    Node(
        "active_user_periods",
        "distinct users with an event named in :active_events (NULL: any) in each period, and the sum over the "
        "days of the period (the calendar's local days) of each day's distinct such users",
        _ACTIVE_USER_PERIODS_SQL,
        measures=(
            Measure("period_active_users", "distinct users with an event in p whose name is in active_events (any)"),
            Measure("active_user_days", "Σ over the UTC days of p of that day's distinct active users"),
        ),
        window_sql=_swap(_ACTIVE_USER_PERIODS_SQL, *(
            ("""        SELECT grp, period_start, COUNT(DISTINCT user_id) AS period_active_users, COUNT(*) AS active_user_days
        FROM active_days
        GROUP BY grp, period_start""",
             """        SELECT a.grp, m.window_period AS period_start, COUNT(DISTINCT a.user_id) AS period_active_users,
          COUNT(*) AS active_user_days
        FROM active_days AS a
        JOIN window_map AS m ON m.period_start = a.period_start
        GROUP BY a.grp, m.window_period"""),
        )),
    ),
    Node(
        "engaged_user_periods",
        "distinct users with an :engagement_event (NULL: any event) in each period",
        _ENGAGED_USER_PERIODS_SQL,
        measures=(Measure("engaged_users", "distinct users with an engagement_event (default: any) in p"),),
        window_sql=_swap(_ENGAGED_USER_PERIODS_SQL, *(
            ("SELECT grp, BUCKET(occurred_at) AS period_start, COUNT(DISTINCT user_id) AS engaged_users",
             "SELECT e.grp, m.window_period AS period_start, COUNT(DISTINCT e.user_id) AS engaged_users"),
            ("FROM src_events\n", "FROM src_events AS e\n        JOIN window_map AS m ON m.period_start = BUCKET(e.occurred_at)\n"),
            ("GROUP BY grp, BUCKET(occurred_at)", "GROUP BY e.grp, m.window_period"),
        )),
    ),
    Node(
        "end_customer_periods",
        "the set E customer by customer: one row per period and customer paying at p.end (a customer is in E at p "
        "iff its latest changing period <= p ends with a paid row running), with the period's length in days",
        _END_CUSTOMER_PERIODS_SQL,
        window_sql=_swap(_END_CUSTOMER_PERIODS_SQL, *(
            ("EPOCH_SECONDS(g.period_start)) / 86400 AS days", "EPOCH_SECONDS(g.window_start)) / 86400 AS days"),
        )),
    ),
    Node(
        "health_customer_scores",
        "each customer of E (paying at p.end) with its health score in p: 100 × (w_f·frequency + w_b·breadth + "
        "w_d·depth); a customer without events scores 0",
        _HEALTH_CUSTOMER_SCORES_SQL,
        window_sql=_swap(_HEALTH_CUSTOMER_SCORES_SQL, *(
            ("SELECT e.grp, e.customer_id, BUCKET(e.occurred_at) AS period_start,",
             "SELECT e.grp, e.customer_id, m.window_period AS period_start,"),
            ("WHEN BUCKET(u.created_at) <= BUCKET(e.occurred_at) THEN", "WHEN BUCKET(u.created_at) <= m.window_period THEN"),
            ("          FROM src_events AS e\n",
             "          FROM src_events AS e\n          JOIN window_map AS m ON m.period_start = BUCKET(e.occurred_at)\n"),
            ("GROUP BY e.grp, e.customer_id, BUCKET(e.occurred_at)", "GROUP BY e.grp, e.customer_id, m.window_period"),
        )),
    ),
    Node(
        "health_scores",
        "the mean health score over the customers of E, per period",
        """
        SELECT grp, period_start, AVG(score) AS health_score_mean, COUNT(*) AS health_scored_customers
        FROM health_customer_scores
        GROUP BY grp, period_start
        """,
        measures=(
            Measure("health_score_mean", "mean over c ∈ E of c's health score in p", fill=None),
            Measure("health_scored_customers", "customers of E scored in p (= |E|)"),
        ),
        window="as_is",  # reads only health_customer_scores, windowed
    ),
    Node(
        "health_customer_readings",
        "each customer of E with its health score in p (customer_health_score --by customer_id)",
        """
        SELECT grp, period_start, customer_id, score AS health_customer_score
        FROM health_customer_scores
        """,
        measures=(Measure("health_customer_score", "the health score in p of a customer of E", fill=None,
                          key="customer_id"),),
        window="as_is",  # reads only health_customer_scores, windowed
    ),
    Node(
        "health_bands",
        "the customers of E in each health band (at_risk < 40, needs_attention >= 40 and < 70, healthy >= 70, "
        "decided on the score rounded to 6 decimals) and their mean score; every band in every period",
        f"""
        WITH bands AS (
          SELECT '{AT_RISK}' AS health_band
          UNION ALL SELECT '{NEEDS_ATTENTION}'
          UNION ALL SELECT '{HEALTHY}'
        ), banded AS (
          SELECT grp, period_start, score,
            -- "the score rounded to 6 decimals is < 40" is "the score is < 39.9999995" (scores are >= 0),
            -- compared as doubles: the double nearest 39.9999995 lies above it, so a double score is below
            -- that double exactly when it is below 39.9999995 (no ROUND(x, n), no cast to a decimal that
            -- would round the score a second time)
            CASE WHEN CAST(score AS DOUBLE) < CAST(39.9999995 AS DOUBLE) THEN '{AT_RISK}'
                 WHEN CAST(score AS DOUBLE) < CAST(69.9999995 AS DOUBLE) THEN '{NEEDS_ATTENTION}'
                 ELSE '{HEALTHY}' END AS health_band
          FROM health_customer_scores
        ), per_band AS (
          SELECT grp, period_start, health_band, COUNT(*) AS customers, AVG(score) AS mean_score
          FROM banded
          GROUP BY grp, period_start, health_band
        )
        SELECT g.grp, g.period_start, b.health_band, COALESCE(p.customers, 0) AS health_band_customer_count,
          p.mean_score AS health_band_score_mean
        FROM grid AS g
        CROSS JOIN bands AS b
        LEFT JOIN per_band AS p
          ON p.grp = g.grp AND p.period_start = g.period_start AND p.health_band = b.health_band
        """,
        measures=(
            Measure("health_band_customer_count", "customers of E whose health score in p falls in the band",
                    key="health_band"),
            Measure("health_band_score_mean", "the mean health score in p of the customers of E in the band",
                    fill=None, key="health_band"),
        ),
        window="as_is",  # reads only health_customer_scores, windowed
    ),
    Node(
        "feature_adoption",
        "for each feature (every distinct event name of the whole events source, or every name listed in "
        ":features) and period, the customers of E with an event of that name in the period",
        _FEATURE_ADOPTION_SQL,
        measures=(Measure("feature_adopters", "customers of E with an event named after the feature in p",
                          key="feature"),),
        window_sql=_swap(_FEATURE_ADOPTION_SQL, *(
            ("SELECT DISTINCT grp, customer_id, BUCKET(occurred_at) AS period_start, name AS feature\n          FROM src_events\n",
             "SELECT DISTINCT e.grp, e.customer_id, m.window_period AS period_start, e.name AS feature\n"
             "          FROM src_events AS e\n          JOIN window_map AS m ON m.period_start = BUCKET(e.occurred_at)\n"),
        )),
    ),
    Node(
        "onboarding_step_cohorts",
        "for each event name listed in :onboarding_steps (whether or not the events source has it), customers "
        "created in each "
        "period with an event of that name within :window_days days of created_at",
        f"""
        WITH step_names AS (
          -- the listed names, whether or not the events source has them
          SELECT DISTINCT step FROM UNNEST(:onboarding_steps) AS t(step)
        ), signup_cohort AS ({_COHORT}
        ), reached AS (
          SELECT DISTINCT c.grp, c.customer_id, c.period_start, e.name AS step
          FROM signup_cohort AS c
          JOIN src_events AS e ON e.customer_id = c.customer_id
          WHERE e.name IN :onboarding_steps AND e.occurred_at >= c.created_at
            AND {seconds_between("c.created_at", "e.occurred_at")} <= :window_days * 86400
        ), per_step AS (
          SELECT grp, period_start, step, COUNT(*) AS customers
          FROM reached
          GROUP BY grp, period_start, step
        )
        SELECT g.grp, g.period_start, s.step, COALESCE(p.customers, 0) AS customers_completed_step
        FROM grid AS g
        CROSS JOIN step_names AS s
        LEFT JOIN per_step AS p ON p.grp = g.grp AND p.period_start = g.period_start AND p.step = s.step
        """,
        measures=(Measure("customers_completed_step", "customers created in p with the step's event within "
                          "window_days days of created_at", key="step"),),
        window="sum",
    ),
    Node(
        "referral_periods",
        "referrals made in each period",
        f"""
        SELECT grp, BUCKET(referred_at) AS period_start, COUNT(*) AS referrals_made
        FROM src_referrals
        WHERE {_IN_SPINE.format(ts="referred_at")}
        GROUP BY grp, BUCKET(referred_at)
        """,
        measures=(Measure("referrals_made", "referrals with referred_at in p"),),
        window="sum",
    ),
)
