"""eq/requests.py: a start_session request with absurd, negative or non-finite numbers is refused
with a message saying what is allowed; 0 keeps the scenario's value."""

from __future__ import annotations

import math

import pytest

from eq_negotiator_ros.config import SessionConfig, load_config
from eq_negotiator_ros.eq.records import Scenario
from eq_negotiator_ros.eq.requests import SessionRequestError, validate_session_request

SCENARIO = Scenario(
    scenario_id="crad_test", creditor_target_days=30, debtor_target_days=90, outstanding_balance=15700.0
)
LIMITS = SessionConfig(max_target_days=3650, max_balance=1.0e9)


def test_zero_keeps_the_scenarios_values():
    assert validate_session_request(SCENARIO, 0, 0.0, LIMITS) == SCENARIO


def test_overrides_in_range_are_applied():
    scenario = validate_session_request(SCENARIO, 45, 2500.5, LIMITS)
    assert (scenario.creditor_target_days, scenario.outstanding_balance) == (45, 2500.5)
    assert scenario.debtor_target_days == 90 and scenario.scenario_id == "crad_test"
    edge = validate_session_request(SCENARIO, 3650, 1.0e9, LIMITS)
    assert (edge.creditor_target_days, edge.outstanding_balance) == (3650, 1.0e9)


@pytest.mark.parametrize("days", [4294967295, 3651, -1, 2.5, math.nan, math.inf, "30", None, True])
def test_target_days_out_of_range_or_not_a_whole_number_are_refused(days):
    with pytest.raises(SessionRequestError) as raised:
        validate_session_request(SCENARIO, days, 0.0, LIMITS)
    message = str(raised.value)
    assert "creditor_target_days must be a whole number of days from 1 to 3650" in message
    assert "or 0 for the scenario's 30" in message and f"got {days!r}" in message


@pytest.mark.parametrize("balance", [math.nan, math.inf, -math.inf, -100.0, 1.0e9 + 1, 1e308, "15700", None])
def test_balances_that_are_negative_non_finite_or_absurd_are_refused(balance):
    with pytest.raises(SessionRequestError) as raised:
        validate_session_request(SCENARIO, 0, balance, LIMITS)
    message = str(raised.value)
    assert "outstanding_balance must be a finite amount above 0 and at most 1e+09" in message
    assert "or 0 for the scenario's 15700" in message


def test_a_broken_scenario_is_refused_and_named():
    broken = Scenario(
        scenario_id="bad_row", creditor_target_days=30, debtor_target_days=90, outstanding_balance=math.nan
    )
    with pytest.raises(SessionRequestError, match="scenario bad_row has an outstanding balance of nan"):
        validate_session_request(broken, 0, 0.0, LIMITS)
    # An override replaces the broken value, so the caller can still start on that scenario.
    assert validate_session_request(broken, 0, 100.0, LIMITS).outstanding_balance == 100.0
    zero_days = Scenario(
        scenario_id="no_days", creditor_target_days=0, debtor_target_days=90, outstanding_balance=100.0
    )
    with pytest.raises(SessionRequestError, match="scenario no_days has a creditor target of 0 days"):
        validate_session_request(zero_days, 0, 0.0, LIMITS)


def test_the_limits_come_from_the_config():
    session = load_config(overrides={"session.max_target_days": 60, "session.max_balance": 20000}).session
    assert validate_session_request(SCENARIO, 60, 20000, session).creditor_target_days == 60
    with pytest.raises(SessionRequestError, match="from 1 to 60 "):
        validate_session_request(SCENARIO, 61, 0.0, session)
    with pytest.raises(SessionRequestError, match="at most 20000 "):
        validate_session_request(SCENARIO, 0, 20000.01, session)
