"""Rows to load, typed: the shape an adapter's ``load_tables`` takes (:class:`Dataset` of
:class:`Table` of :class:`Column`), made by the demo generator and by the test kit."""

from __future__ import annotations

__all__ = ["Column", "Dataset", "Table"]

from collections.abc import Iterator
from typing import Any

import attrs
from sqlglot import exp
from sqlglot.errors import ParseError

from .neutral import NEUTRAL_DIALECT


def _check_type(_instance: object, _attribute: object, value: str) -> None:
    try:
        kind = exp.DataType.build(value, dialect=NEUTRAL_DIALECT)
    except (ParseError, ValueError):
        kind = None
    if kind is None or kind.this == exp.DataType.Type.USERDEFINED:
        raise ValueError(f"column type {value!r} is not an SQL type (write it in neutral SQL: VARCHAR, TIMESTAMP, "
                         "DECIMAL(18,2), DOUBLE, BIGINT, BOOLEAN, DATE)")


@attrs.frozen
class Column:
    """A column: its canonical name and a neutral SQL type, spelled as DuckDB does
    (``VARCHAR``, ``TIMESTAMP``, ``DECIMAL(18,2)``, …); each adapter maps it to its own."""

    name: str
    type: str = attrs.field(validator=_check_type)


@attrs.frozen
class Table:
    """One source's columns and rows (tuples in the columns' order)."""

    name: str
    columns: tuple[Column, ...]
    rows: list[tuple[Any, ...]]

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.columns)


@attrs.frozen
class Dataset:
    """Tables, in the order they are loaded."""

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
