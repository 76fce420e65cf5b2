"""Worked examples declared on definitions, evaluated on an engine.

An :class:`~csframe.core.models.Example` gives inputs for measures (``churned_customers``),
for referenced metrics (``arpu:mrr``) or for a ``previous()`` call as the formula writes it
(``previous(ref('mrr'))``), and values for parameters (else their defaults); the
variant's formula is compiled with those inputs as literals — through the same formula compiler as a real run, safe division
included — and evaluated with one ``SELECT``.
"""

from __future__ import annotations

__all__ = ["check_example", "example_query", "within", "previous_input"]

from collections.abc import Callable

import sqlglot
from sqlglot import exp

from .compiler import compile_formula
from .formula import literal
from .graph import Graph, Key
from .models import Example
from .registry import Registry


def previous_input(inputs: dict, text: str) -> str | None:
    """The name, among an example's ``inputs``, of the ``previous()`` call written ``text``
    (compared as parsed SQL: case and spaces do not matter), or None."""
    wanted = sqlglot.parse_one(text).sql()
    for name in inputs:
        if "(" in name and sqlglot.parse_one(name).sql() == wanted:
            return name
    return None


def _value(v) -> exp.Expression:
    return exp.Null() if v is None else exp.cast(literal(v), "DOUBLE")


def example_query(registry: Registry, graph: Graph, key: Key, example: Example) -> exp.Select:
    """``SELECT <formula> AS value`` with the example's inputs in place of measures and refs."""
    inputs = dict(example.inputs)
    memo: dict = {}
    for name, value in inputs.items():
        if "(" in name:  # a previous() call, given to lag() below
            continue
        if ":" in name or name in registry.metrics:
            ref_key = graph.parse_key(name)
            memo[ref_key] = _value(value)
            if ":" not in name:
                memo[(name, graph.default_variant(name))] = _value(value)

    def measure(name: str) -> exp.Expression:
        if name not in inputs:
            raise KeyError(f"example {example.text!r} of {key[0]}:{key[1]} gives no value for {name!r}")
        return _value(inputs[name])

    def resolve(metric: str, variant: str | None) -> Key:
        return (metric, variant or graph.default_variant(metric))

    unknown = sorted(set(example.parameters) - set(registry.parameters))
    if unknown:
        raise KeyError(f"example {example.text!r} of {key[0]}:{key[1]} sets unknown parameter(s) {', '.join(unknown)}")
    parameters = {name: spec.default for name, (_, spec) in registry.parameters.items()}
    parameters.update(example.parameters)
    def lag(_expr: exp.Expression, _n: int, text: str) -> exp.Expression:
        name = previous_input(inputs, text)
        if name is None:
            raise KeyError(f"example {example.text!r} of {key[0]}:{key[1]} gives no value for {text!r}")
        return _value(inputs[name])

    lag.by_text = True  # type: ignore[attr-defined]
    expr = compile_formula(registry, key, resolve, parameters, measure, memo, lag=lag)
    return exp.select(exp.alias_(exp.cast(expr, "DOUBLE"), "value"))


def check_example(registry: Registry, graph: Graph, key: Key, example: Example,
                  run: Callable[[exp.Select], float | None]) -> tuple[bool, float | None]:
    """(passed, value) of one example; ``run`` executes the query and returns its one value."""
    value = run(example_query(registry, graph, key, example))
    if example.expected is None or value is None:
        return (example.expected is None and value is None), value
    return within(value, example.expected, example.tolerance), value


def within(value: float, expected: float, tolerance: float) -> bool:
    """``value`` equals ``expected`` within a relative ``tolerance`` (absolute when ``expected`` is 0)."""
    return abs(value - expected) <= tolerance * (abs(expected) or 1.0)
