"""The PostgreSQL adapter on a real server: `csframe init --demo --adapter postgres`, the DSN read
from the environment and never shown, the statement timeout, read-only compute, and a source
mapped as SQL in PostgreSQL's own dialect.

Every test works in a schema of its own (the ``pg_schema`` fixture), dropped afterwards. The
server is the machine's (127.0.0.1:5432, or ``CSFRAME_TEST_PG_DSN``) or a throwaway one the
fixture starts; under CI=true a missing server fails the tests, it never skips them.
"""

from __future__ import annotations

import csv
import io
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from csframe.core.errors import EngineUnavailableError, MetricFailedError
from csframe.core.project import Project, SourceBinding
from csframe.core.session import Session
from tests.support.in_process import csframe

pytestmark = pytest.mark.postgres

CSFRAME = shutil.which("csframe") or str(Path(sys.executable).parent / "csframe")
ENV_VAR = "CSFRAME_PG_DSN"
DEMO = ("--customers", "120", "--months", "24", "--end", "2025-01-01", "--seed", "11")
RANGE = ("--start", "2024-01-01", "--end", "2025-01-01")


def cs(*args: str, env: dict[str, str | None] | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run the installed ``csframe``; ``env`` entries set (or, when None, unset) variables."""
    e = dict(os.environ)
    e.pop("CSFRAME_DEBUG", None)
    e.pop(ENV_VAR, None)
    for k, v in (env or {}).items():
        if v is None:
            e.pop(k, None)
        else:
            e[k] = v
    return csframe([CSFRAME, *map(str, args)], e, timeout=timeout)


def show(r: subprocess.CompletedProcess) -> str:
    return f"\n$ {' '.join(r.args)}\nexit {r.returncode}\n--- stdout ---\n{r.stdout[-3000:]}\n--- stderr ---\n{r.stderr[-3000:]}"


def expect(r: subprocess.CompletedProcess, code: int, *in_stderr: str) -> subprocess.CompletedProcess:
    assert r.returncode == code, f"expected exit {code}" + show(r)
    for fragment in in_stderr:
        assert fragment.lower() in r.stderr.lower(), f"{fragment!r} not on stderr" + show(r)
    assert "Traceback" not in r.stderr, "a traceback without --debug" + show(r)
    return r


def rows_by_key(text: str) -> dict[tuple, float | None]:
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows and list(rows[0])[:4] == ["metric", "variant", "period_start", "period_end"]
    return {(r["metric"], r["variant"], r["period_start"]): (float(r["value"]) if r["value"] != "" else None)
            for r in rows}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pg_session(pg_dsn: str, schema: str, tmp_path: Path, **settings) -> Session:
    project = Project(dir=tmp_path, adapter={"name": "postgres", "dsn": pg_dsn, "schema": schema, **settings},
                      sources={"subscriptions": SourceBinding("subscriptions", table="subscriptions")})
    return Session.open(project=project, entry_points=False)


def run_sql(pg_dsn: str, *statements: str) -> None:
    import psycopg

    with psycopg.connect(pg_dsn, autocommit=True) as con:
        for st in statements:
            con.execute(st)


# == csframe init --demo --adapter postgres =================================================

def test_init_demo_on_postgres_computes_what_duckdb_computes(pg_dsn, pg_schema, tmp_path):
    pg_dir, duck_dir = tmp_path / "pg", tmp_path / "duck"
    r = expect(cs("init", pg_dir, "--demo", "--adapter", "postgres", "--schema", pg_schema, *DEMO,
                  env={ENV_VAR: pg_dsn}), 0)
    assert pg_schema in r.stdout
    toml = (pg_dir / "csframe.toml").read_text(encoding="utf-8")
    assert 'name = "postgres"' in toml and f'schema = "{pg_schema}"' in toml
    assert 'dsn = "${CSFRAME_PG_DSN}"' in toml
    assert pg_dsn not in toml and "host=" not in toml and not (pg_dir / "demo.duckdb").exists()
    expect(cs("init", duck_dir, "--demo", *DEMO), 0)

    pg = expect(cs("compute", "--all", *RANGE, "--format", "csv", "--project", pg_dir, env={ENV_VAR: pg_dsn}), 0)
    duck = expect(cs("compute", "--all", *RANGE, "--format", "csv", "--project", duck_dir), 0)
    a, b = rows_by_key(pg.stdout), rows_by_key(duck.stdout)
    assert a.keys() == b.keys()
    assert len({k[0] for k in a}) >= 25 and len(a) >= 25 * 12
    differ = {k: (a[k], b[k]) for k in a
              if (a[k] is None) != (b[k] is None) or (a[k] is not None and a[k] != pytest.approx(b[k], rel=1e-9, abs=1e-9))}
    assert not differ, f"{len(differ)} values differ between postgres and duckdb, e.g. {list(differ.items())[:5]}"
    # the data is not trivial: these metrics move in the range
    for metric in ("mrr", "new_customers", "churned_customers", "expansion_mrr", "renewal_rate"):
        assert any(v for k, v in a.items() if k[0] == metric), f"{metric} is 0 or empty everywhere"


def test_init_with_dsn_flag_writes_only_the_env_reference(pg_dsn, pg_schema, tmp_path):
    target = tmp_path / "p"
    expect(cs("init", target, "--demo", "--adapter", "postgres", "--dsn", pg_dsn, "--schema", pg_schema, *DEMO), 0)
    toml = (target / "csframe.toml").read_text(encoding="utf-8")
    assert pg_dsn not in toml and 'dsn = "${CSFRAME_PG_DSN}"' in toml
    # the project needs the variable at run time, and names it when it is missing
    expect(cs("compute", "-m", "mrr", *RANGE, "--project", target), 2, ENV_VAR)
    r = expect(cs("compute", "-m", "mrr", *RANGE, "--format", "csv", "--project", target, env={ENV_VAR: pg_dsn}), 0)
    assert len(rows_by_key(r.stdout)) == 12


def test_init_refuses_to_replace_tables_without_force(pg_dsn, pg_schema, tmp_path):
    args = ("--demo", "--adapter", "postgres", "--schema", pg_schema, "--customers", "20", "--months", "6",
            "--end", "2025-01-01")
    expect(cs("init", tmp_path / "a", *args, env={ENV_VAR: pg_dsn}), 0)
    r = expect(cs("init", tmp_path / "b", *args, env={ENV_VAR: pg_dsn}), 2, pg_schema, "customers", "--force")
    assert not (tmp_path / "b" / "csframe.toml").exists()
    assert pg_dsn not in r.stderr
    expect(cs("init", tmp_path / "b", *args, "--force", env={ENV_VAR: pg_dsn}), 0)


def test_init_without_the_env_var_names_it(tmp_path):
    target = tmp_path / "p"
    r = expect(cs("init", target, "--demo", "--adapter", "postgres", env={ENV_VAR: None}), 2, ENV_VAR, "--dsn")
    assert r.stdout == "" and not (target / "csframe.toml").exists()


def test_init_options_that_belong_to_postgres(tmp_path):
    expect(cs("init", tmp_path / "a", "--dsn", "host=x"), 2, "--adapter postgres")
    expect(cs("init", tmp_path / "b", "--adapter", "postgres", "--schema", "no;such", env={ENV_VAR: "host=x"}),
           2, "--schema")
    expect(cs("init", tmp_path / "b", "--adapter", "postgres", "--demo", "--schema", "pg_toast",
              env={ENV_VAR: "host=x"}), 2, "pg_")
    expect(cs("init", tmp_path / "b", "--adapter", "postgres", "--dsn", "host=x"), 2, "--demo")
    expect(cs("init", tmp_path / "c", "--adapter", "oracle"), 2, "oracle")
    assert not any(p.exists() for p in (tmp_path / "a", tmp_path / "b", tmp_path / "c"))
    # without --demo, the starter file for postgres needs no server and no variable
    expect(cs("init", tmp_path / "d", "--adapter", "postgres", env={ENV_VAR: None}), 0)
    toml = (tmp_path / "d" / "csframe.toml").read_text(encoding="utf-8")
    assert 'dsn = "${CSFRAME_PG_DSN}"' in toml and 'schema = "csframe_demo"' in toml


# == the server cannot be reached: exit 3, the host named, the password never shown ==========

@pytest.mark.parametrize("case", ["wrong_port", "unknown_role", "unknown_database"])
def test_connection_failure_names_the_host_never_the_password(pg_dsn, tmp_path, case):
    import psycopg

    info = psycopg.conninfo.conninfo_to_dict(pg_dsn)
    host, port = info.get("host", "127.0.0.1"), info.get("port", "5432")
    secret = "s3cr3t-Pa55word"
    bad = {
        "wrong_port": f"postgresql://postgres:{secret}@{host}:{free_port()}/test",
        "unknown_role": f"postgresql://no_such_role_q7:{secret}@{host}:{port}/{info.get('dbname', 'test')}",
        "unknown_database": f"host={host} port={port} dbname=no_such_db_q7 user=postgres password={secret}",
    }[case]
    r = expect(cs("init", tmp_path / "i", "--demo", "--adapter", "postgres", "--customers", "5", "--months", "2",
                  env={ENV_VAR: bad}), 3, "postgres", host)
    assert secret not in r.stdout + r.stderr, show(r)
    assert not (tmp_path / "i" / "csframe.toml").exists()
    # compute on a project whose env var points at the same wrong place
    expect(cs("init", tmp_path / "c", "--adapter", "postgres"), 0)
    r = expect(cs("compute", "-m", "mrr", *RANGE, "--project", tmp_path / "c", env={ENV_VAR: bad}), 3, host)
    assert secret not in r.stdout + r.stderr, show(r)
    d = cs("compute", "-m", "mrr", *RANGE, "--debug", "--retries", "0", "--project", tmp_path / "c", env={ENV_VAR: bad})
    assert d.returncode == 3 and "Traceback" in d.stderr, show(d)
    assert secret not in d.stdout + d.stderr, "the password leaked in --debug output" + show(d)


def test_connect_error_from_the_api(pg_dsn, tmp_path):
    s = Session.open(project=Project(dir=tmp_path, adapter={
        "name": "postgres", "dsn": f"postgresql://postgres:pw123secret@127.0.0.1:{free_port()}/test"}), entry_points=False)
    with s, pytest.raises(EngineUnavailableError) as e:
        s.adapter().connect()
    assert e.value.exit_code == 3 and "127.0.0.1" in str(e.value) and "pw123secret" not in str(e.value)


# == statement timeout and read-only compute ================================================

def test_statement_timeout_stops_a_slow_query(pg_dsn, pg_schema, tmp_path):
    with pg_session(pg_dsn, pg_schema, tmp_path, statement_timeout_ms=200) as s:
        adapter = s.adapter()
        t0 = time.monotonic()
        with pytest.raises(MetricFailedError) as e:
            adapter.execute("SELECT pg_sleep(2)")
        assert time.monotonic() - t0 < 1.8
        assert "statement timeout" in e.value.message and e.value.exit_code == 1
        assert adapter.execute("SELECT 1") == [(1,)]  # the connection is still usable
        assert adapter.execute("SHOW statement_timeout") == [("200ms",)]
    # the key is read from the project file, and without it there is no timeout
    project = Project.from_toml({"adapter": {"name": "postgres", "dsn": "${CSFRAME_TEST_DSN_X}", "schema": pg_schema,
                                             "statement_timeout_ms": 150}}, tmp_path,
                                environ={"CSFRAME_TEST_DSN_X": pg_dsn})
    with Session.open(project=project, entry_points=False) as s:
        assert s.adapter().execute("SHOW statement_timeout") == [("150ms",)]
    with pg_session(pg_dsn, pg_schema, tmp_path) as s:
        assert s.adapter().execute("SHOW statement_timeout") == [("0",)]


def test_compute_runs_in_a_read_only_transaction(pg_dsn, pg_schema, tmp_path):
    run_sql(pg_dsn, f'CREATE SCHEMA "{pg_schema}"', f'CREATE TABLE "{pg_schema}".victim (x int)')
    with pg_session(pg_dsn, pg_schema, tmp_path) as s:
        adapter = s.adapter()
        assert adapter.execute("SHOW transaction_read_only") == [("on",)]
        for statement in ("INSERT INTO victim VALUES (1)", "CREATE TABLE other (x int)",
                          "DROP TABLE victim", "UPDATE victim SET x = 2"):
            with pytest.raises(MetricFailedError) as e:
                adapter.execute(statement)
            assert "read-only" in e.value.message, statement
        assert adapter.execute("SELECT count(*) FROM victim") == [(0,)]
        assert adapter.execute("SELECT to_regclass('other')") == [(None,)]


# == a source mapped as SQL in PostgreSQL's dialect ==========================================

def test_source_mapped_as_postgres_sql(pg_dsn, pg_schema, tmp_path):
    run_sql(pg_dsn,
            f'CREATE SCHEMA "{pg_schema}"',
            f'CREATE TABLE "{pg_schema}".billing (account text, sub text, starts timestamptz, ends timestamptz, '
            'cents bigint, trial smallint)',
            f"""INSERT INTO "{pg_schema}".billing VALUES
              ('c1', 's1', '2024-01-01 00:00+00', NULL,                  10000, 0),
              ('c2', 's4', '2023-12-01 00:00+00', '2024-01-15 00:00+00',     0, 1),
              ('c2', 's2', '2024-01-15 00:00+00', '2024-03-01 00:00+00',  5000, 0),
              ('x3', 's3', '2024-01-01 00:00+00', NULL,                  99900, 0)""")
    # PostgreSQL's own syntax: ::casts, a regex match with ~, timezone(), a type PostgreSQL names
    mapped = ("select sub as subscription_id, account as customer_id, "
              "timezone('UTC', starts) as started_at, timezone('UTC', ends) as ended_at, "
              "cents::numeric(18,2) / 100 as mrr, trial::int::boolean as is_trial "
              "from billing where account ~ '^c[0-9]'")
    target = tmp_path / "p"
    target.mkdir()
    (target / "csframe.toml").write_text(
        '[adapter]\nname = "postgres"\ndsn = "${CSFRAME_PG_DSN}"\n'
        f'schema = "{pg_schema}"\n\n[sources.subscriptions]\nsql = """{mapped}"""\n', encoding="utf-8")
    r = expect(cs("compute", "-m", "mrr", "-m", "new_customers", "-m", "churned_customers", "--start", "2024-01-01",
                  "--end", "2024-05-01", "--format", "csv", "--project", target, env={ENV_VAR: pg_dsn}), 0)
    got = rows_by_key(r.stdout)
    mrr = [got[("mrr", "default", f"2024-0{m}-01")] for m in (1, 2, 3, 4)]
    assert mrr == [150.0, 150.0, 100.0, 100.0]  # x3 filtered out by the regex; c2 ends on 1 March
    assert [got[("new_customers", "default", f"2024-0{m}-01")] for m in (1, 2, 3, 4)] == [2, 0, 0, 0]
    assert [got[("churned_customers", "default", f"2024-0{m}-01")] for m in (1, 2, 3, 4)] == [0, 0, 1, 0]
    # the SQL the engine got carries the mapped query in PostgreSQL's dialect
    sql = expect(cs("sql", "mrr", "--project", target, env={ENV_VAR: pg_dsn}), 0).stdout
    assert "billing" in sql and "~" in sql
