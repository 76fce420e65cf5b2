"""Building blocks over ``invoices``, ``renewals`` and ``costs``: per-period sums, the
previous period's invoices, and invoice history as of each period end (for CLV)."""

from __future__ import annotations

__all__ = ["NODES"]

from csframe.core.models import Measure, Node

_G = "PARTITION BY g.grp ORDER BY g.period_start ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW"

NODES = (
    Node(
        "invoice_periods",
        "invoices paid in each period: all of them, and those of kind upsell or cross_sell (a NULL kind is subscription)",
        """
        SELECT grp, BUCKET(paid_at) AS period_start,
          SUM(amount) AS invoiced_amount,
          SUM(CASE WHEN COALESCE(kind, 'subscription') IN ('upsell', 'cross_sell') THEN amount ELSE 0 END)
            AS upsell_invoiced_amount
        FROM src_invoices
        WHERE paid_at < :spine_end
        GROUP BY grp, BUCKET(paid_at)
        """,
        measures=(
            Measure("invoiced_amount", "Σ invoices.amount paid in p"),
            Measure("upsell_invoiced_amount", "Σ invoices.amount of kind upsell or cross_sell paid in p"),
        ),
        window="sum",
    ),
    Node(
        "invoice_previous_period",
        "invoices paid in p−1, read from the data even before the first reported period",
        """
        SELECT g.grp, g.period_start,
          LAG(COALESCE(i.invoiced_amount, 0)) OVER (PARTITION BY g.grp ORDER BY g.period_start)
            AS invoiced_amount_previous
        FROM grid AS g
        LEFT JOIN invoice_periods AS i ON i.grp = g.grp AND i.period_start = g.period_start
        """,
        measures=(Measure("invoiced_amount_previous", "Σ invoices.amount paid in p−1", fill=None),),
        # on windows p−1 is the window just before, k periods earlier (invoice_periods holds window sums)
        window_sql="""
        SELECT g.grp, g.period_start,
          LAG(COALESCE(i.invoiced_amount, 0), :window_periods) OVER (PARTITION BY g.grp ORDER BY g.period_start)
            AS invoiced_amount_previous
        FROM grid AS g
        LEFT JOIN invoice_periods AS i ON i.grp = g.grp AND i.period_start = g.period_start
        """,
    ),
    Node(
        "invoice_history",
        "invoices paid before each p.end: amount, count, customers, and each customer's first-to-last span (days)",
        f"""
        WITH per_customer AS (
          SELECT grp, customer_id, GREATEST(BUCKET(paid_at), :spine_start) AS period_start,
            SUM(amount) AS amount, COUNT(*) AS invoices, MIN(paid_at) AS first_at, MAX(paid_at) AS last_at
          FROM src_invoices
          WHERE paid_at < :spine_end
          GROUP BY grp, customer_id, GREATEST(BUCKET(paid_at), :spine_start)
        ), changes AS (
          SELECT grp, period_start, amount, invoices,
            CASE WHEN LAG(last_at) OVER (PARTITION BY grp, customer_id ORDER BY period_start) IS NULL
                 THEN 1 ELSE 0 END AS is_first,
            CAST(EPOCH_SECONDS(last_at) - EPOCH_SECONDS(COALESCE(
                   LAG(last_at) OVER (PARTITION BY grp, customer_id ORDER BY period_start), first_at))
                 AS DECIMAL(38, 6)) AS d_span_seconds
          FROM per_customer
        ), per_period AS (
          SELECT grp, period_start, SUM(amount) AS amount, SUM(invoices) AS invoices,
            SUM(is_first) AS customers, SUM(d_span_seconds) AS span_seconds
          FROM changes GROUP BY grp, period_start
        )
        SELECT g.grp, g.period_start,
          SUM(COALESCE(p.amount, 0)) OVER ({_G}) AS invoiced_amount_to_date,
          SUM(COALESCE(p.invoices, 0)) OVER ({_G}) AS invoices_to_date,
          SUM(COALESCE(p.customers, 0)) OVER ({_G}) AS invoiced_customers_to_date,
          SUM(COALESCE(p.span_seconds, 0)) OVER ({_G}) AS invoice_span_seconds_to_date
        FROM grid AS g
        LEFT JOIN per_period AS p ON p.grp = g.grp AND p.period_start = g.period_start
        """,
        measures=(
            Measure("invoiced_amount_to_date", "Σ amount of invoices paid before p.end"),
            Measure("invoices_to_date", "number of invoices paid before p.end"),
            Measure("invoiced_customers_to_date", "distinct customers with an invoice paid before p.end"),
            Measure("invoice_span_seconds_to_date",
                    "Σ over those customers of (last paid_at − first paid_at before p.end), in exact seconds"),
        ),
        window="as_is",  # as of p.end
    ),
    Node(
        "renewal_periods",
        "contracts whose due_at is in each period: how many, how many renewed, value up and value renewed",
        """
        SELECT grp, BUCKET(due_at) AS period_start,
          COUNT(*) AS renewals_due,
          SUM(CASE WHEN renewed THEN 1 ELSE 0 END) AS renewals_renewed,
          SUM(value_up) AS renewal_value_up,
          SUM(renewed_value) AS renewal_value_renewed
        FROM src_renewals
        WHERE due_at < :spine_end
        GROUP BY grp, BUCKET(due_at)
        """,
        measures=(
            Measure("renewals_due", "contracts with due_at in p"),
            Measure("renewals_renewed", "contracts with due_at in p that renewed"),
            Measure("renewal_value_up", "Σ value_up of contracts due in p"),
            Measure("renewal_value_renewed", "Σ renewed_value of contracts due in p"),
        ),
        window="sum",
    ),
    Node(
        "cost_periods",
        "costs incurred in each period, by category",
        """
        SELECT grp, BUCKET(incurred_at) AS period_start,
          SUM(CASE WHEN category = 'acquisition' THEN amount ELSE 0 END) AS acquisition_cost,
          SUM(CASE WHEN category = 'retention' THEN amount ELSE 0 END) AS retention_cost
        FROM src_costs
        WHERE incurred_at < :spine_end
        GROUP BY grp, BUCKET(incurred_at)
        """,
        measures=(
            Measure("acquisition_cost", "Σ costs.amount of category acquisition incurred in p"),
            Measure("retention_cost", "Σ costs.amount of category retention incurred in p"),
        ),
        window="sum",
    ),
)
