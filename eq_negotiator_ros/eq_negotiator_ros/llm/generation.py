"""Streaming generation, one sentence at a time, with a deadline.

The SLM node publishes each sentence as soon as it ends so that the TTS speaks it while the next
one is generated. `stream_sentences` (completion prompts, for base models) and
`stream_chat_sentences` (chat templates) turn llama.cpp's token stream into sentences with the
pure splitter `split_sentences`.

Generation ends at: max_tokens; a stop string; the end-of-sequence token; a newline that starts
another speaker's turn ("\\nDebtor:", "\\nAgent (calm):") or a blank line (a transcript-style
prompt would otherwise have the model write the debtor's answer too); or the deadline.

Timeouts: the deadline (`timeout_s` after the first `next()`) is checked between tokens. When it
passes, the sentences already complete have been yielded, and `GenerationTimeout` is raised; its
`partial` holds the unfinished text, which is never spoken. Prompt evaluation before the first
token cannot be interrupted by llama.cpp, so a prompt that takes longer than the deadline raises
after its first token.

Text left at the end without closing punctuation is yielded as the last sentence when the model
stopped by itself (EOS, stop string, end of turn) and dropped when max_tokens cut it mid-sentence.
"""

from __future__ import annotations

import re
import time
from typing import Any, Callable, Iterable, Iterator, Sequence

__all__ = [
    "GenerationTimeout",
    "split_sentences",
    "stream_chat_sentences",
    "stream_sentences",
    "sentences_from_pieces",
]


class GenerationTimeout(TimeoutError):
    """The model did not finish in time; complete sentences were already yielded."""

    def __init__(self, timeout_s: float, partial: str = "", sentences_yielded: int = 0) -> None:
        super().__init__(
            f"the language model did not finish within {timeout_s:.1f} s (llm.timeout_s); "
            f"{sentences_yielded} sentence(s) were complete"
        )
        self.timeout_s = timeout_s
        self.partial = partial
        self.sentences_yielded = sentences_yielded


# ---------------------------------------------------------------------------------------------
# The pure sentence splitter
# ---------------------------------------------------------------------------------------------

# A period after these is not the end of a sentence ("Mr. Lee", "e.g. a plan", "approx. 30").
ABBREVIATIONS: frozenset[str] = frozenset(
    {
        "mr",
        "mrs",
        "ms",
        "mx",
        "dr",
        "prof",
        "sr",
        "jr",
        "st",
        "mt",
        "vs",
        "approx",
        "dept",
        "inc",
        "ltd",
        "co",
        "corp",
        "e.g",
        "i.e",
        "cf",
        "no",
        "nos",
        "vol",
        "fig",
        "ave",
        "apt",
        "est",
    }
)
_BOUNDARY = re.compile(r"([.!?]+|…)([\"'”’)\]]*)(\s+|$)")
_WORD_BEFORE = re.compile(r"([A-Za-z][A-Za-z.]*)$")


def _is_abbreviation(text_before_period: str) -> bool:
    match = _WORD_BEFORE.search(text_before_period)
    if not match:
        return False
    word = match.group(1).rstrip(".")
    if word.lower() in ABBREVIATIONS:
        return True
    if len(word) == 1 and word.isupper():
        return True  # an initial: "J. Smith"
    return bool(re.fullmatch(r"(?:[A-Za-z]\.)+[A-Za-z]", word))  # "U.S", "a.m"


def split_sentences(text: str, final: bool = False) -> tuple[list[str], str]:
    """Split the complete sentences off the front of `text`; return (sentences, remainder).

    A sentence ends at ., ! or ? (or …), optionally followed by closing quotes or brackets, then
    whitespace. Not an end: a decimal point ("2.5", no space follows), a known abbreviation or an
    initial ("Mr. Lee"), or a period followed by a lowercase word ("approx. five"). Because that
    last rule needs the next word, a boundary at the very end of `text` is only taken when
    `final` is True; while streaming it waits for the next token. With `final`, a remainder that
    ends with sentence punctuation becomes a sentence too; other remaining text stays in the
    remainder (the caller decides whether an unfinished sentence may be said).
    """
    if not isinstance(text, str) or not text:
        return [], ""
    sentences: list[str] = []
    start = 0
    for match in _BOUNDARY.finditer(text):
        punctuation, _, space = match.groups()
        after = text[match.end() :]
        at_end = not after
        if at_end and not final:
            break  # cannot see the next word yet
        if not space and not at_end:
            continue  # "2.5", "e.g.x": punctuation inside a token
        if punctuation == "." and _is_abbreviation(text[start : match.start()]):
            continue
        if set(punctuation) <= {".", "…"} and after[:1].islower():
            continue  # "approx. five", "Well... maybe": the sentence goes on
        sentence = text[start : match.end()].strip()
        if sentence and any(c.isalnum() for c in sentence):
            sentences.append(sentence)
            start = match.end()
        elif sentence:
            # Punctuation alone ("..." after a sentence) belongs to nothing worth saying: drop it.
            start = match.end()
    remainder = text[start:].lstrip()
    return sentences, remainder


def all_sentences(text: str) -> list[str]:
    """Every sentence of a finished text, its last one included when it lacks end punctuation."""
    sentences, rest = split_sentences(text, final=True)
    return [*sentences, rest] if rest.strip() else sentences


# A newline followed by a speaker label ("Debtor:", "Agent (calm, firm):", "Mr Lee:") starts the
# next turn of a transcript.
_TURN_LABEL = re.compile(
    r"\n[ \t]*[A-Z][\w'.-]*(?:[ \t]+[A-Z][\w'.-]*){0,3}[ \t]*(?:\([^)\n]{0,60}\))?[ \t]*:"
)
# While the label is still being generated we cannot tell yet: hold the text after the newline.
_MAYBE_TURN_LABEL = re.compile(
    r"\n[ \t]*(?:[A-Z][\w'.-]*(?:[ \t]+[A-Z]?[\w'.-]*){0,3}[ \t]*(?:\([^)\n]{0,60}\)?)?[ \t]*)?$"
)


def _end_of_turn(text: str) -> int | None:
    """Index where another speaker's turn (or a blank line) starts in `text`, if it does."""
    blank = re.search(r"\n[ \t]*\n", text)
    label = _TURN_LABEL.search(text)
    positions = [m.start() for m in (blank, label) if m]
    return min(positions) if positions else None


# ---------------------------------------------------------------------------------------------
# Streams
# ---------------------------------------------------------------------------------------------


def sentences_from_pieces(
    pieces: Iterable[tuple[str, str | None]],
    *,
    stop: Sequence[str] = (),
    timeout_s: float,
    clock: Callable[[], float] = time.monotonic,
    prefix: str = "",
    max_tokens: int | None = None,
) -> Iterator[str]:
    """Sentences from a stream of (text piece, finish_reason) pairs. Model-free: tests feed it lists."""
    deadline = clock() + float(timeout_s)
    yielded = 0
    truncated = False
    iterator = iter(pieces)
    tokens = 0
    try:
        # Sentences the forced prefix already completes go out before the model is even asked:
        # the TTS can speak them while llama.cpp evaluates the prompt (the first-sound latency).
        ready, buffer = split_sentences(prefix or "", final=False)
        for sentence in ready:
            yielded += 1
            yield sentence
        if prefix and not ready:
            buffer = prefix  # keep the prefix's own spacing ("I" + " understand")
        while True:
            if clock() > deadline:
                raise GenerationTimeout(timeout_s, buffer, yielded)
            try:
                piece, finish_reason = next(iterator)
            except StopIteration:
                break
            tokens += 1
            buffer += piece or ""
            truncated = finish_reason == "length"
            ended = finish_reason is not None
            # Stop strings and the start of another speaker's turn end the reply here.
            cut = [buffer.find(s) for s in stop if s and s in buffer]
            turn = _end_of_turn(buffer)
            if turn is not None:
                cut.append(turn)
            if cut:
                buffer = buffer[: min(cut)]
                ended, truncated = True, False
            # Text after a newline might be a speaker label still being written: hold it back.
            held = ""
            maybe_label = _MAYBE_TURN_LABEL.search(buffer)
            if maybe_label and not ended:
                buffer, held = buffer[: maybe_label.start()], buffer[maybe_label.start() :]
            sentences, rest = split_sentences(buffer.replace("\n", " "), final=False)
            for sentence in sentences:
                yielded += 1
                yield sentence
            buffer = rest + held
            if clock() > deadline and not ended:
                raise GenerationTimeout(timeout_s, buffer, yielded)
            if max_tokens is not None and tokens >= max_tokens and not ended:
                truncated = ended = True
            if ended:
                break
        sentences, rest = split_sentences(buffer.replace("\n", " "), final=True)
        for sentence in sentences:
            yield sentence
        rest = rest.strip()
        if rest and not truncated and any(c.isalnum() for c in rest):
            yield rest
    finally:
        close = getattr(iterator, "close", None)
        if close is not None:
            close()  # stop llama.cpp generating tokens nobody will read


def _completion_pieces(stream: Iterable[dict[str, Any]]) -> Iterator[tuple[str, str | None]]:
    for chunk in stream:
        choice = (chunk.get("choices") or [{}])[0]
        yield choice.get("text") or "", choice.get("finish_reason")


def _chat_pieces(stream: Iterable[dict[str, Any]]) -> Iterator[tuple[str, str | None]]:
    for chunk in stream:
        choice = (chunk.get("choices") or [{}])[0]
        delta = choice.get("delta") or {}
        yield delta.get("content") or "", choice.get("finish_reason")


def stream_sentences(
    llama: Any,
    prompt: str,
    *,
    max_tokens: int,
    temperature: float,
    stop: Sequence[str] = (),
    timeout_s: float,
    clock: Callable[[], float] = time.monotonic,
    prefix: str = "",
    **sampling: Any,
) -> Iterator[str]:
    """Sentences of a completion of `prompt`, each yielded as soon as it ends.

    `prefix` is the start of the reply that the prompt already forced (the prompt ends with it):
    it is part of the reply, and the sentences it completes by itself are yielded before the
    model is called. `sampling` passes extra llama.cpp options (top_p,
    repeat_penalty, seed...). Raises GenerationTimeout when `timeout_s` passes (see module doc).
    """

    def pieces() -> Iterator[tuple[str, str | None]]:
        stream = llama(
            prompt,
            stream=True,
            max_tokens=int(max_tokens),
            temperature=float(temperature),
            stop=list(stop),
            **sampling,
        )
        try:
            yield from _completion_pieces(stream)
        finally:
            close = getattr(stream, "close", None)
            if close is not None:
                close()

    return sentences_from_pieces(
        pieces(),
        stop=stop,
        timeout_s=timeout_s,
        clock=clock,
        prefix=prefix,
        max_tokens=max_tokens,
    )


def stream_chat_sentences(
    llama: Any,
    messages: Sequence[dict[str, str]],
    *,
    max_tokens: int,
    temperature: float,
    stop: Sequence[str] = (),
    timeout_s: float,
    clock: Callable[[], float] = time.monotonic,
    **sampling: Any,
) -> Iterator[str]:
    """Sentences of a chat completion (models with a chat template), as `stream_sentences`."""

    def pieces() -> Iterator[tuple[str, str | None]]:
        stream = llama.create_chat_completion(
            messages=list(messages),
            stream=True,
            max_tokens=int(max_tokens),
            temperature=float(temperature),
            stop=list(stop) or None,
            **sampling,
        )
        try:
            yield from _chat_pieces(stream)
        finally:
            close = getattr(stream, "close", None)
            if close is not None:
                close()

    return sentences_from_pieces(pieces(), stop=stop, timeout_s=timeout_s, clock=clock, max_tokens=max_tokens)
