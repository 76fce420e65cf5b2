"""The test kit's tests run csframe's pytest plugin (``csframe.testing``) the way a plugin
package does, and give it this suite's PostgreSQL server (the machine's, or a throwaway one;
under CI=true a missing server fails, never skips) and, when local-bigquery is installed (always
in CI), a BigQuery emulator of the session: the kit's tests then run on bigquery too, without
``CSFRAME_TEST_BIGQUERY_ENDPOINT``."""

from __future__ import annotations

import os

import pytest

from tests.support.bigquery_emulator import Emulator, EmulatorUnavailable, bq_emulator  # noqa: F401 - the fixture

PLUGIN = "csframe.testing"


def pytest_configure(config):
    # once csframe declares the plugin as a pytest11 entry point, pytest has loaded it already
    if not config.pluginmanager.has_plugin(PLUGIN):
        config.pluginmanager.import_plugin(PLUGIN)


def _emulator_installed() -> bool:
    try:
        Emulator()
    except EmulatorUnavailable:
        return False
    return True


def pytest_csframe_default_engines(config, engines):
    # bigquery by default here whenever the emulator can be had; under CI=true a missing one fails
    if "bigquery" not in engines and (os.environ.get("CI") == "true" or _emulator_installed()):
        return [*engines, "bigquery"]
    return None


@pytest.fixture(scope="session")
def csframe_pg_dsn(pg_dsn):
    return pg_dsn


@pytest.fixture(scope="session")
def csframe_bigquery_endpoint(request):
    # $CSFRAME_TEST_BIGQUERY_ENDPOINT, when set, names the server; else the session's emulator
    endpoint = os.environ.get("CSFRAME_TEST_BIGQUERY_ENDPOINT", "").strip().rstrip("/")
    return endpoint or request.getfixturevalue("bq_emulator").endpoint
