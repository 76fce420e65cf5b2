WITH RECURSIVE _generated_dates(d) AS (
  SELECT
    CAST('2023-12-01' AS DATE) AS d
  UNION ALL
  SELECT
    CAST(DATEADD(MONTH, 1, d) AS DATE)
  FROM _generated_dates
  WHERE
    CAST(DATEADD(MONTH, 1, d) AS DATE) <= CAST('2024-06-01' AS DATE)
), src_customers AS (
  /* step: read customers (canonical columns, --by dimensions and cohort: the period of first_paid_c) */
  SELECT
    *,
    DENSE_RANK() OVER (ORDER BY "cohort") AS grp
  FROM (
    SELECT
      c.customer_id,
      c.created_at,
      f.cohort AS "cohort"
    FROM (
      SELECT
        CAST(t."customer_id" AS VARCHAR) AS customer_id,
        CAST(t."created_at" AS TIMESTAMP) AS created_at
      FROM "customers" AS t
    ) AS c
    JOIN (
      SELECT
        s.customer_id,
        CAST(DATE_TRUNC('MONTH', MIN(s.started_at)) AS DATE) AS cohort
      FROM (
        SELECT
          CAST(t."customer_id" AS VARCHAR) AS customer_id,
          CAST(t."started_at" AS TIMESTAMP) AS started_at,
          CAST(t."ended_at" AS TIMESTAMP) AS ended_at,
          CAST(t."mrr" AS DECIMAL(38, 9)) AS mrr,
          CAST(t."is_trial" AS BOOLEAN) AS is_trial
        FROM "subscriptions" AS t
      ) AS s
      WHERE
        NOT COALESCE(s.is_trial, FALSE)
        AND s.mrr > 0
        AND (
          s.ended_at IS NULL OR s.ended_at <> s.started_at
        )
      GROUP BY
        s.customer_id
    ) AS f
      ON f.customer_id = c.customer_id
  ) AS r
), customer_groups AS (
  /* step: each customer's group of --by cohort */
  SELECT
    customer_id,
    "cohort",
    grp
  FROM src_customers
), groups AS (
  /* step: every distinct value of the --by dimensions among customers (NULL is a group) */
  SELECT DISTINCT
    grp,
    "cohort"
  FROM customer_groups
), src_subscriptions AS (
  /* step: read subscriptions as the data contract names it, with its --by group */
  SELECT
    r.customer_id,
    r.started_at,
    r.ended_at,
    r.mrr,
    r.is_trial,
    cg.grp
  FROM (
    SELECT
      CAST(t."customer_id" AS VARCHAR) AS customer_id,
      CAST(t."started_at" AS TIMESTAMP) AS started_at,
      CAST(t."ended_at" AS TIMESTAMP) AS ended_at,
      CAST(t."mrr" AS DECIMAL(38, 9)) AS mrr,
      CAST(t."is_trial" AS BOOLEAN) AS is_trial
    FROM "subscriptions" AS t
  ) AS r
  JOIN customer_groups AS cg
    ON r.customer_id = cg.customer_id
), spine AS (
  /* step: one row per month, from the period before the first reported one */
  SELECT
    CAST(d AS DATE) AS period_start,
    CAST(d + INTERVAL '1 MONTH' AS DATE) AS period_end
  FROM (
    SELECT
      d
    FROM _generated_dates
  ) AS _generated_dates
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
    grp,
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
      r.grp,
      r.customer_id,
      CASE WHEN e.is_start THEN r.started_at ELSE r.ended_at END AS t,
      CASE WHEN e.is_start THEN r.mrr ELSE -r.mrr END AS d_mrr
    FROM sub_rows AS r
    CROSS JOIN (
      SELECT
        TRUE AS is_start
      UNION ALL
      SELECT
        FALSE
    ) AS e
    WHERE
      e.is_start OR NOT r.ended_at IS NULL
  ), per_period AS (
    SELECT
      grp,
      customer_id,
      GREATEST(CAST(DATE_TRUNC('MONTH', t) AS DATE), CAST('2023-12-01' AS DATE)) AS period_start,
      SUM(d_mrr) AS d_mrr
    FROM events
    WHERE
      t < CAST('2024-07-01' AS DATE)
    GROUP BY
      grp,
      customer_id,
      GREATEST(CAST(DATE_TRUNC('MONTH', t) AS DATE), CAST('2023-12-01' AS DATE))
  ), running AS (
    SELECT
      grp,
      customer_id,
      period_start,
      d_mrr,
      SUM(d_mrr) OVER (
        PARTITION BY grp, customer_id
        ORDER BY period_start NULLS FIRST
        ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
      ) AS b_end
    FROM per_period
  )
  /* step: B_c at the start and end of every period in which customer c changed (+mrr at started_at, −mrr at ended_at, running sums), and first_paid_c, the customer's first start of a non-trial row with mrr > 0 */
  SELECT
    grp,
    period_start,
    b_end,
    CASE WHEN b_end - d_mrr > 0 THEN 1 ELSE 0 END AS n_start, /* paying (1) or not (0) at p.start and at p.end: B_c > 0 */
    CASE WHEN b_end > 0 THEN 1 ELSE 0 END AS n_end
  FROM running
), sub_movements AS (
  /* step: per period: the sets N, L, R and A \ S and the MRR movements, customer by customer */
  SELECT
    c.grp,
    c.period_start,
    SUM(
      CASE WHEN c.n_end > 0 THEN 1 ELSE 0 END - CASE WHEN c.n_start > 0 THEN 1 ELSE 0 END
    ) AS d_customers
  FROM sub_customer_periods AS c
  GROUP BY
    c.grp,
    c.period_start
), sub_levels AS (
  /* step: |S|, |E|, M(p.start), M(p.end): running sums of the per-period changes over the spine */
  SELECT
    g.grp,
    g.period_start,
    SUM(COALESCE(m.d_customers, 0)) OVER (
      PARTITION BY g.grp
      ORDER BY g.period_start NULLS FIRST
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS customers_end
  FROM grid AS g
  LEFT JOIN sub_movements AS m
    ON m.grp = g.grp AND m.period_start = g.period_start
), cohort_levels AS (
  WITH paid AS (
    SELECT
      grp,
      customer_id,
      CAST(DATE_TRUNC('MONTH', MIN(started_at)) AS DATE) AS cohort_start
    FROM sub_rows
    WHERE
      mrr > 0
    GROUP BY
      grp,
      customer_id
  ), at_cohort_end AS (
    SELECT
      p.grp,
      p.customer_id
    FROM paid AS p
    JOIN sub_rows AS r
      ON r.grp = p.grp AND r.customer_id = p.customer_id
    WHERE
      CAST(DATE_TRUNC('MONTH', r.started_at) AS DATE) <= p.cohort_start
      AND (
        r.ended_at IS NULL
        OR CAST(DATE_TRUNC('MONTH', r.ended_at) AS DATE) > p.cohort_start
      )
    GROUP BY
      p.grp,
      p.customer_id
  ), per_group AS (
    SELECT
      p.grp,
      COUNT(*) AS cohort_size
    FROM paid AS p
    LEFT JOIN at_cohort_end AS e
      ON e.grp = p.grp AND e.customer_id = p.customer_id
    GROUP BY
      p.grp
  )
  /* step: per cohort group: |N_c|, Σ_{N_c} B(c.end) at the end of the cohort period, and per period |N_c ∩ E| and Σ_{N_c} B(p.end) */
  SELECT
    l.grp,
    l.period_start,
    l.customers_end AS cohort_customers,
    COALESCE(g.cohort_size, 0) AS cohort_size
  FROM sub_levels AS l
  LEFT JOIN per_group AS g
    ON g.grp = l.grp
), measures AS (
  /* step: every measure per period and group (0 for counts and sums with no rows) */
  SELECT
    grid.grp,
    grid.period_start,
    grid.period_end,
    COALESCE(cohort_levels.cohort_customers, 0) AS cohort_customers,
    COALESCE(cohort_levels.cohort_size, 0) AS cohort_size
  FROM grid
  LEFT JOIN cohort_levels
    ON cohort_levels.grp = grid.grp AND cohort_levels.period_start = grid.period_start
), metric_values AS (
  /* step: each metric's formula over the measures, from the first reported period */
  SELECT
    grp,
    period_start,
    period_end,
    CAST(CAST((
      cohort_customers
    ) AS DOUBLE PRECISION) / NULLIF(CAST((
      cohort_size
    ) AS DOUBLE PRECISION), 0) AS DOUBLE PRECISION) AS v0
  FROM measures
  WHERE
    period_start >= CAST('2024-01-01' AS DATE)
), long_values AS (
  /* step: one row per metric, variant, period and group */
  SELECT
    'logo_retention' AS metric,
    'default' AS variant,
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
  g."cohort",
  l.value
FROM long_values AS l
JOIN groups AS g
  ON l.grp = g.grp
WHERE
  l.period_start >= g."cohort"
ORDER BY
  l.metric_order,
  l.period_start,
  g."cohort"
