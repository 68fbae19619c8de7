"""What a start_session request may ask for. Pure: the scenario and the request's numbers in, the
scenario the negotiation runs on out, or a SessionRequestError saying what is allowed.

The service message (StartSession.srv) carries the creditor's target as uint32 and the balance as
float64, 0 meaning "the scenario's own". Both are open to any caller on the ROS graph: 4294967295
days or a NaN balance would otherwise reach the opening line ("4294967295 days") and the offer
arithmetic. The limits are session.max_target_days and session.max_balance in negotiator.yaml.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import replace

from ..config import SessionConfig
from .records import Scenario


class SessionRequestError(ValueError):
    """A start_session request asks for something outside the allowed ranges; the message says what."""


def validate_session_request(
    scenario: Scenario,
    creditor_target_days: object,
    outstanding_balance: object,
    limits: SessionConfig,
) -> Scenario:
    """The scenario with the request's overrides applied (0 keeps the scenario's value).

    Raises SessionRequestError when an override is not a number, not finite, negative or beyond the
    configured limits, or when the scenario itself holds such a value (a broken scenarios file)."""
    days = _target_days(creditor_target_days, scenario, limits)
    balance = _balance(outstanding_balance, scenario, limits)
    checked = replace(scenario, creditor_target_days=days, outstanding_balance=balance)
    name = f"scenario {scenario.scenario_id}"
    if not 1 <= checked.creditor_target_days <= limits.max_target_days:
        raise SessionRequestError(
            f"{name} has a creditor target of {checked.creditor_target_days} days, outside 1 to "
            f"{limits.max_target_days} (session.max_target_days); fix the scenarios file or pass "
            f"creditor_target_days"
        )
    balance = checked.outstanding_balance
    if not (math.isfinite(balance) and 0 < balance <= limits.max_balance):
        raise SessionRequestError(
            f"{name} has an outstanding balance of {balance}, outside 0 to {limits.max_balance:g} "
            f"(session.max_balance); fix the scenarios file or pass outstanding_balance"
        )
    return checked


def _target_days(value: object, scenario: Scenario, limits: SessionConfig) -> int:
    allowed = (
        f"creditor_target_days must be a whole number of days from 1 to {limits.max_target_days} "
        f"(session.max_target_days), or 0 for the scenario's {scenario.creditor_target_days}"
    )
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise SessionRequestError(f"{allowed}; got {value!r}")
    if not math.isfinite(value) or value != int(value) or not 0 <= value <= limits.max_target_days:
        raise SessionRequestError(f"{allowed}; got {value!r}")
    return int(value) or int(scenario.creditor_target_days)


def _balance(value: object, scenario: Scenario, limits: SessionConfig) -> float:
    allowed = (
        f"outstanding_balance must be a finite amount above 0 and at most {limits.max_balance:g} "
        f"(session.max_balance), or 0 for the scenario's {scenario.outstanding_balance:g}"
    )
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise SessionRequestError(f"{allowed}; got {value!r}")
    if not math.isfinite(value) or not 0 <= value <= limits.max_balance:
        raise SessionRequestError(f"{allowed}; got {value!r}")
    return float(value) or float(scenario.outstanding_balance)
