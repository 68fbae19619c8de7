"""`eq-negotiator bench`: creditor policies against simulated debtor personas (the paper's
agent-to-agent evaluation, reproduced and extended).

    eq-negotiator bench --policies all --personas all --episodes 60 --seed 1 --out /tmp/bench --json
    eq-negotiator bench --policies eq,released --personas cheating,victim --episodes 20
    eq-negotiator bench --creditor llm --debtor llm --policies eq --personas angry --episodes 2

Writes report.md (table with 95% bootstrap intervals), success_rate.png, debt_multiple.png,
metrics.json and episodes.jsonl to --out. With --json, one JSON document on stdout:
{"results": [{"policy", "persona", "episodes", "success_rate", "avg_collection_days",
"avg_utterances", "debt_multiple", "recovery_rate", "ci95": {metric: [low, high]}, ...}],
"negotiations_per_minute": x, "config": {...}}. The same seed gives the same numbers, whatever
--workers. Exit code 2 for bad arguments or files, 1 when the run itself fails.
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
from pathlib import Path
from typing import Any, Sequence

from ..sim.debtor import PERSONA_NAMES

DEFAULT_EPISODES = 20


def add_parser(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--policies", default="all",
                        help="comma-separated creditor policies, or 'all' (eq, vanilla, fixed-<emotion>, random, wsls, hmm, released)")
    parser.add_argument("--personas", default="all",
                        help=f"comma-separated debtor personas, or 'all' ({', '.join(PERSONA_NAMES)})")
    parser.add_argument("--scenarios", type=Path, default=None,
                        help="CRAD-format scenarios CSV (default: session.scenarios_path, else the shipped crad_dev.csv)")
    parser.add_argument("--episodes", type=int, default=DEFAULT_EPISODES,
                        help=f"negotiations per policy x persona (default {DEFAULT_EPISODES})")
    parser.add_argument("--seed", type=int, default=1, help="run seed: same seed, same numbers (default 1)")
    parser.add_argument("--creditor", choices=("templates", "llm"), default="templates",
                        help="creditor's words: written templates (fast) or the local language model")
    parser.add_argument("--debtor", choices=("phrasebank", "llm"), default="phrasebank",
                        help="debtor's words: the written phrasebank (fast) or the local language model")
    parser.add_argument("--debtor-config", type=Path, default=None,
                        help="debtor personas YAML (default: the package's config/debtor_personas.yaml)")
    parser.add_argument("--workers", type=int, default=1,
                        help="worker processes, split by policy x persona (default 1)")
    parser.add_argument("--no-learning", action="store_true",
                        help="the eq policy does not learn across the episodes of a run")
    parser.add_argument("--out", type=Path, default=None,
                        help="output directory (default: <run_dir>/bench-<UTC time>)")
    parser.add_argument("--json", action="store_true", help="print one JSON document with the results on stdout")


def _fail(message: str, code: int = 2) -> int:
    print(f"eq-negotiator bench: {message}", file=sys.stderr)
    return code


def _pick(value: str, known: Sequence[str], what: str) -> list[str]:
    if value.strip().lower() == "all":
        return list(known)
    names = [v.strip().lower() for v in value.split(",") if v.strip()]
    unknown = [n for n in names if n not in known]
    if unknown or not names:
        raise ValueError(f"unknown {what} {', '.join(unknown) or repr(value)}; choose from {', '.join(known)} or 'all'")
    return list(dict.fromkeys(names))


def run(args: argparse.Namespace) -> int:
    from . import load_cli_config
    from ..config import ConfigError
    from ..eq.policy import POLICY_NAMES
    from ..sim.debtor import PersonaError, load_personas
    from ..sim.metrics import summarize
    from ..sim.report import markdown_report, write_charts
    from ..sim.runner import BenchError, BenchPlan, run_benchmark
    from ..sim.scenarios import ScenarioError, load_scenarios

    if args.episodes < 1:
        return _fail(f"--episodes must be at least 1, got {args.episodes}")
    if args.workers < 1:
        return _fail(f"--workers must be at least 1, got {args.workers}")
    overrides: dict[str, Any] = {"eq.learning.state_path": ""}  # a benchmark never touches saved learning
    if args.no_learning:
        overrides["eq.learning.enabled"] = False
    try:
        config = load_cli_config(args, forced=overrides)
        personas = load_personas(args.debtor_config)
        scenarios = load_scenarios(args.scenarios or config.session.scenarios_path)
        policy_names = _pick(args.policies, POLICY_NAMES, "policy")
        persona_names = _pick(args.personas, list(personas), "persona")
    except (ConfigError, PersonaError, ScenarioError, ValueError) as error:
        return _fail(str(error))

    out_dir = (args.out or (config.run_dir / f"bench-{datetime.datetime.now(datetime.timezone.utc):%Y%m%dT%H%M%SZ}")).expanduser()
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        return _fail(f"cannot create the output directory {out_dir}: {error.strerror or error}; pass a writable --out")

    plan = BenchPlan(
        config=config,
        scenarios=tuple(scenarios),
        personas=tuple(personas[name] for name in persona_names),
        policies=tuple(policy_names),
        episodes=args.episodes,
        seed=args.seed,
        creditor=args.creditor,
        debtor=args.debtor,
        workers=args.workers,
    )
    total = len(plan.cells()) * args.episodes
    from tqdm import tqdm

    # The bar goes to stderr (stdout may carry the JSON document); hidden when stderr is no terminal.
    with tqdm(total=total, unit="neg", desc="bench", file=sys.stderr, disable=None) as bar:
        try:
            outcome = run_benchmark(plan, progress=bar.update)
        except BenchError as error:
            return _fail(str(error), 1)
        except FileNotFoundError as error:  # a model file (ModelNotFoundError says what to install)
            return _fail(str(error), 1)

    guarded = args.creditor == "llm"
    metrics = summarize(outcome.results, seed=args.seed, guarded=guarded, debtor_model=args.debtor == "llm")
    settings = {
        "policies": policy_names,
        "personas": persona_names,
        "episodes": args.episodes,
        "seed": args.seed,
        "creditor": args.creditor,
        "debtor": args.debtor,
        "learning": config.eq.learning.enabled,
        "workers": args.workers,
        "scenarios": str(args.scenarios or config.session.scenarios_path or "crad_dev.csv (shipped)"),
        "scenario_count": len(scenarios),
        "debtor_config": str(args.debtor_config or "config/debtor_personas.yaml (shipped)"),
        "detector": config.detector.kind,
        "negotiator_config": config.source,
    }
    document = {
        "results": [m.to_dict() for m in metrics],
        "negotiations_per_minute": round(outcome.negotiations_per_minute, 1),
        "negotiations": len(outcome.results),
        "wall_s": round(outcome.wall_s, 2),
        "config": settings,
    }
    try:
        (out_dir / "metrics.json").write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
        with (out_dir / "episodes.jsonl").open("w", encoding="utf-8") as handle:
            for result in outcome.results:
                handle.write(json.dumps(result.to_dict()) + "\n")
        report = markdown_report(
            metrics, settings={k: settings[k] for k in ("episodes", "seed", "creditor", "debtor", "learning", "workers", "detector")},
            negotiations_per_minute=outcome.negotiations_per_minute, guarded=guarded,
        )
        (out_dir / "report.md").write_text(report, encoding="utf-8")
        charts = write_charts(metrics, out_dir)
    except OSError as error:
        return _fail(f"cannot write the report to {out_dir}: {error.strerror or error}", 1)

    if args.json:
        print(json.dumps(document))
    else:
        print(report)
        print(f"wrote {out_dir / 'report.md'}, {', '.join(str(c) for c in charts)}, metrics.json, episodes.jsonl")
    print(f"{len(outcome.results)} negotiations in {outcome.wall_s:.1f} s "
          f"({outcome.negotiations_per_minute:.0f} per minute)", file=sys.stderr)
    return 0
