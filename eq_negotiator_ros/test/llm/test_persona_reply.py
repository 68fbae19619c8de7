"""The persona-shaped reply (llm/phrasing.py, prompt style "persona"): the opener goes out before
the model is called, the model's words survive when they pass the guard and invent no fact, the
terms always come from the code, and nothing unchecked is ever yielded."""

from __future__ import annotations

import re

import numpy as np
import pytest

from eq_negotiator_ros.config import LlmConfig
from eq_negotiator_ros.eq.records import Directive, Offer, Scenario
from eq_negotiator_ros.llm.grounding import grounded_share, invented_facts, turned_back
from eq_negotiator_ros.llm.guard import check_reply
from eq_negotiator_ros.llm.personas import PERSONA_OPENERS, persona_opener
from eq_negotiator_ros.llm.phrasing import (
    ReplySentence,
    model_words_survived,
    phrase_reply,
    phrase_reply_text,
    states_terms,
)
from eq_negotiator_ros.llm.prompts import build_persona_prompt

SCENARIO = Scenario(
    scenario_id="t1", creditor_target_days=30, debtor_target_days=90, outstanding_balance=1500.0
)
CONFIG = LlmConfig(timeout_s=5.0, max_reply_tokens=60)
HOSPITAL = "My wife is in hospital and the shop has been closed for weeks. I can pay in 90 days."


def directive(intent="counter", days=21, emotion="sadness", text=HOSPITAL, turn=3, upfront=0.0) -> Directive:
    return Directive(
        session_id="s",
        turn=turn,
        creditor_emotion=emotion,
        policy_branch="x",
        intent=intent,
        offer=Offer(days=days, upfront_amount=upfront),
        accepts_debtor_offer=False,
        persona="",
        temperature=0.5,
        debtor_text=text,
    )


class FakeLlama:
    """A base model (no chat template) that streams canned text word by word and records calls."""

    def __init__(self, text: str, fail_at: int | None = None) -> None:
        self.text, self.fail_at = text, fail_at
        self.metadata: dict = {}
        self.calls: list[tuple[str, dict]] = []

    def continuation(self, prompt: str) -> str:
        """The canned text after the sentences of it that the prompt already ends with (the
        persona reply asks again after the acknowledgment, with it added to the prompt)."""
        sentences = re.split(r"(?<=[.!?]) ", self.text)
        for done in range(len(sentences) - 1, 0, -1):
            if prompt.endswith(" " + " ".join(sentences[:done])):
                return " ".join(sentences[done:])
        return self.text

    def __call__(self, prompt, **kwargs):
        self.calls.append((prompt, kwargs))
        words = self.continuation(prompt).split(" ")

        def stream():
            for i, word in enumerate(words):
                if self.fail_at is not None and i >= self.fail_at:
                    raise RuntimeError("llama_decode returned -3")
                yield {
                    "choices": [
                        {
                            "text": ("" if i == 0 else " ") + word,
                            "finish_reason": "stop" if i == len(words) - 1 else None,
                        }
                    ]
                }

        return stream()


def run(llama, d: Directive, history=(), config=CONFIG) -> list[ReplySentence]:
    parts = list(phrase_reply(d, SCENARIO, list(history), llama, config))
    for part in parts:
        if part.text:
            assert check_reply(part.text, d).ok, part
    assert [p.index for p in parts] == list(range(len(parts)))
    assert [p.final for p in parts] == [False] * (len(parts) - 1) + [True]
    return parts


def test_model_words_survive_between_the_opener_and_the_terms() -> None:
    d = directive()
    llama = FakeLlama("I'm sorry your wife is in hospital. I know this isn't easy, and I'll go gently.")
    parts = run(llama, d)
    assert [p.source for p in parts] == ["opener", "model", "model", "terms"]
    assert parts[0].text == persona_opener("sadness", "counter", 3)
    assert parts[1].text == "I'm sorry your wife is in hospital."
    assert states_terms(parts[-1].text, d) and sum(states_terms(p.text, d) for p in parts) == 1
    assert not any(p.from_fallback for p in parts) and model_words_survived(parts)
    prompt = llama.calls[0][0]
    assert prompt == build_persona_prompt(d, [])
    assert "21" not in prompt  # the model is never shown the terms


def test_the_opener_is_yielded_before_the_model_is_called() -> None:
    d = directive()
    llama = FakeLlama("I hear you.")
    stream = phrase_reply(d, SCENARIO, [], llama, CONFIG)
    first = next(stream)
    assert first.source == "opener" and first.text and not llama.calls
    list(stream)
    assert llama.calls


def test_a_number_from_the_model_ends_its_part_and_the_terms_still_come_from_the_code() -> None:
    d = directive()
    parts = run(FakeLlama("I hear you. We could do 90 days if you like."), d)
    assert [p.source for p in parts] == ["opener", "model", "terms"]
    assert "90" not in " ".join(p.text for p in parts)
    assert "guard" in parts[-1].rejection_reason and not parts[-1].from_fallback


def test_an_invented_fact_is_not_spoken() -> None:
    d = directive()
    parts = run(FakeLlama("I'm sorry your husband lost his job."), d)
    assert [p.source for p in parts] == ["opener", "terms"]
    assert parts[-1].from_fallback and "grounding" in parts[-1].rejection_reason
    assert not model_words_survived(parts)


class ScriptedLlama(FakeLlama):
    """A FakeLlama that answers its n-th call with the n-th text (a new sample each time)."""

    def __init__(self, *texts: str) -> None:
        super().__init__(texts[0])
        self.texts = texts

    def continuation(self, prompt: str) -> str:
        return self.texts[min(len(self.calls), len(self.texts)) - 1]


def test_a_refused_acknowledgment_is_sampled_anew_once_and_the_new_one_is_spoken() -> None:
    d = directive()
    llama = ScriptedLlama(
        "I'm sorry your husband lost his job. I'll go gently.",
        "I'm sorry your wife is in hospital. I know this isn't easy.",
    )
    parts = run(llama, d)
    assert [p.text for p in parts if p.source == "model"] == [
        "I'm sorry your wife is in hospital.",
        "I know this isn't easy.",
    ]
    (first_prompt, first), (second_prompt, second) = llama.calls
    assert second_prompt == first_prompt  # a new acknowledgment, not a continuation of the refused one
    assert (first["temperature"], second["temperature"]) == (d.temperature, CONFIG.repeat_retry_temperature)
    assert not parts[-1].from_fallback and "grounding" in parts[-1].rejection_reason


def test_an_acknowledgment_refused_twice_leaves_opener_and_terms() -> None:
    d = directive()
    llama = ScriptedLlama("I'm sorry your husband lost his job.", "We could do 90 days if you like.")
    parts = run(llama, d)
    assert [p.source for p in parts] == ["opener", "terms"] and len(llama.calls) == 2
    assert parts[-1].from_fallback
    assert "grounding" in parts[-1].rejection_reason and "sampled again: guard" in parts[-1].rejection_reason


def test_a_refused_persona_sentence_is_not_sampled_again() -> None:
    d = directive()
    llama = FakeLlama("I'm sorry your wife is in hospital. We could do 90 days if you like.")
    parts = run(llama, d)
    assert [p.source for p in parts] == ["opener", "model", "terms"] and len(llama.calls) == 1


ANGER_BEFORE = [
    ("debtor", "I can't pay this month."),
    ("agent", "Listen. I hear you can't pay. I need a real commitment on this call. We offer 14 days."),
]


def test_the_model_part_is_one_call_at_the_turn_temperature() -> None:
    d = directive(emotion="anger")
    llama = FakeLlama("I hear your wife is in hospital. I need a real commitment on this call.")
    parts = run(llama, d)
    assert [p.text for p in parts if p.source == "model"] == [
        "I hear your wife is in hospital.",
        "I need a real commitment on this call.",
    ]
    assert [kwargs["temperature"] for _, kwargs in llama.calls] == [d.temperature]


def test_a_persona_sentence_said_before_is_sampled_again_after_the_same_acknowledgment() -> None:
    d = directive(emotion="anger")
    llama = ScriptedLlama(
        "I hear your wife is in hospital. I need a real commitment on this call.",
        "This has gone on long enough, and it needs settling now.",
    )
    parts = run(llama, d, history=ANGER_BEFORE)
    assert [p.text for p in parts if p.source == "model"] == [
        "I hear your wife is in hospital.",
        "This has gone on long enough, and it needs settling now.",
    ]
    (first_prompt, first), (second_prompt, second) = llama.calls
    assert first["temperature"] == d.temperature
    assert second["temperature"] == CONFIG.repeat_retry_temperature != d.temperature
    assert second_prompt == first_prompt + " I hear your wife is in hospital."


def test_a_persona_sentence_said_before_is_not_said_again_when_the_new_sample_repeats_it() -> None:
    d = directive(emotion="anger")
    llama = FakeLlama("I hear your wife is in hospital. I need a real commitment on this call.")
    parts = run(llama, d, history=ANGER_BEFORE)
    assert [p.text for p in parts if p.source == "model"] == ["I hear your wife is in hospital."]
    assert len(llama.calls) == 2
    assert parts[-1].source == "terms" and not parts[-1].from_fallback


def test_what_the_person_said_of_the_agent_is_not_said_back_to_them() -> None:
    d = directive(emotion="sadness", text="You're nothing but a vulture.")
    parts = run(FakeLlama("I take it to heart that you're nothing but a vulture. I hear you."), d)
    assert [p.source for p in parts] == ["opener", "terms"]
    assert "says back" in parts[-1].rejection_reason


def test_turned_back() -> None:
    vulture = ["You're nothing but a vulture."]
    assert turned_back("I hear you, and I take it to heart that you're nothing but a vulture.", vulture)
    assert turned_back("I hear how angry you are.", vulture) is None
    people = ["Honestly, you people ruin lives."]
    assert turned_back("I understand you people ruin lives.", people) == "you people ruin"
    assert turned_back("I know you're doing your job.", ["I know you're doing your job, but no."])
    assert turned_back("I'm glad you told me you lose your job.", ["I hope you lose your job."])
    # "you" that is not the subject of what they said, and their own words about themselves
    assert turned_back("Thank you so much for that.", ["Thank you so much, I can pay."]) is None
    assert turned_back("I hear that you want more time.", ["I want more time."]) is None


def test_a_name_the_person_called_the_agent_is_given_to_no_one() -> None:
    called = ["You bloodsucking vulture."]
    assert turned_back("I understand that you're a vulture.", called) == "you're a vulture"
    assert turned_back("I'm the vulture on the account.", called)
    assert turned_back("I'm not a crook.", ["Listen, you crook, I won't pay."])
    # the feeling behind it may be acknowledged, and names the person gave themselves may be said
    assert turned_back("I hear how angry you are.", called) is None
    assert turned_back("I know you're a pensioner.", ["I'm a pensioner, have some heart."]) is None
    assert turned_back("You're the one who called, thanks.", ["You can have the money later."]) is None


def test_a_model_failure_still_gives_opener_and_terms() -> None:
    d = directive()
    parts = run(FakeLlama("I hear you completely and", fail_at=2), d)
    assert [p.source for p in parts] == ["opener", "terms"]
    assert parts[-1].from_fallback and "error" in parts[-1].rejection_reason


def test_threat_from_the_model_is_replaced() -> None:
    d = directive(intent="hold", emotion="anger", text="Whatever.")
    parts = run(FakeLlama("Pay up or we call the police."), d)
    assert [p.source for p in parts] == ["opener", "terms"]
    assert "police" not in " ".join(p.text for p in parts)


def test_model_sentences_are_capped_and_terms_said_by_the_model_are_skipped() -> None:
    d = directive()
    parts = run(FakeLlama("We can offer you 21 days. I hear you. Thanks. Okay. Right."), d)
    model = [p.text for p in parts if p.source == "model"]
    assert model == ["I hear you.", "Thanks."]
    assert sum(states_terms(p.text, d) for p in parts) == 1


def test_clarify_ends_with_the_question() -> None:
    d = directive(intent="clarify", text="uh the the thing is um")
    parts = run(FakeLlama("I didn't quite catch all of that."), d)
    assert parts[-1].source == "terms" and parts[-1].text.endswith("?")


def test_reply_record_and_earlier_debtor_words_count_as_heard() -> None:
    d = directive(text="That's too fast for me.")
    history = [("Debtor", "My son is ill."), ("Agent", "I'm sorry."), ("Debtor", "That's too fast for me.")]
    reply = phrase_reply_text(d, SCENARIO, history, FakeLlama("I hope your son gets better soon."), CONFIG)
    assert "I hope your son gets better soon." in reply.text and not reply.from_fallback


def test_a_call_that_ends_without_agreement_does_not_open_with_a_celebration() -> None:
    for emotion in PERSONA_OPENERS:
        ending = {persona_opener(emotion, "close", variant) for variant in range(6)}
        assert ending == set(PERSONA_OPENERS[emotion]["no_deal"])
    for celebrating in ("Wonderful.", "Great.", "Lovely.", "Oh, good."):
        assert not any(celebrating in PERSONA_OPENERS[e]["no_deal"] for e in PERSONA_OPENERS)
    assert persona_opener("joy", "accept", 0) in ("Wonderful.", "Great.", "Lovely.")


@pytest.mark.parametrize("emotion", sorted(PERSONA_OPENERS))
def test_every_opener_passes_the_guard(emotion: str) -> None:
    for intent in (
        "greet",
        "propose",
        "counter",
        "hold",
        "accept",
        "close",
        "clarify",
        "confirm",
        "refuse_terms_change",
    ):
        for variant in range(6):
            opener = persona_opener(emotion, intent, variant)
            assert check_reply(opener, directive(intent=intent, emotion=emotion)).ok, opener


def test_grounding() -> None:
    heard = [HOSPITAL]
    assert invented_facts("I'm sorry your wife is in hospital.", heard) == []
    assert invented_facts("I'm sorry you lost your job and your car.", heard) == ["job", "car"]
    assert invented_facts("I hope the shops open again soon.", heard) == []  # stems: shop/shops
    # One word family: a policeman is the police, a pensioner has a pension; a child is not a kid.
    assert invented_facts("I hear your brother works for the police.", ["My brother is a policeman."]) == []
    assert invented_facts("I hear you live on your pension.", ["I'm a pensioner."]) == []
    assert invented_facts("I hear your child is ill.", ["My kid is ill."]) == ["child"]
    assert invented_facts("I hear the bank wrote to you.", ["The banker wrote."]) == ["bank"]  # 4 letters
    # Parents and grandparents are relatives too (the model once said "you used to live with your
    # grandparents" to "I know people, you know.").
    said = "Oh, I didn't know that you used to live with your grandparents!"
    assert invented_facts(said, ["I know people, you know."]) == ["grandparents"]
    assert invented_facts("I hear your parents help you.", ["My parents help me out."]) == []
    assert grounded_share("I'm sorry your wife is in hospital.", heard) == 1.0
    assert grounded_share("A full refund is coming next year.", heard) < 0.5


class TokenizingLlama(FakeLlama):
    """A fake whose tokenizer splits numbers into single digits after a space token, as Gemma's."""

    VOCAB = {" ": 5, **{str(d): 100 + d for d in range(10)}}

    def tokenize(self, text: bytes, add_bos: bool = True) -> list[int]:
        decoded = text.decode("utf-8")
        return [self.VOCAB.get(ch, 1) for ch in decoded]


def test_model_is_kept_from_sampling_digits_in_a_persona_reply() -> None:
    llama = TokenizingLlama("I hear you. Let's work it out.")
    parts = run(llama, directive())
    assert [p.source for p in parts] == ["opener", "model", "model", "terms"]
    # this tokenizer writes every fact word in several tokens, so the bans go through a processor
    process = llama.calls[0][1]["logits_processor"][0]
    scores = process(np.asarray([7]), np.zeros(200, dtype=np.single))
    assert np.isneginf(scores[100:110]).all() and np.isfinite(np.delete(scores, range(100, 110))).all()


def test_no_digit_ban_without_a_tokenizer() -> None:
    from eq_negotiator_ros.llm.phrasing import banned_token_ids

    assert banned_token_ids(FakeLlama("x")) == []
    llama = FakeLlama("I hear you.")
    run(llama, directive())
    assert "logit_bias" not in llama.calls[0][1]
