#!/usr/bin/env bash
# Google's SQL front end (ZetaSQL, the analyzer BigQuery's SQL goes through) for the
# BigQuery tests, offline: the npm package @fivetrandevelopers/zetasql ships a Linux
# x86-64 build of ZetaSQL's local service (lib/zetasql/remote_server.so) and its .proto
# files. This script puts the server and the protos under .cache/zetasql/ (ignored by
# git), installs grpcio, grpcio-tools and protobuf into the given Python, and generates
# the Python gRPC stubs into .cache/zetasql/stubs/ (tests/support/zetasql.py uses them).
#
#   bash .ci/setup-zetasql.sh [PYTHON]      # PYTHON defaults to `python`
#
# Idempotent: a second run only checks that the server, the stubs and the Python packages
# are there, and that the stubs were made with the installed grpcio-tools and protobuf.
# The package is fetched with `npm pack` and only the x86-64 server and the protos are
# unpacked (the whole package also holds macOS and ARM builds: 346 MB unpacked).
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${1:-python}
VERSION=1.13.0
PKG="@fivetrandevelopers/zetasql@${VERSION}"
DEST=.cache/zetasql
STAMP="$DEST/stubs/versions.txt"

if [ "$(uname -m)" != "x86_64" ] || [ "$(uname -s)" != "Linux" ]; then
  echo "setup-zetasql: ZetaSQL's local service is shipped for Linux x86-64 only; not installed on $(uname -sm)" >&2
  exit 0
fi

# What the stubs depend on; empty when the Python lacks a package.
versions() {
  "$PY" -c 'import importlib.metadata as m, grpc, grpc_tools, google.protobuf
print("zetasql", m.version("grpcio"), m.version("grpcio-tools"), m.version("protobuf"))' 2>/dev/null || true
}

want="zetasql-$VERSION $(versions)"
if [ "$want" != "zetasql-$VERSION " ] && [ -x "$DEST/remote_server.so" ] \
   && [ -f "$DEST/stubs/local_service_pb2_grpc.py" ] && [ "$(cat "$STAMP" 2>/dev/null)" = "$want" ]; then
  exit 0
fi

if [ -z "$(versions)" ]; then
  "$PY" -m pip install -q grpcio grpcio-tools protobuf
fi
want="zetasql-$VERSION $(versions)"

if [ ! -x "$DEST/remote_server.so" ] || [ ! -d "$DEST/protos" ] \
   || ! grep -q "\"version\": \"$VERSION\"" "$DEST/package.json" 2>/dev/null; then
  command -v npm >/dev/null 2>&1 || { echo "setup-zetasql: npm is needed to fetch $PKG" >&2; exit 1; }
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && npm pack --silent "$PKG" >/dev/null 2>"$tmp/npm.log") || { cat "$tmp/npm.log" >&2; exit 1; }
  rm -rf "$DEST"
  mkdir -p "$DEST"
  tar -xzf "$tmp"/*.tgz -C "$tmp" package/package.json package/lib/zetasql/remote_server.so package/lib/zetasql/protos
  mv "$tmp/package/package.json" "$DEST/package.json"
  mv "$tmp/package/lib/zetasql/protos" "$DEST/protos"
  chmod +x "$tmp/package/lib/zetasql/remote_server.so"
  mv "$tmp/package/lib/zetasql/remote_server.so" "$DEST/remote_server.so"  # last: it marks the unpack done
fi

# The stubs: every bundled .proto, with grpcio-tools' own copy of google/protobuf/*.proto.
# (protoc warns that type_annotation.proto has an unused import: harmless.)
rm -rf "$DEST/stubs"
mkdir -p "$DEST/stubs"
"$PY" - "$DEST" <<'EOF'
import pathlib
import sys

import grpc_tools
from grpc_tools import protoc

dest = pathlib.Path(sys.argv[1])
protos = dest / "protos"
files = sorted(str(p.relative_to(protos)) for p in protos.rglob("*.proto"))
well_known = pathlib.Path(grpc_tools.__file__).parent / "_proto"
args = ["protoc", f"-I{protos}", f"-I{well_known}", f"--python_out={dest / 'stubs'}",
        f"--grpc_python_out={dest / 'stubs'}", *files]
if protoc.main(args) != 0:
    sys.exit("setup-zetasql: protoc failed")
EOF
echo "$want" > "$STAMP"
echo "setup-zetasql: ZetaSQL $VERSION local service and stubs in $DEST"
