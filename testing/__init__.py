"""csframe's pytest plugin: test a metric on every engine from a few rows written in the test.

    EVENTS = '''
    user_id | customer_id | name    | occurred_at
    u1      | c1          | meeting | 2024-01-30 09:00
    u1      | c1          | meeting | 2024-01-31 10:00
    '''

    def test_engaged_agents(csframe_case):
        csframe_case(rows={"events": EVENTS}, metric="engaged_agents", period="2024-01-01", expected=1)

Each test that uses ``csframe_case`` runs once per engine — ``test_engaged_agents[duckdb]``,
``test_engaged_agents[postgres]``, and ``[bigquery]`` when an emulator is configured. The rows
become the canonical sources (typed by the data contract) in a namespace of the test's own — a
DuckDB file in ``tmp_path``, a PostgreSQL schema, a BigQuery dataset — which is dropped after
the test; the metric is computed through the whole pipeline and its value in the period
starting ``period`` must equal ``expected`` (``None`` for NULL; relative tolerance 1e-9, as a
declared :class:`~csframe.core.models.Example`). The installed ``csframe`` plugins are loaded,
so a plugin package tests itself once it is ``pip install -e``-ed.

Rows are given per source as a text table (``|``- or comma-separated, first line the header,
an empty cell or ``NULL`` is NULL, a ``#`` at the start of a line or after a space begins a
comment), a list of dicts, a
``(columns, tuples)`` pair, or a CSV file; or the whole ``rows`` is a ``.toml``/``.json``/
``.yaml`` file (PyYAML: ``pip install 'csframe[yaml]'``) or a directory of ``<source>.csv`` files
(relative paths are relative to the test file; a UTF-8 byte-order mark, as Excel writes, is
skipped). Values are converted to the contract's column types (``"2024-01-31 10:00"`` is a
timestamp), extra columns (``--by`` dimensions of customers) are typed from their values, a
missing id column (``subscription_id``, ``invoice_id``, …) is numbered, an optional column left
out takes its contract default, and a column ``_repeat`` repeats a row that many times with
``{i}`` in its text replaced by 0, 1, …

Engines: ``--csframe-engines=duckdb,postgres`` or ``CSFRAME_TEST_ENGINES``; by default DuckDB,
PostgreSQL and every installed adapter whose class has ``test_namespace`` (see docs/adapters.md:
the adapter gives each test its namespace), plus BigQuery when ``CSFRAME_TEST_BIGQUERY_ENDPOINT`` is
set (an emulator's URL, such as local-bigquery's; project ``CSFRAME_TEST_BIGQUERY_PROJECT``,
default ``test-project``). PostgreSQL
is a real server: ``CSFRAME_TEST_PG_DSN``, default ``host=127.0.0.1 port=5432 user=postgres
dbname=postgres``. An engine that cannot be reached — its driver (psycopg, google-cloud-bigquery)
not installed, or no server answering — skips its tests, or fails them when it was asked for by
name or under ``CI=true``. Each adapter finds its own server (its class method ``test_server``,
reading its own variables, above) and the kit names no engine. ``@pytest.mark.csframe_engines("duckdb")``
keeps one test to some engines. Implement the hook ``pytest_csframe_test_server(request, engine)``
in a conftest to provide a server another way (return its settings, e.g. ``{"dsn": ...}``; the
adapter still checks it answers), and ``pytest_csframe_default_engines`` there to change the
default engines of its directory's tests: giving a BigQuery server alone adds no bigquery test
(e.g. return ``[*engines, "bigquery"]`` when the conftest starts an emulator itself).

``csframe_case`` builds a project of the test's own: a source per table given, and the
``variants=``, ``params=``, ``modules=`` and ``disable=`` of the call (``[variants]``,
``[parameters]`` and ``[plugins]`` of a ``csframe.toml``); ``disable=("some_plugin",)`` keeps an
installed plugin, say one that overrides a default variant, out of the test.

The kit is this package: :mod:`.rows` turns the rows a test gives into typed tables,
:mod:`.engines` picks the engines and gives each test its own namespace on one, :mod:`.case` is the
``csframe_case`` object, :mod:`.conformance` the adapter conformance suite (``AdapterConformance``) with
its bad-data cases in :mod:`.bad_data`, and this module, the pytest plugin, holds the hooks and fixtures.

This package imports pytest and csframe.core (never the catalog, the adapters or the other
plugins), and is loaded by pytest only: through csframe's ``pytest11`` entry point, named
``csframe.testing`` like the module so that ``pytest_plugins = ["csframe.testing"]`` or
``-p csframe.testing`` finds it loaded already. Nothing here runs at import.
"""

from __future__ import annotations

__all__ = [
    "RowsError", "Column", "Table", "Dataset", "load_rows", "Case",
    "csframe_engine", "csframe_case", "csframe_servers",
]

import os
from collections.abc import Iterable
from pathlib import Path

import pytest

from .case import SHOW_SQL_ENV as SHOW_SQL_ENV
from .case import Case
from .engines import ENGINES_ENV, _known, _namespace, _selected, _Servers
from .rows import REPEAT as REPEAT
from .rows import Column, Dataset, RowsError, Table, load_rows


# == the pytest plugin ==============================================================================

def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("csframe", "csframe test kit")
    group.addoption("--csframe-engines", dest="csframe_engines", default=None, metavar="LIST",
                    help="engines csframe_case runs on, comma-separated (the registered adapters with "
                         f"test_namespace); default ${ENGINES_ENV}, else all of them (an adapter whose class sets "
                         "TEST_OPT_IN_ENV only when that variable is set)")


class _Hooks:
    @pytest.hookspec(firstresult=True)
    def pytest_csframe_default_engines(self, config: pytest.Config, engines: list[str]) -> list[str] | None:
        """The engines a test runs on when neither ``--csframe-engines`` nor ``$CSFRAME_TEST_ENGINES``
        names them: ``engines`` is the kit's default; return another list (of known engines) to replace
        it, or None to keep it. Called per test function, from the conftests of its directory."""

    @pytest.hookspec(firstresult=True)
    def pytest_csframe_test_server(self, request: pytest.FixtureRequest, engine: str) -> dict | None:
        """The server ``engine``'s tests use, given by a conftest (e.g. one it starts): part of the
        ``[adapter]`` settings (PostgreSQL: ``{"dsn": ...}``; BigQuery: ``{"api_endpoint": ...,
        "project": ...}``), which the adapter's ``test_server`` still checks answers; None to let the
        adapter find it from its environment variables. ``request`` is a session-scoped request."""


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    pluginmanager.add_hookspecs(_Hooks)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "csframe_engines(*names): run this test's csframe_case only on these engines")
    if config.getoption("csframe_engines", default=None) or os.environ.get(ENGINES_ENV):
        _selected(config)  # an unknown engine name is a usage error, before collection (loads the plugins)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "csframe_engine" not in metafunc.fixturenames:
        return
    names = _engines_for(metafunc)
    metafunc.parametrize("csframe_engine", names, indirect=True, ids=names)


def _engines_for(metafunc: pytest.Metafunc) -> list[str]:
    """The engines a test function runs on: the named ones, else the default (the hook
    ``pytest_csframe_default_engines`` of its directory may change it), kept to its marker's."""
    names, explicit = _selected(metafunc.config)
    if not explicit:
        chosen = metafunc.definition.ihook.pytest_csframe_default_engines(config=metafunc.config, engines=list(names))
        if chosen is not None:
            known = _known(metafunc.config)
            unknown = [n for n in chosen if n not in known]
            if unknown:
                raise pytest.UsageError(f"csframe engines: unknown {', '.join(unknown)}; "
                                        f"the test kit knows {', '.join(known)}")
            names = list(dict.fromkeys(chosen))
    marker = metafunc.definition.get_closest_marker("csframe_engines")
    if marker is not None:
        names = [n for n in names if n in marker.args]
    return names


@pytest.fixture
def csframe_engine(request: pytest.FixtureRequest) -> str:
    """The engine this test runs on (``duckdb``, ``postgres`` or ``bigquery``): one test per engine."""
    return getattr(request, "param", "duckdb")


@pytest.fixture(scope="session")
def csframe_servers(request: pytest.FixtureRequest) -> _Servers:
    """``csframe_servers.get(engine)``: the ``[adapter]`` settings of the server the engine's tests use
    (found once a session by the adapter's ``test_server``, or given by a conftest through the hook
    ``pytest_csframe_test_server``); the test skips, or fails, when none answers. An adapter's
    ``test_namespace`` asks for it."""
    return _Servers(request)


@pytest.fixture
def csframe_case(request: pytest.FixtureRequest, csframe_engine: str, tmp_path: Path) -> Iterable[Case]:
    """Compute metrics from inline rows on this test's engine and assert their values (see :class:`Case`)."""
    case = Case(_namespace(request, csframe_engine, tmp_path), Path(str(request.node.path)).parent, tmp_path)
    try:
        yield case
    finally:
        case.close()

