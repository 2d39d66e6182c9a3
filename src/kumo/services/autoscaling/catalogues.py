"""What Auto Scaling offers (adjustment and termination policy types) and the account's limits."""

from __future__ import annotations

from .model import GROUP, LAUNCH_CONFIG, MAX_GROUPS, MAX_LAUNCH_CONFIGS, TERMINATION_POLICIES, table


def describe_adjustment_types(ctx, p):
    from .scaling import ADJUSTMENT_TYPES

    return {"AdjustmentTypes": [{"AdjustmentType": t} for t in ADJUSTMENT_TYPES]}


def describe_termination_policy_types(ctx, p):
    return {"TerminationPolicyTypes": list(TERMINATION_POLICIES)}


def describe_account_limits(ctx, p):
    return {"MaxNumberOfAutoScalingGroups": MAX_GROUPS, "MaxNumberOfLaunchConfigurations": MAX_LAUNCH_CONFIGS,
            "NumberOfAutoScalingGroups": len(table(ctx, GROUP)),
            "NumberOfLaunchConfigurations": len(table(ctx, LAUNCH_CONFIG))}
