"""The bad-data cases of data-contract.md ("Bad data") the conformance suite runs on an adapter:
each is one small table holding one bad row beside good ones, in February 2024, with the one
problem the checks must report and the value ``--lenient`` gives by leaving the row out (worked
out by hand in the comment above each case). :func:`bad_data_tables` holds every case's table
under its own name (``<case>_<source>``), so one load serves them all."""

from __future__ import annotations

__all__ = ["FEB", "BadRow", "CASES", "EMPTY", "bad_data_tables"]

import datetime as dt

import attrs

from csframe.core.dataset import Dataset

from .rows import load_rows

T = dt.datetime
FEB = dt.date(2024, 2, 1)


def _sub(sid, cid, mrr, start=T(2024, 1, 1)):
    return dict(subscription_id=sid, customer_id=cid, started_at=start, ended_at=None, mrr=mrr)


def _renewal(rid, up, renewed, value, due=T(2024, 2, 10)):
    return dict(contract_id=rid, customer_id="c" + rid, due_at=due, value_up=up, renewed=renewed, renewed_value=value)


def _ticket(tid, created, first=None, resolved=None, contacts=1, reopened=False):
    return dict(ticket_id=tid, customer_id="c1", created_at=created, first_response_at=first, resolved_at=resolved,
                contacts=contacts, reopened=reopened)


@attrs.frozen
class BadRow:
    source: str
    rows: list
    metric: str
    problem: str  # the one problem the check reports
    right: float  # the value with the bad row left out (--lenient), by hand


CASES = {
    # |E| at 1 March: c1, c2 and the NULL customer would be 3 customers; c1 and c2 are 2
    "null_customer": BadRow("subscriptions", [_sub("s1", "c1", 100), _sub("s2", "c2", 50), _sub("s3", None, 30)],
                          "customers", "subscriptions.customer_id: customer_id is NULL; every row needs its customer "
                                       "(1 row; e.g. (s3, 2024-01-01 00:00:00))", 2),
    # M(1 March): 100 + 30 = 130 with the keyless row (which no duplicate or overlap check can see); 100
    "null_key": BadRow("subscriptions", [_sub("s1", "c1", 100), _sub(None, "c2", 30)],
                     "mrr", "subscriptions.subscription_id: subscription_id is NULL; the contract requires a key "
                            "(1 row; e.g. (NULL, 2024-01-01 00:00:00))", 100),
    # an event of no customer: an active user of no account; u1 alone is 1
    "null_event_customer": BadRow("events", [dict(user_id="u1", customer_id="c1", name="login", occurred_at=T(2024, 2, 5)),
                                           dict(user_id="u2", customer_id=None, name="login", occurred_at=T(2024, 2, 6))],
                                "active_users", "events.customer_id: customer_id is NULL; every row needs its customer "
                                                "(1 row; e.g. (u2, NULL))", 1),
    # renewed / due: 1 / 2 = 0.5 when NULL counts as not renewed; r1 alone: 1 / 1
    "null_renewed": BadRow("renewals", [_renewal("r1", 100, True, 100), _renewal("r2", 100, None, 0)],
                         "renewal_rate", "renewals.renewed: renewed is NULL; the contract requires true or false "
                                         "(1 row; e.g. r2)", 1),
    # Σ renewed_value / Σ value_up: (100 + 80) / 200 = 0.9 with a contract that did not renew; 100 / 100
    "not_renewed_with_value": BadRow("renewals", [_renewal("r1", 100, True, 100), _renewal("r2", 100, False, 80)],
                                   "net_renewal_rate:contracts", "renewals.renewed_value: renewed is false but "
                                                                 "renewed_value > 0 (1 row; e.g. r2)", 1),
    # 100 / (100 − 50) = 2, an impossible ratio; 100 / 100
    "negative_value_up": BadRow("renewals", [_renewal("r1", 100, True, 100), _renewal("r2", -50, False, 0)],
                              "net_renewal_rate:contracts", "renewals.value_up: negative value_up (1 row; e.g. r2)", 1),
    # (100 − 40) / 200 = 0.3; 100 / 100
    "negative_renewed_value": BadRow("renewals", [_renewal("r1", 100, True, 100), _renewal("r2", 100, True, -40)],
                                   "net_renewal_rate:contracts", "renewals.renewed_value: negative renewed_value "
                                                                 "(1 row; e.g. r2)", 1),
    # hours to the first response: (1 − 24) / 2 = −11.5; k1 alone: 1
    "answered_before_created": BadRow("tickets", [_ticket("k1", T(2024, 2, 1), T(2024, 2, 1, 1), T(2024, 2, 1, 3)),
                                                _ticket("k2", T(2024, 2, 10, 12), T(2024, 2, 9, 12), T(2024, 2, 10, 14))],
                                    "first_response_time:mean", "tickets.first_response_at: first_response_at is "
                                                                "before created_at (1 row; e.g. k2)", 1),
    # hours to resolution: (3 − 12) / 2 = −4.5; k1 alone: 3
    "resolved_before_created": BadRow("tickets", [_ticket("k1", T(2024, 2, 1), T(2024, 2, 1, 1), T(2024, 2, 1, 3)),
                                                _ticket("k2", T(2024, 2, 10, 12), None, T(2024, 2, 10))],
                                    "time_to_resolution:mean", "tickets.resolved_at: resolved_at is before created_at "
                                                               "(1 row; e.g. k2)", 3),
    # (resolved − reopened) / created: (2 − 1) / 2 = 0.5 when NULL counts as not reopened; k2 alone: (1 − 1) / 1
    "null_reopened": BadRow("tickets", [_ticket("k1", T(2024, 2, 1), None, T(2024, 2, 1, 3), 1, None),
                                      _ticket("k2", T(2024, 2, 2), None, T(2024, 2, 2, 5), 2, True)],
                          "first_contact_resolution_rate:resolved_minus_reopened",
                          "tickets.reopened: reopened is NULL; the contract requires true or false (1 row; e.g. k1)", 0),
    # resolved at the first contact / created: 1 / 2 = 0.5 with a resolved ticket of no contacts; 1 / 1
    "resolved_without_contacts": BadRow("tickets", [_ticket("k1", T(2024, 2, 1), None, T(2024, 2, 1, 3), 1),
                                                  _ticket("k2", T(2024, 2, 2), None, T(2024, 2, 2, 5), None)],
                                      "first_contact_resolution_rate:single_contact",
                                      "tickets.contacts: contacts is NULL on a resolved ticket (1 row; e.g. k2)", 1),
    # trials started in February that converted: 2 / 3 counting t2 (converted before it started); 1 / 2
    "converted_before_started": BadRow("trials", [
        dict(trial_id="t1", customer_id="c1", started_at=T(2024, 2, 1), converted_at=T(2024, 2, 10)),
        dict(trial_id="t2", customer_id="c2", started_at=T(2024, 2, 20), converted_at=T(2024, 1, 25)),
        dict(trial_id="t3", customer_id="c3", started_at=T(2024, 2, 3), converted_at=None)],
        "trial_conversion_rate", "trials.converted_at: converted_at is before started_at (1 row; e.g. t2)", 0.5),
}
# a source with no rows: a count over it is 0, a mean NULL
EMPTY = {"empty_tickets": ("tickets", [])}


def bad_data_tables() -> Dataset:
    tables = []
    for name, (src, rows) in {**{n: (c.source, c.rows) for n, c in CASES.items()}, **EMPTY}.items():
        table = load_rows({src: rows}).tables[0]
        tables.append(attrs.evolve(table, name=f"{name}_{src}"))
    return Dataset(tuple(tables))
