"""``csframe init --adapter clickhouse``: the project file's ``[adapter]`` table and the demo data
in a chdb data directory next to it (``demo.chdb``, written under a temporary name, then renamed
into place); and the test kit's namespace: a database of the test's own in one chdb data
directory per process (chdb opens one per process), dropped after the test."""

from __future__ import annotations

__all__ = ["init_settings", "init_section", "load_demo", "test_namespace", "process_path"]

import atexit
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from csframe.core.adapter import DemoLoaded
from csframe.core.errors import UsageError

DEMO_PATH = "demo.chdb"
STARTER_PATH = "warehouse.chdb"
DATABASE = "csframe"
_SECTION = (
    'name = "clickhouse"  # see docs/clickhouse.md: chdb in this process (path), or a server (host)\n'
    'path = "{path}"\n'
    'database = "{database}"\n'
    '# host = "clickhouse.internal"\n'
    '# port = 8443\n'
    '# user = "csframe"\n'
    '# password_env = "CSFRAME_CLICKHOUSE_PASSWORD"  # the NAME of the environment variable\n'
    '# secure = true\n'
)
_PROCESS_PATH: dict[str, str] = {}


def init_settings(options: dict[str, str], demo: bool) -> dict[str, Any]:
    return {"path": DEMO_PATH if demo else STARTER_PATH, "database": DATABASE}


def init_section(settings: dict[str, Any]) -> str:
    return _SECTION.replace("{path}", settings["path"]).replace("{database}", settings["database"])


def load_demo(adapter_class: Any, dataset: Any, project_dir: Path, settings: dict[str, Any],
              force: bool) -> DemoLoaded:
    target = project_dir / settings["path"]
    if target.exists():
        if not force:
            raise UsageError(f"{target} exists", hint="Pass --force to overwrite it.")
        shutil.rmtree(target) if target.is_dir() else target.unlink()
    tmp = target.with_name(target.name + ".tmp")
    if tmp.exists():
        shutil.rmtree(tmp) if tmp.is_dir() else tmp.unlink()
    adapter = adapter_class({"path": tmp.name, "database": settings["database"]}, project_dir)
    adapter.connect(write=True)
    try:
        adapter.load_tables(dataset)
    finally:
        adapter.close()
    tmp.replace(target)
    return DemoLoaded(f"{target} (chdb)")


def process_path() -> str:
    """This process's chdb data directory for tests (made once, removed at exit)."""
    if "path" not in _PROCESS_PATH:
        path = tempfile.mkdtemp(prefix="csframe-chdb-")
        atexit.register(shutil.rmtree, path, True)
        _PROCESS_PATH["path"] = path
    return _PROCESS_PATH["path"]


def test_namespace(tag: str, workdir: Path, fixture: Callable[[str], Any]) -> tuple[dict[str, Any], Callable[[], None]]:
    """Database ``tag`` in this process's chdb data directory, dropped after the test."""
    path = process_path()
    return {"name": "clickhouse", "path": path, "database": tag}, lambda: _drop_database(path, tag)


def _drop_database(path: str, database: str) -> None:
    from .clickhouse_client import ChdbClient
    from .clickhouse_io import table_ref

    client = ChdbClient(path, None)
    try:
        client.command(f"DROP DATABASE IF EXISTS {table_ref(database).sql('clickhouse')}")
    finally:
        client.close()
