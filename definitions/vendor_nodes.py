"""The steps behind the vendors' readings (docs/vendors.md) that the data contract's sets S, E,
N, L, R and A cannot give: paying transitions counted one by one (Stripe and Baremetrics count a
customer who starts and stops within the period, and a second stop as a second churn), and the
churn rate of every day of a period (ChartMogul's Shopify formula).

Both read paying status exactly as :mod:`.subscription_sets` does: a running *count* of a
customer's rows with mrr > 0, each row +1 at ``started_at`` and −1 at ``ended_at`` (the rows of
``sub_rows``: no trials, no zero-length rows), so a row ending at the instant the next one starts
changes nothing. An event at instant t belongs to the period holding t (a row ending at p.end
stops in p+1, as the contract's L does).
"""

from __future__ import annotations

__all__ = ["NODES"]

from csframe.core.models import Measure, Node

_PAYING_EVENTS = """
  SELECT r.grp, r.customer_id,
         CASE WHEN e.is_start THEN r.started_at ELSE r.ended_at END AS t,
         CASE WHEN e.is_start THEN 1 ELSE -1 END AS d_paying
  FROM sub_rows AS r
  CROSS JOIN (VALUES (TRUE), (FALSE)) AS e(is_start)
  WHERE r.mrr > 0 AND (e.is_start OR r.ended_at IS NOT NULL)
"""

NODES = (
    Node(
        "sub_paying_transitions",
        "per period: how many times a customer started paying (from not paying) and stopped paying (to not "
        "paying), each transition counted, at the instants of the rows",
        f"""
        WITH events AS ({_PAYING_EVENTS}
        ), per_instant AS (
          SELECT grp, customer_id, t, SUM(d_paying) AS d_paying
          FROM events
          WHERE t < :spine_end
          GROUP BY grp, customer_id, t
        ), running AS (
          SELECT grp, customer_id, t, d_paying,
                 SUM(d_paying) OVER (PARTITION BY grp, customer_id ORDER BY t
                                     ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS n_after
          FROM per_instant
        )
        SELECT grp, BUCKET(t) AS period_start,
          SUM(CASE WHEN n_after - d_paying > 0 AND n_after = 0 THEN 1 ELSE 0 END) AS paying_stops,
          SUM(CASE WHEN n_after - d_paying = 0 AND n_after > 0 THEN 1 ELSE 0 END) AS paying_starts
        FROM running
        WHERE BUCKET(t) >= :spine_start
        GROUP BY grp, BUCKET(t)
        """,
        measures=(
            Measure("paying_stops", "times a customer went from paying to not paying in p (every stop counted, "
                                    "customers new in p included)"),
            Measure("paying_starts", "times a customer went from not paying to paying in p (new and returning)"),
        ),
        window="sum",  # transitions in a window: those of its periods
    ),
    Node(
        "sub_daily_churn",
        "per period: the sum over its days d of |L_d| / |S_d|, the churn rate of each day (local days of the "
        "calendar's time zone: t0, a change's instant, places the day in its period), days on which nobody was lost "
        "adding 0",
        f"""
        WITH events AS ({_PAYING_EVENTS}
        ), per_day AS (
          SELECT grp, customer_id, LOCAL_DATE(t) AS d, MIN(t) AS t0, SUM(d_paying) AS d_paying
          FROM events
          WHERE t < :spine_end
          GROUP BY grp, customer_id, LOCAL_DATE(t)
        ), running AS (
          SELECT grp, customer_id, d, t0, d_paying,
                 SUM(d_paying) OVER (PARTITION BY grp, customer_id ORDER BY d
                                     ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS n_end
          FROM per_day
        ), days AS (
          SELECT grp, d, MIN(t0) AS t0,
            SUM(CASE WHEN n_end > 0 THEN 1 ELSE 0 END - CASE WHEN n_end - d_paying > 0 THEN 1 ELSE 0 END)
              AS d_customers,
            SUM(CASE WHEN n_end - d_paying > 0 AND n_end = 0 THEN 1 ELSE 0 END) AS lost
          FROM running
          GROUP BY grp, d
        ), levels AS (
          SELECT grp, d, t0, lost,
                 SUM(d_customers) OVER (PARTITION BY grp ORDER BY d
                                        ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) - d_customers AS at_start
          FROM days
        )
        SELECT grp, BUCKET(t0) AS period_start,
          SUM(CASE WHEN lost > 0 THEN CAST(lost AS DOUBLE) / CAST(at_start AS DOUBLE) ELSE 0 END)
            AS daily_churn_rate_sum
        FROM levels
        WHERE BUCKET(t0) >= :spine_start
        GROUP BY grp, BUCKET(t0)
        """,
        measures=(
            Measure("daily_churn_rate_sum", "Σ over the days d of p of |L_d| / |S_d| (a day that lost nobody "
                                            "adds 0)"),
        ),
        window="sum",  # the days of a window: those of its periods
    ),
)
