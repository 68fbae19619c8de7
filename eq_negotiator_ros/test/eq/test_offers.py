"""Concession schedule and agreement rules."""

import random

import pytest

from eq_negotiator_ros.config import OfferConfig, load_config
from eq_negotiator_ros.eq.offers import ConcessionSchedule
from eq_negotiator_ros.eq.records import Offer, Scenario

UNIFORM = (0.25, 0.25, 0.25, 0.25)
STRATEGIC = (0.0, 0.0, 0.0, 1.0)
DISTRESSED = (0.0, 0.0, 1.0, 0.0)


def scenario(target=20, debtor=150):
    return Scenario(
        scenario_id="t", creditor_target_days=target, debtor_target_days=debtor, outstanding_balance=1000.0
    )


@pytest.fixture(scope="module")
def config():
    return load_config().offer


def run(schedule, belief, debtor_days=None, turns=15):
    offers, previous = [], None
    for t in range(turns):
        debtor = Offer(days=debtor_days) if debtor_days is not None and t > 0 else None
        previous = schedule.next_offer(t, belief, debtor, previous)
        offers.append(previous.days)
    return offers


def test_reservation_limit(config):
    assert ConcessionSchedule(config, scenario(target=20)).reservation_days == 60
    assert ConcessionSchedule(config, scenario(target=200)).reservation_days == 365  # max_reservation_days
    assert ConcessionSchedule(config, scenario(target=400)).reservation_days == 400  # never below the target


def test_opening_is_the_target(config):
    schedule = ConcessionSchedule(config, scenario(target=20))
    assert schedule.opening_offer() == Offer(days=20)
    assert schedule.next_offer(0, UNIFORM, None, None).days == 20


def test_concedes_to_reservation_by_deadline_and_no_further(config):
    schedule = ConcessionSchedule(config, scenario(target=20))
    offers = run(schedule, (1.0, 0, 0, 0), turns=20)  # cooperative: factor 1
    assert offers[config.deadline_turns] == 60
    assert max(offers) == 60


def test_never_past_reservation_and_monotone_random_inputs(config):
    rng = random.Random(3)
    for _ in range(200):
        target = rng.randint(1, 200)
        schedule = ConcessionSchedule(config, scenario(target=target))
        previous = None
        for t in range(25):
            belief = [rng.random() for _ in range(4)]
            debtor = Offer(days=rng.randint(0, 800)) if rng.random() < 0.7 else None
            offer = schedule.next_offer(t, belief, debtor, previous)
            assert offer.days <= schedule.reservation_days
            # fewer days than before only to match a debtor who asks for fewer (an acceptance)
            floor = previous.days if previous is not None else schedule.target_days
            assert offer.days >= min(floor, debtor.days if debtor else floor)
            if previous is not None and (debtor is None or debtor.days >= previous.days):
                assert offer.days >= previous.days, "a concession is never taken back"
            if debtor is not None:
                assert offer.days <= max(debtor.days, schedule.target_days)
            previous = offer


def test_holds_firmer_against_strategic_than_distressed(config):
    schedule = ConcessionSchedule(config, scenario(target=20))
    strategic, distressed = run(schedule, STRATEGIC), run(schedule, DISTRESSED)
    assert all(s <= d for s, d in zip(strategic, distressed))
    assert strategic[6] < distressed[6]


def test_never_copies_the_debtors_number_at_once(config):
    fast = OfferConfig(**{**config.__dict__, "state_concession_factor": (50.0, 50.0, 50.0, 50.0)})
    schedule = ConcessionSchedule(fast, scenario(target=20))
    offer = schedule.next_offer(1, UNIFORM, Offer(days=50), Offer(days=20))
    assert offer.days == 20 + int(0.5 * 30)


def test_never_offers_more_days_than_asked(config):
    schedule = ConcessionSchedule(config, scenario(target=20))
    offer = schedule.next_offer(12, DISTRESSED, Offer(days=22), Offer(days=21))
    assert offer.days <= 22


def test_upfront_amount_offered_by_debtor_is_kept(config):
    schedule = ConcessionSchedule(config, scenario(target=20))
    offer = schedule.next_offer(2, UNIFORM, Offer(days=100, upfront_amount=300.0), Offer(days=22))
    assert offer.upfront_amount == 300.0


@pytest.mark.parametrize("belief", [(), (float("nan"),) * 4, (0, 0, 0, 0), (1, 2), "garbage"])
def test_unusable_belief_uses_factor_one(config, belief):
    assert ConcessionSchedule(config, scenario()).concession_factor(belief) == 1.0


def test_agreement_rules(config):
    schedule = ConcessionSchedule(config, scenario(target=20))  # reservation 60, gap 5
    creditor = Offer(days=40)
    assert schedule.agreement(creditor, Offer(days=45), None)  # within the gap
    assert not schedule.agreement(creditor, Offer(days=46), None)
    # Fewer days than offered never binds here: the session reads such a number back first.
    assert not schedule.agreement(creditor, Offer(days=30), None)
    assert not schedule.agreement(creditor, Offer(days=30), "accept")
    assert not schedule.agreement(creditor, Offer(days=0), None)
    assert schedule.agreement(creditor, None, "accept")  # explicit acceptance of the standing offer
    assert not schedule.agreement(creditor, Offer(days=90), "accept")  # "ok, 90 days" is a counter
    assert not schedule.agreement(creditor, None, "reject")
    assert not schedule.agreement(creditor, None, None)
    # only within the reservation limit
    assert not schedule.agreement(Offer(days=60), Offer(days=64), None)
    assert schedule.agreement(Offer(days=58), Offer(days=60), None)


def test_agreed_offer(config):
    schedule = ConcessionSchedule(config, scenario(target=20))
    assert schedule.agreed_offer(Offer(days=40), Offer(days=43, upfront_amount=100.0), None) == Offer(
        43, 100.0
    )
    assert schedule.agreed_offer(Offer(days=40), None, "accept") == Offer(40)


def test_money_above_the_balance_is_never_taken(config):
    schedule = ConcessionSchedule(config, scenario(target=20))
    owed = schedule.scenario.outstanding_balance
    assert owed > 0
    too_much = Offer(days=42, upfront_amount=owed * 100)
    assert not schedule.acceptable(too_much)
    assert not schedule.agreement(Offer(days=40), too_much, None)
    # a counter-offer does not adopt it either
    offer = schedule.next_offer(1, (0.25,) * 4, too_much, Offer(days=20))
    assert offer.upfront_amount == 0.0
