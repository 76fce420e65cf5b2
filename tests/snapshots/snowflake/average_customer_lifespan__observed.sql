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
      CASE WHEN e.is_start THEN r.mrr ELSE -r.mrr END AS d_mrr,
      CASE WHEN NOT e.is_start AND r.mrr > 0 THEN r.ended_at END AS paid_end_at,
      CASE WHEN e.is_start AND r.mrr > 0 THEN r.started_at END AS paid_start_at
    FROM sub_rows AS r
    CROSS JOIN (VALUES
      (TRUE),
      (FALSE)) AS e(is_start)
    WHERE
      e.is_start OR NOT r.ended_at IS NULL
  ), per_period AS (
    SELECT
      customer_id,
      GREATEST_IGNORE_NULLS(CAST(DATE_TRUNC('MONTH', t) AS DATE), CAST('2023-12-01' AS DATE)) AS period_start,
      SUM(d_mrr) AS d_mrr,
      MAX(paid_end_at) AS paid_end_at,
      MIN(paid_start_at) AS paid_start_at
    FROM events
    WHERE
      t < CAST('2024-07-01' AS DATE)
    GROUP BY
      customer_id,
      GREATEST_IGNORE_NULLS(CAST(DATE_TRUNC('MONTH', t) AS DATE), CAST('2023-12-01' AS DATE))
  ), running AS (
    SELECT
      customer_id,
      period_start,
      d_mrr,
      SUM(d_mrr) OVER (
        PARTITION BY customer_id
        ORDER BY period_start NULLS FIRST
        ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
      ) AS b_end,
      MAX(paid_end_at) OVER (
        PARTITION BY customer_id
        ORDER BY period_start NULLS FIRST
        ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
      ) AS last_paid_end_at,
      MAX(paid_end_at) OVER (
        PARTITION BY customer_id
        ORDER BY period_start NULLS FIRST
        ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
      ) AS previous_last_paid_end_at,
      LAG(period_start) OVER (PARTITION BY customer_id ORDER BY period_start NULLS FIRST) AS previous_period_start,
      MIN(paid_start_at) OVER (PARTITION BY customer_id) AS first_paid_at
    FROM per_period
  )
  /* step: B_c at the start and end of every period in which customer c changed (+mrr at started_at, −mrr at ended_at, running sums), and first_paid_c, the customer's first start of a non-trial row with mrr > 0 */
  SELECT
    period_start,
    b_end,
    CASE WHEN b_end - d_mrr > 0 THEN 1 ELSE 0 END AS n_start, /* paying (1) or not (0) at p.start and at p.end: B_c > 0 */
    CASE WHEN b_end > 0 THEN 1 ELSE 0 END AS n_end,
    last_paid_end_at,
    previous_last_paid_end_at,
    previous_period_start,
    first_paid_at
  FROM running
), sub_observed_lifespans AS (
  WITH changes AS (
    /* the customer's contribution as of this period's end, minus the one as of the end of */
    /* their previous changing period (first_paid_c < P.end  ⇔  BUCKET(first_paid_c) <= P) */
    SELECT
      period_start,
      CASE
        WHEN n_end = 0 AND CAST(DATE_TRUNC('MONTH', first_paid_at) AS DATE) <= period_start
        THEN CAST(EXTRACT(epoch_second FROM last_paid_end_at) - EXTRACT(epoch_second FROM first_paid_at) AS DECIMAL(38, 6))
        ELSE 0
      END - CASE
        WHEN n_start = 0
        AND CAST(DATE_TRUNC('MONTH', first_paid_at) AS DATE) <= previous_period_start
        THEN CAST(EXTRACT(epoch_second FROM previous_last_paid_end_at) - EXTRACT(epoch_second FROM first_paid_at) AS DECIMAL(38, 6))
        ELSE 0
      END AS d_lifespan,
      CASE
        WHEN n_end = 0 AND CAST(DATE_TRUNC('MONTH', first_paid_at) AS DATE) <= period_start
        THEN 1
        ELSE 0
      END - CASE
        WHEN n_start = 0
        AND CAST(DATE_TRUNC('MONTH', first_paid_at) AS DATE) <= previous_period_start
        THEN 1
        ELSE 0
      END AS d_ended
    FROM sub_customer_periods
  ), per_period AS (
    SELECT
      0 AS grp,
      period_start,
      SUM(d_lifespan) AS d_lifespan,
      SUM(d_ended) AS d_ended
    FROM changes
    GROUP BY
      period_start
  )
  /* step: as of each p.end: lifespans (first paid start to last paid end, in exact seconds: decimal running sums) of customers who paid and no longer pay */
  SELECT
    g.grp,
    g.period_start,
    SUM(COALESCE(p.d_lifespan, 0)) OVER (
      ORDER BY g.period_start NULLS FIRST
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS ended_lifespan_seconds,
    SUM(COALESCE(p.d_ended, 0)) OVER (
      ORDER BY g.period_start NULLS FIRST
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS ended_customers
  FROM grid AS g
  LEFT JOIN per_period AS p
    ON p.grp = g.grp AND p.period_start = g.period_start
), measures AS (
  /* step: every measure per period and group (0 for counts and sums with no rows) */
  SELECT
    grid.grp,
    grid.period_start,
    grid.period_end,
    COALESCE(sub_observed_lifespans.ended_customers, 0) AS ended_customers,
    COALESCE(sub_observed_lifespans.ended_lifespan_seconds, 0) AS ended_lifespan_seconds
  FROM grid
  LEFT JOIN sub_observed_lifespans
    ON sub_observed_lifespans.grp = grid.grp
    AND sub_observed_lifespans.period_start = grid.period_start
), metric_values AS (
  /* step: each metric's formula over the measures, from the first reported period */
  SELECT
    grp,
    period_start,
    period_end,
    CAST(CAST((
      CAST((
        ended_lifespan_seconds
      ) AS DOUBLE) / NULLIF(CAST((
        2629800
      ) AS DOUBLE), 0)
    ) AS DOUBLE) / NULLIF(CAST((
      ended_customers
    ) AS DOUBLE), 0) AS DOUBLE) AS v0
  FROM measures
  WHERE
    period_start >= CAST('2024-01-01' AS DATE)
), long_values AS (
  /* step: one row per metric, variant, period and group */
  SELECT
    'average_customer_lifespan' AS metric,
    'observed' AS variant,
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
