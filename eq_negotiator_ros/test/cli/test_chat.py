"""`eq-negotiator chat --json`: a piped conversation gives one JSON object per agent turn on
standard output and nothing else; blank lines in a script do not end it."""

from __future__ import annotations

import io
import json

import pytest

from eq_negotiator_ros.cli import main

SCRIPT = (
    "My wife is in hospital and the shop has been closed for weeks. I can pay in 90 days.\n"
    "\n"
    "If you call me again my lawyer will sue you. 120 days.\n"
)


def chat(monkeypatch, capsys, *argv: str) -> tuple[list[dict], str]:
    monkeypatch.setattr("sys.stdin", io.StringIO(SCRIPT))
    assert main(["chat", "--json", *argv]) == 0
    captured = capsys.readouterr()
    return [json.loads(line) for line in captured.out.splitlines()], captured.err


def test_templates_conversation_as_json(monkeypatch, capsys) -> None:
    turns, err = chat(monkeypatch, capsys, "--templates")
    assert "reading debtor lines from standard input" in err
    assert [t["debtor_text"] for t in turns][:3] == ["", SCRIPT.splitlines()[0], SCRIPT.splitlines()[2]]
    opening, first = turns[0], turns[1]
    assert opening["reading"] is None and opening["decision"]["intent"] == "greet"
    assert first["reading"]["dominant"] in first["reading"]["probabilities"]
    assert set(first["belief"]) == {"cooperative", "confrontational", "distressed", "strategic"}
    for turn in turns:
        assert turn["from_fallback"] and not turn["model_words_survived"]
        assert f"{turn['offer']['days']} days" in turn["reply"] or turn["decision"]["intent"] == "clarify"
        assert turn["reply"] == " ".join(s["text"] for s in turn["sentences"])


@pytest.mark.models
def test_model_conversation_reports_who_wrote_each_sentence(monkeypatch, capsys) -> None:
    turns, _ = chat(monkeypatch, capsys)
    for turn in turns:
        sources = [s["source"] for s in turn["sentences"]]
        assert sources[0] == "opener" and sources[-1] == "terms"
        assert turn["model_words_survived"] == ("model" in sources)
        assert turn["first_sentence_s"] is not None
