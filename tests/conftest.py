from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.support.projects import make_project  # noqa: E402


@pytest.fixture
def project(tmp_path):
    """project(tables, toml_extra="") -> Session over a fresh DuckDB project holding ``tables``."""
    from csframe.core.session import Session

    opened = []

    def build(tables, toml_extra: str = "", sources=None, name: str = "proj"):
        path = make_project(tmp_path / name, tables, toml_extra=toml_extra, sources=sources)
        s = Session.open(path)
        opened.append(s)
        return s

    yield build
    for s in opened:
        s.close()
