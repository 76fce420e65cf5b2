"""One hierarchy of errors; each carries the exit code of cli.md.

Only the CLI prints an error or chooses an exit code; the library raises these.
"""

from __future__ import annotations

__all__ = [
    "CsframeError",
    "UsageError",
    "ProjectError",
    "DefinitionError",
    "PluginError",
    "DataContractError",
    "MetricFailedError",
    "EngineUnavailableError",
    "RunTimeoutError",
    "MissingDependencyError",
    "OutputError",
    "RunInterrupted",
    "did_you_mean",
]

import difflib
from collections.abc import Iterable


class CsframeError(Exception):
    """Base of every error csframe raises on purpose."""

    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message}\n  {self.hint}"


class UsageError(CsframeError):
    """Unknown metric, variant, parameter or option (exit 2)."""

    exit_code = 2


class ProjectError(UsageError):
    """A bad project file (exit 2)."""


class DefinitionError(UsageError):
    """A metric definition that cannot be registered: bad formula, cycle, unknown reference."""


class PluginError(UsageError):
    """A plugin that cannot be loaded or registers something invalid."""


class DataContractError(CsframeError):
    """The data broke the contract (exit 1)."""

    exit_code = 1

    def __init__(self, message: str, *, problems: tuple = (), hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.problems = problems


class MetricFailedError(CsframeError):
    """A metric failed while running on the engine (exit 1)."""

    exit_code = 1


class EngineUnavailableError(CsframeError):
    """The engine could not be reached or refused the connection (exit 3).

    ``transient`` marks a failure that may pass if tried again (a server restarting, a
    refused connection, a DuckDB file another process holds); the session retries those.
    """

    exit_code = 3

    def __init__(self, message: str, *, hint: str | None = None, transient: bool = False) -> None:
        super().__init__(message, hint=hint)
        self.transient = transient


class RunTimeoutError(MetricFailedError):
    """A run took longer than its time limit (``--timeout``) and was stopped (exit 1)."""


class MissingDependencyError(UsageError):
    """An optional library is not installed; the message names the extra to install (exit 2)."""


class OutputError(CsframeError):
    """The result could not be written where it goes (a closed stdout, a full disk; exit 1)."""

    exit_code = 1


class RunInterrupted(CsframeError):
    """A run stopped by a signal (SIGINT, SIGTERM, SIGHUP): exit 128 + the signal's number."""

    def __init__(self, message: str, *, signum: int, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.signum = signum
        self.exit_code = 128 + signum


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    """A ' Did you mean …?' suffix, or '' when nothing is close."""
    close = difflib.get_close_matches(name, sorted(set(choices)), n=3, cutoff=0.6)
    if not close:
        return ""
    return " Did you mean " + " or ".join(repr(c) for c in close) + "?"
