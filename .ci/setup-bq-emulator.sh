#!/usr/bin/env bash
# A BigQuery emulator for the BigQuery adapter's tests, offline: local-bigquery 0.3.2, which
# speaks BigQuery's REST API (tests/support/bigquery_emulator.py starts it; the tests talk to it
# through the official google-cloud-bigquery client). It needs Python 3.13 and DuckDB 1.5.5,
# and pins its own sqlglot, so it gets a virtual environment of its own under
# .cache/bq-emulator/venv (ignored by git), never csframe's.
#
#   bash .ci/setup-bq-emulator.sh
#
# DuckDB extensions: the emulator opens DuckDB with TimeZone = UTC (icu) and loads ducklake
# and spatial (its SQL macros use spatial's functions). DuckDB would download them at run
# time, which cannot work offline; PyPI ships them as duckdb-extension-* packages, put here
# into DuckDB's extension folder (~/.duckdb/extensions/v1.5.5/…) with
# duckdb_extensions.import_extension. icu must be there as a file even though the wheel
# links it in: a TimeZone given at connect time autoloads it from that folder.
#
# Idempotent: a second run only checks a stamp file, the executable and that a fresh DuckDB
# connection does what the emulator does (TimeZone = UTC, LOAD ducklake, LOAD spatial).
# Python 3.13: $BQ_EMULATOR_PYTHON, else pyenv's /root/.pyenv/versions/3.13.0, else
# python3.13 on PATH.
set -euo pipefail
cd "$(dirname "$0")/.."

VERSION=0.3.2
DEST=.cache/bq-emulator
VENV="$DEST/venv"
STAMP="$DEST/.installed-$VERSION"
EXTENSIONS="icu ducklake spatial"
PACKAGES=(
  "local-bigquery==$VERSION" "duckdb==1.5.5" "duckdb-extensions==1.5.5"
  "duckdb-extension-icu==1.5.5" "duckdb-extension-ducklake==1.5.5" "duckdb-extension-spatial==1.5.5"
)

extensions_ok() {
  "$VENV/bin/python" - "$EXTENSIONS" >/dev/null 2>&1 <<'EOF'
import sys
import duckdb
con = duckdb.connect(config={"TimeZone": "UTC", "autoinstall_known_extensions": False})
for name in sys.argv[1].split():
    con.execute(f"LOAD {name}")
EOF
}

if [ -f "$STAMP" ] && [ -x "$VENV/bin/local-bigquery" ] && extensions_ok; then
  exit 0
fi

PY=${BQ_EMULATOR_PYTHON:-}
if [ -z "$PY" ]; then
  if [ -x /root/.pyenv/versions/3.13.0/bin/python ]; then
    PY=/root/.pyenv/versions/3.13.0/bin/python
  elif command -v python3.13 >/dev/null 2>&1; then
    PY=$(command -v python3.13)
  else
    echo "setup-bq-emulator: no Python 3.13 (local-bigquery needs it); the BigQuery emulator tests cannot run" >&2
    exit 1
  fi
fi

mkdir -p "$DEST"
if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 13))'; then
  rm -rf "$VENV"
  "$PY" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install -q --disable-pip-version-check "${PACKAGES[@]}"
"$VENV/bin/python" - "$EXTENSIONS" <<'EOF'
import sys
import duckdb_extensions

for name in sys.argv[1].split():
    duckdb_extensions.import_extension(name)
EOF
if ! extensions_ok; then
  echo "setup-bq-emulator: DuckDB cannot load the extensions ($EXTENSIONS) after installing them" >&2
  exit 1
fi
touch "$STAMP"
echo "setup-bq-emulator: local-bigquery $VERSION in $VENV" >&2
