"""The plugin manager: built-in plugins by module name, the ``csframe`` entry-point
group, a project's local modules, and ``[plugins] disable``."""

from __future__ import annotations

__all__ = ["DEFAULT_PLUGINS", "Plugins", "load_plugins"]

import importlib
import importlib.metadata
import os
import sys
from collections.abc import Iterable
from pathlib import Path

import attrs
import pluggy

from . import hookspecs
from .errors import PluginError, did_you_mean

# Built-ins are registered by module name, exactly like a third-party plugin.
DEFAULT_PLUGINS: tuple[str, ...] = (
    "csframe.definitions.revenue",
    "csframe.definitions.adoption",
    "csframe.definitions.satisfaction",
    "csframe.definitions.vendors",
    "csframe.adapters.duckdb",
    "csframe.adapters.postgres",
    "csframe.adapters.bigquery",
    "csframe.adapters.clickhouse",
    "csframe.adapters.sql_only",
    "csframe.adapters.spark",
    "csframe.adapters.databricks",
    "csframe.plugins.output_formats",
    "csframe.plugins.parquet",
    "csframe.plugins.demo_hooks",
)


@attrs.frozen
class Plugins:
    """A plugin manager and where each of its plugins came from."""

    pm: pluggy.PluginManager
    origins: dict[str, str]
    blocked: frozenset[str] = frozenset()  # [plugins] disable
    # the files of the project's modules and of what they imported from the project directory
    project_files: tuple[str, ...] = ()

    @property
    def hook(self):
        return self.pm.hook

    def names(self) -> list[str]:
        return [name for name, plugin in self.pm.list_name_plugin() if plugin is not None]

    def anew(self) -> Plugins:
        """A new plugin manager holding the same plugins (imported and checked already), so that
        what is registered on one (a test's pause at the write stage) reaches its holder only."""
        pm = _manager(self.blocked)
        for name, plugin in self.pm.list_name_plugin():
            if plugin is not None:
                pm.register(plugin, name=name)
        _trace(pm)
        return attrs.evolve(self, pm=pm, origins=dict(self.origins))


def _import(module_name: str, what: str):
    try:
        return importlib.import_module(module_name)
    except Exception as e:  # noqa: BLE001 - any import failure is the plugin's
        raise PluginError(
            f"cannot load {what} {module_name!r}: {type(e).__name__}: {e}",
            hint="Fix the module, or list it under [plugins] disable in csframe.toml.",
        ) from e


def _import_project_module(name: str, project_dir: Path | None):
    """A module of ``[plugins] modules``; one that is not there is an error that says where it
    was looked for and which module of the project directory was perhaps meant."""
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as e:
        if e.name is None or not (name == e.name or name.startswith(e.name + ".")):
            return _import(name, "project plugin module")  # a module it imports is missing: the module's error
        here = _project_modules(project_dir) if project_dir is not None else []
        where = f" in {project_dir}" if project_dir is not None else ""
        raise PluginError(
            f"{_file(project_dir)}[plugins] modules: no module {name!r}{where}, nor an installed one.{did_you_mean(name, here)}",
            hint="Name a .py file or a package of the project directory without .py (modules = [\"my_metrics\"]), "
                 "or remove it from [plugins] modules.") from None
    except Exception:  # noqa: BLE001 - any other import failure is the module's own
        return _import(name, "project plugin module")


def _project_modules(directory: Path) -> list[str]:
    """The importable names of a project directory: its .py files and its packages."""
    try:
        entries = list(Path(directory).iterdir())
    except OSError:
        return []
    return sorted({e.stem if e.is_file() else e.name for e in entries
                   if (e.is_file() and e.suffix == ".py") or (e.is_dir() and e.name.isidentifier())})


def _entry_point_names() -> set[str]:
    return {ep.name for dist in importlib.metadata.distributions() for ep in dist.entry_points
            if ep.group == hookspecs.PROJECT_NAME}


def _file(project_dir: Path | None) -> str:
    """The project file a message names (a prefix), when the plugins are a project's."""
    return f"{Path(project_dir) / 'csframe.toml'}: " if project_dir is not None else ""


def _check_disabled(disabled: Iterable[str], modules: Iterable[str], project_dir: Path | None) -> None:
    """Every name of ``[plugins] disable`` is a plugin there is: a built-in, an installed
    entry point or a project module (a misspelt name would disable nothing, silently)."""
    disabled = set(disabled)
    if not disabled:
        return
    known = {*DEFAULT_PLUGINS, *modules, *_entry_point_names()}
    unknown = sorted(disabled - known)
    if not unknown:
        return
    name = unknown[0]
    same_tail = sorted(k for k in known if k.rpartition(".")[2] == name.rpartition(".")[2])
    close = did_you_mean(name, known) or (
        " Did you mean " + " or ".join(map(repr, same_tail)) + "?" if same_tail else "")
    raise PluginError(
        f"{_file(project_dir)}[plugins] disable: no plugin {name!r}{' (and ' + ', '.join(map(repr, unknown[1:])) + ')' if unknown[1:] else ''}"
        f".{close}",
        hint="Name a plugin as `csframe plugins` lists it (built-ins by module, e.g. "
             "'csframe.plugins.parquet'), or remove it from [plugins] disable.")


_HOOKS = tuple(sorted(n for n in dir(hookspecs.CsframeSpec) if n.startswith(hookspecs.PROJECT_NAME + "_")))


def _register(pm: pluggy.PluginManager, plugin: object, name: str, origins: dict[str, str], origin: str) -> None:
    if pm.has_plugin(name):
        raise PluginError(f"plugin {name!r} ({origin}) has the name of plugin {name!r} ({origins.get(name, 'loaded')})",
                          hint="Plugin names are unique: rename one (a project module, or the entry point's name).")
    unmarked = [h for h in _HOOKS if callable(getattr(plugin, h, None))
                and pm.parse_hookimpl_opts(plugin, h) is None]
    if unmarked:
        raise PluginError(f"plugin {name!r}: {', '.join(unmarked)} is not marked @hookimpl, so csframe would never "
                          "call it", hint="Decorate it: `from csframe.core.hookspecs import hookimpl`, then @hookimpl.")
    try:
        pm.register(plugin, name=name)
    except pluggy.PluginValidationError as e:
        raise PluginError(
            f"plugin {name!r} has a bad hook: {e}",
            hint="Check the hook's name and parameters against docs/hooks.md.",
        ) from e
    origins[name] = origin


def _unknown_hooks(pm: pluggy.PluginManager) -> list[str]:
    """A line per hook a plugin implements that csframe does not have (a misspelt name)."""
    out = []
    for hook in sorted(vars(pm.hook)):
        caller = getattr(pm.hook, hook)
        if getattr(caller, "spec", True) is not None:
            continue
        for impl in caller.get_hookimpls():
            if not impl.optionalhook:
                out.append(f"plugin {impl.plugin_name!r} implements an unknown hook {hook}.{did_you_mean(hook, _HOOKS)}")
    return out


def _found_in(name: str, module: object, directory: Path) -> bool:
    """Whether ``module`` was imported from ``directory`` itself: its top-level module or
    package (``team_formulas.py``, ``team_pkg/``) is an entry of that directory — not, say, a
    library of a virtualenv that happens to live below it."""
    try:
        file = getattr(module, "__file__", None)
        spec = getattr(module, "__spec__", None)
        places = [file] if file else list(getattr(spec, "submodule_search_locations", None) or ())  # namespace packages
    except Exception:  # noqa: BLE001 - a lazy module whose attributes import things: not a file of the project
        return False
    top = name.partition(".")[0]
    for place in places:
        try:
            first = Path(place).resolve().relative_to(directory).parts[0]
        except (TypeError, ValueError, IndexError, OSError):
            continue
        if first == top or first.partition(".")[0] == top:  # team_pkg/, team_formulas.py, team_ext.cpython-….so
            return True
    return False


def _forget_project_modules(directory: Path, before: dict[str, object]) -> list[str]:
    """Drop from ``sys.modules`` what importing a project's modules imported from its
    directory: the plugin modules and every helper they import (``from team_formulas import
    …``), so that the next project — another one, or a git commit of this one — reads its own
    copies. The plugins stay registered: the manager holds the module objects. The files of
    the modules dropped (those that have one)."""
    directory = directory.resolve()
    files = []
    for name, module in list(sys.modules.items()):
        if before.get(name) is not module and _found_in(name, module, directory):
            file = getattr(module, "__file__", None)
            if isinstance(file, str):
                files.append(file)
            del sys.modules[name]
    return files


def _manager(blocked: Iterable[str]) -> pluggy.PluginManager:
    pm = pluggy.PluginManager(hookspecs.PROJECT_NAME)
    pm.add_hookspecs(hookspecs.CsframeSpec)
    for name in blocked:
        pm.set_blocked(name)
    return pm


def _trace(pm: pluggy.PluginManager) -> None:
    if os.environ.get("CSFRAME_TRACE_PLUGINS") == "1":
        pm.trace.root.setwriter(sys.stderr.write)
        pm.enable_tracing()


def load_plugins(
    *,
    modules: Iterable[str] = (),
    disable: Iterable[str] = (),
    project_dir: Path | None = None,
    entry_points: bool = True,
) -> Plugins:
    """A fresh plugin manager: built-ins, then entry points, then the project's modules."""
    disabled = set(disable)
    pm = _manager(disabled)
    origins: dict[str, str] = {}
    project_files: list[str] = []
    for name in DEFAULT_PLUGINS:
        if name not in disabled:
            _register(pm, _import(name, "built-in plugin"), name, origins, "built-in")
    if entry_points:
        seen: dict[str, tuple[str, str]] = {}  # entry-point name -> (distribution, value)
        for dist in importlib.metadata.distributions():
            for ep in dist.entry_points:
                if ep.group != hookspecs.PROJECT_NAME or ep.name in disabled:
                    continue
                package = dist.metadata["Name"]
                if ep.name in seen:
                    if seen[ep.name] == (package, ep.value):  # one distribution found twice on sys.path
                        continue
                    raise PluginError(
                        f"two installed packages name a plugin {ep.name!r}: {seen[ep.name][0]} ({seen[ep.name][1]}) "
                        f"and {package} ({ep.value})",
                        hint="Plugin names are unique: uninstall one of them, or rename its entry point.")
                seen[ep.name] = (package, ep.value)
                try:
                    plugin = ep.load()
                except Exception as e:  # noqa: BLE001
                    raise PluginError(
                        f"cannot load entry-point plugin {ep.name!r} ({ep.value}): {type(e).__name__}: {e}",
                        hint=f"Fix or uninstall {package}, or add {ep.name!r} to [plugins] disable.",
                    ) from e
                _register(pm, plugin, ep.name, origins, f"entry point of {package} {dist.version}")
    modules = list(modules)
    _check_disabled(disabled, modules, project_dir)
    modules = [m for m in modules if m not in disabled]
    if modules:
        path = str(project_dir) if project_dir is not None else None
        added = path is not None and path not in sys.path
        if added:
            sys.path.insert(0, path)
        importlib.invalidate_caches()  # files written since the last import from that directory
        before = dict(sys.modules)
        try:
            for name in modules:
                # a project's module is read afresh: two projects may both have a my_metrics.py
                for cached in [m for m in sys.modules if m == name or m.startswith(name + ".")]:
                    del sys.modules[cached]
                _register(pm, _import_project_module(name, project_dir), name, origins, "project module")
        finally:
            if added:
                sys.path.remove(path)
            if project_dir is not None:
                project_files = _forget_project_modules(Path(project_dir), before)
    unknown = _unknown_hooks(pm)
    if unknown:
        raise PluginError("\n  ".join(unknown), hint="The hooks and their parameters are in docs/hooks.md.")
    _trace(pm)
    return Plugins(pm, origins, frozenset(disabled), tuple(project_files))
