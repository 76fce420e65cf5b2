"""An independent, brute-force reference for the revenue catalog.

Written directly from the spec (``data-contract.md`` "Paying status" and "Numbers, time and
empty sets"; ``metrics.md`` "Revenue and retention"), customer by customer and boundary by
boundary, with exact arithmetic (:class:`fractions.Fraction`).  It shares no code with
csframe and does not know about events, running sums or SQL: its only job is to be obviously
right so that the compiled SQL can be compared against it.

Conventions
-----------
* Instants are compared as naive UTC datetimes.  An aware datetime is converted to UTC, a
  ``date`` (or an ISO string without a time) is midnight UTC of that day.
* Amounts (``mrr``, ``amount``, ...) may be ``int``, ``Decimal``, ``Fraction`` or ``float``;
  a float is read as the decimal it prints as (``0.1`` is 1/10), everything else exactly.
* :func:`sets` and :func:`movements` return exact values (sets of customer ids, Fractions);
  :func:`revenue_metrics` returns ``float`` or ``None``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from fractions import Fraction
from typing import Any

__all__ = [
    "GRAINS",
    "REVENUE_METRICS",
    "DEFAULT_VARIANTS",
    "SOURCES",
    "instant",
    "period_start_of",
    "shift_period",
    "previous_period",
    "period_bounds",
    "Ledger",
    "sets",
    "movements",
    "revenue_metrics",
]

GRAINS = ("day", "week", "month", "quarter", "year")

# Every metric and variant of the "Revenue and retention" table, default variant first.
REVENUE_METRICS: dict[str, tuple[str, ...]] = {
    "customers": ("default",),
    "new_customers": ("default",),
    "churned_customers": ("default",),
    "reactivated_customers": ("default",),
    "churn_rate": ("lost_over_start", "net_loss", "lost_over_active", "chartmogul_daily", "stripe", "baremetrics"),
    "retention_rate": ("end_minus_new", "cohort"),
    "mrr": ("default",),
    "arr": ("default",),
    "new_mrr": ("default",),
    "expansion_mrr": ("default",),
    "contraction_mrr": ("default",),
    "churned_mrr": ("default",),
    "reactivation_mrr": ("default",),
    "net_new_mrr": ("default",),
    "quick_ratio": ("default",),
    "arpu": ("invoiced", "mrr"),
    "expansion_rate": ("gross_mrr", "cohort_net_change", "upsell_invoices"),
    "net_revenue_retention": ("default",),
    "gross_revenue_retention": ("default",),
    "net_mrr_churn_rate": ("default", "chartmogul"),
    "revenue_churn_rate": ("default",),
    "renewal_rate": ("default",),
    "net_renewal_rate": ("contracts", "mrr"),
    "customer_acquisition_cost": ("default",),
    "customer_retention_cost": ("default",),
    "average_customer_lifespan": ("inverse_churn", "observed"),
    "customer_lifetime_value": (
        "arpa_x_lifespan",
        "aov_x_frequency_x_lifetime",
        "historical_revenue_per_customer",
        "net_of_cac",
        "baremetrics",
    ),
    "ltv_to_cac": ("default",),
    "customer_growth_rate": ("default",),
}

DEFAULT_VARIANTS: dict[str, str] = {m: vs[0] for m, vs in REVENUE_METRICS.items()}

# The sources each (metric, variant) reads directly or through its dependencies, given the
# catalog's default variants.  ``ltv_to_cac`` and ``customer_lifetime_value:arpa_x_lifespan``
# depend on the project's choice of variants; :func:`revenue_metrics` resolves them per call.
_SUBS = frozenset({"subscriptions"})
SOURCES: dict[tuple[str, str], frozenset[str]] = {
    (m, v): _SUBS for m, vs in REVENUE_METRICS.items() for v in vs
}
SOURCES.update(
    {
        ("arpu", "invoiced"): frozenset({"subscriptions", "invoices"}),
        ("expansion_rate", "upsell_invoices"): frozenset({"invoices"}),
        ("renewal_rate", "default"): frozenset({"renewals"}),
        ("net_renewal_rate", "contracts"): frozenset({"renewals"}),
        ("customer_acquisition_cost", "default"): frozenset({"subscriptions", "costs"}),
        ("customer_retention_cost", "default"): frozenset({"subscriptions", "costs"}),
        ("customer_lifetime_value", "aov_x_frequency_x_lifetime"): frozenset({"invoices"}),
        ("customer_lifetime_value", "historical_revenue_per_customer"): frozenset({"invoices"}),
        ("customer_lifetime_value", "net_of_cac"): frozenset({"subscriptions", "costs"}),
        ("ltv_to_cac", "default"): frozenset({"subscriptions", "costs"}),
    }
)

# "months = days / 30.4375"
DAYS_PER_MONTH = Fraction("30.4375")

# "g is the grain's length in months (month 1, quarter 3, year 12, week 7/30.4375, day 1/30.4375)"
GRAIN_MONTHS: dict[str, Fraction] = {
    "day": 1 / DAYS_PER_MONTH,
    "week": 7 / DAYS_PER_MONTH,
    "month": Fraction(1),
    "quarter": Fraction(3),
    "year": Fraction(12),
}


# --------------------------------------------------------------------------------------------
# Values: instants and exact numbers
# --------------------------------------------------------------------------------------------


def instant(value: Any) -> datetime | None:
    """A naive UTC datetime for a timestamp, a DATE (midnight UTC) or an ISO string."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(timezone.utc).replace(tzinfo=None)
        return value
    if isinstance(value, date):
        # "a DATE is midnight UTC of its day"
        return datetime(value.year, value.month, value.day)
    raise TypeError(f"not an instant: {value!r}")


def _exact(value: Any) -> Fraction | None:
    if value is None:
        return None
    if isinstance(value, bool):
        raise TypeError(f"not an amount: {value!r}")
    if isinstance(value, float):
        return Fraction(repr(value))
    if isinstance(value, (int, Decimal, Fraction)):
        return Fraction(value)
    raise TypeError(f"not an amount: {value!r}")


def _ratio(numerator: Fraction | int | None, denominator: Fraction | int | None) -> Fraction | None:
    """ "a ratio whose denominator is 0 or NULL is NULL" (and a NULL numerator gives NULL)."""
    if numerator is None or denominator is None or denominator == 0:
        return None
    return Fraction(numerator) / Fraction(denominator)


def _mean(values: Sequence[Fraction]) -> Fraction | None:
    """ "a mean ... over no rows is NULL"."""
    if not values:
        return None
    return Fraction(sum(values)) / len(values)


def _times(a: Fraction | None, b: Fraction | None) -> Fraction | None:
    return None if a is None or b is None else a * b


def _minus(a: Fraction | None, b: Fraction | None) -> Fraction | None:
    return None if a is None or b is None else a - b


def _seconds(delta: timedelta) -> Fraction:
    return Fraction(delta // timedelta(microseconds=1), 1_000_000)


def _days(delta: timedelta) -> Fraction:
    # "days = seconds / 86,400"
    return _seconds(delta) / 86_400


def _months(delta: timedelta) -> Fraction:
    # "months = days / 30.4375"
    return _days(delta) / DAYS_PER_MONTH


def _in(t: datetime, p_start: datetime, p_end: datetime) -> bool:
    """``t`` lies in the half-open period [p.start, p.end)."""
    return p_start <= t < p_end


# --------------------------------------------------------------------------------------------
# Periods
# --------------------------------------------------------------------------------------------


def period_start_of(grain: str, t: Any) -> datetime:
    """The start of the period of ``grain`` that contains instant ``t`` (rounding down)."""
    t = instant(t)
    assert t is not None
    midnight = datetime(t.year, t.month, t.day)
    if grain == "day":
        return midnight
    if grain == "week":  # ISO weeks start on Monday (weekday() == 0)
        return midnight - timedelta(days=t.weekday())
    if grain == "month":
        return datetime(t.year, t.month, 1)
    if grain == "quarter":  # quarters start in January, April, July, October
        return datetime(t.year, 3 * ((t.month - 1) // 3) + 1, 1)
    if grain == "year":
        return datetime(t.year, 1, 1)
    raise ValueError(f"unknown grain {grain!r}")


def shift_period(grain: str, start: datetime, n: int) -> datetime:
    """The start of the period ``n`` periods after the one starting at ``start``."""
    if grain == "day":
        return start + timedelta(days=n)
    if grain == "week":
        return start + timedelta(weeks=n)
    months = {"month": 1, "quarter": 3, "year": 12}[grain] * n
    index = start.year * 12 + (start.month - 1) + months
    return datetime(index // 12, index % 12 + 1, 1)


def previous_period(grain: str, p_start: Any) -> tuple[datetime, datetime]:
    """``p-1``: the period before the one starting at ``p_start``."""
    start = period_start_of(grain, p_start)
    return shift_period(grain, start, -1), start


def period_bounds(grain: str, start: Any, end: Any) -> list[tuple[datetime, datetime]]:
    """Every period "whose start is ≥ A and < B (A is rounded down to its period start)"."""
    if grain not in GRAINS:
        raise ValueError(f"unknown grain {grain!r}")
    first = period_start_of(grain, start)
    last = instant(end)
    assert last is not None
    out: list[tuple[datetime, datetime]] = []
    s = first
    while s < last:
        e = shift_period(grain, s, 1)
        out.append((s, e))
        s = e
    return out


# --------------------------------------------------------------------------------------------
# Paying status: B_c(b), first_paid_c, and the sets of a period
# --------------------------------------------------------------------------------------------


class Ledger:
    """The subscription rows that count, by customer, with B_c(b) and first_paid_c.

    "Rows with ended_at = started_at carry no time and are ignored everywhere", and B_c and
    first_paid_c read only "non-trial subscription rows", so both kinds are dropped here.
    """

    def __init__(self, subscriptions: Iterable[Mapping[str, Any]]) -> None:
        # customer_id -> list of (started_at, ended_at or None for +inf, mrr)
        self.rows: dict[Any, list[tuple[datetime, datetime | None, Fraction]]] = {}
        for row in subscriptions:
            started_at = instant(row["started_at"])
            ended_at = instant(row.get("ended_at"))
            assert started_at is not None
            if ended_at is not None and ended_at == started_at:
                continue  # carries no time: ignored everywhere
            if row.get("is_trial"):  # optional bool, default false (NULL = false)
                continue
            mrr = _exact(row["mrr"])
            assert mrr is not None
            self.rows.setdefault(row["customer_id"], []).append((started_at, ended_at, mrr))
        self._b: dict[tuple[Any, datetime], Fraction] = {}

    @property
    def customers(self) -> list[Any]:
        return list(self.rows)

    def B(self, c: Any, b: Any) -> Fraction:
        """B_c(b): Σ mrr over c's non-trial rows with started_at < b ≤ coalesce(ended_at, +∞)."""
        b = instant(b)
        key = (c, b)
        if key not in self._b:
            self._b[key] = Fraction(
                sum(
                    (
                        mrr
                        for started_at, ended_at, mrr in self.rows.get(c, ())
                        if started_at < b and (ended_at is None or b <= ended_at)
                    ),
                    Fraction(0),
                )
            )
        return self._b[key]

    def M(self, b: Any) -> Fraction:
        """M(b) = Σ_c B_c(b)."""
        return Fraction(sum((self.B(c, b) for c in self.rows), Fraction(0)))

    def paying(self, b: Any) -> set[Any]:
        """``{c : B_c(b) > 0}``: the customers paying at b."""
        return {c for c in self.rows if self.B(c, b) > 0}

    def first_paid(self, c: Any) -> datetime | None:
        """first_paid_c: the smallest started_at over c's non-trial rows with mrr > 0."""
        starts = [s for s, _e, mrr in self.rows.get(c, ()) if mrr > 0]
        return min(starts) if starts else None

    def transitions(self, c: Any, p_start: datetime, p_end: datetime) -> tuple[int, int]:
        """(starts, stops) of c in [p_start, p_end): the instants t in it at which c goes from
        not paying to paying, or back, comparing B_c(t) (just before t) with B_c just after t
        (one microsecond later: timestamps are microseconds)."""
        instants = {t for st, en, _m in self.rows.get(c, ()) for t in (st, en) if t is not None}
        starts = stops = 0
        for t in instants:
            if p_start <= t < p_end:
                before, after = self.B(c, t) > 0, self.B(c, t + timedelta(microseconds=1)) > 0
                starts += int(after and not before)
                stops += int(before and not after)
        return starts, stops

    def paid_rows(self, c: Any) -> list[tuple[datetime, datetime | None, Fraction]]:
        """c's non-trial rows with mrr > 0."""
        return [r for r in self.rows.get(c, ()) if r[2] > 0]


def _ledger(subscriptions: Ledger | Iterable[Mapping[str, Any]]) -> Ledger:
    return subscriptions if isinstance(subscriptions, Ledger) else Ledger(subscriptions)


def sets(subscriptions: Ledger | Iterable[Mapping[str, Any]], p_start: Any, p_end: Any) -> dict[str, Any]:
    """The sets S, E, N, L, R, A of period [p_start, p_end), plus the helpers B and first_paid.

    Returns ``{"S", "E", "N", "L", "R", "A"}`` as Python sets of customer ids, ``"B"`` as the
    callable ``B(c, b)`` and ``"first_paid"`` as the callable ``first_paid(c)``.
    """
    ledger = _ledger(subscriptions)
    ps, pe = instant(p_start), instant(p_end)
    assert ps is not None and pe is not None
    customers = ledger.customers
    first_paid = {c: ledger.first_paid(c) for c in customers}

    # S (customers at start): {c : B_c(p.start) > 0}
    S = {c for c in customers if ledger.B(c, ps) > 0}
    # E (customers at end): {c : B_c(p.end) > 0}
    E = {c for c in customers if ledger.B(c, pe) > 0}
    # N (new): {c : p.start ≤ first_paid_c < p.end} — whether or not still paying at the end
    N = {c for c in customers if first_paid[c] is not None and ps <= first_paid[c] < pe}
    # L (lost): S \ E
    L = S - E
    # R (reactivated): {c ∈ E : c ∉ S and first_paid_c < p.start}
    R = {c for c in E if c not in S and first_paid[c] is not None and first_paid[c] < ps}
    # A (active during p): customers with a non-trial row with mrr > 0 and started_at < p.end
    # and coalesce(ended_at, +∞) ≥ p.start
    A = {
        c
        for c in customers
        if any(
            started_at < pe and (ended_at is None or ended_at >= ps)
            for started_at, ended_at, _mrr in ledger.paid_rows(c)
        )
    }
    return {
        "S": S,
        "E": E,
        "N": N,
        "L": L,
        "R": R,
        "A": A,
        "B": ledger.B,
        "first_paid": ledger.first_paid,
    }


def movements(
    subscriptions: Ledger | Iterable[Mapping[str, Any]], p_start: Any, p_end: Any
) -> dict[str, Fraction]:
    """The MRR movements of period [p_start, p_end) as exact Fractions.

    Keys: ``mrr_start`` (M(p.start)), ``mrr_end`` (M(p.end)), ``new``, ``reactivation``,
    ``expansion``, ``contraction``, ``churned``.
    """
    ledger = _ledger(subscriptions)
    ps, pe = instant(p_start), instant(p_end)
    s = sets(ledger, ps, pe)
    S, E, N, L, R = s["S"], s["E"], s["N"], s["L"], s["R"]
    B = ledger.B

    def delta(c: Any) -> Fraction:  # Δ_c = B_c(p.end) − B_c(p.start)
        return B(c, pe) - B(c, ps)

    zero = Fraction(0)
    return {
        "mrr_start": ledger.M(ps),
        "mrr_end": ledger.M(pe),
        # new MRR: Σ over c ∈ N ∩ E of B_c(p.end)
        "new": sum((B(c, pe) for c in N & E), zero),
        # reactivation MRR: Σ over c ∈ R of B_c(p.end)
        "reactivation": sum((B(c, pe) for c in R), zero),
        # expansion MRR: Σ over c ∈ S ∩ E with Δ_c > 0 of Δ_c
        "expansion": sum((delta(c) for c in S & E if delta(c) > 0), zero),
        # contraction MRR: Σ over c ∈ S ∩ E with Δ_c < 0 of −Δ_c
        "contraction": sum((-delta(c) for c in S & E if delta(c) < 0), zero),
        # churned MRR: Σ over c ∈ L of B_c(p.start)
        "churned": sum((B(c, ps) for c in L), zero),
    }


# --------------------------------------------------------------------------------------------
# The other sources, as plain normalised tuples
# --------------------------------------------------------------------------------------------


def _invoices(rows: Iterable[Mapping[str, Any]]) -> list[tuple[Any, datetime, Fraction, str]]:
    out = []
    for row in rows:
        paid_at = instant(row["paid_at"])
        amount = _exact(row["amount"])
        if paid_at is None or amount is None:
            continue  # a paid invoice needs both; the data checks reject such rows
        # "An invoices.kind that is NULL counts as subscription."
        kind = row.get("kind") or "subscription"
        out.append((row["customer_id"], paid_at, amount, kind))
    return out


def _renewals(rows: Iterable[Mapping[str, Any]]) -> list[tuple[datetime, Fraction, bool, Fraction]]:
    out = []
    for row in rows:
        due_at = instant(row["due_at"])
        assert due_at is not None
        value_up = _exact(row["value_up"]) or Fraction(0)
        # "renewed_value (value of the renewing contract, expansion included; 0 if not renewed)"
        renewed_value = _exact(row.get("renewed_value")) or Fraction(0)
        out.append((due_at, value_up, bool(row["renewed"]), renewed_value))
    return out


def _costs(rows: Iterable[Mapping[str, Any]]) -> list[tuple[datetime, str, Fraction]]:
    out = []
    for row in rows:
        incurred_at = instant(row["incurred_at"])
        amount = _exact(row["amount"])
        assert incurred_at is not None and amount is not None
        out.append((incurred_at, row["category"], amount))
    return out


# --------------------------------------------------------------------------------------------
# The catalog
# --------------------------------------------------------------------------------------------


def _resolve_variants(variants: Mapping[str, str] | None) -> dict[str, str]:
    chosen = dict(DEFAULT_VARIANTS)
    for metric, variant in (variants or {}).items():
        if metric in REVENUE_METRICS:
            if variant not in REVENUE_METRICS[metric]:
                raise ValueError(f"unknown variant {metric}:{variant}")
            chosen[metric] = variant
    return chosen


def revenue_metrics(
    periods: Sequence[tuple[Any, Any]],
    grain: str,
    subscriptions: Iterable[Mapping[str, Any]],
    invoices: Iterable[Mapping[str, Any]] | None = None,
    renewals: Iterable[Mapping[str, Any]] | None = None,
    costs: Iterable[Mapping[str, Any]] | None = None,
    variants: Mapping[str, str] | None = None,
) -> dict[tuple[str, str, date], float | None]:
    """Every metric and variant of "Revenue and retention" for every period.

    Returns ``{(metric, variant, period_start_date): float | None}``.  Metrics whose sources
    are ``None`` are left out.  ``variants`` is a project's ``[variants]`` table: it decides
    which variant a derived metric reads when it names another metric without a variant.
    """
    if grain not in GRAINS:
        raise ValueError(f"unknown grain {grain!r}")
    chosen = _resolve_variants(variants)
    ledger = Ledger(subscriptions)
    inv = _invoices(invoices) if invoices is not None else None
    ren = _renewals(renewals) if renewals is not None else None
    cst = _costs(costs) if costs is not None else None

    out: dict[tuple[str, str, date], float | None] = {}
    for p_start, p_end in periods:
        ps, pe = instant(p_start), instant(p_end)
        assert ps is not None and pe is not None
        values = _period_values(ledger, inv, ren, cst, grain, chosen, ps, pe)
        for (metric, variant), value in values.items():
            out[(metric, variant, ps.date())] = None if value is None else float(value)
    return out


def _period_values(
    ledger: Ledger,
    inv: list[tuple[Any, datetime, Fraction, str]] | None,
    ren: list[tuple[datetime, Fraction, bool, Fraction]] | None,
    cst: list[tuple[datetime, str, Fraction]] | None,
    grain: str,
    chosen: Mapping[str, str],
    ps: datetime,
    pe: datetime,
) -> dict[tuple[str, str], Fraction | None]:
    s = sets(ledger, ps, pe)
    S, E, N, L, R, A = s["S"], s["E"], s["N"], s["L"], s["R"], s["A"]
    B = ledger.B
    mv = movements(ledger, ps, pe)
    M_start, M_end = mv["mrr_start"], mv["mrr_end"]
    new, react = mv["new"], mv["reactivation"]
    exp, contr, churned = mv["expansion"], mv["contraction"], mv["churned"]

    v: dict[tuple[str, str], Fraction | None] = {}

    def put(metric: str, variant: str, value: Fraction | int | None) -> None:
        assert variant in REVENUE_METRICS[metric], (metric, variant)
        v[(metric, variant)] = None if value is None else Fraction(value)

    def has(metric: str, variant: str | None = None) -> bool:
        return (metric, variant or chosen[metric]) in v

    def get(metric: str, variant: str | None = None) -> Fraction | None:
        """A dependency; by name alone it means the project's default variant."""
        return v[(metric, variant or chosen[metric])]

    # customers: |E|
    put("customers", "default", len(E))
    # new_customers: |N|
    put("new_customers", "default", len(N))
    # churned_customers: |L|
    put("churned_customers", "default", len(L))
    # reactivated_customers: |R|
    put("reactivated_customers", "default", len(R))

    # churn_rate:lost_over_start: |L| / |S|
    put("churn_rate", "lost_over_start", _ratio(len(L), len(S)))
    # churn_rate:net_loss: (|S| − |E|) / |S|
    put("churn_rate", "net_loss", _ratio(len(S) - len(E), len(S)))
    # churn_rate:lost_over_active: |L| / |A|
    put("churn_rate", "lost_over_active", _ratio(len(L), len(A)))

    # The vendors' readings (docs/choices.md "Vendors' readings"):
    # churn_rate:stripe: every stop in p / (|S| + every start in p); churn_rate:baremetrics: stops / |S|
    starts = stops = 0
    for c in ledger.customers:
        c_starts, c_stops = ledger.transitions(c, ps, pe)
        starts, stops = starts + c_starts, stops + c_stops
    put("churn_rate", "stripe", _ratio(stops, len(S) + starts))
    put("churn_rate", "baremetrics", _ratio(stops, len(S)))
    # churn_rate:chartmogul_daily: Σ over the UTC days d of p of |L_d| / |S_d| (a day without a loss
    # adds 0); NULL when nobody was active in p (A empty)
    # only a customer with a row ending on day d can be lost on d (B_c changes at its rows' instants only)
    daily = Fraction(0)
    ends: dict[datetime, set[Any]] = {}
    for c in ledger.customers:
        for _st, en, _m in ledger.rows[c]:
            if en is not None and ps <= en < pe:
                ends.setdefault(datetime(en.year, en.month, en.day), set()).add(c)
    for d, candidates in sorted(ends.items()):
        lost = {c for c in candidates if B(c, d) > 0 and not B(c, d + timedelta(days=1)) > 0}
        if lost:  # L_d ⊆ S_d, so |S_d| > 0
            daily += Fraction(len(lost), len(ledger.paying(d)))
    put("churn_rate", "chartmogul_daily", daily if A else None)

    # retention_rate:end_minus_new: (|E| − |N|) / |S|
    put("retention_rate", "end_minus_new", _ratio(len(E) - len(N), len(S)))
    # retention_rate:cohort: |S ∩ E| / |S|
    put("retention_rate", "cohort", _ratio(len(S & E), len(S)))

    # mrr: M(p.end)
    put("mrr", "default", M_end)
    # arr: 12 × mrr
    put("arr", "default", 12 * get("mrr"))

    # new_mrr, expansion_mrr, contraction_mrr, churned_mrr, reactivation_mrr: the movements
    put("new_mrr", "default", new)
    put("expansion_mrr", "default", exp)
    put("contraction_mrr", "default", contr)
    put("churned_mrr", "default", churned)
    put("reactivation_mrr", "default", react)
    # net_new_mrr: new + reactivation + expansion − contraction − churned
    put("net_new_mrr", "default", new + react + exp - contr - churned)
    # quick_ratio: (new + reactivation + expansion) / (contraction + churned)
    put("quick_ratio", "default", _ratio(new + react + exp, contr + churned))

    # arpu:invoiced: Σ invoices.amount paid in p / |A|
    if inv is not None:
        paid_in_p = sum((amt for _c, t, amt, _k in inv if _in(t, ps, pe)), Fraction(0))
        put("arpu", "invoiced", _ratio(paid_in_p, len(A)))
    # arpu:mrr (ARPA): M(p.end) / |E|
    put("arpu", "mrr", _ratio(M_end, len(E)))

    # expansion_rate:gross_mrr: expansion MRR / M(p.start)
    put("expansion_rate", "gross_mrr", _ratio(exp, M_start))
    # expansion_rate:cohort_net_change:
    #   (Σ_{c∈S} B_c(p.end) − Σ_{c∈S} B_c(p.start)) / Σ_{c∈S} B_c(p.start)
    s_end = sum((B(c, pe) for c in S), Fraction(0))
    s_start = sum((B(c, ps) for c in S), Fraction(0))
    put("expansion_rate", "cohort_net_change", _ratio(s_end - s_start, s_start))
    # expansion_rate:upsell_invoices: Σ invoices of kind upsell or cross_sell paid in p /
    #   Σ invoices paid in p−1 ("p-1 is read from the data even when it lies before --start")
    if inv is not None:
        prev_start, prev_end = previous_period(grain, ps)
        upsell = sum(
            (amt for _c, t, amt, k in inv if k in ("upsell", "cross_sell") and _in(t, ps, pe)),
            Fraction(0),
        )
        paid_prev = sum((amt for _c, t, amt, _k in inv if _in(t, prev_start, prev_end)), Fraction(0))
        put("expansion_rate", "upsell_invoices", _ratio(upsell, paid_prev))

    # net_revenue_retention: (M(p.start) + expansion − contraction − churned) / M(p.start)
    put("net_revenue_retention", "default", _ratio(M_start + exp - contr - churned, M_start))
    # gross_revenue_retention: (M(p.start) − contraction − churned) / M(p.start)
    put("gross_revenue_retention", "default", _ratio(M_start - contr - churned, M_start))
    # net_mrr_churn_rate: (churned + contraction − expansion) / M(p.start)
    put("net_mrr_churn_rate", "default", _ratio(churned + contr - exp, M_start))
    # net_mrr_churn_rate:chartmogul: (churned + contraction − expansion − reactivation) / M(p.start)
    put("net_mrr_churn_rate", "chartmogul", _ratio(churned + contr - exp - react, M_start))
    # revenue_churn_rate: (churned + contraction) / M(p.start)
    put("revenue_churn_rate", "default", _ratio(churned + contr, M_start))

    if ren is not None:
        due = [r for r in ren if _in(r[0], ps, pe)]
        # renewal_rate: contracts with due_at in p and renewed / contracts with due_at in p
        put("renewal_rate", "default", _ratio(sum(1 for r in due if r[2]), len(due)))
        # net_renewal_rate:contracts: Σ renewed_value / Σ value_up over contracts due in p
        put(
            "net_renewal_rate",
            "contracts",
            _ratio(sum((r[3] for r in due), Fraction(0)), sum((r[1] for r in due), Fraction(0))),
        )
    # net_renewal_rate:mrr: net_revenue_retention — defined as that metric
    put("net_renewal_rate", "mrr", get("net_revenue_retention"))

    if cst is not None:
        def cost(category: str) -> Fraction:
            return sum((a for t, cat, a in cst if cat == category and _in(t, ps, pe)), Fraction(0))

        # customer_acquisition_cost: Σ costs.amount of category acquisition incurred in p / |N|
        put("customer_acquisition_cost", "default", _ratio(cost("acquisition"), len(N)))
        # customer_retention_cost: Σ costs.amount of category retention incurred in p / |S ∩ E|
        put("customer_retention_cost", "default", _ratio(cost("retention"), len(S & E)))

    # average_customer_lifespan:inverse_churn: g / churn_rate(lost_over_start) of p;
    #   NULL when churn is 0
    put(
        "average_customer_lifespan",
        "inverse_churn",
        _ratio(GRAIN_MONTHS[grain], get("churn_rate", "lost_over_start")),
    )
    # average_customer_lifespan:observed: as of p.end: over customers with first_paid_c < p.end
    #   who are not paying at p.end, the mean of (the latest ended_at of their non-trial rows
    #   with mrr > 0 and started_at < p.end − first_paid_c), in months
    lifespans = []
    for c in ledger.customers:
        first = ledger.first_paid(c)
        if first is None or not first < pe or B(c, pe) > 0:
            continue
        ends = [e for st, e, _m in ledger.paid_rows(c) if st < pe]
        # not paying at p.end, so each of these rows ended before p.end (none is open)
        assert all(e is not None and e < pe for e in ends), (c, ends)
        lifespans.append(_months(max(ends) - first))  # type: ignore[type-var,operator]
    put("average_customer_lifespan", "observed", _mean(lifespans))

    # customer_lifetime_value:baremetrics: arpu:mrr / churn_rate:baremetrics
    put("customer_lifetime_value", "baremetrics", _ratio(get("arpu", "mrr"), get("churn_rate", "baremetrics")))
    # customer_lifetime_value:arpa_x_lifespan: arpu:mrr × average_customer_lifespan
    #   (the project's default variant of it)
    put(
        "customer_lifetime_value",
        "arpa_x_lifespan",
        _times(get("arpu", "mrr"), get("average_customer_lifespan")),
    )
    if inv is not None:
        before = [(c, t, amt) for c, t, amt, _k in inv if t < pe]
        n_invoices = len(before)
        by_customer: dict[Any, list[datetime]] = {}
        for c, t, _amt in before:
            by_customer.setdefault(c, []).append(t)
        total = sum((amt for _c, _t, amt in before), Fraction(0))
        # aov_x_frequency_x_lifetime: over invoices paid before p.end:
        #   AOV = Σ amount / number of invoices
        aov = _ratio(total, n_invoices)
        #   frequency = number of invoices / distinct customers
        frequency = _ratio(n_invoices, len(by_customer))
        #   lifetime (years) = mean over customers of (last paid_at − first paid_at, in days) / 365
        mean_days = _mean([_days(max(ts) - min(ts)) for ts in by_customer.values()])
        lifetime = None if mean_days is None else mean_days / 365
        #   value = AOV × frequency × lifetime
        put("customer_lifetime_value", "aov_x_frequency_x_lifetime", _times(_times(aov, frequency), lifetime))
        # historical_revenue_per_customer: Σ invoices paid before p.end /
        #   distinct customers with an invoice paid before p.end
        put("customer_lifetime_value", "historical_revenue_per_customer", _ratio(total, len(by_customer)))
    if cst is not None:
        # net_of_cac: customer_lifetime_value:arpa_x_lifespan − customer_acquisition_cost
        put(
            "customer_lifetime_value",
            "net_of_cac",
            _minus(get("customer_lifetime_value", "arpa_x_lifespan"), get("customer_acquisition_cost")),
        )
        # ltv_to_cac: customer_lifetime_value / customer_acquisition_cost (default variants)
        if has("customer_lifetime_value"):
            put("ltv_to_cac", "default", _ratio(get("customer_lifetime_value"), get("customer_acquisition_cost")))

    # customer_growth_rate: (|E| − |S|) / |S|
    put("customer_growth_rate", "default", _ratio(len(E) - len(S), len(S)))
    return v

