"""The shape of the demo data: the columns of every canonical source of ``data-contract.md``
(:data:`SCHEMAS`), in its order (:data:`SOURCES`), as :mod:`csframe.core.dataset`'s
:class:`Column` (re-exported here with :class:`Table` and :class:`Dataset`)."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from csframe.core.dataset import Column, Dataset, Table

__all__ = [
    "COLUMN_TYPES",
    "SCHEMAS",
    "SOURCES",
    "Column",
    "Dataset",
    "Table",
]

COLUMN_TYPES: frozenset[str] = frozenset(
    {"VARCHAR", "TIMESTAMP", "DATE", "DECIMAL(18,2)", "DOUBLE", "INTEGER", "BOOLEAN"}
)


# the data contract's columns, as DDL: "name TYPE, name TYPE, ..."
_DDL = {
    "customers": "customer_id VARCHAR, created_at TIMESTAMP, segment VARCHAR, plan VARCHAR, region VARCHAR, "
    "csm VARCHAR",
    "subscriptions": "subscription_id VARCHAR, customer_id VARCHAR, started_at TIMESTAMP, ended_at TIMESTAMP, "
    "mrr DECIMAL(18,2), is_trial BOOLEAN",
    "invoices": "invoice_id VARCHAR, customer_id VARCHAR, paid_at TIMESTAMP, amount DECIMAL(18,2), kind VARCHAR",
    "renewals": "contract_id VARCHAR, customer_id VARCHAR, due_at DATE, value_up DECIMAL(18,2), renewed BOOLEAN, "
    "renewed_value DECIMAL(18,2)",
    "trials": "trial_id VARCHAR, customer_id VARCHAR, started_at TIMESTAMP, converted_at TIMESTAMP",
    "users": "user_id VARCHAR, customer_id VARCHAR, created_at TIMESTAMP",
    "events": "user_id VARCHAR, customer_id VARCHAR, name VARCHAR, occurred_at TIMESTAMP",
    "survey_responses": "response_id VARCHAR, customer_id VARCHAR, survey VARCHAR, score DOUBLE, "
    "responded_at TIMESTAMP",
    "tickets": "ticket_id VARCHAR, customer_id VARCHAR, created_at TIMESTAMP, first_response_at TIMESTAMP, "
    "resolved_at TIMESTAMP, contacts INTEGER, reopened BOOLEAN",
    "costs": "incurred_at TIMESTAMP, category VARCHAR, amount DECIMAL(18,2)",
    "referrals": "referral_id VARCHAR, referrer_customer_id VARCHAR, referred_at TIMESTAMP, converted_at TIMESTAMP",
    "kb_ratings": "article_id VARCHAR, rated_at TIMESTAMP, rating DOUBLE",
}

SCHEMAS: Mapping[str, tuple[Column, ...]] = MappingProxyType(
    {name: tuple(Column(*column.split(" ")) for column in ddl.split(", ")) for name, ddl in _DDL.items()}
)
SOURCES: tuple[str, ...] = tuple(SCHEMAS)
_unknown = sorted({c.type for columns in SCHEMAS.values() for c in columns} - COLUMN_TYPES)
if _unknown:
    raise ValueError(f"unknown column type(s) {_unknown}; expected one of {sorted(COLUMN_TYPES)}")
