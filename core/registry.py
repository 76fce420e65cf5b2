"""The registry: every metric, variant and node the plugins register, checked.

Registration goes through a :class:`Registrar` bound to the calling plugin, so every
error names the plugin (and the metric). A formula or node SQL that does not parse
fails at registration; references between definitions are checked once all plugins
have registered (:meth:`Registry.validate`), collecting every problem.
"""

from __future__ import annotations

__all__ = ["Registrar", "Registry", "RegisteredVariant", "RegisteredNode", "build_registry"]

import functools
import os
import sys
from collections.abc import Callable, Iterator
from typing import Any

import attrs

from .contract import SOURCES
from .errors import CsframeError, DefinitionError, PluginError, did_you_mean
from .formula import BUILTIN_MEASURES, BUILTIN_NODES, ParsedFormula, ParsedNode, parse_formula, parse_node_sql
from .models import Measure, Metric, Node, Parameter, Variant

_SOURCE_NAMES = {s.name for s in SOURCES}


@attrs.frozen
class RegisteredVariant:
    metric: str
    variant: Variant
    parsed: ParsedFormula
    plugin: str
    splits: dict[str, ParsedFormula] = attrs.field(factory=dict)
    left_out: ParsedFormula | None = None  # the count of what the value leaves out, per period

    def formula(self, split: str | None = None) -> ParsedFormula:
        return self.parsed if split is None else self.splits[split]


@attrs.frozen
class RegisteredNode:
    node: Node
    parsed: ParsedNode
    plugin: str


@attrs.define
class Registry:
    """Everything registered, by name. Built by :func:`build_registry`."""

    metrics: dict[str, Metric] = attrs.Factory(dict)
    metric_plugin: dict[str, str] = attrs.Factory(dict)
    aliases: dict[str, str] = attrs.Factory(dict)  # alias → metric name
    variants: dict[tuple[str, str], RegisteredVariant] = attrs.Factory(dict)
    variant_order: dict[str, list[str]] = attrs.Factory(dict)
    defaults: dict[str, str] = attrs.Factory(dict)
    nodes: dict[str, RegisteredNode] = attrs.Factory(dict)
    measures: dict[str, tuple[str, Measure]] = attrs.Factory(dict)
    alternatives: dict[str, list[str]] = attrs.Factory(dict)  # node → the nodes that are alternatives to it
    parameters: dict[str, tuple[str, Parameter]] = attrs.Factory(dict)
    adapters: dict[str, tuple[str, object]] = attrs.Factory(dict)
    output_formats: dict[str, tuple[str, object]] = attrs.Factory(dict)
    dialects: dict[str, tuple[str, object]] = attrs.Factory(dict)  # SQL-only: printed, never run
    default_adapter: str | None = None  # the csframe_default_adapter hook's answer

    # -- lookups -----------------------------------------------------------
    def metric_name(self, name: str) -> str:
        """The metric ``name`` names: itself, or the metric it is an alias of (``nrr``)."""
        if name in self.metrics:
            return name
        if name in self.aliases:
            return self.aliases[name]
        from .errors import UsageError

        raise UsageError(
            f"unknown metric {name!r}.{did_you_mean(name, [*self.metrics, *self.aliases])}",
            hint="`csframe list` shows every metric and its aliases.",
        )

    def metric(self, name: str) -> Metric:
        """The metric called ``name`` or aliased so (an unknown name is a usage error)."""
        return self.metrics[self.metric_name(name)]

    def aliases_of(self, metric: str) -> list[str]:
        return [a for a, m in self.aliases.items() if m == metric]

    def variant_names(self, metric: str) -> list[str]:
        return list(self.variant_order[metric])

    def default_variant(self, metric: str) -> str:
        return self.defaults[metric]

    def registered_variant(self, metric: str, variant: str) -> RegisteredVariant:
        self.metric(metric)
        try:
            return self.variants[(metric, variant)]
        except KeyError:
            from .errors import UsageError

            names = self.variant_order[metric]
            raise UsageError(
                f"metric {metric!r} has no variant {variant!r}.{did_you_mean(variant, names)}",
                hint=f"Its variants: {', '.join(names)}.",
            ) from None

    def all_variants(self) -> Iterator[RegisteredVariant]:
        for name in self.metrics:
            for v in self.variant_order[name]:
                yield self.variants[(name, v)]

    def dimension_of(self, metric: str, variant: str, split: str | None = None) -> str | None:
        """The key a variant's rows carry besides the period (a keyed measure's key), if any."""
        for m in self.variants[(metric, variant)].formula(split).measures:
            if m in self.measures and self.measures[m][1].key:
                return self.measures[m][1].key
        return None

    def unit(self, metric: str, variant: str) -> str:
        return self.variants[(metric, variant)].variant.unit or self.metrics[metric].unit

    # -- validation --------------------------------------------------------
    def _left_out_problems(self, where: str, rv: RegisteredVariant) -> list[str]:
        out = []
        for m in rv.left_out.measures:
            if m not in self.measures and m not in BUILTIN_MEASURES:
                out.append(f"{where}: unknown measure {m!r} in left_out.count.{did_you_mean(m, self.measures)}")
        keyed = [m for m in (*rv.left_out.measures, *rv.parsed.measures)
                 if m in self.measures and self.measures[m][1].key]
        if keyed or rv.left_out.refs or rv.left_out.parameters:
            out.append(f"{where}: left_out.count must be a formula over measures of the period alone "
                       "(no ref(), no param(), and not on a variant keyed by a dimension)")
        return out

    def problems(self) -> list[str]:
        """Every broken reference between definitions (cycles are the graph's)."""
        out: list[str] = []
        for (metric, vname), rv in self.variants.items():
            where = f"plugin {rv.plugin!r}, metric {metric}:{vname}"
            for split, parsed in [(None, rv.parsed), *rv.splits.items()]:
                keys = set()
                for m in parsed.measures:
                    if m not in self.measures and m not in BUILTIN_MEASURES:
                        out.append(f"{where}: unknown measure {m!r} in formula.{did_you_mean(m, self.measures)}")
                    elif m in self.measures and self.measures[m][1].key:
                        keys.add(self.measures[m][1].key)
                if split is not None and parsed.refs:
                    out.append(f"{where}: its --by {split} formula cannot ref() other metrics")
                if len(keys) > 1 or (split is not None and keys and keys != {split}):
                    what = f"its --by {split} formula" if split else "its formula"
                    out.append(f"{where}: {what} mixes measures keyed by {', '.join(sorted(keys))}")
            if rv.left_out is not None:
                out.extend(self._left_out_problems(where, rv))
            for ref in rv.parsed.refs:
                if ref.metric not in self.metrics:
                    out.append(f"{where}: unknown metric {ref.metric!r} in ref().{did_you_mean(ref.metric, self.metrics)}")
                elif ref.variant is not None and (ref.metric, ref.variant) not in self.variants:
                    out.append(
                        f"{where}: metric {ref.metric!r} has no variant {ref.variant!r}."
                        f"{did_you_mean(ref.variant, self.variant_order[ref.metric])}"
                    )
            for p in rv.parsed.parameters:
                if p not in self.parameters:
                    out.append(f"{where}: unknown parameter {p!r} in param().{did_you_mean(p, self.parameters)}")
        for name, rn in self.nodes.items():
            where = f"plugin {rn.plugin!r}, node {name}"
            for src in rn.parsed.sources:
                if src not in _SOURCE_NAMES:
                    out.append(f"{where}: unknown source src_{src}.{did_you_mean(src, _SOURCE_NAMES)}")
            for dep in rn.parsed.nodes:
                if dep not in self.nodes and dep not in BUILTIN_NODES:
                    out.append(f"{where}: reads unknown node or table {dep!r}.{did_you_mean(dep, [*self.nodes, *BUILTIN_NODES])}"
                               " Sources are read as src_<source>.")
            for p in rn.parsed.parameters:
                if p not in self.parameters:
                    out.append(f"{where}: unknown parameter :{p}.{did_you_mean(p, self.parameters)}")
            if rn.node.alternative_to is not None:
                out.extend(f"{where}: {p}" for p in self._alternative_problems(rn))
        return out

    def reads(self, name: str) -> tuple[set[str], set[str], set[str]]:
        """(nodes, sources, parameters) node ``name`` reads, itself and its steps, all the way down."""
        nodes: set[str] = set()
        sources: set[str] = set()
        params: set[str] = set()
        todo = [name]
        while todo:
            n = todo.pop()
            if n in nodes or n not in self.nodes:
                continue
            nodes.add(n)
            parsed = self.nodes[n].parsed
            sources.update(parsed.sources)
            params.update(parsed.parameters)
            todo.extend(parsed.nodes)
        return nodes - {name}, sources, params

    def _alternative_problems(self, rn: RegisteredNode) -> list[str]:
        """What is wrong with ``rn`` as an alternative to another node (:attr:`Node.alternative_to`)."""
        node, target = rn.node, rn.node.alternative_to
        if target not in self.nodes:
            return [f"alternative_to names unknown node {target!r}.{did_you_mean(target, self.nodes)}"]
        other = self.nodes[target].node
        if other.alternative_to is not None:
            return [f"alternative_to names node {target!r}, itself an alternative (to {other.alternative_to!r}); "
                    f"name {other.alternative_to!r}"]
        out: list[str] = []
        if not node.measures:
            out.append(f"declares no measure of node {target!r}")
        theirs = {m.name: m for m in other.measures}
        for m in node.measures:
            if m.name not in theirs:
                out.append(f"measure {m.name!r} is not a measure of node {target!r}.{did_you_mean(m.name, theirs)}")
            elif (m.fill, m.key) != (theirs[m.name].fill, theirs[m.name].key):
                out.append(f"measure {m.name!r} has fill={m.fill!r}, key={m.key!r}; node {target!r} has "
                           f"fill={theirs[m.name].fill!r}, key={theirs[m.name].key!r}")
        nodes, sources, params = self.reads(node.name)
        if target in nodes:
            out.append(f"reads node {target!r}, to which it is an alternative")
        _, their_sources, their_params = self.reads(target)
        for what, mine, theirs_ in (("source", sources, their_sources), ("parameter", params, their_params)):
            extra = sorted(mine - theirs_)
            if extra:
                out.append(f"reads {what}(s) {', '.join(extra)}, which node {target!r} does not")
        return out


def _collected(method: Callable) -> Callable:
    """A registration that fails is recorded in the registrar's ``errors`` (when it has a list)
    and the plugin's hook goes on, so that one run reports every mistake of every plugin."""

    @functools.wraps(method)
    def register(self: Registrar, *args: Any, **kwargs: Any) -> None:
        try:
            method(self, *args, **kwargs)
        except (PluginError, DefinitionError) as e:
            if self.errors is None:
                raise
            self.errors.append(e)

    return register


@attrs.define
class Registrar:
    """What a plugin's ``csframe_register_metrics`` hook receives, bound to that plugin.

    With ``errors`` (a list), a registration that fails is recorded there instead of raised,
    and the hook goes on; :func:`build_registry` reports them all at the end."""

    registry: Registry
    plugin: str
    errors: list[CsframeError] | None = None

    @_collected
    def node(self, node: Node) -> None:
        """Register a SQL step (a CTE) and the measures it provides."""
        reg = self.registry
        if node.name in reg.nodes or node.name in BUILTIN_NODES:
            other = reg.nodes[node.name].plugin if node.name in reg.nodes else "csframe"
            raise PluginError(f"plugin {self.plugin!r}: node {node.name!r} is already registered by plugin {other!r}",
                              hint="Rename the node (node names are global).")
        try:
            parsed = parse_node_sql(node.sql)
        except ValueError as e:
            raise DefinitionError(f"plugin {self.plugin!r}, node {node.name!r}: {e}",
                                  hint="A node's SQL is one dialect-neutral SELECT (see the Node docstring and "
                                       "docs/plugins.md).") from None
        for m in node.measures:
            if node.alternative_to is None and m.name in reg.measures:
                raise PluginError(
                    f"plugin {self.plugin!r}: measure {m.name!r} of node {node.name!r} is already provided by node "
                    f"{reg.measures[m.name][0]!r} (plugin {reg.nodes[reg.measures[m.name][0]].plugin!r})",
                    hint="Measure names are global; rename yours.",
                )
        reg.nodes[node.name] = RegisteredNode(node, parsed, self.plugin)
        if node.alternative_to is not None:  # its measures stay those of the node it is an alternative to
            reg.alternatives.setdefault(node.alternative_to, []).append(node.name)
            return
        for m in node.measures:
            reg.measures[m.name] = (node.name, m)

    @_collected
    def metric(self, metric: Metric) -> None:
        """Register a new metric with its variants and parameters."""
        reg = self.registry
        if metric.name in reg.metrics:
            raise PluginError(
                f"plugin {self.plugin!r}: metric {metric.name!r} is already registered by plugin "
                f"{reg.metric_plugin[metric.name]!r}",
                hint="Choose another name, or add a variant to the existing metric with registrar.variant().",
            )
        for name in (metric.name, *metric.aliases):
            if name in reg.aliases:
                owner, taken = reg.aliases[name], f"an alias of metric {reg.aliases[name]!r}"
            elif name != metric.name and name in reg.metrics:
                owner, taken = name, "a metric's name"
            else:
                continue
            what = "its name" if name == metric.name else f"its alias {name!r}"
            raise PluginError(
                f"plugin {self.plugin!r}: metric {metric.name!r}: {what} is already {taken}, registered by plugin "
                f"{reg.metric_plugin[owner]!r}",
                hint="Metric names and aliases are global: choose another.",
            )
        for p in metric.parameters:
            self.parameter(p)
        reg.metrics[metric.name] = metric
        reg.metric_plugin[metric.name] = self.plugin
        reg.aliases.update({a: metric.name for a in metric.aliases})
        reg.variant_order[metric.name] = []
        reg.defaults[metric.name] = metric.default
        for v in metric.variants:
            self.variant(metric.name, v)

    @_collected
    def parameter(self, parameter: Parameter) -> None:
        """Register a parameter (metrics' parameters are registered with them)."""
        reg = self.registry
        if parameter.name in reg.parameters and reg.parameters[parameter.name][1] != parameter:
            raise PluginError(
                f"plugin {self.plugin!r}: parameter {parameter.name!r} is already declared differently by plugin "
                f"{reg.parameters[parameter.name][0]!r}",
                hint="Parameter names are global: rename yours (prefix it with your plugin's name), "
                     "or declare it exactly as the other plugin does.",
            )
        reg.parameters.setdefault(parameter.name, (self.plugin, parameter))

    @_collected
    def variant(self, metric: str, variant: Variant) -> None:
        """Add a variant to a metric (this plugin's or another's)."""
        reg = self.registry
        if metric not in reg.metrics:
            raise PluginError(
                f"plugin {self.plugin!r}: cannot add variant {variant.name!r} to unknown metric {metric!r}."
                f"{did_you_mean(metric, reg.metrics)}",
                hint="Register the metric with registrar.metric() first; `csframe list` shows every metric.",
            )
        if (metric, variant.name) in reg.variants:
            raise PluginError(
                f"plugin {self.plugin!r}: metric {metric!r} already has a variant {variant.name!r} "
                f"(registered by plugin {reg.variants[(metric, variant.name)].plugin!r})",
                hint="Give your variant another name.",
            )
        try:
            parsed = parse_formula(variant.formula)
            splits = {k: parse_formula(f) for k, f in variant.splits.items()}
            left_out = parse_formula(variant.left_out.count) if variant.left_out is not None else None
        except ValueError as e:
            raise DefinitionError(f"plugin {self.plugin!r}, metric {metric}:{variant.name}: {e}",
                                  hint="A formula is an SQL expression over measure names, ref('metric'[, 'variant']), "
                                       "param('name') and safe_div(a, b) (see docs/plugins.md).") from None
        reg.variants[(metric, variant.name)] = RegisteredVariant(metric, variant, parsed, self.plugin, splits, left_out)
        reg.variant_order[metric].append(variant.name)

    @_collected
    def default_variant(self, metric: str, variant: str) -> None:
        """Make ``variant`` the default of ``metric`` (a project's [variants] still wins)."""
        reg = self.registry
        if (metric, variant) not in reg.variants:
            names = reg.variant_order.get(metric, [])
            raise PluginError(f"plugin {self.plugin!r}: metric {metric!r} has no variant {variant!r} to make default."
                              f"{did_you_mean(variant, names)}",
                              hint=f"Its variants: {', '.join(names) or 'none (unknown metric)'}; add yours with "
                                   "registrar.variant() before making it the default.")
        reg.defaults[metric] = variant


def _call(impl, hook: str, **kwargs) -> None:
    """Call one plugin's hook; a mistake inside it becomes an error naming the plugin."""
    if os.environ.get("CSFRAME_TRACE_PLUGINS") == "1":
        sys.stderr.write(f"csframe: {hook} -> {impl.plugin_name}\n")
    try:
        impl.function(**kwargs)
    except (PluginError, DefinitionError):
        raise
    except Exception as e:  # noqa: BLE001 - whatever a plugin raises, name the plugin
        raise PluginError(f"plugin {impl.plugin_name!r} failed in {hook}: {type(e).__name__}: {e}",
                          hint="Fix the plugin, or list it under [plugins] disable in csframe.toml.") from e


def build_registry(plugins) -> Registry:
    """Call every plugin's registration hooks, then check the references between them. Every
    problem of every plugin is reported at once: one error as it is, several in one list."""
    reg = Registry()
    caller = plugins.pm.hook
    errors: list[CsframeError] = []

    def call(impl, hook: str, **kwargs) -> None:
        try:
            _call(impl, hook, **kwargs)
        except (PluginError, DefinitionError) as e:
            errors.append(e)

    for impl in caller.csframe_register_metrics.get_hookimpls():
        call(impl, "csframe_register_metrics", registrar=Registrar(reg, impl.plugin_name, errors))

    def register_into(table: dict, kind: str, plugin: str):
        def register(name: str, value: object) -> None:
            if name in table:
                raise PluginError(f"plugin {plugin!r}: {kind} {name!r} is already registered by plugin {table[name][0]!r}",
                                  hint=f"Register yours under another name ({kind} names are global).")
            table[name] = (plugin, value)

        return register

    for impl in caller.csframe_register_adapters.get_hookimpls():
        call(impl, "csframe_register_adapters", register=register_into(reg.adapters, "adapter", impl.plugin_name))
    for impl in reversed(caller.csframe_default_adapter.get_hookimpls()):  # pluggy's order: firstresult
        try:
            answer = impl.function(adapters=tuple(reg.adapters))
        except Exception as e:  # noqa: BLE001 - whatever a plugin raises, name the plugin
            errors.append(PluginError(f"plugin {impl.plugin_name!r} failed in csframe_default_adapter: "
                                      f"{type(e).__name__}: {e}",
                                      hint="Fix the plugin, or list it under [plugins] disable in csframe.toml."))
            break
        if answer is None:
            continue
        if answer not in reg.adapters:
            errors.append(PluginError(f"plugin {impl.plugin_name!r}: csframe_default_adapter names {answer!r}, "
                                      "which is no registered adapter",
                                      hint=f"Adapters: {', '.join(reg.adapters) or 'none'}."))
        else:
            reg.default_adapter = answer
        break
    for impl in caller.csframe_register_dialects.get_hookimpls():
        call(impl, "csframe_register_dialects", register=register_into(reg.dialects, "dialect", impl.plugin_name))
    for name in sorted(set(reg.dialects) & set(reg.adapters)):
        errors.append(PluginError(f"plugin {reg.dialects[name][0]!r}: dialect {name!r} is also an adapter "
                                  f"(registered by plugin {reg.adapters[name][0]!r})",
                                  hint="Register the SQL-only dialect under another name."))
    for impl in caller.csframe_register_output_formats.get_hookimpls():
        call(impl, "csframe_register_output_formats",
             register=register_into(reg.output_formats, "output format", impl.plugin_name))
    problems = reg.problems()
    if len(errors) == 1 and not problems:
        raise errors[0]
    if errors or problems:
        raise DefinitionError(
            f"{len(errors) + len(problems)} problem(s) in the registered definitions:\n  "
            + "\n  ".join([e.message for e in errors] + problems),
            hint="Fix the definitions named above (or disable their plugin under [plugins] disable).",
        )
    return reg
