#!/bin/sh
# dbt builds the sources csframe reads; csframe computes once they are fresh: one job, in order.
# (dbt's hooks — post-hook, on-run-end — are SQL run by the warehouse; they cannot start a program.)
set -eu
cd "$(dirname "$0")"
dbt build --profiles-dir .
csframe compute --project . -m mrr -m churn_rate -m new_customers --grain month \
    --start "${START:-2024-10-01}" --end "${END:-2025-01-01}" \
    --target analytics.cs_metrics --log-format json --format csv --output last-run.csv
