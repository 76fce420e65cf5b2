"""The shape of the demo data: :class:`Column`, :class:`Table`, :class:`Dataset`, and the columns of
every canonical source of ``data-contract.md`` (:data:`SCHEMAS`), in its order (:data:`SOURCES`)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from types import MappingProxyType
from typing import Any

import attrs

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


def _check_type(_instance: object, _attribute: object, value: str) -> None:
    if value not in COLUMN_TYPES:
        raise ValueError(f"unknown column type {value!r}; expected one of {sorted(COLUMN_TYPES)}")


@attrs.frozen
class Column:
    """A column of a demo table: its canonical name and a neutral SQL type."""

    name: str
    type: str = attrs.field(validator=_check_type)


@attrs.frozen
class Table:
    """One canonical source: its columns in contract order and its rows (tuples in that order)."""

    name: str
    columns: tuple[Column, ...]
    rows: list[tuple[Any, ...]]

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.columns)


@attrs.frozen
class Dataset:
    """The generated tables, in the contract's order of sources."""

    tables: tuple[Table, ...]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(table.name for table in self.tables)

    def table(self, name: str) -> Table:
        for table in self.tables:
            if table.name == name:
                return table
        raise KeyError(f"no table {name!r} in this dataset; it has {', '.join(self.names) or 'none'}")

    def __iter__(self) -> Iterator[Table]:
        return iter(self.tables)


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
