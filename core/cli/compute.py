"""``csframe compute``: metrics for a range of periods, as a long result table."""

from __future__ import annotations

import sys

import click

from ..errors import UsageError, did_you_mean
from ..periods import GRAINS
from .app import cli, common, open_session, parse_params


def write_result(session, result, fmt: str, output: str | None) -> None:
    formats = session.registry.output_formats
    if fmt not in formats:
        raise UsageError(f"unknown format {fmt!r}.{did_you_mean(fmt, formats)}", hint=f"Formats: {', '.join(formats)}.")
    writer = formats[fmt][1]
    if output in (None, "-"):
        writer(result, sys.stdout)
        return
    import os
    import tempfile

    directory = os.path.dirname(os.path.abspath(output))
    if not os.path.isdir(directory):
        raise UsageError(f"--output {output}: directory {directory} does not exist", hint="Create it first.")
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".csframe-", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            writer(result, f)
        os.replace(tmp, output)  # nothing is written half-way
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


@cli.command()
@click.option("--metric", "-m", "metrics", multiple=True, metavar="NAME[:VARIANT]", help="A metric to compute (repeat).")
@click.option("--all", "all_", is_flag=True, help="Every metric the project can compute.")
@click.option("--grain", type=click.Choice(GRAINS), default="month", show_default=True)
@click.option("--start", metavar="YYYY-MM-DD", help="First period (rounded down). Default: 12 periods before --end.")
@click.option("--end", metavar="YYYY-MM-DD", help="Periods start before this. Default: the current period's first day.")
@click.option("--by", multiple=True, metavar="DIMENSION", help="Split by a customers column (repeat).")
@click.option("--format", "fmt", default="table", show_default=True, help="table, csv, json or jsonl.")
@click.option("--output", "-o", metavar="PATH", help="Write here instead of stdout ('-' = stdout).")
@click.option("--target", metavar="TABLE", help="Also write the rows into this table through the adapter.")
@click.option("--lenient", is_flag=True, help="Leave out rows that break the data contract, with a warning.")
@click.option("--param", "params", multiple=True, metavar="NAME=VALUE", help="Set a metric parameter (repeat).")
@click.option("--quiet", "-q", is_flag=True, help="No warnings on stderr.")
@common
def compute(project_dir, metrics, all_, grain, start, end, by, fmt, output, target, lenient, params, quiet):
    """Compute metrics and write a long-format result table."""
    if target:
        raise UsageError("--target is not available in this version of csframe",
                         hint="Write a file with --output and load it, for now.")
    if bool(metrics) == bool(all_):
        raise UsageError("name metrics with --metric NAME[:VARIANT] or use --all (not both)")
    with open_session(project_dir) as session:
        if all_:
            keys, missing = session.all_keys()
            if by:
                dropped = [k for k in keys if session.graph.unsplittable_sources(k)]
                for k in dropped:
                    if not quiet:
                        click.echo(f"warning: {k[0]} is left out: its sources have no customer, so --by cannot split it", err=True)
                keys = [k for k in keys if k not in dropped]
            if not quiet:
                for k, lacks in missing.items():
                    click.echo(f"unavailable: {k[0]} (needs {', '.join(lacks)})", err=True)
        else:
            keys = session.keys(metrics)
        request = session.request(keys, grain=grain, start=start, end=end, by=by, lenient=lenient)
        plan = session.plan(request, parse_params(params))
        result = session.run(plan)
        if not quiet:
            for w in result.warnings:
                click.echo(w, err=True)
        write_result(session, result, fmt, output)
