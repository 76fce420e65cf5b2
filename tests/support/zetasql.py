"""Google's SQL front end (ZetaSQL) for the BigQuery tests, offline.

``.ci/setup-zetasql.sh`` puts ZetaSQL's local service (``remote_server.so``, from the npm
package ``@fivetrandevelopers/zetasql``) and Python gRPC stubs generated from its protos
under ``.cache/zetasql/``. This module starts the service once per test session on a free
port of 127.0.0.1 and talks to it:

- :meth:`ZetaSQL.register_catalog` declares tables (name → [(column, BigQuery type)]) and
  returns the catalog's id;
- :meth:`ZetaSQL.analyze` runs BigQuery's analyzer (parser, name resolution, types and
  function signatures) on one statement and returns ``None`` or the error message;
- :meth:`ZetaSQL.evaluate` runs a query with Google's reference implementation
  (``EvaluateQuery``) on literal data and returns its rows as Python values.

The language is BigQuery's: ZetaSQL's external product mode (FLOAT64, no INT32/UINT…),
every released language feature (``GetLanguageOptions(maximum_features=True)``, what
``LanguageOptions::EnableMaximumLanguageFeatures`` gives) except nanosecond timestamps
(BigQuery's have microseconds), the default (case-insensitive) name resolution and UTC as
the default time zone. This build's "maximum" leaves out the INTERVAL type, which BigQuery
has: the generated SQL does not need it (``DATETIME_ADD``), and the analyzer is stricter there.

The fixture :func:`zetasql` (session scope) skips the tests when the service or the stubs
are missing, and fails them under ``CI=true``, where ``.ci/run`` installs them.
"""

from __future__ import annotations

__all__ = ["BIGQUERY_TYPES", "ZETASQL_DIR", "ZetaSQL", "ZetaSQLError", "ZetaSQLUnavailable", "zetasql"]

import atexit
import datetime as dt
import decimal
import importlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
ZETASQL_DIR = Path(os.environ.get("CSFRAME_ZETASQL_DIR", ROOT / ".cache" / "zetasql"))

# BigQuery type names → ZetaSQL TypeKind names (type.proto).
BIGQUERY_TYPES = {
    "STRING": "TYPE_STRING", "BYTES": "TYPE_BYTES", "INT64": "TYPE_INT64", "FLOAT64": "TYPE_DOUBLE",
    "NUMERIC": "TYPE_NUMERIC", "BIGNUMERIC": "TYPE_BIGNUMERIC", "BOOL": "TYPE_BOOL", "DATE": "TYPE_DATE",
    "DATETIME": "TYPE_DATETIME", "TIMESTAMP": "TYPE_TIMESTAMP", "TIME": "TYPE_TIME", "JSON": "TYPE_JSON",
}

_EPOCH = dt.date(1970, 1, 1)


class ZetaSQLUnavailable(RuntimeError):
    """The local service or the stubs are not installed (run .ci/setup-zetasql.sh)."""


def _with_parent_death(cmd: list[str]) -> list[str]:
    """``cmd`` under ``setpriv --pdeathsig TERM`` where util-linux has it: the server gets
    SIGTERM when the test process dies, so a killed test run leaves no server behind."""
    setpriv = shutil.which("setpriv")
    return [setpriv, "--pdeathsig", "TERM", "--", *cmd] if setpriv and sys.platform == "linux" else cmd


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ZetaSQL:
    """One running ZetaSQL local service and a gRPC channel to it."""

    def __init__(self, directory: Path = ZETASQL_DIR) -> None:
        self.dir = Path(directory)
        self.server = self.dir / "remote_server.so"
        stubs = self.dir / "stubs"
        if not self.server.exists():
            raise ZetaSQLUnavailable(f"no ZetaSQL local service at {self.server} (run .ci/setup-zetasql.sh)")
        if not (stubs / "local_service_pb2_grpc.py").exists():
            raise ZetaSQLUnavailable(f"no ZetaSQL gRPC stubs in {stubs} (run .ci/setup-zetasql.sh)")
        if str(stubs) not in sys.path:
            sys.path.insert(0, str(stubs))
        try:
            import grpc

            self._grpc = grpc
            self.ls = importlib.import_module("local_service_pb2")
            self._ls_grpc = importlib.import_module("local_service_pb2_grpc")
            self.options_pb2 = importlib.import_module("zetasql.proto.options_pb2")
            self.public_options = importlib.import_module("zetasql.public.options_pb2")
            self.catalog_pb2 = importlib.import_module("zetasql.proto.simple_catalog_pb2")
            self.table_pb2 = importlib.import_module("zetasql.public.simple_table_pb2")
            self.type_pb2 = importlib.import_module("zetasql.public.type_pb2")
            self.node_kind_pb2 = importlib.import_module("zetasql.resolved_ast.resolved_node_kind_pb2")
        except ImportError as e:
            raise ZetaSQLUnavailable(f"cannot import the ZetaSQL stubs or grpc: {e} (run .ci/setup-zetasql.sh)") from e
        self.proc: subprocess.Popen | None = None
        self.channel: Any = None
        self.stub: Any = None
        self._log: Any = None
        self._catalogs: list[int] = []
        self.language_options: Any = None

    # -- lifecycle -----------------------------------------------------------------
    def start(self, timeout: float = 20.0) -> ZetaSQL:
        """Start the service on a free port and wait until it answers."""
        last = ""
        for _ in range(3):  # a free port can be taken between the probe and the server's bind
            port = _free_port()
            self._log = tempfile.TemporaryFile()  # noqa: SIM115 - the server writes to it until close()
            self.proc = subprocess.Popen(_with_parent_death([str(self.server), "localhost", str(port)]),
                                         stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT)
            self.channel = self._grpc.insecure_channel(
                f"localhost:{port}", options=[("grpc.max_receive_message_length", -1),
                                              ("grpc.max_send_message_length", -1)])
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline and self.proc.poll() is None:
                try:
                    self._grpc.channel_ready_future(self.channel).result(timeout=0.25)
                    break
                except self._grpc.FutureTimeoutError:
                    continue
            else:
                last = self._server_output()
                self.close()
                continue
            atexit.register(self.close)  # also when the session ends without the fixture's teardown
            self.stub = self._ls_grpc.ZetaSqlLocalServiceStub(self.channel)
            self.language_options = self._bigquery_language()
            return self
        raise ZetaSQLUnavailable(f"the ZetaSQL local service did not start: {last or 'no output'}")

    def _server_output(self) -> str:
        if self._log is None:
            return ""
        self._log.seek(0)
        return self._log.read().decode(errors="replace").strip()[-2000:]

    def close(self) -> None:
        """Unregister the catalogs, close the channel and stop the service."""
        if self.stub is not None:
            for cid in self._catalogs:
                try:
                    self.stub.UnregisterCatalog(self.ls.UnregisterRequest(registered_id=cid), timeout=5)
                except Exception:  # noqa: BLE001, S110 - the server may be gone already
                    pass
        self._catalogs.clear()
        if self.channel is not None:
            self.channel.close()
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        if self._log is not None:
            self._log.close()
        self.proc = self.channel = self.stub = self._log = None

    def __enter__(self) -> ZetaSQL:  # noqa: PYI034
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- options -------------------------------------------------------------------
    def _bigquery_language(self) -> Any:
        """BigQuery's language: every released feature, external product mode, default
        (case-insensitive) name resolution."""
        lang = self.stub.GetLanguageOptions(self.ls.LanguageOptionsRequest(maximum_features=True), timeout=10)
        nanos = self.public_options.FEATURE_TIMESTAMP_NANOS  # BigQuery's times have microseconds
        kept = [f for f in lang.enabled_language_features if f != nanos]
        del lang.enabled_language_features[:]
        lang.enabled_language_features.extend(kept)
        lang.product_mode = self.public_options.PRODUCT_EXTERNAL
        lang.name_resolution_mode = self.public_options.NAME_RESOLUTION_DEFAULT
        return lang

    def analyzer_options(self) -> Any:
        return self.options_pb2.AnalyzerOptionsProto(
            language_options=self.language_options,
            error_message_mode=self.public_options.ERROR_MESSAGE_ONE_LINE,
            default_timezone="UTC",
        )

    def _catalog(self, tables: Mapping[str, Sequence[tuple[str, str]]] | None = None) -> Any:
        cat = self.catalog_pb2.SimpleCatalogProto(
            name="bigquery",
            builtin_function_options=self.options_pb2.ZetaSQLBuiltinFunctionOptionsProto(
                language_options=self.language_options),
        )
        for name, columns in (tables or {}).items():
            *path, table = name.split(".")  # `project.dataset.table`: nested catalogs
            where = cat
            for part in path:
                where = next((c for c in where.catalog if c.name.lower() == part.lower()), None) or _add(where.catalog, name=part)
            where.table.append(self.table_pb2.SimpleTableProto(
                name=table, column=[self.table_pb2.SimpleColumnProto(name=c, type=self.type_of(t)) for c, t in columns]))
        return cat

    def type_of(self, bigquery_type: str) -> Any:
        """A TypeProto for a BigQuery scalar type name (NUMERIC(p, s) reads as NUMERIC)."""
        base = bigquery_type.split("(")[0].strip().upper()
        try:
            kind = BIGQUERY_TYPES[base]
        except KeyError:
            raise ValueError(f"unknown BigQuery type {bigquery_type!r}") from None
        return self.type_pb2.TypeProto(type_kind=self.type_pb2.TypeKind.Value(kind))

    # -- the three calls -------------------------------------------------------------
    def register_catalog(self, tables: Mapping[str, Iterable[tuple[str, str]]]) -> int:
        """Declare ``tables`` (name → [(column, BigQuery type)]; a dotted name such as
        ``project.dataset.table`` nests catalogs) with BigQuery's built-in functions; the
        catalog's id for :meth:`analyze`."""
        cat = self._catalog({name: list(cols) for name, cols in tables.items()})
        cid = self.stub.RegisterCatalog(self.ls.RegisterCatalogRequest(simple_catalog=cat), timeout=30).registered_id
        self._catalogs.append(cid)
        return cid

    def analyze(self, sql: str, catalog: int, params: Mapping[str, str] | None = None,
                statements: Sequence[str] = ("QUERY",)) -> str | None:
        """None when BigQuery's analyzer accepts the statement ``sql``, else its error message.
        ``params`` declares named query parameters (``@name`` → BigQuery type); ``statements``
        the kinds of statement allowed (``QUERY``, ``MERGE``, ``CREATE_TABLE``…: ResolvedNodeKind
        names without ``RESOLVED_`` and ``_STMT``; by default a query only, as the service has it)."""
        options = self.analyzer_options()
        if tuple(statements) != ("QUERY",):
            kinds = options.language_options.supported_statement_kinds
            del kinds[:]
            kinds.extend(self.node_kind_pb2.ResolvedNodeKind.Value(f"RESOLVED_{k.upper()}_STMT") for k in statements)
        for name, type_ in (params or {}).items():
            options.query_parameters.add(name=name, type=self.type_of(type_))
        req = self.ls.AnalyzeRequest(options=options, registered_catalog_id=catalog, sql_statement=sql)
        try:
            self.stub.Analyze(req, timeout=60)
        except self._grpc.RpcError as e:
            return e.details() or str(e.code())
        return None

    def evaluate(self, sql: str) -> list[tuple]:
        """The rows of ``sql`` as computed by ZetaSQL's reference implementation (no tables:
        literal data, UNNEST, subqueries). Raises :class:`ZetaSQLError` on an error."""
        req = self.ls.EvaluateQueryRequest(sql=sql, options=self.analyzer_options(), simple_catalog=self._catalog())
        try:
            resp = self.stub.EvaluateQuery(req, timeout=60)
        except self._grpc.RpcError as e:
            raise ZetaSQLError(e.details() or str(e.code())) from None
        types = [c.type for c in resp.prepared.columns]
        return [tuple(self.value(cell, t) for cell, t in zip(row.cell, types)) for row in resp.content.table_data.row]

    # -- values ----------------------------------------------------------------------
    def value(self, v: Any, t: Any) -> Any:
        """A ValueProto of TypeProto ``t`` as a Python value (NULL → None)."""
        K = self.type_pb2.TypeKind
        which = v.WhichOneof("value")
        if which is None:
            return None
        kind = t.type_kind
        if kind == K.Value("TYPE_ARRAY"):
            return [self.value(e, t.array_type.element_type) for e in v.array_value.element]
        if kind == K.Value("TYPE_STRUCT"):
            return tuple(self.value(f, ft.field_type) for f, ft in zip(v.struct_value.field, t.struct_type.field))
        if which == "date_value":
            return _EPOCH + dt.timedelta(days=v.date_value)
        if which == "datetime_value":
            return _datetime(v.datetime_value.bit_field_datetime_seconds, v.datetime_value.nanos)
        if which == "timestamp_value":
            ts = v.timestamp_value
            return dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(
                seconds=ts.seconds, microseconds=ts.nanos // 1000)
        if which in ("numeric_value", "bignumeric_value"):
            scale = 9 if which == "numeric_value" else 38
            raw = int.from_bytes(getattr(v, which), "little", signed=True)
            return decimal.Decimal(raw).scaleb(-scale)
        return getattr(v, which)


def _add(repeated: Any, **fields: Any) -> Any:
    item = repeated.add()
    for k, v in fields.items():
        setattr(item, k, v)
    return item


class ZetaSQLError(RuntimeError):
    """An error ZetaSQL reported for a query."""


def _datetime(bits: int, nanos: int) -> dt.datetime:
    """ZetaSQL's packed DATETIME: year:14 | month:4 | day:5 | hour:5 | minute:6 | second:6."""
    second = bits & 0x3F
    minute = (bits >> 6) & 0x3F
    hour = (bits >> 12) & 0x1F
    day = (bits >> 17) & 0x1F
    month = (bits >> 22) & 0xF
    year = (bits >> 26) & 0x3FFF
    return dt.datetime(year, month, day, hour, minute, second, nanos // 1000)


_shared: dict[str, Any] = {"service": None, "users": 0}


@pytest.fixture(scope="session")
def zetasql():
    """The ZetaSQL local service, started once per test session. Skips when it is not
    installed; fails under CI=true, where .ci/run installs it.

    Test modules import this fixture; pytest then keeps one fixture per module, so they
    share one service here (counted, stopped by the last one's teardown)."""
    if _shared["service"] is None:
        try:
            _shared["service"] = ZetaSQL().start()
        except ZetaSQLUnavailable as e:
            if os.environ.get("CI") == "true":
                pytest.fail(f"ZetaSQL is needed in CI (.ci/setup-zetasql.sh installs it): {e}")
            pytest.skip(str(e))
    _shared["users"] += 1
    try:
        yield _shared["service"]
    finally:
        _shared["users"] -= 1
        if _shared["users"] == 0 and _shared["service"] is not None:
            _shared["service"].close()
            _shared["service"] = None
