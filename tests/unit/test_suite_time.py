"""tests/support/suite_time.py sums a JUnit report by engine and by module (docs/test-suite.md)."""

from __future__ import annotations

from tests.support.suite_time import engine_of, module_of, summary

REPORT = """<?xml version="1.0" encoding="utf-8"?>
<testsuites><testsuite name="pytest">
<testcase classname="tests.engine.test_conformance.TestSpark" name="test_the_whole_catalog[month]" time="30.0"/>
<testcase classname="tests.engine.test_conformance.TestBigQuery" name="test_the_whole_catalog[month]" time="10.0"/>
<testcase classname="tests.cli.test_cli" name="test_check_bad_data[bigquery]" time="5.0"/>
<testcase classname="tests.cli.test_cli" name="test_help" time="5.0"/>
</testsuite></testsuites>"""


def test_engine_and_module_of_a_test():
    assert engine_of("tests.engine.test_conformance.TestSpark", "test_x") == "spark"
    assert engine_of("tests.cli.test_cli", "test_x[postgres-scs-off]") == "postgres"
    assert engine_of("tests.cli.test_cli", "test_help") == "-"
    assert module_of("tests.engine.test_conformance.TestSpark") == "tests.engine.test_conformance"
    assert module_of("tests.cli.test_cli") == "tests.cli.test_cli"


def test_the_summary_sums_by_engine_and_by_module(tmp_path):
    path = tmp_path / "junit.xml"
    path.write_text(REPORT, encoding="utf-8")
    out = summary(str(path))
    assert out.startswith("4 tests, 50 s in all")
    # spark 30 of 50 s, bigquery 10 + 5, no engine 5; modules 40 and 10 s
    assert "| spark | 30 | 60% |" in out and "| bigquery | 15 | 30% |" in out and "| - | 5 | 10% |" in out
    assert "| tests.engine.test_conformance | 2 | 40 | 80% |" in out and "| tests.cli.test_cli | 2 | 10 | 20% |" in out
