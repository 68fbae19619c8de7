"""The reply corpus: sizes, coverage, the guard on every reply, no number in the model's part,
grounded acknowledgments and a held-out split that does not repeat the training situations."""

import json
import re
from pathlib import Path

import pytest

from eq_negotiator_ros.eq.emotions import EMOTIONS
from eq_negotiator_ros.llm.guard import check_reply
from eq_negotiator_ros.llm.prompts import INTENT_WORDS

CORPUS = Path(__file__).resolve().parents[2] / "eq_negotiator_ros" / "data" / "reply_corpus"
TACTICS = {
    "hardship",
    "threat",
    "false_promise",
    "guilt",
    "minimal",
    "abuse",
    "terms_change",
    "off_topic",
    "unclear",
    "ordinary",
    "agreement",
    "debtor_offer",
    "greeting",
}


def load(name: str) -> list[dict]:
    with (CORPUS / name).open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]


@pytest.fixture(scope="module")
def train() -> list[dict]:
    return load("train.jsonl")


@pytest.fixture(scope="module")
def heldout() -> list[dict]:
    return load("heldout.jsonl")


def directive_of(example):
    from eq_negotiator_ros.data.reply_corpus.build_corpus import directive_of as build

    return build(example)


def test_sizes_and_coverage(train, heldout) -> None:
    assert len(train) >= 2000 and len(heldout) >= 200
    for split in (train, heldout):
        assert {e["emotion"] for e in split} == set(EMOTIONS)
        assert {e["intent"] for e in split} == set(INTENT_WORDS)
        assert TACTICS <= {e["tactic"] for e in split}


def test_every_reply_and_part_passes_the_guard(train, heldout) -> None:
    for example in train + heldout:
        d = directive_of(example)
        for part in (
            example["reply"],
            example["opener"],
            example["acknowledgment"],
            example["persona_sentence"],
            example["terms_sentence"],
        ):
            if part:
                verdict = check_reply(part, d)
                assert verdict.ok, (example["id"], part, verdict.reason)


def test_model_part_has_no_number_and_the_reply_states_the_terms(train, heldout) -> None:
    for example in train + heldout:
        assert not re.search(r"\d", example["model_text"]), example["id"]
        if example["intent"] != "clarify":
            assert f"{example['offer_days']} days" in example["terms_sentence"], example["id"]
        assert example["reply"].startswith(example["opener"])
        assert example["model_text"] in example["reply"]


def test_acknowledgment_is_grounded_in_the_slot_values(train) -> None:
    # a relative named in the acknowledgment is the one the debtor named (the corpus's slot rule)
    relatives = ("wife", "husband", "mother", "father", "son", "daughter", "partner", "sister", "brother")
    for example in train:
        for word in relatives:
            if re.search(rf"\b{word}\b", example["acknowledgment"]):
                assert re.search(rf"\b{word}\b", example["debtor_text"], re.I), example["id"]


def test_heldout_is_written_apart(train, heldout) -> None:
    train_lines = {e["debtor_text"] for e in train}
    shared = [e["debtor_text"] for e in heldout if e["debtor_text"] in train_lines and e["debtor_text"]]
    assert not shared
    train_acks = {e["acknowledgment"] for e in train}
    assert not [
        e["acknowledgment"] for e in heldout if e["acknowledgment"] in train_acks and e["acknowledgment"]
    ]


def test_the_model_part_fits_the_sentence_budget_of_a_reply(train, heldout) -> None:
    # The opener is the reply's first sentence; the model may write max_reply_sentences - 1, so a
    # two-sentence acknowledgment would crowd out the persona sentence.
    from eq_negotiator_ros.config import LlmConfig

    budget = LlmConfig().max_reply_sentences - 1
    for example in train + heldout:
        sentences = re.findall(r"[.!?](?:\s|$)", example["model_text"])
        assert 1 <= len(sentences) <= budget, (example["id"], example["model_text"])
