"""``csframe graph``: an image drawn without graphviz, no half-written file, and a word when
the program reading its output is gone (``| dot`` where graphviz is not installed)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.cli.test_cli import CSFRAME, _env, cs, expect, ok

# ltv_to_cac = customer_lifetime_value / customer_acquisition_cost; the acquisition cost reads the
# costs source, the lifetime value (via arpu and the lifespan) the subscriptions source
LTV_LABELS = ("ltv_to_cac:default", "customer_acquisition_cost:default", "source costs", "source subscriptions")


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    """A starter project: the graph needs definitions, no data."""
    path = tmp_path_factory.mktemp("graph") / "p"
    ok(cs("init", path))
    return path


def _leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name != "csframe.toml")


def test_svg_is_drawn_without_graphviz_with_every_node(project, tmp_path):
    out = tmp_path / "ltv.svg"
    env = {"PATH": str(Path(CSFRAME).parent)}  # no `dot` anywhere on it
    ok(cs("graph", "ltv_to_cac", "--format", "svg", "--output", out, project=project, env=env))
    text = out.read_text(encoding="utf-8")
    assert text.startswith("<?xml") and "<svg" in text
    for label in LTV_LABELS:
        assert f">{label}<" in text, label
    assert "mrr:default" not in text  # only what ltv_to_cac depends on
    assert _leftovers(tmp_path) == ["ltv.svg"]


def test_png_is_a_png_and_the_same_each_time(project, tmp_path):
    a, b = tmp_path / "a.png", tmp_path / "b.png"
    for path in (a, b):
        ok(cs("graph", "ltv_to_cac", "--format", "png", "-o", path, project=project))
    assert a.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert a.read_bytes() == b.read_bytes()


def test_an_image_needs_a_file(project):
    expect(cs("graph", "ltv_to_cac", "--format", "png", project=project), 2, "--output FILE")
    expect(cs("graph", "--format", "dot", "-o", "x.dot", project=project), 2, "stdout")


def _invoke(project: Path, *args: str):
    from csframe.cli.app import _load_commands, cli

    _load_commands()
    return CliRunner().invoke(cli, ["graph", "ltv_to_cac", *args, "--project", str(project)])


def test_a_failed_drawing_leaves_no_file(project, tmp_path, monkeypatch):
    from matplotlib.figure import Figure

    def broken_savefig(self, fname, **kwargs):
        fname.write(b"\x89PNG half")  # some bytes, then the failure
        raise OSError("No space left on device")

    monkeypatch.setattr(Figure, "savefig", broken_savefig)
    out = tmp_path / "ltv.png"
    r = _invoke(project, "--format", "png", "--output", str(out))
    assert r.exit_code == 1, r.output
    assert "could not write the image (No space left on device)" in r.output and "bug" not in r.output, r.output
    assert _leftovers(tmp_path) == []


def test_without_the_graph_extra_it_says_what_to_install(project, tmp_path, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "networkx", None)  # `import networkx` fails
    out = tmp_path / "ltv.svg"
    r = _invoke(project, "--format", "svg", "--output", str(out))
    assert r.exit_code == 2 and "networkx" in r.output and "csframe[graph]" in r.output, r.output
    assert _leftovers(tmp_path) == []


@pytest.mark.parametrize("fmt", ["dot", "text"])
def test_a_reader_that_left_is_named(project, fmt):
    """``csframe graph --format dot | dot -Tpng`` where `dot` is missing: the shell's reader is
    gone at once; csframe says why instead of exiting silently."""
    p = subprocess.Popen([CSFRAME, "graph", "--format", fmt, "--project", str(project)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=_env())
    p.stdout.close()  # the reader that never started
    err = p.stderr.read().decode()
    assert p.wait(timeout=120) == 1, err
    assert "broken pipe" in err and "--format png --output FILE" in err, err
    assert "Traceback" not in err and err.count("error:") == 1, err


def test_an_output_where_nothing_can_be_written(project):
    expect(cs("graph", "ltv_to_cac", "--format", "svg", "-o", "/proc/ltv.svg", project=project), 2,
           "--output /proc/ltv.svg: cannot write there", "Name a file")
    expect(cs("graph", "ltv_to_cac", "--format", "svg", "-o", "/nonexistent/ltv.svg", project=project), 2,
           "directory /nonexistent does not exist")
