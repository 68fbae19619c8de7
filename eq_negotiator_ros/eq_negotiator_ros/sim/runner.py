"""Agent-to-agent negotiations: the creditor's real reasoning against a simulated debtor.

Creditor: eq/session.py's NegotiationSession with a policy from eq/policy.py's make_policy and a
HiddenStateTracker (built from the eq policy's learned model when it has one); its words are the
written templates (llm/fallback.py, `creditor="templates"`) or the local language model through
llm/phrasing.py (`creditor="llm"`, which also counts guard fallbacks and violations).
Debtor: sim/debtor.py's DebtorSimulator; the creditor reads its words through the emotion
detector only, never its true emotion.

Protocol (the EQ-Negotiator authors'): the issue is the repayment timeline in days; agreement when
the two latest offers are within offer.agreement_gap_days or on explicit acceptance; at most
offer.max_utterances utterances, both sides (the session enforces both).

Episodes: for each (policy, persona) cell, `episodes` negotiations in order, over the scenarios in
a seeded order shared by every cell (every policy meets the same scenarios and the same debtor
draws: common random numbers make the comparison paired). The eq policy learns online across the
episodes of its cell. A cell is the unit of parallel work, so results do not depend on --workers.

Population mode (run_population): one stream of negotiations per policy, the persona drawn per
negotiation from the population weights and never told to the creditor, which learns across the
whole stream as a deployed robot would. The persona sequence, scenarios and debtor draws are the
same for every policy (paired); a policy's stream is the unit of parallel work.
"""

from __future__ import annotations

import datetime
import multiprocessing
import random
import time
import zlib
from dataclasses import dataclass
from typing import Any, Callable, Optional, Sequence

from ..config import NegotiatorConfig
from ..eq.records import Directive, EmotionDetector, Scenario
from .debtor import DebtorPersona, DebtorSimulator, DebtorTurn
from .metrics import EpisodeResult

CREDITOR_MODES = ("templates", "llm")
DEBTOR_MODES = ("phrasebank", "llm")
# Calendar phrases are resolved against this date, so a replayed negotiation reads the same terms.
SIMULATION_DATE = datetime.date(2025, 1, 1)


class BenchError(RuntimeError):
    """The benchmark cannot run as asked; the message says what to change."""


@dataclass(frozen=True)
class BenchPlan:
    """Everything a benchmark run needs (picklable: it is sent to the worker processes)."""

    config: NegotiatorConfig
    scenarios: tuple[Scenario, ...]
    personas: tuple[DebtorPersona, ...]
    policies: tuple[str, ...]
    episodes: int
    seed: int = 1
    creditor: str = "templates"
    debtor: str = "phrasebank"
    workers: int = 1
    # Builds the emotion detector in each process (None: eq/detection.py's make_detector).
    detector_factory: Optional[Callable[[NegotiatorConfig], EmotionDetector]] = None
    # Debtor realism option (sim/debtor.py RECIPROCITY): 0 = off.
    reciprocity: float = 0.0
    # Population mode: persona weights (plan.personas order) and the stream length per policy.
    population_weights: tuple[float, ...] = ()
    population_negotiations: int = 0

    def cells(self) -> list[tuple[str, DebtorPersona]]:
        return [(policy, persona) for policy in self.policies for persona in self.personas]


@dataclass(frozen=True)
class CreditorUtterance:
    text: str
    fallbacks: int = 0  # 1 when the written template replaced (part of) the model's reply
    violations: int = 0  # model sentences the guard rejected


@dataclass(frozen=True)
class NegotiationTrace:
    """A finished negotiation: the result and the transcript (for tests and inspection)."""

    result: EpisodeResult
    transcript: tuple[tuple[str, str], ...]  # ("creditor" | "debtor", text)
    debtor_turns: tuple[DebtorTurn, ...]
    directives: tuple[Directive, ...]


@dataclass
class BenchOutcome:
    results: list[EpisodeResult]
    wall_s: float
    negotiations_per_minute: float


# ---------------------------------------------------------------------------------------------
# Seeds: derived from the run seed and names, never from order of execution
# ---------------------------------------------------------------------------------------------


def derive_seed(*parts: object) -> int:
    return zlib.crc32("/".join(str(p) for p in parts).encode("utf-8"))


def scenario_order(n_scenarios: int, episodes: int, seed: int) -> list[int]:
    """Scenario index per episode: seeded shuffles of all scenarios, one after the other."""
    if n_scenarios <= 0:
        raise BenchError("no scenarios to negotiate; pass a scenarios file with at least one row")
    order: list[int] = []
    cycle = 0
    while len(order) < episodes:
        indices = list(range(n_scenarios))
        random.Random(derive_seed("scenarios", seed, cycle)).shuffle(indices)
        order.extend(indices)
        cycle += 1
    return order[:episodes]


# ---------------------------------------------------------------------------------------------
# Creditor words
# ---------------------------------------------------------------------------------------------


class TemplateCreditor:
    """The creditor's words from the written templates (llm/fallback.py): fast and deterministic."""

    def __init__(self) -> None:
        try:
            from ..llm.fallback import fallback_reply
        except ImportError as error:
            raise BenchError(
                f"--creditor templates needs llm/fallback.py (fallback_reply), which cannot be imported: "
                f"{error}"
            ) from None
        self._fallback_reply = fallback_reply

    def __call__(
        self, directive: Directive, scenario: Scenario, history: Sequence[tuple[str, str]]
    ) -> CreditorUtterance:
        return CreditorUtterance(text=self._fallback_reply(directive, scenario).text)


class LlmCreditor:
    """The creditor's words from the local language model via llm/phrasing.py's phrase_reply
    (guarded; a rejected or late sentence is replaced by the written template)."""

    def __init__(self, llama: Any, config: NegotiatorConfig, guidance: Any = None) -> None:
        try:
            from ..llm.phrasing import phrase_reply
        except ImportError as error:
            raise BenchError(
                f"--creditor llm needs llm/phrasing.py (phrase_reply), which cannot be imported: {error}"
            ) from None
        self._phrase_reply = phrase_reply
        self._llama = llama
        self._llm_config = config.llm
        self._guidance = guidance  # llm/guidance.py PersonaGuidance, or None

    def __call__(
        self, directive: Directive, scenario: Scenario, history: Sequence[tuple[str, str]]
    ) -> CreditorUtterance:
        sentences = list(
            self._phrase_reply(
                directive, scenario, list(history), self._llama, self._llm_config, guidance=self._guidance
            )
        )
        reasons = [s.rejection_reason for s in sentences if s.rejection_reason]
        return CreditorUtterance(
            text=" ".join(s.text for s in sentences if s.text),
            # A reply counts as a fallback when any of its sentences came from the template.
            fallbacks=int(any(s.from_fallback for s in sentences)),
            # A violation is a model sentence the guard rejected (timeouts and errors are not).
            violations=sum(1 for r in reasons if r.startswith("guard:")),
        )


# ---------------------------------------------------------------------------------------------
# One negotiation
# ---------------------------------------------------------------------------------------------


def run_negotiation(
    *,
    scenario: Scenario,
    config: NegotiatorConfig,
    policy: Any,
    debtor: DebtorSimulator,
    debtor_seed: int,
    detector: EmotionDetector,
    creditor_words: Callable[[Directive, Scenario, Sequence[tuple[str, str]]], CreditorUtterance],
    episode: int = 0,
    persona_name: str = "",
) -> NegotiationTrace:
    """One negotiation to its end (agreement or the utterance limit). Calls policy.finish()."""
    from ..eq.session import new_negotiation

    # The eq policy decides with its learned matrices: the tracker filters with the same ones.
    session = new_negotiation(
        scenario,
        config,
        policy,
        session_id=f"sim-{policy.name}-{persona_name}-{episode}",
        today=SIMULATION_DATE,
    )
    debtor.reset(scenario, debtor_seed)
    transcript: list[tuple[str, str]] = []
    turns: list[DebtorTurn] = []
    directives: list[Directive] = []
    fallbacks = violations = 0

    directive = session.open()
    # The session ends itself at the utterance limit; the guard only stops a broken session from
    # looping forever.
    for _ in range(config.offer.max_utterances + 2):
        directives.append(directive)
        said = creditor_words(directive, scenario, transcript)
        fallbacks += said.fallbacks
        violations += said.violations
        transcript.append(("creditor", said.text))
        if session.finished:
            break
        turn = debtor.respond(directive.creditor_emotion, directive.offer, said.text)
        turns.append(turn)
        transcript.append(("debtor", turn.text))
        reading = detector.detect(turn.text)
        directive = session.step(turn.text, reading).directive
    else:
        raise BenchError(
            f"negotiation {scenario.scenario_id} did not end within {config.offer.max_utterances} "
            f"utterances; "
            "eq/session.py must end it at offer.max_utterances"
        )
    snapshot = session.snapshot()
    success = session.outcome == "success"
    # The exact agreed terms (a policy learning the creditor's utility would otherwise estimate
    # them from the offers it saw).
    if success and snapshot.agreed_offer is not None:
        policy.observe_outcome(snapshot.agreed_offer.days, scenario.creditor_target_days)
    policy.finish(success)
    result = EpisodeResult(
        policy=str(policy.name),
        persona=persona_name or debtor.persona.name,
        episode=episode,
        scenario_id=scenario.scenario_id,
        success=success,
        collection_days=snapshot.agreed_offer.days if success and snapshot.agreed_offer else None,
        creditor_target_days=scenario.creditor_target_days,
        # The protocol allows 30 utterances; with the creditor opening, the 30th is the debtor's
        # 15th, and eq/session.py still adds the creditor's closing (or accepting) line as the
        # 31st. That line ends the call but is not part of the negotiation: it is not counted.
        utterances=min(snapshot.utterances, config.offer.max_utterances),
        creditor_replies=len(directives),
        guard_fallbacks=fallbacks,
        guard_violations=violations,
        debtor_model_replies=sum(1 for t in turns if t.from_model),
        debtor_turns=len(turns),
    )
    return NegotiationTrace(result, tuple(transcript), tuple(turns), tuple(directives))


# ---------------------------------------------------------------------------------------------
# A cell (policy x persona) and the whole benchmark
# ---------------------------------------------------------------------------------------------

# Heavy things loaded once per process (detector, language model), keyed by what built them.
_PROCESS_CACHE: dict[str, Any] = {}


def _cached(key: str, build: Callable[[], Any]) -> Any:
    if key not in _PROCESS_CACHE:
        _PROCESS_CACHE[key] = build()
    return _PROCESS_CACHE[key]


def _llama(config: NegotiatorConfig, *, creditor_adapter: bool = False) -> Any:
    """The language model; the creditor's persona adapter only for the creditor's replies (the
    simulated debtor and the LLM emotion detector use the base model)."""

    def build() -> Any:
        from ..llm.model import load_llama

        return load_llama(config.llm, lora=creditor_adapter)

    return _cached(f"llama:{config.llm.model_path}:adapter={creditor_adapter}", build)


def _persona_guidance(config: NegotiatorConfig) -> Any:
    """The creditor's persona guidance (llm/guidance.py; None when llm.persona_guidance is 1)."""

    def build() -> Any:
        from ..llm.model import load_persona_guidance

        return load_persona_guidance(config.llm)

    return _cached(f"guidance:{config.llm.model_path}:{config.llm.persona_guidance}", build)


def _detector(plan: BenchPlan) -> EmotionDetector:
    if plan.detector_factory is not None:
        return _cached(f"detector:{id(plan.detector_factory)}", lambda: plan.detector_factory(plan.config))

    def build() -> EmotionDetector:
        from ..eq.detection import make_detector

        llama = _llama(plan.config) if plan.config.detector.kind == "llm" else None
        return make_detector(plan.config, llama)

    return _cached(f"detector:{plan.config.detector.kind}:{plan.config.detector.model_path}", build)


def _creditor_words(plan: BenchPlan):
    if plan.creditor == "llm":
        return _cached(
            "creditor:llm",
            lambda: LlmCreditor(
                _llama(plan.config, creditor_adapter=True), plan.config, _persona_guidance(plan.config)
            ),
        )
    return _cached("creditor:templates", TemplateCreditor)


def _debtor_phraser(plan: BenchPlan, persona: DebtorPersona):
    if plan.debtor == "llm":
        from .llm_debtor import LlmDebtorPhraser

        return LlmDebtorPhraser(_llama(plan.config), plan.config.llm, persona)
    return None  # the phrasebank


def run_cell(plan: BenchPlan, policy_name: str, persona: DebtorPersona) -> list[EpisodeResult]:
    """All episodes of one (policy, persona) cell, in order (the eq policy learns across them)."""
    from ..eq.policy import make_policy

    policy = make_policy(
        policy_name, plan.config.eq, seed=derive_seed("policy", plan.seed, policy_name, persona.name)
    )
    detector = _detector(plan)
    creditor_words = _creditor_words(plan)
    debtor = DebtorSimulator(
        persona, plan.config.eq.model, _debtor_phraser(plan, persona), reciprocity=plan.reciprocity
    )
    order = scenario_order(len(plan.scenarios), plan.episodes, plan.seed)
    results = []
    for episode, index in enumerate(order):
        trace = run_negotiation(
            scenario=plan.scenarios[index],
            config=plan.config,
            policy=policy,
            debtor=debtor,
            # Same debtor draws for every policy: the comparison is paired.
            debtor_seed=derive_seed("debtor", plan.seed, persona.name, episode),
            detector=detector,
            creditor_words=creditor_words,
            episode=episode,
            persona_name=persona.name,
        )
        results.append(trace.result)
    return results


def _run_cell_job(job: tuple[BenchPlan, str, DebtorPersona]) -> tuple[str, str, list[EpisodeResult]]:
    plan, policy_name, persona = job
    return policy_name, persona.name, run_cell(plan, policy_name, persona)


def _check_plan(plan: BenchPlan) -> None:
    if plan.creditor not in CREDITOR_MODES:
        raise BenchError(f"creditor mode {plan.creditor!r} must be one of {', '.join(CREDITOR_MODES)}")
    if plan.debtor not in DEBTOR_MODES:
        raise BenchError(f"debtor mode {plan.debtor!r} must be one of {', '.join(DEBTOR_MODES)}")
    if not plan.scenarios:
        raise BenchError("no scenarios to negotiate; pass a scenarios file with at least one row")
    if not (0.0 <= plan.reciprocity <= 1.0):
        raise BenchError(f"--reciprocity must lie in [0, 1], got {plan.reciprocity}")


def run_benchmark(plan: BenchPlan, progress: Optional[Callable[[int], None]] = None) -> BenchOutcome:
    """Every cell of the plan; `progress(n)` is called with the number of negotiations just done.
    Results come back in plan order (policies, then personas, then episodes) whatever --workers."""
    _check_plan(plan)
    if plan.episodes < 1:
        raise BenchError(f"--episodes must be at least 1, got {plan.episodes}")
    cells = plan.cells()
    jobs = [(plan, policy, persona) for policy, persona in cells]
    by_cell: dict[tuple[str, str], list[EpisodeResult]] = {}
    started = time.perf_counter()
    workers = max(1, min(plan.workers, len(jobs)))
    if workers == 1:
        for job in jobs:
            policy, persona, results = _run_cell_job(job)
            by_cell[(policy, persona)] = results
            if progress:
                progress(len(results))
    else:
        # fork keeps the parent's imports; each worker loads the detector once (_PROCESS_CACHE).
        context = multiprocessing.get_context("fork")
        with context.Pool(workers) as pool:
            for policy, persona, results in pool.imap_unordered(_run_cell_job, jobs):
                by_cell[(policy, persona)] = results
                if progress:
                    progress(len(results))
    wall_s = time.perf_counter() - started
    ordered = [r for policy, persona in cells for r in by_cell[(policy, persona.name)]]
    per_minute = len(ordered) / wall_s * 60.0 if wall_s > 0 else float("inf")
    return BenchOutcome(results=ordered, wall_s=wall_s, negotiations_per_minute=per_minute)


# ---------------------------------------------------------------------------------------------
# Population mode: one stream per policy, personas drawn and hidden
# ---------------------------------------------------------------------------------------------


def population_personas(weights: Sequence[float], negotiations: int, seed: int) -> list[int]:
    """Persona index per negotiation of the stream, drawn with the weights (seeded; the same for
    every policy, so the comparison stays paired)."""
    values = [float(w) for w in weights]
    if not values or any(not (w >= 0.0) or w == float("inf") for w in values) or sum(values) <= 0:
        raise BenchError("population weights must be non-negative numbers with a positive sum")
    rng = random.Random(derive_seed("population", seed))
    return rng.choices(range(len(values)), weights=values, k=negotiations)


def run_stream(plan: BenchPlan, policy_name: str) -> list[EpisodeResult]:
    """One policy's stream of plan.population_negotiations negotiations; the policy object (and
    what it learns) lives across the stream and is never told which persona it is facing."""
    from ..eq.policy import make_policy

    policy = make_policy(
        policy_name, plan.config.eq, seed=derive_seed("policy", plan.seed, policy_name, "population")
    )
    detector = _detector(plan)
    creditor_words = _creditor_words(plan)
    debtors = [
        DebtorSimulator(
            persona, plan.config.eq.model, _debtor_phraser(plan, persona), reciprocity=plan.reciprocity
        )
        for persona in plan.personas
    ]
    drawn = population_personas(plan.population_weights, plan.population_negotiations, plan.seed)
    order = scenario_order(len(plan.scenarios), plan.population_negotiations, plan.seed)
    results = []
    for index, (persona_index, scenario_index) in enumerate(zip(drawn, order)):
        persona = plan.personas[persona_index]
        trace = run_negotiation(
            scenario=plan.scenarios[scenario_index],
            config=plan.config,
            policy=policy,
            debtor=debtors[persona_index],
            debtor_seed=derive_seed("population-debtor", plan.seed, index),
            detector=detector,
            creditor_words=creditor_words,
            episode=index,
            persona_name=persona.name,
        )
        results.append(trace.result)
    return results


def _run_stream_job(job: tuple[BenchPlan, str]) -> tuple[str, list[EpisodeResult]]:
    plan, policy_name = job
    return policy_name, run_stream(plan, policy_name)


def run_population(plan: BenchPlan, progress: Optional[Callable[[int], None]] = None) -> BenchOutcome:
    """Every policy's stream; results in plan order (policies, then negotiation index)."""
    _check_plan(plan)
    if plan.population_negotiations < 1:
        raise BenchError(f"--population needs at least 1 negotiation, got {plan.population_negotiations}")
    if len(plan.population_weights) != len(plan.personas):
        raise BenchError(
            f"{len(plan.population_weights)} population weights for {len(plan.personas)} personas; give one "
            f"per persona"
        )
    population_personas(plan.population_weights, 1, plan.seed)  # validates the weights
    jobs = [(plan, policy) for policy in plan.policies]
    by_policy: dict[str, list[EpisodeResult]] = {}
    started = time.perf_counter()
    workers = max(1, min(plan.workers, len(jobs)))
    if workers == 1:
        for job in jobs:
            policy, results = _run_stream_job(job)
            by_policy[policy] = results
            if progress:
                progress(len(results))
    else:
        context = multiprocessing.get_context("fork")
        with context.Pool(workers) as pool:
            for policy, results in pool.imap_unordered(_run_stream_job, jobs):
                by_policy[policy] = results
                if progress:
                    progress(len(results))
    wall_s = time.perf_counter() - started
    ordered = [r for policy in plan.policies for r in by_policy[policy]]
    per_minute = len(ordered) / wall_s * 60.0 if wall_s > 0 else float("inf")
    return BenchOutcome(results=ordered, wall_s=wall_s, negotiations_per_minute=per_minute)
