"""sim/llm_debtor.py: the model writes the feeling, the numbers stay the simulator's."""

import random

import pytest

from eq_negotiator_ros.config import load_config
from eq_negotiator_ros.eq.extraction import extract_terms
from eq_negotiator_ros.eq.records import Offer
from eq_negotiator_ros.sim.debtor import DebtorSimulator, load_personas
from eq_negotiator_ros.sim.llm_debtor import LlmDebtorPhraser, debtor_prompt, usable_sentence
from eq_negotiator_ros.sim.phrasebank import UtteranceSpec, compose_utterance
from eq_negotiator_ros.sim.scenarios import load_scenarios

CONFIG = load_config()
PERSONAS = load_personas()
SCENARIO = load_scenarios()[0]


class ScriptedLlama:
    """Stands in for llama.cpp's streaming completion (pure logic of the phraser only)."""

    def __init__(self, text):
        self.text = text
        self.prompts = []

    def __call__(self, prompt, stream=True, **options):
        self.prompts.append(prompt)
        for word in self.text.split(" "):
            yield {"choices": [{"text": word + " ", "finish_reason": None}]}
        yield {"choices": [{"text": "", "finish_reason": "stop"}]}


@pytest.mark.parametrize(
    "text, kept",
    [
        ("I can't believe you would do this to me. And more", "I can't believe you would do this to me."),
        ("I\u2019m so tired of all this", "I'm so tired of all this."),
        ("I can pay in 30 days.", None),  # its own number
        ("Deal, I accept.", None),  # its own acceptance
        ("I am not a collector.", None),  # role confusion
        ("", None),
        ("\u4f60\u597d\u4f60\u597d\u4f60\u597d", None),
        ("x" * 500, None),
    ],
)
def test_usable_sentence(text, kept):
    assert usable_sentence(text) == kept


def test_a_refusal_may_precede_a_counter_offer_but_not_an_acceptance():
    assert usable_sentence("You never listen to me.", "counter") == "You never listen to me."
    assert usable_sentence("You never listen to me.", "accept") is None


def test_model_sentence_replaces_the_opener_and_keeps_the_numbers():
    spec = UtteranceSpec(emotion="anger", intent="counter", days=84, tactics=("threat",))
    llama = ScriptedLlama("You people never listen to anything I say.")
    phraser = LlmDebtorPhraser(llama, CONFIG.llm, PERSONAS["threatening"])
    phraser.creditor_text = "We need the balance in 12 days."
    text = phraser(spec, SCENARIO, random.Random(1))
    assert phraser.last_from_model
    assert text.startswith("You people never listen to anything I say.")
    assert extract_terms(text).offer_days == 84
    assert "We need the balance in 12 days." in llama.prompts[0]
    assert llama.prompts[0].endswith("Debtor (angry):")


def test_unusable_output_falls_back_to_the_phrasebank_with_the_same_words():
    spec = UtteranceSpec(emotion="sadness", intent="counter", days=70)
    phraser = LlmDebtorPhraser(ScriptedLlama("Okay 45 days then."), CONFIG.llm, PERSONAS["sad"])
    text = phraser(spec, SCENARIO, random.Random(3))
    assert not phraser.last_from_model
    assert text == compose_utterance(spec, SCENARIO, random.Random(3))


def test_model_error_falls_back():
    class Broken:
        def __call__(self, *args, **kwargs):
            raise RuntimeError("llama_decode failed")

    spec = UtteranceSpec(emotion="fear", intent="stall", days=None)
    phraser = LlmDebtorPhraser(Broken(), CONFIG.llm, PERSONAS["fear"])
    assert phraser(spec, SCENARIO, random.Random(0)) == compose_utterance(spec, SCENARIO, random.Random(0))


def test_minimal_answers_do_not_call_the_model():
    llama = ScriptedLlama("Something long and emotional.")
    phraser = LlmDebtorPhraser(llama, CONFIG.llm, PERSONAS["stonewalling"])
    phraser(
        UtteranceSpec(emotion="neutral", intent="stall", days=None, minimal=True), SCENARIO, random.Random(0)
    )
    assert llama.prompts == []


def test_simulator_passes_the_creditor_words_and_flags_model_turns():
    llama = ScriptedLlama("This whole thing makes me furious.")
    debtor = DebtorSimulator(
        PERSONAS["angry"], CONFIG.eq.model, LlmDebtorPhraser(llama, CONFIG.llm, PERSONAS["angry"])
    )
    debtor.reset(SCENARIO, 0)
    turns = [debtor.respond("anger", Offer(days=12), f"Creditor line {i}.") for i in range(6)]
    assert any(t.from_model for t in turns)
    assert all(f"Creditor line {i}." in p for i, p in enumerate(llama.prompts[:1]))


def test_prompt_is_transcript_style_for_a_base_model():
    spec = UtteranceSpec(emotion="disgust", intent="counter", days=60)
    prompt = debtor_prompt(spec, SCENARIO, PERSONAS["disgust"], "")
    assert "Collector:" in prompt and prompt.endswith("Debtor (disgusted):")
    assert SCENARIO.debtor_name in prompt


@pytest.fixture(scope="module")
def llama():
    pytest.importorskip("llama_cpp")
    from eq_negotiator_ros.llm.model import ModelNotFoundError, load_llama

    try:
        return load_llama(CONFIG.llm)
    except ModelNotFoundError as error:
        pytest.skip(str(error))


def test_real_model_debtor_turns_keep_the_decided_terms(llama):
    persona = PERSONAS["victim"]
    debtor = DebtorSimulator(persona, CONFIG.eq.model, LlmDebtorPhraser(llama, CONFIG.llm, persona))
    debtor.reset(SCENARIO, 5)
    for _ in range(3):
        turn = debtor.respond("anger", Offer(days=12), "We need this paid in 12 days.")
        assert turn.text
        terms = extract_terms(turn.text)
        assert terms.offer_days == turn.offer_days
