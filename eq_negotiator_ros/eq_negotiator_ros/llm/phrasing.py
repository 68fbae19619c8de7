"""The creditor's reply, sentence by sentence: the model phrases, the guard checks, the template
steps in.

Two shapes of reply, by prompt style (llm.prompt_style, llm/prompts.py):

* "persona" (the default model, with its persona adapter): opener, the model's part, terms.
  The opener (a word or two in the persona's voice, llm/personas.py) is yielded before the model
  is even called, so the speaker starts at once while llama.cpp reads the prompt. Then the
  model's sentences: the acknowledgment of what the person said and a sentence in the persona,
  each spoken when it passes the guard and names no fact the debtor did not say
  (llm/grounding.py); a sentence that states the terms is skipped, a number or anything else the
  guard rejects ends the model's part. At most `llm.max_reply_sentences - 1` model sentences.
  A persona sentence the agent already said in the conversation is sampled once more (at
  `llm.repeat_retry_temperature`) and left out if it repeats again; a sentence that says back
  what the person said of the agent ("you're nothing but ...") is not spoken. With persona
  guidance (llm/guidance.py, `llm.persona_guidance`), the model samples leaning away from the
  factual persona's voice, from a second context of the same model.
  Last, the terms sentence, always from the code (the written template for the Directive's
  intent): the numbers never depend on the model. When no model sentence survives, the reply is
  opener + terms sentence and is marked as the fallback, with the reason.
* "completion" / "chat": the model continues a forced prefix that carries the terms, as below.

Strategy lives in code, words live in the model (README, "How the agent decides"). `phrase_reply`
builds the prompt (llm/prompts.py), streams sentences from the model (llm/generation.py), checks
each with the reply guard (llm/guard.py) before it is yielded, and falls back to the written reply
(llm/fallback.py) when the model fails. No sentence is ever yielded without passing the guard (the
templates are tested against it by their own module).

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
from typing import Any, Callable, Iterator, Optional, Sequence

from ..config import LlmConfig
from ..eq.records import Directive, Reply, Scenario
from .constraints import SamplingBans, fact_bans, word_bans
from .generation import GenerationTimeout, stream_chat_sentences, stream_sentences
from .guidance import PersonaGuidance
from .model import model_has_chat_template

__all__ = [
    "ReplySentence",
    "phrase_reply",
    "phrase_reply_text",
    "states_terms",
    "clean_sentence",
    "model_words_survived",
    "PROMPT_STYLES",
]


@dataclass(frozen=True)
class ReplySentence:
    """One sentence of the creditor's reply, as the SLM node publishes it."""

    index: int  # 0-based position in the reply
    text: str  # guard-checked; "" only on a closing end-of-reply marker
    final: bool  # the last item of this reply
    from_fallback: bool  # written template rather than the model
    rejection_reason: str = ""  # why the model's output was replaced ("" when it was not)
    # who wrote it: "model", "opener" or "terms" (the code's, persona style), "prefix" (the forced
    # start of a completion) or "template" (the written fallback)
    source: str = "model"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# ---------------------------------------------------------------------------------------------
# Pure helpers
# ---------------------------------------------------------------------------------------------

_WRAPPING = "\"'“”‘’*_`#>~ \t"
# Markup a model trained on web text writes now and then ("<em>millions</em>"): the speaker would
# read the tag aloud.
_MARKUP = re.compile(r"</?[a-zA-Z][a-zA-Z0-9]*(?:\s[^<>]*)?/?>")
_DURATION = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?)\s*-?\s*(days?|weeks?|months?|years?|fortnights?)\b")
_BARE_NUMBER = re.compile(
    r"(?<![\w.$€£])(\d+(?:\.\d+)?)(?![\w.]*\s*-?\s*(?:days?|weeks?|months?|years?|fortnights?)\b)"
)
_AMOUNT = re.compile(r"(\d+(?:\.\d+)?)")


def clean_sentence(text: str) -> str:
    """Strip what a model wraps a sentence in (quotes, markdown asterisks, list dashes)."""
    if not isinstance(text, str):
        return ""
    cleaned = " ".join(_MARKUP.sub("", text).split())
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


PROMPT_STYLES = ("persona", "completion", "chat")


def resolve_style(style: str, llm_config: LlmConfig, llama: Any) -> str:
    """ "persona", "completion" or "chat": an explicit style wins, then llm.prompt_style, then the
    model: its own chat template when it has one, else the persona prompt (base models)."""
    for choice in (style, llm_config.prompt_style):
        if choice in PROMPT_STYLES:
            return choice
    return "chat" if model_has_chat_template(llama) else "persona"


def model_words_survived(parts: Sequence[ReplySentence]) -> bool:
    """Whether any sentence the model wrote itself (not a forced prefix) reached the speaker."""
    return any(p.text and p.source == "model" for p in parts)


# ---------------------------------------------------------------------------------------------
# The reply
# ---------------------------------------------------------------------------------------------


def phrase_reply(
    directive: Directive,
    scenario: Optional[Scenario],
    history: Sequence[tuple[str, str]],
    llama: Any,
    llm_config: LlmConfig,
    style: str = "auto",
    *,
    clock: Callable[[], float] = time.monotonic,
    guidance: Optional[PersonaGuidance] = None,
) -> Iterator[ReplySentence]:
    """Yield the reply's sentences as they are ready; see the module docstring for the rules.

    `guidance` (llm/guidance.py, persona style only): the contrast context that makes the model's
    part lean toward the persona's own voice; None samples from the persona prompt alone.

    The directive carries what the wording needs (terms, emotion, creditor_name); scenario may be
    None (the SLM node has none) and is read only for a directive without creditor_name.

    Never raises for a model failure: any exception while building the prompt or generating,
    the timeout (llm.timeout_s), a guard rejection or an empty output lead to the fallback.
    """
    from .fallback import fallback_reply
    from .guard import check_reply

    try:
        chosen = resolve_style(style, llm_config, llama)
    except Exception:  # a model object without metadata: the default shape
        chosen = "persona"
    if chosen == "persona":
        yield from _phrase_persona(directive, history, llama, llm_config, clock, guidance)
        return
    fallback = fallback_reply(directive, scenario)
    # The templates pass the guard for every valid Directive (fallback.py's tests); checked again
    # here so that even an invalid Directive (negative days) can never get an unchecked sentence.
    fallback_sentences = [s for s in fallback.sentences if s and check_reply(s, directive).ok]
    needs_terms = any(states_terms(s, directive) for s in fallback_sentences)
    terms_sentence = next(
        (s for s in reversed(fallback_sentences) if states_terms(s, directive)),
        fallback_sentences[-1] if fallback_sentences else "",
    )
    max_sentences = max(1, int(llm_config.max_reply_sentences))
    # The sentences the forced prefix completes by itself (opener, the terms) are the code's; they
    # used to fill every place (three for "counter"), so the model's continuation was always cut.
    prefix_sentences = _prefix_sentence_count(directive, chosen)
    max_sentences += prefix_sentences

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
            source = "prefix" if len(said) < prefix_sentences else "model"
            yield ReplySentence(
                index=len(said), text=sentence, final=final, from_fallback=False, source=source
            )
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
            yield ReplySentence(
                index=0,
                text="",
                final=True,
                from_fallback=True,
                rejection_reason=f"{reason}; no template passes the guard",
            )
            return
        for i, sentence in enumerate(sentences):
            yield ReplySentence(
                index=i,
                text=sentence,
                final=i == len(sentences) - 1,
                from_fallback=True,
                rejection_reason=reason,
                source="template",
            )
        return
    if needs_terms and not terms_said and terms_sentence:
        yield ReplySentence(
            index=len(said),
            text=terms_sentence,
            final=True,
            from_fallback=True,
            rejection_reason=reason or "the model did not state the terms",
            source="template",
        )
        return
    yield ReplySentence(index=len(said), text="", final=True, from_fallback=False, rejection_reason=reason)


def _prefix_sentence_count(directive: Directive, style: str) -> int:
    if style != "completion":
        return 0
    from . import prompts
    from .generation import split_sentences

    try:
        return len(split_sentences(prompts.reply_prefix(directive), final=False)[0])
    except Exception:
        return 0


def _phrase_persona(
    directive: Directive,
    history: Sequence[tuple[str, str]],
    llama: Any,
    llm_config: LlmConfig,
    clock: Callable[[], float],
    guidance: Optional[PersonaGuidance] = None,
) -> Iterator[ReplySentence]:
    """Opener (at once), the model's acknowledgment and persona sentence, the code's terms sentence."""
    from . import prompts
    from .fallback import fallback_sentences
    from .guard import check_reply

    variant = max(0, int(directive.turn))
    template_opener, terms_sentence = fallback_sentences(directive, variant)
    if not check_reply(terms_sentence, directive).ok:  # only for an invalid Directive
        terms_sentence = ""
    opener = prompts.persona_opener_for(directive)
    if not check_reply(opener, directive).ok:
        opener = template_opener if check_reply(template_opener, directive).ok else ""
    index = 0
    if opener:
        yield ReplySentence(
            index=0, text=opener, final=not terms_sentence, from_fallback=False, source="opener"
        )
        index = 1
        if not terms_sentence:
            return
    heard = [directive.debtor_text] + [
        text for speaker, text in _pairs(history) if not prompts.is_creditor_speaker(speaker)
    ]
    said_before = {
        _sentence_key(sentence)
        for speaker, line in _pairs(history)
        for sentence in _agent_sentences(speaker, line)
    }
    max_model = max(1, int(llm_config.max_reply_sentences) - 1)
    said = 0
    reason = ""
    stream = None
    deadline = clock() + float(llm_config.timeout_s)
    # A first sentence the checks refuse is sampled anew once, at the retry temperature: the
    # acknowledgment carries the persona sentence after it, and one unlucky draw ("...that you
    # used to live with your grandparents") would otherwise cost the person both.
    temperatures = (float(directive.temperature), float(llm_config.repeat_retry_temperature))
    try:
        # Digits, BANNED_WORDS, and the fact words the person has not said (llm/constraints.py).
        banned = (
            SamplingBans(frozenset(banned_token_ids(llama)))
            .plus(word_bans(llama, BANNED_WORDS))
            .plus(fact_bans(llama, heard))
        )
        prompt = prompts.build_persona_prompt(directive, history)
        contrast = _contrast_prompt(directive, history, guidance)
        for attempt, temperature in enumerate(temperatures):
            stream = _persona_model_sentences(
                llama,
                (prompt, contrast),
                directive,
                llm_config,
                clock,
                said_before,
                guidance,
                temperature=temperature,
                deadline=deadline,
                banned=banned,
            )
            for raw in stream:
                sentence = clean_sentence(raw)
                if not sentence:
                    continue
                refused = _refusal(sentence, directive, heard)
                if refused:
                    reason = refused if attempt == 0 else f"{reason}; sampled again: {refused}"
                    break
                if states_terms(sentence, directive):
                    continue  # the code says the terms, once
                if said and _sentence_key(sentence) in said_before:
                    continue  # said before in this conversation, and again when sampled anew
                yield ReplySentence(
                    index=index, text=sentence, final=False, from_fallback=False, source="model"
                )
                index += 1
                said += 1
                if said >= max_model:
                    break
            stream.close()
            stream = None
            if said or not reason:
                break
    except GenerationTimeout as error:
        reason = f"{reason}; timeout: {error}" if reason else f"timeout: {error}"
    except Exception as error:  # llama.cpp, prompt building or anything else: the reply must go on
        reason = f"error: {type(error).__name__}: {error}"
    finally:
        if stream is not None:
            stream.close()
    if not said:
        reason = reason or "empty reply from the model"
    if terms_sentence:
        yield ReplySentence(
            index=index,
            text=terms_sentence,
            final=True,
            from_fallback=not said,
            rejection_reason=reason,
            source="terms",
        )
    else:
        yield ReplySentence(
            index=index,
            text="",
            final=True,
            from_fallback=not said,
            rejection_reason=reason or "no terms sentence passes the guard",
            source="terms",
        )


def _refusal(sentence: str, directive: Directive, heard: Sequence[str]) -> str:
    """Why a model sentence may not be spoken ("" when it may): the reply guard, a fact the person
    did not state, or what they said of the agent said back to them."""
    from .grounding import invented_facts, turned_back
    from .guard import check_reply

    verdict = check_reply(sentence, directive)
    if not verdict.ok:
        return f"guard: {verdict.reason}"
    invented = invented_facts(sentence, heard)
    if invented:
        return f"grounding: names {', '.join(sorted(set(invented)))}, which the debtor did not say"
    returned = turned_back(sentence, heard)
    if returned:
        return f"grounding: says back to the person what they said of the agent ({returned!r})"
    return ""


def _contrast_prompt(
    directive: Directive, history: Sequence[tuple[str, str]], guidance: Optional[PersonaGuidance]
) -> str:
    """The guidance's contrast: the same prompt and opener with the factual persona's tone words;
    "" when the reply is not guided (no guidance, scale 1, or the factual persona itself)."""
    from dataclasses import replace

    from . import prompts
    from .personas import normalise_emotion

    if (
        guidance is None
        or guidance.scale == 1.0
        or normalise_emotion(directive.creditor_emotion) == "neutral"
    ):
        return ""
    factual = replace(directive, creditor_emotion="neutral")
    return prompts.build_persona_prompt(factual, history, opener=prompts.persona_opener_for(directive))


def _persona_model_sentences(
    llama: Any,
    prompts_pair: tuple[str, str],
    directive: Directive,
    llm_config: LlmConfig,
    clock: Callable[[], float],
    said_before: set[str],
    guidance: Optional[PersonaGuidance] = None,
    *,
    temperature: float,
    deadline: float,
    banned: SamplingBans = SamplingBans(),
) -> Iterator[str]:
    """The model's part of a persona reply, sentence by sentence, sampled at the turn's
    temperature. A persona sentence the agent already said in this conversation (`said_before`:
    sentence keys) is sampled again once, continued from the acknowledgment at
    `llm.repeat_retry_temperature`: at the turn's low temperature a persona kept for several
    turns says its likeliest sentence every time. llama.cpp reuses the prompt it has evaluated,
    so the second call reads only the acknowledgment. One deadline, `llm.timeout_s`, for all.

    `prompts_pair`: (persona prompt, contrast prompt); with a contrast and `guidance`, each call
    samples through a fresh guidance processor that follows the same continuation."""
    from . import prompts
    from .constraints import ban_processor
    from .guidance import label_token_ids
    from .personas import persona_tag

    prompt, contrast = prompts_pair
    options = dict(
        stop=list(prompts.PERSONA_STOP_SEQUENCES),
        max_tokens=int(llm_config.max_reply_tokens),
        clock=clock,
    )

    def sentences(text: str, contrast_text: str, temperature: float) -> Iterator[str]:
        if guidance is not None and contrast_text:
            label = label_token_ids(llama, persona_tag(directive.creditor_emotion))
            bans = {"logits_processor": [guidance.processor(contrast_text, banned, label)]}
        elif banned.sequences:
            bans = {"logits_processor": [ban_processor(banned)]}
        else:
            bans = {"logit_bias": {token: -100.0 for token in banned.tokens}} if banned else {}
        return stream_sentences(
            llama, text, temperature=temperature, timeout_s=max(0.0, deadline - clock()), **options, **bans
        )

    stream = sentences(prompt, contrast, temperature)
    try:
        acknowledgment = next(stream, None)
        if acknowledgment is None:
            return
        yield acknowledgment
        following = next(stream, None)
        if following is not None and _sentence_key(clean_sentence(following)) in said_before:
            stream.close()
            stream = sentences(
                f"{prompt} {acknowledgment}",
                f"{contrast} {acknowledgment}" if contrast else "",
                float(llm_config.repeat_retry_temperature),
            )
        elif following is not None:
            yield following
        yield from stream
    finally:
        stream.close()


def _agent_sentences(speaker: Any, text: str) -> list[str]:
    """The sentences of an agent line of the history (none for the debtor's lines)."""
    from .generation import all_sentences
    from .prompts import is_creditor_speaker

    return all_sentences(text) if is_creditor_speaker(speaker) else []


def _sentence_key(sentence: str) -> str:
    return " ".join(re.findall(r"[a-z0-9']+", sentence.lower()))


# Words the guard rejects wherever they stand (llm/guard.py: a hesitation reads as the model
# thinking aloud; a robot offers no hugs): forbidden while sampling too (llm/constraints.py
# `word_bans`), so the model says something else instead of losing the sentence. Guided warm and
# gentle replies opened with "Hugs, ..." now and then.
BANNED_WORDS = ("hmm", "hug", "hugs", "cuddle", "cuddles", "kiss", "kisses")


def banned_token_ids(llama: Any) -> list[int]:
    """The digit token ids, kept out of the model's part of a persona reply while it samples (a
    logit bias of -100, or forbidden by a logits processor).

    The model's part never carries a number (the code says the terms; the guard rejects any
    other number), yet a small model echoes the person's "45 days" now and then, and the whole
    sentence is then lost. Forbidding the digit tokens while it samples keeps the sentence. The
    token ids are the model's own: each digit alone and after a space, where the tokenizer has
    such a token (Gemma splits every number into single digits). A model object without a
    tokenizer (a test double) gets none.
    """
    tokenize = getattr(llama, "tokenize", None)
    if tokenize is None:
        return []
    banned: set[int] = set()
    try:
        space = list(tokenize(b" ", add_bos=False))
        for digit in "0123456789":
            for text in (digit, " " + digit):
                tokens = list(tokenize(text.encode("utf-8"), add_bos=False))
                if len(tokens) == 1:
                    banned.add(int(tokens[0]))
                elif len(tokens) == 2 and text.startswith(" ") and tokens[:1] == space:
                    banned.add(int(tokens[1]))  # the space a token of its own: the digit is the second
    except Exception:  # a tokenizer that does not take these arguments: sample without the ban
        return []
    return sorted(banned)


def _pairs(history: Sequence[tuple[str, str]]) -> Iterator[tuple[str, str]]:
    for item in history:
        try:
            speaker, text = item
        except (TypeError, ValueError):
            continue
        if isinstance(text, str):
            yield speaker, text


def _model_sentences(
    directive: Directive,
    scenario: Optional[Scenario],
    history: Sequence[tuple[str, str]],
    llama: Any,
    llm_config: LlmConfig,
    style: str,
    clock: Callable[[], float],
) -> Iterator[str]:
    from . import prompts

    chosen = resolve_style(style, llm_config, llama)
    if chosen == "persona":
        chosen = "completion"
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
    return stream_sentences(
        llama, prompt, stop=list(prompts.STOP_SEQUENCES), prefix=prompts.reply_prefix(directive), **common
    )


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
