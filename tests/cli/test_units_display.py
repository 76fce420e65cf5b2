"""What a person sees (issue 14, "Units and display"): each number shown as what it is — a
share as a percentage, a multiple as ``3.5×``, money with two decimals, a count without,
durations with their unit, one series with the same decimals —, a ``unit`` column in the table
and only under ``--with-units`` elsewhere, ``compare`` formatted as ``compute``, the ``--target``
line, and the aliases people type (``nrr``).

The project below holds rows whose numbers are worked out by hand, per month of 2024:

- subscriptions: a 100/month from 1 Jan; b 100/month 1 Jan – 10 Feb; n 250/month from 5 Feb;
  m1 and m2 10/month from 3 and 4 Mar. So in Jan S = {} (NULL rates), E = {a, b}; in Feb
  S = {a, b}, L = {b}, N = {n}, E = {a, n}; in Mar S = {a, n}, N = {m1, m2}, E = {a, n, m1, m2}.
- costs: acquisition 100 on 7 Feb, 11,777.3196 on 5 Mar.
- tickets: two of a's in Feb answered after 3 h and 3.2 h, one of n's in Feb never answered.
- customers: t created 1 Feb 00:00 reached ``activated`` 12.4 days later (13 Feb 09:36).
"""

from __future__ import annotations

import datetime as dt
import decimal
import io
import json
import re
import warnings
from pathlib import Path

import duckdb
import pytest

from csframe.core.errors import PluginError
from csframe.core.models import Metric, Variant
from csframe.core.registry import Registrar, Registry
from csframe.core.result import Result
from csframe.plugins.output_formats import format_series, write_table
from tests.cli.test_cli import cs, expect, ok, parse_csv
from tests.support.projects import make_project

T = dt.datetime
RANGE = ("--start", "2024-01-01", "--end", "2024-04-01")

_SUBSCRIPTIONS = [
    dict(subscription_id="s_a", customer_id="a", started_at=T(2024, 1, 1), ended_at=None, mrr=100.0),
    dict(subscription_id="s_b", customer_id="b", started_at=T(2024, 1, 1), ended_at=T(2024, 2, 10), mrr=100.0),
    dict(subscription_id="s_n", customer_id="n", started_at=T(2024, 2, 5), ended_at=None, mrr=250.0),
    dict(subscription_id="s_m1", customer_id="m1", started_at=T(2024, 3, 3), ended_at=None, mrr=10.0),
    dict(subscription_id="s_m2", customer_id="m2", started_at=T(2024, 3, 4), ended_at=None, mrr=10.0),
]
_CUSTOMERS = [dict(customer_id=c, created_at=T(2023, 12, 1), segment=s)
              for c, s in (("a", "smb"), ("b", "smb"), ("n", "ent"), ("m1", "ent"), ("m2", "smb"))]
_CUSTOMERS.append(dict(customer_id="t", created_at=T(2024, 2, 1), segment=None))
_COSTS = [dict(incurred_at=T(2024, 2, 7), category="acquisition", amount=decimal.Decimal("100")),
          dict(incurred_at=T(2024, 3, 5), category="acquisition", amount=decimal.Decimal("11777.3196"))]
_TICKETS = [
    dict(ticket_id="t1", customer_id="a", created_at=T(2024, 2, 1), first_response_at=T(2024, 2, 1, 3),
         resolved_at=T(2024, 2, 2), contacts=1.0, reopened=False),
    dict(ticket_id="t2", customer_id="a", created_at=T(2024, 2, 2), first_response_at=T(2024, 2, 2, 3, 12),
         resolved_at=T(2024, 2, 3), contacts=1.0, reopened=False),
    dict(ticket_id="t3", customer_id="n", created_at=T(2024, 2, 6), first_response_at=None,
         resolved_at=None, contacts=None, reopened=False),
]
_EVENTS = [dict(user_id=None, customer_id="t", name="activated", occurred_at=T(2024, 2, 13, 9, 36))]


@pytest.fixture(scope="module")
def shop(tmp_path_factory) -> Path:
    return make_project(tmp_path_factory.mktemp("units") / "shop", {
        "subscriptions": _SUBSCRIPTIONS, "customers": _CUSTOMERS, "costs": _COSTS, "tickets": _TICKETS,
        "events": _EVENTS})


def _table(r) -> dict[tuple[str, str], list[str]]:
    """(metric, period_start) → the row's cells after the period, split on runs of 2+ spaces."""
    out = {}
    for line in r.stdout.splitlines()[2:]:
        cells = re.split(r"\s{2,}", line.strip())
        out[(cells[0], cells[2])] = cells[4:]
    return out


# == the table ================================================================================

def test_the_table_shows_each_number_as_what_it_is(shop):
    r = ok(cs("compute", "-m", "ltv_to_cac", "-m", "quick_ratio", "-m", "churn_rate", "-m", "mrr",
              "-m", "customer_acquisition_cost", "-m", "customers", "-m", "first_response_time",
              "-m", "time_to_value", "-m", "tickets_per_customer", *RANGE, project=shop))
    lines = r.stdout.splitlines()
    assert lines[0].split() == ["metric", "variant", "period_start", "period_end", "value", "unit"]
    t = _table(r)
    # LTV (Feb) = arpu:mrr 350/2 × lifespan 1/(1/2) = 350; CAC = 100 / 1 new → 3.5
    assert t["ltv_to_cac", "2024-02-01"] == ["3.5×", "multiple"]
    assert t["ltv_to_cac", "2024-01-01"] == ["—", "multiple"]  # no churn rate in Jan: S is empty
    # (new 250) / (churned 100)
    assert t["quick_ratio", "2024-02-01"] == ["2.5×", "multiple"]
    assert t["churn_rate", "2024-02-01"] == ["50.00 %", "share"]
    assert t["churn_rate", "2024-03-01"] == ["0.00 %", "share"]
    # money: two decimals whatever the value
    assert [t["mrr", m][0] for m in ("2024-01-01", "2024-02-01", "2024-03-01")] == ["200.00", "350.00", "370.00"]
    assert [t["customer_acquisition_cost", m][0] for m in ("2024-01-01", "2024-02-01", "2024-03-01")] \
        == ["0.00", "100.00", "5,888.66"]  # 11,777.3196 / 2 = 5,888.6598
    assert [t["customers", m] for m in ("2024-01-01", "2024-02-01", "2024-03-01")] \
        == [["2", "count"], ["2", "count"], ["4", "count"]]
    assert t["first_response_time", "2024-02-01"] == ["3.1 h", "hours"]  # (3 h + 3.2 h) / 2
    assert t["time_to_value", "2024-02-01"] == ["12.4 d", "days"]
    # 0 / 2, 3 tickets / 2 customers, 0 / 4: one series, the same decimals
    assert [t["tickets_per_customer", m] for m in ("2024-01-01", "2024-02-01", "2024-03-01")] \
        == [["0.0", "per_unit"], ["1.5", "per_unit"], ["0.0", "per_unit"]]


@pytest.mark.parametrize("values, unit, shown", [
    ([0.5230], "share", ["52.30 %"]),
    ([3.5], "multiple", ["3.5×"]),
    ([3.5, 6.5698], "multiple", ["3.50×", "6.57×"]),  # one series, one number of decimals
    ([5888.6598, 1642183.3], "money", ["5,888.66", "1,642,183.30"]),
    ([decimal.Decimal("5888.6598"), None], "money", ["5,888.66", "—"]),  # as a driver may return it
    ([1204, 7], "count", ["1,204", "7"]),
    ([12.44, 3], "days", ["12.4 d", "3.0 d"]),
    ([3.1], "hours", ["3.1 h"]),
    ([62, 10.5], "score", ["62.0", "10.5"]),
    ([0.52, 2], "per_unit", ["0.52", "2.00"]),
    ([None, float("nan"), -0.000001], "share", ["—", "—", "0.00 %"]),  # a tiny negative is not "-0.00 %"
])
def test_format_series(values, unit, shown):
    assert format_series(values, unit) == shown


def test_the_table_leaves_out_a_dimension_no_row_has():
    d = dt.date
    result = Result(columns=("metric", "variant", "period_start", "period_end", "feature", "value"),
                    rows=(("mrr", "default", d(2024, 1, 1), d(2024, 2, 1), None, 5888.6598),),
                    units={("mrr", "default"): "money"})
    out = io.StringIO()
    write_table(result, out)
    lines = out.getvalue().splitlines()
    assert lines[0].split() == ["metric", "variant", "period_start", "period_end", "value", "unit"]
    assert lines[2].split() == ["mrr", "default", "2024-01-01", "2024-02-01", "5,888.66", "money"]


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("units_demo") / "demo"
    ok(cs("init", path, "--demo", "--end", "2026-07-01"))  # the demo's default size: MRR in the millions
    return path


def test_the_demo_table_fits_80_columns(demo):
    r = ok(cs("compute", "-m", "mrr", "-m", "churn_rate", project=demo))
    lines = r.stdout.splitlines()
    assert lines[0].split()[-1] == "unit" and len(lines) == 2 + 24
    assert max(len(line) for line in lines) <= 80, r.stdout


# == csv, json, jsonl: raw numbers; the unit under --with-units ===============================

def test_csv_json_jsonl_stay_raw_and_gain_the_unit_only_when_asked(shop):
    args = ("compute", "-m", "customer_acquisition_cost", "-m", "churn_rate", "--start", "2024-02-01",
            "--end", "2024-04-01")
    rows = parse_csv(ok(cs(*args, "--format", "csv", project=shop)).stdout)
    assert rows[0] == ["metric", "variant", "period_start", "period_end", "value"]
    assert rows[1:] == [["customer_acquisition_cost", "default", "2024-02-01", "2024-03-01", "100"],
                        ["customer_acquisition_cost", "default", "2024-03-01", "2024-04-01", "5888.6598"],
                        ["churn_rate", "lost_over_start", "2024-02-01", "2024-03-01", "0.5"],
                        ["churn_rate", "lost_over_start", "2024-03-01", "2024-04-01", "0"]]
    with_units = parse_csv(ok(cs(*args, "--format", "csv", "--with-units", project=shop)).stdout)
    assert with_units[0] == rows[0] + ["unit"]
    assert with_units[1:] == [r + [u] for r, u in zip(rows[1:], ["money", "money", "share", "share"])]
    for fmt in ("json", "jsonl"):
        text = ok(cs(*args, "--format", fmt, project=shop)).stdout
        plain = json.loads(text) if fmt == "json" else [json.loads(line) for line in text.splitlines()]
        assert [o["value"] for o in plain] == [100, 5888.6598, 0.5, 0]
        assert all("unit" not in o for o in plain)
        text = ok(cs(*args, "--format", fmt, "--with-units", project=shop)).stdout
        rich = json.loads(text) if fmt == "json" else [json.loads(line) for line in text.splitlines()]
        assert rich == [{**o, "unit": u} for o, u in zip(plain, ["money", "money", "share", "share"])]


# == compare ==================================================================================

def test_compare_formats_as_compute(shop):
    r = ok(cs("compare", "churn_rate", *RANGE, project=shop))
    lines = r.stdout.splitlines()
    assert lines[0].split() == ["period_start", "period_end", "lost_over_start", "net_loss", "lost_over_active",
                                "chartmogul_daily", "stripe", "baremetrics"]
    rows = {line.split()[0]: line.split("  ") for line in lines[2:5]}
    # Feb: 1 lost of 2 at the start; (2 − 2) / 2; 1 lost of a, b, n active; b lost on Feb 10, 1 of the 3 paying
    # at its start (a, b, n); b's stop over 2 at the start + n's start; 1 stop of 2 at the start
    assert [c.strip() for c in rows["2024-02-01"] if c.strip()][2:] == ["50.00 %", "0.00 %", "33.33 %", "33.33 %",
                                                                       "33.33 %", "50.00 %"]
    # Mar: none lost; (2 − 4) / 2; no stop (m1, m2 start)
    assert [c.strip() for c in rows["2024-03-01"] if c.strip()][2:] == ["0.00 %", "-100.00 %", "0.00 %", "0.00 %",
                                                                       "0.00 %", "0.00 %"]
    assert "why they differ:" in r.stdout


def test_compare_by_a_dimension_as_csv_into_a_file(shop, tmp_path):
    out = tmp_path / "cmp.csv"
    r = ok(cs("compare", "churn_rate", "--by", "segment", "--start", "2024-02-01", "--end", "2024-03-01",
              "--format", "csv", "--output", out, project=shop))
    assert r.stdout == ""  # the data went to the file; no explanation in a csv
    rows = parse_csv(out.read_text())
    assert rows[0] == ["period_start", "period_end", "segment", "lost_over_start", "net_loss", "lost_over_active",
                       "chartmogul_daily", "stripe", "baremetrics"]
    # ent: S = {} (n is new), A = {n}, n starts, nobody stops; smb: S = {a, b}, L = {b}, E = {a}, A = {a, b},
    # b stops on Feb 10, 1 of the 2 paying at its start; the NULL segment (t's) has no subscription: every
    # variant NULL
    assert rows[1:] == [["2024-02-01", "2024-03-01", "ent", "", "", "0", "0", "0", ""],
                        ["2024-02-01", "2024-03-01", "smb", "0.5", "0.5", "0.5", "0.5", "0.5", "0.5"],
                        ["2024-02-01", "2024-03-01", "", "", "", "", "", "", ""]]
    expect(cs("compare", "churn_rate", "--format", "xml", project=shop), 2, "unknown format 'xml'")


def test_compare_by_leaves_out_a_variant_by_cannot_split(shop):
    r = ok(cs("compare", "ltv", "--by", "segment", "--start", "2024-02-01", "--end", "2024-03-01", "--format", "csv",
              project=shop))
    assert "net_of_cac is left out" in r.stderr and "--by cannot split it" in r.stderr  # it reads costs
    rows = parse_csv(r.stdout)
    # the invoice readings need invoices
    assert rows[0] == ["period_start", "period_end", "segment", "arpa_x_lifespan", "chartmogul", "baremetrics"]
    # smb: arpu:mrr 100 / 1 × lifespan 1 / (1 lost of 2) = 200; baremetrics: 100 / (1 stop of 2) = 200;
    # chartmogul: January's churn (nobody at its start) is NULL, so the six-month mean is; ent: no churn rate
    # (S is empty)
    assert rows[1:] == [["2024-02-01", "2024-03-01", "ent", "", "", ""],
                        ["2024-02-01", "2024-03-01", "smb", "200", "", "200"],
                        ["2024-02-01", "2024-03-01", "", "", "", ""]]
    expect(cs("compare", "cac", "--by", "segment", project=shop), 2, "no variant of customer_acquisition_cost",
           "without --by")


# == --target =================================================================================

def test_target_ends_with_the_rows_written(shop, tmp_path):
    r = ok(cs("compute", "-m", "mrr", "-m", "churn_rate", *RANGE, "--target", "units_out", project=shop))
    assert r.stderr.splitlines()[-1] == "csframe: wrote 6 rows to units_out (duckdb)"
    con = duckdb.connect(str(shop / "data.duckdb"), read_only=True)
    try:
        assert con.execute("SELECT count(*) FROM units_out").fetchone()[0] == 6
    finally:
        con.close()
    quiet = ok(cs("compute", "-m", "mrr", *RANGE, "--target", "units_out", "--quiet", project=shop))
    assert quiet.stderr == ""


# == aliases ==================================================================================

def test_an_alias_computes_its_metric(shop):
    by_alias = ok(cs("compute", "-m", "nrr", *RANGE, "--format", "csv", project=shop)).stdout
    by_name = ok(cs("compute", "-m", "net_revenue_retention", *RANGE, "--format", "csv", project=shop)).stdout
    assert by_alias == by_name and "net_revenue_retention,default,2024-02-01" in by_alias
    cac = parse_csv(ok(cs("compute", "-m", "cac:default", *RANGE, "--format", "csv", project=shop)).stdout)
    assert cac[-1] == ["customer_acquisition_cost", "default", "2024-03-01", "2024-04-01", "5888.6598"]


def test_list_explain_and_did_you_mean_show_aliases(shop):
    lines = ok(cs("list", project=shop)).stdout.splitlines()
    assert "aliases" in lines[0].split()
    nrr = [line for line in lines if line.startswith("net_revenue_retention ")]
    assert len(nrr) == 1 and "nrr, ndr" in nrr[0]
    assert "also called: ltv, clv, cltv" in ok(cs("explain", "ltv", "--no-sql", project=shop)).stdout
    expect(cs("compute", "-m", "nrrr", project=shop), 2, "unknown metric 'nrrr'", "Did you mean 'nrr'")


def _metric(name: str, *aliases: str) -> Metric:
    return Metric(name, "count", "x", (Variant("default", "customers_end"),), aliases=aliases)


def test_an_alias_taken_is_a_registration_error_naming_both_plugins():
    reg = Registry()
    Registrar(reg, "plugin_one").metric(_metric("net_adds", "adds"))
    with pytest.raises(PluginError, match="plugin 'plugin_two'.*alias 'adds'.*plugin 'plugin_one'"):
        Registrar(reg, "plugin_two").metric(_metric("gross_adds", "adds"))
    with pytest.raises(PluginError, match="plugin 'plugin_two'.*metric 'adds'.*plugin 'plugin_one'"):
        Registrar(reg, "plugin_two").metric(_metric("adds"))
    with pytest.raises(PluginError, match="plugin 'plugin_two'.*alias 'net_adds'.*plugin 'plugin_one'"):
        Registrar(reg, "plugin_two").metric(_metric("other_adds", "net_adds"))
    assert reg.metric_name("adds") == "net_adds" and "gross_adds" not in reg.metrics


def test_ratio_still_loads_as_share_with_a_deprecation_warning():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        m = Metric("old_share", "ratio", "x", (Variant("default", "customers_end", unit="ratio"),))
    assert m.unit == "share" and m.variants[0].unit == "share"
    assert [w.category for w in caught] == [DeprecationWarning, DeprecationWarning]
    assert "'ratio' is deprecated" in str(caught[0].message) and "'multiple'" in str(caught[0].message)
