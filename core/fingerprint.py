"""Fingerprints: a short hash of what a metric variant *is*, so a changed definition is
visible beside the numbers it produced (``--target``) and ``csframe diff`` can list it.

A variant's fingerprint is the sha256 (first 16 hex digits) of a canonical text made of:

* every variant it is built from (itself and, transitively, each ``ref()``, resolved by
  the project's ``[variants]``): name, unit and its formula rendered as neutral SQL —
  and the formulas of its ``--by`` readings (``Variant.splits``);
* every node those formulas read, transitively: its SQL rendered as neutral SQL (without
  comments), and its measures (name, fill, key);
* the values of every parameter any of these use (after the project file and ``--param``).

Rendering parsed trees means whitespace, comments and the order of keyword arguments do
not change a fingerprint; anything that changes the SQL or a parameter does. A sqlglot
upgrade that renders some construct differently changes the fingerprints it touches.
* the project's ``[calendar]`` when it is not the default one (its time zone, week start and
  fiscal year start: they move period boundaries, so they change numbers), and, in a run at a
  custom calendar's grain, that grain's name and its periods (:func:`calendar_text`). In the
  default calendar at a built-in grain nothing is added: fingerprints are those of before.

The grain, range, ``--by``, ``--window`` and the engine are not part of it: they are columns of
the result (a window is written into the ``grain`` key of a target table, see writeback.py),
not the definition.
"""

from __future__ import annotations

__all__ = ["fingerprint", "fingerprints", "fingerprint_text", "calendar_text"]

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import Any

from .calendar import WEEKDAYS, Calendar
from .graph import Graph, Key, Resolved
from .periods import Grain
from .registry import Registry

_LENGTH = 16


def _json_value(value: Any) -> Any:
    if isinstance(value, (tuple, list)):
        return [_json_value(v) for v in value]
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value


def calendar_text(calendar: Calendar | None, grain: Grain | None = None) -> str | None:
    """The line of a fingerprint's text for the calendar a run's periods follow: the settings
    of ``calendar`` that differ from the default (UTC, weeks from Monday, years from January)
    and, for a custom calendar's ``grain``, its name and periods; None when there is none."""
    parts = []
    if calendar is not None:
        if calendar.time_zone != "UTC":
            parts.append(f"time_zone={calendar.time_zone}")
        if calendar.week_start != 0:
            parts.append(f"week_start={WEEKDAYS[calendar.week_start]}")
        if calendar.fiscal_year_start != 1:
            parts.append(f"fiscal_year_start={calendar.fiscal_year_start}")
    if grain is not None and grain.periods:
        periods = ",".join(f"{s.isoformat()}/{e.isoformat()}" for s, e in grain.periods)
        parts.append(f"grain {grain.name} periods={periods}")
    return "calendar " + " ".join(parts) if parts else None


def fingerprint_text(registry: Registry, graph: Graph, key: Key, parameters: Mapping[str, Any],
                     _rendered: dict | None = None,
                     closures: Mapping[tuple[Key, str | None], Resolved] | None = None,
                     calendar: str | None = None) -> str:
    """The canonical text a fingerprint hashes (shown by tests and for debugging).
    ``closures``: the plan's resolved closures (:attr:`Plan.closures`), read instead of
    resolving the key again; a closure not among them is resolved from ``graph``.
    ``calendar``: the run's :func:`calendar_text` (None: the default calendar, a built-in grain)."""
    rendered = {} if _rendered is None else _rendered  # ("variant"/"node", name) -> text: shared by a batch
    rv = registry.variants[key]
    closures = closures or {}

    def closure(split: str | None) -> Resolved:
        found = closures.get((key, split))
        return found if found is not None else graph.resolve(key, split)

    resolved = [closure(None)] + [closure(split) for split in sorted(rv.splits)]
    lines: list[str] = []
    for k in dict.fromkeys(k for r in resolved for k in r.variants):
        if ("variant", k) not in rendered:
            rendered[("variant", k)] = (f"variant {k[0]}:{k[1]} unit={registry.unit(*k)} "
                                        f"formula={registry.variants[k].parsed.tree.sql(comments=False)}")
        lines.append(rendered[("variant", k)])
        if k == key:
            for split in sorted(rv.splits):
                lines.append(f"  split {split} formula={rv.splits[split].tree.sql(comments=False)}")
    names = list(dict.fromkeys(n for r in resolved for n in r.nodes))
    for name in list(names):  # a run may read a node's measures from its alternatives (core/node_choice.py)
        for alternative in registry.alternatives.get(name, ()):
            names += [n for n in [*sorted(registry.reads(alternative)[0]), alternative] if n not in names]
    for name in names:
        if ("node", name) not in rendered:
            rn = registry.nodes[name]
            measures = ", ".join(f"{m.name}(fill={m.fill!r}, key={m.key!r})" for m in rn.node.measures)
            rendered[("node", name)] = f"node {name} measures=[{measures}] sql={rn.parsed.tree.sql(comments=False)}"
        lines.append(rendered[("node", name)])
    used = sorted({p for r in resolved for p in r.parameters})
    values = {p: _json_value(parameters.get(p, registry.parameters[p][1].default if p in registry.parameters else None))
              for p in used}
    lines.append("parameters " + json.dumps(values, sort_keys=True, separators=(",", ":"), default=str))
    if calendar is not None:
        lines.append(calendar)
    return "\n".join(lines)


def fingerprint(registry: Registry, graph: Graph, key: Key, parameters: Mapping[str, Any],
                _rendered: dict | None = None,
                closures: Mapping[tuple[Key, str | None], Resolved] | None = None,
                calendar: str | None = None) -> str:
    """The fingerprint of one metric variant under these parameter values (and ``calendar``,
    a :func:`calendar_text`)."""
    text = fingerprint_text(registry, graph, key, parameters, _rendered, closures, calendar)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:_LENGTH]


def fingerprints(registry: Registry, graph: Graph, keys: Iterable[Key], parameters: Mapping[str, Any],
                 closures: Mapping[tuple[Key, str | None], Resolved] | None = None,
                 calendar: str | None = None) -> dict[Key, str]:
    """Fingerprints of several variants; each node's and variant's SQL is rendered once
    (``closures``: a plan's, see :func:`fingerprint_text`; ``calendar``: a :func:`calendar_text`)."""
    rendered: dict = {}
    return {k: fingerprint(registry, graph, k, parameters, rendered, closures, calendar) for k in keys}
