"""The Python API of docs/python-api.md (its examples run here), data frames, and
``--format parquet``."""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
import os
import re
import sys
from pathlib import Path

import pytest

from tests.pipeline.commands import cs, expect, ok
from tests.pipeline.projects import RANGE

DOC = Path(__file__).resolve().parents[2] / "docs" / "python-api.md"


def test_the_documented_examples_run(duck_project, tmp_path, monkeypatch):
    # the page shows all three (the test extra has them)
    import pandas  # noqa: F401
    import polars  # noqa: F401
    import pyarrow  # noqa: F401

    text = DOC.read_text(encoding="utf-8")
    assert "csframe init demo --demo --customers 120 --months 24 --end 2025-01-01 --seed 3" in text  # = DEMO
    duck_project.copy(tmp_path / "demo")
    monkeypatch.chdir(tmp_path)
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    assert len(blocks) >= 5
    namespace: dict = {}
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        for i, block in enumerate(blocks):
            exec(compile(block, f"docs/python-api.md block {i + 1}", "exec"), namespace)
    printed = out.getvalue().splitlines()
    # what the page says the examples print
    assert "('metric', 'variant', 'period_start', 'period_end', 'segment', 'value')" in printed
    assert "54" in printed and "date32[day]" in printed and "36" in printed and "[]" in printed
    assert "12 rows written; ['check', 'compile', 'connect', 'execute', 'plan', 'write']" in printed
    assert any(re.fullmatch(r"datetime64\[(s|ns|us)\] float64", line) for line in printed)
    assert namespace["result"].written is None  # the last compute wrote nothing


@pytest.fixture(scope="module")
def result(duck_project):
    from csframe.core.session import Session

    with Session.open(duck_project.path) as s:
        return s.compute(["mrr", "churn_rate"], start="2024-01-01", end="2024-04-01", by=["segment"])


def test_to_arrow(result):
    import pyarrow as pa

    t = result.to_arrow()
    assert t.column_names == list(result.columns)
    assert t.schema.field("period_start").type == pa.date32() and t.schema.field("value").type == pa.float64()
    assert t.to_pylist()[0] == dict(zip(result.columns, result.rows[0]))
    assert b"csframe.fingerprints" in t.schema.metadata


def test_to_pandas(result):
    f = result.to_pandas()
    assert list(f.columns) == list(result.columns) and len(f) == len(result.rows)
    assert str(f.dtypes["period_start"]).startswith("datetime64") and str(f.dtypes["value"]) == "float64"
    assert f.iloc[0]["period_start"].date() == result.rows[0][2]
    assert f.attrs["csframe.grain"] == "month"


def test_to_polars(result):
    import polars as pl

    f = result.to_polars()
    assert f.columns == list(result.columns) and f.height == len(result.rows)
    assert f.schema["period_start"] == pl.Date and f.schema["value"] == pl.Float64
    assert f.row(0) == result.rows[0]


def test_dimension_columns_keep_their_kind_through_nulls():
    # a dimension with no value at all is a string column of nulls; an integer one with a NULL
    # stays an integer column (pandas would make it float64)
    import datetime as dt

    import pandas as pd
    import polars as pl
    import pyarrow as pa

    from csframe.core.result import Result

    jan, feb = dt.date(2024, 1, 1), dt.date(2024, 2, 1)
    r = Result(("metric", "variant", "period_start", "period_end", "region", "tier", "value"),
               (("mrr", "default", jan, feb, None, 1, 10.0), ("mrr", "default", jan, feb, None, None, None)))
    t = r.to_arrow()
    assert t.schema.field("region").type == pa.string() and t.schema.field("tier").type == pa.int64()
    assert t.column("tier").to_pylist() == [1, None]
    f = r.to_pandas()
    assert str(f.dtypes["tier"]) == "Int64" and f["tier"].tolist() == [1, pd.NA]
    assert f["region"].tolist() == [None, None]
    p = r.to_polars()
    assert p.schema["region"] == pl.String and p.schema["tier"] == pl.Int64 and p["tier"].to_list() == [1, None]


@pytest.mark.parametrize("method,module,extra", [("to_pandas", "pandas", "pandas"), ("to_polars", "polars", "polars"),
                                                 ("to_arrow", "pyarrow", "arrow")])
def test_a_missing_library_names_the_extra_to_install(result, monkeypatch, method, module, extra):
    from csframe.core.errors import MissingDependencyError

    monkeypatch.setitem(sys.modules, module, None)  # import fails as if it were not installed
    with pytest.raises(MissingDependencyError) as e:
        getattr(result, method)()
    assert e.value.hint == f"pip install 'csframe[{extra}]'" and module in e.value.message
    assert e.value.exit_code == 2


def test_parquet_output(duck_project, tmp_path):
    import pyarrow.parquet as pq

    path = tmp_path / "out.parquet"
    args = ("compute", "-m", "mrr", "-m", "churn_rate", *RANGE, "--by", "segment")
    # --quiet: a run longer than 2 s (a loaded machine) shows its progress on stderr
    r = ok(cs(*args, "--format", "parquet", "--output", path, "--quiet", project=duck_project.path))
    assert r.stdout == "" and r.stderr == ""
    table = pq.read_table(path)
    rows = list(csv.DictReader(io.StringIO(ok(cs(*args, "--format", "csv", project=duck_project.path)).stdout)))
    assert table.column_names == list(rows[0].keys())
    got = table.to_pylist()
    assert len(got) == len(rows)
    for g, c in zip(got, rows):
        assert g["period_start"] == dt.date.fromisoformat(c["period_start"]) and g["segment"] == c["segment"]
        assert (g["value"] is None and c["value"] == "") or g["value"] == pytest.approx(float(c["value"]))


def test_parquet_needs_an_output_file(duck_project):
    r = expect(cs("compute", "-m", "mrr", *RANGE, "--format", "parquet", project=duck_project.path), 2,
               "--format parquet", "--output")
    assert r.stdout == ""


def test_parquet_without_pyarrow_names_the_extra_and_computes_nothing(duck_project, tmp_path):
    hidden = tmp_path / "hide"
    (hidden / "pyarrow").mkdir(parents=True)
    (hidden / "pyarrow" / "__init__.py").write_text("raise ImportError('hidden by the test')\n")
    out = tmp_path / "out.parquet"
    r = cs("compute", "-m", "mrr", *RANGE, "--format", "parquet", "--output", out, "--target", "never_written",
           project=duck_project.path, extra_env={"PYTHONPATH": f"{hidden}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"})
    expect(r, 2, "pip install 'csframe[arrow]'")
    assert not out.exists()
    assert duck_project.query("SELECT count(*) FROM information_schema.tables WHERE table_name = 'never_written'") == [(0,)]


def test_output_to_a_special_file_writes_to_it_and_never_replaces_it(duck_project, tmp_path):
    """``--output /dev/null`` or a FIFO: written through, not renamed over (as a file is)."""
    import threading

    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[str] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_text()))
    reader.start()
    ok(cs("compute", "-m", "mrr", *RANGE, "--format", "csv", "--output", fifo, project=duck_project.path))
    reader.join(10)
    assert got and got[0].startswith("metric,variant,period_start")
    import stat

    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    expect(cs("compute", "-m", "mrr", *RANGE, "--output", tmp_path, project=duck_project.path), 2, "is a directory")


def test_an_output_csframe_cannot_write_fails_before_anything_is_computed_or_written(duck_project, tmp_path):
    engine = duck_project.copy(tmp_path / "duck")
    r = expect(cs("compute", "-m", "mrr", *RANGE, "--format", "csv", "--output", "/proc/csframe-out.csv",
                  "--target", "out_first", "--log-format", "json", project=engine.path), 2,
               "--output /proc/csframe-out.csv: cannot write there")
    assert "Traceback" not in r.stderr and '"stage": "execute"' not in r.stderr  # nothing was computed
    assert engine.query("SELECT count(*) FROM information_schema.tables WHERE table_name = 'out_first'") == [(0,)]


def test_a_failed_run_leaves_no_file_and_no_temporary_one(duck_project, tmp_path):
    out = tmp_path / "out" / "rows.csv"
    out.parent.mkdir()
    expect(cs("compute", "-m", "mrr", *RANGE, "--output", out, "--timeout", "0.001", project=duck_project.path), 1,
           "time limit")
    assert list(out.parent.iterdir()) == []
