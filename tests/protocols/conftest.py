"""Prints how many of botocore's protocol fixtures kumo passes."""

from __future__ import annotations

from collections import Counter

_counts: dict[str, Counter] = {"input": Counter(), "output": Counter()}


def pytest_runtest_logreport(report):
    nodeid = report.nodeid
    if "test_botocore_fixtures.py::test_" not in nodeid:
        return
    kind = "input" if "::test_input[" in nodeid else "output" if "::test_output[" in nodeid else None
    if kind is None:
        return
    if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
        if hasattr(report, "wasxfail"):
            outcome = "xfailed" if report.skipped else "xpassed"
        else:
            outcome = report.outcome
        _counts[kind][outcome] += 1


def pytest_terminal_summary(terminalreporter):
    if not any(_counts[k] for k in _counts):
        return
    tr = terminalreporter
    tr.write_sep("=", "botocore protocol fixtures, inverted")
    total_run = total_pass = 0
    for kind, c in _counts.items():
        run = c["passed"] + c["failed"] + c["xfailed"] + c["xpassed"]
        total_run += run
        total_pass += c["passed"]
        tr.write_line(
            f"{kind:6}: {c['passed']}/{run} passed, {c['xfailed']} expected failures, "
            f"{c['failed']} failed, {c['skipped']} skipped (botocore's ignore list or client-only)"
        )
    if total_run:
        tr.write_line(f"total : {total_pass}/{total_run} = {100.0 * total_pass / total_run:.2f}% (target >= 98%)")
