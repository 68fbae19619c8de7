"""Words the model may not sample in its part of a persona reply, and the processor that forbids them.

The reply pipeline drops a model sentence that names a fact the person never stated
(llm/grounding.py): "Oh, I didn't know that you used to live with your grandparents!" to "I know
people, you know." is never spoken, but the acknowledgment and the persona sentence after it are
lost with it. Forbidding those words while the model samples keeps the sentence: at the point
where it would have said "grandparents" it says something it was told instead. Which words: the
grounding lexicon's fact words (FACT_WORDS) that the person's words do not contain, judged by the
same rule as the check (`invented_facts`), so what is forbidden here is exactly what the check
would refuse.

A word is forbidden as the tokenizer writes it after a space, capitalised after a space, and
capitalised at the start. A word of one token is forbidden outright; a word of several tokens
("Grand" + "parents") loses its last token when the ones before it were just sampled (the
technique of transformers' NoBadWordsLogitsProcessor), so the first piece, often a common word or
a single letter, stays free.

llama-cpp-python applies a `logits_processor` to the raw logits before sampling; 0.3.36 drops a
`logit_bias` passed with one, so every forbidden token goes through the processor.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Sequence

import numpy as np

__all__ = ["SamplingBans", "forbidden_now", "word_forms", "word_bans", "fact_bans", "ban_processor"]


@dataclass(frozen=True)
class SamplingBans:
    """Token ids never to sample (`tokens`) and token sequences never to complete (`sequences`:
    the last token is forbidden right after the others)."""

    tokens: frozenset[int] = frozenset()
    sequences: tuple[tuple[int, ...], ...] = field(default=())

    def __bool__(self) -> bool:
        return bool(self.tokens or self.sequences)

    def plus(self, other: "SamplingBans") -> "SamplingBans":
        return SamplingBans(
            self.tokens | other.tokens, tuple(dict.fromkeys(self.sequences + other.sequences))
        )


def forbidden_now(bans: SamplingBans, sampled: Sequence[int]) -> list[int]:
    """The token ids forbidden as the next token after `sampled` (the tokens so far)."""
    forbidden = set(bans.tokens)
    for sequence in bans.sequences:
        head = sequence[:-1]
        if len(sampled) >= len(head) and tuple(int(t) for t in sampled[len(sampled) - len(head) :]) == head:
            forbidden.add(sequence[-1])
    return sorted(forbidden)


def word_forms(word: str) -> tuple[str, ...]:
    """How a word may begin in the model's text: after a space, capitalised after a space, and
    capitalised at the start of the model's part."""
    return tuple(dict.fromkeys((" " + word, " " + word.capitalize(), word.capitalize())))


# The tokens of each word form, per model object: looking up the whole lexicon takes about 13 ms
# on a 2-core x86 machine, every reply, while a model's tokenizer never changes.
_FORM_TOKENS: "weakref.WeakKeyDictionary[Any, dict[str, tuple[int, ...]]]" = weakref.WeakKeyDictionary()


def _tokens(llama: Any, text: str) -> tuple[int, ...]:
    try:
        cache = _FORM_TOKENS.setdefault(llama, {})
    except TypeError:  # an object that cannot be weakly referenced: no cache
        cache = {}
    if text not in cache:
        cache[text] = tuple(int(t) for t in llama.tokenize(text.encode("utf-8"), add_bos=False))
    return cache[text]


def fact_bans(llama: Any, heard: Iterable[str], words: Iterable[str] | None = None) -> SamplingBans:
    """The grounding lexicon's fact words (or `words`) that the `heard` texts do not contain, as
    the model's tokens. A model object without a tokenizer (a test double) gets none."""
    from .grounding import FACT_WORDS, invented_facts

    heard = list(heard)
    return word_bans(
        llama, (w for w in sorted(FACT_WORDS if words is None else words) if invented_facts(w, heard))
    )


def word_bans(llama: Any, words: Iterable[str]) -> SamplingBans:
    """`words` in each of their `word_forms`, as the model's tokens: one-token forms as tokens,
    longer ones as sequences. A model object without a tokenizer (a test double) gets none."""
    if getattr(llama, "tokenize", None) is None:
        return SamplingBans()
    single: set[int] = set()
    sequences: list[tuple[int, ...]] = []
    for word in words:
        for form in word_forms(word):
            tokens = _tokens(llama, form)
            if len(tokens) == 1:
                single.add(tokens[0])
            elif tokens:
                sequences.append(tokens)
    return SamplingBans(frozenset(single), tuple(dict.fromkeys(sequences)))


def ban_processor(bans: SamplingBans) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    """A llama.cpp logits processor that forbids `bans` (the unguided reply's sampling)."""

    def process(input_ids: np.ndarray, scores: np.ndarray) -> np.ndarray:
        forbidden = forbidden_now(bans, input_ids)
        if forbidden:
            scores = scores.copy()
            scores[np.asarray(forbidden, dtype=np.intc)] = -np.inf
        return scores

    return process
