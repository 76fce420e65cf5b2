"""The dependency graph: metrics built from metrics, measures from nodes, nodes from
sources; variants chosen by the project's ``[variants]``; cycles and availability."""

from __future__ import annotations

__all__ = ["CYCLE_HINT", "Graph", "Resolved", "cycles"]

from collections.abc import Iterable, Mapping

import attrs

from .contract import source
from .errors import DefinitionError, UsageError, did_you_mean
from .formula import BUILTIN_MEASURES, BUILTIN_NODES
from .registry import Registry

Key = tuple[str, str]  # (metric, variant)


CYCLE_HINT = "A metric cannot be built from itself; change one of these formulas."


@attrs.frozen
class Resolved:
    """What one metric variant needs, all the way down."""

    key: Key
    variants: tuple[Key, ...]  # itself and every variant it references, dependencies first
    nodes: tuple[str, ...]  # nodes, dependencies first
    sources: tuple[str, ...]
    parameters: tuple[str, ...]
    measures: tuple[str, ...] = ()  # the measures its formulas read (besides the built-in ones)


@attrs.define
class Graph:
    """The graph of a registry under a project's variant choices."""

    registry: Registry
    chosen: Mapping[str, str] = attrs.Factory(dict)  # the project's [variants]

    def default_variant(self, metric: str) -> str:
        return self.chosen.get(metric) or self.registry.default_variant(metric)

    def parse_key(self, text: str) -> Key:
        """``metric`` or ``metric:variant`` → (metric, variant), checked."""
        name, _, variant = text.partition(":")
        name = self.registry.metric_name(name)  # an alias (nrr) names its metric
        variant = variant or self.default_variant(name)
        self.registry.registered_variant(name, variant)
        return (name, variant)

    def refs(self, key: Key) -> list[Key]:
        rv = self.registry.variants[key]
        return [(r.metric, r.variant or self.default_variant(r.metric)) for r in rv.parsed.refs]

    def check_choices(self) -> None:
        """The project's [variants] must name real metrics and variants."""
        for metric, variant in self.chosen.items():
            if metric not in self.registry.metrics:
                raise UsageError(f"[variants] names unknown metric {metric!r}.{did_you_mean(metric, self.registry.metrics)}")
            names = self.registry.variant_names(metric)
            if variant not in names:
                raise UsageError(
                    f"[variants] {metric} = {variant!r}: no such variant.{did_you_mean(variant, names)}",
                    hint=f"Its variants: {', '.join(names)}.",
                )

    def resolve(self, key: Key, split: str | None = None) -> Resolved:
        """What ``key`` (read ``--by split``) needs, all the way down."""
        order: list[Key] = []
        self._visit(key, [], order, set())
        read: list[str] = []
        left_out = self.registry.variants[key].left_out if split is None else None
        for k in order:
            measures = self.registry.variants[k].formula(split if k == key else None).measures
            if k == key and left_out is not None:
                measures = (*measures, *left_out.measures)
            read.extend(m for m in measures if m not in BUILTIN_MEASURES)
        nodes = self.nodes_providing(read)
        sources = self.sources_of(nodes)
        params: list[str] = []
        for n in nodes:
            params.extend(self.registry.nodes[n].parsed.parameters)
        for k in order:
            params.extend(self.registry.variants[k].formula(split if k == key else None).parameters)
        return Resolved(key, tuple(order), tuple(nodes), tuple(dict.fromkeys(sources)), tuple(dict.fromkeys(params)),
                        tuple(dict.fromkeys(read)))

    def nodes_providing(self, measures: Iterable[str], providers: Mapping[str, str] | None = None) -> list[str]:
        """The nodes that provide ``measures`` and the nodes they read, dependencies first; ``providers``
        (measure → node) reads a measure from an alternative node (:attr:`~csframe.core.models.Node.alternative_to`)
        instead of the node defining it, as a plan may (:mod:`csframe.core.node_choice`)."""
        nodes: list[str] = []
        seen: set[str] = set()
        for m in measures:
            if m in BUILTIN_MEASURES:
                continue
            node = providers.get(m) if providers else None
            self._visit_node(node or self.registry.measures[m][0], nodes, seen, [])
        return nodes

    def sources_of(self, nodes: Iterable[str]) -> list[str]:
        """The sources ``nodes`` read, in order, each once."""
        return list(dict.fromkeys(s for n in nodes for s in self.registry.nodes[n].parsed.sources))

    def _visit(self, key: Key, path: list[Key], order: list[Key], done: set[Key]) -> None:
        if key in done:
            return
        if key in path:
            loop = path[path.index(key):]
            raise DefinitionError(
                "cycle in metric references: "
                + _cycle_text([f"{m}:{v}" for m, v in loop], [self.registry.variants[k].plugin for k in loop]),
                hint=CYCLE_HINT,
            )
        for dep in self.refs(key):
            self._visit(dep, path + [key], order, done)
        done.add(key)
        order.append(key)

    def _visit_node(self, name: str, out: list[str], seen: set[str], path: list[str]) -> None:
        if name in seen or name in BUILTIN_NODES:
            return
        if name in path:
            loop = path[path.index(name):]
            raise DefinitionError("cycle in nodes: " + _cycle_text(loop, [self.registry.nodes[n].plugin for n in loop]),
                                  hint="A node cannot read itself, even through other nodes; change one of their SQL.")
        for dep in self.registry.nodes[name].parsed.nodes:
            self._visit_node(dep, out, seen, path + [name])
        seen.add(name)
        out.append(name)

    def missing_sources(self, key: Key, configured: Iterable[str]) -> list[str]:
        have = set(configured)
        return [s for s in self.resolve(key).sources if s not in have]

    def needs_by(self, key: Key) -> list[str]:
        """The ``--by`` dimensions ``key`` cannot be computed without (a node's ``needs_by``)."""
        wanted = (self.registry.nodes[n].node.needs_by for n in self.resolve(key).nodes)
        return list(dict.fromkeys(w for w in wanted if w is not None))

    def unsplittable_sources(self, key: Key) -> list[str]:
        """Sources of ``key`` that have no customer, so ``--by`` cannot split them."""
        return [s for s in self.resolve(key).sources if source(s).customer_column is None]


def _cycle_text(loop: list[str], plugins: list[str]) -> str:
    """``a → b → a (plugin 'p')``, started at its smallest member, so that a cycle reads the
    same whichever of its members it was found from; each member's plugin is named."""
    start = loop.index(min(loop))
    loop, plugins = loop[start:] + loop[:start], plugins[start:] + plugins[:start]
    owners = list(dict.fromkeys(plugins))
    if len(owners) == 1:
        who = f"plugin {owners[0]!r}"
    else:
        who = "plugins " + ", ".join(f"{p!r} ({m})" for m, p in zip(loop, plugins))
    return " → ".join([*loop, loop[0]]) + f" ({who})"


def cycles(registry: Registry) -> list[str]:
    """Every cycle among all variants (for ``csframe check``), as messages."""
    graph = Graph(registry)
    out = []
    for rv in registry.all_variants():
        try:
            graph.resolve((rv.metric, rv.variant.name))
        except DefinitionError as e:
            if e.message not in out:
                out.append(e.message)
    return out
