"""The data-contract counts of every source of a run go to the engine as one query (one round
trip, where each query costs a second on BigQuery), and come back cut per source: each source's
bad rows are still its own."""

from __future__ import annotations

import datetime as dt

from csframe.core.project import Project
from csframe.core.session import Session
from tests.support.projects import make_project

T = dt.datetime(2024, 1, 5)


def _customers(bad: int):  # `bad` rows with no customer_id
    return [{"customer_id": None if i < bad else f"c{i}", "created_at": T, "segment": "smb"} for i in range(5)]


def _subscriptions(bad: int):
    return [{"subscription_id": f"s{i}", "customer_id": None if i < bad else f"c{i}", "started_at": T,
             "ended_at": None, "mrr": 10.0, "is_trial": False} for i in range(5)]


def _tickets(bad: int):
    return [{"ticket_id": f"t{i}", "customer_id": None if i < bad else f"c{i}", "created_at": T,
             "first_response_at": T + dt.timedelta(hours=1), "resolved_at": None, "contacts": None,
             "reopened": False}
            for i in range(5)]


class Counting:
    """The session's adapter, its ``execute`` calls counted."""

    def __init__(self, session: Session) -> None:
        self.adapter, self.sent = session.adapter(), []
        real = self.adapter.execute

        def execute(sql, *a, **k):
            self.sent.append(sql)
            return real(sql, *a, **k)

        self.adapter.execute = execute


def _check(tmp_path, bad: dict[str, int]):
    make_project(tmp_path, {"customers": _customers(bad["customers"]), "subscriptions": _subscriptions(bad["subscriptions"]),
                            "tickets": _tickets(bad["tickets"])})
    s = Session.open(project=Project.load(tmp_path), entry_points=False)
    counting = Counting(s)
    counting.adapter.connect()
    names = ["customers", "subscriptions", "tickets"]
    problems, absent = s.inspect_sources(names)
    assert not problems
    counting.sent.clear()
    return s.check_data(names, {}, absent), counting.sent


def test_clean_sources_are_checked_in_one_query(tmp_path):
    problems, sent = _check(tmp_path, {"customers": 0, "subscriptions": 0, "tickets": 0})
    assert problems == [] and len(sent) == 1  # three sources, one round trip (it was three)


def test_each_source_keeps_its_own_counts(tmp_path):
    # 1, 2 and 3 rows without a customer_id: each counted against its own source, by hand
    problems, sent = _check(tmp_path, {"customers": 1, "subscriptions": 2, "tickets": 3})
    found = {(p.source, p.column): p.rows for p in problems}
    assert found == {("customers", "customer_id"): 1, ("subscriptions", "customer_id"): 2,
                     ("tickets", "customer_id"): 3}
    assert len(sent) == 1 + 3  # the counts, then one sample query per offending rule
