"""Written fallback replies: every template passes the guard, numbers come from the Directive."""

import itertools

import pytest

from eq_negotiator_ros.eq.emotions import EMOTIONS
from eq_negotiator_ros.eq.records import Directive, Offer, Reply, Scenario
from eq_negotiator_ros.llm.fallback import (
    CLOSING_OPENERS,
    INTENT_SENTENCES,
    NEGOTIATION_OPENERS,
    PERSONA_INTENT_SENTENCES,
    fallback_reply,
    fallback_sentences,
    intent_sentences,
)
from eq_negotiator_ros.llm.guard import check_reply

INTENTS = (
    "greet",
    "propose",
    "counter",
    "hold",
    "accept",
    "close",
    "clarify",
    "confirm",
    "refuse_terms_change",
)
SCENARIO = Scenario(
    scenario_id="s", creditor_target_days=20, debtor_target_days=150, outstanding_balance=5000.0
)


def directive(intent, emotion, days=45, upfront=0.0, accepts=False, turn=3):
    return Directive(
        session_id="s",
        turn=turn,
        creditor_emotion=emotion,
        policy_branch="x",
        intent=intent,
        offer=Offer(days=days, upfront_amount=upfront),
        accepts_debtor_offer=accepts,
        persona="p",
        temperature=0.5,
    )


def variants():
    most = max(
        len(v)
        for v in itertools.chain(
            NEGOTIATION_OPENERS.values(),
            CLOSING_OPENERS.values(),
            INTENT_SENTENCES.values(),
            *(persona.values() for persona in PERSONA_INTENT_SENTENCES.values()),
        )
    )
    return range(most * most)


@pytest.mark.parametrize("intent", INTENTS)
@pytest.mark.parametrize("emotion", EMOTIONS)
def test_every_template_passes_the_guard(intent, emotion):
    for accepts, (days, upfront), variant in itertools.product(
        (False, True), ((45, 0.0), (7, 250.0), (365, 1234.5)), variants()
    ):
        d = directive(intent, emotion, days, upfront, accepts, turn=variant)
        for sentence in fallback_sentences(d, variant):
            verdict = check_reply(sentence, d)
            assert verdict.ok, f"{intent}/{emotion}/{variant}: {sentence!r}: {verdict.reason}"


@pytest.mark.parametrize("intent", [i for i in INTENTS if i != "clarify"])
def test_numbers_come_from_the_directive(intent):
    reply = fallback_reply(directive(intent, "neutral", days=73, upfront=250.0), SCENARIO)
    assert isinstance(reply, Reply) and reply.from_fallback
    assert "73 days" in reply.text and "250 dollars" in reply.text


def test_deterministic_and_varied_by_turn():
    first = fallback_reply(directive("counter", "sadness", turn=4), SCENARIO)
    assert first == fallback_reply(directive("counter", "sadness", turn=4), SCENARIO)
    texts = {fallback_reply(directive("counter", "sadness", turn=t), SCENARIO).text for t in range(6)}
    assert len(texts) >= 3


def test_unknown_emotion_and_intent_still_give_a_checked_reply():
    d = directive("haggle", "bored")
    reply = fallback_reply(d, SCENARIO, rejection_reason="timeout")
    assert reply.rejection_reason == "timeout" and "45 days" in reply.text
    assert all(check_reply(s, d).ok for s in reply.sentences)


def test_clarify_states_no_number():
    reply = fallback_reply(directive("clarify", "neutral", days=45), SCENARIO)
    assert not any(ch.isdigit() for ch in reply.text)


def test_every_persona_says_every_intent_in_its_own_words():
    for emotion in EMOTIONS:
        for key in INTENT_SENTENCES:
            own = intent_sentences(emotion, key)
            assert own, (emotion, key)
            if emotion != "neutral":  # the factual persona's are INTENT_SENTENCES themselves
                assert not set(own) & set(INTENT_SENTENCES[key]), (emotion, key)
    every = [s for persona in PERSONA_INTENT_SENTENCES.values() for group in persona.values() for s in group]
    assert len(every) == len(set(every)), "a sentence is shared by two personas or intents"


@pytest.mark.parametrize("emotion", EMOTIONS)
@pytest.mark.parametrize("intent", [i for i in INTENTS if i != "clarify"])
def test_the_persona_sentence_states_exactly_the_decided_terms(emotion, intent):
    from eq_negotiator_ros.llm.phrasing import states_terms

    for turn in range(6):
        d = directive(intent, emotion, days=73, upfront=250.0, turn=turn)
        _, sentence = fallback_sentences(d, turn)
        assert states_terms(sentence, d), sentence
        assert sentence.count("73 days") == 1 and sentence.count("250 dollars") == 1, sentence


def test_the_persona_picks_the_intent_sentence():
    firm = fallback_sentences(directive("hold", "anger", turn=0), 0)[1]
    gentle = fallback_sentences(directive("hold", "sadness", turn=0), 0)[1]
    assert firm in [t.format(terms="45 days") for t in PERSONA_INTENT_SENTENCES["anger"]["hold"]]
    assert gentle in [t.format(terms="45 days") for t in PERSONA_INTENT_SENTENCES["sadness"]["hold"]]
    assert intent_sentences("bored", "hold") == INTENT_SENTENCES["hold"]  # unknown emotion: factual
