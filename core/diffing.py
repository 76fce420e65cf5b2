"""``csframe diff``: which metric variants' fingerprints differ from a reference.

Two references:

* a **target table** that ``compute --target`` wrote: per metric variant, the fingerprint of
  its latest rows (and how many of its rows carry another one) against the fingerprint the
  current definitions give under the project's parameters;
* **``git:REF``**: the project directory as it is at a git commit (its ``csframe.toml``, its
  ``[variants]`` and ``[parameters]``, its local plugin modules), extracted with
  ``git archive`` into a temporary directory and loaded with the csframe installed now —
  so it shows what the *project's* changes do; a change in csframe's own built-in
  definitions between versions shows against a target table (``csframe_version`` is stored
  beside every row).
"""

from __future__ import annotations

__all__ = ["Change", "against_table", "against_git", "compare"]

import io
import subprocess
import tarfile
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from .errors import MetricFailedError, UsageError
from .graph import Key
from .writeback import fingerprints_query, target_table


@attrs.frozen
class Change:
    """One metric variant whose fingerprint differs: ``status`` is ``changed``, ``added``
    (not in the reference) or ``removed`` (no longer defined)."""

    metric: str
    variant: str
    status: str
    reference: str | None
    current: str | None
    detail: str = ""


def compare(current: Mapping[Key, str], reference: Mapping[Key, str], details: Mapping[Key, str] | None = None,
            *, added: bool = True) -> list[Change]:
    details = details or {}
    out = []
    for key in sorted(set(current) | set(reference)):
        cur, ref = current.get(key), reference.get(key)
        if cur == ref:
            continue
        if ref is None and not added:
            continue
        status = "added" if ref is None else "removed" if cur is None else "changed"
        out.append(Change(key[0], key[1], status, ref, cur, details.get(key, "")))
    return out


def against_table(session: Any, table: str, params: Mapping[str, Any] | None = None) -> list[Change]:
    """Fingerprints stored in a target table against the current definitions."""
    from .render import dialect_profile, render

    tree = target_table(table, flag="--against")
    profile = dialect_profile(session.registry, session.project.adapter.get("name", "duckdb"))
    adapter = session.adapter()
    adapter.connect()
    try:
        rows = adapter.execute(render(fingerprints_query(tree), profile, pretty=False))
    except MetricFailedError as e:
        raise UsageError(f"--against {table}: cannot read it as a csframe result table ({e.message.splitlines()[0]})",
                         hint="Name a table that `csframe compute --target` wrote, or git:REF.") from None
    reference: dict[Key, str] = {}
    details: dict[Key, str] = {}
    for metric, variant, fp, computed_at, other, total in rows:
        reference[(metric, variant)] = fp
        details[(metric, variant)] = f"latest rows computed {computed_at}" + (
            f"; {other} of {total} rows carry another fingerprint" if other else "")
    known = [k for k in reference if k in session.registry.variants]
    current = session.fingerprints(known, params) if known else {}
    return compare(current, reference, details, added=False)


def _archive(project_dir: Path, ref: str, into: Path) -> Path:
    """Extract ``project_dir`` as it is at ``ref`` under ``into``; return its path there."""
    def git(*args: str) -> bytes:
        try:
            done = subprocess.run(["git", "-C", str(project_dir), *args], capture_output=True, check=True)
        except FileNotFoundError:
            raise UsageError("--against git:REF needs git, which is not installed") from None
        except subprocess.CalledProcessError as e:
            said = e.stderr.decode(errors="replace").strip().splitlines() or ["(no message)"]
            raise UsageError(f"--against git:{ref}: git {args[0]} failed: {said[-1]}",
                             hint="REF is a commit, branch or tag of the git repository holding the project.") from None
        return done.stdout

    root = Path(git("rev-parse", "--show-toplevel").decode().strip())
    rel = project_dir.resolve().relative_to(root.resolve())
    path = "." if str(rel) == "." else rel.as_posix()
    data = git("archive", "--format=tar", ref, "--", path)
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        try:
            tar.extractall(into, filter="data")
        except TypeError:  # Python < 3.11.4: no extraction filters (git archive writes no links out of the tree)
            tar.extractall(into)
    return into / rel


def against_git(session: Any, ref: str, params: Mapping[str, Any] | None = None) -> list[Change]:
    """The project's definitions at a git commit against the working tree's."""
    from .session import Session

    keys = [(rv.metric, rv.variant.name) for rv in session.registry.all_variants()]
    current = session.fingerprints(keys, params)
    with tempfile.TemporaryDirectory(prefix="csframe-diff-") as tmp:
        old_dir = _archive(session.project.dir, ref, Path(tmp))
        if not (old_dir / "csframe.toml").is_file():
            raise UsageError(f"--against git:{ref}: the project has no csframe.toml at that commit")
        with Session.open(old_dir) as old:
            old_keys = [(rv.metric, rv.variant.name) for rv in old.registry.all_variants()]
            reference = old.fingerprints(old_keys, params)
    return compare(current, reference)
