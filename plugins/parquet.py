"""``csframe compute --format parquet --output PATH``: the result as a Parquet file, through
pyarrow (``pip install 'csframe[arrow]'``). Columns and types as ``Result.to_arrow()``: dates
as ``date32``, ``value`` as ``double``; units, fingerprints and grain in the file's metadata."""

from __future__ import annotations

__all__ = ["write_parquet", "csframe_register_output_formats"]

from typing import Any, BinaryIO

from csframe.core.frames import require
from csframe.core.hookspecs import hookimpl


def _check() -> None:
    require("pyarrow.parquet", "--format parquet")


def write_parquet(result: Any, stream: BinaryIO) -> None:
    pq = require("pyarrow.parquet", "--format parquet")
    pq.write_table(result.to_arrow(), stream)


write_parquet.binary = True  # type: ignore[attr-defined]  # compute opens --output in binary mode
write_parquet.check = _check  # type: ignore[attr-defined]  # run before computing: pyarrow is there


@hookimpl
def csframe_register_output_formats(register) -> None:
    register("parquet", write_parquet)
