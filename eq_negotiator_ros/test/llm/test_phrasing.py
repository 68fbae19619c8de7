"""llm/phrasing.py: only guard-checked sentences are yielded, the template steps in on any failure,
and the terms are said exactly once."""

from __future__ import annotations

import pytest

from eq_negotiator_ros.config import LlmConfig
from eq_negotiator_ros.eq.records import Directive, Offer, Scenario
from eq_negotiator_ros.llm.guard import check_reply
from eq_negotiator_ros.llm.phrasing import (
    ReplySentence,
    clean_sentence,
    phrase_reply,
    phrase_reply_text,
    resolve_style,
    states_terms,
)

OPENER = "I hear how difficult things are right now."


def opener(d: Directive) -> str:
    return OPENER


@pytest.fixture(autouse=True)
def fixed_prompts(request, monkeypatch):
    """Pure-logic tests use a fixed forced prefix, so that TERMS' wording can change freely;
    the real-model tests use the real prompts."""
    if "gemma" in request.fixturenames:
        return
    from eq_negotiator_ros.llm import prompts

    def prefix(d: Directive) -> str:
        if d.intent == "clarify":
            return f"{OPENER} Sorry, I didn't catch that. Could you"
        return f"{OPENER} We can offer you {d.offer.days} days"

    def build(d, scenario, history, style="completion"):
        return f"Transcript.\nDebtor: {d.debtor_text}\nAgent (calm): {prefix(d)}"

    monkeypatch.setattr(prompts, "reply_prefix", prefix)
    monkeypatch.setattr(prompts, "build_prompt", build)


SCENARIO = Scenario(
    scenario_id="t1", creditor_target_days=30, debtor_target_days=90, outstanding_balance=1500.0
)
# The forced-prefix ("completion") shape; the persona shape has its own tests in test_persona_reply.py.
CONFIG = LlmConfig(timeout_s=5.0, max_reply_tokens=60)


def directive(
    intent: str = "propose",
    days: int = 45,
    upfront: float = 0.0,
    emotion: str = "sadness",
    turn: int = 1,
    debtor_text: str = "I lost my job, I need more time.",
) -> Directive:
    return Directive(
        session_id="s",
        turn=turn,
        creditor_emotion=emotion,
        policy_branch="wsls_stay",
        intent=intent,
        offer=Offer(days=days, upfront_amount=upfront),
        accepts_debtor_offer=False,
        persona="",
        temperature=0.5,
        debtor_text=debtor_text,
    )


class FakeLlama:
    """Completion or chat streams of canned text; optionally fails or has a chat template."""

    def __init__(self, text: str = "", chat: bool = False, fail_after: int | None = None) -> None:
        self.text = text
        self.metadata = {"tokenizer.chat_template": "{{ messages }}"} if chat else {}
        self.fail_after = fail_after
        self.prompts: list = []
        self.kwargs: list[dict] = []

    def _tokens(self):
        words = self.text.split(" ")
        for i, word in enumerate(words):
            if self.fail_after is not None and i >= self.fail_after:
                raise RuntimeError("llama_decode returned -3")
            yield ("" if i == 0 else " ") + word, "stop" if i == len(words) - 1 else None

    def __call__(self, prompt, **kwargs):
        self.prompts.append(prompt)
        self.kwargs.append(kwargs)
        return ({"choices": [{"text": t, "finish_reason": f}]} for t, f in self._tokens())

    def create_chat_completion(self, messages, **kwargs):
        self.prompts.append(messages)
        self.kwargs.append(kwargs)
        return ({"choices": [{"delta": {"content": t}, "finish_reason": f}]} for t, f in self._tokens())


def run(llama, d: Directive | None = None, config: LlmConfig = CONFIG, **kwargs) -> list[ReplySentence]:
    d = d or directive()
    if not getattr(llama, "metadata", None) and config.prompt_style == "auto":
        kwargs.setdefault("style", "completion")  # base-model fakes: the forced-prefix shape
    parts = list(phrase_reply(d, SCENARIO, [("debtor", d.debtor_text)], llama, config, **kwargs))
    for part in parts:  # the promise: nothing unchecked is ever yielded
        if part.text:
            assert check_reply(part.text, d).ok, part
    assert [p.index for p in parts] == list(range(len(parts)))
    assert [p.final for p in parts] == [False] * (len(parts) - 1) + [True]
    return parts


def spoken(parts: list[ReplySentence]) -> list[str]:
    return [p.text for p in parts if p.text]


def terms_count(parts: list[ReplySentence], d: Directive) -> int:
    return sum(states_terms(p.text, d) for p in parts if p.text)


def test_good_completion_is_spoken_with_the_forced_prefix() -> None:
    llama = FakeLlama(" to repay the balance. Thank you for talking with me.")
    d = directive()
    parts = run(llama, d)
    texts = spoken(parts)
    assert texts[0] == opener(d)  # the forced opener
    assert texts[1] == "We can offer you 45 days to repay the balance."
    assert not any(p.from_fallback for p in parts)
    assert terms_count(parts, d) == 1
    assert llama.kwargs[0]["temperature"] == d.temperature
    assert llama.kwargs[0]["max_tokens"] == CONFIG.max_reply_tokens
    assert llama.prompts[0].endswith("We can offer you 45 days")


def test_rejected_sentence_after_good_ones_adds_only_the_terms_sentence() -> None:
    d = directive()
    # The sentence that would carry the terms threatens: replaced by the template's terms sentence.
    parts = run(FakeLlama(" or we will call the police."), d)
    texts = spoken(parts)
    assert texts[0] == opener(d)
    assert parts[-1].from_fallback and "guard" in parts[-1].rejection_reason
    assert "45 days" in texts[-1]
    assert terms_count(parts, d) == 1
    assert not any("police" in t for t in texts)


def test_rejection_before_anything_was_said_gives_the_whole_fallback() -> None:
    d = directive()
    parts = run(FakeLlama("You idiot, pay 10 days now.", chat=True), d)
    assert all(p.from_fallback for p in parts)
    assert len(spoken(parts)) == 2
    assert terms_count(parts, d) == 1
    assert parts[0].rejection_reason.startswith("guard")


def test_wrong_number_is_rejected() -> None:
    d = directive(days=45)
    parts = run(FakeLlama("We can give you 90 days.", chat=True), d)
    assert all(p.from_fallback for p in parts)
    assert "90" not in " ".join(spoken(parts))


def test_exception_mid_stream_falls_back() -> None:
    d = directive()
    parts = run(FakeLlama(" to repay. Thank you so much for your patience today.", fail_after=2), d)
    assert parts[-1].from_fallback and parts[-1].rejection_reason.startswith("error: RuntimeError")
    assert terms_count(parts, d) == 1


def test_exception_at_once_gives_the_whole_fallback() -> None:
    class Broken:
        metadata: dict = {}

        def __call__(self, *_a, **_k):
            raise ValueError("model freed")

    d = directive()
    parts = run(Broken(), d)
    # The opener the prefix completes was already out before the model was called; the template
    # adds the terms.
    assert spoken(parts)[0] == OPENER and not parts[0].from_fallback
    assert parts[-1].from_fallback and "model freed" in parts[-1].rejection_reason
    assert terms_count(parts, d) == 1
    parts = run(Broken(), directive(), style="chat")  # no prefix in chat: the whole template
    assert all(p.from_fallback for p in parts) and len(spoken(parts)) == 2


def test_timeout_falls_back() -> None:
    class SlowClock:
        def __init__(self) -> None:
            self.now = 0.0

        def __call__(self) -> float:
            self.now += 1.0
            return self.now

    d = directive()
    parts = run(
        FakeLlama("We can offer you 45 days to repay the whole balance over time.", chat=True),
        d,
        config=LlmConfig(timeout_s=3.0),
        clock=SlowClock(),
    )
    assert all(p.from_fallback for p in parts)
    assert parts[0].rejection_reason.startswith("timeout")
    assert terms_count(parts, d) == 1


def test_empty_model_output_gives_the_whole_fallback() -> None:
    d = directive()
    parts = run(FakeLlama("", chat=True), d)
    assert all(p.from_fallback for p in parts)
    assert parts[0].rejection_reason == "empty reply from the model"


def test_model_ending_without_the_terms_gets_the_terms_sentence() -> None:
    d = directive()
    parts = run(FakeLlama("I hear you. Thank you for telling me.", chat=True), d)
    texts = spoken(parts)
    assert texts[:2] == ["I hear you.", "Thank you for telling me."]
    assert parts[-1].from_fallback and "45 days" in texts[-1]
    assert terms_count(parts, d) == 1


def test_terms_said_again_are_skipped() -> None:
    d = directive()
    parts = run(FakeLlama(". Yes, 45 days is our offer. Thank you.", chat=False), d)
    texts = spoken(parts)
    assert terms_count(parts, d) == 1
    assert "Yes, 45 days is our offer." not in texts


def test_at_most_max_sentences_and_the_last_place_is_kept_for_the_terms() -> None:
    d = directive()
    config = LlmConfig(timeout_s=5.0)
    llama = FakeLlama("I hear you. I see. Right. Okay then. We can do 45 days.", chat=True)
    parts = run(llama, d, config=config)
    texts = spoken(parts)
    assert len(texts) == 3
    assert terms_count(parts, d) == 1 and states_terms(texts[-1], d)
    assert parts[-1].final and parts[-1].text


def test_clarify_needs_no_terms() -> None:
    d = directive(intent="clarify")
    parts = run(FakeLlama(" repeat that, please?"), d)
    texts = spoken(parts)
    assert texts == [opener(d), "Sorry, I didn't catch that.", "Could you repeat that, please?"]
    assert not any(p.from_fallback for p in parts)
    assert parts[-1].final


def test_the_forced_prefix_does_not_use_up_the_model_sentences() -> None:
    # The prefix completes two sentences by itself (opener, terms); the model's own continuation
    # still gets its places instead of being cut (it used to be, with three-sentence prefixes).
    d = directive()
    parts = run(FakeLlama(" to repay the balance. I know it is a lot. We will work through it together."), d)
    texts = spoken(parts)
    assert "I know it is a lot." in texts and "We will work through it together." in texts
    assert parts[0].source == "prefix"
    assert [p.source for p in parts if p.text][-2:] == ["model", "model"]


def test_end_marker_when_the_model_stops_before_the_limit() -> None:
    d = directive()
    parts = run(FakeLlama(" to repay the balance."), d)
    assert len(spoken(parts)) == 2
    assert parts[-1] == ReplySentence(index=2, text="", final=True, from_fallback=False)


def test_upfront_amount_is_part_of_the_terms() -> None:
    d = directive(days=60, upfront=200.0)
    assert states_terms("We can offer 60 days, with 200 dollars paid up front.", d)
    assert not states_terms("We can offer 60 days.", d)
    assert states_terms("Sixty days with $200 now.", d)
    parts = run(FakeLlama("We can offer sixty days.", chat=True), d)
    assert terms_count(parts, d) == 1 and parts[-1].from_fallback


def test_states_terms_reads_words_and_units() -> None:
    d = directive(days=60)
    assert states_terms("How about two months?", d)
    assert states_terms("We can do sixty days.", d)
    assert not states_terms("We can do thirty days.", d)
    assert not states_terms("", d)


@pytest.mark.parametrize("text", ["", "🙂" * 50, "x" * 10000, "Je ne peux pas payer.", "\x00\x01"])
def test_bad_debtor_text_still_gives_a_reply(text: str) -> None:
    d = directive(debtor_text=text)
    parts = run(FakeLlama(" to repay the balance."), d)
    assert terms_count(parts, d) == 1


def test_style_resolution() -> None:
    assert resolve_style("auto", LlmConfig(prompt_style="auto"), FakeLlama()) == "persona"
    assert resolve_style("auto", LlmConfig(prompt_style="persona"), FakeLlama(chat=True)) == "persona"
    assert resolve_style("auto", LlmConfig(prompt_style="auto"), FakeLlama(chat=True)) == "chat"
    assert resolve_style("auto", LlmConfig(prompt_style="completion"), FakeLlama(chat=True)) == "completion"
    assert resolve_style("chat", LlmConfig(prompt_style="completion"), FakeLlama()) == "chat"


def test_clean_sentence() -> None:
    assert clean_sentence('"We can offer 45 days."') == "We can offer 45 days."
    assert clean_sentence("**Sure**, 45 days.") == "Sure, 45 days."
    assert clean_sentence("- Thanks.") == "Thanks."
    assert clean_sentence(None) == ""  # type: ignore[arg-type]
    # Markup is not read aloud; a comparison is not markup.
    assert clean_sentence("You're thinking of <em>more</em> time.<br/>") == "You're thinking of more time."
    assert clean_sentence("If 3 < 5 and 7 > 2.") == "If 3 < 5 and 7 > 2."


def test_phrase_reply_text_collects_a_reply_record() -> None:
    d = directive()
    reply = phrase_reply_text(
        d, SCENARIO, [], FakeLlama(" to repay the balance."), CONFIG, style="completion"
    )
    assert reply.text == f"{opener(d)} We can offer you 45 days to repay the balance."
    assert not reply.from_fallback


# -- the real model --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def gemma():
    from eq_negotiator_ros.llm.model import load_llama

    return load_llama(LlmConfig())


@pytest.mark.parametrize(
    "d",
    [
        directive("propose", 45, emotion="sadness", turn=1),
        directive(
            "hold", 30, upfront=250.0, emotion="neutral", turn=5, debtor_text="Can we talk about it later?"
        ),
    ],
    ids=["propose", "hold-upfront"],
)
@pytest.mark.models
def test_real_gemma_reply_passes_the_guard_and_states_the_offer(gemma, d: Directive) -> None:
    parts = run(gemma, d, config=LlmConfig())
    text = " ".join(spoken(parts))
    assert str(d.offer.days) in text
    assert terms_count(parts, d) == 1


def test_invalid_directive_still_yields_only_checked_sentences() -> None:
    # Negative days never come out of the session, but if they did, no unchecked text is spoken.
    d = directive(days=-5)
    parts = list(phrase_reply(d, SCENARIO, [], FakeLlama("We can do -5 days.", chat=True), CONFIG))
    assert parts[-1].final
    assert all(check_reply(p.text, d).ok for p in parts if p.text)
    assert "-5" not in " ".join(p.text for p in parts)
