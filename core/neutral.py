"""The sqlglot dialect csframe's neutral SQL is spelled in: the one place core names it.

Node SQL, source SQL read without an adapter, the demo dataset's column types and the types a
problem names when no adapter says otherwise are read and written in this dialect; each adapter
turns the neutral tree into its own (its ``DIALECT`` and ``TRANSFORMS``). It is sqlglot's
name for the SQL csframe's neutral trees already are, not a choice of engine: the project's
engine comes from the registry (``Registry.default_adapter``, ``[adapter] name``)."""

from __future__ import annotations

__all__ = ["NEUTRAL_DIALECT"]

NEUTRAL_DIALECT = "duckdb"
