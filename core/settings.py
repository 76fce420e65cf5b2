"""Typed values of the project file: each key's value read as the type it must have, or a
ProjectError naming the key (and what to write instead).

A TOML value has its own type: ``read_only = "false"`` is a string, not a boolean, and is an
error rather than ``True``. A value that came from the environment (``"${VAR}"``, a
:class:`FromEnv` string) can only be a string, so it is read as the type the key wants:
``"true"``/``"false"`` for a boolean, digits for an integer.
"""

from __future__ import annotations

__all__ = ["FromEnv", "Written", "written", "describe", "want_str", "want_bool", "want_int", "want_str_list", "want_table"]

from collections.abc import Mapping
from typing import Any

from .errors import ProjectError


class FromEnv(str):
    """A string that ``${VAR}`` expansion produced: its text may stand for a boolean or a number."""

    __slots__ = ()


class Written(str):
    """A string written as such in the project file (``window_days = "30"``): never read as a
    number, a boolean or a list, whatever the key wants (a value given on the command line,
    or from ``${VAR}``, is text and is read as the key's type)."""

    __slots__ = ()


def written(value: Any) -> Any:
    """``value`` of the project file with each literal string (not one from ``${VAR}``) marked
    :class:`Written`, in tables and arrays too."""
    if isinstance(value, FromEnv) or not isinstance(value, (str, dict, list)):
        return value
    if isinstance(value, str):
        return Written(value)
    if isinstance(value, dict):
        return {k: written(v) for k, v in value.items()}
    return [written(v) for v in value]


def describe(value: Any) -> str:
    """``value`` as the user wrote it, with its TOML type: ``"abc" (a string)``."""
    if isinstance(value, dict):
        return "a table"
    kinds = {bool: "a boolean", int: "an integer", float: "a number", str: "a string", list: "an array"}
    kind = next((k for t, k in kinds.items() if isinstance(value, t)), type(value).__name__)
    text = repr(value) if not isinstance(value, bool) else str(value).lower()
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{text} ({kind})"


def _error(key: str, expected: str, value: Any, example: str) -> ProjectError:
    return ProjectError(f"{key}: must be {expected}, not {describe(value)}", hint=f"Write it as {example}.")


def want_str(value: Any, key: str, example: str | None = None) -> str:
    """A string (the name of a key's value, a path, a DSN)."""
    if not isinstance(value, str):
        raise _error(key, "a string", value, example or f'{key.rpartition(".")[2]} = "…"')
    return value


def want_bool(value: Any, key: str) -> bool:
    """A TOML boolean, or ``"true"``/``"false"`` from the environment."""
    if isinstance(value, bool):
        return value
    if isinstance(value, FromEnv) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise _error(key, "true or false (a TOML boolean, without quotes)", value,
                 f"{key.rpartition('.')[2]} = true")


def want_int(value: Any, key: str, *, minimum: int | None = None, maximum: int | None = None) -> int:
    """A TOML integer (or digits from the environment) within ``minimum``..``maximum``."""
    name = key.rpartition(".")[2]
    number: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, FromEnv):
        try:
            number = int(value.strip())
        except ValueError:
            number = None
    if number is None:
        raise _error(key, "an integer (without quotes)", value, f"{name} = {minimum if minimum is not None else 0}")
    if (minimum is not None and number < minimum) or (maximum is not None and number > maximum):
        bounds = (f"from {minimum} to {maximum}" if minimum is not None and maximum is not None
                  else f"at least {minimum}" if minimum is not None else f"at most {maximum}")
        raise ProjectError(f"{key}: must be an integer {bounds}, not {number}")
    return number


def want_str_list(value: Any, key: str, example: str) -> tuple[str, ...]:
    """An array of non-empty strings (a single string is not taken as a list of its characters)."""
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise _error(key, "an array of names (non-empty strings)", value, example)
    return tuple(value)


def want_table(value: Any, key: str, example: str) -> Mapping[str, Any]:
    """A TOML table (``[key]``, or ``key = { … }``)."""
    if not isinstance(value, dict):
        raise _error(key, "a table", value, example)
    return value
