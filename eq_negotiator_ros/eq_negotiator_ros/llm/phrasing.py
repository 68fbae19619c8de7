"""The creditor's reply, sentence by sentence: the model phrases, the guard checks, the template
steps in.

Strategy lives in code, words live in the model (DESIGN.md). `phrase_reply` builds the prompt
(llm/prompts.py), streams sentences from the model (llm/generation.py), checks each with the reply
guard (llm/guard.py) before it is yielded, and falls back to the written reply (llm/fallback.py)
when the model fails. No sentence is ever yielded without passing the guard (the templates are
tested against it by their own module).

How the terms are said exactly once:

* The reply "needs terms" when the written fallback reply for the Directive states them (every
  intent except clarifying questions). A model sentence "states the terms" when it names the
  offer's days (digits, words, or the same number of weeks/months) and, when there is one, the
  up-front amount.
* Nothing good from the model yet (rejected first sentence, error, timeout, empty output): the
  whole fallback reply is yielded (opener + the sentence with the terms).
* Some model sentences already yielded, then a rejection, error or timeout, or the model ended
  without stating the terms: only the fallback's terms sentence (its last sentence) is added,
  and only when the terms have not been stated yet.
* A model sentence that states the terms again after they were said is skipped (not spoken).
* At most `llm.max_reply_sentences` sentences: when one place is left and the terms are still
  unsaid, that place goes to the terms (from the model if its next sentence states them, else
  from the template).

Streaming without look-ahead: each sentence is yielded as soon as it passes the guard, with
`final=False` unless it is known to be the last. When the end is only known after the last
sentence went out (the model stopped), a closing `ReplySentence` with empty text and
`final=True` marks the end of the reply. Consumers speak every non-empty text and treat
`final=True` as the end of the reply.
"""

from __future__ import annotations

import re
import time
from dataclasses import asdict, dataclass
from typing import Any, Callable, Iterator, Sequence

from ..config import LlmConfig
from ..eq.records import Directive, Reply, Scenario
from .generation import GenerationTimeout, stream_chat_sentences, stream_sentences
from .model import model_has_chat_template

__all__ = ["ReplySentence", "phrase_reply", "phrase_reply_text", "states_terms", "clean_sentence"]

@dataclass(frozen=True)
class ReplySentence:
    """One sentence of the creditor's reply, as the SLM node publishes it."""

    index: int  # 0-based position in the reply
    text: str  # guard-checked; "" only on a closing end-of-reply marker
    final: bool  # the last item of this reply
    from_fallback: bool  # written template rather than the model
    rejection_reason: str = ""  # why the model's output was replaced ("" when it was not)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# ---------------------------------------------------------------------------------------------
# Pure helpers
# ---------------------------------------------------------------------------------------------

_WRAPPING = "\"'“”‘’*_`#>~ \t"
_DURATION = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?)\s*-?\s*(days?|weeks?|months?|years?|fortnights?)\b")
_BARE_NUMBER = re.compile(r"(?<![\w.$€£])(\d+(?:\.\d+)?)(?![\w.]*\s*-?\s*(?:days?|weeks?|months?|years?|fortnights?)\b)")
_AMOUNT = re.compile(r"(\d+(?:\.\d+)?)")


def clean_sentence(text: str) -> str:
    """Strip what a model wraps a sentence in (quotes, markdown asterisks, list dashes)."""
    if not isinstance(text, str):
        return ""
    cleaned = " ".join(text.split())
    cleaned = re.sub(r"^(?:[-•]\s+)+", "", cleaned)
    return cleaned.replace("**", "").strip(_WRAPPING)


def _digits(text: str) -> str:
    from ..eq.extraction import words_to_digits

    lowered = text.lower().replace("\u2019", "'")
    return re.sub(r"(?<=\d),(?=\d{3}\b)", "", words_to_digits(lowered))


def states_terms(text: str, directive: Directive) -> bool:
    """Whether a sentence names the decided days (and up-front amount, when there is one)."""
    from ..eq.extraction import UNIT_DAYS_BY_INITIAL

    normalised = _digits(text)
    offer_days = int(directive.offer.days)
    days_said = any(
        abs(float(value) * UNIT_DAYS_BY_INITIAL[unit[0]] - offer_days) < 1e-9
        for value, unit in _DURATION.findall(normalised)
    ) or any(abs(float(value) - offer_days) < 1e-9 for value in _BARE_NUMBER.findall(normalised))
    upfront = float(directive.offer.upfront_amount or 0.0)
    if upfront <= 0:
        return days_said
    amount_said = any(abs(float(v) - upfront) <= 0.005 for v in _AMOUNT.findall(normalised))
    return days_said and amount_said


def resolve_style(style: str, llm_config: LlmConfig, llama: Any) -> str:
    """"completion" or "chat": an explicit style wins, then llm.prompt_style, then the model."""
    for choice in (style, llm_config.prompt_style):
        if choice in ("completion", "chat"):
            return choice
    return "chat" if model_has_chat_template(llama) else "completion"


# ---------------------------------------------------------------------------------------------
# The reply
# ---------------------------------------------------------------------------------------------


def phrase_reply(
    directive: Directive,
    scenario: Scenario,
    history: Sequence[tuple[str, str]],
    llama: Any,
    llm_config: LlmConfig,
    style: str = "auto",
    *,
    clock: Callable[[], float] = time.monotonic,
) -> Iterator[ReplySentence]:
    """Yield the reply's sentences as they are ready; see the module docstring for the rules.

    Never raises for a model failure: any exception while building the prompt or generating,
    the timeout (llm.timeout_s), a guard rejection or an empty output lead to the fallback.
    """
    from .fallback import fallback_reply
    from .guard import check_reply

    fallback = fallback_reply(directive, scenario)
    # The templates pass the guard for every valid Directive (fallback.py's tests); checked again
    # here so that even an invalid Directive (negative days) can never get an unchecked sentence.
    fallback_sentences = [s for s in fallback.sentences if s and check_reply(s, directive).ok]
    needs_terms = any(states_terms(s, directive) for s in fallback_sentences)
    terms_sentence = next((s for s in reversed(fallback_sentences) if states_terms(s, directive)),
                          fallback_sentences[-1] if fallback_sentences else "")
    max_sentences = max(1, int(llm_config.max_reply_sentences))

    said: list[str] = []
    terms_said = False
    reason = ""
    stream = None
    try:
        stream = _model_sentences(directive, scenario, history, llama, llm_config, style, clock)
        for raw in stream:
            sentence = clean_sentence(raw)
            if not sentence:
                continue
            verdict = check_reply(sentence, directive)
            if not verdict.ok:
                reason = f"guard: {verdict.reason}"
                break
            has_terms = states_terms(sentence, directive)
            if has_terms and terms_said:
                continue  # the terms were already said once
            last_place = len(said) == max_sentences - 1
            if last_place and needs_terms and not terms_said and not has_terms:
                break  # keep the last place for the terms (from the template)
            terms_said = terms_said or has_terms
            final = len(said) + 1 >= max_sentences
            yield ReplySentence(index=len(said), text=sentence, final=final, from_fallback=False)
            said.append(sentence)
            if final:
                return
    except GenerationTimeout as error:
        reason = f"timeout: {error}"
    except Exception as error:  # llama.cpp, prompt building or anything else: the reply must go on
        reason = f"error: {type(error).__name__}: {error}"
    finally:
        if stream is not None:
            stream.close()

    if not said:
        reason = reason or "empty reply from the model"
        sentences = fallback_sentences
        if not sentences:  # nothing sayable at all (an invalid Directive): end the reply silently
            yield ReplySentence(index=0, text="", final=True, from_fallback=True,
                                rejection_reason=f"{reason}; no template passes the guard")
            return
        for i, sentence in enumerate(sentences):
            yield ReplySentence(index=i, text=sentence, final=i == len(sentences) - 1,
                                from_fallback=True, rejection_reason=reason)
        return
    if needs_terms and not terms_said and terms_sentence:
        yield ReplySentence(index=len(said), text=terms_sentence, final=True, from_fallback=True,
                            rejection_reason=reason or "the model did not state the terms")
        return
    yield ReplySentence(index=len(said), text="", final=True, from_fallback=False, rejection_reason=reason)


def _model_sentences(directive: Directive, scenario: Scenario, history: Sequence[tuple[str, str]],
                     llama: Any, llm_config: LlmConfig, style: str,
                     clock: Callable[[], float]) -> Iterator[str]:
    from . import prompts

    chosen = resolve_style(style, llm_config, llama)
    common = dict(
        max_tokens=int(llm_config.max_reply_tokens),
        temperature=float(directive.temperature),
        timeout_s=float(llm_config.timeout_s),
        clock=clock,
    )
    if chosen == "chat":
        messages = prompts.build_chat_messages(directive, scenario, history)
        return stream_chat_sentences(llama, messages, **common)
    prompt = prompts.build_prompt(directive, scenario, history, "completion")
    # A transcript reply is one line: the newline ends the creditor's turn. The forced prefix the
    # prompt ends with is spoken as part of the reply.
    return stream_sentences(llama, prompt, stop=list(prompts.STOP_SEQUENCES), prefix=prompts.reply_prefix(directive),
                            **common)


def phrase_reply_text(
    directive: Directive,
    scenario: Scenario,
    history: Sequence[tuple[str, str]],
    llama: Any,
    llm_config: LlmConfig,
    style: str = "auto",
) -> Reply:
    """The whole reply as one record (simulation, benchmarks, logs)."""
    parts = list(phrase_reply(directive, scenario, history, llama, llm_config, style))
    sentences = tuple(p.text for p in parts if p.text)
    reasons = [p.rejection_reason for p in parts if p.rejection_reason]
    return Reply(
        sentences=sentences,
        from_fallback=any(p.from_fallback for p in parts),
        rejection_reason=reasons[0] if reasons else "",
    )
