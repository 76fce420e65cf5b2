"""``csframe report`` (issue 14): one self-contained HTML page of charts, each with its numbers
and definitions, built from the README tour's demo project (``csframe init tour --demo
--customers 2000``, with a fixed ``--end``), computed in one run; checked in Debian's headless
Chromium (the page loads without a console message, every chart is drawn and sized, a
screenshot is not blank) and against ``compute``'s numbers for the same options."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from tests.cli.test_cli import cs, expect, ok, parse_csv
from tests.support.chromium import render

RANGE = ("--start", "2024-01-01", "--end", "2025-01-01")
SECTIONS = ["mrr", "customers", "churn", "nrr", "health", "support"]


def _churn_variants() -> tuple[str, ...]:
    from csframe.core.plugin_manager import load_plugins
    from csframe.core.registry import build_registry

    return tuple(build_registry(load_plugins(entry_points=False)).variant_names("churn_rate"))


CHURN_VARIANTS = _churn_variants()  # the report shows every variant of churn_rate side by side


class _Page(HTMLParser):
    """The page's sections, chart divs, table cells (with their attributes) and figures' JSON."""

    def __init__(self) -> None:
        super().__init__()
        self.sections: list[str] = []
        self.charts: list[str] = []
        self.cells: list[dict[str, str]] = []
        self.tables: list[str] = []
        self.period = ""
        self.figures = ""
        self.notes: list[str] = []
        self._in: str | None = None
        self._cell: dict[str, str] | None = None
        self.scripts_from: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "section":
            self.sections.append(a.get("id", ""))
        elif tag == "div" and a.get("class") == "chart":
            self.charts.append(a["id"].removeprefix("chart-"))
        elif tag == "table":
            self.tables.append(a.get("data-chart", ""))
        elif tag == "th" and "data-period" in a:
            self.period = a["data-period"]
        elif tag == "td" and "data-metric" in a:
            self._cell = {**a, "period": self.period, "chart": self.tables[-1], "text": ""}
        elif tag == "script":
            if "src" in a:
                self.scripts_from.append(a["src"])
            if a.get("id") == "csframe-figures":
                self._in = "figures"
        elif tag == "link" and a.get("rel") == "stylesheet":
            self.scripts_from.append(a.get("href", ""))
        elif tag == "li" and self.sections and self.sections[-1] == "notes":
            self._in = "note"
            self.notes.append("")

    def handle_endtag(self, tag):
        if tag == "td" and self._cell is not None:
            self.cells.append(self._cell)
            self._cell = None
        if tag in ("script", "li"):
            self._in = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell["text"] += data
        elif self._in == "figures":
            self.figures += data
        elif self._in == "note":
            self.notes[-1] += data


def _page(path: Path) -> _Page:
    p = _Page()
    p.feed(path.read_text(encoding="utf-8"))
    return p


@pytest.fixture(scope="module")
def tour(tmp_path_factory) -> Path:
    """The README tour's project (its `csframe init tour --demo --customers 2000`), with a
    fixed end, so that its numbers do not move with the date."""
    path = tmp_path_factory.mktemp("report") / "tour"
    ok(cs("init", path, "--demo", "--customers", "2000", "--end", "2025-01-01"))
    return path


@pytest.fixture(scope="module")
def report(tour) -> tuple[Path, Path, object]:
    out = tour.parent / "report.html"
    images = tour.parent / "images"
    r = ok(cs("report", *RANGE, "-o", out, "--images", images, project=tour, timeout=300))
    return out, images, r


def test_the_page_is_one_file_with_every_section(report, tour):
    out, _, r = report
    page = _page(out)
    assert page.scripts_from == []  # nothing loaded from elsewhere: plotly.js is in the page
    assert re.search(r"<script>/\*\*\s*\n?\s*\* plotly\.js", out.read_text(encoding="utf-8")[:200_000]), \
        "plotly.js is not embedded"
    from csframe.core.session import Session

    with Session.open(tour) as s:
        has_cohorts = "logo_retention" in s.registry.metrics
    expected = [*SECTIONS, *(["cohorts"] if has_cohorts else [])]
    assert page.sections in (expected, [*expected, "notes"])  # notes: only when something is left out
    if not has_cohorts:
        assert "cohorts: not available" in page.notes
        assert "left out: cohorts: not available" in r.stderr
    # every variant of churn_rate and retention_rate side by side, and why they differ
    churn = {(c["data-metric"], c["data-variant"]) for c in page.cells if c["chart"] == "churn_rate"}
    assert churn == {("churn_rate", v) for v in CHURN_VARIANTS}
    text = out.read_text(encoding="utf-8")
    assert "Why the variants differ" in text and "(|S| − |E|) / |S|" in text  # net_loss's reading (agile)


def test_the_tables_hold_computes_numbers_for_the_same_options(report, tour):
    out, _, _ = report
    page = _page(out)
    # the cohort triangle: compute --by cohort's numbers (its own run: the cohort metrics need --by cohort)
    triangle = [c for c in page.cells if c["chart"] == "cohort_triangle"]
    assert {(c["data-metric"], c["data-variant"]) for c in triangle} == {("logo_retention", "default")}
    rows = parse_csv(ok(cs("compute", "-m", "logo_retention", "--by", "cohort", *RANGE, "--format", "csv",
                           project=tour, timeout=300)).stdout)
    cohorts = {(dict(zip(rows[0], r))["period_start"], dict(zip(rows[0], r))["cohort"]): dict(zip(rows[0], r))["value"]
               for r in rows[1:]}
    assert len(triangle) > 20 and len({json.loads(c["data-group"])["cohort"] for c in triangle}) >= 6
    for c in triangle:
        key = (c["period"], json.loads(c["data-group"])["cohort"])
        assert c["data-value"] == cohorts.get(key, ""), (key, c["data-value"])  # a cell before its cohort: empty
    page.cells = [c for c in page.cells if c["chart"] != "cohort_triangle"]
    keys = sorted({f'{c["data-metric"]}:{c["data-variant"]}' for c in page.cells})
    args = [a for k in keys for a in ("-m", k)]
    rows = parse_csv(ok(cs("compute", *args, *RANGE, "--format", "csv", project=tour, timeout=300)).stdout)
    head = rows[0]
    computed = {}
    for row in rows[1:]:
        rec = dict(zip(head, row))
        computed[(rec["metric"], rec["variant"], rec["period_start"], rec.get("health_band") or None)] = rec["value"]
    assert len(page.cells) > 300
    for c in page.cells:
        key = (c["data-metric"], c["data-variant"], c["period"], c.get("data-part"))
        assert key in computed, key
        assert c["data-value"] == computed[key], (key, c["data-value"], computed[key])
    # shown as compute's table shows them (the metrics without a key of their own)
    plain = [k for k in keys if not k.startswith("health_band_customers")]
    table = ok(cs("compute", *[a for k in plain for a in ("-m", k)], *RANGE, project=tour, timeout=300)).stdout
    shown = {}
    for line in table.splitlines()[2:]:
        metric, variant, start, _end, value, _unit = re.split(r"\s{2,}", line.strip())
        shown[(metric, variant, start)] = value
    for c in page.cells:
        if c.get("data-part") is None:
            assert c["text"] == shown[(c["data-metric"], c["data-variant"], c["period"])], c


def test_the_mrr_bridge_starts_from_the_first_periods_opening_mrr_and_ends_on_each_periods_mrr(report):
    out, _, _ = report
    page = _page(out)
    figure = json.loads(page.figures)["mrr_bridge"]["data"][0]
    cells = {(c["data-metric"], c["period"]): float(c["data-value"]) for c in page.cells if c["chart"] == "mrr_bridge"}
    jan = {m: cells[(m, "2024-01-01")] for m in ("new_mrr", "expansion_mrr", "reactivation_mrr", "contraction_mrr",
                                                 "churned_mrr", "mrr")}
    # the opening level: MRR at the end of January less January's net movement
    opening = jan["mrr"] - (jan["new_mrr"] + jan["expansion_mrr"] + jan["reactivation_mrr"]
                            - jan["contraction_mrr"] - jan["churned_mrr"])
    assert figure["measure"][0] == "absolute" and figure["y"][0] == pytest.approx(opening)
    # then per period: five movements (losses negative) and the level ("total": plotly's running sum)
    assert figure["measure"][1:7] == ["relative"] * 5 + ["total"]
    assert figure["y"][1:6] == pytest.approx([jan["new_mrr"], jan["expansion_mrr"], jan["reactivation_mrr"],
                                              -jan["contraction_mrr"], -jan["churned_mrr"]])
    # the running sum lands on each period's MRR: the bridge closes
    level = figure["y"][0]
    for i, measure in enumerate(figure["measure"][1:], start=1):
        if measure == "relative":
            level += figure["y"][i]
        else:
            period = [p for p in sorted({c[1] for c in cells})][(i // 6) - 1]
            assert level == pytest.approx(cells[("mrr", period)], abs=0.01), period


def test_in_chromium_the_page_loads_without_console_messages_and_draws_every_chart(report, tmp_path):
    out, _, _ = report
    page = _page(out)
    shot = tmp_path / "report.png"
    seen = render(out, screenshot=shot)
    assert seen.console == [], seen.console
    figures = json.loads(page.figures)
    assert sorted(page.charts) == sorted(figures) and len(figures) >= 12
    for chart in page.charts:  # plotly drew it: its <svg class="main-svg"> sized, with its traces
        m = re.search(rf'<div class="chart[^"]*" id="chart-{chart}"[^>]*>(.*?)</svg>', seen.dom, re.S)
        assert m, f"chart {chart} was not drawn"
        size = re.search(r'<svg class="main-svg"[^>]*width="(\d+)" height="(\d+)"', m.group(1))
        assert size and int(size.group(1)) > 300 and int(size.group(2)) > 200, (chart, size and size.groups())
    assert seen.dom.count('class="trace') >= len(figures)
    from PIL import Image

    with Image.open(shot) as im:
        w, h = im.size
        counts = {color: n for n, color in im.convert("RGB").getcolors(1 << 24)}
    assert (w, h) == (1300, 2400)
    assert w * h - counts.get((255, 255, 255), 0) > 0.2 * w * h  # the header, the cards on grey, lines, bars, tables
    assert len(counts) > 200  # drawn, not a flat page
    assert (37, 99, 235) in counts  # the MRR line and the bridge's totals (#2563eb)
    assert (22, 163, 74) in counts  # the bridge's gains (#16a34a)


def test_images_a_png_per_chart(report):
    out, images, r = report
    page = _page(out)
    from PIL import Image

    written = sorted(p.stem for p in images.glob("*.png"))
    assert written == sorted(page.charts)
    assert f"wrote {len(written)} images into {images}" in r.stderr
    with Image.open(images / "mrr_bridge.png") as im:
        colors = {c for _, c in im.convert("RGB").getcolors(1 << 20)}
    assert (37, 99, 235) in colors and (22, 163, 74) in colors  # levels and gains drawn


def test_metric_keeps_its_sections_and_notes_what_is_left_out(tour, tmp_path):
    out = tmp_path / "churn.html"
    r = ok(cs("report", "-m", "churn_rate:net_loss", "-m", "nrr", *RANGE, "-o", out, project=tour))
    page = _page(out)
    assert [s for s in page.sections if s != "notes"] == ["churn", "nrr"]
    assert {(c["data-metric"], c["data-variant"]) for c in page.cells} == {
        ("churn_rate", "net_loss"), ("net_revenue_retention", "default")}
    # the sections --metric did not ask for go without a note (cohorts has its own, until it exists)
    assert [n for n in page.notes if n != "cohorts: not available"] == []
    assert "csframe: wrote" in r.stderr and "(2 charts)" in r.stderr


@pytest.mark.parametrize("args, code, says", [
    (["-m", "churn_rat", "-o", "x.html"], 2, "did you mean"),
    (["-m", "churn_rate"], 2, "--output"),
    (["-m", "churn_rate", "-o", "-"], 2, "the report is a file"),
    (["-m", "churn_rate", "-o", "no/such/dir/x.html"], 2, "cannot write there"),
    (["-m", "churn_rate", "--by", "nosuch", "-o", "x.html"], 2, "nosuch"),
])
def test_bad_input_is_a_usage_error(tour, tmp_path, args, code, says):
    r = expect(cs("report", *args, project=tour, cwd=tmp_path), code, says)
    assert not (tmp_path / "x.html").exists()
    assert r.stdout == ""


def test_without_the_report_extra_it_says_what_to_install(tour, tmp_path):
    blocked = tmp_path / "blocked" / "plotly"
    blocked.mkdir(parents=True)
    (blocked / "__init__.py").write_text('raise ImportError("No module named plotly (blocked by the test)")\n')
    r = expect(cs("report", "-m", "mrr", "-o", tmp_path / "r.html", project=tour,
                  env={"PYTHONPATH": str(blocked.parent)}), 2, "pip install 'csframe[report]'")
    assert not (tmp_path / "r.html").exists()
    assert "plotly" in r.stderr


def test_by_draws_a_line_per_group_and_a_bridge_per_group_with_computes_numbers(tour, tmp_path):
    out = tmp_path / "by.html"
    ok(cs("report", "-m", "mrr", "-m", "new_mrr", "-m", "churned_mrr", "-m", "churn_rate", "--by", "segment",
          *RANGE, "-o", out, project=tour))
    page = _page(out)
    churn = [a for v in CHURN_VARIANTS for a in ("-m", f"churn_rate:{v}")]
    rows = parse_csv(ok(cs("compute", "-m", "mrr", "-m", "new_mrr", "-m", "churned_mrr", *churn, "--by", "segment",
                           *RANGE, "--format", "csv", project=tour)).stdout)
    computed = {(r[0], r[1], r[2], r[4]): r[5] for r in rows[1:]}  # metric, variant, period_start, segment → value
    segments = sorted({r[4] for r in rows[1:]})
    assert len(segments) >= 3
    # a bridge per segment (its own chart), MRR and churn one chart with a line per segment
    assert sorted(c for c in page.charts if c.startswith("mrr_bridge_")) == sorted(f"mrr_bridge_{s}" for s in segments)
    assert "mrr" in page.charts and "churn_rate" in page.charts
    seen = set()
    for c in page.cells:
        key = (c["data-metric"], c["data-variant"], c["period"], json.loads(c["data-group"])["segment"])
        assert c["data-value"] == computed[key], c
        seen.add(key)
    assert seen == set(computed)  # every computed number is in a table (mrr twice: its chart, the bridge's level)


def test_the_cohort_triangle_is_a_second_compute_by_cohort(tour, tmp_path, monkeypatch):
    """The triangle's metric needs --by cohort: it is the report's one other run, of it alone."""
    from click.testing import CliRunner

    from csframe.cli.app import _load_commands, cli
    from csframe.core.session import Session

    calls = []
    real = Session.compute

    def counted(self, metrics, **kwargs):
        calls.append((list(metrics), tuple(kwargs.get("by") or ())))
        return real(self, metrics, **kwargs)

    monkeypatch.setattr(Session, "compute", counted)
    _load_commands()
    out = tmp_path / "two.html"
    r = CliRunner().invoke(cli, ["report", "--project", str(tour), "-m", "mrr", "-m", "logo_retention", *RANGE,
                                 "-o", str(out)], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    assert sorted(calls) == sorted([([("logo_retention", "default")], ("cohort",)), ([("mrr", "default")], ())])
    assert "computed in two queries" in out.read_text(encoding="utf-8")


def test_everything_the_report_shows_comes_from_one_compute(tour, tmp_path, monkeypatch):
    """One Session.compute call (one query, as compute's) for every chart of the page."""
    from click.testing import CliRunner

    from csframe.cli.app import _load_commands, cli
    from csframe.core.session import Session

    calls = []
    real = Session.compute

    def counted(self, metrics, **kwargs):
        calls.append(list(metrics))
        return real(self, metrics, **kwargs)

    monkeypatch.setattr(Session, "compute", counted)
    _load_commands()
    out = tmp_path / "one.html"
    r = CliRunner().invoke(cli, ["report", "--project", str(tour), "-m", "mrr", "-m", "new_mrr", "-m", "churn_rate",
                                 "-m", "nps", *RANGE, "-o", str(out)], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    assert len(calls) == 1
    shown = {(c["data-metric"], c["data-variant"]) for c in _page(out).cells}
    assert shown == set(calls[0])


def test_images_into_a_place_that_cannot_be_a_directory_fails_before_computing(tour, tmp_path):
    (tmp_path / "afile").write_text("")
    expect(cs("report", "-m", "mrr", "-o", tmp_path / "r.html", "--images", tmp_path / "afile" / "x", project=tour),
           2, "--images", "cannot create it")
    assert not (tmp_path / "r.html").exists()  # nothing computed, no page written
