#!/usr/bin/env python3
"""Train the text emotion detector on the project's debtor corpus and save it.

    .venv/bin/python scripts/train_detector.py            # writes the shipped model file
    .venv/bin/python scripts/train_detector.py --out /tmp/detector.joblib

Deterministic: fixed corpus split, fixed folds and solver; the same inputs give the same file
contents. Prints held-out macro-F1 on the corpus test split.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PACKAGE_DIR = REPO / "eq_negotiator_ros" / "eq_negotiator_ros"
CORPUS_DIR = PACKAGE_DIR / "data" / "emotion_corpus"
sys.path.insert(0, str(REPO / "eq_negotiator_ros"))  # run from a checkout without installing

from eq_negotiator_ros.eq import detection  # noqa: E402
from eq_negotiator_ros.eq.emotions import EMOTIONS  # noqa: E402


def read_jsonl(path: Path) -> list[dict]:
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            row = json.loads(line)
            if row.get("label") not in EMOTIONS or not isinstance(row.get("text"), str):
                raise SystemExit(f"{path}:{number}: each line needs a text and a label in {EMOTIONS}")
            rows.append(row)
    return rows


def macro_f1(gold: list[str], predicted: list[str]) -> tuple[float, dict[str, float]]:
    per_class = {}
    for label in EMOTIONS:
        tp = sum(1 for g, p in zip(gold, predicted) if g == label and p == label)
        fp = sum(1 for g, p in zip(gold, predicted) if g != label and p == label)
        fn = sum(1 for g, p in zip(gold, predicted) if g == label and p != label)
        per_class[label] = 2 * tp / (2 * tp + fp + fn) if tp else 0.0
    return sum(per_class.values()) / len(per_class), per_class


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", type=Path, default=CORPUS_DIR / "train.jsonl")
    parser.add_argument("--test", type=Path, default=CORPUS_DIR / "test.jsonl")
    parser.add_argument("--out", type=Path, default=detection.DEFAULT_MODEL_PATH)
    parser.add_argument("--c", type=float, default=10.0, help="inverse regularisation strength")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    import joblib

    train = read_jsonl(args.train)
    test = read_jsonl(args.test)
    started = time.perf_counter()
    model = detection.train_model([r["text"] for r in train], [r["label"] for r in train], regularisation_c=args.c, seed=args.seed,
        calibrate_on=[r.get("origin", "written") == "written" for r in train],
    )
    print(f"trained on {len(train)} utterances in {time.perf_counter() - started:.1f} s; "
          f"out-of-fold accuracy {model['metadata']['out_of_fold_accuracy']:.3f}, temperature {model['temperature']}")

    detector = detection.TrainedEmotionDetector(model)
    predicted = [detector.detect(r["text"]).dominant for r in test]
    score, per_class = macro_f1([r["label"] for r in test], predicted)
    print(f"held-out macro-F1 {score:.3f} on {len(test)} utterances")
    print("per class: " + ", ".join(f"{k} {v:.2f}" for k, v in per_class.items()))
    written = [r for r in test if r.get("origin") == "written"]
    if written:
        w_score, _ = macro_f1([r["label"] for r in written], [detector.detect(r["text"]).dominant for r in written])
        print(f"held-out macro-F1 on hand-written utterances only: {w_score:.3f} ({len(written)})")

    args.out.parent.mkdir(parents=True, exist_ok=True)
    joblib.dump(model, args.out, compress=3)
    print(f"wrote {args.out} ({args.out.stat().st_size / 1e6:.2f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
