"""Metric parameters: the values a project sets under ``[parameters]`` or a run with
``--param``, read into the declared kind and checked, with errors that name the parameter
and the metrics that use it.

Every value given for a known parameter is checked, whether or not the run computes a
metric that reads it, so a typo never waits for the night it matters; a value the run does
use is also handed to the compiler and the data-contract checks (the survey scales).
"""

from __future__ import annotations

__all__ = ["coerce", "checked_overrides", "resolve_parameters", "users_of"]

import math
from collections.abc import Mapping, Sequence
from typing import Any

from .errors import UsageError, did_you_mean
from .settings import Written
from .graph import Graph, Key
from .models import Parameter
from .registry import Registry


_TOML_KINDS = {"int": "an integer", "float": "a number", "bool": "true or false", "list": "an array of names",
               "range": "an array of two numbers"}
_TOML_EXAMPLES = {"int": "30", "float": "0.5", "bool": "true", "list": '["a", "b"]', "range": "[1, 5]"}


def _number(text: Any) -> float:
    if isinstance(text, bool):
        raise ValueError(text)
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(text)
    return value


def coerce(spec: Parameter, value: Any, users: str) -> Any:
    """``value`` (from TOML or a ``--param`` string) read as ``spec.kind``, or a UsageError
    naming the parameter and ``users`` (the metrics that read it)."""
    name, kind = spec.name, spec.kind

    def bad(expected: str) -> UsageError:
        return UsageError(f"parameter {name} (used by {users}): expected {expected}, got {value!r}",
                          hint=f"`csframe explain METRIC` describes {name}; set it under [parameters] in "
                               f"csframe.toml or with --param {name}=VALUE.")

    if isinstance(value, Written) and kind != "str":  # `window_days = "30"` in csframe.toml
        raise UsageError(f"parameter {name} (used by {users}): expected {_TOML_KINDS[kind]}, got the string "
                         f"{str(value)!r} ([parameters] {name} in csframe.toml)",
                         hint=f"Write it without quotes, e.g. {name} = {_TOML_EXAMPLES[kind]}.")
    if kind in ("list", "range"):
        items = [v.strip() for v in value.split(",")] if isinstance(value, str) else value
        if not isinstance(items, (list, tuple)) or not items:
            raise bad("a non-empty list" if kind == "list" else "two numbers, low,high")
        if kind == "range":
            try:
                low, high = (_number(v) for v in items)
            except (TypeError, ValueError):
                raise bad("two numbers, low,high") from None
            if not low < high:
                raise bad("two numbers with low < high")
            return (low, high)
        if not all(isinstance(v, str) for v in items):
            raise bad("a list of names (strings)")
        if any(not v.strip() for v in items):
            raise bad("a list of names without empty ones")
        return tuple(v.strip() for v in items)
    if kind == "bool":
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        if not isinstance(value, bool):
            raise bad("true or false")
        return value
    if kind in ("int", "float"):
        if isinstance(value, bool):
            raise bad("a number")
        try:
            num = int(value) if kind == "int" else _number(value)
        except (TypeError, ValueError, OverflowError):
            raise bad("an integer" if kind == "int" else "a number") from None
        if kind == "int" and isinstance(value, float) and not value.is_integer():
            raise bad("an integer")
        if spec.minimum is not None and num < spec.minimum:
            raise UsageError(f"parameter {name} (used by {users}): must be ≥ {spec.minimum:g}, got {value!r}")
        if spec.maximum is not None and num > spec.maximum:
            raise UsageError(f"parameter {name} (used by {users}): must be ≤ {spec.maximum:g}, got {value!r}",
                             hint=f"`csframe explain METRIC` describes {name}; set it under [parameters] in "
                                  f"csframe.toml or with --param {name}=VALUE.")
        return num
    if not isinstance(value, str):
        raise bad("a string")
    if not value.strip():
        raise bad("a non-empty name")
    return str(value)


def users_of(registry: Registry, name: str) -> list[str]:
    """The metrics that declare parameter ``name``."""
    return [m.name for m in registry.metrics.values() if any(p.name == name for p in m.parameters)]


def _known(registry: Registry, name: str) -> Parameter:
    if name not in registry.parameters:
        raise UsageError(
            f"unknown parameter {name!r}.{did_you_mean(name, registry.parameters)}",
            hint="`csframe explain METRIC` lists a metric's parameters.",
        )
    return registry.parameters[name][1]


def checked_overrides(registry: Registry, *overrides: Mapping[str, Any],
                      used: Mapping[str, Sequence[str]] | None = None) -> dict[str, Any]:
    """Every value of ``overrides`` (later ones win), each of a known parameter and checked.
    ``used`` names the variants of a run that read a parameter, for the messages; a parameter
    no variant of the run reads is named by the metrics that declare it."""
    used = used or {}
    values: dict[str, Any] = {}
    for layer in overrides:
        for name, value in layer.items():
            spec = _known(registry, name)
            users = ", ".join(used.get(name) or users_of(registry, name) or ["no metric"])
            values[name] = coerce(spec, value, users)
    return values


def resolve_parameters(registry: Registry, graph: Graph, keys: Sequence[Key], *overrides: Mapping[str, Any],
                       closures: dict | None = None) -> dict[str, Any]:
    """The parameter values of a run of ``keys``: the defaults of those it reads, then each
    mapping of overrides (project, then command line), checked; then each metric's own checks
    of its values together (``Metric.checks``). ``closures``: (key, reading) -> resolved
    closure, read and filled (the planner's, so that each is resolved once per plan)."""
    closures = {} if closures is None else closures
    used: dict[str, list[str]] = {}
    for key in keys:
        for split in (None, *registry.variants[key].variant.splits):
            if (key, split) not in closures:
                closures[(key, split)] = graph.resolve(key, split)
            for p in closures[(key, split)].parameters:
                used.setdefault(p, [])
                if f"{key[0]}:{key[1]}" not in used[p]:
                    used[p].append(f"{key[0]}:{key[1]}")
    values = {name: registry.parameters[name][1].default for name in used}
    values.update(checked_overrides(registry, *overrides, used=used))
    for metric in dict.fromkeys(k[0] for k in keys):
        for check in registry.metrics[metric].checks:
            problem = check(values)
            if problem:
                raise UsageError(f"metric {metric}: {problem}",
                                 hint="Change the values under [parameters] in csframe.toml or --param.")
    return values
