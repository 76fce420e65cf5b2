"""Dimensions a metric carries itself (a keyed measure, like feature_adoption_rate's
`feature`) and `--by KEY` readings that are not customers columns (like
onboarding_completion_rate's `--by step`), through a project-local plugin."""

from __future__ import annotations

import datetime as dt
import textwrap

import pytest

from csframe.core.errors import UsageError

T = dt.datetime
JAN = dt.date(2024, 1, 1)

PLUGIN = textwrap.dedent('''
    from csframe.core.hookspecs import hookimpl
    from csframe.core.models import Measure, Metric, Node, Variant

    @hookimpl
    def csframe_register_metrics(registrar):
        registrar.node(Node(
            "invoice_kinds_test",
            "invoices paid in each period by kind, every kind of the whole source in every period",
            """
            SELECT g.grp, g.period_start, k.kind, SUM(COALESCE(i.amount, 0)) AS amount_by_kind
            FROM grid AS g
            CROSS JOIN (SELECT DISTINCT COALESCE(kind, 'subscription') AS kind FROM src_invoices) AS k
            LEFT JOIN src_invoices AS i
              ON i.grp = g.grp AND BUCKET(i.paid_at) = g.period_start AND COALESCE(i.kind, 'subscription') = k.kind
            GROUP BY g.grp, g.period_start, k.kind
            """,
            measures=(Measure("amount_by_kind", "invoices paid in p of this kind", key="kind"),),
        ))
        registrar.metric(Metric("kind_share", "share", "share of the period's invoices of each kind", (
            Variant("default", "amount_by_kind / invoiced_amount"),)))
        registrar.metric(Metric("invoice_total", "money", "invoices paid in p", (
            Variant("default", "invoiced_amount", splits={"kind": "amount_by_kind"}),)))
''')


def _tables():
    inv = [
        dict(invoice_id="i1", customer_id="a", paid_at=T(2024, 1, 3), amount=60.0, kind="upsell"),
        dict(invoice_id="i2", customer_id="b", paid_at=T(2024, 1, 5), amount=30.0, kind=None),
        dict(invoice_id="i3", customer_id="a", paid_at=T(2024, 1, 31, 23, 59), amount=10.0, kind="subscription"),
        dict(invoice_id="i4", customer_id="b", paid_at=T(2024, 2, 1), amount=5.0, kind="one_time"),
    ]
    subs = [dict(subscription_id="s", customer_id="a", started_at=T(2023, 12, 1), ended_at=None, mrr=7.0, is_trial=False)]
    cust = [dict(customer_id="a", created_at=T(2023, 1, 1), segment="x"), dict(customer_id="b", created_at=T(2023, 1, 1), segment="y")]
    return {"invoices": inv, "subscriptions": subs, "customers": cust}


@pytest.fixture
def session(project, tmp_path):
    s = project(_tables(), toml_extra='[plugins]\nmodules = ["dims_test_plugin"]\n', name="dims")
    return s


@pytest.fixture(autouse=True)
def plugin_module(tmp_path):
    (tmp_path / "dims").mkdir(parents=True, exist_ok=True)
    (tmp_path / "dims" / "dims_test_plugin.py").write_text(PLUGIN)


def test_a_keyed_metric_carries_its_dimension_beside_unkeyed_ones(session):
    r = session.compute(["kind_share", "mrr"], start="2024-01-01", end="2024-02-01")
    assert r.columns == ("metric", "variant", "period_start", "period_end", "kind", "value")
    rows = {(m, k): v for m, _, ps, _, k, v in r.rows}
    # January: 100 paid; upsell 60, subscription 30 + 10 (a NULL kind is subscription); one_time 0 (paid in February)
    assert rows[("kind_share", "upsell")] == pytest.approx(0.6, rel=1e-12)
    assert rows[("kind_share", "subscription")] == pytest.approx(0.4, rel=1e-12)
    assert rows[("kind_share", "one_time")] == 0
    assert rows[("mrr", None)] == 7  # an unkeyed metric has no kind
    assert len(r.rows) == 4


def test_by_key_reading_and_customers_dimension_together(session):
    r = session.compute(["invoice_total"], start="2024-01-01", end="2024-02-01", by=["kind", "segment"])
    assert r.columns == ("metric", "variant", "period_start", "period_end", "segment", "kind", "value")
    got = {(seg, kind): v for _, _, _, _, seg, kind, v in r.rows}
    # segment x is customer a (upsell 60, subscription 10); y is b (subscription 30)
    assert got == {("x", "one_time"): 0, ("x", "subscription"): 10, ("x", "upsell"): 60,
                   ("y", "one_time"): 0, ("y", "subscription"): 30, ("y", "upsell"): 0}
    plain = session.compute(["invoice_total"], start="2024-01-01", end="2024-02-01")
    assert plain.columns[-2:] == ("period_end", "value") and plain.rows[0][-1] == 100


def test_by_key_not_offered_by_a_metric_is_a_usage_error(session):
    with pytest.raises(UsageError, match="--by kind: metric mrr:default cannot be split by kind") as e:
        session.compute(["invoice_total", "mrr"], start="2024-01-01", end="2024-02-01", by=["kind"])
    assert e.value.exit_code == 2


def test_sql_for_keyed_metrics_renders_in_every_dialect(session):
    import sqlglot

    plan = session.plan(session.request(session.keys(["kind_share", "invoice_total"]), start="2024-01-01",
                                        end="2024-02-01"))
    for dialect in ("duckdb", "postgres", "bigquery"):
        _, sql = session.compile(plan, dialect)
        sqlglot.parse_one(sql, read=dialect)
        assert "measures_by_kind" in sql


def test_a_plugin_node_silent_about_windows_is_refused_on_windows(session):
    # invoice_kinds_test says nothing of windows (no Node.window, no window_sql): its metric is refused,
    # named with the step; invoice_total reads only the built-in invoice_periods (sums): it is computed,
    # February's 2-month window [2024-01-01, 2024-03-01) holding 60 + 30 + 10 + 5 = 105
    with pytest.raises(UsageError, match=r"--window 2m: not defined on trailing windows: kind_share:default "
                                         r"\(step invoice_kinds_test\)"):
        session.compute(["kind_share", "invoice_total"], start="2024-02-01", end="2024-03-01", window="2m")
    result = session.compute(["invoice_total"], start="2024-02-01", end="2024-03-01", window="2m")
    assert [(r[2], r[3], r[-1]) for r in result.rows] == [(JAN, dt.date(2024, 3, 1), 105)]


def test_all_with_a_window_leaves_out_what_windows_do_not_define(session):
    from click.testing import CliRunner

    from csframe.cli.app import _load_commands, cli

    _load_commands()
    out = CliRunner().invoke(cli, ["compute", "--project", str(session.project.dir), "--all", "--window", "2m",
                                   "--start", "2024-02-01", "--end", "2024-03-01", "--format", "csv"])
    assert out.exit_code == 0, out.output
    assert "kind_share is left out: it is not defined on trailing windows" in out.output
    assert "invoice_total,default,2024-01-01,2024-03-01,105" in out.output
