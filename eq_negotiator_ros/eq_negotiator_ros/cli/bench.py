"""`eq-negotiator bench`: creditor policies against simulated debtor personas (the paper's
agent-to-agent evaluation, reproduced and extended).

    eq-negotiator bench --policies all --personas all --episodes 60 --seed 1 --out /tmp/bench --json
    eq-negotiator bench --policies eq,released --personas cheating,victim --episodes 20
    eq-negotiator bench --creditor llm --debtor llm --policies eq --personas angry --episodes 2
    eq-negotiator bench --population --negotiations 1800 --policies all --seed 7 --workers 2
    eq-negotiator bench --population threatening=2,cheating=1,vanilla=1 --negotiations 600
    eq-negotiator bench --fixed-concession --reciprocity 0.3 --debtor-config other_personas.yaml

--population: one stream of negotiations per policy, the persona drawn per negotiation from the
weights (default: uniform over --personas) and hidden from the creditor, which learns across the
stream; tables per persona and overall, and learning_curve.png (moving average of success and of
utility against the negotiation index). --fixed-concession: the concession schedule ignores the
belief over the debtor's state (offer.fixed_concession), so the emotion choice is measured apart
from the concession choice. --reciprocity R: the simulated debtor's shown emotion also follows how
it feels treated (sim/debtor.py, with its sources).

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
from dataclasses import replace
from pathlib import Path
from typing import Any, Sequence

from ..sim.debtor import PERSONA_NAMES

DEFAULT_EPISODES = 20


def add_parser(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--policies",
        default="all",
        help="comma-separated creditor policies, or 'all' "
        "(eq, vanilla, fixed-<emotion>, random, wsls, hmm, released)",
    )
    parser.add_argument(
        "--personas",
        default="all",
        help=f"comma-separated debtor personas, or 'all' ({', '.join(PERSONA_NAMES)})",
    )
    parser.add_argument(
        "--scenarios",
        type=Path,
        default=None,
        help="CRAD-format scenarios CSV (default: session.scenarios_path, else the shipped crad_dev.csv)",
    )
    parser.add_argument(
        "--episodes",
        type=int,
        default=DEFAULT_EPISODES,
        help=f"negotiations per policy x persona (default {DEFAULT_EPISODES})",
    )
    parser.add_argument("--seed", type=int, default=1, help="run seed: same seed, same numbers (default 1)")
    parser.add_argument(
        "--creditor",
        choices=("templates", "llm"),
        default="templates",
        help="creditor's words: written templates (fast) or the local language model",
    )
    parser.add_argument(
        "--debtor",
        choices=("phrasebank", "llm"),
        default="phrasebank",
        help="debtor's words: the written phrasebank (fast) or the local language model",
    )
    parser.add_argument(
        "--debtor-config",
        type=Path,
        default=None,
        help="debtor personas YAML (default: the package's config/debtor_personas.yaml)",
    )
    _add_run_options(parser)


def _add_run_options(parser: argparse.ArgumentParser) -> None:
    """How the benchmark runs: workers, learning, output, population mode, debtor behaviour."""
    parser.add_argument(
        "--workers", type=int, default=1, help="worker processes, split by policy x persona (default 1)"
    )
    parser.add_argument(
        "--no-learning", action="store_true", help="the eq policy does not learn across the episodes of a run"
    )
    parser.add_argument(
        "--out", type=Path, default=None, help="output directory (default: <run_dir>/bench-<UTC time>)"
    )
    parser.add_argument(
        "--json", action="store_true", help="print one JSON document with the results on stdout"
    )
    parser.add_argument(
        "--population",
        nargs="?",
        const="uniform",
        default=None,
        metavar="WEIGHTS",
        help="population mode: one stream per policy, persona drawn per negotiation and hidden; "
        "WEIGHTS 'uniform' (default) or name=weight,... (unnamed personas are left out)",
    )
    parser.add_argument(
        "--negotiations",
        type=int,
        default=None,
        help="population mode: negotiations per policy stream (default: --episodes x personas)",
    )
    parser.add_argument(
        "--curve-window",
        type=int,
        default=100,
        help="population mode: moving-average window of the learning curve (default 100)",
    )
    parser.add_argument(
        "--fixed-concession",
        action="store_true",
        help="concession schedule independent of the belief over the debtor's state",
    )
    parser.add_argument(
        "--reciprocity",
        type=float,
        default=0.0,
        help="simulated debtors' shown emotion follows how they feel treated, 0-1 (default 0: off)",
    )


def _fail(message: str, code: int = 2) -> int:
    print(f"eq-negotiator bench: {message}", file=sys.stderr)
    return code


def _pick(value: str, known: Sequence[str], what: str) -> list[str]:
    if value.strip().lower() == "all":
        return list(known)
    names = [v.strip().lower() for v in value.split(",") if v.strip()]
    unknown = [n for n in names if n not in known]
    if unknown or not names:
        raise ValueError(
            f"unknown {what} {', '.join(unknown) or repr(value)}; choose from {', '.join(known)} or 'all'"
        )
    return list(dict.fromkeys(names))


def parse_population(value: str, persona_names: Sequence[str]) -> tuple[list[str], tuple[float, ...]]:
    """(personas, weights) of --population: 'uniform' over persona_names, or name=weight,...
    (only the named personas, in the order given). Raises ValueError saying what is wrong."""
    text = (value or "uniform").strip()
    if text.lower() == "uniform":
        return list(persona_names), tuple(1.0 for _ in persona_names)
    names, weights = [], []
    for part in text.split(","):
        name, sep, number = part.partition("=")
        name = name.strip().lower()
        if not sep or not name:
            raise ValueError(
                f"--population {value!r}: expected 'uniform' or name=weight,... (e.g. angry=2,victim=1)"
            )
        if name not in persona_names:
            raise ValueError(
                f"--population: unknown persona {name!r}; choose from {', '.join(persona_names)}"
            )
        try:
            weight = float(number)
        except ValueError:
            raise ValueError(f"--population: weight of {name} must be a number, got {number!r}") from None
        if not weight >= 0.0 or weight == float("inf"):
            raise ValueError(f"--population: weight of {name} must be a finite number >= 0, got {number!r}")
        names.append(name)
        weights.append(weight)
    if sum(weights) <= 0:
        raise ValueError("--population: the weights must not all be 0")
    return names, tuple(weights)


class _Failure(Exception):
    """The run stops: the message for stderr, and the exit code (2 bad input, 1 the run failed)."""

    def __init__(self, message: str, code: int = 2):
        super().__init__(message)
        self.code = code


def run(args: argparse.Namespace) -> int:
    from ..sim.runner import run_benchmark, run_population

    try:
        plan, persona_names, out_dir = _plan(args)
        population = args.population is not None
        outcome = _negotiate(plan, run_population if population else run_benchmark)
        metrics, overall = _metrics(args, outcome)
        settings = _settings(args, plan, persona_names)
        document = _document(metrics, overall, outcome, settings)
        report, charts = _write_outputs(args, out_dir, document, outcome, metrics, overall, settings)
    except _Failure as failure:
        return _fail(str(failure), failure.code)
    if args.json:
        print(json.dumps(document))
    else:
        print(report)
        print(
            f"wrote {out_dir / 'report.md'}, {', '.join(str(c) for c in charts)}, metrics.json, "
            f"episodes.jsonl"
        )
    print(
        f"{len(outcome.results)} negotiations in {outcome.wall_s:.1f} s "
        f"({outcome.negotiations_per_minute:.0f} per minute)",
        file=sys.stderr,
    )
    return 0


def _overrides(args: argparse.Namespace) -> dict[str, Any]:
    if args.episodes < 1:
        raise _Failure(f"--episodes must be at least 1, got {args.episodes}")
    if args.workers < 1:
        raise _Failure(f"--workers must be at least 1, got {args.workers}")
    if not 0.0 <= args.reciprocity <= 1.0:
        raise _Failure(f"--reciprocity must lie in [0, 1], got {args.reciprocity}")
    overrides: dict[str, Any] = {"eq.learning.state_path": ""}  # a benchmark never touches saved learning
    if args.no_learning:
        overrides["eq.learning.enabled"] = False
    if args.fixed_concession:
        overrides["offer.fixed_concession"] = True
    return overrides


def _plan(args: argparse.Namespace):
    """(BenchPlan, persona names, output directory) from the command line, checked."""
    from ..config import ConfigError
    from ..eq.policy import POLICY_NAMES
    from ..sim.debtor import PersonaError, load_personas
    from ..sim.runner import BenchPlan
    from ..sim.scenarios import ScenarioError, load_scenarios
    from . import load_cli_config

    overrides = _overrides(args)
    try:
        config = load_cli_config(args, forced=overrides)
        personas = load_personas(args.debtor_config)
        scenarios = load_scenarios(args.scenarios or config.session.scenarios_path)
        policy_names = _pick(args.policies, POLICY_NAMES, "policy")
        persona_names = _pick(args.personas, list(personas), "persona")
        weights: tuple[float, ...] = ()
        if args.population is not None:
            persona_names, weights = parse_population(args.population, persona_names)
    except (ConfigError, PersonaError, ScenarioError, ValueError) as error:
        raise _Failure(str(error)) from None
    negotiations = 0
    if args.population is not None:
        negotiations = (
            args.negotiations if args.negotiations is not None else args.episodes * len(persona_names)
        )
        if negotiations < 1:
            raise _Failure(f"--negotiations must be at least 1, got {negotiations}")
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
        reciprocity=args.reciprocity,
        population_weights=weights,
        population_negotiations=negotiations,
    )
    return plan, persona_names, _out_dir(args, config)


def _out_dir(args: argparse.Namespace, config) -> Path:
    stamp = f"{datetime.datetime.now(datetime.timezone.utc):%Y%m%dT%H%M%SZ}"
    out_dir = (args.out or (config.run_dir / f"bench-{stamp}")).expanduser()
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise _Failure(
            f"cannot create the output directory {out_dir}: {error.strerror or error}; pass a writable --out"
        ) from None
    return out_dir


def _negotiate(plan, run_plan):
    from tqdm import tqdm

    from ..sim.runner import BenchError

    population = plan.population_negotiations > 0
    total = (
        len(plan.policies) * plan.population_negotiations if population else len(plan.cells()) * plan.episodes
    )
    # The bar goes to stderr (stdout may carry the JSON document); hidden when stderr is no terminal.
    with tqdm(total=total, unit="neg", desc="bench", file=sys.stderr, disable=None) as bar:
        try:
            return run_plan(plan, progress=bar.update)
        except BenchError as error:
            raise _Failure(str(error), 1) from None
        except FileNotFoundError as error:  # a model file (ModelNotFoundError says what to install)
            raise _Failure(str(error), 1) from None


def _metrics(args: argparse.Namespace, outcome):
    """Per policy x persona, and (population mode) the same negotiations pooled per policy."""
    from ..sim.metrics import summarize

    guarded, debtor_model = args.creditor == "llm", args.debtor == "llm"
    metrics = summarize(outcome.results, seed=args.seed, guarded=guarded, debtor_model=debtor_model)
    overall = []
    if args.population is not None:
        overall = summarize(
            [replace(r, persona="all") for r in outcome.results],
            seed=args.seed,
            guarded=guarded,
            debtor_model=debtor_model,
        )
    return metrics, overall


def _settings(args: argparse.Namespace, plan, persona_names: list[str]) -> dict[str, Any]:
    config, population = plan.config, args.population is not None
    return {
        "policies": list(plan.policies),
        "personas": persona_names,
        "episodes": args.episodes,
        "seed": args.seed,
        "creditor": args.creditor,
        "debtor": args.debtor,
        "learning": config.eq.learning.enabled,
        "workers": args.workers,
        "scenarios": str(args.scenarios or config.session.scenarios_path or "crad_dev.csv (shipped)"),
        "scenario_count": len(plan.scenarios),
        "debtor_config": str(args.debtor_config or "config/debtor_personas.yaml (shipped)"),
        "detector": config.detector.kind,
        "negotiator_config": config.source,
        "fixed_concession": bool(config.offer.fixed_concession),
        "reciprocity": args.reciprocity,
        "population": dict(zip(persona_names, plan.population_weights)) if population else None,
        "negotiations_per_policy": plan.population_negotiations
        if population
        else args.episodes * len(persona_names),
    }


def _document(metrics, overall, outcome, settings: dict[str, Any]) -> dict[str, Any]:
    from ..sim.report import policy_summary, target_figures

    return {
        "results": [m.to_dict() for m in metrics],
        "overall": [m.to_dict() for m in overall],
        "summary": policy_summary(metrics),
        "targets": target_figures(metrics),
        "targets_eq_context": target_figures(metrics, "eq-context"),
        "negotiations_per_minute": round(outcome.negotiations_per_minute, 1),
        "negotiations": len(outcome.results),
        "wall_s": round(outcome.wall_s, 2),
        "config": settings,
    }


def _write_outputs(args, out_dir: Path, document, outcome, metrics, overall, settings) -> tuple[str, list]:
    """metrics.json, episodes.jsonl, report.md and the charts; (report text, chart paths)."""
    from ..sim.report import markdown_report, markdown_table, write_charts

    guarded, population = args.creditor == "llm", args.population is not None
    try:
        (out_dir / "metrics.json").write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
        with (out_dir / "episodes.jsonl").open("w", encoding="utf-8") as handle:
            for result in outcome.results:
                handle.write(json.dumps(result.to_dict()) + "\n")
        report = markdown_report(
            metrics,
            settings={
                k: settings[k]
                for k in (
                    "episodes",
                    "seed",
                    "creditor",
                    "debtor",
                    "learning",
                    "workers",
                    "detector",
                    "fixed_concession",
                    "reciprocity",
                    "population",
                    "negotiations_per_policy",
                    "debtor_config",
                )
            },
            negotiations_per_minute=outcome.negotiations_per_minute,
            guarded=guarded,
        )
        if population:
            report += "\n## Overall (all negotiations of each stream pooled)\n\n" + markdown_table(
                overall, guarded=guarded
            )
        (out_dir / "report.md").write_text(report, encoding="utf-8")
        charts = write_charts(metrics, out_dir)
        if population:
            charts += _learning_curves(outcome.results, out_dir, args.curve_window)
    except OSError as error:
        raise _Failure(f"cannot write the report to {out_dir}: {error.strerror or error}", 1) from None
    return report, charts


def _learning_curves(results, out_dir: Path, window: int) -> list:
    from ..sim.metrics import episode_utility
    from ..sim.report import write_learning_curve

    by_policy: dict[str, list] = {}
    for result in results:
        by_policy.setdefault(result.policy, []).append(result)
    return [
        write_learning_curve(
            {p: [float(r.success) for r in rs] for p, rs in by_policy.items()},
            out_dir / "learning_curve.png",
            window=window,
            label="success",
        ),
        write_learning_curve(
            {p: [episode_utility(r) for r in rs] for p, rs in by_policy.items()},
            out_dir / "learning_curve_utility.png",
            window=window,
            label="creditor utility",
        ),
    ]
