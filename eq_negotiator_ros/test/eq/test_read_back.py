"""Read-backs: a debtor number below the creditor's own offer is read back ("10 days, is that
right?") and binds only on a clear yes. These phrasings are the answers people give to such a
question, written for this test set apart from the extraction tests; each is run through a real
session (vanilla policy, real tracker) and the only thing judged is whether an agreement was
recorded, and on which number. A wrong agreement is the worst error the agent can make.
"""

import datetime

import pytest

from eq_negotiator_ros.config import load_config
from eq_negotiator_ros.eq.policy import make_policy
from eq_negotiator_ros.eq.records import EmotionReading, Offer, Scenario
from eq_negotiator_ros.eq.session import NegotiationSession
from eq_negotiator_ros.eq.tracker import HiddenStateTracker

TODAY = datetime.date(2026, 3, 2)
NEUTRAL = EmotionReading.neutral_low_confidence("test")
ASKED_DAYS = 10  # the number read back in every case below

# Answers that confirm the number read back: the agreement is on 10 days.
CONFIRMATIONS = [
    "Yes.",
    "Yeah, that's right.",
    "Yep, 10 days.",
    "Correct.",
    "That's correct.",
    "Exactly.",
    "Right, ten days.",
    "Uh-huh, that's it.",
    "Yes, that's what I said.",
    "10 days, yes.",
    "Sure, ten days works for me.",
    "You heard me right.",
    "Yes please, ten days.",
    "Okay, yes.",
    "Ten days.",
]

# Answers that deny it, with no other number: nothing is agreed, the agent asks again.
DENIALS = [
    "No.",
    "No, that's wrong.",
    "No, 10 days is wrong, you misheard me.",
    "That's not what I said.",
    "Nope.",
    "You got it wrong.",
    "That is incorrect.",
    "No no no.",
    "Not ten days, no.",
    "I never said that.",
    "Wrong number.",
    "No way, that's not right.",
    "Absolutely not.",
    "No, you misunderstood me.",
    "Ten days? No, that isn't right.",
]

# Corrections and changed numbers: never an agreement in this turn; a number that would bind is
# read back again, a number far above the creditor's offer is countered.
CHANGES = [
    ("No, I said 78 days.", 78),
    ("I meant 80 days, not 10.", 80),
    ("Actually, make it 90 days.", 90),
    ("No, seventy-eight days.", 78),
    ("Sorry, I meant 18 days.", 18),
    ("It's 8 weeks, not 10 days.", 56),
    ("No, 11 days.", 11),
    ("Yes, but make it 100 days.", 100),
    ("Yeah, well, 60 days actually.", 60),
    ("Not ten. Twenty days.", 20),
    ("No, one hundred and ten days.", 110),
    ("Two months, not ten days.", 60),
]

# Neither yes nor no: nothing is agreed.
UNCLEAR = [
    "Hmm, let me think about it.",
    "What?",
    "Can you say that again?",
    "asdf qwer zxcv",
    "",
    "I have three kids and my car broke down.",
    # words of a yes that are no answer: "right now", a question, a hedge
    "I don't have that kind of money right now.",
    "Right now I can't say.",
    "Is that right?",
    "Yeah, who is this?",
    "Okay, but I'd need to check with my wife first.",
    "Sure, maybe, I don't know.",
    "Yes, I'll think about it and call you back.",
]


@pytest.fixture(scope="module")
def config():
    return load_config()


def opened_session(config) -> NegotiationSession:
    scenario = Scenario(
        scenario_id="rb", creditor_target_days=30, debtor_target_days=150, outstanding_balance=4000.0
    )
    policy = make_policy("vanilla", config.eq, seed=1)
    session = NegotiationSession(
        scenario, config, policy, HiddenStateTracker.from_config(config.eq), "read-back", today=TODAY
    )
    session.open()
    return session


def session_at_read_back(config) -> NegotiationSession:
    """A negotiation in which the debtor has just been asked "10 days, is that right?"."""
    session = opened_session(config)
    session.step("I need 150 days.", NEUTRAL)
    record = session.step("How about 10 days?", NEUTRAL)
    assert record.directive.intent == "confirm" and record.directive.offer.days == ASKED_DAYS
    assert not session.finished
    return session


def standing_days(session: NegotiationSession) -> int:
    return session.snapshot().creditor_offer.days


def test_the_fixture_reads_back_below_a_standing_offer_far_from_the_corrections(config):
    session = session_at_read_back(config)
    # The corrections above assume the creditor's own offer lies between 20 and 55 days.
    assert 20 < standing_days(session) < 55


@pytest.mark.parametrize("answer", CONFIRMATIONS)
def test_a_confirmation_agrees_on_the_number_read_back(config, answer):
    session = session_at_read_back(config)
    record = session.step(answer, NEUTRAL)
    assert record.directive.intent == "accept" and record.directive.accepts_debtor_offer
    assert session.snapshot().agreed_offer == Offer(days=ASKED_DAYS)
    assert session.outcome == "success"


@pytest.mark.parametrize("answer", DENIALS)
def test_a_denial_agrees_on_nothing_and_asks_again(config, answer):
    session = session_at_read_back(config)
    standing = standing_days(session)
    record = session.step(answer, NEUTRAL)
    assert not session.finished and session.snapshot().agreed_offer is None
    assert record.directive.intent == "clarify"
    assert record.directive.offer.days == standing  # the creditor's own offer is what stands
    # and the denied number is not remembered as the debtor's offer
    assert session.snapshot().debtor_offer != Offer(days=ASKED_DAYS)


@pytest.mark.parametrize("answer,said_days", CHANGES)
def test_a_changed_number_agrees_on_nothing_this_turn(config, answer, said_days):
    session = session_at_read_back(config)
    standing = standing_days(session)
    record = session.step(answer, NEUTRAL)
    assert not session.finished and session.snapshot().agreed_offer is None
    gap = config.offer.agreement_gap_days
    if said_days <= standing + gap:
        # it would bind: read back again
        assert record.directive.intent == "confirm" and record.directive.offer.days == said_days
    else:
        assert record.directive.intent == "counter"
        assert standing <= record.directive.offer.days < said_days


@pytest.mark.parametrize("answer", UNCLEAR)
def test_an_unclear_answer_agrees_on_nothing(config, answer):
    session = session_at_read_back(config)
    record = session.step(answer, NEUTRAL)
    assert not session.finished and session.snapshot().agreed_offer is None
    assert record.directive.intent != "accept"


def test_a_corrected_number_binds_once_it_is_confirmed(config):
    session = session_at_read_back(config)
    session.step("No, I said 18 days.", NEUTRAL)
    assert session.snapshot().agreed_offer is None
    record = session.step("Yes, eighteen.", NEUTRAL)
    assert record.directive.intent == "accept" and session.snapshot().agreed_offer == Offer(days=18)


def test_after_a_denial_a_lower_number_is_read_back_again(config):
    session = session_at_read_back(config)
    session.step("No, that's wrong.", NEUTRAL)
    record = session.step("12 days.", NEUTRAL)
    assert record.directive.intent == "confirm" and record.directive.offer.days == 12
    assert session.snapshot().agreed_offer is None


def test_noise_after_a_read_back_asks_the_same_question_again(config):
    session = session_at_read_back(config)
    record = session.step("\x00\x01", NEUTRAL)
    assert record.directive.intent == "confirm" and record.directive.offer.days == ASKED_DAYS
    record = session.step("yes", NEUTRAL)
    assert session.snapshot().agreed_offer == Offer(days=ASKED_DAYS)


def test_the_set_is_large_enough():
    assert len(CONFIRMATIONS) + len(DENIALS) + len(CHANGES) + len(UNCLEAR) >= 40


# A bare yes says too little to bind anyone: it may answer another question or only show that the
# person is listening.
WEAK_YES = ("Yes, speaking.", "Yeah.", "Okay.", "Sure, go on.", "Yes, this is she.", "Alright.")


@pytest.mark.parametrize("answer", WEAK_YES)
def test_a_bare_yes_is_read_back_and_binds_nothing(config, answer):
    session = opened_session(config)
    offered = standing_days(session)
    record = session.step(answer, NEUTRAL)
    assert record.directive.intent == "confirm" and record.directive.offer.days == offered
    assert not session.finished and session.snapshot().agreed_offer is None


def test_a_clear_yes_to_that_read_back_agrees_on_the_creditors_offer(config):
    session = opened_session(config)
    offered = standing_days(session)
    session.step("Yes, speaking.", NEUTRAL)
    record = session.step("Yes, that's right.", NEUTRAL)
    assert record.directive.intent == "accept" and not record.directive.accepts_debtor_offer
    assert session.snapshot().agreed_offer == Offer(days=offered)


def test_a_no_to_that_read_back_agrees_on_nothing(config):
    session = opened_session(config)
    session.step("Okay.", NEUTRAL)
    session.step("No, that is far too short for me.", NEUTRAL)
    assert not session.finished and session.snapshot().agreed_offer is None


@pytest.mark.parametrize("answer", ("Deal.", "I accept.", "That works for me."))
def test_a_clear_acceptance_binds_at_once(config, answer):
    session = opened_session(config)
    offered = standing_days(session)
    session.step(answer, NEUTRAL)
    assert session.snapshot().agreed_offer == Offer(days=offered)


def test_a_refusal_after_the_read_back_of_a_polite_yes_agrees_on_nothing(config):
    # Heard in a conversation written for this check: "Hi, yeah, who is this?" was read back as a
    # yes, and "I don't have that kind of money right now" then agreed on the offer ("right").
    session = opened_session(config)
    record = session.step("Hi, yeah, who is this?", NEUTRAL)
    assert record.directive.intent != "confirm"  # a question, not a yes to read back
    session.step("Okay.", NEUTRAL)
    record = session.step("Look, I got your letter but I don't have that kind of money right now.", NEUTRAL)
    assert not session.finished and session.snapshot().agreed_offer is None
    assert record.directive.intent != "accept"


@pytest.mark.parametrize("answer", ("That works, maybe, let me check.", "Deal, I guess.", "Fine, probably."))
def test_a_hedged_acceptance_is_read_back_before_it_binds(config, answer):
    session = opened_session(config)
    offered = standing_days(session)
    record = session.step(answer, NEUTRAL)
    assert record.directive.intent == "confirm" and record.directive.offer.days == offered
    assert session.snapshot().agreed_offer is None
