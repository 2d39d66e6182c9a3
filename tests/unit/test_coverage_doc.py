"""docs/coverage.md is what `kumo coverage --markdown` prints now: regenerated whenever an operation is added."""

import os

from kumo import coverage

DOC = os.path.join(os.path.dirname(__file__), "..", "..", "docs", "coverage.md")


def test_coverage_doc_is_current():
    with open(DOC) as fh:
        written = fh.read()
    assert written == coverage.markdown(coverage.report()), (
        f"docs/coverage.md is out of date; regenerate it from the repository root with: {coverage.REGENERATE}")


def test_coverage_counts_handlers_as_the_gateway_finds_them():
    by_name = {s.name: s for s in coverage.report()}
    sqs = by_name["sqs"]
    assert "SendMessage" in sqs.implemented and "SendMessage" not in sqs.missing
    assert sqs.total == len(set(sqs.implemented) | set(sqs.missing))
    # A service kumo routes but has no handlers for is not reported.
    assert all(os.path.exists(os.path.join(os.path.dirname(coverage.__file__), "services",
                                           coverage.specs.SERVICES[n].package, "api.py")) for n in by_name)
