"""sim/phrasebank.py: varied words that carry exactly the decided terms."""

import random

import pytest

from eq_negotiator_ros.eq.emotions import EMOTIONS
from eq_negotiator_ros.eq.extraction import extract_terms
from eq_negotiator_ros.sim.phrasebank import (
    DEBTOR_INTENTS,
    UtteranceSpec,
    all_lines,
    compose_utterance,
)
from eq_negotiator_ros.sim.scenarios import load_scenarios

SCENARIO = load_scenarios()[0]


def test_same_rng_state_same_words():
    spec = UtteranceSpec(emotion="anger", intent="counter", days=90, tactics=("threat",))
    assert compose_utterance(spec, SCENARIO, random.Random(5)) == compose_utterance(
        spec, SCENARIO, random.Random(5)
    )


def test_many_variants():
    spec = UtteranceSpec(emotion="sadness", intent="counter", days=60, tactics=("guilt",))
    texts = {compose_utterance(spec, SCENARIO, random.Random(seed)) for seed in range(200)}
    assert len(texts) > 50


@pytest.mark.parametrize("emotion", EMOTIONS)
def test_extraction_reads_exactly_the_decided_terms(emotion):
    # The creditor's own term extraction must read the offer and the acceptance the simulator
    # decided, and never read a stall as a yes.
    rng = random.Random(emotion)
    for _ in range(150):
        intent = rng.choice(DEBTOR_INTENTS)
        days = None if intent == "stall" else rng.randint(10, 240)
        tactics = tuple(t for t in ("threat", "hardship", "false_promise", "guilt") if rng.random() < 0.4)
        spec = UtteranceSpec(
            emotion=emotion,
            intent=intent,
            days=days,
            tactics=tactics if intent != "accept" else (),
            minimal=rng.random() < 0.2,
        )
        text = compose_utterance(spec, SCENARIO, rng)
        terms = extract_terms(text)
        assert terms.offer_days == days, text
        assert (terms.acceptance == "accept") == (intent == "accept"), text


def test_no_vague_time_words_that_would_read_as_an_offer():
    for line in all_lines():
        for word in ("next week", "next month", "tomorrow", "soon", "fortnight"):
            assert word not in line.lower(), line


def test_bad_spec_is_refused_with_the_valid_values():
    with pytest.raises(ValueError, match="counter"):
        compose_utterance(UtteranceSpec(emotion="joy", intent="dance", days=3), SCENARIO, random.Random(0))
    with pytest.raises(ValueError, match="neutral"):
        compose_utterance(
            UtteranceSpec(emotion="bored", intent="stall", days=None), SCENARIO, random.Random(0)
        )
