"""The test kit on BigQuery: connect-for-tests (``test_server``: an emulator or endpoint that
answers — ``$CSFRAME_TEST_BIGQUERY_ENDPOINT``, project ``$CSFRAME_TEST_BIGQUERY_PROJECT``, default
``test-project``, or what a conftest gives) and a dataset of the test's own on it
(``test_namespace``), dropped after the test."""

from __future__ import annotations

__all__ = ["BQ_ENDPOINT_ENV", "BQ_PROJECT_ENV", "BQ_DEFAULT_PROJECT", "test_server", "test_namespace", "drop_dataset"]

import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from csframe.core.errors import EngineUnavailableError

BQ_ENDPOINT_ENV = "CSFRAME_TEST_BIGQUERY_ENDPOINT"
BQ_PROJECT_ENV = "CSFRAME_TEST_BIGQUERY_PROJECT"
BQ_DEFAULT_PROJECT = "test-project"


def _client(project: str, endpoint: str) -> Any:
    from google.api_core.client_options import ClientOptions
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import bigquery

    return bigquery.Client(project=project, credentials=AnonymousCredentials(),
                           client_options=ClientOptions(api_endpoint=endpoint))


def _problem(endpoint: str, project: str) -> str | None:
    """None when something answers BigQuery's REST API at ``endpoint`` (one dataset listing, tried
    once, 5 s at most), else why not. An answer that is an HTTP error counts as reached: what the
    server says is for the test to report."""
    from google.api_core import exceptions

    try:
        client = _client(project, endpoint)
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


def test_server(given: dict[str, Any] | None) -> dict[str, Any]:
    """``{"project", "api_endpoint"}`` of an endpoint that answers, or EngineUnavailableError saying why not."""
    try:
        import google.cloud.bigquery  # noqa: F401 - only whether it imports
    except ImportError:
        raise EngineUnavailableError("cannot test on bigquery: google-cloud-bigquery is not installed (pip install "
                                     "'csframe[bigquery]')", hint="Install it") from None
    given = given or {}
    endpoint = str(given.get("api_endpoint") or os.environ.get(BQ_ENDPOINT_ENV, "")).strip().rstrip("/")
    if not endpoint:
        raise EngineUnavailableError(f"set {BQ_ENDPOINT_ENV} to a BigQuery emulator's URL to test on bigquery",
                                     hint=f"Start one and set {BQ_ENDPOINT_ENV} to its URL")
    project = given.get("project") or os.environ.get(BQ_PROJECT_ENV) or BQ_DEFAULT_PROJECT
    problem = _problem(endpoint, project)
    if problem:
        raise EngineUnavailableError(f"no BigQuery emulator answers at {endpoint} ({problem})",
                                     hint=f"Start one and set {BQ_ENDPOINT_ENV} to its URL")
    return {"project": project, "api_endpoint": endpoint}


def test_namespace(tag: str, workdir: Path, fixture: Callable[[str], Any]) -> tuple[dict[str, Any], Callable[[], None]]:
    """Dataset ``tag`` on the kit's server (``csframe_servers`` skips or fails the test when none answers)."""
    server = fixture("csframe_servers").get("bigquery")
    project, endpoint = server["project"], server["api_endpoint"]
    return ({"name": "bigquery", "project": project, "dataset": tag, "api_endpoint": endpoint},
            lambda: drop_dataset(project, tag, endpoint))


def drop_dataset(project: str, dataset: str, endpoint: str) -> None:
    """Delete ``dataset`` and its tables: one try, 30 s at most (the client's default retry would
    keep at it for minutes when the emulator has gone away, holding up the test's teardown)."""
    client = _client(project, endpoint)
    try:
        client.delete_dataset(f"{project}.{dataset}", delete_contents=True, not_found_ok=True, retry=None, timeout=30)
    finally:
        client.close()
