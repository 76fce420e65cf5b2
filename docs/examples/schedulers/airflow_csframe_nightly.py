"""csframe in Airflow: the same nightly run twice — through the CLI (BashOperator) and
through the Python API (PythonOperator), logging each stage and warning to the task log."""

from __future__ import annotations

import datetime as dt
import logging
import os

try:  # Airflow 3
    from airflow.providers.standard.operators.bash import BashOperator
    from airflow.providers.standard.operators.python import PythonOperator
    from airflow.sdk import DAG
except ImportError:  # Airflow 2
    from airflow import DAG
    from airflow.operators.bash import BashOperator
    from airflow.operators.python import PythonOperator

PROJECT = os.environ.get("CSFRAME_PROJECT", "/srv/metrics")  # the directory holding csframe.toml


def months_before(day: dt.date, n: int) -> dt.date:
    y, m = divmod(day.year * 12 + day.month - 1 - n, 12)
    return dt.date(y, m + 1, 1)


def compute_metrics(data_interval_end, **_):
    """The last three full months before the run's interval end, into cs_metrics."""
    from csframe.core.observe import LoggingObserver
    from csframe.core.session import Session

    end = data_interval_end.date().replace(day=1)
    with Session.open(PROJECT) as session:
        keys, _unavailable = session.all_keys()  # {metric: the sources it lacks}
        result = session.compute(keys, grain="month", start=months_before(end, 3), end=end,
                                 target="cs_metrics", timeout=1800, retries=5,
                                 observer=LoggingObserver(logging.getLogger("airflow.task")))
    return {"rows": len(result.rows), "written": result.written, "timings": result.timings}


with DAG("csframe_nightly", schedule="15 2 * * *", start_date=dt.datetime(2025, 1, 1), catchup=False,
         default_args={"retries": 1, "retry_delay": dt.timedelta(minutes=10)}) as dag:
    cli = BashOperator(
        task_id="compute_cli",
        bash_command=(
            "csframe compute --project {{ params.project }} --all --grain month "
            "--start {{ (data_interval_end.replace(day=1) - macros.dateutil.relativedelta.relativedelta(months=3)) | ds }} "
            "--end {{ data_interval_end.replace(day=1) | ds }} "
            "--target cs_metrics --timeout 1800 --retries 5 --log-format json --format csv"
            " > /dev/null"  # the data is in the table; the task log gets the JSON lines (stderr)
        ),
        params={"project": PROJECT},
    )
    api = PythonOperator(task_id="compute_api", python_callable=compute_metrics)
    cli >> api
