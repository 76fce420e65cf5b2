"""The planner's choice between a node and its alternatives: which node each measure of a
run is read from.

A node may have alternatives (:attr:`~csframe.core.models.Node.alternative_to`): nodes that
compute some of its measures, the same numbers, by a cheaper route when the run needs nothing
else of its steps (``mrr`` alone: M(p.end) summed from the +/- events of each period, without
the per-customer step that the customer counts and the MRR movements need). A node is kept
when the run reads one of its measures that the alternative does not offer, when another step
of the run reads it, or when every step it reads is computed for the run anyway (it then adds
only itself, which is cheap: it is the shared route). Otherwise its measures are read from its
first alternative that offers all of them and is defined for the run (under ``--window``: one
that says how it reads on windows).

The metric definitions and their closures are unchanged: the choice only says where the plan
reads a measure, and both routes give the same numbers.
"""

from __future__ import annotations

__all__ = ["choose_providers"]

from collections.abc import Iterable

from .graph import Resolved
from .registry import Registry


def choose_providers(registry: Registry, closures: Iterable[Resolved], windowed: bool) -> dict[str, str]:
    """measure → the alternative node the run reads it from, for the measures not read from
    the node that defines them (empty when every measure is read from its own node)."""
    if not registry.alternatives:
        return {}
    read = list(dict.fromkeys(m for r in closures for m in r.measures))
    providers: dict[str, str] = {}
    for primary, alternatives in registry.alternatives.items():
        mine = {m for m in read if registry.measures[m][0] == primary}
        if not mine:
            continue
        roots = {providers.get(m, registry.measures[m][0]) for m in read} - {primary}
        computed = _computed(registry, roots)
        if primary in computed or registry.reads(primary)[0] <= computed:
            continue  # read by another step, or it adds only itself to steps computed anyway
        for name in alternatives:
            alternative = registry.nodes[name].node
            if windowed and alternative.window is None and alternative.window_sql is None:
                continue
            if mine <= {m.name for m in alternative.measures}:
                providers.update(dict.fromkeys(sorted(mine), name))
                break
    return providers


def _computed(registry: Registry, roots: Iterable[str]) -> set[str]:
    """The nodes ``roots`` are and read, all the way down."""
    out: set[str] = set()
    for root in roots:
        out |= registry.reads(root)[0] | {root}
    return out
