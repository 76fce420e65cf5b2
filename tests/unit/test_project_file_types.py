"""Every key of ``csframe.toml`` (cli.md "The project file", and every key the adapters,
``[plugins]`` and ``[parameters]`` accept) with a value of the wrong type is exit 2 with a
message naming the key and the file — never "unexpected … bug", never a string read as a list
of its characters or as ``True``. Also: a UTF-8 BOM, did-you-mean for ``[plugins]``, dates
outside what every engine represents, absurd parameter values, and commands that never connect
needing no engine secret. Everything runs through the installed ``csframe`` command.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.test_cli import UNSET_VAR, cs, expect, show

RUN = ("compute", "-m", "mrr", "--start", "2024-01-01", "--end", "2024-02-01", "--retries", "0")
SUBS = '[sources.subscriptions]\ntable = "subscriptions"\n'
DUCK = '[adapter]\nname = "duckdb"\ndatabase = "data.duckdb"\n'
PG = '[adapter]\nname = "postgres"\ndsn = "host=127.0.0.1 port=1 dbname=x"\n'
BQ = '[adapter]\nname = "bigquery"\nproject = "p"\ndataset = "d"\napi_endpoint = "http://127.0.0.1:1"\n'


def toml(adapter: str = DUCK, *, top: str = "", tables: str = "") -> str:
    """A project file: top-level keys first (TOML puts them before any table), then the tables."""
    return top + adapter + SUBS + tables


# (id, project file, what the message must name)
CASES = [
    # [adapter]
    ("adapter_string", toml("", top='adapter = "duckdb"\n'), ["adapter", "must be a table"]),
    ("adapter_name_number", toml('[adapter]\nname = 5\n'), ["adapter.name", "string"]),
    ("adapter_name_table", toml('[adapter]\nname = { x = 1 }\n'), ["adapter.name", "a table"]),
    ("adapter_name_unknown", toml('[adapter]\nname = "duckbd"\n'), ["adapter.name", "Did you mean 'duckdb'"]),
    # duckdb
    ("duckdb_database_number", toml('[adapter]\nname = "duckdb"\ndatabase = 5\n'), ["adapter.database"]),
    ("duckdb_database_table", toml('[adapter]\nname = "duckdb"\ndatabase = { a = 1 }\n'), ["adapter.database"]),
    ("duckdb_read_only_string", toml(DUCK + 'read_only = "false"\n'), ["adapter.read_only", "true or false"]),
    ("duckdb_read_only_number", toml(DUCK + "read_only = 0\n"), ["adapter.read_only"]),
    ("duckdb_threads_string", toml(DUCK + 'threads = "abc"\n'), ["adapter.threads", "integer"]),
    ("duckdb_threads_float", toml(DUCK + "threads = 2.5\n"), ["adapter.threads", "integer"]),
    ("duckdb_threads_zero", toml(DUCK + "threads = 0\n"), ["adapter.threads", "from 1 to 1024"]),
    # postgres
    ("postgres_dsn_number", toml('[adapter]\nname = "postgres"\ndsn = 5\n'), ["adapter.dsn", "string"]),
    ("postgres_schema_array", toml(PG + 'schema = ["a"]\n'), ["adapter.schema", "string"]),
    ("postgres_timeout_string", toml(PG + 'statement_timeout_ms = "600000"\n'), ["adapter.statement_timeout_ms"]),
    ("postgres_timeout_negative", toml(PG + "statement_timeout_ms = -1\n"), ["adapter.statement_timeout_ms"]),
    # bigquery
    ("bigquery_project_number", toml('[adapter]\nname = "bigquery"\nproject = 5\ndataset = "d"\n'),
     ["adapter.project"]),
    ("bigquery_dataset_boolean", toml('[adapter]\nname = "bigquery"\nproject = "p"\ndataset = true\n'),
     ["adapter.dataset"]),
    ("bigquery_location_number", toml(BQ + "location = 1\n"), ["adapter.location"]),
    ("bigquery_api_endpoint_table", toml(BQ.replace('api_endpoint = "http://127.0.0.1:1"', "api_endpoint = {}")),
     ["adapter.api_endpoint"]),
    ("bigquery_bytes_string", toml(BQ + 'maximum_bytes_billed = "1000"\n'), ["adapter.maximum_bytes_billed"]),
    ("bigquery_bytes_zero", toml(BQ + "maximum_bytes_billed = 0\n"), ["adapter.maximum_bytes_billed"]),
    ("bigquery_query_parameters_string", toml(BQ + 'query_parameters = "false"\n'),
     ["adapter.query_parameters", "true or false"]),
    # [sources]
    ("sources_number", toml(DUCK, top="sources = 5\n").replace(SUBS, ""), ["sources", "must be a table"]),
    ("source_string", DUCK + '[sources]\nsubscriptions = "x"\n', ["sources.subscriptions", "table"]),
    ("source_columns_string", DUCK + SUBS + 'columns = "abc"\n', ["sources.subscriptions.columns"]),
    ("source_columns_number_value", DUCK + SUBS + "columns = { mrr = 5 }\n", ["sources.subscriptions.columns"]),
    # [variants]
    ("variants_string", toml(top='variants = "net_loss"\n'), ["variants", "must be a table"]),
    ("variant_number", toml(tables="[variants]\nchurn_rate = 5\n"), ["variants.churn_rate"]),
    # [parameters]
    ("parameters_number", toml(top="parameters = 5\n"), ["parameters", "must be a table"]),
    ("parameter_int_as_string", toml(tables='[parameters]\nwindow_days = "30"\n'), ["window_days", "integer"]),
    ("parameter_float_as_string", toml(tables='[parameters]\nhealth_weight_depth = "0.5"\n'),
     ["health_weight_depth", "number"]),
    ("parameter_list_as_string", toml(tables='[parameters]\nactive_events = "login"\n'), ["active_events", "array"]),
    ("parameter_list_as_number", toml(tables="[parameters]\nactive_events = 5\n"), ["active_events", "list"]),
    ("parameter_range_as_string", toml(tables='[parameters]\ncsat_scale = "1,5"\n'), ["csat_scale", "array"]),
    ("parameter_string_as_number", toml(tables="[parameters]\nactivation_event = 5\n"),
     ["activation_event", "string"]),
    ("parameter_string_as_table", toml(tables="[parameters]\nactivation_event = { a = 1 }\n"),
     ["activation_event", "string"]),
    ("parameter_absurd_window", toml(tables="[parameters]\nwindow_days = 1e29\n"), ["window_days", "24855"]),
    # [plugins]
    ("plugins_number", toml(top="plugins = 5\n"), ["plugins", "must be a table"]),
    ("plugins_modules_string", toml(tables='[plugins]\nmodules = "abc"\n'), ["plugins.modules", "array"]),
    ("plugins_modules_number", toml(tables="[plugins]\nmodules = 5\n"), ["plugins.modules", "array"]),
    ("plugins_modules_numbers", toml(tables="[plugins]\nmodules = [5]\n"), ["plugins.modules", "array"]),
    ("plugins_disable_string", toml(tables='[plugins]\ndisable = "pkg"\n'), ["plugins.disable", "array"]),
    ("plugins_disable_table", toml(tables="[plugins]\ndisable = { a = 1 }\n"), ["plugins.disable", "array"]),
]


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("toml_types")


def project(root: Path, name: str, text: str, *, encoding: str = "utf-8", files: dict[str, str] | None = None) -> Path:
    path = root / name
    path.mkdir(parents=True, exist_ok=True)
    (path / "csframe.toml").write_text(text, encoding=encoding)
    for file, content in (files or {}).items():
        (path / file).write_text(content, encoding="utf-8")
    return path


@pytest.mark.parametrize("name,text,fragments", CASES, ids=[c[0] for c in CASES])
def test_a_value_of_the_wrong_type_is_exit_2_naming_the_key_and_the_file(root, name, text, fragments):
    path = project(root, name, text)
    r = expect(cs(*RUN, project=path), 2, *fragments, "csframe.toml")
    assert "unexpected" not in r.stderr and r.stdout == "", show(r)


def test_the_table_covers_every_key_cli_md_and_the_adapters_accept():
    """A key added to the project file (or an adapter) without a row above fails here."""
    from csframe.adapters.bigquery import _SETTINGS

    named = " ".join(" ".join(c[2]) + " " + c[1] for c in CASES)
    keys = ["adapter.name", "adapter.database", "adapter.read_only", "adapter.threads", "adapter.dsn",
            "adapter.schema", "adapter.statement_timeout_ms", *(f"adapter.{k}" for k in _SETTINGS),
            "sources.subscriptions.columns", "variants.churn_rate", "plugins.modules", "plugins.disable",
            "window_days", "health_weight_depth", "active_events", "csat_scale", "activation_event"]
    assert [k for k in keys if k not in named] == []


def test_a_utf8_bom_is_accepted(root):
    # Windows editors start UTF-8 files with a BOM; the variant after it is read
    path = project(root, "bom", "\ufeff" + DUCK + SUBS + '[variants]\nchurn_rate = "net_loss"\n', encoding="utf-8")
    assert (path / "csframe.toml").read_bytes().startswith(b"\xef\xbb\xbf")
    r = expect(cs("list", project=path), 0)
    assert [line.split()[:4] for line in r.stdout.splitlines() if line.startswith("churn_rate ") and "*" in line] \
        == [["churn_rate", "net_loss", "share", "*"]], show(r)


def test_a_file_that_is_not_utf8_is_exit_2(root):
    path = project(root, "latin1", DUCK + SUBS + '# caf\u00e9\n', encoding="latin-1")
    expect(cs("list", project=path), 2, "csframe.toml", "UTF-8")


def test_disabling_an_unknown_plugin_says_which_was_meant(root):
    path = project(root, "disable_typo", toml(tables='[plugins]\ndisable = ["csframe.plugins.parket"]\n'))
    expect(cs("list", project=path), 2, "[plugins] disable", "'csframe.plugins.parket'",
           "Did you mean 'csframe.plugins.parquet'", "csframe.toml")
    # a built-in named by its last part only
    path = project(root, "disable_short", toml(tables='[plugins]\ndisable = ["parquet"]\n'))
    expect(cs("list", project=path), 2, "Did you mean 'csframe.plugins.parquet'")


def test_disabling_a_known_plugin_or_a_project_module_still_works(root):
    path = project(root, "disable_ok", toml(tables='[plugins]\nmodules = ["team_metrics"]\n'
                                                 'disable = ["csframe.plugins.parquet", "team_metrics"]\n'),
                   files={"team_metrics.py": "raise RuntimeError('disabled, so never imported')\n"})
    r = expect(cs("plugins", project=path), 0)
    assert "csframe.plugins.parquet" not in r.stdout and "team_metrics" not in r.stdout, show(r)
    assert "csframe.plugins.output_formats" in r.stdout, show(r)


def test_a_missing_project_module_says_which_was_meant(root):
    path = project(root, "module_typo", toml(tables='[plugins]\nmodules = ["team_metrix"]\n'),
                   files={"team_metrics.py": "x = 1\n"})
    r = expect(cs("list", project=path), 2, "[plugins] modules", "'team_metrix'", "Did you mean 'team_metrics'",
               "csframe.toml")
    assert str(path) in r.stderr, show(r)
    # a module that is there but imports a missing one: that module's own error, not a did-you-mean
    path = project(root, "module_broken", toml(tables='[plugins]\nmodules = ["team_metrics"]\n'),
                   files={"team_metrics.py": "import no_such_helper_q\n"})
    r = expect(cs("list", project=path), 2, "team_metrics", "no_such_helper_q")
    assert "Did you mean" not in r.stderr, show(r)


@pytest.mark.parametrize("args,fragments", [
    # month grain: the run reads the month before --start's, so 0001-02-01 is the first start
    (("compute", "-m", "mrr", "--start", "0001-01-01", "--end", "0001-04-01"), ["--start 0001-01-01", "0001-02-01"]),
    (("sql", "mrr", "--start", "0001-01-01", "--end", "0001-04-01"), ["--start 0001-01-01", "0001-02-01"]),
    (("compute", "-m", "mrr", "--grain", "week", "--start", "0001-01-03", "--end", "0001-02-01"),
     ["--start", "0001-01-08"]),  # 0001-01-01 is a Monday: its week is the first there is
    # the last period must end by 9999-12-31: the last month ends 9999-12-01 (exclusive end)
    (("compute", "-m", "mrr", "--start", "9999-10-01", "--end", "9999-12-31"), ["--end 9999-12-31", "9999-12-01"]),
    (("explain", "mrr", "--grain", "year"), []),  # a control: the default range is fine
    (("compute", "-m", "mrr", "--grain", "year", "--start", "9990-01-01", "--end", "9999-06-01"),
     ["--end 9999-06-01", "9999-01-01"]),
    # --end alone: the 12 months before it would start in year 0
    (("compute", "-m", "mrr", "--end", "0001-06-01"), ["--end 0001-06-01", "--start"]),
    (("compute", "-m", "mrr", "--start", "0000-01-01"), ["--start", "0000-01-01", "YYYY-MM-DD"]),
])
def test_dates_outside_what_every_engine_represents_are_exit_2(root, args, fragments):
    path = project(root, "dates", PG + SUBS)  # nothing connects before the dates are checked
    r = cs(*args, project=path)
    if not fragments:
        assert r.returncode == 0, show(r)
        return
    expect(r, 2, *fragments)
    assert "unexpected" not in r.stderr, show(r)


def test_dates_at_the_edges_of_the_range_run(root):
    # 0001-02-01 (reads from 0001-01-01) and an --end of 9999-12-01 (the last month ends there)
    from tests.support.projects import make_project
    import datetime as dt

    path = make_project(root / "edges", {"subscriptions": [
        {"subscription_id": "s1", "customer_id": "a", "started_at": dt.datetime(1, 1, 15), "ended_at": None,
         "mrr": 100.0},
        {"subscription_id": "s2", "customer_id": "b", "started_at": dt.datetime(9999, 11, 10), "ended_at": None,
         "mrr": 20.0}]})
    r = expect(cs("compute", "-m", "mrr", "--start", "0001-02-01", "--end", "0001-03-01", "--format", "csv",
                  project=path), 0)
    assert r.stdout.splitlines()[1:] == ["mrr,default,0001-02-01,0001-03-01,100"], show(r)
    r = expect(cs("compute", "-m", "mrr", "--start", "9999-11-01", "--end", "9999-12-01", "--format", "csv",
                  project=path), 0)
    assert r.stdout.splitlines()[1:] == ["mrr,default,9999-11-01,9999-12-01,120"], show(r)


def test_init_months_and_end_outside_the_range_are_exit_2(root):
    # --end 2024-03-01: 2024-03 is month 2024 * 12 + 2 = 24290 since 0001-01, so at most 24290 - 12 = 24278
    target = root / "init_months"
    expect(cs("init", str(target), "--demo", "--months", "100000", "--end", "2024-03-01"), 2,
           "--months 100000", "0001-01-01", "--months 24278 or fewer")
    expect(cs("init", str(target), "--demo", "--end", "9999-12-01"), 2, "--end 9999-12-01", "--end 9999-10-01")
    assert not target.exists()  # refused before anything was written


def test_an_absurd_parameter_on_the_command_line_is_exit_2(root):
    path = project(root, "param_cli", PG + '[sources.customers]\ntable = "c"\n[sources.events]\ntable = "e"\n')
    expect(cs("sql", "activation_rate", "--param", "window_days=24856", project=path), 2, "window_days", "24855")
    r = expect(cs("sql", "activation_rate", "--param", "window_days=24855", project=path), 0)
    assert "24855" in r.stdout, show(r)


@pytest.mark.parametrize("args", [
    ("sql", "churn_rate"), ("sql", "churn_rate", "--dialect", "bigquery"), ("explain", "churn_rate"),
    ("graph",), ("list",),
])
@pytest.mark.parametrize("adapter", ["postgres", "bigquery"])
def test_commands_that_do_not_connect_need_no_engine_secret(root, args, adapter):
    settings = (f'dsn = "${{{UNSET_VAR}}}"\nschema = "${{{UNSET_VAR}}}"\n' if adapter == "postgres" else
                f'project = "${{{UNSET_VAR}}}"\ndataset = "cs"\n')
    path = project(root, f"secretless_{adapter}", f'[adapter]\nname = "{adapter}"\n' + settings + SUBS)
    r = expect(cs(*args, project=path), 0)
    if args[0] == "sql" and "--dialect" not in args:
        assert "SELECT" in r.stdout.upper(), show(r)
    # the command that connects names the variable (exit 2)
    expect(cs(*RUN, project=path), 2, UNSET_VAR, "not set", "csframe.toml")


def test_diff_against_git_needs_no_engine_secret(root):
    import subprocess

    path = project(root, "secretless_diff", f'[adapter]\nname = "postgres"\ndsn = "${{{UNSET_VAR}}}"\n' + SUBS)
    git = ["git", "-C", str(path), "-c", "user.email=t@example.com", "-c", "user.name=t"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-qm", "project"], check=True)
    expect(cs("diff", "--against", "git:HEAD", project=path), 0)


def test_an_env_value_is_read_as_the_type_its_key_wants(root):
    # ${VAR} can only give text: "false" is a boolean there, "abc" is still not an integer
    path = project(root, "env_typed", '[adapter]\nname = "duckdb"\ndatabase = "data.duckdb"\n'
                   f'threads = "${{{UNSET_VAR}}}"\n' + SUBS)
    expect(cs(*RUN, project=path, env={UNSET_VAR: "abc"}), 2, "adapter.threads", "'abc'")
    r = expect(cs(*RUN, project=path, env={UNSET_VAR: "2"}), 3, "data.duckdb")  # read as 2: on to the file
    assert "adapter.threads" not in r.stderr, show(r)
