WITH groups AS (
  /* step: one group: no --by */
  SELECT
    0 AS grp
), src_subscriptions AS (
  /* step: read subscriptions as the data contract names it */
  SELECT
    CAST(t."customer_id" AS VARCHAR) AS customer_id,
    CAST(t."started_at" AS TIMESTAMP) AS started_at,
    CAST(t."ended_at" AS TIMESTAMP) AS ended_at,
    CAST(t."mrr" AS DECIMAL(38, 9)) AS mrr,
    CAST(t."is_trial" AS BOOLEAN) AS is_trial
  FROM "subscriptions" AS t
), src_events AS (
  /* step: read events as the data contract names it */
  SELECT
    CAST(t."user_id" AS VARCHAR) AS user_id,
    CAST(t."customer_id" AS VARCHAR) AS customer_id,
    CAST(t."name" AS VARCHAR) AS name,
    CAST(t."occurred_at" AS TIMESTAMP) AS occurred_at
  FROM "events" AS t
), src_users AS (
  /* step: read users as the data contract names it */
  SELECT
    CAST(t."user_id" AS VARCHAR) AS user_id,
    CAST(t."customer_id" AS VARCHAR) AS customer_id,
    CAST(t."created_at" AS TIMESTAMP) AS created_at
  FROM "users" AS t
), spine AS (
  /* step: one row per month, from the period before the first reported one */
  SELECT
    CAST(d AS DATE) AS period_start,
    CAST(d + INTERVAL '1 MONTH' AS DATE) AS period_end
  FROM (
    SELECT
      DATEADD(MONTH, CAST(d AS INT), CAST('2023-12-01' AS DATE)) AS d
    FROM TABLE(FLATTEN(INPUT => ARRAY_GENERATE_RANGE(0, DATEDIFF(MONTH, CAST('2023-12-01' AS DATE), CAST('2024-06-01' AS DATE)) + 1))) AS t(seq, key, path, index, d, this)
  ) AS t(d)
), grid AS (
  /* step: every period × group */
  SELECT
    g.grp,
    s.period_start,
    s.period_end
  FROM groups AS g
  CROSS JOIN spine AS s
), sub_rows AS (
  /* step: non-trial subscription rows that carry time (rows with ended_at = started_at are ignored) */
  SELECT
    customer_id,
    started_at,
    ended_at,
    mrr
  FROM src_subscriptions
  WHERE
    NOT COALESCE(is_trial, FALSE)
    AND (
      ended_at IS NULL OR ended_at <> started_at
    )
), sub_customer_periods AS (
  WITH events AS (
    SELECT
      r.customer_id,
      CASE WHEN e.is_start THEN r.started_at ELSE r.ended_at END AS t,
      CASE WHEN e.is_start THEN r.mrr ELSE -r.mrr END AS d_mrr
    FROM sub_rows AS r
    CROSS JOIN (VALUES
      (TRUE),
      (FALSE)) AS e(is_start)
    WHERE
      e.is_start OR NOT r.ended_at IS NULL
  ), per_period AS (
    SELECT
      0 AS grp,
      customer_id,
      GREATEST_IGNORE_NULLS(CAST(DATE_TRUNC('MONTH', t) AS DATE), CAST('2023-12-01' AS DATE)) AS period_start,
      SUM(d_mrr) AS d_mrr
    FROM events
    WHERE
      t < CAST('2024-07-01' AS DATE)
    GROUP BY
      customer_id,
      GREATEST_IGNORE_NULLS(CAST(DATE_TRUNC('MONTH', t) AS DATE), CAST('2023-12-01' AS DATE))
  ), running AS (
    SELECT
      grp,
      customer_id,
      period_start,
      d_mrr,
      SUM(d_mrr) OVER (
        PARTITION BY customer_id
        ORDER BY period_start NULLS FIRST
        ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
      ) AS b_end
    FROM per_period
  )
  /* step: B_c at the start and end of every period in which customer c changed (+mrr at started_at, −mrr at ended_at, running sums), and first_paid_c, the customer's first start of a non-trial row with mrr > 0 */
  SELECT
    grp,
    customer_id,
    period_start,
    b_end,
    CASE WHEN b_end > 0 THEN 1 ELSE 0 END AS n_end
  FROM running
), end_customer_periods AS (
  WITH customer_changes AS (
    SELECT
      grp,
      customer_id,
      period_start,
      n_end,
      LEAD(period_start) OVER (PARTITION BY customer_id ORDER BY period_start NULLS FIRST) AS next_change
    FROM sub_customer_periods
  )
  /* step: the set E customer by customer: one row per period and customer paying at p.end (a customer is in E at p iff its latest changing period <= p ends with a paid row running), with the period's length in days */
  SELECT
    g.grp,
    g.period_start,
    c.customer_id,
    (
      EXTRACT(epoch_second FROM g.period_end) - EXTRACT(epoch_second FROM g.period_start)
    ) / 86400 AS days
  FROM customer_changes AS c
  JOIN grid AS g
    ON g.grp = c.grp
    AND g.period_start >= c.period_start
    AND (
      c.next_change IS NULL OR g.period_start < c.next_change
    )
  WHERE
    c.n_end > 0
), health_customer_scores AS (
  WITH activity AS (
    /* one pass over the events of the spine: active days, names, and the users of the customer created */
    /* before p.end with an event in p (breadth's numerator) */
    SELECT
      0 AS grp,
      e.customer_id,
      CAST(DATE_TRUNC('MONTH', e.occurred_at) AS DATE) AS period_start,
      COUNT(DISTINCT CAST(e.occurred_at AS DATE)) AS active_days,
      COUNT(DISTINCT e.name) AS names,
      COUNT(
        DISTINCT CASE
          WHEN CAST(DATE_TRUNC('MONTH', u.created_at) AS DATE) <= CAST(DATE_TRUNC('MONTH', e.occurred_at) AS DATE)
          THEN e.user_id
        END
      ) AS active_users
    FROM src_events AS e
    LEFT JOIN src_users AS u
      ON u.user_id = e.user_id AND u.customer_id = e.customer_id
    WHERE
      e.occurred_at >= CAST('2023-12-01' AS DATE)
      AND e.occurred_at < CAST('2024-07-01' AS DATE)
    GROUP BY
      e.customer_id,
      CAST(DATE_TRUNC('MONTH', e.occurred_at) AS DATE)
  ), seats_created AS (
    SELECT
      0 AS grp,
      customer_id,
      GREATEST_IGNORE_NULLS(CAST(DATE_TRUNC('MONTH', created_at) AS DATE), CAST('2023-12-01' AS DATE)) AS period_start,
      COUNT(*) AS n
    FROM src_users
    WHERE
      created_at < CAST('2024-07-01' AS DATE)
    GROUP BY
      customer_id,
      GREATEST_IGNORE_NULLS(CAST(DATE_TRUNC('MONTH', created_at) AS DATE), CAST('2023-12-01' AS DATE))
  ), seats AS (
    SELECT
      0 AS grp,
      p.period_start,
      p.customer_id,
      SUM(s.n) AS users
    FROM end_customer_periods AS p
    JOIN seats_created AS s
      ON s.grp = p.grp
      AND s.customer_id = p.customer_id
      AND s.period_start <= p.period_start
    GROUP BY
      p.period_start,
      p.customer_id
  ), vocabulary AS (
    /* distinct event names in the whole source, whatever the period and the group */
    SELECT
      COUNT(DISTINCT name) AS names
    FROM src_events
  )
  /* step: each customer of E (paying at p.end) with its health score in p: 100 × (w_f·frequency + w_b·breadth + w_d·depth); a customer without events scores 0 */
  SELECT
    p.period_start,
    100 * (
      0.3333333333333333 * COALESCE(CAST((
        a.active_days
      ) AS DOUBLE) / NULLIF(CAST((
        p.days
      ) AS DOUBLE), 0), 0) + 0.3333333333333333 * COALESCE(CAST((
        a.active_users
      ) AS DOUBLE) / NULLIF(CAST((
        c.users
      ) AS DOUBLE), 0), 0) + 0.3333333333333333 * COALESCE(CAST((
        a.names
      ) AS DOUBLE) / NULLIF(CAST((
        v.names
      ) AS DOUBLE), 0), 0)
    ) AS score
  FROM end_customer_periods AS p
  CROSS JOIN vocabulary AS v
  LEFT JOIN activity AS a
    ON a.grp = p.grp
    AND a.customer_id = p.customer_id
    AND a.period_start = p.period_start
  LEFT JOIN seats AS c
    ON c.grp = p.grp
    AND c.customer_id = p.customer_id
    AND c.period_start = p.period_start
), health_scores AS (
  /* step: the mean health score over the customers of E, per period */
  SELECT
    0 AS grp,
    period_start,
    AVG(score) AS health_score_mean
  FROM health_customer_scores
  GROUP BY
    period_start
), measures AS (
  /* step: every measure per period and group (0 for counts and sums with no rows) */
  SELECT
    grid.grp,
    grid.period_start,
    grid.period_end,
    health_scores.health_score_mean AS health_score_mean
  FROM grid
  LEFT JOIN health_scores
    ON health_scores.grp = grid.grp AND health_scores.period_start = grid.period_start
), metric_values AS (
  /* step: each metric's formula over the measures, from the first reported period */
  SELECT
    grp,
    period_start,
    period_end,
    CAST(health_score_mean AS DOUBLE) AS v0
  FROM measures
  WHERE
    period_start >= CAST('2024-01-01' AS DATE)
), long_values AS (
  /* step: one row per metric, variant, period and group */
  SELECT
    'customer_health_score' AS metric,
    'frequency_breadth_depth' AS variant,
    0 AS metric_order,
    grp,
    period_start,
    period_end,
    v0 AS value
  FROM metric_values
)
SELECT
  l.metric,
  l.variant,
  l.period_start,
  l.period_end,
  l.value
FROM long_values AS l
JOIN groups AS g
  ON l.grp = g.grp
ORDER BY
  l.metric_order,
  l.period_start
