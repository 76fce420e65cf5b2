WITH groups AS (
  /* step: one group: no --by */
  SELECT
    0 AS grp
), src_subscriptions AS (
  /* step: read subscriptions as the data contract names it */
  SELECT
    CAST(t."started_at" AS TIMESTAMP) AS started_at,
    CAST(t."ended_at" AS TIMESTAMP) AS ended_at,
    CAST(t."mrr" AS DECIMAL(38, 9)) AS mrr,
    CAST(t."is_trial" AS BOOLEAN) AS is_trial
  FROM "subscriptions" AS t
), spine AS (
  /* step: one row per month, from the period before the first reported one */
  SELECT
    CAST(d AS DATE) AS period_start,
    CAST(d + INTERVAL '1' MONTH AS DATE) AS period_end
  FROM UNNEST(SEQUENCE(CAST('2023-12-01' AS DATE), CAST('2024-06-01' AS DATE), INTERVAL '1' MONTH)) AS t(d)
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
    started_at,
    ended_at,
    mrr
  FROM src_subscriptions
  WHERE
    NOT COALESCE(is_trial, FALSE)
    AND (
      ended_at IS NULL OR ended_at <> started_at
    )
), sub_mrr_levels AS (
  WITH pairs AS (
    /* the rows summed per (period of their start, period of their end; NULL: still running): a few */
    /* hundred groups, then each pair is a +mrr and a −mrr event */
    SELECT
      CAST(DATE_TRUNC('MONTH', started_at) AS DATE) AS start_period,
      CAST(DATE_TRUNC('MONTH', ended_at) AS DATE) AS end_period,
      SUM(mrr) AS mrr
    FROM sub_rows
    GROUP BY
      CAST(DATE_TRUNC('MONTH', started_at) AS DATE),
      CAST(DATE_TRUNC('MONTH', ended_at) AS DATE)
  ), per_period AS (
    /* each event in its period, the earlier ones in the spine's first (the later ones meet no grid row) */
    SELECT
      0 AS grp,
      GREATEST(
        CASE WHEN e.is_start THEN p.start_period ELSE p.end_period END,
        CAST('2023-12-01' AS DATE)
      ) AS period_start,
      SUM(CASE WHEN e.is_start THEN p.mrr ELSE -p.mrr END) AS d_mrr
    FROM pairs AS p
    CROSS JOIN (VALUES
      (TRUE),
      (FALSE)) AS e(is_start)
    WHERE
      NOT CASE WHEN e.is_start THEN p.start_period ELSE p.end_period END IS NULL
    GROUP BY
      GREATEST(
        CASE WHEN e.is_start THEN p.start_period ELSE p.end_period END,
        CAST('2023-12-01' AS DATE)
      )
  )
  /* step: M(p.start), M(p.end) alone: running sums over the spine of the +mrr/−mrr events of each period, with no per-customer step (sub_levels' MRR, for runs that need nothing else of its steps) */
  SELECT
    g.grp,
    g.period_start,
    SUM(COALESCE(p.d_mrr, 0)) OVER (
      ORDER BY g.period_start NULLS FIRST
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS mrr_end
  FROM grid AS g
  LEFT JOIN per_period AS p
    ON p.grp = g.grp AND p.period_start = g.period_start
), measures AS (
  /* step: every measure per period and group (0 for counts and sums with no rows) */
  SELECT
    grid.grp,
    grid.period_start,
    grid.period_end,
    COALESCE(sub_mrr_levels.mrr_end, 0) AS mrr_end
  FROM grid
  LEFT JOIN sub_mrr_levels
    ON sub_mrr_levels.grp = grid.grp AND sub_mrr_levels.period_start = grid.period_start
), metric_values AS (
  /* step: each metric's formula over the measures, from the first reported period */
  SELECT
    grp,
    period_start,
    period_end,
    CAST(mrr_end AS DOUBLE) AS v0
  FROM measures
  WHERE
    period_start >= CAST('2024-01-01' AS DATE)
), long_values AS (
  /* step: one row per metric, variant, period and group */
  SELECT
    'mrr' AS metric,
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
  l.value
FROM long_values AS l
JOIN groups AS g
  ON l.grp = g.grp
ORDER BY
  l.metric_order,
  l.period_start
