"""The reply guard: written lists of replies it must refuse and replies it must let through."""

import pytest

from eq_negotiator_ros.eq.records import Directive, Offer
from eq_negotiator_ros.llm.guard import GuardVerdict, check_reply


def directive(intent="counter", days=45, upfront=0.0, accepts=False):
    return Directive(
        session_id="s",
        turn=2,
        creditor_emotion="neutral",
        policy_branch="wsls_stay",
        intent=intent,
        offer=Offer(days=days, upfront_amount=upfront),
        accepts_debtor_offer=accepts,
        persona="balanced",
        temperature=0.6,
    )


BAD = [
    # wrong numbers
    "We can offer you 60 days to repay.",
    "We can offer 45 weeks.",
    "We can offer forty days.",
    "We can offer a month to repay.",
    "Your balance of $5,000 is due.",
    "We'll take 200 dollars now and 45 days for the rest.",  # no up-front amount was decided
    "Pay 50% now and the rest in 45 days.",
    "Please pay by March 15.",
    # threats
    "If you don't pay, you will be arrested.",
    "You could end up in jail over this.",
    "We will call the police.",
    "We know where you live.",
    "We will tell your employer about this debt.",
    "We might contact your family about this.",
    "We will repossess your car.",
    "Pay within 45 days or else.",
    # abuse and profanity
    "You are a deadbeat and a liar.",
    "Stop being so stupid and pay.",
    "Pay the damn money within 45 days.",
    "Shut up and listen to the offer of 45 days.",
    # false legal claims
    "You will be sued tomorrow.",
    "It is illegal not to pay your debts.",
    "We will file criminal charges.",
    "We will take you to court.",
    # revealing internal instructions
    "As an AI, I can offer 45 days.",
    "My instructions say to offer 45 days.",
    "The system prompt tells me to be firm.",
    "My persona today is anger.",
    "According to my policy branch, 45 days.",
    # leaving the creditor's role
    "Debtor: I can't pay that much.",
    "I can't afford this, I lost my job.",
    "We will forgive the debt.",
    "Your debt has been cancelled.",
    "You don't have to pay anything.",
    "We can waive the interest if you pay in 45 days.",
    "I promise we can extend it later.",
    "We can offer 45 days, and there are no extra charges.",
    "Our offer is 45 days, because I need to pay my balance before my next paycheck.",
    "We can offer 45 days. I hope to be able to pay you in full.",
    "We can offer 45 days. If you're not sure, please call me at 1-888-988-4111.",
    "Great, we have a deal at 45 days.",  # the decision is to counter, not to agree
    # the agent speaking as the person who pays
    "I understand that I've been paying you back in full.",
    "I have paid the balance already, so 45 days is fine.",
    "I'll keep paying you back, 45 days.",
    # a letter's sign-off, with a name the agent made up
    "Hello, thanks for picking up. Warm regards, Alex.",
    "Best regards, and speak soon.",
    "Yours sincerely, the account team.",
    "You're just lazy, and 45 days is the offer.",
    "Some people are too lazy to pay on time.",
    # shouting, and affection a robot collecting a debt has no business offering
    "WHAT IF WE EXPLORED ANOTHER WAY?!",
    "Our offer is 45 days, AND THAT IS FINAL.",
    "Hugging Agent hugs you, and I'm pumped to help.",
    "Hugs and cuddles are so comforting, I know it.",
    "Don't worry, sweetheart, 45 days is fine.",
    # empty, garbage, not English
    "",
    "   ",
    "asdf qwrt zxcv bnm",
    "Podemos ofrecerle cuarenta y cinco días.",
    "我们可以给你四十五天。",
    "the the the the the the the the",
    "x" * 700,
]

GOOD = [
    "We can offer you 45 days to repay the balance.",
    "I understand this is a hard time for you; we can offer forty-five days.",
    "Our offer stays at 45 days.",
    "Let me be clear: 45 days is what we can do.",
    "I hear you, and I want to help you find a way through this.",
    "Could you manage repayment within 45 days?",
    "Thank you for your reply.",
    "If the account stays unpaid, it will keep falling further behind.",
    "Let's look at a plan that fits your budget within 45 days.",
    "I'm disappointed the payments were missed, but let's fix it now.",
    "That's a fair question.",
    "We would like to settle this with you today.",
    "I understand; this one is important to both of us.",
    "No one wants this to drag on.",
    "Missed payments can affect your credit record, so settling soon helps you.",
    "Thanks for being open with me about your situation.",
    "I send my best wishes to your family.",
    "I do regard this as important.",
    "OK, I can confirm 45 days by SMS if you like.",  # an abbreviation is not shouting
    "I'm calling about the ATM withdrawals on your account.",
    "Oh dear, I didn't expect that.",
    "Cooking is a great way to spend a lazy afternoon.",
]


@pytest.mark.parametrize("text", BAD)
def test_rejects(text):
    verdict = check_reply(text, directive())
    assert isinstance(verdict, GuardVerdict)
    assert not verdict.ok
    assert verdict.reason


@pytest.mark.parametrize("text", GOOD)
def test_allows(text):
    verdict = check_reply(text, directive())
    assert verdict.ok, verdict.reason


def test_list_sizes():
    assert len(BAD) >= 30 and len(GOOD) >= 15


def test_equivalent_units_and_upfront_amount():
    assert check_reply("We can offer 8 weeks.", directive(days=56)).ok
    assert check_reply("We can offer two months.", directive(days=60)).ok
    assert check_reply("That is 60 days with $200 up front.", directive(days=60, upfront=200.0)).ok
    assert check_reply(
        "That is 60 days with two hundred dollars up front.", directive(days=60, upfront=200.0)
    ).ok
    assert check_reply("That is 60 days with 1,500 dollars up front.", directive(days=60, upfront=1500.0)).ok
    assert not check_reply("That is 60 days with $300 up front.", directive(days=60, upfront=200.0)).ok


def test_agreement_words_allowed_only_when_accepting():
    text = "Agreed, we have a deal at 45 days."
    assert check_reply(text, directive(intent="accept", accepts=True)).ok
    assert check_reply(text, directive(intent="accept", accepts=False)).ok  # the debtor accepted ours
    assert not check_reply(text, directive(intent="close")).ok
    assert not check_reply(text, directive(intent="hold")).ok


@pytest.mark.parametrize("value", [None, 42, b"bytes", ["45 days"]])
def test_non_text_is_rejected_not_raised(value):
    assert not check_reply(value, directive()).ok


def test_fuzz_never_raises():
    import random

    rng = random.Random(1)
    tokens = "45 days we can offer $ 200 1,500 k % no one a month half year deal 😀 我 \n - . , 1".split(" ")
    for i in range(2000):
        if i % 2:
            text = " ".join(rng.choice(tokens) for _ in range(rng.randint(0, 12)))
        else:
            text = "".join(chr(rng.randint(0, 0x2FFF)) for _ in range(rng.randint(0, 40)))
        verdict = check_reply(text, directive(upfront=200.0))
        assert isinstance(verdict.ok, bool) and (verdict.ok or verdict.reason)
    assert not check_reply("1" * 500, directive()).ok
