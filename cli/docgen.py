"""Docs generated from the code: the metric reference, the canonical sources, the hook
reference and the CLI help. ``python -m csframe.cli.docgen DIR`` writes them; a test fails when the files
in ``docs/`` are stale."""

from __future__ import annotations

__all__ = ["metric_reference", "sources_reference", "hook_reference", "cli_reference", "vendors_reference", "write_all",
           "PAGES"]

import inspect
import sys
from pathlib import Path

from csframe.core import hookspecs
from csframe.core.left_out import describe
from csframe.core.models import UNIT_MEANINGS


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _registry():
    from csframe.core.plugin_manager import load_plugins
    from csframe.core.registry import build_registry

    return build_registry(load_plugins(entry_points=False))


def metric_reference() -> str:
    """docs/metrics.md: every built-in metric and variant, from the definitions."""
    reg = _registry()
    out = ["# Metric reference", "",
           "Generated from the definitions by `python -m csframe.cli.docgen docs`; do not edit by hand.", "",
           "Units (what each number is; `compute`'s table formats by it, csv/json/jsonl/parquet hold the raw "
           "number, and `--with-units` adds a `unit` column):", ""]
    out += [f"- **{unit}** — {meaning}" for unit, meaning in UNIT_MEANINGS.items()] + [""]
    families: dict[str, list[str]] = {}
    for name, m in reg.metrics.items():
        families.setdefault(m.family, []).append(name)
    for family, names in families.items():
        out += [f"## {family}", ""]
        for name in names:
            m = reg.metrics[name]
            aliases = f" Also called: {', '.join(f'`{a}`' for a in m.aliases)}." if m.aliases else ""
            out += [f"### `{name}`", "", f"{m.description}. Unit: **{m.unit}**. Default variant: "
                    f"`{reg.default_variant(name)}`. Plugin: `{reg.metric_plugin[name]}`.{aliases}", ""]
            if m.parameters:
                out.append("Parameters: " + "; ".join(f"`{p.name}` (default `{p.default!r}`): {p.description}"
                                                      for p in m.parameters) + ".")
                out.append("")
            if m.cohort_note:
                out += [f"Note: {m.cohort_note}", ""]
            out += ["| variant | unit | formula | reading | provenance |", "|---|---|---|---|---|"]
            for v in reg.variant_names(name):
                rv = reg.variants[(name, v)]
                out.append(f"| `{v}` | {reg.unit(name, v)} | `{rv.variant.formula}` | "
                           f"{_cell(rv.variant.description)} | {', '.join(rv.variant.provenance)} |")
            left = {reg.variants[(name, v)].variant.left_out for v in reg.variant_names(name)} - {None}
            for lo in left:
                defaults = {p.name: p.default for p in m.parameters}
                out += ["", f"Left out, and counted on stderr by `compute`: {describe(lo.what, defaults)} "
                            f"(`{lo.count}` per period; with the parameters' defaults)."]
            examples = [(v, ex) for v in reg.variant_names(name) for ex in reg.variants[(name, v)].variant.examples]
            if examples:
                out += ["", "Worked examples:", ""]
                for v, ex in examples:
                    expected = "NULL" if ex.expected is None else f"{ex.expected:g}"
                    out.append(f"- `{name}:{v}` — {ex.text} → {expected} ({ex.source})")
            if m.notes:
                out += ["", "Notes:", ""] + [f"- {n}" for n in m.notes]
            if m.rejected:
                out += ["", "Readings the catalog rejects:", ""] + [f"- {n}" for n in m.rejected]
            out.append("")
    out += ["## Measures", "", "The per-period columns the formulas read, and the SQL step (node) that provides each.", "",
            "| measure | node | meaning |", "|---|---|---|"]
    for name, (node, measure) in reg.measures.items():
        out.append(f"| `{name}` | `{node}` | {_cell(measure.description)} |")
    out.append("| `grain_months` | (grid) | the grain's length in months |")
    return "\n".join(out) + "\n"


def hook_reference() -> str:
    """docs/hooks.md: every hook, from the hookspec docstrings."""
    out = ["# Hook reference", "", "Generated from `core/hookspecs.py` by `python -m csframe.cli.docgen docs`.", "",
           inspect.getdoc(hookspecs) or "", ""]
    for name, fn in inspect.getmembers(hookspecs.CsframeSpec, inspect.isfunction):
        if not name.startswith("csframe_"):
            continue
        sig = str(inspect.signature(fn)).replace("(self, ", "(").replace("(self)", "()")
        opts = getattr(fn, "csframe_spec", {}) or {}
        flags = [k for k in ("firstresult", "historic") if opts.get(k)]
        out += [f"## `{name}{sig}`", ""]
        if flags:
            out += [f"*{', '.join(flags)}*", ""]
        out += [inspect.getdoc(fn) or "UNDOCUMENTED", ""]
    return "\n".join(out)


def sources_reference() -> str:
    """docs/sources.md: the canonical sources of the data contract, their columns and checks."""
    from csframe.core.contract import SOURCES
    from csframe.core.contract_checks import rules_for

    out = ["# The canonical sources", "",
           "Generated from `csframe.core.contract` by `python -m csframe.cli.docgen docs`; do not edit by hand.", "",
           "Every metric reads these sources. Map each to a table or a query of yours under `[sources.<name>]` in",
           "`csframe.toml` (`table = \"schema.table\"` or `sql = \"SELECT …\"`, and `columns = { canonical = \"yours\" }`",
           "for columns named otherwise); a node's SQL reads them as `src_<name>`. Timestamps without a time zone",
           "are UTC; a DATE is midnight UTC of its day. Any extra column of `customers` is a dimension `--by` can",
           "group on. Before computing, csframe checks the sources a run reads against the rules listed under each",
           "(`--lenient` leaves the offending rows out and says how many). A column whose NULL is not allowed",
           "below is NOT NULL: a NULL in it is bad data. A source with no rows is not an error: the run says so on",
           "stderr (a warning). A configured table or column that does not exist is a mistake of `csframe.toml`",
           "(exit 2, naming its key, e.g. `sources.subscriptions.columns.mrr`). A column of another type than the one",
           "listed is converted: text timestamps honour their UTC offset (none: UTC), a time-zoned timestamp is its",
           "UTC instant; a value that does not convert (text in a number, NaN or ±infinity in an amount, a number",
           "where a timestamp belongs) breaks the rule \"does not convert\" of its column.", ""]
    for src in SOURCES:
        key = ", ".join(f"`{k}`" for k in src.key) or "none"
        customer = f"`{src.customer_column}`" if src.customer_column else "none (`--by` cannot split it)"
        out += [f"## `{src.name}`", "", f"One row: {src.description}. Key: {key}. Customer: {customer}.", "",
                "| column | type | column | NULL | what it holds |", "|---|---|---|---|---|"]
        for c in src.columns:
            present = f"optional (absent: {c.default})" if c.optional else "required"
            out.append(f"| `{c.name}` | {c.type} | {present} | {'allowed' if c.nullable else 'no'} | {_cell(c.note)} |")
        rules = rules_for(src)
        if rules:
            out += ["", "Checks (bad data, exit 1):", ""] + [f"- `{r.name}`: {r.message}" for r in rules]
        out.append("")
    return "\n".join(out)


def cli_reference() -> str:
    """docs/cli-reference.md: the --help of every command."""
    import click

    from .app import _load_commands, cli

    _load_commands()
    out = ["# CLI reference", "", "Generated from the commands' `--help` by `python -m csframe.cli.docgen docs`.", ""]
    # the group's own context settings (-h beside --help), as `csframe` itself runs with
    settings = {**cli.context_settings, "terminal_width": 100, "max_content_width": 100}
    ctx = click.Context(cli, info_name="csframe", **settings)
    out += ["## `csframe`", "", "```", cli.get_help(ctx), "```", ""]
    for name in sorted(cli.commands):
        cmd = cli.commands[name]
        sub = click.Context(cmd, info_name=name, parent=ctx, **settings)
        out += [f"## `csframe {name}`", "", "```", cmd.get_help(sub), "```", ""]
    return "\n".join(out)


def vendors_reference() -> str:
    """docs/vendors.md: each vendor figure a variant reproduces (``Variant.figures``), with the
    compute options that give it and the variant's worked examples (tested in tests/kit)."""
    reg = _registry()
    rows: list[tuple[str, str, str, str, str, str]] = []
    for rv in reg.all_variants():
        v = rv.variant
        examples = "; ".join(f"{ex.text} → {'NULL' if ex.expected is None else format(ex.expected, '.6g')}"
                             + (f" ({ex.source})" if ex.source != "industry" else "") for ex in v.examples) or "—"
        for f in v.figures:
            options = f"`{f.options}`" if f.options else "any grain"
            rows.append((f.vendor, f.name, f"`{rv.metric}:{v.name}`", options, _cell(f.note or v.description),
                         _cell(examples)))
    out = ["# Vendors' figures in csframe",
           "",
           "Generated from the definitions (`Variant.figures`) by `python -m csframe.cli.docgen docs`; do not edit "
           "by hand. Each row names the figure a vendor's product shows, the csframe metric and variant that "
           "reproduces it, and the `compute` options that give the same reading. The examples are the variant's "
           "worked examples (the vendor's own where it publishes one), run on every engine by the test kit; "
           "tests/engine/test_vendor_readings.py also computes each reading from rows on every engine. "
           "docs/choices.md says where a vendor's page and these readings needed a choice.",
           "",
           "| vendor | figure | metric:variant | options | reading | worked examples |",
           "|---|---|---|---|---|---|"]
    for row in sorted(rows, key=lambda r: (r[0], r[1])):
        out.append("| " + " | ".join(row) + " |")
    return "\n".join(out) + "\n"


PAGES = {"metrics.md": metric_reference, "sources.md": sources_reference, "hooks.md": hook_reference,
         "cli-reference.md": cli_reference, "vendors.md": vendors_reference}


def write_all(directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, build in PAGES.items():
        path = directory / name
        path.write_text(build(), encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":
    for p in write_all(Path(sys.argv[1] if len(sys.argv) > 1 else "docs")):
        print(f"wrote {p}")
