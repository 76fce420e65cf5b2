"""Where the result goes, when that goes wrong: a full disk (``-o /dev/full``, a file over the
size limit), a stdout whose reader left or that was closed from the start — exit 1, "cannot
write the output" naming it, whether ``--target``'s table was written, no traceback, nothing
half-written — and ``-o`` onto an existing file (its permissions kept) or a symlink (it stays
one; its target gets the result)."""

from __future__ import annotations

import os
import resource
import stat
import subprocess

import pytest

from tests.pipeline.commands import argv, env, expect, ok

ARGS = ("compute", "-m", "mrr", "--start", "2024-01-01", "--end", "2024-04-01", "--format", "csv")


def run(project, *args, **popen) -> subprocess.CompletedProcess:
    return subprocess.run(argv(*ARGS, *args, project=project), stderr=subprocess.PIPE, text=True, env=env(),
                          timeout=120, **popen)


def rows_in(path, table: str = "cs_metrics") -> int | None:
    """How many rows the DuckDB file of the project at ``path`` has in ``table`` (None: no table)."""
    import duckdb

    with duckdb.connect(str(path / "demo.duckdb"), read_only=True) as con:
        found = con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [table]).fetchone()
        if not found[0]:
            return None
        return con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def test_a_full_disk_is_exit_1_naming_the_output(duck_project, tmp_path):
    engine = duck_project.copy(tmp_path / "duck")
    r = expect(run(engine.path, "-o", "/dev/full", stdout=subprocess.DEVNULL), 1,
               "cannot write the output: /dev/full: No space left on device", "Nothing was written")
    assert "bug in csframe" not in r.stderr
    r = expect(run(engine.path, "-o", "/dev/full", "--target", "cs_metrics", stdout=subprocess.DEVNULL), 1,
               "cannot write the output: /dev/full", "The rows were written to cs_metrics (3 rows)")
    assert rows_in(engine.path) == 3  # Jan, Feb, Mar of mrr


def test_a_file_that_cannot_grow_is_exit_1_and_the_old_file_stays(duck_project, tmp_path):
    """RLIMIT_FSIZE of 64 bytes (the result is longer): the temporary file cannot be written
    (EFBIG, as a full disk gives ENOSPC); it is removed and the existing output is untouched."""
    out = tmp_path / "out"
    out.mkdir()
    (out / "result.csv").write_text("old\n")

    def small_files():
        resource.setrlimit(resource.RLIMIT_FSIZE, (64, 64))

    r = expect(run(duck_project.path, "-o", out / "result.csv", stdout=subprocess.DEVNULL, preexec_fn=small_files),
               1, f"cannot write the output: {out / 'result.csv'}: File too large", "Nothing was written")
    assert "bug in csframe" not in r.stderr
    assert os.listdir(out) == ["result.csv"] and (out / "result.csv").read_text() == "old\n"


def test_a_stdout_whose_reader_left_is_exit_1_naming_stdout(duck_project, tmp_path):
    """`csframe compute … | head -c0`, made certain: the pipe's read end is closed before the
    run writes. Before, the run exited 1 saying nothing."""
    engine = duck_project.copy(tmp_path / "duck")
    for args, said in (((), "Nothing was written"),
                       (("--target", "cs_metrics"), "The rows were written to cs_metrics (3 rows)")):
        read, write = os.pipe()
        os.close(read)
        try:
            r = run(engine.path, *args, stdout=write)
        finally:
            os.close(write)
        expect(r, 1, "cannot write the output: stdout: the reader closed it", said)
        assert "Exception ignored" not in r.stderr, r.stderr
    assert rows_in(engine.path) == 3


def test_a_closed_stdout_fails_before_anything_is_computed(duck_project, tmp_path):
    """`csframe compute … >&-`: before, "a bug in csframe" (sys.stdout is None) after the compute
    and the write; now exit 1 at once, and the target is not written."""
    engine = duck_project.copy(tmp_path / "duck")
    cmd = " ".join(f"'{a}'" for a in argv(*ARGS, "--target", "cs_metrics", project=engine.path))
    r = subprocess.run(["sh", "-c", f"exec {cmd} >&-"], stderr=subprocess.PIPE, text=True, env=env(), timeout=120)
    expect(r, 1, "cannot write the output: stdout is closed", "Nothing was computed or written")
    assert rows_in(engine.path) is None


@pytest.mark.parametrize("args", [("list",), ("explain", "mrr"), ("sql", "mrr"), ("graph", "mrr"), ("check",),
                                  ("--help",), ("--version",)], ids=lambda a: " ".join(a))
def test_every_command_that_prints_fails_on_a_closed_stdout(duck_project, args):
    """`csframe list >&-`: before, list, explain, sql and check exited 0 having written nothing
    (click drops what it is given for a None sys.stdout) and graph failed as "a bug"; cli.md:
    a failure to write the output is exit 1 naming it."""
    project = () if args[0].startswith("--") else ("--project", str(duck_project.path))
    cmd = " ".join(f"'{a}'" for a in argv(*args, *project))
    r = subprocess.run(["sh", "-c", f"exec {cmd} >&-"], stderr=subprocess.PIPE, text=True, env=env(), timeout=120)
    expect(r, 1, "cannot write the output: stdout is closed", "Nothing was written")


def test_an_existing_output_keeps_its_permissions(duck_project, tmp_path):
    out = tmp_path / "result.csv"
    out.write_text("old\n")
    out.chmod(0o604)  # no umask makes this: it can only come from the file
    ok(run(duck_project.path, "-o", out, stdout=subprocess.DEVNULL))
    assert stat.S_IMODE(out.stat().st_mode) == 0o604
    assert out.read_text().startswith("metric,variant,period_start,period_end,value\n")
    new = tmp_path / "new.csv"  # a new file: as open() makes one (0666 less the umask), not mkstemp's 0600
    ok(run(duck_project.path, "-o", new, stdout=subprocess.DEVNULL, preexec_fn=lambda: os.umask(0o027)))
    assert stat.S_IMODE(new.stat().st_mode) == 0o640


def test_an_output_symlink_stays_a_symlink_and_its_target_gets_the_result(duck_project, tmp_path):
    here, there = tmp_path / "here", tmp_path / "there"
    here.mkdir()
    there.mkdir()
    (there / "latest.csv").write_text("old\n")
    (there / "latest.csv").chmod(0o640)
    (here / "result.csv").symlink_to(there / "latest.csv")
    ok(run(duck_project.path, "-o", here / "result.csv", stdout=subprocess.DEVNULL))
    assert (here / "result.csv").is_symlink() and os.readlink(here / "result.csv") == str(there / "latest.csv")
    assert (there / "latest.csv").read_text().startswith("metric,variant,period_start,period_end,value\n")
    assert stat.S_IMODE((there / "latest.csv").stat().st_mode) == 0o640
    assert os.listdir(here) == ["result.csv"] and os.listdir(there) == ["latest.csv"]  # no temporary file left
    # a dangling symlink: its target is created, as open() would
    (here / "next.csv").symlink_to(there / "next.csv")
    ok(run(duck_project.path, "-o", here / "next.csv", stdout=subprocess.DEVNULL))
    assert (here / "next.csv").is_symlink() and (there / "next.csv").read_text().startswith("metric,")


def test_timeout_holds_the_output_too(duck_project, tmp_path):
    """A stdout nobody reads: the result (about 200 kB) fills the pipe and the write blocks.
    Before, --timeout held the engine's work only and the run waited for ever; now it stops
    at the limit, names the output, and says the table was written."""
    import time

    engine = duck_project.copy(tmp_path / "duck")
    args = ("compute", "-m", "mrr", "-m", "churn_rate", "-m", "new_customers", "--grain", "day", "--start",
            "2023-01-01", "--end", "2025-01-01", "--format", "jsonl", "--target", "cs_metrics", "--timeout", "6")
    read, write = os.pipe()
    try:
        started = time.monotonic()
        proc = subprocess.Popen(argv(*args, project=engine.path), stdout=write, stderr=subprocess.PIPE, text=True,
                                env=env())
        os.close(write)
        try:
            _, stderr = proc.communicate(timeout=60)
        finally:
            proc.kill()
        took = time.monotonic() - started
    finally:
        os.close(read)
    assert proc.returncode == 1, stderr
    assert "time limit of 6 s (stopped during output)" in stderr and "The rows were written to cs_metrics" in stderr
    assert "Traceback" not in stderr
    assert 6 <= took < 15, took
    assert rows_in(engine.path) == 3 * 731  # 2023 and 2024, every day


def test_a_loop_of_symlinks_is_refused_before_anything_is_computed(duck_project, tmp_path):
    """Before, the run computed, then replaced one of the links with a file."""
    (tmp_path / "a").symlink_to(tmp_path / "b")
    (tmp_path / "b").symlink_to(tmp_path / "a")
    r = expect(run(duck_project.path, "-o", tmp_path / "a", "--log-format", "json", stdout=subprocess.DEVNULL), 2,
               "a loop of symbolic links")
    assert '"stage": "connect"' not in r.stderr  # nothing was computed
    assert os.path.islink(tmp_path / "a") and os.path.islink(tmp_path / "b")


def test_other_commands_say_so_too_when_the_reader_left(duck_project):
    read, write = os.pipe()
    os.close(read)
    try:
        r = subprocess.run(argv("list", project=duck_project.path), stdout=write, stderr=subprocess.PIPE, text=True,
                           env=env(), timeout=120)
    finally:
        os.close(write)
    expect(r, 1, "cannot write the output: stdout: the reader closed it")
    assert "Exception ignored" not in r.stderr and "bug" not in r.stderr


def test_a_closed_stderr_does_not_fail_the_run(duck_project):
    """`2>&-` with --log-format json: before, writing the first event failed the run (exit 1)."""
    cmd = " ".join(f"'{a}'" for a in argv(*ARGS, "--log-format", "json", project=duck_project.path))
    r = subprocess.run(["sh", "-c", f"exec {cmd} 2>&-"], stdout=subprocess.PIPE, text=True, env=env(), timeout=120)
    assert r.returncode == 0
    assert r.stdout.startswith("metric,variant,period_start,period_end,value\n") and len(r.stdout.splitlines()) == 4
