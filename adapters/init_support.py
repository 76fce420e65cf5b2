"""What ``csframe init --adapter NAME`` and the test kit ask of an adapter class
(core/adapter.py), delegated to a module of the adapter's own that is imported only when
asked (``init_settings``, ``init_section``, ``load_demo(adapter_class, …)``,
``test_namespace``), so importing an adapter costs nothing for them."""

from __future__ import annotations

__all__ = ["InitFromModule"]

import importlib
from pathlib import Path
from typing import Any


class InitFromModule:
    """Mixin: set ``INIT_MODULE`` (a module holding the four functions) and ``INIT_OPTIONS``."""

    INIT_MODULE: str = ""
    INIT_OPTIONS: tuple[str, ...] = ()

    @classmethod
    def _init_module(cls) -> Any:
        return importlib.import_module(cls.INIT_MODULE)

    @classmethod
    def init_settings(cls, options: dict[str, str], demo: bool) -> dict[str, Any]:
        return cls._init_module().init_settings(options, demo)

    @classmethod
    def init_section(cls, settings: dict[str, Any]) -> str:
        return cls._init_module().init_section(settings)

    @classmethod
    def load_demo(cls, dataset: Any, project_dir: Path, settings: dict[str, Any], force: bool) -> Any:
        return cls._init_module().load_demo(cls, dataset, project_dir, settings, force)

    @classmethod
    def test_namespace(cls, tag: str, workdir: Path, fixture: Any) -> tuple[dict[str, Any], Any]:
        return cls._init_module().test_namespace(tag, workdir, fixture)

    @classmethod
    def test_server(cls, given: dict[str, Any] | None) -> dict[str, Any]:
        module = cls._init_module()
        return module.test_server(given) if hasattr(module, "test_server") else dict(given or {})
