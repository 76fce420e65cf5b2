"""A project on each of the three engines, for tests that need a project file (the CLI): the rows
are loaded, typed by the data contract (the test kit's :func:`~csframe.testing.load_rows`), into a
namespace of the test's own — a DuckDB file, a PostgreSQL schema (``pg_dsn``), a dataset of the
session's BigQuery emulator (``bq_emulator``) — and a ``csframe.toml`` maps a source to each table.

The fixture :func:`engine_project` is parametrized over the three engines (module scope); a test
module imports it with ``bq_emulator`` (tests/support/bigquery_emulator.py). Where an engine cannot
be had its fixture fails under CI=true (tests/conftest.py, tests/support)."""

from __future__ import annotations

__all__ = ["ENGINES", "engine_project"]

import json
import uuid
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

ENGINES = ("duckdb", "postgres", "bigquery")
ProjectBuilder = Callable[..., Path]


def _toml_value(value: Any) -> str:
    return json.dumps(value)  # a TOML basic string or integer is written as JSON writes it


def _settings(request: pytest.FixtureRequest, engine: str, directory: Path, drops: list[Callable[[], None]]) -> dict:
    tag = "t_" + uuid.uuid4().hex[:12]
    if engine == "duckdb":
        return {"name": "duckdb", "database": str(directory / "data.duckdb")}
    if engine == "postgres":
        from tests.support.postgres import fresh_schema

        dsn = request.getfixturevalue("pg_dsn")
        schema, drop = fresh_schema(dsn)
        drops.append(drop)
        return {"name": "postgres", "dsn": dsn, "schema": schema}
    from csframe.adapters.bigquery_testing import drop_dataset as _drop_bq_dataset

    from tests.support.bigquery_emulator import PROJECT

    endpoint = request.getfixturevalue("bq_emulator").endpoint
    drops.append(lambda: _drop_bq_dataset(PROJECT, tag, endpoint))
    return {"name": "bigquery", "project": PROJECT, "dataset": tag, "api_endpoint": endpoint}


@pytest.fixture(scope="module", params=ENGINES)
def engine_project(request: pytest.FixtureRequest) -> Iterator[ProjectBuilder]:
    """build(directory, tables, toml_extra="") -> a project directory on this engine (``request.param``)
    whose csframe.toml maps a source to each table of ``tables`` (source → list of dicts, typed by the
    contract; or a :class:`~csframe.core.dataset.Dataset` as it is), followed by ``toml_extra``."""
    from csframe.core.dataset import Dataset
    from csframe.core.project import Project, SourceBinding
    from csframe.core.session import Session
    from csframe.testing import load_rows

    engine = request.param
    drops: list[Callable[[], None]] = []

    def build(directory: Path, tables: Mapping[str, Any] | Any, toml_extra: str = "") -> Path:
        directory.mkdir(parents=True, exist_ok=True)
        settings = _settings(request, engine, directory, drops)
        dataset = tables if isinstance(tables, Dataset) else load_rows(tables)
        sources = {t.name: SourceBinding(t.name, table=t.name) for t in dataset.tables}
        with Session.open(project=Project(dir=directory, adapter=dict(settings), sources=sources),
                          entry_points=False) as s:
            s.adapter().connect(write=True)
            s.adapter().load_tables(dataset)
        lines = ["[adapter]", *(f"{k} = {_toml_value(v)}" for k, v in settings.items()), ""]
        for name in sources:
            lines += [f"[sources.{name}]", f"table = {_toml_value(name)}", ""]
        (directory / "csframe.toml").write_text("\n".join(lines) + toml_extra, encoding="utf-8")
        return directory

    build.engine = engine  # type: ignore[attr-defined]
    try:
        yield build
    finally:
        for drop in drops:
            drop()


def three_sessions(directory: Path, tables: Any, bindings: Mapping[str, Any], pg_dsn: str, bq_endpoint: str,
                   dataset_name: str) -> Iterator[dict[str, Any]]:
    """A Session on each engine over the same ``tables`` (a Dataset), loaded once: DuckDB (a file
    in ``directory``), a fresh PostgreSQL schema, the emulator's dataset ``dataset_name``; a
    generator for a module fixture to ``yield from``, closing the sessions and dropping the schema."""
    from csframe.core.project import Project
    from csframe.core.session import Session

    from tests.support.bigquery_emulator import PROJECT
    from tests.support.postgres import fresh_schema

    def opened(adapter: dict[str, Any]) -> Session:
        return Session.open(project=Project(dir=directory, adapter=adapter, sources=dict(bindings)), entry_points=False)

    duck = opened({"name": "duckdb", "database": "d.duckdb"})
    duck.adapter().connect(write=True)
    duck.adapter().load_tables(tables)
    schema, drop = fresh_schema(pg_dsn)
    pg = opened({"name": "postgres", "dsn": pg_dsn, "schema": schema})
    pg.adapter().load_tables(tables)
    bq = opened({"name": "bigquery", "project": PROJECT, "dataset": dataset_name, "api_endpoint": bq_endpoint})
    bq.adapter().connect(write=True)
    bq.adapter().load_tables(tables)
    try:
        yield {"duckdb": duck, "postgres": pg, "bigquery": bq}
    finally:
        for s in (duck, pg, bq):
            s.close()
        drop()
