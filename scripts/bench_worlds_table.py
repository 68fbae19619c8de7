"""Print the README's policy tables from the JSON documents `scripts/bench_worlds.sh` wrote.

    .venv/bin/python scripts/bench_worlds_table.py runs/worlds

For each run directory (cells_<world>[_fixed|_recip].json, pop_<world>[...].json): per policy the
mean over personas of success rate, debt multiple and creditor utility, and the targets of the
benchmark as measured (eq against the best single fixed emotion, the best fixed emotion per
persona, vanilla's debt multiple and every policy's utility).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

WORLDS = ("shipped", "alt_a", "alt_b")
TITLES = {"shipped": "shipped personas", "alt_a": "alternative world A", "alt_b": "alternative world B"}


def _read(path: Path) -> dict | None:
    if not path.is_file() or path.stat().st_size == 0:
        return None
    return json.loads(path.read_text())


def load(root: Path, name: str) -> dict | None:
    """A run's document; when eq_<name>.json exists (the eq policy run again alone, with the same
    seed: every other policy's negotiations are the same), its eq rows replace the run's. The
    summary and the targets are recomputed from the per-persona rows."""
    from eq_negotiator_ros.sim.metrics import GroupMetrics
    from eq_negotiator_ros.sim.report import policy_summary, target_figures

    document = _read(root / f"{name}.json")
    if document is None:
        return None
    rows = [
        dict(r, policy=RENAMED.get(r["policy"], r["policy"])) if _old_names(document) else r
        for r in document["results"]
    ]
    again = _read(root / f"eq_{name}.json")
    if again is not None:
        again_rows = [
            dict(r, policy=RENAMED.get(r["policy"], r["policy"])) if _old_names(again) else r
            for r in again["results"]
        ]
        replaced = {r["policy"] for r in again_rows}
        rows = again_rows + [r for r in rows if r["policy"] not in replaced]
    order = {p: i for i, p in enumerate(ORDER)}
    rows.sort(key=lambda r: order.get(r["policy"], len(order)))
    fields = GroupMetrics.__dataclass_fields__
    metrics = [GroupMetrics(**{k: v for k, v in r.items() if k in fields}) for r in rows]
    return dict(
        document,
        results=rows,
        summary=policy_summary(metrics),
        targets=target_figures(metrics),
        targets_eq_context=target_figures(metrics, "eq-context"),
    )


# Runs made before the contextual bandit was renamed eq-context (and the paper's policy, then
# called eq-paper, became eq again) are read with today's names.
RENAMED = {"eq": "eq-context", "eq-paper": "eq"}
ORDER = ("eq", "eq-context", "eq-paper", "vanilla")


def _old_names(document: dict) -> bool:
    return any(r["policy"] == "eq-paper" for r in document["results"]) or (
        document.get("config", {}).get("policies") == ["eq"] and "targets_eq_context" not in document
    )


def pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.1f}%"


def num(x: float | None, digits: int = 2) -> str:
    return "-" if x is None else f"{x:.{digits}f}"


def policy_table(root: Path, prefix: str, suffix: str) -> str:
    docs = {w: load(root, f"{prefix}_{w}{suffix}") for w in WORLDS}
    docs = {w: d for w, d in docs.items() if d}
    if not docs:
        return ""
    policies = list(dict.fromkeys(r["policy"] for d in docs.values() for r in d["summary"]))
    head = "| policy | " + " | ".join(f"{TITLES[w]}: success / debt multiple / utility" for w in docs) + " |"
    lines = [head, "|---|" + "---|" * len(docs)]
    for policy in policies:
        cells = []
        for w, d in docs.items():
            row = next((r for r in d["summary"] if r["policy"] == policy), None)
            cells.append(
                "-"
                if row is None
                else f"{pct(row['success_rate'])} / {num(row['debt_multiple'])} / {num(row['utility'], 3)}"
            )
        name = f"**{policy}**" if policy in ("eq", "eq-context") else policy
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def targets_table(root: Path) -> str:
    lines = [
        "| run | policy: success | best single fixed (+1 pt) | best fixed per persona (-2 pts) | "
        "debt multiple / vanilla (+0.05) | utility / best other | throughput (per min) |",
        "|---|---|---|---|---|---|---|",
    ]
    for prefix in ("cells", "pop"):
        for suffix in ("", "_fixed", "_recip"):
            for w, reference in ((w, r) for w in WORLDS for r in ("eq", "eq-context")):
                d = load(root, f"{prefix}_{w}{suffix}")
                t = d and d.get("targets" if reference == "eq" else "targets_eq_context")
                if not t:
                    continue
                ok = lambda c: "met" if c else "not met"  # noqa: E731
                single = t["reference_success"] >= t["best_single_fixed_success"] + 0.01
                per = t["reference_success"] >= t["best_fixed_per_persona_success"] - 0.02
                dm = (
                    t["reference_debt_multiple"] is not None
                    and t["vanilla_debt_multiple"] is not None
                    and t["reference_debt_multiple"] <= t["vanilla_debt_multiple"] + 0.05
                )
                util = t["best_other_utility"] is None or t["reference_utility"] >= t["best_other_utility"]
                label = (
                    f"{'population 1,800' if prefix == 'pop' else '100 x persona'}, {TITLES[w]}"
                    + {"": "", "_fixed": ", fixed concession", "_recip": ", reciprocity 0.3"}[suffix]
                )
                lines.append(
                    f"| {label} | {reference}: {pct(t['reference_success'])} | {t['best_single_fixed']} "
                    f"{pct(t['best_single_fixed_success'])}: {ok(single)} | "
                    f"{pct(t['best_fixed_per_persona_success'])}: "
                    f"{ok(per)} | {num(t['reference_debt_multiple'])} / {num(t['vanilla_debt_multiple'])}: "
                    f"{ok(dm)} | "
                    f"{num(t['reference_utility'], 3)} / {t['best_other_utility_policy']} "
                    f"{num(t['best_other_utility'], 3)}: {ok(util)} | {d['negotiations_per_minute']:.0f} |"
                )
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    root = Path(argv[1] if len(argv) > 1 else "runs/worlds")
    sections = [
        ("100 negotiations per policy x persona, belief-shaped concession (the default)", "cells", ""),
        ("100 negotiations per policy x persona, fixed concession (--fixed-concession)", "cells", "_fixed"),
        ("population: one stream of 1,800 per policy, persona drawn uniformly and hidden", "pop", ""),
        ("population, fixed concession", "pop", "_fixed"),
        (
            "shipped personas with reciprocity 0.3 (--reciprocity 0.3): 100 x persona, then population",
            "cells",
            "_recip",
        ),
    ]
    for title, prefix, suffix in sections:
        table = policy_table(root, prefix, suffix)
        if suffix == "_recip":
            table += "\n" + policy_table(root, "pop", suffix)
        if table.strip():
            print(f"#### {title}\n\n{table}")
    print("#### Targets\n\n" + targets_table(root))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
