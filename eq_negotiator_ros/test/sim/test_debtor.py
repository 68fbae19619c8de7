"""sim/debtor.py: personas from YAML, reproducible debtors, tactics in their words, reactions."""

import re

import pytest
import yaml

from eq_negotiator_ros.config import load_config
from eq_negotiator_ros.eq.records import Offer
from eq_negotiator_ros.sim.debtor import (
    PERSONA_NAMES,
    DebtorSimulator,
    PersonaError,
    default_personas_path,
    load_personas,
)
from eq_negotiator_ros.sim.scenarios import load_scenarios

MODEL = load_config().eq.model
SCENARIOS = load_scenarios()
PERSONAS = load_personas()


def play(persona, scenario, seed, creditor_emotion="neutral", turns=12, creditor_days=None):
    """A debtor against a creditor that repeats one emotion and one offer (its target)."""
    debtor = DebtorSimulator(persona, MODEL)
    debtor.reset(scenario, seed)
    days = creditor_days if creditor_days is not None else scenario.creditor_target_days
    return debtor, [debtor.respond(creditor_emotion, Offer(days=days)) for _ in range(turns)]


def texts(persona_name, episodes=20, turns=10):
    out = []
    for seed in range(episodes):
        _, played = play(PERSONAS[persona_name], SCENARIOS[seed % len(SCENARIOS)], seed, turns=turns)
        out += [t.text for t in played]
    return out


def test_the_shipped_file_has_the_nine_personas():
    assert tuple(PERSONAS) == PERSONA_NAMES
    for persona in PERSONAS.values():
        assert abs(sum(persona.emotion_bias) - 1) < 1e-9
        low, high = persona.reservation_position
        assert 0 <= low <= high <= 1
    assert default_personas_path().name == "debtor_personas.yaml"


def test_same_seed_same_debtor_different_seed_different_debtor():
    persona, scenario = PERSONAS["cheating"], SCENARIOS[3]
    _, a = play(persona, scenario, 11)
    _, b = play(persona, scenario, 11)
    _, c = play(persona, scenario, 12)
    assert a == b
    assert [t.text for t in a] != [t.text for t in c]


def test_threatening_debtor_threatens():
    threat = re.compile(r"\b(court|lawyer|sue|regulator|bankruptcy|regret|warning|complaint)\b", re.I)
    said = texts("threatening")
    share = sum(bool(threat.search(t)) for t in said) / len(said)
    assert share > 0.3
    # A frightened vanilla debtor may mention court ("I'm terrified this will go to court").
    vanilla = texts("vanilla")
    assert sum(bool(threat.search(t)) for t in vanilla) / len(vanilla) < 0.05


def test_cheating_debtor_exaggerates_hardship_and_makes_false_promises():
    hardship = re.compile(
        r"(every single customer|zero cash|basically dead|not a cent|wiped us out|destroyed everything|sell "
        r"everything|last savings)",
        re.I,
    )
    promise = re.compile(r"\b(promise|swear|trust me|guarantee|you have my word)\b", re.I)
    said = texts("cheating")
    assert sum(bool(hardship.search(t)) for t in said) / len(said) > 0.2
    assert sum(bool(promise.search(t)) for t in said) / len(said) > 0.2
    assert not any(promise.search(t) for t in texts("vanilla"))


def test_victim_debtor_guilt_trips():
    guilt = re.compile(
        r"(do this to me|do you even care|families you hurt|how you treat me|sleep at night|punishing me|be "
        r"ashamed|doesn't matter to you)",
        re.I,
    )
    said = texts("victim")
    assert sum(bool(guilt.search(t)) for t in said) / len(said) > 0.3
    assert not any(guilt.search(t) for t in texts("vanilla"))


def test_stonewalling_debtor_gives_minimal_answers():
    said = texts("stonewalling")
    words = [len(t.split()) for t in said]
    minimal = sum(w <= 5 for w in words) / len(words)
    assert minimal > 0.5
    vanilla_words = [len(t.split()) for t in texts("vanilla")]
    assert sum(words) / len(words) < 0.6 * sum(vanilla_words) / len(vanilla_words)


def test_offers_come_down_toward_the_limit_and_never_retract():
    debtor, played = play(PERSONAS["vanilla"], SCENARIOS[0], 1, turns=15, creditor_days=1)
    offers = [t.offer_days for t in played if t.intent == "counter"]
    assert offers[0] == SCENARIOS[0].debtor_target_days  # vanilla opens at its target
    assert all(b <= a for a, b in zip(offers, offers[1:]))
    assert offers[-1] >= debtor.reservation_days - 1
    assert offers[-1] < offers[0]


def test_accepts_an_offer_at_or_above_its_limit():
    persona = PERSONAS["vanilla"]
    debtor = DebtorSimulator(persona, MODEL)
    debtor.reset(SCENARIOS[0], 2)
    generous = SCENARIOS[0].debtor_target_days
    turn = debtor.respond("neutral", Offer(days=generous))
    assert turn.intent == "accept" and turn.offer_days == generous


def test_cheating_debtor_exploits_sympathy_and_respects_firmness():
    # [VK04, ST06] in config/debtor_personas.yaml: sympathy raises its limit, firmness lowers it.
    persona = PERSONAS["cheating"]
    limits = {}
    for emotion in ("sadness", "anger"):
        total = 0.0
        for seed in range(20):
            debtor, _ = play(
                persona, SCENARIOS[seed], seed, creditor_emotion=emotion, turns=8, creditor_days=1
            )
            total += debtor.reservation_days
        limits[emotion] = total / 20
    assert limits["sadness"] > limits["anger"]


def test_sad_debtor_responds_to_empathy():
    persona = PERSONAS["sad"]
    _, empathy = play(persona, SCENARIOS[5], 4, creditor_emotion="sadness", turns=10, creditor_days=1)
    _, anger = play(persona, SCENARIOS[5], 4, creditor_emotion="anger", turns=10, creditor_days=1)
    assert empathy[-1].reservation_days < anger[-1].reservation_days
    assert empathy[-1].felt_treatment > 0 > anger[-1].felt_treatment


def test_emotion_follows_the_published_response_matrix():
    # A vanilla debtor shown joy mostly feels joy (response row joy: .60 joy).
    persona = PERSONAS["vanilla"]
    felt = [t.true_emotion for seed in range(30) for t in play(persona, SCENARIOS[seed], seed, "joy", 8)[1]]
    assert felt.count("joy") / len(felt) > 0.35


def test_debtor_config_file_changes_behaviour(tmp_path):
    document = yaml.safe_load(default_personas_path().read_text())
    document["personas"]["stonewalling"]["tactics"]["minimal"] = 0.0
    document["personas"]["stonewalling"]["tactics"]["delay"] = 0.0
    path = tmp_path / "personas.yaml"
    path.write_text(yaml.safe_dump(document))
    changed = load_personas(path)["stonewalling"]
    _, played = play(changed, SCENARIOS[0], 3, turns=10)
    assert all(len(t.text.split()) > 3 for t in played)
    assert "minimal" not in {tactic for t in played for tactic in t.tactics}


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda p: p.pop("treatment"), "treatment: missing"),
        (lambda p: p.update(bias_weight=0.9, inertia=0.5), "must not exceed 1"),
        (lambda p: p.update(reservation_position=[0.6, 0.2]), "reservation_position"),
        (lambda p: p["tactics"].update(bribe=0.5), "unknown tactic"),
        (lambda p: p["emotion_bias"].update(joy=0.9), "must sum to 1"),
        (lambda p: p.update(base_concession="fast"), "expected a number"),
    ],
)
def test_bad_persona_file_names_persona_and_key(tmp_path, edit, message):
    document = yaml.safe_load(default_personas_path().read_text())
    edit(document["personas"]["angry"])
    path = tmp_path / "personas.yaml"
    path.write_text(yaml.safe_dump(document))
    with pytest.raises(PersonaError, match=rf"personas\.angry.*{re.escape(message)}"):
        load_personas(path)


def test_missing_or_empty_persona_file(tmp_path):
    with pytest.raises(PersonaError, match="--debtor-config"):
        load_personas(tmp_path / "none.yaml")
    (tmp_path / "empty.yaml").write_text("")
    with pytest.raises(PersonaError, match="personas:"):
        load_personas(tmp_path / "empty.yaml")


def test_unknown_creditor_emotion_and_missing_offer_are_handled():
    debtor = DebtorSimulator(PERSONAS["angry"], MODEL)
    debtor.reset(SCENARIOS[1], 0)
    turn = debtor.respond("🙂 gibberish", None)
    assert turn.intent in ("counter", "stall") and turn.text


def test_garbage_persona_files_give_a_persona_error(tmp_path):
    binary = tmp_path / "binary.yaml"
    binary.write_bytes(bytes(range(256)) * 10)
    with pytest.raises(PersonaError):
        load_personas(binary)
    listing = tmp_path / "list.yaml"
    listing.write_text("- just\n- a list\n")
    with pytest.raises(PersonaError, match="personas:"):
        load_personas(listing)
    scalar = tmp_path / "scalar.yaml"
    scalar.write_text("personas:\n  angry: 3\n")
    with pytest.raises(PersonaError, match="personas.angry"):
        load_personas(scalar)


def test_reciprocity_makes_a_mistreated_debtor_show_anger_and_contempt():
    # The sad persona takes anger badly (treatment -0.4): with reciprocity its shown emotions
    # shift toward anger, disgust and sadness; without, they follow the response matrix only.
    persona = PERSONAS["sad"]

    def shown(reciprocity):
        out = []
        for seed in range(40):
            debtor = DebtorSimulator(persona, MODEL, reciprocity=reciprocity)
            debtor.reset(SCENARIOS[seed % len(SCENARIOS)], seed)
            out += [debtor.respond("anger", Offer(days=1)).true_emotion for _ in range(10)]
        return out

    off, on = shown(0.0), shown(1.0)
    hostile = ("anger", "disgust")
    assert sum(e in hostile for e in on) > sum(e in hostile for e in off) + 20


def test_reciprocity_is_off_by_default_and_bounded():
    debtor = DebtorSimulator(PERSONAS["vanilla"], MODEL)
    assert debtor.reciprocity == 0.0
    with pytest.raises(ValueError, match="reciprocity"):
        DebtorSimulator(PERSONAS["vanilla"], MODEL, reciprocity=1.5)


def test_alternative_worlds_load_with_the_nine_personas():
    from pathlib import Path

    data = Path(__file__).resolve().parent.parent / "data"
    for name in ("debtor_personas_alt_a.yaml", "debtor_personas_alt_b.yaml"):
        personas = load_personas(data / name)
        assert tuple(personas) == PERSONA_NAMES
        assert personas["vanilla"].treatment != PERSONAS["vanilla"].treatment
