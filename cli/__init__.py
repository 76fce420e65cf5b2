"""The ``csframe`` command line (cli.md). Only this package prints or picks an exit code."""

from __future__ import annotations

__all__ = ["cli", "main"]

from .app import cli, main
