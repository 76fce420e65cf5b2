"""The adapter protocol: how core talks to an engine without knowing any driver.

An adapter plugin registers a class through ``csframe_register_adapters``. The class
carries its SQL dialect and the dialect's differences as pure AST→AST transforms
(``TRANSFORMS``), so ``csframe sql --dialect X`` needs no driver; ``connect()`` imports
the driver lazily.
"""

from __future__ import annotations

__all__ = ["Adapter", "Transform", "DemoLoaded", "can_init", "USER_SQL", "in_user_sql"]

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, ClassVar, Protocol

import attrs
from sqlglot import exp

Transform = Callable[[exp.Expression], exp.Expression]


class Adapter(Protocol):
    """What core needs of an engine."""

    NAME: ClassVar[str]
    DIALECT: ClassVar[str]
    TRANSFORMS: ClassVar[tuple[Transform, ...]]

    def __init__(self, settings: dict[str, Any], project_dir: Path) -> None: ...

    def connect(self) -> None:
        """Open the connection; raise EngineUnavailableError (exit 3) when it fails
        (``transient=True`` when trying again may help: the run retries those, ``--retries``).
        Called so for every run, with or without ``--target``: an engine that can open a
        database read-only should (DuckDB does, so that other processes may read the file
        meanwhile) and get ready to write in :meth:`check_target`. The built-in adapters also
        take ``write=True``, for whoever loads tables (``csframe init --demo``, the test kit):
        open for writing and create what is missing."""

    def execute(self, sql: str) -> list[tuple]:
        """Run one query and return its rows as Python values."""

    # optional: without it the metrics query is run by :meth:`execute`, as SQL text
    def execute_tree(self, tree: exp.Expression) -> list[tuple]:
        """Run the metrics query given as a tree: csframe's tree after this adapter's
        ``TRANSFORMS`` (its SQL is ``tree.sql(DIALECT)``), a copy the adapter may change. For an
        engine that runs the query in pieces (Spark and ClickHouse compute the steps read twice
        or more first) without parsing csframe's SQL again; the rows as :meth:`execute`'s."""

    def relation_columns(self, relation_sql: str) -> list[str]:
        """The column names of ``SELECT * FROM (relation) LIMIT 0``; raise MetricFailedError
        naming the relation when it does not exist."""

    # optional: without it a source's columns are read with a plain CAST to the contract's type
    def relation_types(self, relation_sql: str) -> list[tuple[str, str]]:
        """(name, type as the adapter's dialect spells it) of each column of the relation, as
        :meth:`relation_columns`: the checks see which columns need converting (text, a
        time-zoned timestamp, a float for an amount; :mod:`csframe.core.contract_types`)."""

    def load_tables(self, dataset: Any) -> None:
        """Create and fill tables from a :class:`csframe.plugins.demo.Dataset` (demo data)."""

    # -- optional: ``csframe init --adapter NAME`` offers the adapters that have these three
    INIT_OPTIONS: ClassVar[tuple[str, ...]]
    """The options of ``csframe init`` this adapter takes besides ``--adapter`` (of ``dsn``,
    ``schema``); init refuses the others for it, naming the adapters that take them."""

    @classmethod
    def init_settings(cls, options: dict[str, str], demo: bool) -> dict[str, Any]:
        """Check ``options`` (the given ones of :attr:`INIT_OPTIONS`) before anything is written,
        raising UsageError naming the flag, and return what :meth:`init_section` and
        :meth:`load_demo` need (e.g. the demo's database file, a server's address from the
        environment)."""

    @classmethod
    def init_section(cls, settings: dict[str, Any]) -> str:
        """The lines of the ``[adapter]`` table of the project file ``csframe init`` writes
        (``name = "..."`` first; never a secret: refer to an environment variable)."""

    @classmethod
    def load_demo(cls, dataset: Any, project_dir: Path, settings: dict[str, Any], force: bool) -> DemoLoaded:
        """Load ``dataset`` (:class:`csframe.plugins.demo.Dataset`) into a fresh target the
        written project reads: refuse (UsageError, naming ``--force``) to replace what is there
        unless ``force``; raise EngineUnavailableError (exit 3) when the engine cannot be reached."""

    # -- optional: the test kit (csframe.testing) runs csframe_case tests on the adapters with it
    @classmethod
    def test_namespace(cls, tag: str, workdir: Path,
                       fixture: Callable[[str], Any]) -> tuple[dict[str, Any], Callable[[], None]]:
        """A throwaway namespace for one test: (the ``[adapter]`` settings, ``name`` included, of a
        database, schema or dataset named ``tag`` or in ``workdir``, the test's temporary
        directory; a function that drops it, called after the test once it connected). Make
        nothing yet: the test's first connection does. ``fixture(name)`` gets a pytest fixture's
        value: ``fixture("csframe_servers").get(NAME)`` is what :meth:`test_server` found (the
        test skips, or fails when the engine was named or under CI=true, when no server answers)."""

    @classmethod
    def test_server(cls, given: dict[str, Any] | None) -> dict[str, Any]:
        """Connect-for-tests, called once a test session: the ``[adapter]`` settings (no namespace)
        of the server this engine's tests use — ``given`` when a conftest gave one (the kit's hook
        ``pytest_csframe_test_server``), else found from the adapter's own environment variables
        (e.g. ``CSFRAME_TEST_PG_DSN``) — once it answers. Raise EngineUnavailableError whose message
        says what is missing and whose hint how to provide it (the variable to set). Without this
        method the kit uses ``given`` (or ``{}``): an engine with no server."""

    TEST_OPT_IN_ENV: ClassVar[str]
    """Optional: the engine is among the kit's default engines only when this environment variable
    is set (e.g. the URL of an emulator the tests need); without it, always."""

    # -- optional: an adapter without these cannot write --target tables / enforce --timeout
    def check_target(self, table: str, columns: Sequence[tuple[str, str]], keys: Sequence[str]) -> None:
        """The pre-flight of a run that writes ``table`` (``compute --target``), called right
        after :meth:`connect` (and retried with it on a transient failure), before anything is
        computed. Raise UsageError (exit 2) for a target that cannot be written: its schema
        (dataset) does not exist — csframe creates tables, never schemas — or a table of another
        shape exists under the name (:func:`csframe.core.writeback.check_shape`: ``columns``
        missing or of another type family, a NOT NULL ``value``, another NOT NULL column without
        a default). Create nothing and change nothing: :meth:`write_results` creates the table and
        checks again in its transaction (the table may change in between). An adapter may also
        make its connection ready to write here (DuckDB reopens its file read-write). Without this
        method those problems surface when the rows are written, after the compute."""

    def write_results(self, table: str, columns: Sequence[tuple[str, str]], rows: Sequence[Sequence[Any]],
                      keys: Sequence[str]) -> int:
        """Write-back (``compute --target``): create ``table`` if absent (``columns`` are
        (name, neutral type) pairs, ``keys`` its primary key; see :mod:`csframe.core.writeback`),
        then in ONE transaction delete every row whose ``keys`` match one of ``rows`` and insert
        ``rows``; return how many were written. Concurrent writers of one table must take turns;
        a failure or a killed process must leave the previous rows (a write that lost to a
        concurrent one may be run again whole: :func:`csframe.core.writeback.retry_conflicts`;
        a table of another shape is refused as in :meth:`check_target`). ``table`` is
        :func:`csframe.core.writeback.target_table`'s to parse and quote. (BigQuery, whose
        statements are each their own transaction, loads ``rows`` into a staging table with one
        load job, then sends one MERGE: :func:`~csframe.core.writeback.merge_replacing`.)
        Returns the number of rows written."""

    def set_deadline(self, deadline: Any) -> None:
        """Hold every statement to ``deadline`` (a :class:`csframe.core.deadline.Deadline`,
        or None to clear it): stop a statement when ``deadline.remaining()`` runs out and
        raise :class:`~csframe.core.errors.RunTimeoutError`."""

    # optional: without it ``compute --dry-run`` is refused, naming the adapters that have it
    def dry_run(self, sql: str) -> int:
        """What the query would cost without running it: the bytes it would process (BigQuery)."""

    def close(self) -> None:
        """Close the connection (a closed adapter may :meth:`connect` again)."""

    def describe(self) -> str:
        """Where this adapter points, for messages (never a password)."""


@attrs.frozen
class DemoLoaded:
    """Where :meth:`Adapter.load_demo` put the demo data, for ``csframe init``'s messages."""

    where: str
    """What was written, after "wrote csframe.toml and ": a file, "loaded schema X on host"."""
    before_next: str = ""
    """A step before the suggested ``csframe compute`` (e.g. "export VAR=<your dsn>, then ")."""


USER_SQL = "user_sql"
"""The ``meta`` key the compiler sets on the root of SQL a user wrote in the engine's own dialect
(a source's ``sql =``): a dialect transform leaves that subtree as it is."""


def in_user_sql(node: exp.Expression | None) -> bool:
    """Whether ``node`` is inside SQL a user wrote (it or an ancestor carries ``meta[USER_SQL]``)."""
    while node is not None:
        if node.meta_get(USER_SQL):
            return True
        node = node.parent
    return False


def can_init(factory: Any) -> bool:
    """Whether a registered adapter factory can write a project for ``csframe init``."""
    return all(callable(getattr(factory, m, None)) for m in ("init_settings", "init_section", "load_demo"))


def apply_transforms(tree: exp.Expression, transforms: Sequence[Transform]) -> exp.Expression:
    for t in transforms:
        tree = t(tree)
    return tree
