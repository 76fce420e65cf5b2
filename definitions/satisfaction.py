"""The "Satisfaction and support" catalog of metrics.md, registered through the same hook a
third-party plugin uses.

Reads ``survey_responses``, ``tickets`` and ``kb_ratings``; ``tickets_per_customer`` also reads
|E| (``customers_end``, from the revenue catalog) and ``users`` (a node shared with the adoption
catalog, registered by whichever of the two loads first).

``kb_article_rating --by article_id`` is a variant split: article_id is no customer dimension, so
it reads a measure keyed by article (every article of the whole source in every period).
"""

from __future__ import annotations

__all__ = ["METRICS", "NPS_REJECTED_READINGS", "PARAMETERS", "csframe_register_metrics"]

from csframe.core.hookspecs import hookimpl
from csframe.core.models import Example as X
from csframe.core.models import Metric, Parameter, Variant

from . import engagement_nodes, support_nodes

FAMILY = "satisfaction"
HOUR = 3600

CSAT_SATISFIED_MIN = Parameter("csat_satisfied_min", 4.0, "the lowest csat score that counts as satisfied "
                               "(default 4, on the default 1–5 scale)", kind="float")
CSAT_SCALE = Parameter("csat_scale", (1, 5), "the lowest and highest valid csat score; a score outside is bad data "
                       "(default 1–5)", kind="range")
CES_SCALE = Parameter("ces_scale", (1, 7), "the lowest and highest valid ces score; a score outside is bad data "
                      "(default 1–7)", kind="range")
PARAMETERS = (CSAT_SATISFIED_MIN, CSAT_SCALE, CES_SCALE)

NPS_REJECTED_READINGS = (
    ("podium computes NPS as \"the percentage of promoters subtracted from the percentage of detractors\", which "
     "flips the sign of every score; the other four articles agree on promoters minus detractors."),
    ("parative writes NPS once as \"the number of promoters − the number of detractors\": a count, not a score; its "
     "own example then uses percentages."),
    ("parative scores NPS on 1–10 and the others on 0–10; with detractors ≤ 6 both give the same number, so it is "
     "no variant."),
)

_AT_ALL = "\"at all\": {what}, so a period's value can change as data arrives"


def _single(name: str, unit: str, description: str, formula: str, provenance: tuple[str, ...],
            examples: tuple[X, ...] = (), **kwargs) -> Metric:
    return Metric(name, unit, description, (Variant("default", formula, provenance, description, examples=examples),),
                  family=FAMILY, **kwargs)


def _hours(name: str, description: str, prefix: str, provenance_mean: tuple[str, ...], **kwargs) -> Metric:
    """A metric in hours with a ``mean`` (default) and a ``median`` variant over ``<prefix>_*`` measures."""
    return Metric(name, "hours", description, (
        Variant("mean", f"{prefix}_seconds_sum / {HOUR} / {prefix}_count", provenance_mean, "the mean, in hours",
                examples=(X("2 tickets: 1 h and 4 h", {f"{prefix}_seconds_sum": 5 * HOUR, f"{prefix}_count": 2}, 2.5),
                          X("no ticket", {f"{prefix}_seconds_sum": 0, f"{prefix}_count": 0}, None))),
        Variant("median", f"{prefix}_seconds_median / {HOUR}", ("industry",),
                "the interpolated median (the mean of the two middle values for an even count), in hours",
                examples=(X("median 5,400 s", {f"{prefix}_seconds_median": 5_400}, 1.5),)),
    ), family=FAMILY, **kwargs)


METRICS: tuple[Metric, ...] = (
    Metric("nps", "score", "Net Promoter Score over the nps responses in p, from −100 to 100", (
        Variant("default", "100 * (nps_promoters - nps_detractors) / nps_responses",
                ("agile", "dock", "guide13", "podium", "parative"),
                "100 × (promoters − detractors) / responses; promoter = score ≥ 9, detractor = score ≤ 6 (0–10)",
                examples=(
                    X("74 % promoters, 12 % detractors", {"nps_promoters": 74, "nps_detractors": 12,
                                                          "nps_responses": 100}, 62),
                    X("30 % promoters, 20 % detractors", {"nps_promoters": 30, "nps_detractors": 20,
                                                          "nps_responses": 100}, 10),
                    X("no response", {"nps_promoters": 0, "nps_detractors": 0, "nps_responses": 0}, None))),
    ), family=FAMILY, rejected=NPS_REJECTED_READINGS),
    Metric("csat", "score", "customer satisfaction from the csat responses in p", (
        Variant("mean_score", "csat_score_sum / csat_responses", ("agile", "parative"),
                "the mean score of csat responses in p", examples=(
                    X("scores 5, 4, 2", {"csat_score_sum": 11, "csat_responses": 3}, 11 / 3),
                    X("no response", {"csat_score_sum": 0, "csat_responses": 0}, None))),
        Variant("percent_satisfied", "csat_satisfied / csat_responses", ("podium",),
                "csat responses with score ≥ csat_satisfied_min (default 4, scale 1–5) / csat responses",
                unit="share", examples=(
                    X("100 responses, 60 of them 4 or 5", {"csat_satisfied": 60, "csat_responses": 100}, 0.60,
                      "industry"),)),
    ), parameters=(CSAT_SATISFIED_MIN, CSAT_SCALE), family=FAMILY),
    _single("ces", "score", "the mean score of ces responses in p", "ces_score_sum / ces_responses",
            ("agile", "dock", "guide13", "podium"), (
                X("scores 2, 3, 7", {"ces_score_sum": 12, "ces_responses": 3}, 4),
                X("no response", {"ces_score_sum": 0, "ces_responses": 0}, None)),
            parameters=(CES_SCALE,)),
    Metric("first_contact_resolution_rate", "share", "the share of tickets created in p resolved at the first "
           "contact", (
        Variant("single_contact", "tickets_resolved_first_contact / tickets_created", ("agile", "dock", "parative"),
                "tickets created in p with resolved_at not null and contacts = 1 / tickets created in p", examples=(
                    X("70 of 100 resolved in one contact", {"tickets_resolved_first_contact": 70,
                                                            "tickets_created": 100}, 0.70),
                    X("no ticket", {"tickets_resolved_first_contact": 0, "tickets_created": 0}, None))),
        Variant("resolved_minus_reopened", "(tickets_created_resolved - tickets_resolved_reopened) / tickets_created",
                ("podium",), "(tickets created in p with resolved_at not null − those of them reopened) / tickets "
                "created in p", examples=(
                    X("90 resolved, 15 of them reopened, of 100", {"tickets_created_resolved": 90,
                                                                   "tickets_resolved_reopened": 15,
                                                                   "tickets_created": 100}, 0.75),)),
    ), family=FAMILY, cohort_note=_AT_ALL.format(what="a ticket counts as resolved whenever it is resolved"),
        aliases=("fcr",)),
    _hours("first_response_time", "hours from created_at to first_response_at, over tickets created in p that have "
           "a response", "first_response", ("guide13",),
           cohort_note=_AT_ALL.format(what="a ticket counts once it has a response, whenever that is"),
           aliases=("frt",)),
    _hours("time_to_resolution", "hours from created_at to resolved_at, over tickets resolved in p", "resolution",
           ("parative",), aliases=("ttr",)),
    _single("support_tickets", "count", "tickets created in p", "tickets_created", ("parative",)),
    Metric("tickets_per_customer", "per_unit", "support load: tickets created in p per customer or per user", (
        Variant("per_customer", "tickets_created / customers_end", ("agile",), "tickets created in p / |E|",
                examples=(X("50 tickets, 200 customers", {"tickets_created": 50, "customers_end": 200}, 0.25),
                          X("no customers", {"tickets_created": 5, "customers_end": 0}, None))),
        Variant("per_user", "tickets_created / users_to_date", ("industry",),
                "tickets created in p / users with created_at < p.end", examples=(
                    X("50 tickets, 1,000 users", {"tickets_created": 50, "users_to_date": 1_000}, 0.05),)),
    ), family=FAMILY),
    Metric("kb_article_rating", "score", "the mean rating of knowledge-base ratings in p", (
        Variant("default", "kb_rating_sum / kb_ratings", ("agile",),
                "the mean rating of knowledge-base ratings in p; --by article_id: the mean per article (every "
                "article of the whole source in every period; NULL where it has no rating in p)", examples=(
                    X("ratings 4, 5, 3", {"kb_rating_sum": 12, "kb_ratings": 3}, 4),
                    X("no rating", {"kb_rating_sum": 0, "kb_ratings": 0}, None)),
                splits={"article_id": "kb_article_rating_sum / kb_article_ratings"}),
    ), family=FAMILY),
)


@hookimpl
def csframe_register_metrics(registrar) -> None:
    user_population = [n for n in engagement_nodes.NODES if n.name == "user_population"]
    engagement_nodes.register_nodes(registrar, (*support_nodes.NODES, *user_population))
    for metric in METRICS:
        registrar.metric(metric)
