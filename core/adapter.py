"""The adapter protocol: how core talks to an engine without knowing any driver.

An adapter plugin registers a class through ``csframe_register_adapters``. The class
carries its SQL dialect and the dialect's differences as pure AST→AST transforms
(``TRANSFORMS``), so ``csframe sql --dialect X`` needs no driver; ``connect()`` imports
the driver lazily.
"""

from __future__ import annotations

__all__ = ["Adapter", "Transform"]

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, ClassVar, Protocol

from sqlglot import exp

Transform = Callable[[exp.Expression], exp.Expression]


class Adapter(Protocol):
    """What core needs of an engine."""

    NAME: ClassVar[str]
    DIALECT: ClassVar[str]
    TRANSFORMS: ClassVar[tuple[Transform, ...]]

    def __init__(self, settings: dict[str, Any], project_dir: Path) -> None: ...

    def connect(self) -> None:
        """Open the connection; raise EngineUnavailableError (exit 3) when it fails."""

    def execute(self, sql: str) -> list[tuple]:
        """Run one query and return its rows as Python values."""

    def relation_columns(self, relation_sql: str) -> list[str]:
        """The column names of ``SELECT * FROM (relation) LIMIT 0``; raise MetricFailedError
        naming the relation when it does not exist."""

    def load_tables(self, dataset: Any) -> None:
        """Create and fill tables from a :class:`csframe.plugins.demo.Dataset` (demo data)."""

    # -- optional: an adapter without these cannot write --target tables / enforce --timeout
    def write_results(self, table: str, columns: Sequence[tuple[str, str]], rows: Sequence[Sequence[Any]],
                      keys: Sequence[str]) -> int:
        """Write-back (``compute --target``): create ``table`` if absent (``columns`` are
        (name, neutral type) pairs, ``keys`` its primary key; see :mod:`csframe.core.writeback`),
        then in ONE transaction delete every row whose ``keys`` match one of ``rows`` and insert
        ``rows``; return how many were written. Concurrent writers of one table must take turns;
        a failure or a killed process must leave the previous rows. ``table`` is
        :func:`csframe.core.writeback.target_table`'s to parse and quote. (BigQuery, whose
        statements are each their own transaction, loads ``rows`` into a staging table with one
        load job, then sends one MERGE: :func:`~csframe.core.writeback.merge_replacing`.)
        Returns the number of rows written."""

    def set_deadline(self, deadline: Any) -> None:
        """Hold every statement to ``deadline`` (a :class:`csframe.core.deadline.Deadline`,
        or None to clear it): stop a statement when ``deadline.remaining()`` runs out and
        raise :class:`~csframe.core.errors.RunTimeoutError`."""

    def close(self) -> None: ...

    def describe(self) -> str:
        """Where this adapter points, for messages (never a password)."""


def apply_transforms(tree: exp.Expression, transforms: Sequence[Transform]) -> exp.Expression:
    for t in transforms:
        tree = t(tree)
    return tree
