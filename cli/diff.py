"""``csframe diff --against TABLE|git:REF``: the metric variants whose definition changed."""

from __future__ import annotations

import json

import click

from .app import cli, common, open_session, parse_params


def _say_retry(attempt: int, wait: float, error, retries: int) -> None:
    click.echo(f"csframe: connect failed: {error.message}; retry {attempt}/{retries} in {wait:.2f} s", err=True)


@cli.command()
@click.option("--against", "reference", required=True, metavar="TABLE|git:REF",
              help="A table `compute --target` wrote, or git:REF for the project at a git commit.")
@click.option("--param", "params", multiple=True, metavar="NAME=VALUE",
              help="A parameter as the runs that wrote the table set it (repeat).")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.option("--timeout", type=float, metavar="SECONDS",
              help="--against TABLE: stop connecting and reading after this long (exit 1).")
@click.option("--retries", type=click.IntRange(min=0), default=3, show_default=True, metavar="N",
              help="--against TABLE: tries again after a transient connection failure, with backoff.")
@common
def diff(project_dir, reference, params, fmt, timeout, retries):
    """The metric variants whose fingerprint differs from a target table's or a git commit's."""
    from csframe.core.diffing import against_git, against_table, check_ref, definitions_project
    from csframe.core.session import Session

    values = parse_params(params)
    if reference.startswith("git:"):
        ref = check_ref(reference[4:])
        # a commit's definitions need no engine: the adapter's settings (secrets) are not read
        with Session.open(project=definitions_project(project_dir)) as s:
            changes = against_git(s, ref, values)
    else:
        with open_session(project_dir) as s:
            changes = against_table(s, reference, values, retries=retries, timeout=timeout,
                                    on_retry=lambda n, wait, e: _say_retry(n, wait, e, retries))
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
