"""The test kit's namespace on BigQuery: a dataset of the test's own on the emulator the kit
found answering (its fixture ``csframe_bigquery_server``), dropped after the test."""

from __future__ import annotations

__all__ = ["test_namespace", "drop_dataset"]

from collections.abc import Callable
from pathlib import Path
from typing import Any


def test_namespace(tag: str, workdir: Path, fixture: Callable[[str], Any]) -> tuple[dict[str, Any], Callable[[], None]]:
    """Dataset ``tag`` in the emulator's project (the fixture skips or fails the test when none answers)."""
    project, endpoint = fixture("csframe_bigquery_server")
    return ({"name": "bigquery", "project": project, "dataset": tag, "api_endpoint": endpoint},
            lambda: drop_dataset(project, tag, endpoint))


def drop_dataset(project: str, dataset: str, endpoint: str) -> None:
    """Delete ``dataset`` and its tables: one try, 30 s at most (the client's default retry would
    keep at it for minutes when the emulator has gone away, holding up the test's teardown)."""
    from google.api_core.client_options import ClientOptions
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import bigquery

    client = bigquery.Client(project=project, credentials=AnonymousCredentials(),
                             client_options=ClientOptions(api_endpoint=endpoint))
    try:
        client.delete_dataset(f"{project}.{dataset}", delete_contents=True, not_found_ok=True, retry=None, timeout=30)
    finally:
        client.close()
