"""The creditor's offers: a time-dependent concession from its target toward a reservation limit,
shaped by the belief over the debtor's hidden state, and the agreement rules of the authors'
evaluation protocol (arXiv 2511.03370: the issue is the repayment timeline in days, agreement when
the two latest offers are within 5 days or on explicit acceptance).

The curve is the classic time-dependent tactic (Faratin, Sierra & Jennings 1998):

    c(t) = (t / T) ** (1 / beta)                 share of the range conceded by creditor turn t
    offer(t) = offer(t-1) + k(belief) * (reservation - target) * (c(t) - c(t-1))

k(belief) = sum_s belief[s] * state_concession_factor[s] makes the step smaller against a strategic
or confrontational debtor (who exploits early concessions) and larger for a distressed one (who
cannot pay sooner, so holding firm only costs the agreement). Stepping from the previous offer
rather than recomputing from the target keeps the offers monotone when the belief moves.

Constraints, applied after the curve, in this order:
* never past the reservation limit (target * reservation_multiple, at most max_reservation_days);
* monotone: never fewer days than the creditor's own previous offer (a concession is not taken back);
* never jump to the debtor's number: at most max_step_fraction of the remaining gap in one turn;
* never more days than the debtor asked for (offering more than asked gives value away for nothing).
"""

from __future__ import annotations

import math
from typing import Optional, Sequence

from ..config import OfferConfig
from .records import Offer, Scenario


class ConcessionSchedule:
    """Offers of one negotiation (one scenario); pure: the same inputs give the same offer."""

    def __init__(self, config: OfferConfig, scenario: Scenario) -> None:
        self.config = config
        self.scenario = scenario
        self.target_days = max(0, int(scenario.creditor_target_days))
        reservation = round(self.target_days * config.reservation_multiple)
        # The cap applies unless the target itself is beyond it (then the target is the limit).
        self.reservation_days = max(self.target_days, min(reservation, int(config.max_reservation_days)))

    # -- the curve -----------------------------------------------------------------------------

    def _curve(self, creditor_turn: int) -> float:
        """Share of the concession range given up by this creditor turn, c(t) in [0, 1]."""
        t = max(0, min(int(creditor_turn), self.config.deadline_turns))
        return (t / self.config.deadline_turns) ** (1.0 / self.config.concession_beta)

    def concession_factor(self, belief: Sequence[float]) -> float:
        """Belief-weighted state_concession_factor; 1.0 when the belief is missing or unusable, and
        always 1.0 with offer.fixed_concession (the schedule then ignores what the creditor's own
        emotion did to the belief)."""
        if self.config.fixed_concession:
            return 1.0
        factors = self.config.state_concession_factor
        try:
            weights = [float(b) for b in belief]
        except (TypeError, ValueError):
            return 1.0
        if len(weights) != len(factors):
            return 1.0
        weights = [w if math.isfinite(w) and w > 0 else 0.0 for w in weights]
        total = sum(weights)
        if total <= 0:
            return 1.0
        return sum(w * f for w, f in zip(weights, factors)) / total

    def opening_offer(self) -> Offer:
        return Offer(days=self.target_days)

    def next_offer(
        self,
        creditor_turn: int,
        belief: Sequence[float],
        debtor_offer: Optional[Offer],
        previous: Optional[Offer],
    ) -> Offer:
        """The creditor's offer at creditor turn t (0 = the opening), given the belief over the
        debtor's hidden state, the debtor's latest offer and the creditor's own previous offer."""
        span = self.reservation_days - self.target_days
        factor = self.concession_factor(belief)
        if previous is None:
            proposed = self.target_days + factor * span * self._curve(creditor_turn)
            floor_days = self.target_days
        else:
            step = self._curve(creditor_turn) - self._curve(creditor_turn - 1)
            proposed = previous.days + factor * span * step
            floor_days = previous.days
        days = min(round(proposed), self.reservation_days)
        days = max(days, floor_days, self.target_days)  # monotone; never below the target
        days = min(days, self.reservation_days)
        upfront = previous.upfront_amount if previous is not None else 0.0
        if debtor_offer is not None:
            if debtor_offer.days > floor_days:
                # Move at most max_step_fraction of the gap toward the debtor's number per turn.
                reach = floor_days + math.floor(
                    self.config.max_step_fraction * (debtor_offer.days - floor_days)
                )
                days = min(days, max(reach, floor_days))
            days = min(days, max(debtor_offer.days, 0))  # never more than the debtor asked for
            if debtor_offer.upfront_amount > upfront and self.within_balance(debtor_offer.upfront_amount):
                upfront = float(debtor_offer.upfront_amount)  # money offered now is taken as offered
        return Offer(days=int(days), upfront_amount=float(upfront))

    # -- agreement -----------------------------------------------------------------------------

    def within_balance(self, upfront_amount: float) -> bool:
        """Whether money paid up front is no more than is owed (always, when the balance is unknown)."""
        balance = self.scenario.outstanding_balance
        return balance <= 0 or upfront_amount <= balance

    def acceptable(self, debtor_offer: Offer) -> bool:
        """The creditor accepts a debtor offer only within its reservation limit, for a real
        timeline (at least one day), and never for more money up front than is owed."""
        return (
            self.within_balance(debtor_offer.upfront_amount)
            and 1 <= debtor_offer.days <= self.reservation_days
        )

    def agreement(
        self, creditor_offer: Offer, debtor_offer: Optional[Offer], debtor_acceptance: Optional[str]
    ) -> bool:
        """Agreement when the two latest offers are within agreement_gap_days (and the debtor's is
        within the reservation limit), or when the debtor explicitly accepts the creditor's standing
        offer (an "accept" that comes with a far-away number of their own is a counter-offer)."""
        # Only a debtor number at or above the creditor's offer binds here: a lower one is what a
        # misheard number looks like, and the session reads it back before anyone is bound.
        if (
            debtor_offer is not None
            and self._within_gap(creditor_offer, debtor_offer)
            and self.acceptable(debtor_offer)
        ):
            return True
        if debtor_acceptance == "accept":
            return debtor_offer is None or self._within_gap(creditor_offer, debtor_offer)
        return False

    def _within_gap(self, creditor_offer: Offer, debtor_offer: Offer) -> bool:
        return 0 <= debtor_offer.days - creditor_offer.days <= self.config.agreement_gap_days

    def agreed_offer(
        self, creditor_offer: Offer, debtor_offer: Optional[Offer], debtor_acceptance: Optional[str]
    ) -> Offer:
        """The terms agreed (call only when `agreement` is true): the debtor's own number when it is
        within the gap and the reservation limit (what they committed to), else the creditor's
        standing offer; the larger up-front amount either side put on the table."""
        upfront = creditor_offer.upfront_amount
        if debtor_offer is not None:
            if self.within_balance(debtor_offer.upfront_amount):
                upfront = max(upfront, debtor_offer.upfront_amount)
            if self.acceptable(debtor_offer) and self._within_gap(creditor_offer, debtor_offer):
                return Offer(days=int(debtor_offer.days), upfront_amount=float(upfront))
        return Offer(days=int(creditor_offer.days), upfront_amount=float(upfront))
