"""``csframe check``: plugins, definitions (and their SQL, run on empty sources), the project
file and the data contract; with ``--examples``, the worked examples declared on the variants.

The worked examples run on the project's engine (the ``[adapter]`` of csframe.toml; DuckDB in
memory when it has none). Without a csframe.toml in the current directory, ``--examples`` still
runs: on DuckDB in memory, over the installed plugins, so a plugin author can check a package."""

from __future__ import annotations

from pathlib import Path

import click

from csframe.core.contract import SOURCES
from csframe.core.errors import DataContractError, DefinitionError, MetricFailedError
from csframe.core.graph import CYCLE_HINT, cycles
from csframe.core.project import PROJECT_FILE
from .app import cli, common, open_session


def _open(project_dir, examples: bool):
    from csframe.core.project import Project
    from csframe.core.session import Session

    if examples and project_dir is None and not (Path.cwd() / PROJECT_FILE).is_file():
        s = Session.open(project=Project(dir=Path.cwd()))  # the default adapter, its default settings
        click.echo(f"project: no {PROJECT_FILE} in {Path.cwd()}; checking the installed plugins on "
                   f"{s.project.adapter['name']} with its default settings")
        return s
    return open_session(project_dir)


def _node_sql(s) -> None:
    from csframe.core.verify import check_node_sql

    engine = s.registry.default_adapter  # with no settings: embedded, in memory
    if engine is None:
        click.echo("node SQL: not run (no installed plugin names a default adapter)")
        return
    nodes, problems = check_node_sql(s.registry, s.graph, dict(s.project.parameters), s.project.dir, engine)
    if problems:
        raise DefinitionError(f"{len(problems)} node(s) whose SQL fails:\n  " + "\n  ".join(problems),
                              hint="Fix the node's SQL in its plugin (or disable the plugin under [plugins] disable).")
    click.echo(f"node SQL: {nodes} nodes run on empty sources in {engine} — ok")


def _examples(s) -> list:
    """Run every declared worked example on the project's engine; print one line each."""
    from csframe.core.render import dialect_profile
    from csframe.core.verify import run_examples

    adapter = s.adapter()
    adapter.connect()
    profile = dialect_profile(s.registry, s.project.adapter["name"])
    outcomes = run_examples(s.registry, s.graph, adapter.execute, profile)
    click.echo(f"worked examples (on {adapter.describe()}):")
    for o in outcomes:
        click.echo(f"  {'ok  ' if o.passed else 'FAIL'}  {o.describe()}")
    failed = [o for o in outcomes if not o.passed]
    click.echo(f"worked examples: {len(outcomes) - len(failed)} passed, {len(failed)} failed")
    return failed


@cli.command()
@click.option("--lenient", is_flag=True, help="Report data problems as warnings (exit 0).")
@click.option("--examples", is_flag=True,
              help="Also evaluate every worked example declared on a registered variant, on the project's engine "
                   "(the default adapter when there is no csframe.toml here), and print pass/fail for each.")
@common
def check(project_dir, lenient, examples):
    """Validate plugins, definitions (every node's SQL is run on empty sources in DuckDB), the project file
    and the configured sources against the data contract."""
    with _open(project_dir, examples) as s:  # plugins, definitions, project file and [variants] are checked here
        click.echo(f"plugins: {len(s.plugins.names())} loaded; definitions: {len(s.registry.metrics)} metrics, "
                   f"{len(s.registry.variants)} variants — ok")
        values = s.parameter_values()  # [parameters]: known names, valid values
        click.echo(f"parameters: {len(values)} set in {PROJECT_FILE} — ok" if values else "parameters: none set")
        loops = cycles(s.registry)
        if loops:
            raise DefinitionError("cycles in the definitions:\n  " + "\n  ".join(loops), hint=CYCLE_HINT)
        _node_sql(s)
        failed = _examples(s) if examples else []
        _sources(s, lenient)
        if failed:
            raise MetricFailedError(f"{len(failed)} worked example(s) failed:\n  " + "\n  ".join(o.describe() for o in failed),
                                    hint="Fix the variant's formula, or the example's inputs or expected value.")


def _sources(s, lenient: bool) -> None:
    """The configured sources against the data contract."""
    from csframe.core.session import mapping_error

    names = [src.name for src in SOURCES if src.name in s.project.sources]
    calendar = "calendar" in s.project.sources
    if not names and not calendar:
        click.echo("sources: none configured")
        return
    structural, absent = s.inspect_sources(names)
    readable = [n for n in names if n in absent]
    checked = s.check_data(readable, s.parameter_values(), absent)
    problems = [p for p in checked if p.severity == "error"]
    empty = {p.source for p in checked if p.severity == "warning"}
    if calendar:
        names.append("calendar")
        bad, grains = _calendar(s)
        structural += [p for p in bad if p.key]
        problems += [p for p in bad if not p.key]
        if not grains and not bad:
            empty.add("calendar")
    for n in names:
        mine = [p for p in structural + problems if p.source == n]
        status = f"{len(mine)} problem(s)" if mine else "ok (no rows)" if n in empty else "ok"
        click.echo(f"source {n}: {status}")
    for p in checked:
        if p.severity == "warning":
            click.echo(f"warning: {p}", err=True)
    if structural:  # a mistake of the project file (exit 2), whatever the data of the other sources
        error = mapping_error(structural)
        if problems:
            error.message += "\nand the data of the other sources breaks the contract:\n  " + "\n  ".join(map(str, problems))
        raise error
    if not problems:
        click.echo("data contract: ok")
        return
    if lenient:
        for p in problems:
            # a calendar's periods are not left out: a run at a grain that does not tile time stops
            said = ("a run at this grain stops even with --lenient" if p.source == "calendar"
                    else "--lenient leaves these rows out")
            click.echo(f"warning: {p} — {said}", err=True)
        return
    raise DataContractError(f"{len(problems)} data contract problem(s):\n  " + "\n  ".join(map(str, problems)),
                            problems=tuple(problems),
                            hint="Fix the rows or the [sources] mapping; --lenient leaves bad rows out.")


def _calendar(s) -> tuple[list, dict]:
    """The custom calendar source checked by the rules compute applies to the grain it runs at
    (custom_calendar.grain_problems), for every grain: problems (a source it cannot read is a
    mistake of the project file, with its csframe.toml key) and the grains read."""
    from csframe.core.contract_checks import Problem
    from csframe.core.custom_calendar import grain_problems, read_calendar

    try:
        grains = read_calendar(s)
    except MetricFailedError as e:
        b = s.project.sources["calendar"]
        return [Problem("calendar", "", f"cannot read {'table ' + b.table if b.table else 'its SQL'} as the calendar "
                        f"source (grain, period_start, period_end): {e.message.splitlines()[0]}",
                        key=f"sources.calendar.{'table' if b.table else 'sql'}")], {}
    out = []
    for name in sorted(grains, key=lambda g: (g is None, str(g))):
        for text in grain_problems(name, grains[name]):
            out.append(Problem("calendar", "", text.removeprefix("calendar: ")))
    return out, grains
