"""eq_reasoning_node: reads the debtor's emotion, tracks the hidden state, decides the creditor's
emotion and terms (the EQ core), and publishes them.

speech (Utterance) -> debtor_emotion (EmotionState), directive (CreditorDirective),
negotiation_state (NegotiationState, latched), creditor_expression (std_msgs/String).
Services start_session and reset_session. Every turn is written to SQLite before anything is
published, so a restarted node resumes the same negotiation.

A store or learning file that cannot be read or written never stops the node: the failure is
logged, /diagnostics says `persistence: degraded (<reason>)` at level WARN, and the negotiation goes
on (on the published priors, or unsaved until a write succeeds). A store locked by another writer
makes start_session answer success=false naming the file and the lock; a stored row that cannot be
resumed is quarantined.

A turn said in parts: the ASR publishes a part that continues the turn before (said before the
answer to it was over) joined to it, with that turn's start_time. Such an utterance replaces the
turn it continues: the session goes back to where it was before that turn and answers the whole
text as one turn, with a new directive number (the phrasing and the voice answer each number once),
so the decision is made on everything said and the first part's answer is not given twice.
"""

from __future__ import annotations

import datetime
import time
import uuid
from dataclasses import dataclass
from typing import Any, Optional

from diagnostic_msgs.msg import DiagnosticStatus
from std_msgs.msg import String

from eq_negotiator_interfaces.msg import (
    CreditorDirective,
    EmotionState,
    NegotiationState,
    ReplyChunk,
    Utterance,
)
from eq_negotiator_interfaces.srv import ResetSession, StartSession

from ..eq.detection import make_detector
from ..eq.learning import read_learned_state, reset_learned, save_learned
from ..eq.policy import make_policy
from ..eq.records import Directive, Scenario
from ..eq.requests import SessionRequestError, validate_session_request
from ..eq.session import NegotiationSession, new_negotiation, resume_negotiation
from ..sim.scenarios import load_scenarios
from ..store import SessionStore, SessionStoreError, SessionStoreLocked
from . import conversions, topics
from .lifecycle import ModelNode, run_model_node

# Conversation lines a directive carries for phrasing (the latest ones).
HISTORY_LINES = 8
# Learning from a finished negotiation waits until its last turn can no longer be continued: the
# ASR's continuation window and this much more for recognition.
LEARNING_DELAY_MARGIN_S = 1.5
LEARNING_CHECK_PERIOD_S = 0.5


@dataclass(frozen=True)
class AnsweredTurn:
    """The last utterance answered and the session as it was before it (what a continuation of
    that turn goes back to)."""

    session_id: str
    start_ns: int
    end_ns: int
    session_before: dict[str, Any]


def _nanoseconds(stamp) -> int:
    return int(stamp.sec) * 1_000_000_000 + int(stamp.nanosec)


class EqReasoningNode(ModelNode):
    def __init__(self, **node_options) -> None:
        super().__init__("eq_reasoning_node", **node_options)
        self.declare_parameter("policy", "eq")
        self.policy_name = self.get_parameter("policy").value
        # What cannot be read or written ("store", "learning" -> reason): the node negotiates on
        # without it and says so in diagnostics; a later successful write clears it.
        self.persistence_problems: dict[str, str] = {}
        self.quarantined_sessions = 0
        self.store: Optional[SessionStore] = None
        self.session: Optional[NegotiationSession] = None
        self.last_reasoning_s = 0.0
        # What the agent said in session agent_session_id: turn -> sentence index -> text.
        self.agent_session_id = ""
        self.agent_sentences: dict[int, dict[int, str]] = {}
        self.last_answered: Optional[AnsweredTurn] = None
        self.learning_due: Optional[tuple[str, float]] = None  # (session id, monotonic time)
        self.revised_turns = 0

    def load(self) -> None:
        self.detector = make_detector(self.config)
        self.scenarios = {s.scenario_id: s for s in load_scenarios(self.config.session.scenarios_path)}
        self.store = self.open_store()
        self.policy = self.make_policy()

    def warm_up(self) -> None:
        # One detector pass (the sentence encoder or the LLM detector runs cold the first time).
        self.detector.detect("I lost my job, could I pay in ninety days?")

    def unload(self) -> None:
        if self.store is not None:
            self.store.close()
        self.store, self.session = None, None

    def activate_interfaces(self) -> None:
        self.emotion_pub = self.create_publisher(EmotionState, topics.DEBTOR_EMOTION, topics.RELIABLE_QOS)
        self.directive_pub = self.create_publisher(CreditorDirective, topics.DIRECTIVE, topics.DIRECTIVE_QOS)
        self.state_pub = self.create_publisher(NegotiationState, topics.NEGOTIATION_STATE, topics.LATCHED_QOS)
        self.expression_pub = self.create_publisher(String, topics.CREDITOR_EXPRESSION, topics.LATCHED_QOS)
        self.create_subscription(Utterance, topics.SPEECH, self.on_speech, topics.RELIABLE_QOS)
        self.create_subscription(ReplyChunk, topics.REPLY, self.on_reply, topics.RELIABLE_QOS)
        self.create_service(StartSession, topics.START_SESSION, self.on_start_session)
        self.create_service(ResetSession, topics.RESET_SESSION, self.on_reset_session)
        self.create_timer(LEARNING_CHECK_PERIOD_S, self.learn_if_due)
        if self.session is None:
            self.resume()
        self.publish_state()

    def deactivate_interfaces(self) -> None:
        self.learn_if_due(now=True)  # a finished negotiation is learned from before the node stops

    # -- sessions ---------------------------------------------------------------------------

    def make_policy(self):
        # What earlier negotiations taught the policy is kept across restarts (eq.learning.state_path).
        learned = None
        state_path = self.config.eq.learning.state_path
        if state_path is not None and self.config.eq.learning.enabled:
            load = read_learned_state(state_path, self.config.eq.model)
            learned = load.learned
            if load.problem:
                self.persistence_failed("learning", f"{load.problem}; negotiating on the published priors")
            else:
                self.persistence_problems.pop("learning", None)
                self.get_logger().info(load.message)
        return make_policy(self.policy_name, self.config.eq, learned=learned)

    # -- persistence: every failure is logged, shown in diagnostics and survived ---------------------

    def open_store(self) -> Optional[SessionStore]:
        settings = self.config.session
        path = settings.store_path or (self.config.run_dir / "sessions.sqlite")
        try:
            store = SessionStore(path, settings.store_lock_timeout_s, settings.store_lock_attempts)
        except SessionStoreError as error:
            self.persistence_failed("store", f"{error}; sessions are not saved (no resume after a restart)")
            return None
        self.persistence_problems.pop("store", None)
        return store

    def persistence_failed(self, part: str, reason: str) -> None:
        self.persistence_problems[part] = reason
        self.get_logger().error(reason)

    def on_quarantined(self, session_id: str, reason: str) -> None:
        self.quarantined_sessions += 1
        self.get_logger().error(
            f"session {session_id} in the store {self.store.path if self.store else ''} cannot be resumed "
            f"and is quarantined (phase 'quarantined', kept for inspection): {reason}"
        )

    def resume(self) -> None:
        """Continue the latest session still negotiating; a row that cannot be resumed is
        quarantined and the next one is tried, so one bad row never stops the node from starting."""
        if self.store is None:
            return
        unresumable: set[str] = set()
        while True:
            try:
                latest = self.store.latest_active(exclude=unresumable, on_quarantine=self.on_quarantined)
            except SessionStoreError as error:
                self.persistence_failed("store", f"cannot read the sessions to resume: {error}")
                return
            if latest is None:
                return
            session_id, data = latest
            try:
                self.session = resume_negotiation(data, self.config, self.policy)
            except Exception as error:  # an incompatible version or damaged data: keep it aside, start fresh
                unresumable.add(session_id)
                reason = f"{type(error).__name__}: {error}"
                try:
                    self.store.quarantine(session_id, reason)
                except SessionStoreError as store_error:
                    reason += f" (not marked in the store: {store_error})"
                self.on_quarantined(session_id, reason)
                continue
            self.get_logger().info(f"resumed session {session_id} at turn {self.session.snapshot().turn}")
            return

    def scenario(self, scenario_id: str, request: StartSession.Request) -> Scenario:
        scenario_id = scenario_id or self.config.session.default_scenario
        if scenario_id not in self.scenarios:
            raise KeyError(
                f"unknown scenario {scenario_id!r}; known: {', '.join(sorted(self.scenarios)[:5])}, ..."
            )
        return validate_session_request(
            self.scenarios[scenario_id],
            request.creditor_target_days,
            request.outstanding_balance,
            self.config.session,
        )

    def on_start_session(self, request: StartSession.Request, response: StartSession.Response):
        self.learn_if_due(now=True)
        try:
            scenario = self.scenario(request.scenario_id, request)
        except (KeyError, SessionRequestError) as error:
            response.success, response.message = False, str(error.args[0])
            return response
        if self.store is None:
            self.store = self.open_store()  # the store may be writable again (a folder created since)
        replaced, replaced_data = None, None
        if self.session is not None and not self.session.finished:
            replaced, replaced_data = self.session.snapshot().session_id, self.session.to_dict()
        # The session keeps the start date, so "by the end of March" reads the same after a resume.
        session = new_negotiation(
            scenario, self.config, self.policy, session_id=uuid.uuid4().hex[:12], today=datetime.date.today()
        )
        directive = session.open()
        unsaved = "" if self.store is not None else " (not saved: no session store, see diagnostics)"
        try:
            self.save_session(session, replaces=replaced)
        except SessionStoreLocked as error:
            # Nothing is lost by refusing now (no turn yet) and the caller can try again. open()
            # reset the shared policy's per-negotiation state: the running session is rebuilt from
            # its own record, as a restart would, and goes on unchanged.
            if replaced_data is not None:
                self.session = self.rebuilt(replaced, replaced_data)
                self.publish_state()
            response.success, response.message = False, f"session not started: {error}"
            self.get_logger().error(response.message)
            return response
        except SessionStoreError as error:
            self.persistence_failed("store", f"{error}; this session goes on without being saved")
            unsaved = " (not saved: see diagnostics)"
        self.session = session
        # The state names the new session first: the SLM and TTS nodes answer only the session
        # the state names, so the opening must not reach them before it.
        self.publish_state()
        self.publish_directive(directive)
        response.success, response.session_id = True, directive.session_id
        response.message = (
            f"session {directive.session_id} started on scenario {scenario.scenario_id}{unsaved}"
        )
        response.opening_text = f"{directive.intent} {directive.offer.days} days"
        self.get_logger().info(response.message)
        return response

    def on_reset_session(self, request: ResetSession.Request, response: ResetSession.Response):
        self.learn_if_due(now=True)
        if self.session is not None:
            session_id = self.session.snapshot().session_id
            self.session = None
            if self.store is not None:
                try:
                    self.store.set_phase(session_id, "aborted")
                except SessionStoreError as error:
                    self.persistence_failed("store", f"session {session_id} not marked aborted: {error}")
        response.success = True
        response.message = "session reset"
        if request.forget_learning:
            try:
                if self.config.eq.learning.state_path is not None:
                    reset_learned(self.config.eq.learning.state_path)
                self.policy = self.make_policy()
                response.message += " and learning forgotten"
            except OSError as error:  # LearnedStateError: the file could not be removed
                self.get_logger().error(str(error))
                response.success, response.message = False, f"session reset; learning not forgotten: {error}"
        self.publish_state()
        return response

    def rebuilt(self, session_id: str, data: dict) -> Optional[NegotiationSession]:
        try:
            return resume_negotiation(data, self.config, self.policy)
        except Exception as error:  # the record was made by this very process: not expected
            self.get_logger().error(f"session {session_id} could not be rebuilt and ends here: {error}")
            return None

    def save_session(self, session: NegotiationSession, replaces: Optional[str] = None) -> None:
        """Write the session (raises SessionStoreError); no store means nothing to write."""
        if self.store is None:
            return
        snapshot = session.snapshot()
        self.store.save(
            snapshot.session_id, snapshot.scenario_id, snapshot.phase, session.to_dict(), replaces=replaces
        )
        self.persistence_problems.pop("store", None)

    def persist(self) -> None:
        """Save the current session after a turn. A failed write is logged and the negotiation goes
        on: the whole session is written again after the next turn, so the turn is saved then."""
        try:
            self.save_session(self.session)
        except SessionStoreError as error:
            snapshot = self.session.snapshot()
            self.persistence_failed(
                "store", f"turn {snapshot.turn} of session {snapshot.session_id} not saved: {error}"
            )

    # -- turns ------------------------------------------------------------------------------

    def on_speech(self, message: Utterance) -> None:
        if not message.final:
            return
        if self.session is None:
            self.get_logger().warning("speech received with no session: call start_session first; ignored")
            return
        continued = self.continues_last_turn(message)
        if self.session.finished and not continued:
            self.get_logger().info("the negotiation has ended; speech ignored until a new session starts")
            return
        start = time.perf_counter()
        if continued:
            self.go_back()
        session_before = self.session.to_dict()
        prosody = conversions.prosody_from_utterance(message)
        reading = self.detector.detect(message.text, prosody)
        record = self.session.step(message.text, reading)
        self.last_answered = AnsweredTurn(
            self.session.snapshot().session_id,
            _nanoseconds(message.start_time),
            _nanoseconds(message.end_time),
            session_before,
        )
        self.last_reasoning_s = time.perf_counter() - start
        self.persist()
        self.publish_emotion(record)
        self.publish_directive(record.directive)
        self.publish_state()
        if self.session.finished:
            # Learning (an HMM refit) happens after the reply is on its way, never before it, and
            # once the debtor can no longer go on with the turn that ended the negotiation ("Fine."
            # ... "I can pay in seventy days." takes the agreement back).
            window_s = self.config.asr.continuation_window_ms / 1000.0 + LEARNING_DELAY_MARGIN_S
            self.learning_due = (self.session.snapshot().session_id, time.monotonic() + window_s)

    def learn_if_due(self, now: bool = False) -> None:
        """Learn from the negotiation that ended, once its last turn can no longer be continued
        (now: at once, e.g. before another session starts)."""
        if self.learning_due is None or self.session is None:
            self.learning_due = None
            return
        session_id, due_at = self.learning_due
        if not now and time.monotonic() < due_at:
            return
        self.learning_due = None
        if session_id != self.session.snapshot().session_id or not self.session.finished:
            return
        self.policy.finish(self.session.outcome == "success")
        learning = self.config.eq.learning
        if learning.enabled and learning.state_path and self.policy.learns:
            try:
                save_learned(learning.state_path, self.policy.learned)
                self.persistence_problems.pop("learning", None)
            except OSError as error:  # LearnedStateError: kept in memory, saved after the next one
                self.persistence_failed("learning", str(error))

    def continues_last_turn(self, message: Utterance) -> bool:
        """`message` continues the turn answered last: it starts no later than that turn's end and
        holds it (the ASR joined a part said after a pause to the part before), and, when that
        turn ended the negotiation, nothing has been learned from it yet."""
        last = self.last_answered
        if last is None or last.session_id != self.session.snapshot().session_id:
            return False
        if self.session.finished and (self.learning_due is None or self.learning_due[0] != last.session_id):
            return False
        return _nanoseconds(message.start_time) <= last.end_ns < _nanoseconds(message.end_time)

    def go_back(self) -> None:
        """Put the session back as it was before the turn answered last."""
        last = self.last_answered
        self.learning_due = None
        before = dict(last.session_before)
        # The answer to the first part may be phrased or spoken already: the whole turn's answer
        # gets the next directive number, so the language model and the voice answer it too.
        before["creditor_turn"] = self.session.last_directive.turn + 1
        restored = self.rebuilt(last.session_id, before)
        if restored is not None:
            self.session = restored
            self.revised_turns += 1
            self.get_logger().info(
                f"turn {self.session.snapshot().turn + 1} continued: answered again as a whole"
            )

    def publish_emotion(self, record) -> None:
        message = conversions.emotion_to_message(
            record.reading, record.belief, self.session.snapshot().session_id, record.turn
        )
        message.header.stamp = self.get_clock().now().to_msg()
        self.emotion_pub.publish(message)

    def publish_directive(self, directive: Directive) -> None:
        message = conversions.directive_to_message(directive, self.history_for(directive))
        message.header.stamp = self.get_clock().now().to_msg()
        self.directive_pub.publish(message)
        self.expression_pub.publish(String(data=directive.creditor_emotion))

    def publish_state(self) -> None:
        session = self.session
        message = conversions.state_to_message(
            session.snapshot() if session else None, session.scenario if session else None
        )
        message.header.stamp = self.get_clock().now().to_msg()
        self.state_pub.publish(message)

    # -- what the reply needs to hear: the conversation so far ------------------------------------

    def on_reply(self, message: ReplyChunk) -> None:
        """Keep what the agent said in the current session (the directive carries it to phrasing)."""
        if (
            self.session is None
            or message.session_id != self.session.snapshot().session_id
            or not message.text
        ):
            return
        if message.session_id != self.agent_session_id:
            self.agent_session_id, self.agent_sentences = message.session_id, {}
        self.agent_sentences.setdefault(int(message.turn), {})[int(message.index)] = message.text

    def history_for(self, directive: Directive) -> list[tuple[str, str]]:
        """The last HISTORY_LINES lines before the reply to `directive`: what the agent said at
        each earlier turn and the debtor's words after it, ending with the debtor's latest line.
        The agent's words are those heard on `reply`; a reply not heard (a restart) is left out."""
        if self.session is None:
            return []
        said = self.agent_sentences if self.agent_session_id == directive.session_id else {}
        debtor_lines = {record.turn: record.debtor_text for record in self.session.records}
        lines: list[tuple[str, str]] = []
        for turn in range(directive.turn + 1):
            if debtor_lines.get(turn):
                lines.append((conversions.DEBTOR, debtor_lines[turn]))
            if turn < directive.turn and said.get(turn):
                lines.append((conversions.AGENT, " ".join(text for _, text in sorted(said[turn].items()))))
        return lines[-HISTORY_LINES:]

    def diagnostics(self):
        problems = self.persistence_problems
        persistence = f"degraded ({'; '.join(problems[k] for k in sorted(problems))})" if problems else "ok"
        message = "ready, persistence degraded" if problems else "ready"
        return (
            message,
            {
                "detector": self.config.detector.kind,
                "policy": self.policy_name,
                "session": self.session.snapshot().session_id if self.session else "",
                "last_reasoning_ms": f"{self.last_reasoning_s * 1000:.2f}",
                "turns_answered_again_whole": self.revised_turns,
                "persistence": persistence,
                "quarantined_sessions": self.quarantined_sessions,
            },
            DiagnosticStatus.WARN if problems else DiagnosticStatus.OK,
        )


def main() -> None:
    run_model_node(EqReasoningNode)


if __name__ == "__main__":
    main()
