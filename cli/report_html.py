"""``csframe report -o report.html``: the CS metrics as one self-contained HTML page of
charts, each with its numbers and definitions; ``--images DIR`` also a PNG per chart.
(Not to be confused with report.py, the progress reporter on stderr.)"""

from __future__ import annotations

__all__ = ["report"]

import click

from csframe.core.errors import UsageError
from csframe.core.periods import GRAINS
from .app import cli, common, open_session, parse_params


@cli.command()
@click.option("--metric", "-m", "metrics", multiple=True, metavar="NAME[:VARIANT]",
              help="Show only these metrics (repeat); default: every metric of the report's sections.")
@click.option("--grain", type=click.Choice(GRAINS), default="month", show_default=True)
@click.option("--start", metavar="YYYY-MM-DD", help="First period (rounded down). Default: 12 periods before --end.")
@click.option("--end", metavar="YYYY-MM-DD", help="Periods start before this. Default: the current period's first day.")
@click.option("--by", multiple=True, metavar="DIMENSION", help="Split by a customers column (repeat).")
@click.option("--output", "-o", metavar="PATH", required=True, help="The HTML file to write (e.g. report.html).")
@click.option("--images", metavar="DIR", help="Also write a PNG of each chart into DIR (drawn by matplotlib).")
@click.option("--param", "params", multiple=True, metavar="NAME=VALUE", help="Set a metric parameter (repeat).")
@click.option("--timeout", type=float, metavar="SECONDS", help="Stop the run after this long (exit 1).")
@click.option("--quiet", "-q", is_flag=True, help="Nothing on stderr but errors.")
@common
def report(project_dir, metrics, grain, start, end, by, output, images, params, timeout, quiet):
    """An HTML report with charts: MRR bridge, customers, churn and retention, NRR/GRR, CS health, support.

    Computed in one run, as `compute` would compute the same metrics (the cohort triangle in a
    second, `--by cohort`); the page works offline (plotly.js is embedded: the `report` extra)."""
    from csframe.core.report_model import build_report, plan_report
    from csframe.core.report_page import plotly_js, write_page
    from .compute import Output

    plotly_js()  # a missing extra fails before anything is computed
    if images:
        from csframe.core.report_images import ready_directory

        ready_directory(images)  # matplotlib missing, or a directory csframe cannot write: before computing
    if output == "-":
        raise UsageError("--output -: the report is a file", hint="Name a file, e.g. -o report.html.")
    with open_session(project_dir) as session:
        plan = plan_report(session, metrics, by)
        if not plan.keys and not plan.cohort_keys:
            raise UsageError("the report has nothing to show: none of its metrics can be computed here"
                             + ("".join(f"\n  {n}" for n in plan.notes)),
                             hint="`csframe list` shows what this project can compute.")
        sink = Output(lambda rep, stream: write_page(rep, stream, _subtitle(session, rep)), output).open()
        try:
            cohorts = None
            if plan.cohort_keys:  # the cohort triangle: its own run, split --by cohort (and --by)
                cohorts = session.compute(plan.cohort_keys, grain=grain, start=start, end=end, by=("cohort", *by),
                                          params=parse_params(params), timeout=timeout)
            result = session.compute(plan.keys, grain=grain, start=start, end=end, by=by,
                                     params=parse_params(params), timeout=timeout) if plan.keys else cohorts
            rep = build_report(session, plan, result, by, cohorts)
            sink.write(rep)
        finally:
            sink.discard()
    if not quiet:
        for w in result.warnings:
            click.echo(w if w.startswith("warning") else f"warning: {w}", err=True)
        for note in rep.notes:
            click.echo(f"left out: {note}", err=True)
        n = sum(len(s.charts) for s in rep.sections)
        click.echo(f"csframe: wrote {output} ({n} chart{'s' if n != 1 else ''})", err=True)
    if images:
        from csframe.core.report_images import write_images

        written = write_images(rep, images)
        if not quiet:
            click.echo(f"csframe: wrote {len(written)} images into {images}", err=True)


def _subtitle(session, rep) -> str:
    if not rep.periods:
        return "no periods"
    first, last = rep.periods[0][0], rep.periods[-1][1]
    by = f", by {', '.join(rep.by)}" if rep.by else ""
    engine = session.project.adapter.get("name", "")
    runs = "two queries (cohorts --by cohort)" if any(s.id == "cohorts" for s in rep.sections) else "one query"
    return f"{len(rep.periods)} periods by {rep.grain} from {first} to {last}{by} · {engine} · computed in {runs}"
