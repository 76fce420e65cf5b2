"""The plugin sets of this process, each loaded once.

Loading plugins imports the built-ins, finds and loads the ``csframe`` entry points and a
project's modules, and checks every hook; building the registry calls every registration
hook and parses every formula and node. A process that opens several sessions, or runs
several commands, on the same plugins does both once: :func:`plugin_set` keeps each set,
keyed by what selects its plugins (the built-ins, the installed entry points, ``[plugins]
modules`` and ``disable``), and loads again when that changes or when a project module's
file (or a file it imported from the project directory) changed on disk.

Each session still gets a plugin manager of its own (:meth:`PluginSet.plugins`): what is
registered on it later (a test's pause at the write stage) reaches that session only. With
``CSFRAME_TRACE_PLUGINS=1`` nothing is kept, so every load and registration is traced.
"""

from __future__ import annotations

__all__ = ["PluginSet", "plugin_set", "forget_plugin_sets"]

import importlib.metadata
import os
from collections.abc import Iterable
from pathlib import Path

import attrs

from . import hookspecs
from .plugin_manager import DEFAULT_PLUGINS, Plugins, load_plugins
from .registry import Registry, build_registry


@attrs.define(eq=False)
class PluginSet:
    """Plugins loaded (imported, checked), and their registry once it is built."""

    loaded: Plugins  # never handed out: sessions get managers of their own
    stamps: tuple[tuple[str, int | None, int | None], ...] = ()  # the project files (mtime, size) when loaded
    _registry: Registry | None = None

    def plugins(self) -> Plugins:
        """A new plugin manager holding these plugins."""
        return self.loaded.anew()

    def registry(self) -> Registry:
        """The registry of these plugins, built on first use (an error is raised again, not kept)."""
        if self._registry is None:
            self._registry = build_registry(self.loaded)
        return self._registry


_SETS: dict[tuple, PluginSet] = {}  # the most recently used last
_KEPT = 8  # sets kept at most (a test run opens many projects, each with its own modules)


def _entry_points() -> tuple[tuple[str, str, str, str], ...]:
    """(distribution, version, name, value) of every installed ``csframe`` entry point: what
    decides which of them load (reading the metadata, not importing)."""
    found = []
    for dist in importlib.metadata.distributions():
        for ep in dist.entry_points:
            if ep.group == hookspecs.PROJECT_NAME:
                found.append((str(dist.metadata["Name"]), str(dist.version), ep.name, ep.value))
    return tuple(sorted(found))


def _stamps(files: Iterable[str]) -> tuple[tuple[str, int | None, int | None], ...]:
    out = []
    for f in files:
        try:
            st = os.stat(f)
        except OSError:
            out.append((f, None, None))
        else:
            out.append((f, st.st_mtime_ns, st.st_size))
    return tuple(out)


def plugin_set(*, modules: Iterable[str] = (), disable: Iterable[str] = (), project_dir: Path | None = None,
               entry_points: bool = True) -> PluginSet:
    """The plugins :func:`~csframe.core.plugin_manager.load_plugins` loads for these
    arguments, loaded once per process (again when the set or a project file changed)."""
    modules, disable = tuple(modules), frozenset(disable)
    if os.environ.get("CSFRAME_TRACE_PLUGINS") == "1":
        return PluginSet(load_plugins(modules=modules, disable=disable, project_dir=project_dir,
                                      entry_points=entry_points))
    key = (DEFAULT_PLUGINS, modules, disable, entry_points, _entry_points() if entry_points else (),
           str(Path(project_dir).resolve()) if modules and project_dir is not None else None)
    kept = _SETS.pop(key, None)
    if kept is None or _stamps(f for f, _, _ in kept.stamps) != kept.stamps:
        loaded = load_plugins(modules=modules, disable=disable, project_dir=project_dir, entry_points=entry_points)
        kept = PluginSet(loaded, _stamps(loaded.project_files))
    _SETS[key] = kept
    while len(_SETS) > _KEPT:
        del _SETS[next(iter(_SETS))]
    return kept


def forget_plugin_sets() -> None:
    """Forget every plugin set kept: the next :func:`plugin_set` loads again."""
    _SETS.clear()
