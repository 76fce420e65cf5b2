"""``csframe init --adapter spark``: the project file's ``[adapter]`` table (a local Spark
reading the project's warehouse directory) and the demo tables written there; and the test kit's
namespace on Spark: a database of the test's own in a warehouse in its temporary directory,
dropped from the process's catalog after it (the files go with the directory)."""

from __future__ import annotations

__all__ = ["DEMO_DATABASE", "WAREHOUSE", "init_settings", "init_section", "load_demo", "test_namespace"]

from collections.abc import Callable
from pathlib import Path
from typing import Any

from csframe.core.adapter import DemoLoaded
from csframe.core.errors import UsageError

WAREHOUSE = "spark-warehouse"
DEMO_DATABASE = "csframe_demo"
_SECTION = (
    'name = "spark"             # see docs/spark.md\n'
    'master = "local[2]"        # Spark in this process; a cluster: "spark://host:7077", "yarn"\n'
    'warehouse = "{warehouse}"  # csframe\'s Parquet tables (demo data, --target tables)\n'
    'database = "{database}"\n'
)


def init_settings(options: dict[str, str], demo: bool) -> dict[str, Any]:
    return {"warehouse": WAREHOUSE, "database": DEMO_DATABASE}


def init_section(settings: dict[str, Any]) -> str:
    return _SECTION.replace("{warehouse}", settings["warehouse"]).replace("{database}", settings["database"])


def load_demo(adapter_class: Any, dataset: Any, project_dir: Path, settings: dict[str, Any],
              force: bool) -> DemoLoaded:
    """Refuse (without ``force``) to replace tables the warehouse's database has, then write them."""
    from .spark_tables import current_version

    root = project_dir / settings["warehouse"] / settings["database"]
    existing = [t.name for t in dataset.tables if current_version(root / t.name) is not None]
    if existing and not force:
        raise UsageError(f"{root} already has table(s) {', '.join(existing)}",
                         hint="Pass --force to replace them.")
    adapter = adapter_class(dict(settings), project_dir)
    adapter.connect(write=True)  # exit 3 when Spark cannot start (no Java)
    try:
        adapter.load_tables(dataset)
    finally:
        adapter.close()
    return DemoLoaded(f"wrote spark database {settings['database']} in {root.parent}")


def test_namespace(tag: str, workdir: Path, fixture: Callable[[str], Any]) -> tuple[dict[str, Any], Callable[[], None]]:
    """Database ``tag`` in a warehouse in the test's temporary directory (pytest removes the files)."""
    database = tag.lower()
    return ({"name": "spark", "warehouse": str(workdir / WAREHOUSE), "database": database},
            lambda: drop_database(database))


def drop_database(database: str) -> None:
    """Forget ``database`` and its tables in the process's catalog (their files stay)."""
    from .spark_session import running_session
    from .spark_tables import forget

    session = running_session()
    if session is not None:
        forget(session, database)
