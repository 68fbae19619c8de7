"""Core records <-> messages (nodes/conversions.py): every record survives the round trip, the
directive carries the creditor's name and the conversation, and a malformed message is refused
with the field named."""

import pytest

pytest.importorskip("rclpy")
from eq_negotiator_interfaces.msg import EmotionState, Utterance  # noqa: E402
from eq_negotiator_ros.eq.emotions import EMOTIONS, HIDDEN_STATES  # noqa: E402
from eq_negotiator_ros.eq.records import Directive, EmotionReading, Offer, Scenario  # noqa: E402
from eq_negotiator_ros.eq.session import SessionSnapshot  # noqa: E402
from eq_negotiator_ros.llm.phrasing import ReplySentence  # noqa: E402
from eq_negotiator_ros.nodes import conversions  # noqa: E402

DIRECTIVE = Directive(
    session_id="s1",
    turn=3,
    creditor_emotion="sadness",
    policy_branch="hmm",
    intent="counter",
    offer=Offer(days=45, upfront_amount=200.0),
    accepts_debtor_offer=False,
    persona="empathetic",
    temperature=0.6,
    debtor_text="I lost my job",
    currency="EUR",
    creditor_name="Northwind Bank",
)
HISTORY = [("agent", "We can offer thirty days."), ("debtor", "I lost my job")]


def test_a_directive_and_its_history_survive_the_round_trip():
    message = conversions.directive_to_message(DIRECTIVE, HISTORY)
    assert message.creditor_name == "Northwind Bank" and list(message.history_speakers) == ["agent", "debtor"]
    directive, history = conversions.directive_from_message(message)
    assert directive == DIRECTIVE
    assert history == HISTORY


def test_a_directive_without_history_is_its_terms_alone():
    directive, history = conversions.directive_from_message(conversions.directive_to_message(DIRECTIVE))
    assert directive == DIRECTIVE and history == []


@pytest.mark.parametrize(
    "speakers, texts, named",
    [
        (["agent"], ["a", "b"], "history_texts"),
        (["agent", "narrator"], ["a", "b"], "narrator"),
    ],
)
def test_a_history_that_does_not_pair_up_is_refused_naming_the_field(speakers, texts, named):
    message = conversions.directive_to_message(DIRECTIVE)
    message.history_speakers, message.history_texts = speakers, texts
    with pytest.raises(conversions.MessageError, match=named):
        conversions.directive_from_message(message)


def test_an_emotion_reading_and_belief_survive_the_round_trip():
    reading = EmotionReading(probs=(0.05, 0.6, 0.1, 0.1, 0.05, 0.05, 0.05), source="trained")
    belief = (0.2, 0.1, 0.6, 0.1)
    message = conversions.emotion_to_message(reading, belief, "s1", 4)
    assert (message.session_id, message.turn, message.dominant_emotion) == ("s1", 4, "sadness")
    assert message.most_likely_hidden_state == "distressed"
    back, back_belief = conversions.emotion_from_message(message)
    assert back.source == "trained"
    assert back.probs == pytest.approx(reading.probs) and back_belief == pytest.approx(belief)


def test_an_emotion_message_in_another_label_order_is_read_by_name():
    message = EmotionState(
        emotion_labels=list(reversed(EMOTIONS)),
        emotion_probs=[0.7] + [0.05] * 6,
        hidden_state_labels=list(HIDDEN_STATES),
        hidden_state_belief=[0.25] * 4,
    )
    reading, _ = conversions.emotion_from_message(message)
    assert reading.dominant == EMOTIONS[-1]
    message.emotion_labels = message.emotion_labels[:-1]
    with pytest.raises(conversions.MessageError, match="emotion_labels"):
        conversions.emotion_from_message(message)


def test_prosody_comes_from_the_utterance_only_when_it_was_measured():
    assert conversions.prosody_from_utterance(Utterance(text="typed")) is None
    spoken = Utterance(
        text="hi",
        energy_dbfs=-20.0,
        pitch_hz=180.0,
        pitch_variability_semitones=2.0,
        speaking_rate_wps=3.0,
        start_time=conversions.to_time(10.0),
        end_time=conversions.to_time(12.5),
    )
    prosody = conversions.prosody_from_utterance(spoken)
    assert prosody.pitch_hz == 180.0 and prosody.duration_s == pytest.approx(2.5)


def test_the_negotiation_state_names_the_session_and_its_offers():
    assert conversions.state_to_message(None, None).phase == "idle"
    snapshot = SessionSnapshot(
        session_id="s1",
        scenario_id="crad_001",
        phase="agreed",
        turn=5,
        utterances=11,
        creditor_offer=Offer(40, 100.0),
        debtor_offer=Offer(45),
        agreed_offer=Offer(42, 100.0),
        outcome="success",
    )
    scenario = Scenario(
        scenario_id="crad_001",
        creditor_target_days=30,
        debtor_target_days=90,
        outstanding_balance=5000.0,
        currency="USD",
    )
    message = conversions.state_to_message(snapshot, scenario)
    assert (message.session_id, message.phase, message.agreed_days, message.debtor_offer_days) == (
        "s1",
        "agreed",
        42,
        45,
    )
    assert message.creditor_target_days == 30 and message.outstanding_balance == 5000.0


def test_a_reply_sentence_carries_its_directive_s_session_turn_and_emotion():
    chunk = conversions.reply_to_message(
        ReplySentence(
            index=1, text="Thirty days.", final=True, from_fallback=True, rejection_reason="numbers"
        ),
        DIRECTIVE,
    )
    assert (chunk.session_id, chunk.turn, chunk.index, chunk.emotion) == ("s1", 3, 1, "sadness")
    assert chunk.final and chunk.from_fallback and chunk.rejection_reason == "numbers"
