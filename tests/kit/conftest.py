"""The test kit's tests run csframe's pytest plugin (``csframe.testing``) the way a plugin
package does. The servers it gets — this suite's PostgreSQL server and, when local-bigquery is
installed (always in CI), a BigQuery emulator of the session — are given to every
``csframe_case`` test of the suite by tests/conftest.py."""

from __future__ import annotations

PLUGIN = "csframe.testing"


def pytest_configure(config):
    # once csframe declares the plugin as a pytest11 entry point, pytest has loaded it already
    if not config.pluginmanager.has_plugin(PLUGIN):
        config.pluginmanager.import_plugin(PLUGIN)
