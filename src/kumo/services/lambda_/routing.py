"""Pure decisions of the invocation path: which version an alias runs, and when an async event is retried.

Nothing here does I/O, so each rule is a unit test (tests/unit/test_lambda_logic.py).
"""

from __future__ import annotations

import math

GOLDEN = (math.sqrt(5) - 1) / 2  # 0.618...: the additive recurrence with the best spread


def choose(primary: str, weights: dict[str, float], u: float) -> str:
    """The version for a draw ``u`` in [0, 1): each additional version takes its weight, the primary the rest."""
    edge = 0.0
    for version, weight in sorted(weights.items()):
        edge += float(weight)
        if u < edge:
            return version
    return primary


class Spread:
    """Draws for weighted routing: a golden-ratio sequence, so any run of N invocations splits within a
    handful of invocations of the weights (random draws would stray by sqrt(N) and sometimes by far more).
    Each alias gets its own sequence with a random start."""

    __slots__ = ("value",)

    def __init__(self, start: float):
        self.value = start % 1.0

    def next(self) -> float:
        self.value = (self.value + GOLDEN) % 1.0
        return self.value


# -- asynchronous invocation ------------------------------------------------------------------------

RETRY_DELAYS = (60.0, 120.0)  # AWS: one minute before the second attempt, two before the third
DEFAULT_RETRIES = 2
DEFAULT_MAX_AGE = 21600  # six hours
THROTTLE_FIRST, THROTTLE_MAX = 1.0, 300.0  # throttled events wait, backing off, until they run or grow too old


def retry_delay(attempts_made: int) -> float:
    """Seconds to wait after the ``attempts_made``-th failed attempt before the next one."""
    return RETRY_DELAYS[min(attempts_made, len(RETRY_DELAYS)) - 1]


def next_step(attempts_made: int, max_retries: int, age: float, max_age: float) -> str:
    """After a failed attempt: "retry", or why the event is given up ("RetriesExhausted", "EventAgeExceeded")."""
    if attempts_made > max_retries:
        return "RetriesExhausted"
    if age + retry_delay(attempts_made) > max_age:
        return "EventAgeExceeded"
    return "retry"


def throttle_delay(throttles: int) -> float:
    return min(THROTTLE_MAX, THROTTLE_FIRST * (2 ** max(0, throttles - 1)))
