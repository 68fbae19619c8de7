"""The creditor's utility of one negotiation: the single objective the eq policy optimises and the
benchmark reports beside the paper's metrics.

Success and days pull against each other: a creditor that concedes more days agrees more often.
Counting success alone rewards conceding; counting days alone rewards walking away. The utility
weighs an agreement by how close its timeline is to the creditor's target:

    U = 0                                  no agreement
    U = min(1, target_days / agreed_days)  agreement (1 at the target, 1/2 at twice the target)

So U = success / debt multiple: the mean of U over negotiations is the share of the debt's
time value the creditor recovers. An agreement earlier than the target counts as the target
(the creditor asked for no better). Pure: numbers in, a number out.
"""

from __future__ import annotations

from typing import Optional


def creditor_utility(success: bool, agreed_days: Optional[float], target_days: Optional[float]) -> float:
    """U in [0, 1] (see the module docstring). A success with unknown days counts as the target;
    a target of 0 days counts as 1 day (no division by zero)."""
    if not success:
        return 0.0
    if agreed_days is None or target_days is None:
        return 1.0
    target = max(1.0, float(target_days))
    agreed = max(1.0, float(agreed_days))
    return min(1.0, target / agreed)
