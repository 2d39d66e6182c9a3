"""The bounded, seeded fuzz run: every implemented operation, in every protocol its service speaks.

A fixed number of requests per operation and protocol (generated from the
botocore input shape, a share of them mutated at the byte level) against a
kumo of its own; any 500, hang, dropped connection or non-AWS-shaped error
fails, and so does a health check left unanswered.  ``tools/fuzz.py`` runs the
same campaign longer.
"""

from __future__ import annotations

import pytest

from .campaign import Campaign, targets
from .server import FuzzServer

SEED = 12
PER_ROUND = 4  # requests per operation and protocol in each of ROUNDS rounds
ROUNDS = 2
SERVICES = sorted({t.service for t in targets()})

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def fuzz_server():
    server = FuzzServer().start()
    yield server
    server.stop()
    server.cleanup()


@pytest.mark.parametrize("service", SERVICES)
def test_no_500_hang_or_unshaped_error_under_fuzzing(fuzz_server, service):
    chosen = targets([service])
    campaign = Campaign(fuzz_server.endpoint, seed=SEED, per_round=PER_ROUND, rounds=ROUNDS,
                        server_log=fuzz_server.new_log)
    report = campaign.run(chosen)
    summary = report.summary()
    print(f"\n{service}: " + summary.partition("\nslowest request")[0])  # the figures, shown with -s
    assert fuzz_server.alive(), summary
    assert report.health_checks >= 1 and not report.health_failures, summary
    assert not report.failures, summary
    # Every operation and protocol was reached, most of them several times.
    assert {t.name for t in chosen} <= set(report.per_target), summary


def test_the_fuzzed_server_stops_cleanly_and_leaves_nothing_running(fuzz_server):
    assert fuzz_server.alive()
    assert fuzz_server.stop() == 0
    assert fuzz_server.leftovers() == []
