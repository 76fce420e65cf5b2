"""The hooks a csframe plugin may implement.

Every hook name starts with ``csframe_``. Collection hooks receive a registrar (or a
``register`` callable) instead of returning structures, so the host can check each
registration and name the plugin in any error. The docs' hook reference is built from
these docstrings; a test fails when a hook is undocumented.
"""

from __future__ import annotations

__all__ = ["hookspec", "hookimpl", "PROJECT_NAME", "CsframeSpec"]

from typing import Any

import pluggy

PROJECT_NAME = "csframe"
hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


class CsframeSpec:
    """Hook specifications (pluggy)."""

    @hookspec
    def csframe_register_metrics(self, registrar: Any) -> None:
        """Register metrics, variants and the SQL nodes that provide their measures.

        :param registrar: a :class:`csframe.core.registry.Registrar` bound to the calling
            plugin. Call ``registrar.node(Node(...))`` for each SQL step,
            ``registrar.metric(Metric(...))`` for each new metric,
            ``registrar.variant("metric", Variant(...))`` to add a variant to a metric
            another plugin registers, and ``registrar.default_variant("metric", "name")``
            to change which variant a metric uses by default.
        :return: nothing; anything returned is ignored. A bad formula, an unknown
            measure or a duplicate name raises an error naming this plugin.
        """

    @hookspec
    def csframe_register_adapters(self, register: Any) -> None:
        """Register engine adapters.

        :param register: call ``register(name, factory)``; ``factory(settings, project_dir)``
            returns an adapter (see :mod:`csframe.core.adapter`) for the ``[adapter]``
            table of ``csframe.toml`` whose ``name`` is ``name``. The factory must not
            connect: connecting happens in the adapter's ``connect()``.
        :return: nothing.
        """

    @hookspec
    def csframe_register_dialects(self, register: Any) -> None:
        """Register SQL-only dialects: engines csframe prints SQL for (``csframe sql --dialect
        NAME``) but has no adapter to run it on.

        :param register: call ``register(name, profile)``; ``profile`` is any object (a class)
            with ``DIALECT``, a sqlglot dialect name, and ``TRANSFORMS``, a tuple of functions
            rewriting a sqlglot tree in place, as an adapter class has. A name may not be both an
            adapter and a dialect.
        :return: nothing.
        """

    @hookspec(firstresult=True)
    def csframe_default_adapter(self, adapters: Any) -> str | None:
        """Name the adapter a project uses when its ``csframe.toml`` has no ``[adapter] name``
        (and the default of ``csframe init --adapter``, ``csframe check``, the test kit) — a
        "decide" hook: the first answer wins, and a plugin installed later is asked first.

        :param adapters: the names of every registered adapter (``csframe_register_adapters``).
        :return: one of ``adapters``, or None to let another plugin answer. The built-in
            adapters answer with their embedded engine when it is registered.
        """

    @hookspec
    def csframe_register_output_formats(self, register: Any) -> None:
        """Register output formats for ``csframe compute --format``.

        :param register: call ``register(name, writer)``; ``writer(result, stream)``
            writes a :class:`csframe.core.result.Result` to a text stream — or, when the
            writer has an attribute ``binary = True``, to a binary file (such a format needs
            ``--output PATH``). A writer may also have ``check()``, called before anything is
            computed, which raises a csframe error when the format cannot be written (e.g. a
            library it needs is not installed).
        :return: nothing.
        """

    @hookspec
    def csframe_register_commands(self, cli: Any) -> None:
        """Add commands to the ``csframe`` command line.

        :param cli: the click group of the ``csframe`` command; call
            ``cli.add_command(command)`` or decorate with ``@cli.command()``.
        :return: nothing.
        """

    @hookspec(firstresult=True)
    def csframe_demo_dataset(self, customers: int, months: int, end: Any, seed: int) -> Any:
        """Make the sample data ``csframe init --demo`` writes (a "decide" hook: first answer wins).

        :param customers: how many customer accounts to generate.
        :param months: how many months of history, ending just before ``end``.
        :param end: a ``datetime.date``, the first day of the month the data ends at (exclusive).
        :param seed: the random seed; the same arguments must give the same rows.
        :return: a :class:`csframe.plugins.demo.Dataset` (tables of columns and rows), or None
            to let another plugin answer.
        """

    @hookspec(historic=True)
    def csframe_configure(self, project: Any) -> None:
        """Called once a project file is loaded, before anything is computed.

        Historic: a plugin registered later still receives the call.

        :param project: the :class:`csframe.core.project.Project` being used (read-only).
        :return: nothing.
        """

    @hookspec
    def csframe_write_stage(self, stage: str, table: str, engine: str) -> None:
        """Called by a run that writes a table (``compute --target``) at a point of its write,
        in the writing process and thread; the write goes on when every implementation returns.

        :param stage: ``"uncommitted"``: the rows are staged and the old rows of the run's keys
            deleted, inside the write's transaction, nothing committed yet (BigQuery, whose
            statements commit one by one: the rows are loaded into the staging table and the one
            ``MERGE`` not yet sent). A run stopped here (an error, a signal, a kill) leaves the
            table as it was; other readers see the old rows.
        :param table: the target table, as given to ``--target``.
        :param engine: the adapter's name (``duckdb``, ``postgres``, ``bigquery``, …).
        :return: nothing. Keep it short: the write holds its transaction (and its locks) while
            this runs. An exception it raises fails the run, and nothing is written. (csframe's
            tests pause here to stop a writer, or race two, at that point.)
        """
