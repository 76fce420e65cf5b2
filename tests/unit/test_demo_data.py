"""The demo data: deterministic, shaped by the data contract, realistic, and loadable into DuckDB."""

from __future__ import annotations

import collections
import datetime as dt
import itertools
import os
import subprocess
import sys
from decimal import Decimal
from typing import Any

import pytest
from csframe.adapters.duckdb_io import write_dataset
from csframe.plugins import demo

END = dt.date(2025, 1, 1)
MONTHS = 36
START = dt.datetime(2022, 1, 1)
SMALL = 200

# the data contract's columns, written out here rather than read from the module under test
CONTRACT = {
    "customers": [
        ("customer_id", "VARCHAR"),
        ("created_at", "TIMESTAMP"),
        ("segment", "VARCHAR"),
        ("plan", "VARCHAR"),
        ("region", "VARCHAR"),
        ("csm", "VARCHAR"),
    ],
    "subscriptions": [
        ("subscription_id", "VARCHAR"),
        ("customer_id", "VARCHAR"),
        ("started_at", "TIMESTAMP"),
        ("ended_at", "TIMESTAMP"),
        ("mrr", "DECIMAL(18,2)"),
        ("is_trial", "BOOLEAN"),
    ],
    "invoices": [
        ("invoice_id", "VARCHAR"),
        ("customer_id", "VARCHAR"),
        ("paid_at", "TIMESTAMP"),
        ("amount", "DECIMAL(18,2)"),
        ("kind", "VARCHAR"),
    ],
    "renewals": [
        ("contract_id", "VARCHAR"),
        ("customer_id", "VARCHAR"),
        ("due_at", "DATE"),
        ("value_up", "DECIMAL(18,2)"),
        ("renewed", "BOOLEAN"),
        ("renewed_value", "DECIMAL(18,2)"),
    ],
    "trials": [
        ("trial_id", "VARCHAR"),
        ("customer_id", "VARCHAR"),
        ("started_at", "TIMESTAMP"),
        ("converted_at", "TIMESTAMP"),
    ],
    "users": [("user_id", "VARCHAR"), ("customer_id", "VARCHAR"), ("created_at", "TIMESTAMP")],
    "events": [("user_id", "VARCHAR"), ("customer_id", "VARCHAR"), ("name", "VARCHAR"), ("occurred_at", "TIMESTAMP")],
    "survey_responses": [
        ("response_id", "VARCHAR"),
        ("customer_id", "VARCHAR"),
        ("survey", "VARCHAR"),
        ("score", "DOUBLE"),
        ("responded_at", "TIMESTAMP"),
    ],
    "tickets": [
        ("ticket_id", "VARCHAR"),
        ("customer_id", "VARCHAR"),
        ("created_at", "TIMESTAMP"),
        ("first_response_at", "TIMESTAMP"),
        ("resolved_at", "TIMESTAMP"),
        ("contacts", "INTEGER"),
        ("reopened", "BOOLEAN"),
    ],
    "costs": [("incurred_at", "TIMESTAMP"), ("category", "VARCHAR"), ("amount", "DECIMAL(18,2)")],
    "referrals": [
        ("referral_id", "VARCHAR"),
        ("referrer_customer_id", "VARCHAR"),
        ("referred_at", "TIMESTAMP"),
        ("converted_at", "TIMESTAMP"),
    ],
    "kb_ratings": [("article_id", "VARCHAR"), ("rated_at", "TIMESTAMP"), ("rating", "DOUBLE")],
}
NULLABLE = {
    ("customers", "region"),
    ("subscriptions", "ended_at"),
    ("invoices", "kind"),
    ("trials", "converted_at"),
    ("tickets", "first_response_at"),
    ("tickets", "resolved_at"),
    ("tickets", "contacts"),
    ("referrals", "converted_at"),
}
# keys (data-contract.md, "Keys"); events and kb_ratings have many rows per user and per article,
# so, like costs, they have no key
KEYS = {
    "customers": ("customer_id",),
    "subscriptions": ("subscription_id", "started_at"),
    "invoices": ("invoice_id",),
    "renewals": ("contract_id",),
    "trials": ("trial_id",),
    "users": ("user_id",),
    "survey_responses": ("response_id",),
    "tickets": ("ticket_id",),
    "referrals": ("referral_id",),
}
PYTHON_TYPES = {
    "VARCHAR": str,
    "TIMESTAMP": dt.datetime,
    "DATE": dt.date,
    "DECIMAL(18,2)": Decimal,
    "DOUBLE": float,
    "INTEGER": int,
    "BOOLEAN": bool,
}


@pytest.fixture(scope="module")
def data() -> demo.Dataset:
    return demo.generate(customers=SMALL, months=MONTHS, end=END, seed=42)


def records(table: demo.Table) -> list[dict[str, Any]]:
    names = [c.name for c in table.columns]
    return [dict(zip(names, row)) for row in table.rows]


def month_starts() -> list[dt.datetime]:
    return [dt.datetime(2022 + m // 12, m % 12 + 1, 1) for m in range(MONTHS + 1)]


def is_month_start(t: dt.datetime | None) -> bool:
    return t is not None and t.day == 1 and t.time() == dt.time(0)


def paid_rows(data: demo.Dataset) -> list[dict[str, Any]]:
    return [s for s in records(data.table("subscriptions")) if not s["is_trial"] and s["mrr"] > 0]


def paid_intervals(data: demo.Dataset) -> dict[str, list[tuple[dt.datetime, dt.datetime | None]]]:
    """Per customer, the merged intervals during which some paid row runs."""
    rows = collections.defaultdict(list)
    for s in paid_rows(data):
        rows[s["customer_id"]].append((s["started_at"], s["ended_at"]))
    merged: dict[str, list[tuple[dt.datetime, dt.datetime | None]]] = {}
    for cid, spans in rows.items():
        spans.sort(key=lambda span: (span[0], span[1] or dt.datetime.max))
        out: list[list[Any]] = []
        for a, b in spans:
            if out and (out[-1][1] is None or a <= out[-1][1]):
                if out[-1][1] is not None and (b is None or b > out[-1][1]):
                    out[-1][1] = b
            else:
                out.append([a, b])
        merged[cid] = [(a, b) for a, b in out]
    return merged


def balance(data: demo.Dataset, bounds: list[dt.datetime]) -> dict[str, list[Decimal]]:
    """B_c(b) of the data contract for every customer and boundary b."""
    out: dict[str, list[Decimal]] = collections.defaultdict(lambda: [Decimal(0)] * len(bounds))
    for s in records(data.table("subscriptions")):
        if s["is_trial"]:
            continue
        for k, b in enumerate(bounds):
            if s["started_at"] < b and (s["ended_at"] is None or b <= s["ended_at"]):
                out[s["customer_id"]][k] += s["mrr"]
    return out


# ---------------------------------------------------------------------------------------------
# determinism and the arguments


def test_same_arguments_give_byte_identical_rows(data: demo.Dataset) -> None:
    again = demo.generate(customers=SMALL, months=MONTHS, end=END, seed=42)
    assert again == data
    for a, b in zip(again.tables, data.tables):
        assert repr(a.rows) == repr(b.rows)


def test_rows_do_not_depend_on_hash_randomisation() -> None:
    code = (
        "import datetime, hashlib; from csframe.plugins import demo; "
        "d = demo.generate(customers=60, months=6, end=datetime.date(2025, 1, 1)); "
        "print(hashlib.sha256(repr(d).encode()).hexdigest())"
    )
    digests = {
        subprocess.run(
            [sys.executable, "-c", code],
            env={**os.environ, "PYTHONHASHSEED": hash_seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for hash_seed in ("1", "2")
    }
    assert len(digests) == 1


def test_another_seed_gives_other_rows(data: demo.Dataset) -> None:
    other = demo.generate(customers=SMALL, months=MONTHS, end=END, seed=43)
    assert other.table("subscriptions").rows != data.table("subscriptions").rows


def test_a_table_is_the_same_whichever_others_are_asked_for(data: demo.Dataset) -> None:
    picked = demo.generate(customers=SMALL, end=END, sources=["costs", "invoices", "customers", "survey_responses"])
    assert picked.names == ("customers", "invoices", "survey_responses", "costs")
    for table in picked:
        assert table == data.table(table.name)


def test_default_end_is_the_first_of_the_current_utc_month() -> None:
    first = dt.datetime.now(dt.UTC).date().replace(day=1)
    rows = demo.generate(customers=50, months=2, sources={"customers"}).table("customers").rows
    start = dt.datetime(first.year, first.month, 1) - dt.timedelta(days=62)
    assert all(start <= r[1] < dt.datetime(first.year, first.month, 1) for r in rows)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"end": dt.date(2025, 1, 15)},
        {"end": dt.datetime(2025, 1, 1)},
        {"months": 0},
        {"customers": -1},
        {"sources": ["customers", "orders"]},
    ],
)
def test_bad_arguments_are_refused(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        demo.generate(**{"customers": 10, "end": END, **kwargs})


def test_no_customers_still_gives_every_table() -> None:
    empty = demo.generate(customers=0, months=3, end=END)
    assert empty.names == tuple(CONTRACT)
    assert empty.table("subscriptions").rows == []
    assert {r[1] for r in empty.table("costs").rows} == {"acquisition", "retention"}


def test_dataset_lookup() -> None:
    picked = demo.generate(customers=5, end=END, sources={"customers"})
    assert picked.table("customers").column_names[0] == "customer_id"
    with pytest.raises(KeyError, match="events"):
        picked.table("events")
    with pytest.raises(ValueError, match="not an SQL type"):
        demo.Column("x", "TIMESTAMPP")
    assert {c.type for columns in demo.SCHEMAS.values() for c in columns} <= demo.COLUMN_TYPES


# ---------------------------------------------------------------------------------------------
# the data contract


def test_every_table_with_the_contract_columns(data: demo.Dataset) -> None:
    assert data.names == tuple(CONTRACT)
    for name, columns in CONTRACT.items():
        table = data.table(name)
        assert [(c.name, c.type) for c in table.columns] == columns
        assert table.rows, f"{name} is empty"
        assert all(len(row) == len(columns) for row in table.rows)


def test_values_have_the_declared_python_types(data: demo.Dataset) -> None:
    for table in data:
        for j, column in enumerate(table.columns):
            values = [row[j] for row in table.rows]
            expected = PYTHON_TYPES[column.type]
            if (table.name, column.name) not in NULLABLE:
                assert None not in values, f"{table.name}.{column.name} has NULLs"
            for v in values:
                if v is None:
                    continue
                assert isinstance(v, expected), (table.name, column.name, v)
                if column.type == "DATE":
                    assert not isinstance(v, dt.datetime)
                if column.type == "TIMESTAMP":
                    assert v.tzinfo is None
                if column.type == "INTEGER":
                    assert not isinstance(v, bool)
                if column.type == "DECIMAL(18,2)":
                    assert v.as_tuple().exponent == -2, (table.name, column.name, v)
    assert data.table("customers").rows[0][0] == "C000001"


def test_keys_are_unique(data: demo.Dataset) -> None:
    for name, key in KEYS.items():
        table = data.table(name)
        index = [table.column_names.index(k) for k in key]
        keys = [tuple(row[i] for i in index) for row in table.rows]
        duplicates = [k for k, n in collections.Counter(keys).items() if n > 1]
        assert not duplicates, f"{name}: duplicate keys {duplicates[:5]}"


def test_rows_of_one_subscription_never_overlap(data: demo.Dataset) -> None:
    by_id = collections.defaultdict(list)
    for s in records(data.table("subscriptions")):
        by_id[s["subscription_id"]].append(s)
    for rows in by_id.values():
        rows.sort(key=lambda s: s["started_at"])
        assert len({s["customer_id"] for s in rows}) == 1
        for before, after in itertools.pairwise(rows):
            assert before["ended_at"] is not None and before["ended_at"] <= after["started_at"]


def test_intervals_have_positive_length(data: demo.Dataset) -> None:
    for s in records(data.table("subscriptions")):
        assert s["ended_at"] is None or s["ended_at"] > s["started_at"]


def test_no_negative_amounts(data: demo.Dataset) -> None:
    assert all(s["mrr"] >= 0 for s in records(data.table("subscriptions")))
    assert all(i["amount"] > 0 for i in records(data.table("invoices")))
    assert all(c["amount"] > 0 for c in records(data.table("costs")))
    for r in records(data.table("renewals")):
        assert r["value_up"] > 0 and r["renewed_value"] >= 0
        assert r["renewed"] or r["renewed_value"] == 0


def test_everything_happens_inside_the_span(data: demo.Dataset) -> None:
    end = dt.datetime(END.year, END.month, END.day)
    for table in data:
        for j, column in enumerate(table.columns):
            for row in table.rows:
                v = row[j]
                if isinstance(v, dt.datetime):
                    assert START <= v < end, (table.name, column.name, v)
                elif isinstance(v, dt.date):
                    assert START.date() <= v < END, (table.name, column.name, v)


def test_references_resolve_and_follow_sign_up(data: demo.Dataset) -> None:
    created = {c["customer_id"]: c["created_at"] for c in records(data.table("customers"))}
    for name, column, when in [
        ("subscriptions", "customer_id", "started_at"),
        ("trials", "customer_id", "started_at"),
        ("users", "customer_id", "created_at"),
        ("tickets", "customer_id", "created_at"),
        ("invoices", "customer_id", "paid_at"),
        ("survey_responses", "customer_id", "responded_at"),
        ("referrals", "referrer_customer_id", "referred_at"),
    ]:
        for row in records(data.table(name)):
            assert row[when] >= created[row[column]], (name, row)
    users = {u["user_id"]: u for u in records(data.table("users"))}
    for e in records(data.table("events")):
        assert users[e["user_id"]]["customer_id"] == e["customer_id"]
        assert e["occurred_at"] >= users[e["user_id"]]["created_at"]


def test_survey_scores_are_on_their_scales(data: demo.Dataset) -> None:
    scores = collections.defaultdict(set)
    for s in records(data.table("survey_responses")):
        scores[s["survey"]].add(s["score"])
    assert scores["nps"] <= {float(k) for k in range(11)}
    assert {10.0, 8.0} <= scores["nps"] and min(scores["nps"]) <= 6, "promoters, passives and detractors"
    assert scores["csat"] <= {float(k) for k in range(1, 6)}
    assert scores["ces"] <= {float(k) for k in range(1, 8)}
    assert set(scores) - {"nps", "csat", "ces"}, "no survey of another name"
    assert {r[2] for r in data.table("kb_ratings").rows} <= {float(k) for k in range(1, 6)}


def test_tickets_are_consistent(data: demo.Dataset) -> None:
    tickets = records(data.table("tickets"))
    for t in tickets:
        if t["first_response_at"] is not None:
            assert t["first_response_at"] > t["created_at"]
        if t["resolved_at"] is None:
            assert t["contacts"] is None and not t["reopened"]
        else:
            assert t["resolved_at"] > t["created_at"] and t["contacts"] >= 1
    assert any(t["resolved_at"] is None for t in tickets), "no open ticket"
    assert any(t["first_response_at"] is None for t in tickets), "no ticket without a response"
    assert any(t["reopened"] for t in tickets), "no reopened ticket"
    assert any(t["contacts"] == 1 for t in tickets) and any((t["contacts"] or 0) > 1 for t in tickets)


# ---------------------------------------------------------------------------------------------
# the edge cases of real billing data, each found as a concrete instance


def price_changes(data: demo.Dataset) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    by_id = collections.defaultdict(list)
    for s in records(data.table("subscriptions")):
        by_id[s["subscription_id"]].append(s)
    pairs = []
    for rows in by_id.values():
        rows.sort(key=lambda s: s["started_at"])
        pairs.extend((a, b) for a, b in itertools.pairwise(rows) if a["ended_at"] == b["started_at"])
    return pairs


def test_price_changes_mid_period_both_ways(data: demo.Dataset) -> None:
    paid = [(a, b) for a, b in price_changes(data) if not a["is_trial"] and not b["is_trial"] and a["mrr"] > 0]
    mid_period = [(a, b) for a, b in paid if not is_month_start(b["started_at"])]
    assert any(b["mrr"] > a["mrr"] for a, b in mid_period), "no expansion mid-period"
    assert any(b["mrr"] < a["mrr"] for a, b in mid_period), "no contraction mid-period"
    assert any(is_month_start(b["started_at"]) for _, b in paid), "no price change on a month boundary"


def test_several_subscriptions_of_one_customer_at_once(data: demo.Dataset) -> None:
    rows = paid_rows(data)
    by_customer = collections.defaultdict(list)
    for s in rows:
        by_customer[s["customer_id"]].append(s)

    def overlap(a: dict[str, Any], b: dict[str, Any]) -> bool:
        return a["started_at"] < (b["ended_at"] or dt.datetime.max) and b["started_at"] < (
            a["ended_at"] or dt.datetime.max
        )

    assert any(
        a["subscription_id"] != b["subscription_id"] and overlap(a, b)
        for subs in by_customer.values()
        for a in subs
        for b in subs
    ), "no customer with add-ons"


def test_trials_followed_by_paid_rows(data: demo.Dataset) -> None:
    conversions = [(a, b) for a, b in price_changes(data) if a["is_trial"] and not b["is_trial"] and b["mrr"] > 0]
    assert any(a["mrr"] == 0 for a, _ in conversions), "no free trial converted"
    assert any(a["mrr"] > 0 for a, _ in conversions), "no paid pilot converted"
    trials = records(data.table("trials"))
    trial_rows = [s for s in records(data.table("subscriptions")) if s["is_trial"]]
    assert len(trial_rows) == len(trials)
    starts = {(s["customer_id"], s["started_at"]) for s in paid_rows(data)}
    converted = [t for t in trials if t["converted_at"] is not None]
    assert converted and len(converted) < len(trials)
    assert all((t["customer_id"], t["converted_at"]) in starts for t in converted)


def test_churn_and_reactivation(data: demo.Dataset) -> None:
    intervals = paid_intervals(data)
    churned = [cid for cid, spans in intervals.items() if spans[-1][1] is not None]
    assert churned, "no customer churned"
    reactivated = [
        cid
        for cid, spans in intervals.items()
        if any(b is not None and later - b >= dt.timedelta(days=28) for (_, b), (later, _) in itertools.pairwise(spans))
    ]
    assert reactivated, "no customer came back months after churning"


def test_starts_and_churn_exactly_on_month_boundaries(data: demo.Dataset) -> None:
    intervals = paid_intervals(data)
    assert any(is_month_start(spans[0][0]) for spans in intervals.values()), "no start at 00:00 on the 1st"
    assert any(is_month_start(b) for spans in intervals.values() for _, b in spans), "no churn at 00:00 on the 1st"


def test_customers_who_never_pay(data: demo.Dataset) -> None:
    paying = {s["customer_id"] for s in paid_rows(data)}
    with_rows = {s["customer_id"] for s in records(data.table("subscriptions"))}
    customers = [c["customer_id"] for c in records(data.table("customers"))]
    never = [c for c in customers if c not in paying]
    assert any(c not in with_rows for c in never), "no customer without any subscription"
    assert any(c in with_rows for c in never), "no customer with only a trial or a free plan"
    assert len(never) < len(customers) / 3


def test_renewals_with_expansion_contraction_and_loss(data: demo.Dataset) -> None:
    renewals = records(data.table("renewals"))
    assert any(r["renewed"] and r["renewed_value"] > r["value_up"] for r in renewals), "no expansion at renewal"
    assert any(r["renewed"] and r["renewed_value"] < r["value_up"] for r in renewals), "no down-sell at renewal"
    assert any(not r["renewed"] for r in renewals), "no lost renewal"


def test_invoices_of_every_kind(data: demo.Dataset) -> None:
    kinds = collections.Counter(i["kind"] for i in records(data.table("invoices")))
    assert {"subscription", "upsell", "cross_sell", "one_time", None} <= set(kinds)
    assert kinds["subscription"] > kinds[None]


def test_customer_dimensions(data: demo.Dataset) -> None:
    customers = records(data.table("customers"))
    assert {c["segment"] for c in customers} == {"smb", "mid_market", "enterprise"}
    regions = {r[4] for r in demo.generate(customers=1000, end=END, sources={"customers"}).table("customers").rows}
    assert None in regions and len(regions) > 3
    created = [c["created_at"] for c in customers]
    assert created == sorted(created)
    assert sum(c < dt.datetime(2023, 7, 1) for c in created) < sum(c >= dt.datetime(2023, 7, 1) for c in created)


def test_events_cover_every_month_and_every_name(data: demo.Dataset) -> None:
    events = records(data.table("events"))
    names = {e["name"] for e in events}
    assert {
        "login",
        "activated",
        "onboarding_completed",
        "connected_data",
        "invited_team",
        "created_report",
        "report_export",
        "dashboard_share",
        "api_call",
        "alert_created",
        "meeting",
    } <= names
    months = {(e["occurred_at"].year, e["occurred_at"].month) for e in events}
    assert len(months) == MONTHS
    weeks = {e["occurred_at"].isocalendar()[:2] for e in events if e["occurred_at"] >= START + dt.timedelta(days=7)}
    assert len(weeks) >= 150
    meetings = collections.defaultdict(list)
    for e in events:
        if e["name"] == "meeting":
            meetings[e["user_id"]].append(e["occurred_at"])
    assert any(
        b - a < dt.timedelta(days=7) for times in meetings.values() for a, b in itertools.pairwise(sorted(times))
    ), "no user with two meetings within 7 days"


def test_costs_every_month_in_both_categories(data: demo.Dataset) -> None:
    lines = collections.Counter(
        (c["incurred_at"].year, c["incurred_at"].month, c["category"]) for c in records(data.table("costs"))
    )
    assert len(lines) == 2 * MONTHS
    assert all(2 <= n <= 5 for n in lines.values())


# ---------------------------------------------------------------------------------------------
# realism: size and the shape of the business


def test_size_and_shape_of_the_business() -> None:
    data = demo.generate(customers=1000, end=END, sources={"customers", "subscriptions"})
    assert 8 <= len(data.table("subscriptions").rows) / 1000 <= 12
    bounds = month_starts()
    b = balance(data, bounds)
    paying = [sum(1 for v in b.values() if v[k] > 0) for k in range(len(bounds))]
    mrr = [sum(v[k] for v in b.values()) for k in range(len(bounds))]
    assert paying[12] < paying[24] < paying[36] and mrr[12] < mrr[24] < mrr[36]
    churn, nrr = [], []
    for k in range(24, 36):  # the last year
        start = {c for c, v in b.items() if v[k] > 0}
        end = {c for c, v in b.items() if v[k + 1] > 0}
        churn.append(len(start - end) / len(start))
        kept = sum(b[c][k + 1] for c in start)  # what the customers at start pay at end
        nrr.append(kept / sum(b[c][k] for c in start))
    assert 0.005 < sum(churn) / 12 < 0.06
    assert 0.97 < sum(nrr) / 12 < 1.05


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_edge_cases_occur_for_other_seeds(seed: int) -> None:
    data = demo.generate(customers=SMALL, end=END, seed=seed, sources={"customers", "subscriptions", "renewals"})
    test_price_changes_mid_period_both_ways(data)
    test_several_subscriptions_of_one_customer_at_once(data)
    test_churn_and_reactivation(data)
    test_starts_and_churn_exactly_on_month_boundaries(data)
    test_rows_of_one_subscription_never_overlap(data)
    test_intervals_have_positive_length(data)


# ---------------------------------------------------------------------------------------------
# the DuckDB writer


def test_round_trip_through_duckdb(data: demo.Dataset) -> None:
    import duckdb
    con = duckdb.connect(":memory:")
    write_dataset(con, data)
    for table in data:
        described = con.execute(f'DESCRIBE "{table.name}"').fetchall()
        assert [(d[0], d[1]) for d in described] == [(c.name, c.type) for c in table.columns]
        got = con.execute(f'SELECT * FROM "{table.name}"').fetchall()
        assert len(got) == len(table.rows)
        assert collections.Counter(got) == collections.Counter(table.rows), table.name
    subs = data.table("subscriptions").rows
    assert con.execute(
        "SELECT sum(mrr), count(*) - count(ended_at), count(*) FILTER (WHERE is_trial) FROM subscriptions"
    ).fetchone() == (sum(r[4] for r in subs), sum(r[3] is None for r in subs), sum(r[5] for r in subs))
    first = data.table("customers").rows[0]
    assert con.execute("SELECT * FROM customers WHERE customer_id = 'C000001'").fetchone() == first
    assert con.execute("SELECT count(*) FROM invoices WHERE kind IS NULL").fetchone()[0] == sum(
        r[4] is None for r in data.table("invoices").rows
    )


def test_write_replaces_or_refuses_existing_tables(data: demo.Dataset) -> None:
    import duckdb
    con = duckdb.connect()
    small = demo.generate(customers=20, end=END, sources={"customers", "costs"})
    write_dataset(con, small)
    write_dataset(con, small)  # replaced, not appended
    assert con.execute("SELECT count(*) FROM customers").fetchone()[0] == 20
    with pytest.raises(duckdb.CatalogException):
        write_dataset(con, small, replace=False)
    assert con.execute("SELECT count(*) FROM customers").fetchone()[0] == 20


def test_writer_round_trips_awkward_values() -> None:
    import duckdb
    columns = tuple(
        demo.Column(n, t)
        for n, t in [
            ('it\'s "s"', "VARCHAR"),
            ("f", "DOUBLE"),
            ("t", "TIMESTAMP"),
            ("d", "DATE"),
            ("m", "DECIMAL(18,2)"),
            ("i", "INTEGER"),
            ("b", "BOOLEAN"),
        ]
    )
    rows = [
        ("", 0.1, dt.datetime(2024, 1, 1, 1, 2, 3, 456789), dt.date(1999, 12, 31), Decimal("-1.50"), -3, True),
        (None, None, None, None, None, None, None),
        (
            'a "quoted", comma\nnew line\r\nx',
            float("inf"),
            dt.datetime(1, 1, 1),
            dt.date(1, 1, 1),
            Decimal("0.00"),
            0,
            False,
        ),
        (
            "None",
            5e-324,
            dt.datetime(9999, 12, 31, 23, 59, 59, 999999),
            dt.date(9999, 12, 31),
            Decimal("9999999999999999.99"),
            2**31 - 1,
            None,
        ),
        ("NULL", -1 / 3, dt.datetime(2024, 2, 29), None, Decimal("0.01"), None, False),
        ("ünïcødé ✓ \\N", -0.0, None, dt.date(2024, 2, 29), None, -(2**31), True),
    ]
    con = duckdb.connect()
    write_dataset(con, demo.Dataset((demo.Table("we\"ird'name", columns, rows),)))
    got = con.execute('SELECT * FROM "we""ird\'name"').fetchall()
    assert got == rows
    assert [r[0] for r in con.execute('SELECT "it\'s ""s""" IS NULL FROM "we""ird\'name"').fetchall()] == [
        False,
        True,
        False,
        False,
        False,
        False,
    ]
    long_text = "é" * 1_000_000  # over DuckDB's default CSV line limit of 2 MB once encoded
    write_dataset(con, demo.Dataset((demo.Table("long", (demo.Column("s", "VARCHAR"),), [(long_text,)]),)))
    assert con.execute("SELECT s FROM long").fetchone()[0] == long_text
    aware = dt.datetime(2024, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=-5)))
    write_dataset(con, demo.Dataset((demo.Table("aware", (demo.Column("t", "TIMESTAMP"),), [(aware,)]),)))
    assert con.execute("SELECT t FROM aware").fetchone()[0] == dt.datetime(2024, 1, 1, 5)


def test_a_failed_write_leaves_nothing_behind() -> None:
    import duckdb
    con = duckdb.connect()
    good = demo.Table("good", (demo.Column("x", "INTEGER"),), [(1,)])
    bad = demo.Table("bad", (demo.Column("x", "INTEGER"),), [(1, 2)])
    with pytest.raises(ValueError, match="2 values for 1 columns"):
        write_dataset(con, demo.Dataset((good, bad)))
    assert con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = 'good'").fetchone()[0] == 0
    con.execute("BEGIN")  # inside the caller's transaction, the caller decides
    write_dataset(con, demo.Dataset((good,)))
    con.execute("ROLLBACK")
    assert con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = 'good'").fetchone()[0] == 0


@pytest.mark.parametrize(
    ("module", "other"),
    [("csframe.adapters.duckdb_io", "csframe.plugins"), ("csframe.plugins.demo", "csframe.adapters")],
)
def test_modules_import_no_driver_and_no_other_leaf_package(module: str, other: str) -> None:
    code = (
        f"import sys, {module}; "
        "assert 'duckdb' not in sys.modules, 'duckdb imported'; "
        f"assert not [m for m in sys.modules if m.startswith({other!r} + '.')], 'imports {other}'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
