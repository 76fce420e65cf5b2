"""The csframe plugin: registers the ``datafusion`` adapter (entry point group ``csframe``)."""

from __future__ import annotations

__all__ = ["csframe_register_adapters"]

from typing import Any

from csframe.core.hookspecs import hookimpl


@hookimpl
def csframe_register_adapters(register: Any) -> None:
    from .adapter import DataFusionAdapter

    register("datafusion", DataFusionAdapter)
