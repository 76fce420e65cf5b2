"""``csframe check``: plugins, definitions, the project file and the data contract."""

from __future__ import annotations

import click

from ..contract import SOURCES
from ..errors import DataContractError
from ..graph import cycles
from .app import cli, common, open_session


@cli.command()
@click.option("--lenient", is_flag=True, help="Report data problems as warnings (exit 0).")
@common
def check(project_dir, lenient):
    """Validate plugins, definitions, the project file and the configured sources against the data contract."""
    with open_session(project_dir) as s:  # plugins, definitions, project file and [variants] are checked here
        click.echo(f"plugins: {len(s.plugins.names())} loaded; definitions: {len(s.registry.metrics)} metrics, "
                   f"{len(s.registry.variants)} variants — ok")
        loops = cycles(s.registry)
        if loops:
            from ..errors import DefinitionError

            raise DefinitionError("cycles in the definitions:\n  " + "\n  ".join(loops))
        names = [src.name for src in SOURCES if src.name in s.project.sources]
        if not names:
            click.echo("sources: none configured")
            return
        problems, absent = s.inspect_sources(names)
        readable = [n for n in names if n in absent]
        params = {}
        for p, (_, spec) in s.registry.parameters.items():
            params[p] = s.project.parameters.get(p, spec.default)
        problems += s.check_data(readable, params, absent)
        for n in names:
            mine = [p for p in problems if p.source == n]
            status = "ok" if not mine else f"{len(mine)} problem(s)"
            click.echo(f"source {n}: {status}")
        if not problems:
            click.echo("data contract: ok")
            return
        structural = [p for p in problems if not p.rows]
        if lenient and not structural:
            for p in problems:
                click.echo(f"warning: {p} — --lenient leaves these rows out", err=True)
            return
        raise DataContractError(f"{len(problems)} data contract problem(s):\n  " + "\n  ".join(map(str, problems)),
                                problems=tuple(problems),
                                hint="Fix the rows or the [sources] mapping; --lenient leaves bad rows out.")
