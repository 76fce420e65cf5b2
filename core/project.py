"""The project file ``csframe.toml`` (cli.md): adapter, sources, variants,
parameters and plugins. ``${ENV_VAR}`` values are expanded when the file is read."""

from __future__ import annotations

__all__ = ["SourceBinding", "Project", "PROJECT_FILE", "expand_env"]

import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from .calendar import UTC_CALENDAR, Calendar, calendar_from_table
from .contract import SOURCES
from .errors import ProjectError, did_you_mean
from .settings import FromEnv, describe, want_str, want_str_list, want_table, written

PROJECT_FILE = "csframe.toml"
_ENV = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_SOURCE_NAMES = [s.name for s in SOURCES] + ["calendar"]  # calendar: custom calendars' periods (.custom_calendar)
_TOP_KEYS = ("adapter", "sources", "variants", "parameters", "plugins", "calendar")


def expand_env(value: Any, where: str, environ: Mapping[str, str] | None = None) -> Any:
    """Expand ``${VAR}`` in every string of ``value``; an unset variable is an error naming it."""
    env = os.environ if environ is None else environ
    if isinstance(value, str):
        def sub(m: re.Match) -> str:
            name = m.group(1)
            if name not in env:
                raise ProjectError(
                    f"{where}: environment variable {name} is not set",
                    hint=f"Set {name} in the environment (secrets never live in csframe.toml).",
                )
            return env[name]

        expanded = _ENV.sub(sub, value)
        return FromEnv(expanded) if _ENV.search(value) else expanded
    if isinstance(value, dict):
        return {k: expand_env(v, f"{where}.{k}", env) for k, v in value.items()}
    if isinstance(value, list):
        return [expand_env(v, f"{where}[{i}]", env) for i, v in enumerate(value)]
    return value


@attrs.frozen
class SourceBinding:
    """Where a canonical source lives: a table or a SQL query, and renamed columns."""

    name: str
    table: str | None = None
    sql: str | None = None
    columns: dict[str, str] = attrs.field(factory=dict, converter=dict)  # canonical -> theirs

    def column(self, canonical: str) -> str:
        return self.columns.get(canonical, canonical)


@attrs.frozen
class Project:
    """A loaded project file. ``adapter`` holds the ``[adapter]`` table, expanded."""

    dir: Path
    # no "name": the registry's default adapter (the csframe_default_adapter hook; Session.open fills it in)
    adapter: dict[str, Any] = attrs.field(factory=dict)
    sources: dict[str, SourceBinding] = attrs.field(factory=dict)
    variants: dict[str, str] = attrs.field(factory=dict)
    parameters: dict[str, Any] = attrs.field(factory=dict)
    plugin_modules: tuple[str, ...] = ()
    plugin_disable: tuple[str, ...] = ()
    calendar: Calendar = UTC_CALENDAR  # [calendar]: time zone, week start, fiscal year start
    path: Path | None = None
    environ: Mapping[str, str] | None = attrs.field(default=None, eq=False, repr=False)  # None: os.environ

    @classmethod
    def load(cls, directory: str | os.PathLike | None = None) -> Project:
        """Read ``csframe.toml`` from ``directory`` (default: the current directory)."""
        d = Path(directory or ".").resolve()
        path = d / PROJECT_FILE
        if not path.is_file():
            raise ProjectError(
                f"no {PROJECT_FILE} in {d}",
                hint="Run `csframe init --demo` to create one, or pass --project DIR.",
            )
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8-sig"))  # a leading BOM is not TOML's
        except UnicodeDecodeError as e:
            raise ProjectError(f"{path}: not UTF-8 text: {e.reason} at byte {e.start}",
                               hint="Save csframe.toml as UTF-8.") from None
        except tomllib.TOMLDecodeError as e:
            raise ProjectError(f"{path}: not valid TOML: {e}") from None
        return cls.from_toml(data, d, path=path)

    @classmethod
    def from_toml(cls, data: Mapping[str, Any], directory: Path, *, path: Path | None = None,
                  environ: Mapping[str, str] | None = None) -> Project:
        """Build a project from parsed TOML, checking every table; errors name the key.

        The ``[adapter]`` table's ``${ENV}`` values are expanded when the adapter is made
        (:meth:`adapter_settings`), not here: commands that do not connect (``sql``,
        ``explain``, ``list``, ``graph``) never need an engine's secrets. Its ``name`` is
        expanded here, since it chooses the SQL dialect."""
        problems: list[str] = []

        def table(key: str, example: str) -> dict[str, Any]:
            try:
                return dict(want_table(data.get(key, {}), key, example))
            except ProjectError as e:
                problems.append(f"{e.message} ({e.hint})")
                return {}

        for key in data:
            if key not in _TOP_KEYS:
                problems.append(f"unknown table [{key}].{did_you_mean(key, _TOP_KEYS)}")
        adapter = table("adapter", '[adapter] with name = "ADAPTER"')
        if "name" in adapter:  # else the registry's default adapter (Session.open)
            try:
                name = want_str(adapter["name"], "adapter.name", 'name = "ADAPTER" (an adapter a plugin registers)')
                adapter["name"] = str(expand_env(name, "adapter.name", environ))
            except ProjectError as e:
                problems.append(e.message)
        sources: dict[str, SourceBinding] = {}
        for name, spec in table("sources", '[sources.subscriptions] with table = "…"').items():
            where = f"sources.{name}"
            if name not in _SOURCE_NAMES:
                problems.append(f"{where}: unknown source.{did_you_mean(name, _SOURCE_NAMES)} Sources: {', '.join(_SOURCE_NAMES)}")
                continue
            if not isinstance(spec, dict):
                problems.append(f"{where}: must be a table with `table` or `sql`")
                continue
            unknown = set(spec) - {"table", "sql", "columns"}
            if unknown:
                problems.append(f"{where}: unknown key(s) {', '.join(sorted(unknown))}; use table, sql, columns")
            if ("table" in spec) == ("sql" in spec):
                problems.append(f"{where}: give exactly one of `table` or `sql`")
                continue
            columns = spec.get("columns") or {}
            if not isinstance(columns, dict) or not all(isinstance(v, str) for v in columns.values()):
                problems.append(f"{where}.columns: must map canonical names to your column names (strings), "
                                f"not {describe(columns)}")
                continue
            try:
                spec = expand_env(spec, where, environ)
            except ProjectError as e:
                problems.append(e.message)
                continue
            sources[name] = SourceBinding(name, spec.get("table"), spec.get("sql"), spec.get("columns") or {})
        variants = table("variants", '[variants] with churn_rate = "net_loss"')
        for metric, variant in variants.items():
            if not isinstance(variant, str):
                problems.append(f"variants.{metric}: must be a variant name (a string), not {describe(variant)}")
        plugins = table("plugins", '[plugins] with modules = ["my_metrics"]')
        for key in plugins:
            if key not in ("modules", "disable"):
                problems.append(f"plugins.{key}: unknown key; use modules, disable")
        lists: dict[str, tuple[str, ...]] = {}
        for key, example in (("modules", 'modules = ["my_metrics"]'), ("disable", 'disable = ["a_plugin"]')):
            try:
                lists[key] = want_str_list(plugins.get(key, []), f"plugins.{key}", example)
            except ProjectError as e:
                problems.append(f"{e.message} ({e.hint})")
        try:
            parameters = written(expand_env(table("parameters", '[parameters] with window_days = 30'), "parameters",
                                            environ))
        except ProjectError as e:
            problems.append(e.message)
            parameters = {}
        calendar, calendar_problems = calendar_from_table(table("calendar", '[calendar] with time_zone = "UTC"'))
        problems.extend(calendar_problems)
        if problems:
            where = str(path) if path else PROJECT_FILE
            raise ProjectError(f"{where}: " + ("\n  ".join(problems) if len(problems) == 1 else
                               f"{len(problems)} problems:\n  " + "\n  ".join(problems)))
        return cls(
            dir=directory,
            adapter=adapter,
            sources=sources,
            variants=dict(variants),
            parameters=parameters,
            plugin_modules=lists.get("modules", ()),
            plugin_disable=lists.get("disable", ()),
            calendar=calendar,
            path=path,
            environ=environ,
        )

    def adapter_settings(self, environ: Mapping[str, str] | None = None) -> dict[str, Any]:
        """The ``[adapter]`` table with its ``${ENV}`` values expanded (an unset variable is an
        error naming it and the file): what the adapter is made from, when a command connects."""
        try:
            return expand_env(dict(self.adapter), "adapter", self.environ if environ is None else environ)
        except ProjectError as e:
            raise ProjectError(f"{self.path or PROJECT_FILE}: {e.message}", hint=e.hint) from None
