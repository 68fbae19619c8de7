"""ASR word error rate on the simulated debtors' speech: debtor lines from every persona are
synthesised with Piper (the demo's debtor voice), resampled to 16 kHz and recognised with the
configured Whisper model. Prints per-line errors, the corpus WER and the real-time factor.

    .venv/bin/python scripts/bench_asr.py [--lines-per-persona 4] [--seed 3]
"""

import argparse
import random
import time

from eq_negotiator_ros.config import TtsConfig, load_config
from eq_negotiator_ros.demo.session import DEBTOR_LENGTH_SCALE
from eq_negotiator_ros.eq.records import Offer
from eq_negotiator_ros.sim.debtor import DebtorSimulator, load_personas
from eq_negotiator_ros.sim.scenarios import load_scenarios
from eq_negotiator_ros.speech.asr import SpeechRecognizer
from eq_negotiator_ros.speech.audio import resample
from eq_negotiator_ros.speech.tts import SpeechSynthesizer
from eq_negotiator_ros.speech.wer import word_errors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines-per-persona", type=int, default=4)
    parser.add_argument("--seed", type=int, default=3)
    args = parser.parse_args()
    config = load_config()
    voice = SpeechSynthesizer(TtsConfig(length_scale=DEBTOR_LENGTH_SCALE))
    recognizer = SpeechRecognizer(config.asr)
    scenarios = load_scenarios()
    rng = random.Random(args.seed)
    errors = words = 0
    audio_s = asr_s = 0.0
    for name, persona in sorted(load_personas().items()):
        debtor = DebtorSimulator(persona, config.eq.model)
        scenario = rng.choice(scenarios)
        debtor.reset(scenario, rng.randrange(1 << 30))
        offer = Offer(days=scenario.creditor_target_days)
        for _ in range(args.lines_per_persona):
            text = debtor.respond(rng.choice(("neutral", "anger", "sadness", "joy")), offer).text
            samples = resample(voice.synthesize(text), voice.sample_rate_hz, 16000)
            started = time.perf_counter()
            heard = recognizer.transcribe(samples).text
            asr_s += time.perf_counter() - started
            audio_s += len(samples) / 16000
            counted = word_errors(text, heard)
            line_errors = counted.substitutions + counted.deletions + counted.insertions
            line_words = counted.reference_words
            errors, words = errors + line_errors, words + line_words
            print(f"{line_errors / max(1, line_words):5.2f}  {name:<13} {text!r} -> {heard!r}")
    print(
        f"\nWER {errors / max(1, words):.3f} over {words} words; ASR real-time factor {asr_s / audio_s:.2f} "
        f"({asr_s:.1f} s for {audio_s:.1f} s of speech)"
    )


if __name__ == "__main__":
    main()
