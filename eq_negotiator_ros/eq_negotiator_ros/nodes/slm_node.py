"""slm_node: the small local language model phrases each directive in the creditor's persona.

directive (CreditorDirective) -> reply (ReplyChunk), one message per sentence as soon as it ends,
each sentence checked by the reply guard; a rejected, failed or timed-out generation is replaced by
the written template, so every directive gets a valid reply. Generation runs on a worker thread so
the node keeps receiving while it speaks. Only directives of the session negotiation_state names
are answered (common.CurrentSession); the latest directive is latched, so a node restarted while
it phrased a reply answers it on start, unless it had finished it (common.HandledRecord).
"""

from __future__ import annotations

import time
from typing import Optional

from rclpy.node import Node

from eq_negotiator_interfaces.msg import CreditorDirective, NegotiationState, ReplyChunk

from ..eq.records import Directive, Offer, Scenario
from ..llm.model import load_llama, resolve_lora_path, resolve_model_path
from ..llm.phrasing import phrase_reply
from ..sim.scenarios import load_scenarios
from . import common

HISTORY_LINES = 8


class SlmNode(Node):
    def __init__(self) -> None:
        super().__init__("slm_node")
        self.config = common.declare_config(self)
        self.model_path = resolve_model_path(self.config.llm)
        started = time.perf_counter()
        self.llama = load_llama(self.config.llm)
        self.load_time_s = time.perf_counter() - started
        self.get_logger().info(f"language model {self.model_path.name} loaded in {self.load_time_s:.1f} s; "
                               f"{resolve_lora_path(self.config.llm)[1]}")
        self.scenarios = {s.scenario_id: s for s in load_scenarios(self.config.session.scenarios_path)}
        self.state: Optional[NegotiationState] = None
        self.history: list[tuple[str, str]] = []
        self.history_session = ""
        self.replies = 0
        self.fallbacks = 0
        self.last_first_sentence_s = 0.0
        self.current_session = common.CurrentSession()
        self.dropped_directives = 0
        self.handled = common.HandledRecord(self, self.config.run_dir)
        self.started_at_ns = self.get_clock().now().nanoseconds

        self.reply_pub = self.create_publisher(ReplyChunk, common.REPLY, common.REPLY_QOS)
        self.diagnostics_pub = common.diagnostics_publisher(self)
        self.create_subscription(CreditorDirective, common.DIRECTIVE, self.on_directive,
                                 common.DIRECTIVE_SUBSCRIBER_QOS)
        self.create_subscription(NegotiationState, common.NEGOTIATION_STATE, self.on_state, common.LATCHED_QOS)
        self.create_timer(2.0, self.publish_diagnostics)
        # Never leave a directive unanswered: a failure is logged and the next directive runs.
        self.worker = common.JobWorker("slm_generation", self.reply_to,
                                       lambda error: self.get_logger().error(f"reply generation failed: {error}"))

    def on_state(self, message: NegotiationState) -> None:
        self.state = message
        self.current_session.update(message.session_id)

    def on_directive(self, message: CreditorDirective) -> None:
        self.worker.put(message)

    def scenario_for(self, message: CreditorDirective) -> Scenario:
        state = self.state if self.state is not None and self.state.session_id == message.session_id else None
        if state is not None and state.scenario_id in self.scenarios:
            scenario = self.scenarios[state.scenario_id]
            return Scenario(**{**scenario.to_dict(), "creditor_target_days": state.creditor_target_days or scenario.creditor_target_days,
                               "outstanding_balance": state.outstanding_balance or scenario.outstanding_balance})
        # No state yet (it is latched, so this is rare): the terms are in the directive itself.
        return Scenario(scenario_id=state.scenario_id if state else "", creditor_target_days=int(message.offer_days),
                        debtor_target_days=int(message.offer_days), outstanding_balance=0.0, currency=message.currency or "USD")

    def reply_to(self, message: CreditorDirective) -> None:
        if not self.current_session.admits(message.session_id, common.SESSION_WAIT_S):
            # An aborted session's directive still queued, or another graph's on these topics.
            self.dropped_directives += 1
            self.get_logger().warning(
                f"directive of session {message.session_id!r} (turn {message.turn}) dropped: the current "
                f"session is {self.current_session.session_id!r}")
            return
        if self.handled.handled(message.session_id, (int(message.turn),)):
            # The latched directive, delivered again after a restart, had been answered in full.
            self.get_logger().info(f"directive of turn {message.turn} was answered before; not answered twice")
            return
        published_ns = message.header.stamp.sec * 1_000_000_000 + message.header.stamp.nanosec
        if published_ns < self.started_at_ns:
            self.get_logger().warning(
                f"answering turn {message.turn} of session {message.session_id}: its directive was published "
                f"before this node started, and its reply had not been finished")
        if message.session_id != self.history_session:
            self.history, self.history_session = [], message.session_id
        directive = Directive(
            session_id=message.session_id, turn=int(message.turn), creditor_emotion=message.creditor_emotion,
            policy_branch=message.policy_branch, intent=message.intent,
            offer=Offer(days=int(message.offer_days), upfront_amount=float(message.upfront_amount)),
            accepts_debtor_offer=bool(message.accepts_debtor_offer), persona=message.persona,
            temperature=float(message.temperature), debtor_text=message.debtor_text, currency=message.currency or "USD",
        )
        if directive.debtor_text:
            self.history.append(("Debtor", directive.debtor_text))
        started = time.perf_counter()
        spoken = []
        used_fallback = False
        for sentence in phrase_reply(directive, self.scenario_for(message), self.history[-HISTORY_LINES:], self.llama, self.config.llm):
            if not sentence.text and not sentence.final:
                continue
            if not spoken:
                self.last_first_sentence_s = time.perf_counter() - started
            chunk = ReplyChunk()
            chunk.header.stamp = self.get_clock().now().to_msg()
            chunk.session_id, chunk.turn, chunk.index = directive.session_id, directive.turn, sentence.index
            chunk.text, chunk.final = sentence.text, sentence.final
            chunk.from_fallback, chunk.rejection_reason = sentence.from_fallback, sentence.rejection_reason
            chunk.emotion = directive.creditor_emotion
            self.reply_pub.publish(chunk)
            if sentence.text:
                spoken.append(sentence.text)
            used_fallback = used_fallback or sentence.from_fallback
        self.history.append(("Agent", " ".join(spoken)))
        self.handled.record(directive.session_id, (directive.turn,))
        self.replies += 1
        self.fallbacks += int(used_fallback)

    def publish_diagnostics(self) -> None:
        common.publish_diagnostics(self, self.diagnostics_pub, 'model loaded', {
            "model": self.model_path,
            "load_time_s": f"{self.load_time_s:.2f}",
            "replies": self.replies,
            "fallback_replies": self.fallbacks,
            "last_first_sentence_s": f"{self.last_first_sentence_s:.3f}",
            "pending_directives": self.worker.pending,
            "session": self.current_session.session_id or "",
            "dropped_directives": self.dropped_directives,
        })

    def close(self) -> None:
        self.worker.close(timeout_s=self.config.llm.timeout_s + 1.0)


def main() -> None:
    common.run_node(SlmNode)


if __name__ == "__main__":
    main()
