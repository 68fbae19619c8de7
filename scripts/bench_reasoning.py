#!/usr/bin/env python3
"""Latency of the per-turn reasoning (tracker + policy + offer extraction + concession + directive),
without emotion detection, over many simulated turns; and how well the offer extraction reads the
simulated debtors' words.

    .venv/bin/python scripts/bench_reasoning.py                  # eq policy, all personas
    .venv/bin/python scripts/bench_reasoning.py --policy wsls --negotiations 50

The debtor is the project's simulator (sim/debtor.py, phrasebank words); the emotion reading given
to the session is the debtor's true emotion made soft (0.7 on it, the rest spread), so the figures
measure the reasoning alone. Prints p50 / p95 / p99 / max of NegotiationSession.step in ms (target:
p95 < 1 ms), the extraction's agreement with what the simulator meant, and the outcomes. Figures
only: nothing is asserted here (tests hold the assertions).
"""

from __future__ import annotations

import argparse
import datetime
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "eq_negotiator_ros"))

from eq_negotiator_ros.config import load_config  # noqa: E402
from eq_negotiator_ros.eq.emotions import EMOTIONS  # noqa: E402
from eq_negotiator_ros.eq.extraction import extract_terms  # noqa: E402
from eq_negotiator_ros.eq.policy import make_policy  # noqa: E402
from eq_negotiator_ros.eq.records import EmotionReading  # noqa: E402
from eq_negotiator_ros.eq.session import NegotiationSession  # noqa: E402
from eq_negotiator_ros.eq.tracker import HiddenStateTracker  # noqa: E402
from eq_negotiator_ros.sim.debtor import DebtorSimulator, load_personas  # noqa: E402
from eq_negotiator_ros.sim.scenarios import load_scenarios  # noqa: E402

TODAY = datetime.date(2026, 1, 14)


def soft_reading(emotion: str, confidence: float = 0.7) -> EmotionReading:
    rest = (1.0 - confidence) / (len(EMOTIONS) - 1)
    return EmotionReading(probs=tuple(confidence if e == emotion else rest for e in EMOTIONS), source="bench")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--policy", default="eq")
    parser.add_argument("--negotiations", type=int, default=30, help="negotiations per debtor persona")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    config = load_config(overrides={"eq.learning.state_path": ""})
    scenarios = load_scenarios()
    personas = load_personas()
    policy = make_policy(args.policy, config.eq, seed=args.seed)
    step_ms: list[float] = []
    step_cpu_ms: list[float] = []  # this thread's CPU time: unaffected by other processes on the cores
    extraction_ms: list[float] = []
    read = Counter()
    outcomes: Counter[tuple[str, str]] = Counter()
    for persona_name, persona in personas.items():
        debtor = DebtorSimulator(persona, config.eq.model)
        for n in range(args.negotiations):
            scenario = scenarios[n % len(scenarios)]
            debtor.reset(scenario, seed=args.seed * 100_003 + n)
            tracker = HiddenStateTracker(getattr(policy, "model", config.eq.model), config.eq.tracker)
            session = NegotiationSession(scenario, config, policy, tracker, f"bench-{n}", today=TODAY)
            directive = session.open()
            while not session.finished:
                turn = debtor.respond(directive.creditor_emotion, directive.offer)
                reading = soft_reading(turn.true_emotion)
                start, start_cpu = time.perf_counter(), time.thread_time()
                record = session.step(turn.text, reading)
                step_ms.append((time.perf_counter() - start) * 1000.0)
                step_cpu_ms.append((time.thread_time() - start_cpu) * 1000.0)
                start = time.perf_counter()
                terms = extract_terms(turn.text, TODAY)
                extraction_ms.append((time.perf_counter() - start) * 1000.0)
                directive = record.directive
                if turn.intent == "counter":
                    read["counter"] += 1
                    read["counter_days_read"] += terms.offer_days == turn.offer_days
                elif turn.intent == "accept":
                    read["accept"] += 1
                    read["accept_read"] += terms.acceptance == "accept" or terms.offer_days == turn.offer_days
                else:
                    read["stall"] += 1
                    read["stall_no_offer"] += terms.offer_days is None
            policy.finish(session.outcome == "success")
            outcomes[(persona_name, session.outcome or "?")] += 1

    steps = np.asarray(step_ms)
    print(
        f"policy {args.policy}: {len(personas)} personas x {args.negotiations} negotiations, {len(steps)} "
        f"debtor turns"
    )
    print(
        "reasoning per turn (session.step, no detection): "
        f"p50 {np.percentile(steps, 50):.3f} ms  p95 {np.percentile(steps, 95):.3f} ms  "
        f"p99 {np.percentile(steps, 99):.3f} ms  max {steps.max():.3f} ms  (target p95 < 1 ms)"
    )
    cpu = np.asarray(step_cpu_ms)
    print(
        "  same, CPU time of the thread (excludes waiting for a core shared with other processes): "
        f"p50 {np.percentile(cpu, 50):.3f} ms  p95 {np.percentile(cpu, 95):.3f} ms  p99 "
        f"{np.percentile(cpu, 99):.3f} ms"
    )
    ex = np.asarray(extraction_ms)
    print(
        f"  of which offer extraction: p50 {np.percentile(ex, 50):.3f} ms  p95 {np.percentile(ex, 95):.3f} ms"
    )
    if read["counter"]:
        print(
            f"extraction: counter-offer days read exactly {read['counter_days_read']}/{read['counter']} "
            f"({100 * read['counter_days_read'] / read['counter']:.1f}%)"
        )
    if read["accept"]:
        print(
            f"extraction: acceptances read {read['accept_read']}/{read['accept']} "
            f"({100 * read['accept_read'] / read['accept']:.1f}%)"
        )
    if read["stall"]:
        print(f"extraction: stalls with no offer read {read['stall_no_offer']}/{read['stall']}")
    for persona_name in personas:
        success = outcomes[(persona_name, "success")]
        total = sum(v for (p, _), v in outcomes.items() if p == persona_name)
        print(f"  {persona_name:<13} success {success}/{total}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
