"""A project on each of the test kit's engines, for tests that need a project file (the CLI): the
rows are loaded, typed by the data contract (the test kit's :func:`~csframe.testing.load_rows`),
into a namespace of the test's own — the adapter's ``test_namespace``: a DuckDB file, a PostgreSQL
schema, a dataset of the session's BigQuery emulator, or a newly registered adapter's — and a
``csframe.toml`` maps a source to each table.

The fixture :func:`engine_project` is parametrized over the kit's engines (module scope;
tests/conftest.py calls :func:`parametrize_engine_project`); a test module imports it with
``bq_emulator`` (tests/support/bigquery_emulator.py). Where an engine cannot be had its fixture
fails under CI=true (tests/conftest.py, tests/support). :func:`three_sessions` (the reference
tests) is still written for DuckDB, PostgreSQL and BigQuery."""

from __future__ import annotations

__all__ = ["engine_project", "parametrize_engine_project", "three_sessions"]

import json
import uuid
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

ProjectBuilder = Callable[..., Path]


def _toml_value(value: Any) -> str:
    return json.dumps(value)  # a TOML basic string or integer is written as JSON writes it


def parametrize_engine_project(metafunc: pytest.Metafunc) -> None:
    """``engine_project`` runs on the test kit's engines (the registered adapters with
    ``test_namespace``, as ``csframe_case``): called by tests/conftest.py's pytest_generate_tests."""
    from csframe.testing import _engines_for

    if "engine_project" in metafunc.fixturenames:
        names = _engines_for(metafunc)
        metafunc.parametrize("engine_project", names, indirect=True, ids=names, scope="module")


def _settings(request: pytest.FixtureRequest, engine: str, directory: Path, drops: list[Callable[[], None]]) -> dict:
    """The adapter's throwaway namespace (its ``test_namespace``), dropped after the module."""
    from csframe.testing.engines import _factories

    tag = "t_" + uuid.uuid4().hex[:12]
    settings, drop = _factories(request.config)[engine].test_namespace(tag, directory, request.getfixturevalue)
    drops.append(drop)
    return dict(settings)


@pytest.fixture(scope="module")
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
        with Session.open(project=Project(dir=directory, adapter=dict(settings), sources=sources)) as s:
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
