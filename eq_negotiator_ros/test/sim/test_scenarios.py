"""sim/scenarios.py: the CRAD file, errors a person can act on, generated scenarios."""

import pytest

from eq_negotiator_ros.sim.scenarios import (
    DEFAULT_SCENARIOS_PATH,
    ScenarioError,
    find_scenario,
    generate_scenarios,
    load_scenarios,
)

HEADER = "scenario_id,Creditor Target Days,Debtor Target Days,Outstanding Balance (USD),Days Overdue"


def test_default_file_loads_every_crad_row():
    scenarios = load_scenarios()
    assert len(scenarios) == 60
    first = scenarios[0]
    assert first.scenario_id == "crad_000"
    assert (first.creditor_target_days, first.debtor_target_days) == (12, 159)
    assert first.outstanding_balance == 15700.0
    assert first.recovery_stage == "Pre-Legal"
    assert first.cash_flow == "Complete Breakdown"
    assert all(s.debtor_target_days > s.creditor_target_days for s in scenarios)
    assert len({s.scenario_id for s in scenarios}) == 60


def test_missing_file_names_the_path_and_the_option(tmp_path):
    with pytest.raises(ScenarioError, match=r"not found.*--scenarios"):
        load_scenarios(tmp_path / "nope.csv")


def test_missing_column_is_named(tmp_path):
    path = tmp_path / "s.csv"
    path.write_text("scenario_id,Creditor Target Days,Outstanding Balance (USD)\na,10,500\n")
    with pytest.raises(ScenarioError, match="Debtor Target Days"):
        load_scenarios(path)


def test_bad_number_names_line_and_column(tmp_path):
    path = tmp_path / "s.csv"
    path.write_text(f"{HEADER}\na,10,90,500,3\nb,ten,90,500,3\n")
    with pytest.raises(ScenarioError, match=r"line 3 \(b\).*Creditor Target Days"):
        load_scenarios(path)


def test_debtor_target_below_creditor_target_is_refused(tmp_path):
    path = tmp_path / "s.csv"
    path.write_text(f"{HEADER}\na,90,10,500,3\n")
    with pytest.raises(ScenarioError, match="must want the longer timeline"):
        load_scenarios(path)


def test_header_only_and_duplicate_ids(tmp_path):
    path = tmp_path / "s.csv"
    path.write_text(HEADER + "\n")
    with pytest.raises(ScenarioError, match="no rows"):
        load_scenarios(path)
    path.write_text(f"{HEADER}\na,10,90,500,3\na,12,80,500,3\n")
    with pytest.raises(ScenarioError, match="appears twice"):
        load_scenarios(path)


def test_rows_without_id_get_one(tmp_path):
    path = tmp_path / "s.csv"
    path.write_text("Creditor Target Days,Debtor Target Days,Outstanding Balance (USD)\n10,90,500\n")
    (scenario,) = load_scenarios(path)
    assert scenario.scenario_id == "crad_000" and scenario.days_overdue == 0


def test_generated_scenarios_are_seeded_and_crad_like():
    a, b = generate_scenarios(50, seed=3), generate_scenarios(50, seed=3)
    assert a == b
    assert generate_scenarios(50, seed=4) != a
    for s in a:
        assert 5 <= s.creditor_target_days <= 20
        assert s.debtor_target_days >= 2 * s.creditor_target_days
        assert 33 <= s.debtor_target_days <= 177 or s.debtor_target_days == 2 * s.creditor_target_days
        assert s.outstanding_balance > 0 and s.credit_type and s.recovery_stage and s.cash_flow
    assert generate_scenarios(0) == []
    with pytest.raises(ScenarioError):
        generate_scenarios(-1)


def test_find_scenario():
    scenarios = load_scenarios()
    assert find_scenario(scenarios, "crad_002").creditor_target_days == 20
    with pytest.raises(ScenarioError, match="crad_000"):
        find_scenario(scenarios, "missing")


def test_default_path_is_the_shipped_file():
    assert DEFAULT_SCENARIOS_PATH.name == "crad_dev.csv" and DEFAULT_SCENARIOS_PATH.is_file()


def test_garbage_files_give_a_scenario_error(tmp_path):
    binary = tmp_path / "binary.csv"
    binary.write_bytes(bytes(range(256)) * 10)
    with pytest.raises(ScenarioError):
        load_scenarios(binary)
    text = tmp_path / "text.csv"
    text.write_text("🙂" * 10_000)
    with pytest.raises(ScenarioError, match="lacks the column"):
        load_scenarios(text)
