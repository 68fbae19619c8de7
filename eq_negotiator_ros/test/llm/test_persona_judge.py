"""The persona judge of the reply benchmark and its data: written apart from what it judges."""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

import pytest

from eq_negotiator_ros.data.reply_corpus import parts_train
from eq_negotiator_ros.data.reply_corpus.persona_lines import PERSONA_LINES, PERSONA_LINES_HELDOUT
from eq_negotiator_ros.eq.emotions import EMOTIONS
from eq_negotiator_ros.llm.persona_judge import judge_accuracy, train_judge
from eq_negotiator_ros.llm.personas import PERSONA_OPENERS

CORPUS = Path(__file__).resolve().parents[2] / "eq_negotiator_ros" / "data" / "reply_corpus"
TRAINER = Path(__file__).resolve().parents[3] / "scripts" / "train_persona_adapter.py"


def _norm(text: str) -> str:
    return re.sub(r"[^a-z ]", "", text.lower()).strip()


def _corpus_texts() -> set[str]:
    texts = {
        _norm(s) for groups in parts_train.PERSONA_SENTENCES.values() for g in groups.values() for s in g
    }
    texts |= {_norm(o) for groups in PERSONA_OPENERS.values() for g in groups.values() for o in g}
    for name in ("train.jsonl", "heldout.jsonl"):
        with (CORPUS / name).open(encoding="utf-8") as handle:
            for line in handle:
                example = json.loads(line)
                texts |= {_norm(example["acknowledgment"]), _norm(example["model_text"])}
    return texts


def test_every_persona_has_its_lines_and_held_out_lines() -> None:
    assert set(PERSONA_LINES) == set(PERSONA_LINES_HELDOUT) == set(EMOTIONS)
    for emotion in EMOTIONS:
        assert len(PERSONA_LINES[emotion]) >= 120, emotion
        assert len(PERSONA_LINES_HELDOUT[emotion]) >= 20, emotion


def test_judge_lines_are_written_apart_from_the_corpus_and_from_each_other() -> None:
    corpus = _corpus_texts()
    seen: dict[str, str] = {}
    for part in (PERSONA_LINES, PERSONA_LINES_HELDOUT):
        for emotion, lines in part.items():
            for line in lines:
                key = _norm(line)
                assert key not in corpus, f"{line!r} is a corpus sentence or an opener"
                assert key not in seen, f"{line!r} appears twice ({seen[key]} and {emotion})"
                seen[key] = emotion


def test_ngram_judge_tells_the_personas_apart_on_its_held_out_lines() -> None:
    judge = train_judge(PERSONA_LINES, encoder=None)
    assert not judge.uses_encoder and set(judge.labels) == set(EMOTIONS)
    # chance is 1 in 7; the n-grams alone reach about 0.9 on these lines
    assert judge_accuracy(judge, PERSONA_LINES_HELDOUT) > 0.8
    assert judge.predict([]) == []
    assert judge.predict(["", "   "])[0] in EMOTIONS  # empty text still gets a label
    assert judge.predict(["I'm so sorry you're going through all of that."]) == ["sadness"]


def test_judge_needs_two_personas() -> None:
    with pytest.raises(ValueError, match="two personas"):
        train_judge({"joy": ["Great!"]})


def test_negotiating_openers_are_not_shared_between_personas() -> None:
    owner: dict[str, str] = {}
    for emotion, groups in PERSONA_OPENERS.items():
        for opener in groups["negotiate"]:
            assert opener not in owner, f"{opener!r} is both {owner[opener]} and {emotion}"
            owner[opener] = emotion


def _trainer():
    spec = importlib.util.spec_from_file_location("train_persona_adapter", TRAINER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_adapter_validation_split_keeps_debtor_lines_apart() -> None:
    trainer = _trainer()
    examples = trainer.load_examples(CORPUS / "train.jsonl")
    train, held = trainer.validation_split(examples, 0.1, 20261130)
    assert len(train) + len(held) == len(examples) and held
    train_keys = {trainer.debtor_line_key(e) for e in train}
    assert not train_keys & {trainer.debtor_line_key(e) for e in held}
    # the same seed gives the same split; the demand a line may carry does not change its key
    assert [e["id"] for e in trainer.validation_split(examples, 0.1, 20261130)[1]] == [e["id"] for e in held]
    plain = {"debtor_text": "I lost my job."}
    demand = {"debtor_text": "I lost my job. Give me 45 days."}
    assert trainer.debtor_line_key(plain) == trainer.debtor_line_key(demand)
