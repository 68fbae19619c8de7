"""Persona guidance: sampling that leans toward what makes the chosen persona's voice its own.

The persona adapter hears the persona only as a few words of its prompt ("Agent (firm, clear;
countering): Listen."), and at a low temperature a small model drifts to the wording every persona
shares ("I hear that ..."). Classifier-free guidance (Sanchez et al. 2023, "Stay on topic with
Classifier-Free Guidance", arXiv 2306.17806) sharpens the condition: a second context of the same
model reads the same prompt with the factual persona's tag (the contrast), and each next token is
sampled from

    contrast + scale * (persona - contrast)

(logits; scale 1 = the persona prompt alone, > 1 = away from the factual voice). What both prompts
make likely (the person's words said back, grammar) stays likely; what only the persona makes
likely gains. The contrast keeps the persona's opener, so the two prompts differ only in the tone
words of the agent's label. The factual persona itself is never guided (its contrast is itself).

Those tone words themselves are not leaned toward: they are the very tokens the two prompts
differ by, so guidance made the model say its label ("Warm hugs, I'm so glad..." and "Warm
regards, Alex." for the "warm, upbeat" persona, in 19 of 42 warm replies of one held-out run).
Their first tokens (as a word and capitalised, alone and after a space) keep the persona prompt's
own logits (`label_token_ids`): the persona may still say "clear" or "disappointed", only no more
often than the adapter alone would.

Costs a second context of the model (the same weights read again, about 0.3 GB for the default
model) and one more token evaluation per sampled token; the opener is spoken before either runs,
so the first audio does not wait for it.

llama-cpp-python 0.3.36 drops a `logit_bias` passed together with a `logits_processor` (it
replaces the processor list with the None that `list.extend` returns), so the guided processor
applies the sampling bans itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np

from .constraints import SamplingBans, forbidden_now

__all__ = ["PersonaGuidance", "guided_logits", "common_prefix", "label_token_ids"]


def guided_logits(persona: np.ndarray, contrast: np.ndarray, scale: float) -> np.ndarray:
    """contrast + scale * (persona - contrast): the next-token logits leaning away from the contrast."""
    return contrast + float(scale) * (persona - contrast)


def common_prefix(a: Sequence[int], b: Sequence[int]) -> int:
    """How many leading tokens two token sequences share."""
    n = 0
    for x, y in zip(a, b):
        if x != y:
            break
        n += 1
    return n


@dataclass
class PersonaGuidance:
    """The contrast context (a second llama_cpp.Llama of the same model and adapter) and the scale."""

    contrast: Any
    scale: float

    def processor(
        self,
        contrast_prompt: str,
        banned: SamplingBans | Sequence[int] = (),
        unguided: Sequence[int] = (),
    ) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
        """A llama.cpp logits processor for one completion whose prompt is the persona prompt and
        whose contrast prompt is `contrast_prompt`: it follows the completion's sampled tokens in
        the contrast context and returns the guided logits, with `banned` forbidden (token ids, or
        llm/constraints.py's SamplingBans with its token sequences) and `unguided` ones (the
        persona's label words) at the persona prompt's own logits."""
        contrast = self.contrast
        tokens = list(contrast.tokenize(contrast_prompt.encode("utf-8"), add_bos=True, special=True))
        bans = banned if isinstance(banned, SamplingBans) else SamplingBans(frozenset(int(t) for t in banned))
        unguided_ids = np.asarray(sorted(set(int(t) for t in unguided) - bans.tokens), dtype=np.intc)
        state = {"start": -1, "fed": 0}

        def process(input_ids: np.ndarray, scores: np.ndarray) -> np.ndarray:
            if state["start"] < 0:  # first token of the completion: read the contrast prompt
                state["start"] = len(input_ids)
                _read(contrast, tokens)
            new = [int(t) for t in input_ids[state["start"] + state["fed"] :]]  # sampled since the last call
            if new:
                contrast.eval(new)
                state["fed"] += len(new)
            guided = guided_logits(scores, _last_logits(contrast), self.scale)
            if unguided_ids.size:
                guided[unguided_ids] = scores[unguided_ids]
            forbidden = forbidden_now(bans, input_ids)
            if forbidden:
                guided[np.asarray(forbidden, dtype=np.intc)] = -np.inf
            return guided

        return process


def label_token_ids(llama: Any, label: str) -> list[int]:
    """The first token of each word of a persona label ("warm, upbeat"), as written and
    capitalised, alone and after a space: what guidance must not lean toward."""
    space = list(llama.tokenize(b" ", add_bos=False))
    ids: set[int] = set()
    for word in (w.strip() for w in label.replace(";", ",").split(",")):
        for form in {word, word.capitalize()} if word else ():
            for text in (form, " " + form):
                tokens = list(llama.tokenize(text.encode("utf-8"), add_bos=False))
                if text.startswith(" ") and len(tokens) > 1 and tokens[:1] == space:
                    tokens = tokens[1:]  # a tokenizer that reads the space as a token of its own
                if tokens:
                    ids.add(int(tokens[0]))
    return sorted(ids)


def _read(llama: Any, tokens: list[int]) -> None:
    """Evaluate `tokens` in the contrast context, reusing the part of its cache that matches (the
    conversation's earlier prompts share their start); the last token is always evaluated again
    so that its logits are the current ones."""
    cached = [int(t) for t in llama.input_ids[: llama.n_tokens]]
    keep = min(common_prefix(cached, tokens), len(tokens) - 1)
    llama.n_tokens = keep
    llama.eval(tokens[keep:])


def _last_logits(llama: Any) -> np.ndarray:
    # Without logits_all, llama.cpp keeps only the last evaluated token's logits, and
    # llama-cpp-python 0.3.36 no longer copies them into Llama.scores: read them from the context.
    return np.ctypeslib.as_array(llama._ctx.get_logits(), shape=(llama.n_vocab(),)).copy()
