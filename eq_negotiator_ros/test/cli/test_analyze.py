"""`eq-negotiator analyze`: JSON lines in, one JSON line out per input, errors per line."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from eq_negotiator_ros.cli import main
from eq_negotiator_ros.eq.emotions import EMOTIONS

FIELDS = {"text", "emotion", "emotion_probs", "offer_days", "offer_amount", "acceptance"}


def _run(monkeypatch, capsys, argv: list[str], stdin: str = "") -> tuple[int, list[dict], str]:
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    code = main(["analyze", *argv])
    captured = capsys.readouterr()
    return code, [json.loads(line) for line in captured.out.splitlines() if line.strip()], captured.err


def test_reads_stdin_and_writes_one_line_per_input(monkeypatch, capsys):
    stdin = "\n".join(
        json.dumps({"text": t})
        for t in [
            "Two hundred now and the rest in 90 days.",
            "I'll sue you if you call again!",
            "Okay, deal, I accept.",
        ]
    )
    code, rows, _ = _run(monkeypatch, capsys, [], stdin)
    assert code == 0
    assert len(rows) == 3
    for row in rows:
        assert set(row) == FIELDS
        assert set(row["emotion_probs"]) == set(EMOTIONS)
        assert sum(row["emotion_probs"].values()) == pytest.approx(1.0, abs=1e-3)
        assert row["emotion"] == max(row["emotion_probs"], key=row["emotion_probs"].get)
    offer, threat, accept = rows
    assert offer["text"] == "Two hundred now and the rest in 90 days."
    assert offer["offer_days"] == 90
    assert offer["offer_amount"] == 200
    assert threat["emotion"] == "anger"
    assert threat["offer_days"] is None and threat["acceptance"] is None
    assert accept["acceptance"] == "accept"


def test_malformed_lines_give_an_error_line_and_processing_goes_on(monkeypatch, capsys):
    stdin = (
        'not json\n{"txt": "no text field"}\n[1, 2]\n\n"a bare string works"\n'
        '{"text": ""}\n{"text": "\\ud83d angry"}\n'
    )
    code, rows, _ = _run(monkeypatch, capsys, [], stdin)
    assert code == 0
    assert len(rows) == 6  # the blank line is skipped
    assert rows[0]["line"] == 1 and "JSON" in rows[0]["error"]
    assert rows[1]["line"] == 2 and '"text"' in rows[1]["error"]
    assert rows[2]["line"] == 3 and "error" in rows[2]
    assert rows[3]["text"] == "a bare string works" and "emotion" in rows[3]
    assert rows[4]["emotion"] == "neutral"  # empty text: defined, low-confidence result
    assert set(rows[5]) == FIELDS  # a lone surrogate half (broken emoji) still gives a result


def test_input_file_and_output_file(tmp_path, monkeypatch, capsys):
    source = tmp_path / "in.jsonl"
    source.write_text('{"text": "I\'m scared you will take my house."}\n', encoding="utf-8")
    target = tmp_path / "out.jsonl"
    code, rows, _ = _run(monkeypatch, capsys, ["--input", str(source), "--output", str(target)])
    assert code == 0 and rows == []
    written = [json.loads(line) for line in target.read_text(encoding="utf-8").splitlines()]
    assert written[0]["emotion"] == "fear"


def test_unreadable_input_file_is_the_only_failure(tmp_path, monkeypatch, capsys):
    code, rows, err = _run(monkeypatch, capsys, ["--input", str(tmp_path / "missing.jsonl")])
    assert code != 0
    assert rows == []
    assert "missing.jsonl" in err


def test_detector_option_is_validated(monkeypatch, capsys):
    with pytest.raises(SystemExit):
        _run(monkeypatch, capsys, ["--detector", "telepathy"])


def test_installed_command_reads_stdin():
    command = Path(sys.executable).with_name("eq-negotiator")
    if not command.exists():
        pytest.skip("eq-negotiator is not installed in this environment")
    result = subprocess.run(
        [str(command), "analyze", "--detector", "trained"],
        input='{"text": "Wait, really? You would accept 120 days?"}\n',
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ},
    )
    assert result.returncode == 0, result.stderr
    row = json.loads(result.stdout.splitlines()[0])
    assert row["emotion"] == "surprise"
    assert row["offer_days"] == 120


def test_a_deeply_nested_line_is_one_error_and_the_lines_after_it_are_read(monkeypatch, capsys):
    # 100000 nested arrays exceed the JSON parser's recursion limit (RecursionError, not JSONDecodeError).
    deep = "[" * 100000 + "]" * 100000
    stdin = (
        "\n".join(
            [
                json.dumps({"text": "I can do 90 days."}),
                deep,
                '{"text": {"deep": ' + deep + "}}",
                json.dumps({"text": "Fine, I accept."}),
            ]
        )
        + "\n"
    )
    code, rows, err = _run(monkeypatch, capsys, [], stdin)
    assert code == 0, err
    assert len(rows) == 4
    assert rows[0]["offer_days"] == 90
    assert rows[1] == {"line": 2, "error": rows[1]["error"]} and "nested too deeply" in rows[1]["error"]
    assert rows[2]["line"] == 3 and "nested too deeply" in rows[2]["error"]
    assert rows[3]["acceptance"] == "accept"


class _FailingDetector:
    """Trips on one text, as a detector bug or a model error would; neutral otherwise."""

    name = "failing"

    def detect(self, text, prosody=None):
        from eq_negotiator_ros.eq.records import EmotionReading

        if "trip" in text:
            raise ValueError("cannot score this text")
        return EmotionReading.neutral_low_confidence()


@pytest.mark.parametrize("line", ['{"text": "please trip here"}', '"trip"'])
def test_a_line_the_detector_fails_on_is_one_error_record(line):
    from eq_negotiator_ros.cli.analyze import analyze_line
    from eq_negotiator_ros.eq.extraction import extract_terms

    detector = _FailingDetector()
    result = analyze_line(line, 7, detector, extract_terms)
    assert result == {"line": 7, "error": "cannot analyse this line (ValueError: cannot score this text)"}
    assert analyze_line('{"text": "90 days then"}', 8, detector, extract_terms)["offer_days"] == 90
