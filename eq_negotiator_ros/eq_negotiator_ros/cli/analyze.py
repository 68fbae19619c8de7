"""`eq-negotiator analyze`: the debtor's emotion, offer and acceptance for each line of JSON.

    echo '{"text": "Fine, 200 now and the rest in 90 days."}' | eq-negotiator analyze
    eq-negotiator analyze --input utterances.jsonl --detector llm

Each input line is an object with a "text" field (a bare JSON string is accepted too). Each output
line is {"text", "emotion", "emotion_probs", "offer_days", "offer_amount", "acceptance"}; a line that
cannot be read gives {"line": n, "error": "..."} and processing goes on. The exit code is non-zero
only when the input file cannot be read, or the detector cannot be loaded.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, Iterable, TextIO


def add_parser(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--input", "-i", type=Path, default=None, help="JSON-lines file (default: stdin)")
    parser.add_argument("--output", "-o", type=Path, default=None, help="write here instead of stdout")
    parser.add_argument(
        "--detector",
        choices=("trained", "llm"),
        default=None,
        help="emotion detector (default: detector.kind of the config)",
    )


def run(args: argparse.Namespace) -> int:
    from ..config import ConfigError
    from . import load_cli_config

    try:
        config = load_cli_config(args, forced={"detector.kind": args.detector} if args.detector else None)
    except ConfigError as error:
        print(f"eq-negotiator analyze: {error}", file=sys.stderr)
        return 2

    lines: Iterable[str]
    if args.input is not None:
        try:
            lines = args.input.expanduser().read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError as error:
            print(
                f"eq-negotiator analyze: cannot read {args.input}: {error.strerror or error}; "
                f"pass an existing JSON-lines file with --input, or pipe lines on stdin",
                file=sys.stderr,
            )
            return 1
    else:
        if hasattr(sys.stdin, "reconfigure"):
            sys.stdin.reconfigure(errors="replace")  # undecodable bytes must not end the run
        lines = sys.stdin

    detector = _make_detector(config)
    if detector is None:
        return 1
    from ..eq.extraction import extract_terms

    output: TextIO
    if args.output is not None:
        try:
            output = args.output.expanduser().open("w", encoding="utf-8")
        except OSError as error:
            print(
                f"eq-negotiator analyze: cannot write {args.output}: {error.strerror or error}",
                file=sys.stderr,
            )
            return 1
    else:
        output = sys.stdout
    try:
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            result = analyze_line(line, number, detector, extract_terms)
            output.write(json.dumps(result, ensure_ascii=False) + "\n")
            output.flush()
    finally:
        if output is not sys.stdout:
            output.close()
    return 0


def _make_detector(config: Any) -> Any:
    from ..eq.detection import DetectorModelError, make_detector

    try:
        return make_detector(config)
    except (DetectorModelError, FileNotFoundError, ImportError) as error:
        print(
            f"eq-negotiator analyze: cannot load the {config.detector.kind} emotion detector: {error}",
            file=sys.stderr,
        )
        return None


def analyze_line(line: str, number: int, detector: Any, extract_terms: Any) -> dict[str, Any]:
    """One output object for one input line; never raises: whatever goes wrong with one line
    (JSON nested too deeply to parse, a text the detector or the extraction trips on) becomes that
    line's error record, and the lines after it are still read."""
    try:
        return _analyze_line(line, number, detector, extract_terms)
    except RecursionError:
        return {"line": number, "error": 'JSON nested too deeply to read; expected {"text": "..."}'}
    except Exception as error:  # noqa: BLE001 - one bad line must not end the run (module docstring)
        return {"line": number, "error": f"cannot analyse this line ({type(error).__name__}: {error})"}


def _analyze_line(line: str, number: int, detector: Any, extract_terms: Any) -> dict[str, Any]:
    try:
        item = json.loads(line)
    except json.JSONDecodeError as error:
        return {
            "line": number,
            "error": f'not valid JSON ({error.msg} at column {error.colno}); expected {{"text": "..."}}',
        }
    if isinstance(item, str):
        text = item
    elif isinstance(item, dict) and isinstance(item.get("text"), str):
        text = item["text"]
    else:
        return {
            "line": number,
            "error": 'expected an object with a string field "text", e.g. {"text": "I can do 90 days"}',
        }
    # JSON escapes can carry half an emoji (a lone surrogate), which no output encoding can write.
    text = text.encode("utf-8", "replace").decode("utf-8")
    reading = detector.detect(text)
    terms = extract_terms(text)
    return {
        "text": text,
        "emotion": reading.dominant,
        "emotion_probs": {label: round(p, 4) for label, p in reading.as_dict().items()},
        "offer_days": terms.offer_days,
        "offer_amount": terms.upfront_amount,
        "acceptance": terms.acceptance,
    }
