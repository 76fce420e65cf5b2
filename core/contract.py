"""The data contract (data-contract.md) as data: canonical sources, their columns
and types, keys, and which sources belong to a customer."""

from __future__ import annotations

__all__ = ["Column", "Source", "SOURCES", "source", "CUSTOMER_COLUMN"]

import attrs


@attrs.frozen
class Column:
    """A canonical column: name, neutral SQL type, whether it may be absent (``optional``) and
    whether it may hold NULL (``nullable``; every other column is NOT NULL: a NULL in it is bad data)."""

    name: str
    type: str
    optional: bool = False
    nullable: bool = False
    default: str | None = None  # SQL literal used when an optional column is absent
    note: str = ""  # what the column holds, where the name does not say it all (docs/sources.md)


@attrs.frozen
class Source:
    """A canonical source: its columns, key and the column naming its customer."""

    name: str
    description: str
    columns: tuple[Column, ...]
    key: tuple[str, ...] = ()
    customer_column: str | None = "customer_id"

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)


C = Column
SOURCES: tuple[Source, ...] = (
    Source("customers", "one customer account", (
        C("customer_id", "VARCHAR"), C("created_at", "TIMESTAMP", note="the sale closed / the account was created")),
        key=("customer_id",)),
    Source("subscriptions", "one interval during which a subscription had a constant MRR", (
        C("subscription_id", "VARCHAR"), C("customer_id", "VARCHAR"), C("started_at", "TIMESTAMP"),
        C("ended_at", "TIMESTAMP", nullable=True, note="NULL: still running"),
        C("mrr", "DECIMAL(38, 9)", note="monthly-normalised recurring amount, ≥ 0"),
        C("is_trial", "BOOLEAN", optional=True, nullable=True, default="FALSE")),
        key=("subscription_id", "started_at")),
    Source("invoices", "one paid invoice or order", (
        C("invoice_id", "VARCHAR"), C("customer_id", "VARCHAR"), C("paid_at", "TIMESTAMP"),
        C("amount", "DECIMAL(38, 9)"),
        C("kind", "VARCHAR", optional=True, nullable=True, default="'subscription'",
          note="subscription, upsell, cross_sell or one_time; NULL counts as subscription")), key=("invoice_id",)),
    Source("renewals", "one contract reaching its renewal date", (
        C("contract_id", "VARCHAR"), C("customer_id", "VARCHAR"),
        C("due_at", "TIMESTAMP", note="when the contract came up for renewal (a DATE is midnight UTC)"),
        C("value_up", "DECIMAL(38, 9)", note="contract value up for renewal"), C("renewed", "BOOLEAN"),
        C("renewed_value", "DECIMAL(38, 9)", note="value of the renewing contract, expansion included; 0 if not renewed")),
        key=("contract_id",)),
    Source("trials", "one free trial", (
        C("trial_id", "VARCHAR"), C("customer_id", "VARCHAR"), C("started_at", "TIMESTAMP"),
        C("converted_at", "TIMESTAMP", nullable=True, note="NULL: not converted")), key=("trial_id",)),
    Source("users", "one person (seat) of a customer account", (
        C("user_id", "VARCHAR"), C("customer_id", "VARCHAR"), C("created_at", "TIMESTAMP")), key=("user_id",)),
    Source("events", "one product-usage event", (
        C("user_id", "VARCHAR", nullable=True,
          note="NULL: an event of no user (counted for its customer, never as an active user)"),
        C("customer_id", "VARCHAR"), C("name", "VARCHAR", note="login, a feature's use, an onboarding step, …"),
        C("occurred_at", "TIMESTAMP")), key=()),
    Source("survey_responses", "one answer to a satisfaction survey", (
        C("response_id", "VARCHAR"), C("customer_id", "VARCHAR"),
        C("survey", "VARCHAR", note="nps, csat, ces, or any other name (not checked, not used)"),
        C("score", "DOUBLE", note="nps 0–10, csat csat_scale (1–5), ces ces_scale (1–7)"), C("responded_at", "TIMESTAMP")),
        key=("response_id",)),
    Source("tickets", "one support inquiry", (
        C("ticket_id", "VARCHAR"), C("customer_id", "VARCHAR"), C("created_at", "TIMESTAMP"),
        C("first_response_at", "TIMESTAMP", nullable=True), C("resolved_at", "TIMESTAMP", nullable=True),
        C("contacts", "DOUBLE", nullable=True, note="interactions until resolved; NULL while open"),
        C("reopened", "BOOLEAN")), key=("ticket_id",)),
    Source("costs", "one cost line", (
        C("incurred_at", "TIMESTAMP"), C("category", "VARCHAR", note="acquisition or retention"),
        C("amount", "DECIMAL(38, 9)")),
        key=(), customer_column=None),
    Source("referrals", "one referral made by a customer", (
        C("referral_id", "VARCHAR"), C("referrer_customer_id", "VARCHAR"), C("referred_at", "TIMESTAMP"),
        C("converted_at", "TIMESTAMP", nullable=True)), key=("referral_id",), customer_column="referrer_customer_id"),
    Source("kb_ratings", "one rating of a knowledge-base article", (
        C("article_id", "VARCHAR"), C("rated_at", "TIMESTAMP"), C("rating", "DOUBLE")),
        key=(), customer_column=None),
)
del C

CUSTOMER_COLUMN = "customer_id"
_BY_NAME = {s.name: s for s in SOURCES}


def source(name: str) -> Source:
    """The canonical source called ``name`` (KeyError if there is none)."""
    return _BY_NAME[name]
