WITH RECURSIVE _generated_dates(d) AS (
  SELECT
    CAST('2023-12-01' AS DATE) AS d
  UNION ALL
  SELECT
    CAST(DATEADD(MONTH, 1, d) AS DATE)
  FROM _generated_dates
  WHERE
    CAST(DATEADD(MONTH, 1, d) AS DATE) <= CAST('2024-06-01' AS DATE)
), groups AS (
  /* step: one group: no --by */
  SELECT
    0 AS grp
), src_tickets AS (
  /* step: read tickets as the data contract names it */
  SELECT
    CAST(t."created_at" AS TIMESTAMP) AS created_at,
    CAST(t."resolved_at" AS TIMESTAMP) AS resolved_at,
    CAST(t."reopened" AS BOOLEAN) AS reopened
  FROM "tickets" AS t
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
), ticket_periods AS (
  /* step: tickets created in each period, and of them those resolved (at any time), resolved at the first contact, and resolved but reopened */
  SELECT
    0 AS grp,
    CAST(DATE_TRUNC('MONTH', created_at) AS DATE) AS period_start,
    COUNT(*) AS tickets_created,
    SUM(CASE WHEN NOT resolved_at IS NULL THEN 1 ELSE 0 END) AS tickets_created_resolved,
    SUM(
      CASE WHEN NOT resolved_at IS NULL AND COALESCE(reopened, FALSE) THEN 1 ELSE 0 END
    ) AS tickets_resolved_reopened
  FROM src_tickets
  WHERE
    created_at >= CAST('2023-12-01' AS DATE)
    AND created_at < CAST('2024-07-01' AS DATE)
  GROUP BY
    CAST(DATE_TRUNC('MONTH', created_at) AS DATE)
), measures AS (
  /* step: every measure per period and group (0 for counts and sums with no rows) */
  SELECT
    grid.grp,
    grid.period_start,
    grid.period_end,
    COALESCE(ticket_periods.tickets_created, 0) AS tickets_created,
    COALESCE(ticket_periods.tickets_created_resolved, 0) AS tickets_created_resolved,
    COALESCE(ticket_periods.tickets_resolved_reopened, 0) AS tickets_resolved_reopened
  FROM grid
  LEFT JOIN ticket_periods
    ON ticket_periods.grp = grid.grp AND ticket_periods.period_start = grid.period_start
), metric_values AS (
  /* step: each metric's formula over the measures, from the first reported period */
  SELECT
    grp,
    period_start,
    period_end,
    CAST(CAST((
      (
        tickets_created_resolved - tickets_resolved_reopened
      )
    ) AS DOUBLE PRECISION) / NULLIF(CAST((
      tickets_created
    ) AS DOUBLE PRECISION), 0) AS DOUBLE PRECISION) AS v0
  FROM measures
  WHERE
    period_start >= CAST('2024-01-01' AS DATE)
), long_values AS (
  /* step: one row per metric, variant, period and group */
  SELECT
    'first_contact_resolution_rate' AS metric,
    'resolved_minus_reopened' AS variant,
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
