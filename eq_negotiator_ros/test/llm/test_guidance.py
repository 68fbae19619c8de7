"""Persona guidance (llm/guidance.py): the arithmetic, the contrast prompt, and the contrast context
following the completion in the real model."""

from dataclasses import replace

import numpy as np
import pytest

from eq_negotiator_ros.config import LlmConfig
from eq_negotiator_ros.eq.records import Directive, Offer
from eq_negotiator_ros.llm import prompts
from eq_negotiator_ros.llm.guidance import PersonaGuidance, common_prefix, guided_logits, label_token_ids
from eq_negotiator_ros.llm.phrasing import _contrast_prompt, banned_token_ids, phrase_reply


def directive(emotion: str = "anger", intent: str = "counter") -> Directive:
    return Directive(
        session_id="s",
        turn=3,
        creditor_emotion=emotion,
        policy_branch="x",
        intent=intent,
        offer=Offer(days=45),
        accepts_debtor_offer=False,
        persona="p",
        temperature=0.3,
        debtor_text="My wife is in hospital and the shop has been closed for weeks.",
    )


def test_guided_logits_lean_away_from_the_contrast() -> None:
    persona = np.array([2.0, 1.0, 0.0], dtype=np.float32)
    contrast = np.array([2.0, 0.0, 1.0], dtype=np.float32)
    assert guided_logits(persona, contrast, 1.0).tolist() == persona.tolist()  # scale 1: the persona alone
    assert guided_logits(persona, contrast, 2.0).tolist() == [2.0, 2.0, -1.0]
    assert guided_logits(persona, persona, 3.0).tolist() == persona.tolist()  # no difference, no change


def test_common_prefix() -> None:
    assert common_prefix([1, 2, 3], [1, 2, 4, 5]) == 2
    assert common_prefix([], [1]) == 0
    assert common_prefix([1, 2], [1, 2]) == 2


class WordTokenizer:
    """Only what label_token_ids may use: tokenize (a wrapper such as the reply benchmark's
    recorder has nothing else). A space is a token of its own, each word one token."""

    def tokenize(self, text: bytes, add_bos: bool = True) -> list[int]:
        decoded = text.decode("utf-8")
        if decoded.startswith(" "):
            return [0] + self.tokenize(decoded[1:].encode("utf-8"))
        return [sum(map(ord, w)) for w in decoded.split()]


def test_label_token_ids_needs_only_a_tokenizer() -> None:
    ids = label_token_ids(WordTokenizer(), "firm, clear")
    assert ids == sorted({sum(map(ord, w)) for w in ("firm", "Firm", "clear", "Clear")})


def test_the_contrast_is_the_same_prompt_in_the_factual_tone() -> None:
    d = directive("anger")
    guidance = PersonaGuidance(contrast=None, scale=1.5)
    history = [("Debtor", "I lost my job."), ("Agent", "I hear you.")]
    contrast = _contrast_prompt(d, history, guidance)
    persona = prompts.build_persona_prompt(d, history)
    assert contrast != persona
    assert contrast.endswith(prompts.persona_opener_for(d))  # the persona's own opener, kept
    assert contrast.replace("calm, factual", "firm, clear") == persona  # only the tone words differ
    # Not guided: no guidance, scale 1, or the factual persona itself.
    assert _contrast_prompt(d, history, None) == ""
    assert _contrast_prompt(d, history, replace(guidance, scale=1.0)) == ""
    assert _contrast_prompt(directive("neutral"), history, guidance) == ""


@pytest.fixture(scope="module")
def models():
    from eq_negotiator_ros.llm.model import load_llama

    return load_llama(LlmConfig()), load_llama(LlmConfig())


def _greedy(llama, prompt: str, processor=None) -> str:
    options = {"logits_processor": [processor]} if processor is not None else {}
    out = llama(prompt, max_tokens=24, temperature=0.0, stop=["\n"], **options)
    return out["choices"][0]["text"]


def test_the_contrast_context_follows_the_completion_token_by_token(models) -> None:
    # With the persona prompt as its own contrast, guidance at any scale changes nothing: the
    # greedy completion is the unguided one only if the contrast context read exactly the tokens
    # the completion sampled, at every step. Both contexts start empty each time: llama.cpp's
    # logits for a prompt read in one batch differ a little from those of a prompt read on top of
    # a cache, and guidance at scale 3 would turn that difference into another word.
    llama, contrast = models
    prompt = prompts.build_persona_prompt(directive("sadness"), [])
    guidance = PersonaGuidance(contrast, 3.0)
    llama.reset()
    plain = _greedy(llama, prompt)
    assert plain.strip()
    for _ in range(2):
        llama.reset()
        contrast.reset()
        assert _greedy(llama, prompt, guidance.processor(prompt)) == plain


def test_the_guided_processor_forbids_the_banned_tokens(models) -> None:
    llama, contrast = models
    prompt = prompts.build_persona_prompt(directive("joy"), [])
    banned = banned_token_ids(llama)
    assert banned
    process = PersonaGuidance(contrast, 1.5).processor(prompt, banned)
    tokens = np.asarray(llama.tokenize(prompt.encode("utf-8"), add_bos=True, special=True), dtype=np.intc)
    scores = np.zeros(llama.n_vocab(), dtype=np.float32)
    guided = process(tokens, scores)
    assert np.all(np.isneginf(guided[banned]))
    assert np.isfinite(np.delete(guided, banned)).all()


def test_the_persona_label_words_are_not_leaned_toward(models) -> None:
    # "warm, upbeat" guided toward "Warm hugs" and "Warm regards": the label's own words keep the
    # persona prompt's logits.
    llama, contrast = models
    label = label_token_ids(llama, "warm, upbeat")
    assert {" Warm", "Warm", " warm"} <= {llama.detokenize([t]).decode() for t in label}
    prompt = prompts.build_persona_prompt(directive("joy"), [])
    process = PersonaGuidance(contrast, 4.0).processor(
        prompt.replace("warm, upbeat", "calm, factual"), (), label
    )
    tokens = np.asarray(llama.tokenize(prompt.encode("utf-8"), add_bos=True, special=True), dtype=np.intc)
    scores = np.linspace(-5, 5, llama.n_vocab(), dtype=np.float32)
    guided = process(tokens, scores)
    assert np.array_equal(guided[label], scores[label])
    others = np.setdiff1d(np.arange(llama.n_vocab()), label)
    assert not np.allclose(guided[others], scores[others])


def test_a_guided_persona_reply_keeps_the_reply_shape(models) -> None:
    llama, contrast = models

    class Narrow:  # only what the reply path may use of the model (as the benchmark's recorder)
        metadata = llama.metadata
        tokenize = staticmethod(llama.tokenize)
        __call__ = staticmethod(llama.__call__)

    d = directive("fear", "hold")
    guidance = PersonaGuidance(contrast, 1.5)
    parts = list(phrase_reply(d, None, [], Narrow(), LlmConfig(), "persona", guidance=guidance))
    assert not any(p.rejection_reason.startswith("error") for p in parts), parts
    spoken = [p for p in parts if p.text]
    assert spoken[0].source == "opener" and spoken[-1].source == "terms"
    assert "45 days" in spoken[-1].text
    assert [p.source for p in spoken[1:-1]] == ["model"] * (len(spoken) - 2)


def test_unheard_fact_words_are_forbidden_in_the_real_tokenizer(models) -> None:
    # "My wife is in hospital and the shop has been closed for weeks.": her husband or the
    # person's grandparents would be invented, so the model may not sample them; "wife" stays free.
    from eq_negotiator_ros.llm.constraints import SamplingBans, fact_bans

    llama, contrast = models
    d = directive("sadness")
    bans = fact_bans(llama, [d.debtor_text])

    def tokens(text: str) -> list[int]:
        return list(llama.tokenize(text.encode("utf-8"), add_bos=False))

    (wife,), (husband,) = tokens(" wife"), tokens(" husband")
    assert husband in bans.tokens and wife not in bans.tokens
    grand, parents = tokens(" Grandparents")
    assert (grand, parents) in bans.sequences and grand not in bans.tokens
    prompt = prompts.build_persona_prompt(d, [])
    banned = SamplingBans(frozenset(banned_token_ids(llama))).plus(bans)
    process = PersonaGuidance(contrast, 1.5).processor(prompt.replace("gentle", "calm"), banned)
    said = np.asarray(llama.tokenize((prompt + " Your").encode("utf-8"), add_bos=True, special=True))
    scores = np.zeros(llama.n_vocab(), dtype=np.float32)
    guided = process(np.concatenate([said, [grand]]).astype(np.intc), scores)
    assert np.isneginf(guided[[husband, parents]]).all() and np.isfinite(guided[wife])


def test_banned_words_are_forbidden_without_their_word_endings(models) -> None:
    # " Hugs" is " Hug" + "s": the word is forbidden, the plural "s" of every other word is not.
    from eq_negotiator_ros.llm.constraints import word_bans
    from eq_negotiator_ros.llm.phrasing import BANNED_WORDS

    llama, _ = models
    bans = word_bans(llama, BANNED_WORDS)
    pieces = {llama.detokenize([t]).decode() for t in bans.tokens}
    assert {" Hug", " hug", " hugs", " Hmm"} <= pieces
    assert not {"s", "les", "isses"} & pieces
    assert all(len(sequence) >= 2 for sequence in bans.sequences)
    digits = {llama.detokenize([t]).decode() for t in banned_token_ids(llama)}
    assert set("0123456789") <= digits and "s" not in digits
