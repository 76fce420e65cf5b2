#!/bin/sh
# csframe, nightly: recompute the last three full months and replace them in the warehouse.
# crontab -e   (cron's environment is nearly empty: name everything by its full path)
#   15 2 * * *  /srv/metrics/nightly.sh >> /var/log/csframe/nightly.log 2>&1
set -u
PROJECT=${PROJECT:-/srv/metrics}                    # the directory holding csframe.toml
CSFRAME=${CSFRAME:-/opt/csframe/venv/bin/csframe}   # the venv csframe is installed in
END=${END:-$(date -u +%Y-%m-01)}                    # periods that start before this month
START=$(date -u -d "$END -3 months" +%Y-%m-01)

status=0
"$CSFRAME" compute --project "$PROJECT" --all --grain month --start "$START" --end "$END" \
    --target cs_metrics --timeout 1800 --retries 5 --log-format json \
    --format csv --output "$PROJECT/last-run.csv" || status=$?
echo "$(date -u +%FT%TZ) csframe nightly $START..$END: exit $status"
exit $status
