"""Commands that look at definitions: list, explain, compare, sql, graph, plugins."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import click

from csframe.core.errors import CsframeError, UsageError
from csframe.core.left_out import describe
from csframe.core.periods import GRAINS
from csframe.core.result import Result
from .app import cli, common, open_session, parse_params, window_option
from .graph_image import IMAGE_FORMATS, write_image


@cli.command("list")
@common
def list_(project_dir):
    """Every metric and variant: unit, default, aliases, sources, and whether this project can compute it."""
    with open_session(project_dir) as s:
        rows = [("metric", "variant", "unit", "default", "aliases", "sources", "available")]
        for name in s.registry.metrics:
            default = s.graph.default_variant(name)
            for i, v in enumerate(s.registry.variant_names(name)):
                key = (name, v)
                lacks = s.missing_sources(key)
                needs_by = s.graph.needs_by(key)  # the cohort metrics: with --by cohort only
                rows.append((name, v, s.registry.unit(*key), "*" if v == default else "",
                             ", ".join(s.registry.aliases_of(name)) if i == 0 else "",
                             ", ".join(s.graph.resolve(key).sources),
                             "no: needs " + ", ".join(lacks) if lacks else
                             "with " + " ".join(f"--by {d}" for d in needs_by) if needs_by else "yes"))
        widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
        for r in rows:
            click.echo("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())


def _tree(s, key, depth: int = 0, seen: tuple = ()) -> list[str]:
    rv = s.registry.variants[key]
    lines = [("  " * depth) + f"{key[0]}:{key[1]}  = {rv.variant.formula}"]
    if key in seen:
        return lines
    for ref in s.graph.refs(key):
        lines += _tree(s, ref, depth + 1, seen + (key,))
    for m in rv.parsed.measures:
        if m in s.registry.measures:
            node, measure = s.registry.measures[m]
            lines.append(("  " * (depth + 1)) + f"{m}  ← node {node}: {measure.description}")
        else:
            lines.append(("  " * (depth + 1)) + f"{m}  ← the grain's length in months")
    return lines


@cli.command()
@click.argument("metric")
@click.option("--grain", default="month", show_default=True, metavar="|".join(GRAINS) + "|NAME",
              help="A period length, or a grain of the project's calendar source (docs/calendars.md).")
@click.option("--no-sql", is_flag=True, help="Leave out the SQL.")
@common
def explain(project_dir, metric, grain, no_sql):
    """The formula in words, provenance, parameters, dependencies, rejected readings and SQL."""
    with open_session(project_dir) as s:
        key = s.graph.parse_key(metric)
        m = s.registry.metric(key[0])
        rv = s.registry.variants[key]
        v = rv.variant
        echo = click.echo
        echo(f"{key[0]}:{key[1]}  ({s.registry.unit(*key)})  — plugin {rv.plugin}")
        echo(f"  {m.description}")
        if m.aliases:
            echo(f"  also called: {', '.join(m.aliases)}")
        echo(f"  this variant: {v.description or v.formula}")
        echo(f"  formula: {v.formula}")
        if v.left_out is not None:
            values = {p: s.project.parameters.get(p, spec.default) for p, (_, spec) in s.registry.parameters.items()}
            echo(f"  leaves out, and compute says how many on stderr: {describe(v.left_out.what, values)} "
                 f"({v.left_out.count})")
        echo("provenance:")
        for p in v.provenance:
            echo(f"  {p}")
        others = [n for n in s.registry.variant_names(key[0]) if n != key[1]]
        if others:
            echo("other variants: " + ", ".join(others) + f"  (default: {s.graph.default_variant(key[0])})")
        r = s.graph.resolve(key)
        if r.parameters:
            echo("parameters:")
            for p in r.parameters:
                spec = s.registry.parameters[p][1]
                value = s.project.parameters.get(p, spec.default)
                echo(f"  {p} = {value!r}  ({spec.description}; default {spec.default!r})")
        echo("depends on:")
        for line in _tree(s, key):
            echo("  " + line)
        echo(f"sources: {', '.join(r.sources) or '—'}")
        lacks = s.missing_sources(key)
        if lacks:
            echo(f"unavailable here: needs {', '.join(lacks)}")
        for note in (m.cohort_note, *m.notes):
            if note:
                echo(f"note: {note}")
        if m.rejected:
            echo("rejected readings:")
            for n in m.rejected:
                echo(f"  - {n}")
        if not no_sql and lacks:
            echo("SQL: not shown, since this project cannot compute it (map the missing sources first)")
        elif not no_sql:
            req = s.request([key], grain=grain)
            plan = s.plan(req)
            _, sql = s.compile(plan)
            echo(f"SQL ({s.project.adapter['name']}):")
            echo(sql)


def _side_by_side(result: Result, keys: list, units: dict) -> Result:
    """The long result of one metric's variants as one row per period (and group), one column
    per variant."""
    dims = list(result.columns[4:-1])
    table: dict[tuple, dict[str, Any]] = {}
    for row in result.rows:
        table.setdefault((row[2], row[3], *row[4:-1]), {})[row[1]] = row[-1]
    names = [k[1] for k in keys]
    order = sorted(table, key=lambda group: tuple((v is None, "" if v is None else v) for v in group))
    rows = tuple((*group, *[table[group].get(n) for n in names]) for group in order)
    return Result(columns=("period_start", "period_end", *dims, *names), rows=rows,
                  units={k: units[k] for k in keys}, grain=result.grain, fingerprints=result.fingerprints,
                  value_columns={k[1]: units[k] for k in keys})


@cli.command()
@click.argument("metric")
@click.option("--grain", default="month", show_default=True, metavar="|".join(GRAINS) + "|NAME",
              help="A period length, or a grain of the project's calendar source (docs/calendars.md).")
@click.option("--start", metavar="YYYY-MM-DD")
@click.option("--end", metavar="YYYY-MM-DD")
@click.option("--by", multiple=True, metavar="DIMENSION", help="Split by a customers column (repeat).")
@window_option
@click.option("--format", "fmt", default="table", show_default=True, help="table, csv, json, jsonl or parquet.")
@click.option("--output", "-o", metavar="PATH", help="Write here instead of stdout ('-' = stdout; parquet needs a PATH).")
@click.option("--param", "params", multiple=True, metavar="NAME=VALUE")
@common
def compare(project_dir, metric, grain, start, end, by, window, fmt, output, params):
    """Every variant of one metric side by side over the periods, with the difference explained.

    The table (the default format) is formatted as compute's and followed by why the variants
    differ; csv, json, jsonl and parquet hold the raw numbers, one column per variant."""
    from .compute import Output
    from .compute import _writer as writer_for

    with open_session(project_dir) as s:
        name = s.graph.parse_key(metric)[0]
        keys = [(name, v) for v in s.registry.variant_names(name)]
        available = [k for k in keys if not s.missing_sources(k)]
        for k in keys:
            if k not in available:
                click.echo(f"unavailable: {k[0]}:{k[1]} (needs {', '.join(s.missing_sources(k))})", err=True)
        if not available:
            raise UsageError(f"no variant of {name} can be computed with this project's sources")
        if by:
            for k in [k for k in available if s.graph.unsplittable_sources(k)]:
                click.echo(f"warning: {k[0]}:{k[1]} is left out: its sources have no customer, so --by cannot "
                           "split it", err=True)
                available.remove(k)
            if not available:
                raise UsageError(f"no variant of {name} can be split by --by (their sources have no customer)",
                                 hint="Compare it without --by.")
        if window:
            from csframe.core.windows import unwindowed_steps

            for k in [k for k in available if unwindowed_steps(s.registry, s.graph.resolve(k).nodes)]:
                click.echo(f"warning: {k[0]}:{k[1]} is left out: it is not defined on trailing windows (--window)",
                           err=True)
                available.remove(k)
            if not available:
                raise UsageError(f"no variant of {name} is defined on trailing windows (--window)",
                                 hint="Compare it without --window.")
        writer = writer_for(s, fmt, output)  # a bad format or --output fails before anything is computed
        sink = Output(writer, output).open()
        try:
            req = s.request(available, grain=grain, start=start, end=end, by=by, window=window)
            result = s.run(s.plan(req, parse_params(params)))
            sink.write(_side_by_side(result, available, {k: s.registry.unit(*k) for k in available}))
        finally:
            sink.discard()
        if fmt != "table":
            return
        click.echo("")
        click.echo("why they differ:")
        from csframe.core.variant_readings import readings

        for r in readings(s.registry, available):
            click.echo(f"  {r.key[1]} ({r.provenance}): {r.text}")
            click.echo(f"      formula: {r.formula}")


@cli.command()
@click.argument("metric")
@click.option("--dialect", default=None, help="A registered adapter, or a SQL-only dialect (printed, never run: "
                   "docs/sql-only-dialects.md); default: the project's engine.")
@click.option("--grain", default="month", show_default=True, metavar="|".join(GRAINS) + "|NAME",
              help="A period length, or a grain of the project's calendar source (docs/calendars.md).")
@click.option("--start", metavar="YYYY-MM-DD")
@click.option("--end", metavar="YYYY-MM-DD")
@click.option("--by", multiple=True, metavar="DIMENSION")
@window_option
@click.option("--param", "params", multiple=True, metavar="NAME=VALUE")
@common
def sql(project_dir, metric, dialect, grain, start, end, by, window, params):
    """The compiled SQL of METRIC[:VARIANT] for an engine, without running it."""
    with open_session(project_dir) as s:
        key = s.graph.parse_key(metric)
        req = s.request([key], grain=grain, start=start, end=end, by=by, window=window)
        plan = s.plan(req, parse_params(params))
        _, text = s.compile(plan, dialect)
        click.echo(text)


def _edges(s, keys) -> list[tuple[str, str]]:
    """The graph's edges, from a variant or node to what it reads, sorted."""
    edges: set[tuple[str, str]] = set()
    for key in keys:
        for k in s.graph.resolve(key).variants:
            a = f"{k[0]}:{k[1]}"
            for ref in s.graph.refs(k):
                edges.add((a, f"{ref[0]}:{ref[1]}"))
            for m in s.registry.variants[k].parsed.measures:
                if m in s.registry.measures:
                    edges.add((a, f"node {s.registry.measures[m][0]}"))
        for n in s.graph.resolve(key).nodes:
            for dep in s.registry.nodes[n].parsed.nodes:
                edges.add((f"node {n}", f"node {dep}"))
            for src in s.registry.nodes[n].parsed.sources:
                edges.add((f"node {n}", f"source {src}"))
    return sorted(edges)


def _dot(s, keys) -> list[str]:
    lines = ["digraph csframe {", "  rankdir=LR;", '  node [shape=box, fontname="Helvetica"];']
    for a, b in _edges(s, keys):
        lines.append(f'  "{a}" -> "{b}";')
    lines.append("}")
    return lines


def _echo_to_pipe(text: str) -> None:
    """Write ``text`` to stdout; when the reader has gone (``| dot`` where graphviz is not
    installed), say so instead of failing silently."""
    try:
        click.echo(text)
        sys.stdout.flush()
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # nothing more to write there, not even at exit
        raise CsframeError("the program reading the graph stopped before the end (broken pipe)",
                           hint="Is it installed (graphviz's `dot`)? Without graphviz: "
                                "csframe graph --format png --output FILE (pip install 'csframe[graph]').") from None


@cli.command()
@click.argument("metric", required=False)
@click.option("--format", "fmt", type=click.Choice(["text", "dot", *IMAGE_FORMATS]), default="text", show_default=True,
              help="png and svg are drawn by csframe itself (no graphviz needed; the `graph` extra) into --output.")
@click.option("-o", "--output", metavar="FILE", type=click.Path(dir_okay=False),
              help="Where to write a png or svg image (text and dot go to stdout).")
@common
def graph(project_dir, metric, fmt, output):
    """The dependency graph of one metric or of all, as text, DOT (pipe it to `dot -Tpng`), or a png/svg image."""
    if fmt in IMAGE_FORMATS and output in (None, "-"):
        example = " ".join(["csframe graph", *([metric] if metric else []), f"--format {fmt} --output graph.{fmt}"])
        raise UsageError(f"--format {fmt} writes an image file: give --output FILE", hint=f"e.g. {example}")
    if fmt not in IMAGE_FORMATS and output is not None:
        raise UsageError(f"--output is for --format png or svg; --format {fmt} writes to stdout",
                         hint=f"Redirect it: csframe graph ... --format {fmt} > FILE")
    if output is not None and not Path(output).resolve().parent.is_dir():
        raise UsageError(f"--output {output}: directory {Path(output).resolve().parent} does not exist",
                         hint="Create it first.")
    with open_session(project_dir) as s:
        if metric:
            keys = [s.graph.parse_key(metric)]
        else:
            keys = [(rv.metric, rv.variant.name) for rv in s.registry.all_variants()]
        if fmt in IMAGE_FORMATS:
            variants = [f"{k[0]}:{k[1]}" for key in keys for k in s.graph.resolve(key).variants]
            write_image(variants, _edges(s, keys), fmt, output)
            click.echo(f"wrote {output}", err=True)
            return
        if fmt == "dot":
            _echo_to_pipe("\n".join(_dot(s, keys)))
            return
        lines = []
        for key in keys:
            r = s.graph.resolve(key)
            lines += _tree(s, key)
            lines.append(f"  nodes: {' → '.join(r.nodes) or '—'}")
            lines.append(f"  sources: {', '.join(r.sources) or '—'}")
        _echo_to_pipe("\n".join(lines))


@cli.command()
@common
def plugins(project_dir):
    """The plugins loaded, where from, and what each registers."""
    from csframe.core.project import Project
    from csframe.core.session import Session

    try:
        session = open_session(project_dir)
    except UsageError:
        if project_dir is not None:
            raise
        session = Session.open(project=Project(dir=Path.cwd()))
    with session as s:
        reg = s.registry
        for name in s.plugins.names():
            metrics = [m for m, p in reg.metric_plugin.items() if p == name]
            variants = [f"{k[0]}:{k[1]}" for k, rv in reg.variants.items() if rv.plugin == name and k[0] not in metrics]
            nodes = [n for n, rn in reg.nodes.items() if rn.plugin == name]
            adapters = [a for a, (p, _) in reg.adapters.items() if p == name]
            formats = [f for f, (p, _) in reg.output_formats.items() if p == name]
            click.echo(f"{name}  ({s.plugins.origins.get(name, 'registered')})")
            for label, items in (("metrics", metrics), ("variants", variants), ("nodes", nodes),
                                 ("adapters", adapters), ("output formats", formats)):
                if items:
                    click.echo(f"  {label}: {', '.join(items)}")
