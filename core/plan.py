"""The planner: a compute request and the graph become a frozen :class:`Plan` — the
variants to evaluate, the nodes to compile (each once, however many metrics share
it), the sources to scan, the periods, the ``--by`` dimensions and parameters."""

from __future__ import annotations

__all__ = ["Request", "Plan", "build_plan"]

import datetime as dt
from collections.abc import Collection, Sequence
from typing import Any

import attrs

from . import by_dimensions, cohorts
from .previous import reach, vs_periods
from .errors import UsageError
from .graph import Graph, Key, Resolved
from .node_choice import choose_providers
from .periods import FIRST_DATE, Grain, floor, shift
from .registry import Registry
from .windows import Window, check_windowable


@attrs.frozen
class Request:
    """What a user asks for: metric variants, grain, range, dimensions."""

    keys: tuple[Key, ...]
    grain: Grain
    start: dt.date
    end: dt.date
    by: tuple[str, ...] = ()
    lenient: bool = False
    vs: str | None = None  # --vs previous|year
    time_zone: str = "UTC"  # the calendar's (:mod:`.calendar`); the grain carries its anchor
    window: Window | None = None  # --window: trailing windows of whole grain periods


@attrs.frozen
class Plan:
    """Everything the compiler needs, resolved and checked."""

    keys: tuple[Key, ...]
    variants: tuple[Key, ...]
    nodes: tuple[str, ...]
    sources: tuple[str, ...]
    grain: Grain
    report_start: dt.date
    report_end: dt.date
    spine_start: dt.date
    spine_last: dt.date
    by: tuple[str, ...]  # customers dimensions
    parameters: dict[str, Any]
    lenient: bool = False
    splits: dict[Key, str] = attrs.field(factory=dict)  # key -> the --by KEY reading it uses
    dimensions: dict[Key, str] = attrs.field(factory=dict)  # key -> the extra key its rows carry
    extra_keys: tuple[str, ...] = ()  # every such key, in order: output columns after ``by``
    # (key, --by reading or None) -> its closure, resolved once here: the key as computed (with
    # its reading) and, for its fingerprint, the key plain and with each of its readings
    closures: dict[tuple[Key, str | None], Resolved] = attrs.field(factory=dict, eq=False)
    lags: tuple[int, ...] = ()  # the n of every previous(expr, n) the plan's formulas use
    vs: int | None = None  # --vs: compare with the value this many periods earlier
    time_zone: str = "UTC"  # period boundaries are this zone's local midnights
    window: Window | None = None  # --window (csframe.core.windows): rows are trailing windows
    # measure -> the node it is read from when that is not the node defining it: an alternative
    # (Node.alternative_to) the planner chose, giving the same numbers by a cheaper route (core/node_choice.py)
    providers: dict[str, str] = attrs.field(factory=dict)

    def provider(self, registry: Registry, measure: str) -> str:
        """The node this plan reads ``measure`` from."""
        return self.providers.get(measure) or registry.measures[measure][0]

    def split(self, key: Key) -> str | None:
        return self.splits.get(key)

    def closure(self, key: Key) -> Resolved:
        """The variants, nodes, sources and parameters ``key`` reads as this plan computes it."""
        return self.closures[(key, self.splits.get(key))]


def build_plan(registry: Registry, graph: Graph, request: Request, parameters: dict[str, Any],
               closures: dict[tuple[Key, str | None], Resolved] | None = None,
               mapped_sources: Collection[str] | None = None) -> Plan:
    """Resolve every requested key (each (key, reading) once: ``closures`` holds those
    already resolved, e.g. by :func:`~csframe.core.parameters.resolve_parameters`); share
    nodes; check ``--by`` (every rule that needs no engine, :mod:`.by_dimensions`; with
    ``mapped_sources``, the sources a project maps, that it maps customers). The closures are
    kept on the Plan."""
    if not request.keys:
        raise UsageError("no metric to compute", hint="Name one with --metric NAME, or use --all.")
    dims = by_dimensions.planned_dimensions(registry, request.keys, request.by)
    splits, customer_by, dimensions = dims.splits, dims.by, dims.dimensions
    variants: list[Key] = []
    lags: list[int] = []
    nodes: list[str] = []
    sources: list[str] = []
    closures = {} if closures is None else closures
    for key in request.keys:
        for split in (None, splits.get(key), *sorted(registry.variants[key].splits)):
            if (key, split) not in closures:
                closures[(key, split)] = graph.resolve(key, split)
        r = closures[(key, splits.get(key))]
        for name in r.parameters:
            if registry.parameters[name][1].required and parameters.get(name) is None:
                how = f" --by {splits[key]}" if key in splits else ""
                raise UsageError(
                    f"metric {key[0]}:{key[1]}{how} needs parameter {name}, which has no default",
                    hint=f"Set {name} under [parameters] in csframe.toml, or pass --param {name}=...",
                )
        by_dimensions.check_key(registry, key, closures[(key, None)], r, customer_by)
        variants.extend(r.variants)
        lags.extend(n for k in r.variants
                    for n in registry.variants[k].formula(splits.get(key) if k == key else None).lags)
        nodes.extend(r.nodes)
        sources.extend(r.sources)
    report_start = floor(request.start, request.grain)
    vs = vs_periods(request.vs, request.grain) if request.vs else None
    back = reach(lags, vs)
    if request.window is not None:
        # the spine starts a period before the first one; with windows, two windows but a period before (the
        # window before the first one is read too, e.g. as p−1 of expansion_rate:upsell_invoices), and a
        # previous() or --vs reads whole windows that many periods earlier
        back += 2 * request.window.periods - 2
    try:
        spine_start = shift(report_start, request.grain, -back)
    except (ValueError, OverflowError):
        spine_start = None
    if spine_start is None or spine_start < FIRST_DATE:
        raise UsageError(f"--start {request.start}: previous() or --vs read {back} {request.grain.name}(s) before it, "
                         f"and dates start at {FIRST_DATE} on every engine", hint="Use a later --start.")
    if request.end <= report_start:
        raise UsageError(f"--end {request.end} must be after --start {request.start} (rounded down to {report_start})")
    periods_last = floor(request.end, request.grain)
    if periods_last == request.end:
        periods_last = shift(periods_last, request.grain, -1)
    if request.window is not None:
        check_windowable(registry, request.keys, lambda k: closures[(k, splits.get(k))], request.window)
    providers = choose_providers(registry, [closures[(k, splits.get(k))] for k in request.keys],
                                 request.window is not None)
    if providers:  # the steps and sources the run computes: the chosen alternatives' instead
        nodes = [n for k in request.keys for n in graph.nodes_providing(closures[(k, splits.get(k))].measures, providers)]
        sources = graph.sources_of(dict.fromkeys(nodes))
    by_dimensions.check_names(customer_by, mapped_sources)
    if customer_by and "customers" not in sources:
        sources.append("customers")
    if cohorts.COHORT in customer_by:
        sources.extend(s for s in cohorts.cohort_sources() if s not in sources)
    return Plan(
        keys=tuple(dict.fromkeys(request.keys)),
        variants=tuple(dict.fromkeys(variants)),
        nodes=tuple(dict.fromkeys(nodes)),
        sources=tuple(dict.fromkeys(sources)),
        grain=request.grain,
        report_start=report_start,
        report_end=request.end,
        spine_start=spine_start,
        spine_last=periods_last,
        by=customer_by,
        parameters=parameters,
        lenient=request.lenient,
        splits=splits,
        dimensions=dimensions,
        extra_keys=tuple(dict.fromkeys(dimensions.values())),
        closures={k: closures[k] for k in closures if k[0] in request.keys},
        lags=tuple(sorted(set(lags))),
        vs=vs,
        time_zone=request.time_zone,
        window=request.window,
        providers=providers,
    )
