"""SQL snapshots: what ``csframe sql METRIC:VARIANT --dialect D --start 2024-01-01 --end 2024-07-01``
prints for every metric and variant of the built-in catalog, in each engine's dialect and in each
SQL-only one (adapters/sql_only.py), so that a change to the generated SQL shows in a diff.

The files are ``tests/snapshots/<dialect>/<metric>__<variant>.sql``. They are made with the same
logic as ``csframe sql`` (``Session.compile``) on a project built in code: every canonical source
mapped to a table named like the source, adapter duckdb, month grain, default parameters, and
``entry_points=False`` so that third-party plugins installed on the machine cannot leak in.

Regenerate them (and delete the ones of metrics that are gone) with one command, from the repo root::

    python -m tests.snapshots.update
    # or: CSFRAME_UPDATE_SNAPSHOTS=1 pytest tests/test_sql_snapshots.py

Never under ``CI=true``: there the snapshots are what the generated SQL is checked against, and a
run that rewrote them would pass whatever the SQL became (:class:`RefusedInCI`).
"""

from __future__ import annotations

__all__ = ["DIALECTS", "GRAIN", "START", "END", "SNAPSHOTS", "UPDATE_ENV", "UPDATE_COMMAND", "RefusedInCI",
           "refuse_in_ci", "render_all", "stored", "write", "main"]

import os
import sys
from pathlib import Path

DIALECTS = ("duckdb", "postgres", "bigquery", "snowflake", "trino", "redshift")  # the last three SQL-only
GRAIN, START, END = "month", "2024-01-01", "2024-07-01"
SNAPSHOTS = Path(__file__).resolve().parent
UPDATE_ENV = "CSFRAME_UPDATE_SNAPSHOTS"
UPDATE_COMMAND = "python -m tests.snapshots.update"


class RefusedInCI(RuntimeError):
    """The snapshots are not rewritten under CI=true."""


def refuse_in_ci() -> None:
    if os.environ.get("CI") == "true":
        raise RefusedInCI(f"CI=true: the SQL snapshots are not rewritten in CI, they are what the SQL is checked "
                          f"against. Run `{UPDATE_COMMAND}` on your machine and commit the files.")


def _session():
    from csframe.core.contract import SOURCES
    from csframe.core.project import Project, SourceBinding
    from csframe.core.session import Session

    project = Project(dir=SNAPSHOTS, adapter={"name": "duckdb", "database": ":memory:"},
                      sources={s.name: SourceBinding(s.name, table=s.name) for s in SOURCES})
    return Session.open(project=project, entry_points=False)


def file_name(metric: str, variant: str) -> str:
    return f"{metric}__{variant}.sql"


def _keys() -> list[tuple[str, str]]:
    with _session() as s:
        return [(rv.metric, rv.variant.name) for rv in s.registry.all_variants()]


def _render_keys(keys: list[tuple[str, str]]) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {d: {} for d in DIALECTS}
    with _session() as s:
        for key in keys:
            plan = s.plan(s.request([key], grain=GRAIN, start=START, end=END, by=s.graph.needs_by(key)))
            for dialect in DIALECTS:
                _, sql = s.compile(plan, dialect)
                out[dialect][file_name(*key)] = sql + "\n"
    return out


def render_all(workers: int | None = None) -> dict[str, dict[str, str]]:
    """{dialect: {file name: SQL exactly as `csframe sql` prints it (with its final newline)}}.

    Rendering is the slow part (sqlglot copies and generates every tree), so the keys are
    split over a few forked processes when the machine has the cores."""
    import multiprocessing
    import os

    keys = _keys()
    if workers is None:
        workers = min(4, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)
    chunks = [keys[i::workers] for i in range(workers)] if workers > 1 else [keys]
    if len(chunks) == 1 or "fork" not in multiprocessing.get_all_start_methods():
        parts = [_render_keys(keys)]
    else:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(len(chunks), mp_context=multiprocessing.get_context("fork")) as pool:
            parts = list(pool.map(_render_keys, chunks))
    out: dict[str, dict[str, str]] = {d: {} for d in DIALECTS}
    for part in parts:
        for dialect, files in part.items():
            out[dialect].update(files)
    return {d: dict(sorted(files.items())) for d, files in out.items()}


def stored(dialect: str) -> dict[str, str]:
    folder = SNAPSHOTS / dialect
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(folder.glob("*.sql"))} if folder.is_dir() else {}


def write(rendered: dict[str, dict[str, str]]) -> list[str]:
    """Write every snapshot that changed and delete stale ones; return what changed. Refused under CI=true."""
    refuse_in_ci()
    changed = []
    for dialect, files in rendered.items():
        folder = SNAPSHOTS / dialect
        folder.mkdir(exist_ok=True)
        old = stored(dialect)
        for name, text in files.items():
            if old.get(name) != text:
                (folder / name).write_text(text, encoding="utf-8")
                changed.append(f"{'updated' if name in old else 'added'} {dialect}/{name}")
        for name in sorted(set(old) - set(files)):
            (folder / name).unlink()
            changed.append(f"deleted {dialect}/{name}")
    return changed


def main() -> int:
    try:
        refuse_in_ci()
    except RefusedInCI as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    changed = write(render_all())
    for line in changed:
        print(line)
    print(f"{len(changed)} snapshot file(s) changed" if changed else "snapshots are up to date")
    return 0


if __name__ == "__main__":
    root = str(SNAPSHOTS.parents[1])
    if root not in sys.path:
        sys.path.insert(0, root)
    sys.exit(main())
