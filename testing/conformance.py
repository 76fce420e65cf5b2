"""The adapter conformance suite: what an adapter must do for csframe's numbers to be trusted on it.

A third-party adapter package proves itself with one line in its own tests::

    from csframe.testing.conformance import AdapterConformance

    class TestMine(AdapterConformance):
        engine = "mine"  # the name its plugin registers (csframe_register_adapters)

The adapter's class must have ``test_namespace`` (:mod:`csframe.core.adapter`): the suite loads its
data into one throwaway namespace of the engine and one of the reference engine (the default
adapter, ``csframe_default_adapter``), once per class, and checks:

* the whole catalog — every metric and variant whose sources the generated data has — at month,
  quarter and week grain and ``--by segment``, each ONE query, equal to the reference row for row
  (relative 1e-9, NULL = NULL, the same warnings); then every ``--by`` split that is not a
  customers column (``step``, ``health_band``, ``customer_id``, ``article_id``);
* the bad-data checks (:mod:`csframe.testing.bad_data`): each bad row named, ``lenient`` leaving it
  out with the right number, a source with no rows a warning, a missing table or column a
  project-file mistake;
* write-back (``compute --target``, when the adapter has ``write_results``): a re-run replaces its
  keys (idempotent), two writers at once on overlapping keys leave each key once and whole, a
  writer killed at its uncommitted stage (the ``csframe_write_stage`` hook, which the adapter
  reports by calling :func:`csframe.core.writeback.write_stage` inside its transaction) leaves the
  previous rows;
* user strings bound literally: hostile ``--param`` values give the number a plain Python count of
  the rows gives, and change no table; a hostile ``--target`` is refused.

The engine's tests skip when its server cannot be reached, or fail when it was named
(``--csframe-engines``) or under ``CI=true``, as ``csframe_case``'s do. The data is the demo
generator's (``csframe_demo_dataset``): 120 customers over 30 months, all twelve sources.
"""

from __future__ import annotations

__all__ = ["AdapterConformance", "CATALOG_RUNS", "SPLIT_RUNS", "HOSTILE_VALUES", "TARGET_NAMES"]

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

import attrs
import pytest
from sqlglot import exp

from csframe.core.errors import DataContractError, ProjectError, UsageError
from csframe.core.hookspecs import hookimpl
from csframe.core.project import Project, SourceBinding
from csframe.core.writeback import UNCOMMITTED, target_table

from .bad_data import CASES, FEB, bad_data_tables
from .engines import _factories, _selected
from .rows import load_rows

END = dt.date(2025, 1, 1)
DEMO = {"customers": 120, "months": 30, "end": END, "seed": 7}
CATALOG_RUNS = (  # (grain, start, by): each the whole catalog in one query, to END
    ("month", "2023-01-01", ()),
    ("quarter", "2023-01-01", ()),
    ("week", "2024-09-01", ()),
    # a customers column and the cohort in one split (one query: each engine groups by both, and the
    # cohort metrics, which need --by cohort, are in it)
    ("month", "2024-01-01", ("segment", "cohort")),
)
ONBOARDING_STEPS = ("connected_data", "invited_team", "created_report", "activated", "onboarding_completed")
SPLIT_RUNS = (  # (metrics, by, grain, start, params): the splits by a dimension that is no customers column
    (("onboarding_completion_rate",), ("step",), "month", "2023-07-01", {"onboarding_steps": ONBOARDING_STEPS}),
    (("onboarding_completion_rate",), ("step", "segment"), "quarter", "2023-01-01",
     {"onboarding_steps": ONBOARDING_STEPS}),
    (("customer_health_score", "health_band_customers"), ("health_band",), "month", "2023-07-01", {}),
    (("customer_health_score",), ("health_band", "segment"), "week", "2024-10-01", {}),
    (("customer_health_score",), ("customer_id",), "month", "2024-01-01", {}),
    (("customer_health_score",), ("customer_id", "segment"), "quarter", "2024-01-01", {}),
    (("kb_article_rating",), ("article_id",), "month", "2023-07-01", {}),
    (("kb_article_rating",), ("article_id",), "week", "2024-10-01", {}),
    (("feature_adoption_rate",), ("segment",), "month", "2024-01-01", {"features": "login, api_call, meeting"}),
)
HOSTILE_VALUES = (  # each must be a value, never SQL (no NUL: not every engine's text can hold one)
    "nosuchevent' OR TRUE --", "a'b", "\\", "\\'", "'; DROP TABLE hostile_events; --", "*/ x /*", 'a"b', "a`b",
    "line\nbreak", "é☃😀𝔘", "$$x$$", "@p0 %s ? :name {}", " padded ", "x" * 10_000,
)
TARGET_NAMES = ("x; DROP TABLE hostile_events", "t'--", "a b", "a.b.c.d")  # no table names: each refused
WRITE_METRICS = ("mrr", "churn_rate", "new_customers")
_TARGET_COLUMNS = ("metric", "variant", "grain", "period_start", "period_end", "dimensions", "value", "computed_at")


def _fresh_target() -> str:
    """A target table of the test's own, in the engine's namespace (dropped with it)."""
    return "csframe_conformance_" + uuid.uuid4().hex[:10]


def _same(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, float) or isinstance(b, float):
        return bool(a == pytest.approx(b, rel=1e-9, abs=1e-9))
    return bool(a == b)


@attrs.define
class _Side:
    """One engine's namespace with the data loaded, and the sessions opened on it."""

    engine: str
    settings: dict[str, Any]
    workdir: Path
    drop: Callable[[], None]
    opened: list[Any] = attrs.Factory(list)

    def session(self, sources: Mapping[str, SourceBinding] | Sequence[str] = ()) -> Any:
        from csframe.core.session import Session

        bindings = dict(sources) if isinstance(sources, Mapping) else {n: SourceBinding(n, table=n) for n in sources}
        s = Session.open(project=Project(dir=self.workdir, adapter=dict(self.settings), sources=bindings))
        self.opened.append(s)
        return s

    def load(self, dataset: Any) -> None:
        s = self.session()
        try:
            adapter = s.adapter()
            adapter.connect(write=True)
            adapter.load_tables(dataset)
        finally:
            s.close()

    def close(self) -> None:
        for s in self.opened:
            s.close()
        self.opened.clear()


@attrs.define
class _Pair:
    tested: _Side
    reference: _Side
    sources: tuple[str, ...]
    dataset: Any
    loaded: set[str] = attrs.Factory(set)


def _side(request: pytest.FixtureRequest, engine: str, workdir: Path) -> _Side:
    factory = _factories(request.config)[engine]
    tag = "csframe_c_" + uuid.uuid4().hex[:12]
    workdir.mkdir(parents=True, exist_ok=True)
    settings, drop = factory.test_namespace(tag, workdir, request.getfixturevalue)
    return _Side(engine, dict(settings), workdir, drop)


def _registry_facts() -> tuple[str | None, Any]:
    from csframe.core.plugin_sets import plugin_set

    loaded = plugin_set()
    return loaded.registry().default_adapter, loaded.plugins()


_REFERENCE_RESULTS: dict[tuple, Any] = {}
"""The reference engine's results on the demo data, by run: every adapter's class of the process
compares with the same runs on the same data (DEMO), so the reference computes each once."""


def _reference_result(pair: _Pair, keys: Sequence[Any], kwargs: Mapping[str, Any]) -> Any:
    key = (pair.reference.engine, tuple(keys), repr(sorted(kwargs.items())))
    if key not in _REFERENCE_RESULTS:
        _REFERENCE_RESULTS[key] = pair.reference.session(pair.sources).compute(keys, end=END, **kwargs)
    return _REFERENCE_RESULTS[key]


class _PauseAtWrite:
    """A plugin object: at the write's uncommitted stage, say so and wait until released."""

    def __init__(self) -> None:
        self.reached = threading.Event()
        self.release = threading.Event()

    @hookimpl
    def csframe_write_stage(self, stage: str, table: str, engine: str) -> None:
        if stage == UNCOMMITTED:
            self.reached.set()
            self.release.wait(120)


_KILLED_WRITER = '''
import json, sys, time
from pathlib import Path
from csframe.core.hookspecs import hookimpl
from csframe.core.project import Project, SourceBinding
from csframe.core.session import Session

args = json.loads(sys.argv[1])


class Pause:
    @hookimpl
    def csframe_write_stage(self, stage, table, engine):
        if stage == "uncommitted":
            Path(args["marker"] + ".tmp").write_text("paused")
            Path(args["marker"] + ".tmp").replace(args["marker"])
            time.sleep(600)


s = Session.open(project=Project(dir=Path(args["dir"]), adapter=args["settings"],
                                 sources={n: SourceBinding(n, table=n) for n in args["sources"]}))
s.plugins.pm.register(Pause())
s.compute(args["metrics"], start=args["start"], end=args["end"], by=args["by"], target=args["target"], retries=0)
'''


class AdapterConformance:
    """Subclass as ``class TestMine(AdapterConformance): engine = "mine"``: the suite runs on that
    registered adapter (see the module's docstring for what it checks)."""

    engine: ClassVar[str] = ""
    """The adapter under test: a name its plugin registers, whose class has ``test_namespace``."""

    # -- the data, loaded once per class on the engine and on the reference engine ------------------
    @pytest.fixture(scope="class")
    @classmethod
    def conformance(cls, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[_Pair]:
        engine = cls.engine
        known = _factories(request.config)
        if engine not in known:
            pytest.fail(f"csframe conformance: {engine or '(no engine set)'!r} is no registered adapter with "
                        f"test_namespace; the test kit knows {', '.join(known) or 'none'}. Set the class's "
                        "engine = \"<name>\" and install the adapter's plugin (pip install -e .).", pytrace=False)
        names, explicit = _selected(request.config)
        if explicit and engine not in names:
            pytest.skip(f"csframe conformance: {engine} is not among the engines named ({', '.join(names)})")
        reference, plugins = _registry_facts()
        if reference is None or reference not in known:
            pytest.fail(f"csframe conformance: the default adapter {reference!r} cannot be the reference engine "
                        "(it must be registered, with test_namespace)", pytrace=False)
        if reference == engine:
            pytest.fail(f"csframe conformance: {engine} is the reference engine itself", pytrace=False)
        dataset = plugins.pm.hook.csframe_demo_dataset(**DEMO)
        if dataset is None:
            pytest.fail("csframe conformance: no plugin answers csframe_demo_dataset (the demo data)", pytrace=False)
        root = tmp_path_factory.mktemp(f"conformance_{engine}")
        sides: list[_Side] = []
        try:
            for name in (reference, engine):
                side = _side(request, name, root / name)
                sides.append(side)
                side.load(dataset)
            yield _Pair(sides[1], sides[0], tuple(dataset.names), dataset)
        finally:
            for side in sides:
                side.close()
                side.drop()

    @staticmethod
    def _loaded(pair: _Pair, name: str, make: Callable[[], Any], only_tested: bool = False) -> None:
        """Load another dataset (bad data, hostile strings) once per class."""
        if name not in pair.loaded:
            data = make()
            pair.tested.load(data)
            if not only_tested:
                pair.reference.load(data)
            pair.loaded.add(name)

    # -- the catalog --------------------------------------------------------------------------------
    @staticmethod
    def _agree(pair: _Pair, keys: Sequence[Any], **kwargs: Any) -> Any:
        ref = _reference_result(pair, keys, kwargs)
        got = pair.tested.session(pair.sources).compute(keys, end=END, **kwargs)
        engine = pair.tested.engine
        assert got.columns == ref.columns, engine
        assert got.warnings == ref.warnings, f"{engine}: its warnings differ from {pair.reference.engine}'s"
        assert len(got.rows) == len(ref.rows) > 0, f"{engine}: {len(got.rows)} rows, {len(ref.rows)} on the reference"
        diffs = [(a, b) for a, b in zip(ref.rows, got.rows)
                 if tuple(a[:-1]) != tuple(b[:-1]) or not _same(a[-1], b[-1])]
        assert not diffs, (f"{engine}: {len(diffs)} of {len(ref.rows)} rows differ from {pair.reference.engine} "
                           f"(reference, {engine}), e.g. {diffs[:3]}")
        return got

    @pytest.mark.parametrize("grain,start,by", CATALOG_RUNS, ids=[f"{g}{'-by-' + '-'.join(b) if b else ''}"
                                                                  for g, _, b in CATALOG_RUNS])
    def test_the_whole_catalog_equals_the_reference(self, conformance: _Pair, grain: str, start: str,
                                                    by: tuple[str, ...]) -> None:
        s = conformance.reference.session(conformance.sources)
        keys = [(rv.metric, rv.variant.name) for rv in s.registry.all_variants()]
        keys = [k for k in keys if not s.missing_sources(k) and not (by and s.graph.unsplittable_sources(k))
                and set(s.graph.needs_by(k)) <= set(by)]  # the cohort metrics need --by cohort
        assert keys
        self._agree(conformance, keys, grain=grain, start=start, by=by)

    @pytest.mark.parametrize("metrics,by,grain,start,params", SPLIT_RUNS,
                             ids=[f"{m[0]}-by-{'-'.join(b)}-{g}" for m, b, g, _, _ in SPLIT_RUNS])
    def test_every_split_equals_the_reference(self, conformance: _Pair, metrics: tuple[str, ...],
                                              by: tuple[str, ...], grain: str, start: str,
                                              params: dict[str, Any]) -> None:
        got = self._agree(conformance, list(metrics), grain=grain, start=start, by=by, params=params or None)
        assert len({r[4] for r in got.rows}) >= 3  # the split has groups

    # -- the bad-data checks ------------------------------------------------------------------------
    @staticmethod
    def _bad(pair: _Pair, **sources: SourceBinding) -> Any:
        AdapterConformance._loaded(pair, "bad_data", bad_data_tables, only_tested=True)
        return pair.tested.session(sources)

    @pytest.mark.parametrize("name", list(CASES))
    def test_a_bad_row_is_named_and_lenient_leaves_it_out(self, conformance: _Pair, name: str) -> None:
        case = CASES[name]
        metric, _, variant = case.metric.partition(":")
        s = self._bad(conformance, **{case.source: SourceBinding(case.source, table=f"{name}_{case.source}")})
        with pytest.raises(DataContractError) as e:
            s.compute([case.metric], start=FEB, end=dt.date(2024, 3, 1))
        assert [str(p) for p in e.value.problems] == [case.problem]
        r = s.compute([case.metric], start=FEB, end=dt.date(2024, 3, 1), lenient=True)
        assert r.value(metric, FEB, variant or None) == pytest.approx(case.right, rel=1e-12, abs=1e-12)
        what = case.problem.split(": ", 1)[1].rsplit(" (1 row", 1)[0]
        assert r.warnings == (f"warning: left out 1 row(s) of {case.source}: {what}",)

    def test_a_source_with_no_rows_is_a_warning(self, conformance: _Pair) -> None:
        s = self._bad(conformance, tickets=SourceBinding("tickets", table="empty_tickets_tickets"))
        r = s.compute(["support_tickets", "first_response_time:mean"], start=FEB, end=dt.date(2024, 3, 1))
        assert r.value("support_tickets", FEB) == 0  # a count over no rows
        assert r.value("first_response_time", FEB, "mean") is None  # a mean over no rows
        assert r.warnings == ("warning: tickets: has no rows (counts and sums over it are 0, means and ratios NULL)",)

    @pytest.mark.parametrize("binding,key", [
        (SourceBinding("subscriptions", table="no_such_subscriptions"), "sources.subscriptions.table"),
        (SourceBinding("subscriptions", table="null_key_subscriptions", columns={"mrr": "mrr_usd"}),
         "sources.subscriptions.columns.mrr"),
    ], ids=["table", "column"])
    def test_a_missing_table_or_column_is_a_project_file_mistake(self, conformance: _Pair, binding: SourceBinding,
                                                                 key: str) -> None:
        s = self._bad(conformance, subscriptions=binding)
        with pytest.raises(ProjectError) as e:
            s.compute(["mrr"], start=FEB, end=dt.date(2024, 3, 1))
        assert e.value.exit_code == 2
        assert f"{key}: " in e.value.message, e.value.message

    # -- write-back ---------------------------------------------------------------------------------
    @staticmethod
    def _writer(pair: _Pair) -> Any:
        s = pair.tested.session(pair.sources)
        if not callable(getattr(s.adapter(), "write_results", None)):
            pytest.fail(f"csframe conformance: {pair.tested.engine} has no write_results (compute --target)",
                        pytrace=False)
        return s

    @staticmethod
    def _write(s: Any, target: str, start: str, end: str, by: Sequence[str] = (), retries: int = 3) -> Any:
        return s.compute(list(WRITE_METRICS), start=start, end=end, by=by, target=target, retries=retries)

    @staticmethod
    def _rows(pair: _Pair, target: str) -> list[tuple]:
        """The target's rows (metric, variant, grain, period_start, period_end, dimensions, value,
        computed_at), read through the adapter, ordered by key."""
        s = pair.tested.session(pair.sources)
        select = exp.select(*(exp.column(c, quoted=True) for c in _TARGET_COLUMNS)).from_(target_table(target))
        rows = s.adapter().execute(select.sql(dialect=s.adapter().DIALECT))
        s.close()
        return sorted((tuple(r) for r in rows), key=lambda r: tuple(str(v) for v in r[:6]))

    @staticmethod
    def _keyed(rows: Sequence[tuple]) -> dict[tuple, tuple]:
        return {tuple(str(v) for v in r[:6]): r for r in rows}

    def test_write_back_is_idempotent(self, conformance: _Pair) -> None:
        target = _fresh_target()
        s = self._writer(conformance)
        written = self._write(s, target, "2024-01-01", "2024-07-01", by=("segment",))
        first = self._rows(conformance, target)
        self._write(s, target, "2024-01-01", "2024-07-01", by=("segment",))
        second = self._rows(conformance, target)
        assert len(first) == len(written.rows) and len(self._keyed(first)) == len(first)  # one row per key
        assert self._keyed(second).keys() == self._keyed(first).keys() and len(second) == len(first)
        assert all(_same(a[6], b[6]) for a, b in zip(first, second))
        assert min(r[7] for r in second) > max(r[7] for r in first)  # every row was replaced

    def test_two_writers_at_once_leave_each_key_once_and_whole(self, conformance: _Pair) -> None:
        """Writer a pauses at its uncommitted stage (its old rows deleted, nothing committed); writer b
        starts on overlapping keys meanwhile, then a is released. Whether b waits for a (a lock) or
        writes first (the last commit wins), every key ends once, each month whole from one writer."""
        target = _fresh_target()
        self._write(self._writer(conformance), target, "2024-01-01", "2024-04-01")  # the table exists, with earlier rows
        a_session, b_session = self._writer(conformance), self._writer(conformance)
        pause = _PauseAtWrite()
        a_session.plugins.pm.register(pause)
        errors: dict[str, BaseException] = {}

        def run(name: str, s: Any, start: str, end: str) -> None:
            try:
                self._write(s, target, start, end, retries=8)
            except BaseException as e:  # noqa: BLE001 - reported by the test
                errors[name] = e

        a = threading.Thread(target=run, args=("a", a_session, "2024-01-01", "2024-07-01"))
        b = threading.Thread(target=run, args=("b", b_session, "2024-04-01", "2024-10-01"))
        a.start()
        try:
            deadline = time.monotonic() + 120
            while not pause.reached.wait(0.1) and a.is_alive() and time.monotonic() < deadline:
                pass
            assert pause.reached.is_set(), (
                f"{conformance.tested.engine}: the write never reported its uncommitted stage ({errors or 'it ended'}): "
                "call csframe.core.writeback.write_stage(UNCOMMITTED) inside write_results' transaction")
            b.start()
            b.join(2)  # b waits for a's lock, retries, or writes meanwhile
        finally:
            pause.release.set()
        a.join(120)
        if b.is_alive() or b.ident is not None:
            b.join(120)
        assert not errors, errors
        rows = self._rows(conformance, target)
        assert len(self._keyed(rows)) == len(rows) == 3 * 9, rows  # Jan–Sep, each key once
        writers = {r[7] for r in rows}
        assert len(writers) == 2, "every row is a's or b's, none the first run's"
        by_month: dict[Any, set[Any]] = {}
        for r in rows:
            by_month.setdefault(str(r[3]), set()).add(r[7])
        assert all(len(v) == 1 for v in by_month.values()), by_month  # each month whole, from one writer

    def test_a_writer_killed_mid_write_leaves_the_previous_rows(self, conformance: _Pair) -> None:
        target = _fresh_target()
        s = self._writer(conformance)
        self._write(s, target, "2024-01-01", "2024-07-01", by=("segment",))
        before = self._rows(conformance, target)
        conformance.tested.close()  # an engine of one writing process (a file) lets the victim open it
        marker = conformance.tested.workdir / f"paused-{uuid.uuid4().hex[:8]}"
        args = {"dir": str(conformance.tested.workdir), "settings": conformance.tested.settings,
                "sources": list(conformance.sources), "marker": str(marker), "metrics": list(WRITE_METRICS),
                "start": "2024-01-01", "end": "2024-07-01", "by": ["segment"], "target": target}
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}  # what this process imports
        victim = subprocess.Popen([sys.executable, "-c", _KILLED_WRITER, json.dumps(args)],
                                  cwd=conformance.tested.workdir, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True, env=env)
        try:
            deadline = time.monotonic() + 120
            while not marker.exists():
                if victim.poll() is not None:
                    raise AssertionError(f"the writer ended (exit {victim.returncode}) before its write paused: "
                                         f"{victim.communicate()[1][-3000:]}")
                assert time.monotonic() < deadline, "the write never reported its uncommitted stage"
                time.sleep(0.05)
            os.kill(victim.pid, signal.SIGKILL)
            victim.communicate(timeout=30)
        finally:
            if victim.poll() is None:
                victim.kill()
                victim.communicate(timeout=30)
        assert victim.returncode == -signal.SIGKILL
        after = self._rows(conformance, target)
        assert self._keyed(after) == self._keyed(before) and len(after) == len(before)  # intact and readable
        self._write(self._writer(conformance), target, "2024-01-01", "2024-07-01", by=("segment",))  # nothing left locked
        assert self._keyed(self._rows(conformance, target)).keys() == self._keyed(before).keys()

    # -- user strings -------------------------------------------------------------------------------
    #
    # customers c1 (created 2024-01-05), c2 (2024-01-10); events: u1 of c1 named each hostile value on
    # 2024-01-06, u2 of c2 named "other" on 2024-01-11. activation_rate in January with
    # activation_event = v: c1 has v one day after its creation, c2 not: 1 of 2 = 0.5 (an injected
    # OR TRUE would make it 1). active_users with active_events = [v stripped]: counted in plain Python.
    @staticmethod
    def _hostile_tables() -> Any:
        t = dt.datetime
        events = [{"user_id": "u1", "customer_id": "c1", "name": v, "occurred_at": t(2024, 1, 6)}
                  for v in HOSTILE_VALUES]
        events.append({"user_id": "u2", "customer_id": "c2", "name": "other", "occurred_at": t(2024, 1, 11)})
        data = load_rows({"customers": [{"customer_id": "c1", "created_at": t(2024, 1, 5)},
                                        {"customer_id": "c2", "created_at": t(2024, 1, 10)}],
                          "events": events})
        return type(data)(tuple(attrs.evolve(tb, name=f"hostile_{tb.name}") for tb in data.tables))

    def test_user_strings_are_bound_literally(self, conformance: _Pair) -> None:
        self._loaded(conformance, "hostile", self._hostile_tables, only_tested=True)
        sources = {n: SourceBinding(n, table=f"hostile_{n}") for n in ("customers", "events")}
        s = conformance.tested.session(sources)
        count = exp.select(exp.Count(this=exp.Star())).from_(exp.to_table("hostile_events"))
        rows_before = s.adapter().execute(count.sql(dialect=s.adapter().DIALECT))
        for v in HOSTILE_VALUES:  # one query a value: both metrics, each reading its parameter
            w = v.strip()
            users = len({"u1" for x in HOSTILE_VALUES if x == w} | ({"u2"} if w == "other" else set()))
            r = s.compute(["activation_rate", "active_users"], start="2024-01-01", end="2024-02-01",
                          params={"activation_event": v, "active_events": [w]})
            assert r.value("activation_rate", "2024-01-01") == 0.5, repr(v[:80])
            assert r.value("active_users", "2024-01-01") == users, repr(v[:80])
        for name in TARGET_NAMES:
            with pytest.raises(UsageError):
                s.compute(["activation_rate"], start="2024-01-01", end="2024-02-01", target=name)
        assert s.adapter().execute(count.sql(dialect=s.adapter().DIALECT)) == rows_before  # no table changed
