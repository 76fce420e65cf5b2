"""The test kit's tests run csframe's pytest plugin (``csframe.core.testing``) the way a plugin
package does, and give it this suite's PostgreSQL server (the machine's, or a throwaway one;
under CI=true a missing server fails, never skips)."""

from __future__ import annotations

import pytest

PLUGIN = "csframe.core.testing"


def pytest_configure(config):
    # once csframe declares the plugin as a pytest11 entry point, pytest has loaded it already
    if not config.pluginmanager.has_plugin(PLUGIN):
        config.pluginmanager.import_plugin(PLUGIN)


@pytest.fixture(scope="session")
def csframe_pg_dsn(pg_dsn):
    return pg_dsn
