"""The sets S, E, N, L, R, A and the MRR movements on trailing windows (``--window``).

A window is k grain periods, keyed by its last one (the anchor; :mod:`csframe.core.windows`),
and everything here is done on the spine's period numbers i (a window anchored at a holds the
periods a−k+1..a). ``sub_customer_periods`` has a row per customer per grain period in which
B_c changed; between those rows B_c is constant. So in the window anchored at a, B_c at its start
is the state after the customer's last change at or before a−k (before any: ``b_start`` of the
first, the row whose ``previous_period_start`` is NULL: every change of the customer from the
spine's start on must be a row), and B_c at its end the state after the last change at or before a. Both are step
functions of a: the end state moves at each change's period t, the start state k periods later
(t + k). Each change row is therefore read twice, as an *event* at a = t (it enters the windows)
and at a = t + k (it leaves them), never once per window: 2 rows per change, not k.

Per customer, a running sum over those events in anchor order gives, at each event's anchor, the
two states and two counters — the changes with a first paid start (N: BUCKET(first_paid_c) in
the window) and with a paid row starting (A \\ S) that are inside the window — and every
measure is a function of them, constant until the customer's next event. Each event adds the
measure's value minus its value just before it (the running sums less the event's own deltas):
a difference array, summed per anchor and then as a running sum over the grid. A customer who
did not change in a window has equal states there, and every measure of equal states is 0, so
only the windows holding a change count, as the contract's sets say.

R needs first_paid_c before the window's start: a customer paying at its end has paid by its
end, so among them that is "not in N" (or first paid before the spine). The per-period changes
(d_customers, d_mrr, for sub_levels) are those of the anchor's own period. The levels at the
window's edges are the grain's levels: at the end the anchor's, at the start those k periods
earlier (LAG over the grid).
"""

from __future__ import annotations

__all__ = ["MOVEMENTS_SQL", "LEVELS_SQL"]

_G = "PARTITION BY g.grp ORDER BY g.period_start ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW"
_LAG = "PARTITION BY grp ORDER BY period_start"
# a customer has at most one event entering and one leaving per anchor: (a, enters) orders their events totally
_C = "PARTITION BY grp, customer_id ORDER BY a, enters ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW"

# each measure over one customer in one window, from the customer's state at the window's start
# ({xn}: paying rows, {xb}: B_c) and end ({yn}, {yb}), {nw}: their first paid start is in the
# window (1 or 0), {ps}: how many of their changes in the window start a paid row
_MEASURES = {
    "new_customers": "CASE WHEN {nw} > 0 THEN 1 ELSE 0 END",
    "new_mrr": "CASE WHEN {nw} > 0 AND {yn} > 0 THEN {yb} ELSE 0 END",
    "churned_customers": "CASE WHEN {xn} > 0 AND {yn} = 0 THEN 1 ELSE 0 END",
    "churned_mrr": "CASE WHEN {xn} > 0 AND {yn} = 0 THEN {xb} ELSE 0 END",
    "reactivated_customers": "CASE WHEN {xn} = 0 AND {yn} > 0 AND {nw} = 0 THEN 1 ELSE 0 END",
    "reactivation_mrr": "CASE WHEN {xn} = 0 AND {yn} > 0 AND {nw} = 0 THEN {yb} ELSE 0 END",
    "expansion_mrr": "CASE WHEN {xn} > 0 AND {yn} > 0 AND {yb} > {xb} THEN {yb} - {xb} ELSE 0 END",
    "contraction_mrr": "CASE WHEN {xn} > 0 AND {yn} > 0 AND {yb} < {xb} THEN {xb} - {yb} ELSE 0 END",
    "active_not_at_start": "CASE WHEN {xn} = 0 AND {ps} > 0 THEN 1 ELSE 0 END",
    "start_cohort_mrr_change": "CASE WHEN {xn} > 0 THEN {yb} - {xb} ELSE 0 END",
}
_STATE = ("xn", "xb", "yn", "yb", "nw", "ps")
_AT = {s: f"s.{s}" for s in _STATE}  # at the event's anchor
_BEFORE = {s: f"(s.{s} - s.d_{s})" for s in _STATE}  # just before it
_STEPS = ",\n            ".join(
    f"SUM({sql.format(**_AT)}\n                - {sql.format(**_BEFORE)}) AS {name}" for name, sql in _MEASURES.items())
_RUNNING = ",\n          ".join(f"SUM(COALESCE(p.{name}, 0)) OVER ({_G}) AS {name}" for name in _MEASURES)

MOVEMENTS_SQL = f"""
        WITH spine_index AS (
          SELECT period_start, ROW_NUMBER() OVER (ORDER BY period_start) AS i FROM spine
        ), events AS (
          -- each change twice: entering the windows at its own period (their end state moves; a
          -- customer's first change also sets the start state to b_start), leaving them k periods later
          -- (their start state moves)
          SELECT c.grp, c.customer_id, e.enters,
            CASE WHEN e.enters THEN s.i ELSE s.i + :window_periods END AS a,
            CAST(CASE WHEN NOT e.enters THEN c.n_end - c.n_start
                      WHEN c.previous_period_start IS NULL THEN c.n_start ELSE 0 END AS INTEGER) AS d_xn,
            CASE WHEN NOT e.enters THEN c.b_end - c.b_start
                 WHEN c.previous_period_start IS NULL THEN c.b_start ELSE 0 END AS d_xb,
            CAST(CASE WHEN NOT e.enters THEN 0
                      WHEN c.previous_period_start IS NULL THEN c.n_end ELSE c.n_end - c.n_start END AS INTEGER) AS d_yn,
            CASE WHEN NOT e.enters THEN 0
                 WHEN c.previous_period_start IS NULL THEN c.b_end ELSE c.b_end - c.b_start END AS d_yb,
            CASE WHEN BUCKET(c.first_paid_at) = c.period_start THEN CASE WHEN e.enters THEN 1 ELSE -1 END
                 ELSE 0 END AS d_nw,
            CASE WHEN e.enters THEN c.paid_start ELSE -c.paid_start END AS d_ps
          FROM sub_customer_periods AS c
          JOIN spine_index AS s ON s.period_start = c.period_start
          CROSS JOIN (VALUES (TRUE), (FALSE)) AS e(enters)
        ), states AS (
          SELECT grp, a, d_xn, d_xb, d_yn, d_yb, d_nw, d_ps,
                 SUM(d_xn) OVER ({_C}) AS xn, SUM(d_xb) OVER ({_C}) AS xb,
                 SUM(d_yn) OVER ({_C}) AS yn, SUM(d_yb) OVER ({_C}) AS yb,
                 SUM(d_nw) OVER ({_C}) AS nw, SUM(d_ps) OVER ({_C}) AS ps
          FROM events
        ), per_anchor AS (
          -- each measure's step at the anchor: its value from there on less its value before
          SELECT s.grp, s.a,
            {_STEPS}
          FROM states AS s
          GROUP BY s.grp, s.a
        ), per_period AS (
          -- the change of the anchor period alone, for the levels (sub_levels)
          SELECT grp, period_start,
            SUM(CASE WHEN n_end > 0 THEN 1 ELSE 0 END - CASE WHEN n_start > 0 THEN 1 ELSE 0 END) AS d_customers,
            SUM(b_end - b_start) AS d_mrr
          FROM sub_customer_periods
          GROUP BY grp, period_start
        )
        SELECT g.grp, g.period_start,
          COALESCE(d.d_customers, 0) AS d_customers,
          COALESCE(d.d_mrr, 0) AS d_mrr,
          {_RUNNING}
        FROM grid AS g
        JOIN spine_index AS i ON i.period_start = g.period_start
        LEFT JOIN per_anchor AS p ON p.grp = g.grp AND p.a = i.i
        LEFT JOIN per_period AS d ON d.grp = g.grp AND d.period_start = g.period_start
        """

LEVELS_SQL = f"""
        WITH levels AS (
          SELECT g.grp, g.period_start,
            SUM(COALESCE(m.d_customers, 0)) OVER ({_G}) AS customers_end,
            SUM(COALESCE(m.d_mrr, 0)) OVER ({_G}) AS mrr_end
          FROM grid AS g
          LEFT JOIN sub_movements AS m ON m.grp = g.grp AND m.period_start = g.period_start
        )
        SELECT grp, period_start,
          LAG(customers_end, :window_periods) OVER ({_LAG}) AS customers_start,
          customers_end,
          LAG(mrr_end, :window_periods) OVER ({_LAG}) AS mrr_start,
          mrr_end
        FROM levels
        """
