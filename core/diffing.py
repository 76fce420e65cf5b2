"""``csframe diff``: which metric variants' fingerprints differ from a reference.

Two references:

* a **target table** that ``compute --target`` wrote: per metric variant, the fingerprint of
  its latest rows (and how many of its rows carry another one) against the fingerprint the
  current definitions give under the project's parameters;
* **``git:REF``**: the project directory as it is at a git commit (its ``csframe.toml``, its
  ``[variants]`` and ``[parameters]``, its local plugin modules and what they import from
  it), the tree of that directory extracted with ``git archive`` into a temporary directory
  and loaded with the csframe installed now — so it shows what the *project's* changes do; a
  change in csframe's own built-in definitions between versions shows against a target table
  (``csframe_version`` is stored beside every row). Nothing connects to the engine.
"""

from __future__ import annotations

__all__ = ["Change", "against_table", "against_git", "compare", "check_ref", "definitions_project"]

import io
import os
import subprocess
import tarfile
import tempfile
import tomllib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import attrs

from .deadline import Deadline
from .errors import EngineUnavailableError, MetricFailedError, RunTimeoutError, UsageError
from .graph import Key
from .project import PROJECT_FILE, Project
from .execution import Execution
from .retry import RetryPolicy
from .writeback import fingerprints_query, target_table

_REF_HINT = "REF names a commit: a branch, a tag, a commit id or HEAD~1, as in git:HEAD or git:main."


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


def against_table(session: Any, table: str, params: Mapping[str, Any] | None = None, *, retries: int = 3,
                  timeout: float | None = None,
                  on_retry: Callable[[int, float, EngineUnavailableError], None] | None = None) -> list[Change]:
    """Fingerprints stored in a target table against the current definitions. ``retries``:
    tries after a transient connection failure, with backoff (as ``compute --retries``);
    ``timeout``: seconds the connection and the read may take; ``on_retry(attempt, wait,
    error)`` is told of each retry."""
    from .render import dialect_profile, render

    tree = target_table(table, flag="--against")
    policy, deadline = RetryPolicy(retries), Deadline.of(timeout)
    profile = dialect_profile(session.registry, session.project.adapter["name"])
    sql = render(fingerprints_query(tree), profile, pretty=False)
    adapter = session.adapter()
    ex = Execution(adapter, deadline, policy,
                   on_retry=None if on_retry is None else lambda _stage, n, wait, e: on_retry(n, wait, e))
    during = "connect"
    try:
        ex.start()
        ex.connect()
        during = f"the read of {table}"
        try:
            rows = adapter.execute(sql)
        except RunTimeoutError:
            raise
        except MetricFailedError as e:
            first = e.message.splitlines()[0]
            raise UsageError(f"--against {table}: cannot read it as a csframe result table ({first})",
                             hint="Name a table that `csframe compute --target` wrote, or git:REF.") from None
    except RunTimeoutError as e:
        if deadline.seconds is None:
            raise
        raise RunTimeoutError(f"diff --against {table} took longer than its time limit of {deadline.seconds:g} s "
                              f"(stopped during {during})",
                              hint="Raise --timeout, or leave it out for no limit.") from e
    finally:
        ex.stop()
    reference: dict[Key, str] = {}
    details: dict[Key, str] = {}
    grains: dict[str, list[Key]] = {}  # the latest rows' grain -> its variants
    for metric, variant, fp, computed_at, grain, other, total in rows:
        reference[(metric, variant)] = fp
        details[(metric, variant)] = f"latest rows computed {computed_at}" + (
            f"; {other} of {total} rows carry another fingerprint" if other else "")
        if (metric, variant) in session.registry.variants:
            grains.setdefault(str(grain).split("/")[0], []).append((metric, variant))
    current: dict[Key, str] = {}
    for grain, keys in grains.items():
        current.update(session.fingerprints(keys, params, _custom_grain(session, grain, keys, details)))
    return compare(current, reference, details, added=False)


def _custom_grain(session: Any, name: str, keys: list[Key], details: dict[Key, str]) -> Any:
    """The custom calendar grain ``name`` of rows in a target table, its periods read from the
    calendar source as they are now (their fingerprints hold them); None for a built-in grain.
    A grain the calendar no longer holds (or holds broken) is None too, and said in ``details``:
    its rows' fingerprints then differ from the current ones."""
    from .custom_calendar import custom_grain
    from .errors import DataContractError
    from .periods import GRAINS

    if name in GRAINS:
        return None
    try:
        return custom_grain(session, name)
    except (UsageError, DataContractError) as e:
        for key in keys:
            details[key] += f"; grain {name}: {e.message.splitlines()[0]}"
        return None


def check_ref(ref: str) -> str:
    """``ref`` of ``git:REF`` when it can name a commit, else a usage error. It never starts
    with ``-``: git would read it as an option (``git:--output=FILE`` would write FILE)."""
    if not ref:
        raise UsageError("--against git: names no ref", hint=_REF_HINT)
    if ref.startswith("-"):
        raise UsageError(f"--against git:{ref}: a ref cannot start with '-'", hint=_REF_HINT)
    return ref


def definitions_project(directory: str | os.PathLike | None = None) -> Project:
    """The project file as :meth:`Project.load` reads it, but for comparing definitions: the
    ``[adapter]`` table keeps only the engine's name and its ``${ENV}`` values are not
    expanded (nothing connects), so an engine's secrets need not be set. ``[sources]`` and
    ``[parameters]`` are read and expanded as ever (parameter values are part of the
    fingerprints)."""
    d = Path(directory or ".").resolve()
    try:
        data = tomllib.loads((d / PROJECT_FILE).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return Project.load(d)  # raises its error naming the file (or, if it is readable now, reads it)
    adapter = data.get("adapter")
    name = adapter.get("name") if isinstance(adapter, dict) else None
    engine = {"name": name} if isinstance(name, str) and "${" not in name else {}
    return Project.from_toml({**data, "adapter": engine}, d, path=d / PROJECT_FILE)


def _git(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(["git", "-C", str(cwd), *args], capture_output=True)
    except FileNotFoundError:
        raise UsageError("--against git:REF needs git, which is not installed",
                         hint="Install git, or compare with a target table: --against TABLE.") from None


def _said(done: subprocess.CompletedProcess) -> str:
    """git's own reason: its first ``fatal:``/``error:`` line (``hint:`` lines follow it)."""
    lines = done.stderr.decode(errors="replace").strip().splitlines()
    errors = [line for line in lines if line.startswith(("fatal:", "error:"))]
    return (errors or lines or [f"exit {done.returncode}"])[0]


def _member(member: tarfile.TarInfo, dest: str) -> tarfile.TarInfo | None:
    """tarfile's ``data`` filter, leaving out what it refuses (a committed link to a file
    outside the project) instead of failing."""
    try:
        return tarfile.data_filter(member, dest)
    except tarfile.FilterError:
        return None


def _archive(project_dir: Path, ref: str, into: Path) -> str:
    """Extract the project directory as it is at commit ``ref`` into ``into``; return the
    commit's id.

    The repository's top level is found from the project directory; ``ref`` is resolved to
    a commit id there (``rev-parse --verify --end-of-options REF^{commit}``, so it is never
    read as an option), and the tree of the project's directory at that commit — found by its
    path from the top level, wherever the command runs — is archived and extracted."""
    project_dir = project_dir.resolve()
    done = _git(project_dir, "rev-parse", "--show-toplevel")
    if done.returncode != 0:
        said = _said(done)
        raise UsageError(f"--against git:{ref}: {project_dir} is not in a git repository" if "not a git repository"
                         in said else f"--against git:{ref}: git cannot read the repository of {project_dir}: {said}",
                         hint="git:REF is a commit of the repository holding the project; or compare with a "
                              "table `compute --target` wrote: --against TABLE.")
    top = Path(os.fsdecode(done.stdout).rstrip("\n")).resolve()
    done = _git(top, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}")
    if done.returncode != 0:
        raise UsageError(f"--against git:{ref}: no commit {ref!r} in the git repository at {top}", hint=_REF_HINT)
    commit = done.stdout.decode().strip()  # hex digits
    try:
        rel = project_dir.relative_to(top).as_posix()
    except ValueError:  # the project is in the repository only through a link
        raise UsageError(f"--against git:{ref}: {project_dir} is not below the repository's top level {top}",
                         hint="Pass --project with the project's real path.") from None
    # COMMIT:PATH is the tree at PATH from the top level (PATH is not a pathspec: taken as written)
    done = _git(top, "rev-parse", "--verify", "--quiet", "--end-of-options",
                f"{commit}^{{tree}}" if rel == "." else f"{commit}:{rel}")
    tree = done.stdout.decode().strip() if done.returncode == 0 else ""
    if not tree or _git(top, "cat-file", "-t", tree).stdout.decode().strip() != "tree":
        raise UsageError(f"--against git:{ref}: no {rel}/{PROJECT_FILE} at that commit ({commit[:12]})",
                         hint="Name a commit that has the project at this path.")
    done = _git(top, "archive", "--format=tar", tree)
    if done.returncode != 0:
        raise UsageError(f"--against git:{ref}: git archive failed: {_said(done)}")
    with tarfile.open(fileobj=io.BytesIO(done.stdout)) as tar:
        if hasattr(tarfile, "data_filter"):
            tar.extractall(into, filter=_member)
        else:  # Python < 3.11.4: no extraction filters (a tree's archive holds no path out of it)
            tar.extractall(into)
    return commit


def against_git(session: Any, ref: str, params: Mapping[str, Any] | None = None) -> list[Change]:
    """The project's definitions at git commit ``ref`` against the working tree's. Nothing
    connects to the engine: the commit's project is read by :func:`definitions_project`."""
    from .session import Session

    check_ref(ref)
    keys = [(rv.metric, rv.variant.name) for rv in session.registry.all_variants()]
    current = session.fingerprints(keys, params)
    with tempfile.TemporaryDirectory(prefix="csframe-diff-") as tmp:
        old_dir = Path(tmp)
        commit = _archive(session.project.dir, ref, old_dir)
        if not (old_dir / PROJECT_FILE).is_file():
            raise UsageError(f"--against git:{ref}: the project has no {PROJECT_FILE} at that commit ({commit[:12]})",
                             hint="Name a commit that has the project at this path.")
        try:
            with Session.open(project=definitions_project(old_dir)) as old:
                old_keys = [(rv.metric, rv.variant.name) for rv in old.registry.all_variants()]
                reference = old.fingerprints(old_keys, params)
        except UsageError as e:  # a project file, plugin or parameter that was wrong at that commit
            said = e.message.replace(str(old_dir.resolve()), f"git:{ref}").replace(str(old_dir), f"git:{ref}")
            raise UsageError(f"--against git:{ref}: the project at commit {commit[:12]} does not load: {said}",
                             hint="It does not load with the csframe installed now; "
                                  "compare with another commit.") from None
    return compare(current, reference)
