"""Credit-recovery scenarios: the CRAD rows shipped with the package, or generated ones like them.

The negotiated issue is the repayment timeline in days (the EQ-Negotiator authors' protocol):
`Creditor Target Days` is what the creditor wants, `Debtor Target Days` what the debtor wants.
"""

from __future__ import annotations

import csv
import random
from pathlib import Path
from typing import Iterable, Sequence

from ..eq.records import Scenario

DEFAULT_SCENARIOS_PATH = Path(__file__).resolve().parent.parent / "data" / "crad_dev.csv"

# CSV column -> Scenario field. The first four are needed to negotiate at all.
REQUIRED_COLUMNS: dict[str, str] = {
    "Creditor Target Days": "creditor_target_days",
    "Debtor Target Days": "debtor_target_days",
    "Outstanding Balance (USD)": "outstanding_balance",
}
OPTIONAL_COLUMNS: dict[str, str] = {
    "Days Overdue": "days_overdue",
    "Credit Type": "credit_type",
    "Recovery Stage": "recovery_stage",
    "Cash Flow Situation": "cash_flow",
    "Reason for Overdue": "reason_overdue",
    "Creditor Name": "creditor_name",
    "Debtor Name": "debtor_name",
}
ID_COLUMN = "scenario_id"

# Category frequencies and numeric ranges of the 60 CRAD development rows (counted from
# data/crad_dev.csv), so generated scenarios look like the real ones.
_CREDIT_TYPES = {
    "Business Line of Credit": 18,
    "Commercial Mortgage": 13,
    "Invoice Financing": 9,
    "Working Capital Loan": 6,
    "Trade Finance": 6,
    "Equipment Financing": 4,
    "Merchant Cash Advance": 4,
}
_RECOVERY_STAGES = {
    "Late Delinquency": 14,
    "Write-Off": 14,
    "Early Delinquency": 9,
    "Legal": 9,
    "Pre-Collection": 8,
    "Pre-Legal": 6,
}
_CASH_FLOWS = {"Complete Breakdown": 23, "Chronic Shortage": 21, "Temporary Disruption": 16}
_REASONS = {
    "Seasonal sales downturn": 10,
    "Key customer default": 8,
    "Unexpected tax liabilities": 8,
    "Regulatory compliance costs": 8,
    "Natural disaster impact": 7,
    "Pandemic-related closures": 6,
    "Fraud incident": 4,
    "Client bankruptcy affecting receivables": 3,
    "Supply chain disruption": 3,
    "Currency fluctuation losses": 3,
}
_CREDITOR_TARGET_DAYS = (5, 20)  # CRAD: min 5, max 20, median 11.5
_DEBTOR_TARGET_DAYS = (33, 177)  # CRAD: min 33, max 177, median 119.5
_DAYS_OVERDUE = (32, 359)
_BALANCE_USD = (5_000, 50_000)  # CRAD original amounts span 20.8k-48.8k; outstanding is 15.7k in every row
_NAMES = (
    "Harbor Finance",
    "Northgate Capital",
    "Summit Credit",
    "Lakeside Lending",
    "Keystone Bank",
    "Riverside Supplies",
    "Oakwood Bakery",
    "Bright Path Logistics",
    "Cedar Print Shop",
    "Miller and Sons Hardware",
    "Blue Fern Cafe",
    "Atlas Auto Repair",
)


class ScenarioError(ValueError):
    """A scenarios file or scenario id is unusable; the message says what to fix."""


def load_scenarios(path: Path | str | None = None) -> list[Scenario]:
    """Scenarios from a CRAD-format CSV (default: the development rows shipped with the package)."""
    path = Path(path).expanduser() if path else DEFAULT_SCENARIOS_PATH
    if not path.is_file():
        raise ScenarioError(
            f"scenarios file not found: {path}; pass a CRAD-format CSV (--scenarios FILE) "
            f"or leave it out to use {DEFAULT_SCENARIOS_PATH.name}"
        )
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            columns = reader.fieldnames or []
            missing = [c for c in REQUIRED_COLUMNS if c not in columns]
            if missing:
                raise ScenarioError(
                    f"scenarios file {path} lacks the column(s) {', '.join(repr(c) for c in missing)}; "
                    f"a CRAD-format CSV needs {', '.join(repr(c) for c in REQUIRED_COLUMNS)}"
                )
            rows = list(reader)
    except UnicodeDecodeError:
        raise ScenarioError(f"scenarios file {path} is not UTF-8 text; save it as a UTF-8 CSV") from None
    except csv.Error as error:
        raise ScenarioError(f"scenarios file {path} is not a valid CSV: {error}") from None
    if not rows:
        raise ScenarioError(f"scenarios file {path} has a header but no rows")
    scenarios = [_scenario_from_row(row, index, path) for index, row in enumerate(rows)]
    _check_unique_ids(scenarios, path)
    return scenarios


def _scenario_from_row(row: dict[str, str], index: int, path: Path) -> Scenario:
    line = index + 2  # 1-based, after the header: what a spreadsheet shows
    scenario_id = (row.get(ID_COLUMN) or "").strip() or f"crad_{index:03d}"

    def number(column: str, integer: bool) -> float | int:
        raw = (row.get(column) or "").strip()
        try:
            value = float(raw)
        except ValueError:
            raise ScenarioError(
                f"{path} line {line} ({scenario_id}): column {column!r} must be a number, got {raw!r}"
            ) from None
        if value < 0 or value != value:
            raise ScenarioError(f"{path} line {line} ({scenario_id}): column {column!r} must not be negative")
        return int(round(value)) if integer else value

    creditor_days = number("Creditor Target Days", True)
    debtor_days = number("Debtor Target Days", True)
    if creditor_days < 1:
        raise ScenarioError(f"{path} line {line} ({scenario_id}): 'Creditor Target Days' must be at least 1")
    if debtor_days < creditor_days:
        # The protocol needs the debtor to want more time than the creditor; otherwise there is
        # nothing to negotiate and every metric would be trivially perfect.
        raise ScenarioError(
            f"{path} line {line} ({scenario_id}): 'Debtor Target Days' ({debtor_days}) is below "
            f"'Creditor Target Days' ({creditor_days}); the debtor must want the longer timeline"
        )
    fields: dict[str, object] = {
        "scenario_id": scenario_id,
        "creditor_target_days": creditor_days,
        "debtor_target_days": debtor_days,
        "outstanding_balance": float(number("Outstanding Balance (USD)", False)),
    }
    if (row.get("Days Overdue") or "").strip():
        fields["days_overdue"] = number("Days Overdue", True)
    for column, name in OPTIONAL_COLUMNS.items():
        if name == "days_overdue":
            continue
        value = (row.get(column) or "").strip()
        if value:
            fields[name] = value
    return Scenario(**fields)  # type: ignore[arg-type]


def _check_unique_ids(scenarios: Sequence[Scenario], path: Path | str) -> None:
    seen: set[str] = set()
    for scenario in scenarios:
        if scenario.scenario_id in seen:
            raise ScenarioError(
                f"{path}: scenario_id {scenario.scenario_id!r} appears twice; ids must be unique"
            )
        seen.add(scenario.scenario_id)


def generate_scenarios(n: int, seed: int = 0) -> list[Scenario]:
    """`n` synthetic scenarios with the fields and value ranges of the CRAD rows (seeded)."""
    if n < 0:
        raise ScenarioError(f"number of scenarios must not be negative, got {n}")
    rng = random.Random(seed)
    scenarios = []
    for index in range(n):
        creditor_days = rng.randint(*_CREDITOR_TARGET_DAYS)
        # CRAD's debtor/creditor ratio runs from 2x to 30x; keep at least 2x.
        debtor_days = max(rng.randint(*_DEBTOR_TARGET_DAYS), 2 * creditor_days)
        balance = round(rng.uniform(*_BALANCE_USD) / 100.0) * 100.0
        creditor, debtor = rng.sample(_NAMES, 2)
        scenarios.append(
            Scenario(
                scenario_id=f"gen_{seed}_{index:04d}",
                creditor_target_days=creditor_days,
                debtor_target_days=debtor_days,
                outstanding_balance=balance,
                days_overdue=rng.randint(*_DAYS_OVERDUE),
                credit_type=_weighted(rng, _CREDIT_TYPES),
                recovery_stage=_weighted(rng, _RECOVERY_STAGES),
                cash_flow=_weighted(rng, _CASH_FLOWS),
                reason_overdue=_weighted(rng, _REASONS),
                creditor_name=creditor,
                debtor_name=debtor,
            )
        )
    return scenarios


def _weighted(rng: random.Random, counts: dict[str, int]) -> str:
    return rng.choices(list(counts), weights=list(counts.values()))[0]


def find_scenario(scenarios: Iterable[Scenario], scenario_id: str) -> Scenario:
    """The scenario with this id; the error lists a few valid ids."""
    scenarios = list(scenarios)
    for scenario in scenarios:
        if scenario.scenario_id == scenario_id:
            return scenario
    sample = ", ".join(s.scenario_id for s in scenarios[:5])
    raise ScenarioError(
        f"no scenario with id {scenario_id!r} among {len(scenarios)} scenarios (e.g. {sample})"
    )
