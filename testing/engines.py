"""The engines the kit runs a test on, and the test's own namespace on each: which engines are
selected (option, environment, hook, marker), whether a server can be reached (its driver
installed, the server answering: else the engine's tests skip, or fail when it was named or under
CI=true), and a DuckDB file, a PostgreSQL schema or a BigQuery dataset per test, dropped after it.

The engines are the registered adapters (``csframe_register_adapters``) whose class has
``test_namespace`` (:mod:`csframe.core.adapter`): the built-in DuckDB and PostgreSQL adapters, and
any a plugin installs. For BigQuery the kit finds an emulator that answers
(``_bigquery_server``, the fixture ``csframe_bigquery_server``); the adapter makes the dataset."""

from __future__ import annotations

__all__ = [
    "ENGINES", "ENGINES_ENV", "PG_DSN_ENV", "PG_DEFAULT_DSN", "BQ_ENDPOINT_ENV", "BQ_PROJECT_ENV",
    "BQ_DEFAULT_PROJECT", "_Namespace", "_namespace", "_selected", "_known", "_unavailable", "_dsn_where", "_pg_problem",
    "_bq_client_problem", "_bq_problem", "_bigquery_server",
]

import os
import re
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs
import pytest

ENGINES = ("duckdb", "postgres", "bigquery")  # the built-in adapters'; _known() adds the installed ones
_OPT_IN = ("bigquery",)  # engines among the defaults only when their server is configured ($BQ_ENDPOINT_ENV)
_NAMED_ONLY = ("clickhouse",)  # engines run only when named (CSFRAME_TEST_ENGINES): ClickHouse plans slowly
ENGINES_ENV = "CSFRAME_TEST_ENGINES"
PG_DSN_ENV = "CSFRAME_TEST_PG_DSN"
PG_DEFAULT_DSN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
BQ_ENDPOINT_ENV = "CSFRAME_TEST_BIGQUERY_ENDPOINT"
BQ_PROJECT_ENV = "CSFRAME_TEST_BIGQUERY_PROJECT"
BQ_DEFAULT_PROJECT = "test-project"


_FACTORIES = pytest.StashKey[dict[str, Any]]()  # engine → its adapter factory, once a session


def _factories(config: pytest.Config) -> dict[str, Any]:
    """The registered adapters the kit can make a namespace on (the installed plugins' registry)."""
    if _FACTORIES not in config.stash:
        from csframe.core.errors import CsframeError
        from csframe.core.plugin_manager import load_plugins
        from csframe.core.registry import build_registry

        try:
            adapters = build_registry(load_plugins()).adapters
        except CsframeError as e:
            hint = f" ({e.hint})" if e.hint else ""
            raise pytest.UsageError(f"csframe test kit: the installed csframe plugins do not load: {e.message}{hint}") \
                from None
        config.stash[_FACTORIES] = {name: factory for name, (_, factory) in adapters.items()
                                    if callable(getattr(factory, "test_namespace", None))}
    return config.stash[_FACTORIES]


def _known(config: pytest.Config) -> list[str]:
    """Every engine the kit can run a test on."""
    return list(_factories(config))


def _selected(config: pytest.Config) -> tuple[list[str], bool]:
    """(engines, whether they were named by the user)."""
    known = _known(config)
    text = config.getoption("csframe_engines", default=None) or os.environ.get(ENGINES_ENV)
    if text:
        names = list(dict.fromkeys(n.strip() for n in text.split(",") if n.strip()))
        unknown = [n for n in names if n not in known]
        if unknown:
            raise pytest.UsageError(f"csframe engines: unknown {', '.join(unknown)}; "
                                    f"the test kit knows {', '.join(known)}")
        return names, True
    return [n for n in known if n not in _NAMED_ONLY and (n not in _OPT_IN or os.environ.get(BQ_ENDPOINT_ENV))], False


def _unavailable(config: pytest.Config, engine: str, message: str) -> None:
    names, explicit = _selected(config)
    if os.environ.get("CI") == "true" or (explicit and engine in names):
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def _dsn_where(dsn: str) -> str:
    """host:port of a DSN, never its password."""
    host = re.search(r"host=(\S+)", dsn) or re.search(r"@([^:/?]+)", dsn)
    port = re.search(r"port=(\d+)", dsn) or re.search(r"@[^:/?]+:(\d+)", dsn)
    return f"{host.group(1) if host else 'localhost'}:{port.group(1) if port else '5432'}"


def _pg_problem(dsn: str) -> str | None:
    try:
        import psycopg
    except ImportError:
        return "psycopg is not installed (pip install 'csframe[postgres]')"
    try:
        with psycopg.connect(dsn, connect_timeout=5):
            return None
    except psycopg.Error as e:
        return str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__


def _bq_client_problem() -> str | None:
    """Why the kit cannot talk to BigQuery from this environment, or None."""
    try:
        import google.cloud.bigquery  # noqa: F401 - only whether it imports
    except ImportError:
        return "google-cloud-bigquery is not installed (pip install 'csframe[bigquery]')"
    return None


def _bq_client(project: str, endpoint: str) -> Any:
    from google.api_core.client_options import ClientOptions
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import bigquery

    return bigquery.Client(project=project, credentials=AnonymousCredentials(),
                           client_options=ClientOptions(api_endpoint=endpoint))


def _bq_problem(endpoint: str, project: str) -> str | None:
    """None when something answers BigQuery's REST API at ``endpoint`` (one dataset listing, tried
    once, 5 s at most), else why not. An answer that is an HTTP error counts as reached: what the
    server says is for the test to report."""
    from google.api_core import exceptions

    try:
        client = _bq_client(project, endpoint)
    except Exception as e:  # noqa: BLE001 - a malformed endpoint, say
        return f"{type(e).__name__}: {e}"
    try:
        list(client.list_datasets(max_results=1, retry=None, timeout=5))
        return None
    except exceptions.GoogleAPICallError:
        return None
    except Exception as e:  # noqa: BLE001 - refused, timed out, no such host: not reached
        text = str(e).strip()
        errno = re.search(r"\[Errno -?\d+\][^'\")\]]*", text)  # requests nests the socket's error deep inside
        return errno.group(0).strip() if errno else (text.splitlines()[0][:200] if text else type(e).__name__)
    finally:
        client.close()


_BQ_PROBED = pytest.StashKey[dict[tuple[str, str], str | None]]()  # (endpoint, project) → problem, once a session


@attrs.define
class _Namespace:
    """Where one test's tables live on one engine, and how to drop them."""

    engine: str
    settings: dict[str, Any]
    drop: Callable[[], None] = lambda: None
    used: bool = False
    """Set once a connection succeeded: only then is there something to drop."""


def _namespace(request: pytest.FixtureRequest, engine: str, tmp_path: Path) -> _Namespace:
    """The adapter's throwaway namespace for this test (its ``test_namespace``)."""
    tag = "csframe_t_" + uuid.uuid4().hex[:12]
    settings, drop = _factories(request.config)[engine].test_namespace(tag, tmp_path, request.getfixturevalue)
    return _Namespace(engine, dict(settings), drop)


def _bigquery_server(request: pytest.FixtureRequest) -> tuple[str, str]:
    """(project, endpoint) of a BigQuery emulator that answers, else skip or fail the test."""
    problem = _bq_client_problem()
    if problem:
        _unavailable(request.config, "bigquery", f"csframe: cannot test on bigquery: {problem}. Or run without "
                                                 f"bigquery with {ENGINES_ENV}=duckdb,postgres.")
    endpoint = request.getfixturevalue("csframe_bigquery_endpoint")  # a conftest may override it: probed here
    project = os.environ.get(BQ_PROJECT_ENV) or BQ_DEFAULT_PROJECT
    probed = request.config.stash.setdefault(_BQ_PROBED, {})
    if (endpoint, project) not in probed:
        probed[endpoint, project] = _bq_problem(endpoint, project)
    problem = probed[endpoint, project]
    if problem:
        _unavailable(request.config, "bigquery",
                     f"csframe: no BigQuery emulator answers at {endpoint} ({problem}). Start one and set "
                     f"{BQ_ENDPOINT_ENV} to its URL, or run without bigquery with {ENGINES_ENV}=duckdb,postgres.")
    return project, endpoint
