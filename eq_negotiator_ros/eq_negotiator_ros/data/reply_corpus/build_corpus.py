"""Builds the reply corpus (train.jsonl, heldout.jsonl) from the hand-written parts beside it.

One example = what the agent heard (the debtor's last words and their previous line), the decision
(creditor emotion, intent, terms) and the reply: the code's opener, the model's part (an
acknowledgment of the person's own words and a sentence in the persona's voice) and the code's
terms sentence. The model is trained on the model's part only; see DATA_CARD.md for why.

Every example is checked here with the reply guard (llm/guard.py) sentence by sentence and as a
whole, and the model's part must carry no number; an example that fails stops the build with the
reason, so the parts get fixed rather than silently dropped. Seeded: re-running gives identical
files:

    .venv/bin/python eq_negotiator_ros/eq_negotiator_ros/data/reply_corpus/build_corpus.py
"""

from __future__ import annotations

import json
import random
import re
import sys
from pathlib import Path
from types import ModuleType

HERE = Path(__file__).resolve().parent
if __package__ in (None, ""):  # run as a script: make the package importable
    sys.path.insert(0, str(HERE.parents[2]))

from eq_negotiator_ros.eq.emotions import EMOTIONS  # noqa: E402
from eq_negotiator_ros.eq.records import Directive, Offer  # noqa: E402
from eq_negotiator_ros.llm.fallback import fallback_sentences  # noqa: E402
from eq_negotiator_ros.llm.guard import check_reply  # noqa: E402
from eq_negotiator_ros.llm.personas import PERSONA_OPENERS, opener_group, persona_text  # noqa: E402
from eq_negotiator_ros.llm.prompts import START_OF_CALL  # noqa: E402

sys.path.insert(0, str(HERE))
import parts_heldout  # noqa: E402
import parts_train  # noqa: E402
from ack_voices import voice_acknowledgment  # noqa: E402

SEED = 20261130
SIZES = {"train": 2400, "heldout": 300}
# Numbers the debtor adds to what they say (the model must never repeat them).
DEMANDS = {
    "train": (
        "I can pay in {days} days.",
        "Give me {days} days.",
        "I need {days} days.",
        "Maybe {months} months?",
    ),
    "heldout": (
        "Could I have {days} days?",
        "I was hoping for {days} days.",
        "{months} months would suit me.",
    ),
}
DEMAND_SHARE = 0.35
NUMBER_WORDS = re.compile(
    r"\d|\b(?:two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|fifty|sixty|"
    r"seventy|eighty|ninety|hundred|thousand|half)s?\b|\b(?:a|an|one)\s+(?:day|week|month|year|fortnight)\b",
    re.I,
)


def intent_group(intent: str) -> str:
    """PERSONA_SENTENCES key for an intent."""
    if intent in ("accept", "close", "greet"):
        return {"accept": "agree", "close": "close", "greet": "greet"}[intent]
    return "check" if intent in ("clarify", "confirm") else "negotiate"


def _fill(template: str, values: dict[str, str]) -> str:
    out = template
    for name, value in values.items():
        out = out.replace("{" + name + "}", value).replace("{" + name.capitalize() + "}", value.capitalize())
    return out


def _slot_values(rng: random.Random, slots: dict[str, tuple[str, ...]], lines: list[str]) -> dict[str, str]:
    used = {name for name in slots for line in lines if "{" + name in line or "{" + name.capitalize() in line}
    return {name: rng.choice(slots[name]) for name in sorted(used)}


def _sources(parts: ModuleType) -> list[tuple[str, tuple[str, ...], list]]:
    sources = list(parts.SITUATIONS)
    sources.append(("agreement", ("accept",), parts.AGREEMENT))
    sources.append(("debtor_offer", ("accept", "confirm", "counter"), parts.DEBTOR_OFFERS))
    sources.append(("greeting", ("greet",), parts.GREETINGS))
    return sources


def make_example(rng: random.Random, parts: ModuleType, split: str, voice_rng: random.Random) -> dict:
    """One example; `voice_rng` draws the persona's acknowledgment (ack_voices.py) apart from `rng`,
    so that every other draw, and the held-out examples, stay those of the plain acknowledgments."""
    tactic, intents, facts = rng.choice(_sources(parts))
    debtor_lines, acks = rng.choice(facts)
    intent = rng.choice(intents)
    emotion = rng.choice(EMOTIONS)
    debtor_days = rng.choice((14, 21, 30, 45, 60, 75, 90, 100, 120, 150, 180, 240, 365))
    values = _slot_values(rng, parts.SLOTS, debtor_lines + acks)
    values["days"] = str(debtor_days)
    debtor = _fill(rng.choice(debtor_lines), values)
    ack = _fill(voice_acknowledgment(rng.choice(acks), acks, emotion, tactic, voice_rng), values)
    accepts = False
    offer_days = rng.randint(7, 120)
    if tactic == "debtor_offer":
        if intent in ("accept", "confirm"):
            offer_days, accepts = debtor_days, intent == "accept"
        else:
            offer_days = max(7, debtor_days // rng.choice((2, 3, 4)))
    elif tactic in ("hardship", "false_promise", "guilt", "threat") and rng.random() < DEMAND_SHARE:
        months = rng.choice((2, 3, 4, 6))
        debtor += " " + rng.choice(DEMANDS[split]).format(days=debtor_days, months=months)
    upfront = (
        float(rng.choice((100, 150, 200, 250, 500))) if rng.random() < 0.12 and intent != "clarify" else 0.0
    )
    turn = 0 if intent == "greet" else rng.randint(1, 14)
    directive = Directive(
        session_id="corpus",
        turn=turn,
        creditor_emotion=emotion,
        policy_branch="corpus",
        intent=intent,
        offer=Offer(days=offer_days, upfront_amount=upfront),
        accepts_debtor_offer=accepts,
        persona=persona_text(emotion),
        temperature=0.5,
        debtor_text=debtor,
    )
    persona_sentence = rng.choice(parts_train.PERSONA_SENTENCES[emotion][intent_group(intent)])
    model_text = " ".join(part for part in (ack, persona_sentence) if part)
    opener = rng.choice(PERSONA_OPENERS[emotion][opener_group(intent)])
    terms_sentence = fallback_sentences(directive, rng.randint(0, 11))[1]
    if intent == "greet" or rng.random() < 0.4:
        context = START_OF_CALL
    else:
        other_lines, _ = rng.choice(rng.choice(parts.SITUATIONS)[2])
        context = _fill(
            rng.choice(other_lines), {**_slot_values(rng, parts.SLOTS, other_lines), "days": "60"}
        )
    return {
        "split": split,
        "tactic": tactic,
        "context": context,
        "debtor_text": debtor,
        "emotion": emotion,
        "intent": intent,
        "offer_days": offer_days,
        "upfront_amount": upfront,
        "accepts_debtor_offer": accepts,
        "turn": turn,
        "opener": opener,
        "acknowledgment": ack,
        "persona_sentence": persona_sentence,
        "model_text": model_text,
        "terms_sentence": terms_sentence,
        "reply": " ".join(part for part in (opener, model_text, terms_sentence) if part),
    }


def directive_of(example: dict) -> Directive:
    """The Directive an example was written for (also used by the trainer and the benchmark)."""
    return Directive(
        session_id="corpus",
        turn=int(example["turn"]),
        creditor_emotion=example["emotion"],
        policy_branch="corpus",
        intent=example["intent"],
        offer=Offer(days=int(example["offer_days"]), upfront_amount=float(example["upfront_amount"])),
        accepts_debtor_offer=bool(example["accepts_debtor_offer"]),
        persona=persona_text(example["emotion"]),
        temperature=0.5,
        debtor_text=example["debtor_text"],
    )


def problems(example: dict) -> list[str]:
    """Why an example may not be in the corpus (empty when it may)."""
    directive = directive_of(example)
    found = []
    for part in (
        example["opener"],
        example["acknowledgment"],
        example["persona_sentence"],
        example["terms_sentence"],
        example["reply"],
    ):
        if part:
            verdict = check_reply(part, directive)
            if not verdict.ok:
                found.append(f"guard rejects {part!r}: {verdict.reason}")
    if NUMBER_WORDS.search(example["model_text"]):
        found.append(f"the model's part carries a number or duration: {example['model_text']!r}")
    return found


def build(
    split: str, parts: ModuleType, size: int, rng: random.Random, voice_rng: random.Random
) -> list[dict]:
    seen: set[tuple] = set()
    examples: list[dict] = []
    failures: set[str] = set()
    attempts = 0
    while len(examples) < size:
        attempts += 1
        if attempts > size * 50:
            raise RuntimeError(
                f"{split}: only {len(examples)} distinct examples from the parts; write more parts"
            )
        example = make_example(rng, parts, split, voice_rng)
        key = (
            example["context"],
            example["debtor_text"],
            example["emotion"],
            example["intent"],
            example["model_text"],
        )
        if key in seen:
            continue
        found = problems(example)
        if found:
            failures.update(found)
            continue
        seen.add(key)
        examples.append({"id": f"{split}-{len(examples):05d}", **example})
    if failures:
        raise ValueError(f"{split}: {len(failures)} parts fail the checks:\n" + "\n".join(sorted(failures)))
    return examples


def main() -> int:
    for split, parts in (("train", parts_train), ("heldout", parts_heldout)):
        # Each split draws from its own generator: a change to the training parts does not redraw
        # the held-out examples, so figures before and after it are measured on the same ones.
        rng = random.Random(f"{SEED}-{split}")
        examples = build(split, parts, SIZES[split], rng, random.Random(f"{SEED}-{split}-voice"))
        path = HERE / f"{split}.jsonl"
        with path.open("w", encoding="utf-8") as handle:
            for example in examples:
                handle.write(json.dumps(example, ensure_ascii=False) + "\n")
        print(f"{path.name}: {len(examples)} examples")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
