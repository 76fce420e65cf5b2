"""The "Onboarding, adoption and engagement" catalog of metrics.md, registered through the
same hook a third-party plugin uses.

Reads ``customers``, ``trials``, ``users``, ``events`` and ``referrals``; |E| (``customers_end``)
and the paying periods of each customer come from the revenue catalog's subscription nodes,
so this plugin needs ``csframe.definitions.revenue`` loaded too.

Readings that carry a dimension: ``feature_adoption_rate`` (always ``feature``) and
``health_band_customers`` (always ``health_band``) read keyed measures; ``--by`` readings that are
not customers columns are variant splits: ``onboarding_completion_rate --by step`` (one row per
event name of ``onboarding_steps``), ``customer_health_score --by customer_id`` (each customer's
score) and ``--by health_band`` (the mean within each band).
"""

from __future__ import annotations

__all__ = ["METRICS", "PARAMETERS", "csframe_register_metrics"]

from csframe.core.hookspecs import hookimpl
from csframe.core.models import Example as X
from csframe.core.models import LeftOut, Metric, Parameter, Variant

from . import engagement_nodes

FAMILY = "adoption"

# window_days * 86400 (its seconds) is computed in 32-bit integers on DuckDB and PostgreSQL:
# at most 2**31 - 1 seconds, 24,855 days (68 years); a longer window is a usage error.
WINDOW_DAYS_MAX = (2**31 - 1) // 86400
ACTIVATION_EVENT = Parameter("activation_event", "activated", "the event name that marks a customer as activated")
WINDOW_DAYS = Parameter(
    "window_days", 30, "days after created_at (both ends included) within which activation_rate and "
    "onboarding_completion_rate count the event", kind="int", minimum=0,
    maximum=WINDOW_DAYS_MAX)
VALUE_EVENT = Parameter("value_event", "activated", "the event name that marks a customer reaching value")
ONBOARDING_EVENT = Parameter("onboarding_event", "onboarding_completed",
                             "the event name that marks a customer's onboarding as complete")
ACTIVE_EVENTS = Parameter("active_events", None, "the event names that make a user active (default: any event)",
                          kind="list")
ENGAGEMENT_EVENT = Parameter("engagement_event", None, "the event name that makes a user engaged (default: any event)")
HEALTH_WEIGHTS = tuple(
    Parameter(f"health_weight_{part}", 1 / 3,
              f"the weight of {what} in customer_health_score (default ⅓; the three weights must sum to 1)",
              kind="float", minimum=0)
    for part, what in (("frequency", "frequency (share of the period's days with an event)"),
                       ("breadth", "breadth (share of the customer's users with an event)"),
                       ("depth", "depth (share of all event names the customer used)")))
FEATURES = Parameter("features", None, "the event names feature_adoption_rate reports, one row each (default: every "
                     "distinct event name in the whole events source)", kind="list")
ONBOARDING_STEPS = Parameter("onboarding_steps", None, "the event names onboarding_completion_rate --by step reports, "
                             "one row each (no default: --by step needs it)", kind="list", required=True)
PARAMETERS = (ACTIVATION_EVENT, WINDOW_DAYS, VALUE_EVENT, ONBOARDING_EVENT, ACTIVE_EVENTS, ENGAGEMENT_EVENT,
              *HEALTH_WEIGHTS, FEATURES, ONBOARDING_STEPS)


def _weights_sum_to_one(values) -> str | None:
    """customer_health_score is a 0–100 score (and its bands are cut at 40 and 70) only when
    its weights sum to 1."""
    weights = {p.name: values.get(p.name, p.default) for p in HEALTH_WEIGHTS}
    total = sum(weights.values())
    if abs(total - 1) <= 1e-6:
        return None
    return (f"the health weights must sum to 1, so that the score runs from 0 to 100; they sum to {total:.10g} ("
            + ", ".join(f"{n} = {w:.10g}" for n, w in weights.items()) + ")")


_BANDS = ("at_risk (< 40), needs_attention (>= 40 and < 70), healthy (>= 70), decided on the score rounded to "
                "6 decimals")
_HEALTH_NOTE = ("depth divides by the distinct event names of the whole events source, so a period's score can fall "
                "when a new event name first appears later")

DAY = 86400
_WINDOW_NOTE = ("past values can rise as data arrives until window_days days after the period's end (the "
                "window of the period's last customers); after that they are final")


def _single(name: str, unit: str, description: str, formula: str, provenance: tuple[str, ...],
            examples: tuple[X, ...] = (), **kwargs) -> Metric:
    return Metric(name, unit, description, (Variant("default", formula, provenance, description, examples=examples),),
                  family=FAMILY, **kwargs)


def _durations(name: str, description: str, prefix: str, event: str, order: tuple[str, str],
               provenance: dict[str, tuple[str, ...]], parameters: tuple[Parameter, ...],
               aliases: tuple[str, ...] = ()) -> Metric:
    """A metric in days with a ``mean`` and a ``median`` variant over ``<prefix>_*`` measures;
    both leave out the customers created in p yet to reach ``event``, and compute says how many."""
    left_out = LeftOut(f"customers_created - {prefix}_count",
                       f"customers created in these periods who have not reached {event} '{{{event}}}' yet")
    variants = {
        "mean": Variant("mean", f"{prefix}_seconds_sum / {DAY} / {prefix}_count", provenance["mean"],
                        f"the mean of the days from created_at to the first {event}", examples=(
                            X("3 customers: 1, 2 and 6 days", {f"{prefix}_seconds_sum": 9 * DAY,
                                                                f"{prefix}_count": 3}, 3),
                            X("nobody reached it", {f"{prefix}_seconds_sum": 0, f"{prefix}_count": 0}, None)),
                        left_out=left_out),
        "median": Variant("median", f"{prefix}_seconds_median / {DAY}", provenance["median"],
                          f"the interpolated median of the days from created_at to the first {event}", examples=(
                              X("median 129,600 s", {f"{prefix}_seconds_median": 129_600}, 1.5),
                              X("nobody reached it", {f"{prefix}_seconds_median": None}, None)),
                          left_out=left_out),
    }
    return Metric(name, "days", description, tuple(variants[v] for v in order), parameters=parameters,
                  family=FAMILY, aliases=aliases, cohort_note=(
                      f"\"at all\": a customer counts once it reaches {event}, whenever that is, so a period's value "
                      "can change as data arrives"))


METRICS: tuple[Metric, ...] = (
    _single("trial_conversion_rate", "share",
            "trials started in p that converted (at any time) / trials started in p",
            "trials_started_converted / trials_started", ("dock",), (
                X("25 of 100 trials started converted", {"trials_started_converted": 25, "trials_started": 100}, 0.25),
                X("no trial started", {"trials_started_converted": 0, "trials_started": 0}, None)),
            cohort_note="\"at all\": a trial counts as converted whenever it converts, so a period's value can rise "
                        "as data arrives"),
    Metric("free_to_paid_conversion", "share", "conversions of free trials into paying customers", (
        Variant("over_trials", "trials_converted / trials_started", ("guide13", "podium"),
                "trials with converted_at in p / trials started in p", examples=(
                    X("30 converted, 120 started", {"trials_converted": 30, "trials_started": 120}, 0.25),)),
        Variant("over_population", "trials_converted / users_to_date", ("parative",),
                "trials with converted_at in p / users with created_at < p.end", examples=(
                    X("60 converted, 100 users", {"trials_converted": 60, "users_to_date": 100}, 0.60, "parative"),
                    X("no users", {"trials_converted": 0, "users_to_date": 0}, None))),
    ), family=FAMILY),
    _single("activation_rate", "share",
            "customers created in p with an activation_event within window_days days of created_at "
            "(created_at ≤ occurred_at ≤ created_at + window_days) / customers created in p",
            "customers_activated / customers_created", ("dock",), (
                X("40 of 50 new customers activated", {"customers_activated": 40, "customers_created": 50}, 0.80),
                X("no customer created", {"customers_activated": 0, "customers_created": 0}, None)),
            parameters=(ACTIVATION_EVENT, WINDOW_DAYS), cohort_note=_WINDOW_NOTE),
    _durations("time_to_value", "days from created_at to the first value_event, over customers created in p that "
               "reached it (at any time; those yet to reach it are left out)", "time_to_value", "value_event",
               ("median", "mean"), {"median": ("dock", "guide13", "parative"), "mean": ("industry",)},
               (VALUE_EVENT,), aliases=("ttv",)),
    Metric("onboarding_completion_rate", "share",
           "customers created in p with an onboarding_event within window_days days of created_at "
           "/ customers created in p", (
        Variant("default", "customers_onboarded_in_window / customers_created", ("dock", "parative"),
                "customers created in p with an onboarding_event within window_days days of created_at / customers "
                "created in p; --by step: one row per event name in onboarding_steps, each the share of those "
                "customers with that event within the window", examples=(
                    X("45 of 60 onboarded", {"customers_onboarded_in_window": 45, "customers_created": 60}, 0.75),),
                splits={"step": "customers_completed_step / customers_created"}),
    ), parameters=(ONBOARDING_EVENT, WINDOW_DAYS, ONBOARDING_STEPS), family=FAMILY, cohort_note=_WINDOW_NOTE,
        notes=("--by step reports the event names listed in onboarding_steps (it has no default), each in every "
               "period: a listed name nobody has reached gets its row of 0",)),
    _durations("time_to_complete_onboarding", "days from created_at to the first onboarding_event, over customers "
               "created in p that completed it at any time (no window)", "onboarding_time", "onboarding_event",
               ("mean", "median"), {"mean": ("guide13",), "median": ("industry",)}, (ONBOARDING_EVENT,)),
    _single("active_users", "count",
            "distinct users with an event in p whose name is in active_events (default: any); month grain gives "
            "MAU, week WAU, day DAU", "period_active_users", ("dock", "parative"), parameters=(ACTIVE_EVENTS,)),
    _single("stickiness", "share",
            "(Σ over the days of p (local days of the calendar) of that day's active users) / days in p / active_users of p",
            "active_user_days / days_in_period / period_active_users", ("parative",), (
                X("mean daily active users 9,400; monthly 142,000",
                  {"active_user_days": 9_400 * 30, "days_in_period": 30, "period_active_users": 142_000}, 0.0662,
                  "industry", tolerance=1e-3),
                X("nobody active", {"active_user_days": 0, "days_in_period": 31, "period_active_users": 0}, None)),
            parameters=(ACTIVE_EVENTS,)),
    Metric("feature_adoption_rate", "share", "the share of the customers paying at the end of p that used each "
           "feature in p; always carries the dimension feature", (
        Variant("default", "feature_adopters / customers_end", ("dock",),
                "customers in E with an event named f in p / |E|, one row per period and feature f in features "
                "(default: every distinct event name in the whole events source); 0 where none used it", examples=(
                    X("8,000 customers at the end; 2,400 used the feature", {"feature_adopters": 2_400,
                                                                             "customers_end": 8_000}, 0.30),
                    X("no customers", {"feature_adopters": 0, "customers_end": 0}, None))),
    ), parameters=(FEATURES,), family=FAMILY, cohort_note=(
        "the default feature list is every event name of the whole events source, so past periods gain a row "
        "(0) when a new event name first appears later")),
    _single("engagement_rate", "share",
            "distinct users with an engagement_event (default: any) in p / users with created_at < p.end",
            "engaged_users / users_to_date", ("guide13",), (
                X("300 of 1,200 users engaged", {"engaged_users": 300, "users_to_date": 1_200}, 0.25),),
            parameters=(ENGAGEMENT_EVENT,)),
    Metric("customer_health_score", "score", "a 0–100 usage score of the customers paying at the end of p", (
        Variant("frequency_breadth_depth", "health_score_mean", ("podium",),
                "mean over c ∈ E of 100 × (w_f·frequency + w_b·breadth + w_d·depth): frequency = UTC days of p with "
                "an event of c / days in p; breadth = users of c with an event in p / users of c created before "
                "p.end (0 when c has none); depth = distinct event names c used in p / distinct event names in the "
                "whole source; a customer without events scores 0 and counts", examples=(
                    X("scores 90, 60, 0", {"health_score_mean": 50}, 50),),
                splits={"customer_id": "health_customer_score", "health_band": "health_band_score_mean"}),
    ), parameters=HEALTH_WEIGHTS, checks=(_weights_sum_to_one,), family=FAMILY, cohort_note=_HEALTH_NOTE,
        aliases=("health_score",),
        notes=("--by customer_id gives each customer's score (the customers of E in p); --by health_band the mean "
               f"score within each band: {_BANDS}; an empty band has no mean (NULL)",)),
    Metric("health_band_customers", "count", "customers of E in each health band; always carries the dimension "
           "health_band", (
        Variant("default", "health_band_customer_count", ("dock",),
                f"customers of E whose health score in p (customer_health_score) is in the band: {_BANDS}; "
                "every band in every period, 0 when empty", splits={"health_band": "health_band_customer_count"}),
    ), parameters=HEALTH_WEIGHTS, checks=(_weights_sum_to_one,), family=FAMILY, cohort_note=_HEALTH_NOTE),
    _single("referrals", "count", "referrals with referred_at in p", "referrals_made", ("parative",)),
    _single("referral_rate", "per_unit", "referrals in p / |E|", "referrals_made / customers_end", ("parative",), (
        X("20 referrals, 400 customers", {"referrals_made": 20, "customers_end": 400}, 0.05),
        X("no customers", {"referrals_made": 3, "customers_end": 0}, None))),
)


@hookimpl
def csframe_register_metrics(registrar) -> None:
    engagement_nodes.register_nodes(registrar, engagement_nodes.NODES)
    for metric in METRICS:
        registrar.metric(metric)
