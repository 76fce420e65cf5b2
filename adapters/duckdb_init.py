"""``csframe init --adapter duckdb``: the project file's ``[adapter]`` table, and the demo data
in ``demo.duckdb`` next to it (written to a temporary file, then renamed into place); and the
test kit's namespace on DuckDB: a file in the test's temporary directory."""

from __future__ import annotations

__all__ = ["init_settings", "init_section", "load_demo", "test_namespace"]

from pathlib import Path
from collections.abc import Callable
from typing import Any

from csframe.core.adapter import DemoLoaded
from csframe.core.errors import UsageError

DEMO_DATABASE = "demo.duckdb"
STARTER_DATABASE = "warehouse.duckdb"


def init_settings(options: dict[str, str], demo: bool) -> dict[str, Any]:
    return {"database": DEMO_DATABASE if demo else STARTER_DATABASE}


def init_section(settings: dict[str, Any]) -> str:
    return f'name = "duckdb"\ndatabase = "{settings["database"]}"\n'


def load_demo(adapter_class: Any, dataset: Any, project_dir: Path, settings: dict[str, Any],
              force: bool) -> DemoLoaded:
    db = project_dir / settings["database"]
    if db.exists():
        if not force:
            raise UsageError(f"{db} exists", hint="Pass --force to overwrite it.")
        db.unlink()
    tmp = db.with_name(db.name + ".tmp")
    if tmp.exists():
        tmp.unlink()
    adapter = adapter_class({"database": tmp.name}, project_dir)
    adapter.connect(write=True)
    try:
        adapter.load_tables(dataset)
    finally:
        adapter.close()
    tmp.replace(db)
    return DemoLoaded(str(db))


def test_namespace(tag: str, workdir: Path, fixture: Callable[[str], Any]) -> tuple[dict[str, Any], Callable[[], None]]:
    """A database file of the test's own, in its temporary directory (pytest removes it)."""
    return {"name": "duckdb", "database": str(workdir / "csframe_case.duckdb")}, lambda: None
