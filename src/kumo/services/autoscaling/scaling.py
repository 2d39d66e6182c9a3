"""The arithmetic of scaling policies, as pure functions (AWS's rounding and bounds)."""

from __future__ import annotations

import math

ADJUSTMENT_TYPES = ("ChangeInCapacity", "ExactCapacity", "PercentChangeInCapacity")
SCALE_IN_FRACTION = 0.1  # target tracking removes at most this share of capacity per step (at least one)


def adjust(current: int, adjustment_type: str, adjustment: float, min_magnitude: int | None = None) -> int:
    """The new capacity an adjustment asks for, before min/max bounds."""
    if adjustment_type == "ExactCapacity":
        return int(adjustment)
    if adjustment_type == "ChangeInCapacity":
        return current + int(adjustment)
    delta = current * adjustment / 100.0
    # AWS: values between 0 and 1 become 1 (-1 below zero); beyond, rounded toward zero.
    if 0 < delta < 1:
        step = 1
    elif -1 < delta < 0:
        step = -1
    elif delta > 0:
        step = math.floor(delta)
    else:
        step = math.ceil(delta)
    if min_magnitude and step != 0 and abs(step) < min_magnitude:
        step = min_magnitude if step > 0 else -min_magnitude
    return current + step


def clamp(value: int, low: int, high: int) -> int:
    return max(low, min(high, value))


def step_adjustment(steps: list[dict], metric: float, threshold: float) -> dict | None:
    """The step whose interval holds ``metric - threshold``.

    Above the threshold the lower bound is inclusive and the upper exclusive; below it, the reverse.
    A missing bound is infinite.
    """
    diff = metric - threshold
    for s in steps:
        lo = s.get("MetricIntervalLowerBound")
        hi = s.get("MetricIntervalUpperBound")
        lo = -math.inf if lo is None else float(lo)
        hi = math.inf if hi is None else float(hi)
        if diff >= 0:
            if lo <= diff < hi or (hi == math.inf and diff >= lo):
                return s
        elif lo < diff <= hi or (lo == -math.inf and diff <= hi):
            return s
    return None


def check_steps(steps: list[dict]) -> str | None:
    """Why AWS would refuse these step adjustments (None: fine)."""
    if not steps:
        return "StepAdjustments must be specified for a step scaling policy."
    spans = []
    for s in steps:
        lo, hi = s.get("MetricIntervalLowerBound"), s.get("MetricIntervalUpperBound")
        if lo is None and hi is None and len(steps) > 1:
            return "Only one step adjustment may have both bounds unset."
        lo = -math.inf if lo is None else float(lo)
        hi = math.inf if hi is None else float(hi)
        if lo >= hi:
            return "The upper bound of a step adjustment must be greater than its lower bound."
        spans.append((lo, hi))
    spans.sort()
    for (_, hi), (lo, _) in zip(spans, spans[1:]):
        if lo < hi:
            return "Step adjustments must not overlap."
        if lo > hi:
            return "Step adjustments must not have gaps between them."
    negatives = [s for s in spans if s[0] < 0]
    positives = [s for s in spans if s[1] > 0]
    if negatives and positives and spans[0][0] != -math.inf and spans[-1][1] != math.inf:
        return "The steps must be bounded by infinity on one side."
    return None


def tracking_capacity(current: int, metric: float, target: float) -> int:
    """Capacity that would bring the metric (spread over ``current``) to the target value."""
    if target <= 0:
        return current
    return max(0, math.ceil(current * metric / target - 1e-9))


def scale_in_floor(current: int) -> int:
    """The least capacity one target-tracking scale-in step may leave (it scales in slowly)."""
    return current - max(1, math.floor(current * SCALE_IN_FRACTION))
