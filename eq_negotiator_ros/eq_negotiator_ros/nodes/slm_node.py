"""slm_node: the small local language model phrases each directive in the creditor's persona.

directive (CreditorDirective) -> reply (ReplyChunk), one message per sentence as soon as it ends,
each sentence checked by the reply guard; a rejected, failed or timed-out generation is replaced by
the written template, so every directive gets a valid reply. The directive carries all the wording
needs (terms, emotion, creditor's name, the conversation so far): the node keeps no conversation of
its own. Generation runs on a worker thread so the node keeps receiving while it speaks. Only
directives of the session negotiation_state names are answered (sessions.CurrentSession); the latest
directive is latched, so a node restarted while it phrased a reply answers it on start, unless it
had finished it (sessions.HandledRecord). A lifecycle node: the model loads on configure.

A newer directive of the same session supersedes the ones before it (the reasoning node answered a
turn said in parts again as a whole): a superseded directive still queued is not phrased, and one
being phrased stops before its next sentence, so the robot does not give an answer it replaced.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any, Optional

from diagnostic_msgs.msg import DiagnosticStatus

from eq_negotiator_interfaces.msg import CreditorDirective, NegotiationState, ReplyChunk

from ..eq.records import Directive, Offer
from ..llm.model import load_llama, load_persona_guidance, resolve_lora_path, resolve_model_path
from ..llm.phrasing import phrase_reply
from . import conversions, sessions, topics, workers
from .lifecycle import ModelNode, run_model_node

WARM_UP_TOKENS = 8  # enough to run the prompt and a few decoding steps; the text is thrown away


class SlmNode(ModelNode):
    def __init__(self, **node_options) -> None:
        super().__init__("slm_node", **node_options)
        self.llama: Optional[Any] = None
        self.guidance: Optional[Any] = None  # llm/guidance.py, when llm.persona_guidance != 1
        self.model_path = None
        self.load_time_s = 0.0
        self.replies = 0
        self.fallbacks = 0
        self.last_first_sentence_s = 0.0
        self.current_session = sessions.CurrentSession()
        self.dropped_directives = 0
        # (session id, turn) of the newest directive received: older ones of that session are superseded.
        self.newest_directive: tuple[str, int] = ("", -1)
        self.superseded_directives = 0

    def load(self) -> None:
        self.model_path = resolve_model_path(self.config.llm)
        started = time.perf_counter()
        self.llama = load_llama(self.config.llm)
        self.guidance = load_persona_guidance(self.config.llm)
        self.load_time_s = time.perf_counter() - started
        guided = f"persona guidance {self.guidance.scale}" if self.guidance else "no persona guidance"
        self.get_logger().info(
            f"language model {self.model_path.name} loaded in {self.load_time_s:.1f} s; "
            f"{resolve_lora_path(self.config.llm)[1]}; {guided}"
        )

    def warm_up(self) -> None:
        # A few tokens through the reply's own path (prompt, persona adapter, streaming, guard), on
        # a directive of the kind every negotiation has; nothing is published.
        directive = Directive(
            session_id="warm_up",
            turn=1,
            creditor_emotion="neutral",
            policy_branch="opening",
            intent="counter",
            offer=Offer(days=60),
            accepts_debtor_offer=False,
            persona="neutral",
            temperature=0.1,
            debtor_text="Could I pay in ninety days?",
            creditor_name="the lender",
        )
        short = dataclasses.replace(self.config.llm, max_reply_tokens=WARM_UP_TOKENS)
        history = [(conversions.DEBTOR, directive.debtor_text)]
        if not any(sentence.text for sentence in phrase_reply(directive, None, history, self.llama, short)):
            raise RuntimeError("the warm-up reply was empty")

    def unload(self) -> None:
        self.llama = None
        self.guidance = None

    def activate_interfaces(self) -> None:
        self.handled = sessions.HandledRecord(self, self.config.run_dir)
        # A directive published before this moment was latched for a node that was not listening.
        self.started_at_ns = self.get_clock().now().nanoseconds
        self.reply_pub = self.create_publisher(ReplyChunk, topics.REPLY, topics.REPLY_QOS)
        self.create_subscription(
            CreditorDirective, topics.DIRECTIVE, self.on_directive, topics.DIRECTIVE_SUBSCRIBER_QOS
        )
        self.create_subscription(
            NegotiationState, topics.NEGOTIATION_STATE, self.on_state, topics.LATCHED_QOS
        )
        # Never leave a directive unanswered: a failure is logged and the next directive runs.
        self.worker = workers.JobWorker(
            "slm_generation",
            self.reply_to,
            lambda error: self.get_logger().error(f"reply generation failed: {error}"),
        )

    def deactivate_interfaces(self) -> None:
        self.worker.close(timeout_s=self.config.llm.timeout_s + 1.0)

    def on_state(self, message: NegotiationState) -> None:
        self.current_session.update(message.session_id)

    def on_directive(self, message: CreditorDirective) -> None:
        session, turn = self.newest_directive
        if message.session_id != session or int(message.turn) > turn:
            self.newest_directive = (message.session_id, int(message.turn))
        self.worker.put(message)

    def superseded(self, message: CreditorDirective) -> bool:
        session, turn = self.newest_directive
        return message.session_id == session and int(message.turn) < turn

    def should_answer(self, message: CreditorDirective) -> bool:
        if not self.current_session.admits(message.session_id, sessions.SESSION_WAIT_S):
            # An aborted session's directive still queued, or another graph's on these topics.
            self.dropped_directives += 1
            self.get_logger().warning(
                f"directive of session {message.session_id!r} (turn {message.turn}) dropped: the current "
                f"session is {self.current_session.session_id!r}"
            )
            return False
        if self.handled.handled(message.session_id, (int(message.turn),)):
            # The latched directive, delivered again after a restart, had been answered in full.
            self.get_logger().info(
                f"directive of turn {message.turn} was answered before; not answered twice"
            )
            return False
        published_ns = message.header.stamp.sec * 1_000_000_000 + message.header.stamp.nanosec
        if published_ns < self.started_at_ns:
            self.get_logger().warning(
                f"answering turn {message.turn} of session {message.session_id}: its directive was published "
                f"before this node started, and its reply had not been finished"
            )
        return True

    def reply_to(self, message: CreditorDirective) -> None:
        if not self.should_answer(message):
            return
        if self.superseded(message):
            self.skip_superseded(message)
            return
        try:
            directive, history = conversions.directive_from_message(message)
        except conversions.MessageError as error:
            # The terms are still sound: answer them, without the conversation.
            self.get_logger().warning(f"{error}; answering without the conversation history")
            message.history_speakers, message.history_texts = [], []
            directive, history = conversions.directive_from_message(message)
        started = time.perf_counter()
        spoken = 0
        used_fallback = False
        for sentence in phrase_reply(
            directive, None, history, self.llama, self.config.llm, guidance=self.guidance
        ):
            if self.superseded(message):
                self.skip_superseded(message)
                return
            if not sentence.text and not sentence.final:
                continue
            if not spoken:
                self.last_first_sentence_s = time.perf_counter() - started
            chunk = conversions.reply_to_message(sentence, directive)
            chunk.header.stamp = self.get_clock().now().to_msg()
            self.reply_pub.publish(chunk)
            spoken += 1
            used_fallback = used_fallback or sentence.from_fallback
        self.handled.record(directive.session_id, (directive.turn,))
        self.replies += 1
        self.fallbacks += int(used_fallback)

    def skip_superseded(self, message: CreditorDirective) -> None:
        """A newer directive of the session replaced this one: its reply (the rest of it) is not
        phrased, and it counts as answered (not phrased again after a restart)."""
        self.superseded_directives += 1
        self.handled.record(message.session_id, (int(message.turn),))
        self.get_logger().info(
            f"directive of turn {message.turn} superseded by turn {self.newest_directive[1]}: not phrased"
        )

    def diagnostics(self):
        return (
            "model loaded",
            {
                "model": self.model_path,
                "load_time_s": f"{self.load_time_s:.2f}",
                "persona_guidance": f"{self.guidance.scale}" if self.guidance else "off",
                "replies": self.replies,
                "fallback_replies": self.fallbacks,
                "last_first_sentence_s": f"{self.last_first_sentence_s:.3f}",
                "pending_directives": self.worker.pending,
                "session": self.current_session.session_id or "",
                "dropped_directives": self.dropped_directives,
                "superseded_directives": self.superseded_directives,
            },
            DiagnosticStatus.OK,
        )


def main() -> None:
    run_model_node(SlmNode)


if __name__ == "__main__":
    main()
