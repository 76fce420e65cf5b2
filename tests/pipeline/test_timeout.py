"""``--timeout`` holds the whole command, not only what the engine runs: a plugin that keeps a
write waiting (here the test plugin at the write's uncommitted stage) is stopped soon after the
limit, the transaction rolled back. (The output's share: test_output.py.)"""

from __future__ import annotations

import time

from tests.pipeline.commands import cs, expect
from tests.pipeline.pause import paused_project
from tests.pipeline.projects import RANGE
from tests.pipeline.test_writeback import METRICS, compute


def test_a_write_held_up_past_the_limit_is_stopped_and_rolled_back(duck_project, tmp_path):
    engine = duck_project.copy(tmp_path / "duck")
    expect(compute(engine, *RANGE), 0)
    before = engine.rows()
    slow = paused_project(engine, tmp_path / "slow", seconds=60)  # the hook sleeps a minute, inside the transaction
    started = time.monotonic()
    r = expect(cs("compute", *METRICS, *RANGE, "--target", "cs_metrics", "--timeout", "4", project=slow), 1,
               "time limit of 4 s", "stopped during write")
    took = time.monotonic() - started
    assert took < 15, f"stopped after {took:.1f} s, not soon after the 4 s limit (+2 s grace)"
    assert "bug" not in r.stderr and r.stdout == ""
    assert engine.rows() == before
