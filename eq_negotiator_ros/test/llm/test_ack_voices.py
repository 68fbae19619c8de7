"""The persona's acknowledgment (data/reply_corpus/ack_voices.py): the same content in each
persona's voice, sympathy and thanks kept to the personas whose register they are."""

import random

from eq_negotiator_ros.data.reply_corpus.ack_voices import (
    HARD_NEWS_FRAMES,
    PERSONA_ACK_FRAMES,
    clause_of,
    register_of,
    voice_acknowledgment,
)
from eq_negotiator_ros.eq.emotions import EMOTIONS

HOURS_CUT = [
    "I hear your hours at the {workplace} were cut.",
    "I'm sorry the {workplace} cut back your hours.",
    "Fewer shifts at the {workplace} means less coming in, I understand.",
]
BEREAVEMENT = ["I'm so sorry for the loss of your {relative}.", "I'm very sorry about your {relative}."]


def voiced(acks: list[str], emotion: str, tactic: str, draws: int = 200) -> list[str]:
    rng = random.Random(7)
    return [voice_acknowledgment(rng.choice(acks), acks, emotion, tactic, rng) for _ in range(draws)]


def test_the_clause_is_the_persons_words_and_fragments_are_not_clauses() -> None:
    assert (
        clause_of("I hear your hours at the {workplace} were cut.")
        == "your hours at the {workplace} were cut"
    )
    assert clause_of("I understand that you're not sure.") == "you're not sure"
    assert clause_of("You say a cheque is on its way.") == "a cheque is on its way"
    assert clause_of("Okay, I hear a no.") is None
    assert clause_of("I hear a no.") is None  # a fragment
    assert clause_of("I hear you, and I'd still rather we sort this out between us.") is None


def test_registers() -> None:
    assert register_of("I'm sorry your {relative} is in hospital.") == "empathetic"
    assert register_of("Thanks for putting that forward.") == "grateful"
    assert register_of("I hear your benefits have been delayed.") == "plain"


def test_every_persona_says_the_same_content_in_its_own_frames() -> None:
    clauses = ("your hours at the {workplace} were cut", "the {workplace} cut back your hours")
    for emotion in EMOTIONS:
        frames = set(PERSONA_ACK_FRAMES[emotion]) | set(HARD_NEWS_FRAMES.get(emotion, ()))
        replies = voiced(HOURS_CUT, emotion, "ordinary")
        framed = [r for r in replies if r not in HOURS_CUT]
        assert framed, emotion
        # the clause and one of the persona's frames, nothing else: no new fact
        assert {r.replace(clauses[0], "{clause}").replace(clauses[1], "{clause}") for r in framed} <= frames
        assert not frames & set().union(*(PERSONA_ACK_FRAMES[o] for o in EMOTIONS if o != emotion))


def test_sympathy_and_thanks_belong_to_the_sad_and_the_warm_persona_where_there_is_another_way() -> None:
    for emotion in ("anger", "neutral", "surprise", "disgust", "fear"):
        assert not [r for r in voiced(HOURS_CUT, emotion, "hardship") if register_of(r) == "empathetic"], (
            emotion
        )
    sad = voiced(HOURS_CUT, "sadness", "hardship")
    assert any("sorry" in r for r in sad)
    thanks = ["Thanks for suggesting something.", "I hear what you're proposing."]
    assert set(voiced(thanks, "anger", "ordinary")) == {"I hear what you're proposing."}
    assert "Thanks for suggesting something." in voiced(thanks, "joy", "ordinary")


def test_a_fact_with_nothing_but_sympathy_is_met_with_sympathy_by_every_persona() -> None:
    for emotion in EMOTIONS:
        assert set(voiced(BEREAVEMENT, emotion, "hardship")) <= set(BEREAVEMENT)


def test_no_surprise_at_feelings_no_disappointment_at_hard_news_and_sorrow_only_for_it() -> None:
    feelings = ["I hear that you're angry and thinking about a lawyer."]
    assert set(voiced(feelings, "surprise", "threat")) == set(feelings)
    assert set(voiced(HOURS_CUT[:1], "disgust", "hardship")) == set(HOURS_CUT[:1])  # no disappointment
    plans = ["I hear you're planning to pay on {weekday}."]
    assert not [r for r in voiced(plans, "sadness", "false_promise") if "sorry" in r]
    assert [
        r for r in voiced(["I hear your benefits have been delayed."], "sadness", "hardship") if "sorry" in r
    ]
