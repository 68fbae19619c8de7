"""`eq-negotiator doctor` with the real installation, and with a model path that is wrong."""

import json
import subprocess
import sys
from pathlib import Path

EQ = str(Path(sys.prefix) / "bin" / "eq-negotiator")


def doctor(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([EQ, *args, "doctor", "--json"], capture_output=True, text=True, timeout=300)


def test_doctor_passes_on_this_installation():
    result = doctor()
    report = json.loads(result.stdout)
    failures = [c for c in report["checks"] if c["status"] == "FAIL"]
    assert result.returncode == 0, failures
    names = {c["name"] for c in report["checks"]}
    assert {
        "ros2 rclpy",
        "interfaces",
        "language model",
        "speech recognition",
        "text to speech",
        "emotion detector",
        "audio output",
        "run directory",
    } <= names
    language_model = next(c for c in report["checks"] if c["name"] == "language model")
    assert "sha256 ok" in language_model["detail"] and "loads in" in language_model["detail"]


def test_doctor_fails_and_names_the_key_when_the_language_model_is_missing(tmp_path):
    missing = tmp_path / "no-such-model.gguf"
    result = doctor("--set", f"llm.model_path={missing}")
    assert result.returncode == 1
    check = next(c for c in json.loads(result.stdout)["checks"] if c["name"] == "language model")
    assert check["status"] == "FAIL"
    assert str(missing) in check["detail"] and "llm.model_path" in check["detail"]
    assert check["fix"]


def test_doctor_fails_on_a_file_that_is_not_a_model(tmp_path):
    not_a_model = tmp_path / "notes.gguf"
    not_a_model.write_text("these are not weights")
    result = doctor(
        "--set", f"llm.model_path={not_a_model}", "--set", f"tts.voice_path={tmp_path / 'missing.onnx'}"
    )
    checks = {c["name"]: c for c in json.loads(result.stdout)["checks"]}
    assert result.returncode == 1
    assert checks["language model"]["status"] == "FAIL" and "GGUF" in checks["language model"]["detail"]
    assert (
        checks["text to speech"]["status"] == "FAIL"
        and "tts.voice_path" in checks["text to speech"]["detail"]
    )
    assert checks["ros2 rclpy"]["status"] == "ok"


def test_a_broken_config_is_one_clear_line_not_a_traceback(tmp_path):
    config = tmp_path / "negotiator.yaml"
    config.write_text(
        Path(__file__)
        .resolve()
        .parents[2]
        .joinpath("config", "negotiator.yaml")
        .read_text()
        .replace("cooperative: [0.50, 0.15, 0.15, 0.20]", "cooperative: [0.50, 0.15, 0.15]")
    )
    result = subprocess.run(
        [EQ, "--config", str(config), "doctor"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    assert "eq.transition.cooperative" in result.stderr
    assert "Traceback" not in result.stderr
