"""The engines the kit runs a test on, and the test's own namespace on each: which engines are
selected (option, environment, hook, marker), whether an engine's server can be reached (else the
engine's tests skip, or fail when it was named or under CI=true), and a namespace per test (a
DuckDB file, a PostgreSQL schema, a BigQuery dataset, …), dropped after it.

The engines are the registered adapters (``csframe_register_adapters``) whose class has
``test_namespace`` (:mod:`csframe.core.adapter`). The kit names none of them: an adapter finds its
own server for the tests (its class method ``test_server``, which reads its own environment
variables and checks the server answers; a conftest may give the server instead, through the hook
``pytest_csframe_test_server``), and one whose class sets ``TEST_OPT_IN_ENV`` is among the
default engines only when that variable is set."""

from __future__ import annotations

__all__ = ["ENGINES_ENV", "_Namespace", "_Servers", "_namespace", "_selected", "_known", "_unavailable", "_factories"]

import os
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs
import pytest

ENGINES_ENV = "CSFRAME_TEST_ENGINES"


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
    factories = _factories(config)
    return [n for n in known if not getattr(factories[n], "TEST_OPT_IN_ENV", None)
            or os.environ.get(factories[n].TEST_OPT_IN_ENV)], False


def _unavailable(config: pytest.Config, engine: str, message: str) -> None:
    names, explicit = _selected(config)
    if os.environ.get("CI") == "true" or (explicit and engine in names):
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


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


_SERVERS = pytest.StashKey[dict[str, Any]]()  # engine → its server settings or the problem, once a session


class _Servers:
    """The fixture ``csframe_servers``: ``get(engine)`` is the ``[adapter]`` settings of the server that
    engine's tests use (no namespace; ``{}`` for an engine that needs none), found once a session —
    given by a conftest (``pytest_csframe_test_server``) or found by the adapter (``test_server``),
    which checks it answers — else the test skips, or fails when the engine was named or under CI=true."""

    def __init__(self, request: pytest.FixtureRequest) -> None:
        self._request = request

    def get(self, engine: str) -> dict[str, Any]:
        from csframe.core.errors import EngineUnavailableError

        config = self._request.config
        found = config.stash.setdefault(_SERVERS, {})
        if engine not in found:
            factory = _factories(config)[engine]
            given = config.hook.pytest_csframe_test_server(request=self._request, engine=engine)
            finder = getattr(factory, "test_server", None)
            try:
                found[engine] = dict(finder(given) if callable(finder) else given or {})
            except EngineUnavailableError as e:
                others = [n for n in _selected(config)[0] if n != engine] or [n for n in _known(config) if n != engine]
                hint = f"{e.hint}, or run" if e.hint else "Or run"
                found[engine] = (f"csframe: {e.message}. {hint} without {engine} with "
                                 f"{ENGINES_ENV}={','.join(others)}.")
        if isinstance(found[engine], str):
            _unavailable(config, engine, found[engine])
        return found[engine]
