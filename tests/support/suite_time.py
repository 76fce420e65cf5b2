"""Where the suite's time goes: a pytest JUnit XML report summed by engine and by test module.

    python -m pytest -q --junitxml=/tmp/junit.xml
    python -m tests.support.suite_time /tmp/junit.xml [--top 25]

A test's engine is the first engine named in its id or class (``[bigquery]``, ``TestSpark``);
``-`` is a test of no one engine (DuckDB underneath, or several engines in one test). The times
are each test's setup, call and teardown, as the report gives them: with two workers the run's
wall time is about half their sum. docs/test-suite.md shows the output of a CI run.
"""

from __future__ import annotations

import argparse
import re
import xml.etree.ElementTree as ET
from collections import Counter

ENGINES = ("duckdb", "postgres", "bigquery", "clickhouse", "spark", "datafusion")
_ENGINE = re.compile("|".join(ENGINES), re.IGNORECASE)


def engine_of(classname: str, name: str) -> str:
    found = _ENGINE.search(name + " " + classname)
    return found.group(0).lower() if found else "-"


def module_of(classname: str) -> str:
    parts = classname.split(".")
    return ".".join(parts[:-1]) if parts[-1][:4] == "Test" else classname


def summary(path: str, top: int = 25) -> str:
    by_engine, by_module, count = Counter(), Counter(), Counter()
    for case in ET.parse(path).getroot().iter("testcase"):
        classname, seconds = case.get("classname", ""), float(case.get("time", 0))
        by_engine[engine_of(classname, case.get("name", ""))] += seconds
        module = module_of(classname)
        by_module[module] += seconds
        count[module] += 1
    total = sum(by_engine.values())
    lines = [f"{sum(count.values())} tests, {total:.0f} s in all", "", "| engine | seconds | share |", "|---|---:|---:|"]
    lines += [f"| {e} | {s:.0f} | {s / total:.0%} |" for e, s in by_engine.most_common()]
    lines += ["", "| module | tests | seconds | share |", "|---|---:|---:|---:|"]
    lines += [f"| {m} | {count[m]} | {s:.0f} | {s / total:.0%} |" for m, s in by_module.most_common(top)]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("junit_xml")
    parser.add_argument("--top", type=int, default=25, help="modules listed (default 25)")
    args = parser.parse_args()
    print(summary(args.junit_xml, args.top))


if __name__ == "__main__":
    main()
