"""``csframe diff --against TABLE|git:REF``: the metric variants whose definition changed."""

from __future__ import annotations

import json

import click

from .app import cli, common, open_session, parse_params


@cli.command()
@click.option("--against", "reference", required=True, metavar="TABLE|git:REF",
              help="A table `compute --target` wrote, or git:REF for the project at a git commit.")
@click.option("--param", "params", multiple=True, metavar="NAME=VALUE",
              help="A parameter as the runs that wrote the table set it (repeat).")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@common
def diff(project_dir, reference, params, fmt):
    """The metric variants whose fingerprint differs from a target table's or a git commit's."""
    from ..diffing import against_git, against_table

    with open_session(project_dir) as s:
        if reference.startswith("git:"):
            changes = against_git(s, reference[4:], parse_params(params))
        else:
            changes = against_table(s, reference, parse_params(params))
    if fmt == "json":
        click.echo(json.dumps([{"metric": c.metric, "variant": c.variant, "status": c.status, "reference": c.reference,
                                "current": c.current, "detail": c.detail} for c in changes], indent=1))
        return
    if not changes:
        click.echo(f"no metric's fingerprint differs from {reference}")
        return
    rows = [("metric", "variant", "status", "reference", "current", "detail")]
    rows += [(c.metric, c.variant, c.status, c.reference or "-", c.current or "-", c.detail) for c in changes]
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        click.echo("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())
