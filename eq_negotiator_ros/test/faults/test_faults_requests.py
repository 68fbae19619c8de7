"""start_session with absurd or non-finite numbers, sent to the real reasoning node over real DDS:
refused with a message saying what is allowed; the node stays up and a valid request still works."""

from __future__ import annotations

import math


def test_start_session_refuses_absurd_and_non_finite_numbers(reasoning_node, tmp_path):
    process, client = reasoning_node(
        {
            "session.store_path": str(tmp_path / "sessions.sqlite"),
            "eq.learning.state_path": str(tmp_path / "learned.json"),
        }
    )
    refused = [
        (4294967295, 0.0, "creditor_target_days must be a whole number of days from 1 to 3650"),
        (0, math.nan, "outstanding_balance must be a finite amount above 0"),
        (0, math.inf, "outstanding_balance must be a finite amount above 0"),
        (0, -15700.0, "outstanding_balance must be a finite amount above 0"),
        (0, 1e300, "at most 1e+09 (session.max_balance)"),
    ]
    for days, balance, message in refused:
        request = client.StartSession.Request(creditor_target_days=days, outstanding_balance=balance)
        response = client.call(client.start_client, request, 30.0)
        assert response is not None, f"no answer to {days}, {balance}; node output:\n{process.output()}"
        assert not response.success and message in response.message, response.message
        assert response.session_id == "" and response.opening_text == ""
    assert process.alive
    request = client.StartSession.Request(creditor_target_days=45, outstanding_balance=2500.0)
    response = client.call(client.start_client, request, 30.0)
    assert response.success, response.message
    assert response.opening_text.endswith("45 days")
    assert client.spin_until(lambda: client.state.session_id == response.session_id, 10.0)
    assert client.state.creditor_target_days == 45
