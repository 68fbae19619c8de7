"""One negotiation: the reasoning of every turn, in code, so that the language model only phrases it.

Per debtor utterance (`step`):
  1. the tracker filters the debtor's hidden state from the detector's reading, given the emotion
     the creditor showed last;
  2. the policy chooses the creditor's emotion from the reading and the belief;
  3. the debtor's terms are read from the text (eq/extraction.py);
  4. the intent and the exact offer are decided here (eq/offers.py): agreement, a counter-offer,
     a hold, a request to repeat ("clarify") or a refusal to change terms ("refuse_terms_change",
     when the debtor tries to talk the agent out of its instructions: no number is taken from
     such text, the standing offer stays);
  5. a Directive carries all of it, with the persona and the temperature, to the phrasing.

Intents: "greet" (the opening, with the target as the offer), "propose" (a new offer without a
debtor offer this turn), "counter" (answering a debtor offer), "hold" (the offer stays),
"accept" (agreement: accepts_debtor_offer tells whether the agreed days are the debtor's number or
the debtor accepted the creditor's offer), "close" (the utterance limit ended it without
agreement), "clarify", "confirm" (a debtor offer heard below the creditor's own offer is
read back before anyone is bound to it: a misheard number looks like that), "refuse_terms_change".

Utterances are counted one per debtor step and one per directive (the opening included). When the
creditor's reply would be utterance number max_utterances or later without agreement, it is a
closing line and the negotiation has failed; with the default 30 and the creditor opening, the
debtor's 15th utterance (the 30th) is the last one that can still reach an agreement.

The session keeps no clock and draws nothing at random: `to_dict` / `from_dict` restore it exactly
(the SQLite resume of a restarted reasoning node).
"""

from __future__ import annotations

import datetime
import uuid
from dataclasses import asdict, dataclass
from typing import Any, Mapping, Optional

from ..config import NegotiatorConfig
from ..llm.personas import persona_text
from .extraction import (
    NO_TERMS,
    READ_BACK_CONFIRMED,
    READ_BACK_DENIED,
    DebtorTerms,
    detect_terms_change_request,
    extract_readable_terms,
    read_back_answer,
    says_only_weak_yes,
    text_is_readable,
)
from .offers import ConcessionSchedule
from .policy_base import CreditorPolicy
from .records import Directive, EmotionReading, Offer, PolicyDecision, Scenario, TurnRecord
from .tracker import HiddenStateTracker

SESSION_FORMAT_VERSION = 1
# The debtor's words travel in the Directive to the prompt: a long paste is cut to this.
DEBTOR_TEXT_MAX_CHARS = 500

PHASE_NEGOTIATING = "negotiating"
PHASE_AGREED = "agreed"
PHASE_FAILED = "failed"


@dataclass(frozen=True)
class _Heard:
    """What one debtor utterance says about the terms."""

    text: str
    terms: DebtorTerms
    manipulation: bool  # a request to change the rules ("ignore your instructions ...")
    readable: bool
    unusable: Optional[str]  # why a number in it can be no term ("" / None: none such)
    debtor_offer: Optional[Offer]


@dataclass(frozen=True)
class _Answer:
    """The creditor's answer to one utterance, before the session's end is checked."""

    intent: str
    offer: Offer
    accepts: bool = False
    agreed: Optional[Offer] = None
    # The utterance's number is not the debtor's offer after all (a "no", a number no term can be).
    takes_back_offer: bool = False


class SessionStateError(RuntimeError):
    """A session method was called in the wrong phase (step before open, or after the end)."""


@dataclass(frozen=True)
class SessionSnapshot:
    """Where a negotiation stands; `turn` is the number of debtor utterances answered so far."""

    session_id: str
    scenario_id: str
    phase: str  # "negotiating" | "agreed" | "failed"
    turn: int
    utterances: int
    creditor_offer: Optional[Offer]
    debtor_offer: Optional[Offer]
    agreed_offer: Optional[Offer]
    outcome: Optional[str]  # "success" | "failure" | None while negotiating

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class NegotiationSession:
    """A negotiation over one scenario; owns the tracker, the policy and the concession schedule."""

    def __init__(
        self,
        scenario: Scenario,
        config: NegotiatorConfig,
        policy: CreditorPolicy,
        tracker: Any,
        session_id: Optional[str] = None,
        *,
        today: Optional[datetime.date] = None,
    ) -> None:
        self.scenario = scenario
        self.config = config
        self.policy = policy
        self.tracker = tracker
        self.session_id = session_id or uuid.uuid4().hex[:12]
        # Calendar phrases ("by the end of March") are resolved against this date; None = the
        # machine's date at each step (pass it for replayable sessions).
        self.today = today
        self.schedule = ConcessionSchedule(config.offer, scenario)
        self._opened = False
        self._creditor_turn = 0  # index of the next directive (0 = the opening)
        self._utterances = 0
        self._phase = PHASE_NEGOTIATING
        self._outcome: Optional[str] = None
        self._creditor_offer: Optional[Offer] = None
        self._debtor_offer: Optional[Offer] = None
        self._agreed_offer: Optional[Offer] = None
        # A debtor offer heard below the creditor's own offer, awaiting the debtor's confirmation.
        self._pending_confirmation: Optional[Offer] = None
        self._last_creditor_emotion = config.eq.policy.opening_emotion
        self._opening: Optional[Directive] = None
        self._records: list[TurnRecord] = []

    # -- state ---------------------------------------------------------------------------------

    @property
    def finished(self) -> bool:
        return self._phase != PHASE_NEGOTIATING

    @property
    def outcome(self) -> Optional[str]:
        return self._outcome

    @property
    def records(self) -> tuple[TurnRecord, ...]:
        return tuple(self._records)

    @property
    def last_directive(self) -> Optional[Directive]:
        return self._records[-1].directive if self._records else self._opening

    @property
    def utterances(self) -> int:
        return self._utterances

    def snapshot(self) -> SessionSnapshot:
        return SessionSnapshot(
            session_id=self.session_id,
            scenario_id=self.scenario.scenario_id,
            phase=self._phase,
            turn=len(self._records),
            utterances=self._utterances,
            creditor_offer=self._creditor_offer,
            debtor_offer=self._debtor_offer,
            agreed_offer=self._agreed_offer,
            outcome=self._outcome,
        )

    # -- turns ---------------------------------------------------------------------------------

    def open(self) -> Directive:
        """The opening turn: the policy's opening emotion and the creditor's target as the offer."""
        if self._opened:
            raise SessionStateError(
                f"session {self.session_id} is already open; start a new session to negotiate again"
            )
        self.tracker.reset()
        decision = self.policy.start()
        offer = self.schedule.opening_offer()
        directive = self._directive(decision, "greet", offer, accepts=False, debtor_text="")
        self._opened = True
        self._opening = directive
        self._creditor_offer = offer
        self._after_directive(decision)
        return directive

    def step(self, debtor_text: str, reading: EmotionReading) -> TurnRecord:
        """Answer one debtor utterance; see the module docstring for the order of the reasoning."""
        self._check_open()
        text = debtor_text if isinstance(debtor_text, str) else ""
        self._utterances += 1
        belief = tuple(float(b) for b in self.tracker.update(reading.probs, self._last_creditor_emotion))
        # The words themselves (tactic cues: threats, hardship, promises), before the reply is
        # decided: on the robot as in the benchmark.
        self.policy.observe_utterance(text)
        decision = self.policy.choose(reading, belief)

        heard = self._hear(text)
        previous_debtor_offer = self._debtor_offer
        if heard.debtor_offer is not None:
            self._debtor_offer = heard.debtor_offer
        standing = self._creditor_offer or self.schedule.opening_offer()
        answer = self._answer(heard, standing, previous_debtor_offer, belief)
        debtor_offer = None if answer.takes_back_offer else heard.debtor_offer

        # The eq policy learns from what each of its emotions achieved: how far the debtor moved in
        # reply, and whether it agreed (PolicyBase ignores it for the others).
        self.policy.observe_terms(
            debtor_offer.days if debtor_offer is not None else None, standing.days, answer.agreed is not None
        )

        if answer.agreed is not None:
            self._phase, self._outcome, self._agreed_offer = PHASE_AGREED, "success", answer.agreed
        elif self._utterances + 1 >= self.config.offer.max_utterances:
            answer = _Answer("close", standing)
            self._phase, self._outcome = PHASE_FAILED, "failure"

        directive = self._directive(
            decision, answer.intent, answer.offer, answer.accepts, text[:DEBTOR_TEXT_MAX_CHARS]
        )
        record = TurnRecord(
            turn=directive.turn,
            debtor_text=text[:DEBTOR_TEXT_MAX_CHARS],
            reading=reading,
            belief=belief,
            decision=decision,
            debtor_offer=debtor_offer,
            debtor_acceptance=heard.terms.acceptance,
            directive=directive,
        )
        self._records.append(record)
        # A confirmation question restates the debtor's number; the creditor's own offer stands.
        self._creditor_offer = standing if answer.intent == "confirm" else answer.offer
        self._after_directive(decision)
        return record

    def _check_open(self) -> None:
        if not self._opened:
            raise SessionStateError(f"session {self.session_id}: call open() before step()")
        if self.finished:
            raise SessionStateError(
                f"session {self.session_id} has ended ({self._outcome}); start a new session to negotiate "
                f"again"
            )

    def _hear(self, text: str) -> "_Heard":
        """What the utterance says about the terms (nothing from a request to change the rules)."""
        manipulation = detect_terms_change_request(text)
        readable = text_is_readable(text)
        terms = extract_readable_terms(text, self.today) if readable and not manipulation else NO_TERMS
        unusable = terms.unusable_number or self._unusable_amount(terms.upfront_amount)
        debtor_offer = None if unusable else self._debtor_offer_from(terms.offer_days, terms.upfront_amount)
        return _Heard(text, terms, manipulation, readable, unusable, debtor_offer)

    def _answer(
        self,
        heard: "_Heard",
        standing: Offer,
        previous_debtor_offer: Optional[Offer],
        belief: tuple[float, ...],
    ) -> "_Answer":
        """The creditor's intent and offer for what was heard, with the read-back rules: a number
        binds only after a clear yes to its read-back."""
        pending, self._pending_confirmation = self._pending_confirmation, None
        debtor_offer = heard.debtor_offer
        answer = (
            read_back_answer(heard.text, heard.terms, pending.days)
            if pending is not None and heard.readable
            else None
        )
        if heard.manipulation:
            return _Answer("refuse_terms_change", standing)
        if answer == READ_BACK_CONFIRMED:
            self._debtor_offer = pending
            # The read-back of the creditor's own offer (after a bare "yes") is not the debtor's number.
            return _Answer("accept", pending, accepts=pending != standing, agreed=pending)
        if pending is not None and not heard.readable:
            # Noise in answer to the read-back: ask the same question again, still binding nobody.
            self._pending_confirmation = pending
            return _Answer("confirm", pending)
        if not heard.readable or answer == READ_BACK_DENIED or heard.unusable:
            # Not understood, a "no" to the read-back, or a number no term can be (negative, zero
            # days, beyond any timeline, more money than is owed): ask again, take nothing from it
            # ("No, 10 days is wrong" names 10 days without offering it).
            self._debtor_offer = previous_debtor_offer
            return _Answer("clarify", standing, takes_back_offer=True)
        if debtor_offer is not None and self._needs_read_back(debtor_offer, standing, pending is not None):
            # A number that would bind both sides although it is below the creditor's own offer
            # (what a misheard number looks like: "78 days" heard as "17, 8 days"), or any binding
            # number right after a read-back (the last one was misheard): ask first.
            self._pending_confirmation = debtor_offer
            self._debtor_offer = previous_debtor_offer  # not the debtor's offer until confirmed
            return _Answer("confirm", debtor_offer)
        if debtor_offer is None and heard.terms.acceptance == "accept" and says_only_weak_yes(heard.text):
            # A bare "yes" or "okay" may answer something else ("Yes, speaking.") or only show
            # that the person is listening: the offer is read back, and binds on a clear yes to it.
            self._pending_confirmation = standing
            return _Answer("confirm", standing)
        if self.schedule.agreement(standing, debtor_offer, heard.terms.acceptance):
            agreed = self.schedule.agreed_offer(standing, debtor_offer, heard.terms.acceptance)
            accepts = debtor_offer is not None and agreed.days == debtor_offer.days
            return _Answer("accept", agreed, accepts=accepts, agreed=agreed)
        return self._concede(heard, standing, belief)

    def _concede(self, heard: "_Heard", standing: Offer, belief: tuple[float, ...]) -> "_Answer":
        """The next offer of the concession schedule, or agreement when it reaches the debtor's."""
        offer = self.schedule.next_offer(self._creditor_turn, belief, self._debtor_offer, standing)
        if (
            self._debtor_offer is not None
            and heard.terms.acceptance != "reject"
            and self.schedule.agreement(offer, self._debtor_offer, None)
        ):
            # The creditor's own concession reaches the debtor's standing number: accept it
            # rather than counter a few days away (not while the debtor is saying no).
            agreed = self.schedule.agreed_offer(offer, self._debtor_offer, None)
            return _Answer("accept", agreed, accepts=True, agreed=agreed)
        if heard.debtor_offer is not None:
            return _Answer("counter", offer)
        return _Answer("propose" if offer != standing else "hold", offer)

    def _needs_read_back(self, debtor_offer: Offer, standing: Offer, after_read_back: bool) -> bool:
        """Whether a debtor offer must be read back before it can bind: fewer days than the creditor
        offers (rare on purpose, common when misheard), or, right after a read-back, any number
        that would conclude the negotiation."""
        if debtor_offer.days < standing.days:
            return True
        return after_read_back and debtor_offer.days - standing.days <= self.config.offer.agreement_gap_days

    def _unusable_amount(self, amount: Optional[float]) -> Optional[str]:
        """An up-front amount above what is owed is no payment offer (a misheard number, or a joke)."""
        if amount is not None and not self.schedule.within_balance(amount):
            return f"{amount:,.2f} paid now, above the balance of {self.scenario.outstanding_balance:,.2f}"
        return None

    def _debtor_offer_from(self, offer_days: Optional[int], upfront: Optional[float]) -> Optional[Offer]:
        if offer_days is not None:
            return Offer(days=int(offer_days), upfront_amount=float(upfront or 0.0))
        if upfront is not None and self._debtor_offer is not None:
            # Money offered now, days unchanged: the debtor's timeline stands with the new amount.
            return Offer(days=self._debtor_offer.days, upfront_amount=float(upfront))
        return None

    def _directive(
        self, decision: PolicyDecision, intent: str, offer: Offer, accepts: bool, debtor_text: str
    ) -> Directive:
        return Directive(
            session_id=self.session_id,
            turn=self._creditor_turn,
            creditor_emotion=decision.creditor_emotion,
            policy_branch=decision.branch,
            intent=intent,
            offer=offer,
            accepts_debtor_offer=accepts,
            persona=persona_text(decision.creditor_emotion),
            temperature=self.config.llm.temperature(self._creditor_turn),
            debtor_text=debtor_text,
            currency=self.scenario.currency or self.config.offer.currency,
            creditor_name=self.scenario.creditor_name,
        )

    def _after_directive(self, decision: PolicyDecision) -> None:
        self._utterances += 1
        self._creditor_turn += 1
        self._last_creditor_emotion = decision.creditor_emotion

    # -- persistence ---------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """Everything needed to resume exactly (JSON-serialisable)."""
        return {
            "version": SESSION_FORMAT_VERSION,
            "session_id": self.session_id,
            "scenario": self.scenario.to_dict(),
            "today": self.today.isoformat() if self.today else None,
            "opened": self._opened,
            "creditor_turn": self._creditor_turn,
            "utterances": self._utterances,
            "phase": self._phase,
            "outcome": self._outcome,
            "creditor_offer": _offer_to_dict(self._creditor_offer),
            "debtor_offer": _offer_to_dict(self._debtor_offer),
            "agreed_offer": _offer_to_dict(self._agreed_offer),
            "pending_confirmation": _offer_to_dict(self._pending_confirmation),
            "last_creditor_emotion": self._last_creditor_emotion,
            "opening": asdict(self._opening) if self._opening else None,
            "records": [_record_to_dict(r) for r in self._records],
            "tracker": self.tracker.to_dict(),
            "policy": self.policy.to_dict(),
        }

    @classmethod
    def from_dict(
        cls, data: Mapping[str, Any], config: NegotiatorConfig, policy: CreditorPolicy, tracker: Any
    ) -> "NegotiationSession":
        """A session as `to_dict` saved it, continuing with the given policy and tracker.

        The tracker's belief is restored with its `load_dict`. The policy's per-negotiation state is
        restored with `load_dict` when the policy saved one; otherwise it is rebuilt by replaying
        `start()` and every recorded `choose(reading, belief)` (exact for deterministic policies).
        Raises ValueError naming the problem when the data is not a saved session.
        """
        if not isinstance(data, Mapping) or data.get("version") != SESSION_FORMAT_VERSION:
            found = data.get("version") if isinstance(data, Mapping) else type(data).__name__
            raise ValueError(
                f"not a saved negotiation session of format {SESSION_FORMAT_VERSION} (found {found!r}); "
                "start a new session"
            )
        try:
            today = datetime.date.fromisoformat(data["today"]) if data.get("today") else None
            session = cls(
                Scenario(**data["scenario"]), config, policy, tracker, data["session_id"], today=today
            )
            session._opened = bool(data["opened"])
            session._creditor_turn = int(data["creditor_turn"])
            session._utterances = int(data["utterances"])
            session._phase = str(data["phase"])
            session._outcome = data.get("outcome")
            session._creditor_offer = _offer_from_dict(data.get("creditor_offer"))
            session._debtor_offer = _offer_from_dict(data.get("debtor_offer"))
            session._agreed_offer = _offer_from_dict(data.get("agreed_offer"))
            session._pending_confirmation = _offer_from_dict(data.get("pending_confirmation"))
            session._last_creditor_emotion = str(data["last_creditor_emotion"])
            session._opening = _directive_from_dict(data["opening"]) if data.get("opening") else None
            session._records = [_record_from_dict(r) for r in data.get("records", [])]
        except (KeyError, TypeError, ValueError) as error:
            raise ValueError(
                f"saved session is incomplete or damaged ({error!r}); start a new session"
            ) from None

        if data.get("tracker") is not None:
            tracker.load_dict(data["tracker"])
        if data.get("policy") is not None:
            policy.load_dict(data["policy"])
        elif session._opened:
            policy.start()
            for record in session._records:
                policy.observe_utterance(record.debtor_text)
                policy.choose(record.reading, record.belief)
        return session


def new_negotiation(
    scenario: Scenario,
    config: NegotiatorConfig,
    policy: CreditorPolicy,
    session_id: Optional[str] = None,
    today: Optional[datetime.date] = None,
) -> NegotiationSession:
    """A negotiation with a fresh tracker that filters with the emotion model the policy decides
    with (the configured priors when it has none): what the reasoning node, `chat` and the
    benchmark runner start. The policy comes from eq.policy.make_policy and lives across sessions."""
    tracker = HiddenStateTracker.from_config(config.eq, policy.model)
    return NegotiationSession(scenario, config, policy, tracker, session_id=session_id, today=today)


def resume_negotiation(
    data: Mapping[str, Any], config: NegotiatorConfig, policy: CreditorPolicy
) -> NegotiationSession:
    """A negotiation saved by NegotiationSession.to_dict, continuing with the policy (ValueError
    naming the problem when the data is no saved session)."""
    tracker = HiddenStateTracker.from_config(config.eq, policy.model)
    return NegotiationSession.from_dict(data, config, policy, tracker)


# ---------------------------------------------------------------------------------------------
# Record (de)serialisation: dataclasses.asdict out, the records back in
# ---------------------------------------------------------------------------------------------


def _offer_to_dict(offer: Optional[Offer]) -> Optional[dict[str, Any]]:
    return offer.to_dict() if offer is not None else None


def _offer_from_dict(data: Optional[Mapping[str, Any]]) -> Optional[Offer]:
    if data is None:
        return None
    return Offer(days=int(data["days"]), upfront_amount=float(data.get("upfront_amount", 0.0)))


def _directive_from_dict(data: Mapping[str, Any]) -> Directive:
    fields = dict(data)
    fields["offer"] = _offer_from_dict(fields["offer"])
    return Directive(**fields)


def _decision_from_dict(data: Mapping[str, Any]) -> PolicyDecision:
    fields = dict(data)
    fields["belief"] = tuple(fields.get("belief", ()))
    fields["expected_payoffs"] = tuple(fields.get("expected_payoffs", ()))
    return PolicyDecision(**fields)


def _record_to_dict(record: TurnRecord) -> dict[str, Any]:
    data = asdict(record)
    data["reading"] = {"probs": list(record.reading.probs), "source": record.reading.source}
    return data


def _record_from_dict(data: Mapping[str, Any]) -> TurnRecord:
    return TurnRecord(
        turn=int(data["turn"]),
        debtor_text=str(data["debtor_text"]),
        reading=EmotionReading(
            probs=tuple(float(p) for p in data["reading"]["probs"]), source=data["reading"]["source"]
        ),
        belief=tuple(float(b) for b in data["belief"]),
        decision=_decision_from_dict(data["decision"]),
        debtor_offer=_offer_from_dict(data.get("debtor_offer")),
        debtor_acceptance=data.get("debtor_acceptance"),
        directive=_directive_from_dict(data["directive"]),
        timings_s=dict(data.get("timings_s", {})),
    )
