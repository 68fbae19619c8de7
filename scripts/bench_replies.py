#!/usr/bin/env python3
"""Benchmark of the creditor's replies on the held-out reply corpus: persona adapter vs the bare
base model vs the written templates.

    .venv/bin/python scripts/bench_replies.py                       # all three, the whole split
    .venv/bin/python scripts/bench_replies.py --systems templates   # no model (seconds)
    .venv/bin/python scripts/bench_replies.py --limit 64 --out runs/bench_replies.json
    .venv/bin/python scripts/bench_replies.py --voices                   # the persona voices only

The held-out split (data/reply_corpus/heldout.jsonl, written apart from the training split) is
replayed as conversations of 8 turns (examples 1-8, 9-16, ...): each turn's Directive comes from
the example (its emotion, intent and terms; the turn number is the position in the conversation),
the history is the conversation so far. Each system answers through the real pipeline
(llm/phrasing.py phrase_reply: opener, model sentences checked by the guard and for invented
facts, the code's terms sentence). Figures, per system:

- guard pass: share of replies whose model sentences all pass the reply guard, as the model wrote
  them (before anything is dropped); templates: their sentences.
- own words survive: share of replies in which at least one sentence the model wrote is spoken.
- invented facts: share of replies whose model text, as written, names a fact word (a relative, an
  illness, a job, a possession, a day...; llm/grounding.py) the debtor never said; and the same in
  what was spoken (the pipeline drops such sentences, so this should be 0).
- grounding: mean share of the content words of the spoken acknowledgment (the first model
  sentence) that the debtor said or that are in a small list of acknowledging words.
- persona fidelity: share of replies that the persona judge (llm/persona_judge.py: n-grams and
  the MiniLM sentence embedding, logistic regression), trained apart on
  data/reply_corpus/persona_lines.py, labels with the intended creditor emotion; the judge's
  accuracy on that module's own held-out lines is printed first. Three times: on the reply as the
  person hears it (opener, model sentences, the code's terms sentence), on the reply without the
  terms sentence, and on the model's own spoken sentences alone (replies where none survived count
  as misses). The corpus's own reference replies are judged too, as the ceiling a generator that
  reproduced the corpus would reach.
- distinct-2: distinct word bigrams / all word bigrams of the spoken replies of each 8-turn
  conversation, averaged over conversations (1.0 = nothing repeats).
- first sentence p50/p95: time from the Directive to the first spoken sentence; first model
  sentence p50/p95: to the first sentence the model wrote (when one survives).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import re
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "eq_negotiator_ros"))

from eq_negotiator_ros.config import load_config  # noqa: E402
from eq_negotiator_ros.data.reply_corpus.build_corpus import directive_of  # noqa: E402
from eq_negotiator_ros.data.reply_corpus.persona_lines import PERSONA_LINES, PERSONA_LINES_HELDOUT  # noqa: E402
from eq_negotiator_ros.eq.records import Scenario  # noqa: E402
from eq_negotiator_ros.llm.generation import all_sentences  # noqa: E402
from eq_negotiator_ros.llm.grounding import grounded_share, invented_facts  # noqa: E402
from eq_negotiator_ros.llm.guard import check_reply  # noqa: E402
from eq_negotiator_ros.llm.phrasing import ReplySentence, model_words_survived, phrase_reply  # noqa: E402

CORPUS = REPO / "eq_negotiator_ros" / "eq_negotiator_ros" / "data" / "reply_corpus"
TURNS_PER_CONVERSATION = 8
SCENARIO = Scenario(
    scenario_id="bench_replies", creditor_target_days=30, debtor_target_days=90, outstanding_balance=5000.0
)


class RecordingLlama:
    """Passes calls to the model and keeps the text each call streamed (what it wrote, before any
    check): a reply samples again after a refused acknowledgment or a repeated persona sentence,
    and everything it wrote counts as written."""

    def __init__(self, llama: Any) -> None:
        self.llama = llama
        self.metadata = getattr(llama, "metadata", {})
        self.texts: list[str] = []

    def tokenize(self, text: bytes, add_bos: bool = True) -> list[int]:
        return self.llama.tokenize(text, add_bos=add_bos)

    def __call__(self, prompt: str, **kwargs: Any):
        self.texts.append("")
        for chunk in self.llama(prompt, **kwargs):
            self.texts[-1] += (chunk.get("choices") or [{}])[0].get("text") or ""
            yield chunk

    def written_sentences(self) -> list[str]:
        """The sentences of every call's first line (the reply stops at a line break)."""
        return [s for text in self.texts for s in all_sentences(text.split("\n")[0].strip())]


def persona_judge():
    """The persona judge trained on persona_lines.py, and its accuracy on the module's own
    held-out lines (written apart from its training lines)."""
    from eq_negotiator_ros.llm.persona_judge import judge_accuracy, load_encoder_or_none, train_judge

    judge = train_judge(PERSONA_LINES, load_encoder_or_none())
    tested = sum(len(lines) for lines in PERSONA_LINES_HELDOUT.values())
    return judge, judge_accuracy(judge, PERSONA_LINES_HELDOUT), tested


def reference_fidelity(examples: list[dict], judge) -> dict[str, float]:
    """How the judge rates the corpus's own replies: the ceiling for a generator that reproduced them."""
    heard = judge.predict([e["reply"] for e in examples])
    whole = judge.predict([f"{e['opener']} {e['model_text']}" for e in examples])
    model = judge.predict([e["model_text"] for e in examples])
    return {
        "reply": sum(p == e["emotion"] for p, e in zip(heard, examples)) / len(examples),
        "reply_without_terms": sum(p == e["emotion"] for p, e in zip(whole, examples)) / len(examples),
        "model_text": sum(p == e["emotion"] for p, e in zip(model, examples)) / len(examples),
    }


def distinct_2(texts: list[str]) -> float:
    bigrams = []
    for text in texts:
        words = re.findall(r"[a-z0-9']+", text.lower())
        bigrams.extend(zip(words, words[1:]))
    return len(set(bigrams)) / len(bigrams) if bigrams else 0.0


def template_parts(directive) -> list[ReplySentence]:
    from eq_negotiator_ros.llm.fallback import fallback_reply

    sentences = fallback_reply(directive, SCENARIO).sentences
    return [
        ReplySentence(index=i, text=s, final=i == len(sentences) - 1, from_fallback=True, source="template")
        for i, s in enumerate(sentences)
    ]


def run_system(name: str, examples: list[dict], llama: Any, llm_config, guidance: Any = None) -> list[dict]:
    results = []
    for start in range(0, len(examples) - TURNS_PER_CONVERSATION + 1, TURNS_PER_CONVERSATION):
        history: list[tuple[str, str]] = []
        for position, example in enumerate(examples[start : start + TURNS_PER_CONVERSATION]):
            directive = dataclasses.replace(
                directive_of(example), turn=position + 1, temperature=llm_config.temperature(position + 1)
            )
            history.append(("Debtor", example["debtor_text"]))
            started = time.perf_counter()
            first_s = first_model_s = None
            parts: list[ReplySentence] = []
            recorder = RecordingLlama(llama) if llama is not None else None
            stream = (
                template_parts(directive)
                if llama is None
                else phrase_reply(
                    directive, SCENARIO, history[-8:], recorder, llm_config, "persona", guidance=guidance
                )
            )
            for part in stream:
                now = time.perf_counter() - started
                if part.text and first_s is None:
                    first_s = now
                if part.text and part.source == "model" and first_model_s is None:
                    first_model_s = now
                parts.append(part)
            spoken = [p for p in parts if p.text]
            written = recorder.texts if recorder is not None else []
            heard = [example["debtor_text"]] + [t for s, t in history if s == "Debtor"]
            if llama is None:
                model_sentences = [p.text for p in spoken]
            else:
                model_sentences = recorder.written_sentences()
            model_spoken = [p.text for p in spoken if p.source == "model"]
            results.append(
                {
                    "system": name,
                    "id": example["id"],
                    "conversation": start // TURNS_PER_CONVERSATION,
                    "emotion": example["emotion"],
                    "intent": example["intent"],
                    "debtor_text": example["debtor_text"],
                    "reply": " ".join(p.text for p in spoken),
                    "persona_text": " ".join(p.text for p in spoken if p.source != "terms"),
                    "model_text": " ".join(model_spoken),
                    "model_written": " | ".join(text.split("\n")[0].strip() for text in written),
                    "model_calls": len(written),
                    "guard_pass": all(check_reply(s, directive).ok for s in model_sentences)
                    if model_sentences
                    else None,
                    "spoken_guard_pass": all(check_reply(p.text, directive).ok for p in spoken),
                    "model_words_survived": model_words_survived(parts) if llama is not None else False,
                    "invented_written": sorted({w for s in model_sentences for w in invented_facts(s, heard)})
                    if llama is not None
                    else [],
                    "invented_spoken": sorted({w for s in model_spoken for w in invented_facts(s, heard)}),
                    "grounding": grounded_share(model_spoken[0], heard) if model_spoken else None,
                    "from_fallback": any(p.from_fallback for p in parts) if llama is not None else True,
                    "first_sentence_s": first_s,
                    "first_model_sentence_s": first_model_s,
                }
            )
            history.append(("Agent", results[-1]["reply"]))
    return results


def percentile(values: list[float], q: float) -> float | None:
    import numpy as np

    return float(np.percentile(values, q)) if values else None


def summarise(results: list[dict], judge) -> dict[str, Any]:
    n = len(results)
    guard = [r["guard_pass"] for r in results if r["guard_pass"] is not None]
    grounding = [r["grounding"] for r in results if r["grounding"] is not None]
    heard = judge.predict([r["reply"] for r in results])
    predicted = judge.predict([r["persona_text"] for r in results])
    own = [r for r in results if r["model_text"]]
    own_predicted = dict(zip((r["id"] for r in own), judge.predict([r["model_text"] for r in own])))
    conversations: dict[int, list[str]] = {}
    for r in results:
        conversations.setdefault(r["conversation"], []).append(r["reply"])
    firsts = [r["first_sentence_s"] for r in results if r["first_sentence_s"] is not None]
    model_firsts = [r["first_model_sentence_s"] for r in results if r["first_model_sentence_s"] is not None]
    return {
        "replies": n,
        "guard_pass": sum(guard) / len(guard) if guard else None,
        "spoken_guard_pass": sum(r["spoken_guard_pass"] for r in results) / n,
        "own_words_survive": sum(r["model_words_survived"] for r in results) / n,
        "invented_facts_written": sum(bool(r["invented_written"]) for r in results) / n,
        "invented_facts_spoken": sum(bool(r["invented_spoken"]) for r in results) / n,
        "grounding": sum(grounding) / len(grounding) if grounding else None,
        "persona_fidelity_heard": sum(p == r["emotion"] for p, r in zip(heard, results)) / n,
        "persona_fidelity": sum(p == r["emotion"] for p, r in zip(predicted, results)) / n,
        "persona_fidelity_model": sum(own_predicted.get(r["id"]) == r["emotion"] for r in results) / n,
        "distinct_2": sum(distinct_2(texts) for texts in conversations.values()) / len(conversations),
        "repeated_persona_sentences": repeated_persona_sentences(results),
        "first_sentence_p50_s": percentile(firsts, 50),
        "first_sentence_p95_s": percentile(firsts, 95),
        "first_model_sentence_p50_s": percentile(model_firsts, 50),
        "first_model_sentence_p95_s": percentile(model_firsts, 95),
    }


def _persona_sentence(reply: dict) -> str | None:
    """The last of the model's spoken sentences when it wrote more than the acknowledgment."""
    sentences = all_sentences(reply["model_text"] or "")
    return sentences[-1] if len(sentences) >= 2 else None


def repeated_persona_sentences(results: list[dict]) -> float | None:
    """Share of the replies with a persona sentence whose persona sentence the agent already said
    earlier in the same conversation (results are in conversation order)."""
    said: dict[int, set[str]] = {}
    counted = repeated = 0
    for r in results:
        sentence = _persona_sentence(r)
        if sentence is None:
            continue
        earlier = said.setdefault(r["conversation"], set())
        counted += 1
        repeated += sentence in earlier
        earlier.add(sentence)
    return repeated / counted if counted else None


def fmt(value: Any, kind: str = "share") -> str:
    if value is None:
        return "n/a"
    if kind == "share":
        return f"{100 * value:.1f}%"
    if kind == "s":
        return f"{1000 * value:.0f} ms"
    return f"{value:.3f}"


def bench_voices(heldout: str, replies: int = 12) -> int:
    """Each creditor emotion's voice speaking the same replies (the first held-out ones, terms
    included): speaking rate (words per second of audio, pauses included), pitch variability
    (semitones) and median pitch, measured on the audio (speech/prosody.py)."""
    from eq_negotiator_ros.eq.emotions import EMOTIONS
    from eq_negotiator_ros.speech.tts import SpeechSynthesizer, measure_voice

    with open(heldout, encoding="utf-8") as handle:
        texts = [json.loads(line)["reply"] for line in handle if line.strip()][:replies]
    synthesizer = SpeechSynthesizer(load_config().tts)
    print(
        f"\n| voice ({len(texts)} held-out replies) | length / noise / noise_w / pause | words per second | "
        "pitch variability | median pitch |"
    )
    print("|---|---|---|---|---|")
    for emotion in ("",) + tuple(EMOTIONS):
        style = synthesizer.style_for(emotion)
        m = measure_voice(synthesizer, texts, emotion)
        print(
            f"| {emotion or 'no persona'} | {style.length_scale} / {style.noise_scale} / {style.noise_w} / "
            f"{style.sentence_pause_s} s | {m['speaking_rate_wps']:.2f} | "
            f"{m['pitch_variability_semitones']:.2f} st | {m['pitch_hz']:.0f} Hz |"
        )
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--systems", default="adapter,base,templates", help="comma-separated: adapter, base, templates"
    )
    parser.add_argument("--heldout", default=str(CORPUS / "heldout.jsonl"))
    parser.add_argument(
        "--adapter", default="", help="GGUF LoRA adapter (default: the one the package ships)"
    )
    parser.add_argument(
        "--limit", type=int, default=0, help="use only the first N examples (a multiple of 8)"
    )
    parser.add_argument("--out", default="", help="write every reply and the summary to this JSON file")
    parser.add_argument(
        "--timeout-s",
        type=float,
        default=0,
        help="llm.timeout_s for this run (0 = the config's); on a machine shared with other work a "
        "longer one measures the words rather than the waiting",
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=None,
        help="llm.seed for this run (default: the config's); runs with other seeds show the spread "
        "that sampling alone gives every figure",
    )
    parser.add_argument(
        "--guidance",
        type=float,
        default=None,
        help="llm.persona_guidance for this run (default: the config's; 1.0 = off)",
    )
    parser.add_argument(
        "--voices",
        action="store_true",
        help="measure the persona voices instead (tts.persona_voice): speaking rate and pitch",
    )
    args = parser.parse_args()
    if args.voices:
        return bench_voices(args.heldout)

    with open(args.heldout, encoding="utf-8") as handle:
        examples = [json.loads(line) for line in handle if line.strip()]
    if args.limit:
        examples = examples[: args.limit]
    config = load_config()
    if args.timeout_s:
        config = dataclasses.replace(config, llm=dataclasses.replace(config.llm, timeout_s=args.timeout_s))
    if args.seed is not None:
        config = dataclasses.replace(config, llm=dataclasses.replace(config.llm, seed=args.seed))
    if args.guidance is not None:
        config = dataclasses.replace(
            config, llm=dataclasses.replace(config.llm, persona_guidance=args.guidance)
        )
    judge, accuracy, tested = persona_judge()
    ceiling = reference_fidelity(examples, judge)
    features = "n-grams + sentence embedding" if judge.uses_encoder else "n-grams"
    print(
        f"persona judge (persona_lines.py, {features}): {100 * accuracy:.1f}% on its own held-out lines "
        f"({tested}); the corpus's reference replies: {100 * ceiling['reply']:.1f}% as heard, "
        f"{100 * ceiling['reply_without_terms']:.1f}% without the terms sentence, "
        f"{100 * ceiling['model_text']:.1f}% on the model's part",
        flush=True,
    )
    systems = [s.strip() for s in args.systems.split(",") if s.strip()]
    summaries: dict[str, Any] = {}
    everything: list[dict] = []
    for name in systems:
        llama = guidance = None
        if name in ("adapter", "base"):
            from eq_negotiator_ros.llm.model import PERSONA_ADAPTER, load_llama, load_persona_guidance

            lora = (args.adapter or str(PERSONA_ADAPTER)) if name == "adapter" else "off"
            if name == "adapter" and not Path(lora).is_file():
                print(f"adapter: {lora} not found, skipped", flush=True)
                continue
            llm_config = dataclasses.replace(config.llm, lora_path=lora)
            llama = load_llama(llm_config)
            guidance = load_persona_guidance(llm_config)
        elif name != "templates":
            raise SystemExit(f"unknown system {name!r}: use adapter, base or templates")
        started = time.perf_counter()
        results = run_system(name, examples, llama, config.llm, guidance)
        summaries[name] = summarise(results, judge)
        everything.extend(results)
        print(f"{name}: {len(results)} replies in {time.perf_counter() - started:.0f} s", flush=True)

    rows = [
        ("guard pass (model text as written)", "guard_pass", "share"),
        ("guard pass (spoken)", "spoken_guard_pass", "share"),
        ("model's own words survive", "own_words_survive", "share"),
        ("invented facts (as written)", "invented_facts_written", "share"),
        ("invented facts (spoken)", "invented_facts_spoken", "share"),
        ("grounding of the acknowledgment", "grounding", "share"),
        ("persona fidelity (the reply as heard)", "persona_fidelity_heard", "share"),
        ("persona fidelity (reply without the terms sentence)", "persona_fidelity", "share"),
        ("persona fidelity (the model's own spoken sentences)", "persona_fidelity_model", "share"),
        ("distinct-2 per 8-turn conversation", "distinct_2", "num"),
        ("persona sentence said again in the conversation", "repeated_persona_sentences", "share"),
        ("first sentence p50", "first_sentence_p50_s", "s"),
        ("first sentence p95", "first_sentence_p95_s", "s"),
        ("first model sentence p50", "first_model_sentence_p50_s", "s"),
        ("first model sentence p95", "first_model_sentence_p95_s", "s"),
    ]
    names = list(summaries)
    print(f"\n| held-out replies ({len(examples)} examples) | " + " | ".join(names) + " |")
    print("|---|" + "---|" * len(names))
    for label, key, kind in rows:
        print(f"| {label} | " + " | ".join(fmt(summaries[n][key], kind) for n in names) + " |")
    if args.out:
        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(
            json.dumps(
                {
                    "summary": summaries,
                    "judge_accuracy": accuracy,
                    "reference_fidelity": ceiling,
                    "replies": everything,
                },
                indent=1,
            )
            + "\n"
        )
        print(f"\nevery reply: {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
