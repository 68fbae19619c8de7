"""eq/tactics.py: tactic cues in debtor words."""

from eq_negotiator_ros.eq.tactics import TACTIC_NAMES, TacticCues, detect_tactics


def test_each_tactic_is_heard():
    assert detect_tactics("Keep calling and my lawyer will take you to court.").threat == 1.0
    assert detect_tactics("I was laid off in March and the medical bills keep coming.").hardship == 1.0
    assert detect_tactics("I swear the money is coming, I'll definitely pay next month.").promise == 1.0
    assert detect_tactics("How can you do this to me? You people are heartless.").guilt == 1.0
    assert detect_tactics("Maybe.").minimal == 1.0


def test_ordinary_negotiation_carries_no_cue():
    cues = detect_tactics("I think 90 days would work better for my business, given the season we are in.")
    assert cues == TacticCues()


def test_a_long_answer_is_not_minimal_and_non_text_is_no_cue():
    assert detect_tactics("I would like to propose ninety days for the whole amount.").minimal == 0.0
    assert detect_tactics(None) == TacticCues()
    assert detect_tactics("   ") == TacticCues()
    assert len(detect_tactics("x").as_tuple()) == len(TACTIC_NAMES)
