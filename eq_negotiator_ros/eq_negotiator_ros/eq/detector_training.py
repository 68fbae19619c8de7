"""Training the text emotion detector (used by scripts/train_detector.py; scikit-learn only here).

What is fitted, on what:

1. the n-gram classifier (multinomial logistic regression on word and character TF-IDF plus
   lexicon and cue features) on the training part;
2. its out-of-fold log-probabilities on the training part (k folds), so that the head below
   learns how far the n-grams can be trusted on sentences they did not see;
3. two heads on the sentence embedding (eq/encoder.py): "encoder" on the embedding alone,
   "combined" on [embedding, n-gram log-probabilities]; features standardised, the scaling folded
   into the saved weights;
4. choices on the development split only: the heads' regularisation (the lowest log-loss after
   temperature scaling) and one temperature per model (n-gram, encoder, combined) by log-likelihood.

The held-out test files are not read here. Deterministic: fixed folds, seeds and solver, and the
embeddings are rounded to 1e-4 so that last-bit differences between CPUs' int8 kernels do not
change the file.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from . import calibration
from .detection import (
    DENSE_FEATURE_NAMES,
    MODEL_FORMAT,
    NgramClassifier,
    char_features,
    dense_features,
    known_word_share,
    neutral_fallback_probs,
    normalise_text,
    reading_trust,
    word_features,
)
from .emotions import EMOTIONS

HEAD_C_GRID = (0.1, 0.3, 1.0, 3.0, 10.0)
EMBEDDING_DECIMALS = 4


def read_vader_lexicon() -> dict[str, float]:
    """VADER's word valences (MIT licensed, shipped by vaderSentiment), words only."""
    import vaderSentiment

    path = Path(vaderSentiment.__file__).resolve().parent / "vader_lexicon.txt"
    lexicon: dict[str, float] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split("\t")
        if len(parts) >= 2 and re.fullmatch(r"[a-z][a-z']*", parts[0]):
            lexicon[parts[0]] = float(parts[1])
    return lexicon


def label_indices(labels: Sequence[str]) -> np.ndarray:
    return np.asarray([EMOTIONS.index(label) for label in labels])


def macro_f1(gold: np.ndarray, predicted: np.ndarray) -> float:
    scores = []
    for k in range(len(EMOTIONS)):
        tp = int(np.sum((gold == k) & (predicted == k)))
        fp = int(np.sum((gold != k) & (predicted == k)))
        fn = int(np.sum((gold == k) & (predicted != k)))
        scores.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    return float(np.mean(scores))


# --- the n-gram classifier ----------------------------------------------------------------------


def fit_ngram(
    texts: Sequence[str],
    labels: Sequence[str],
    *,
    regularisation_c: float = 10.0,
    seed: int = 0,
    lexicon: Mapping[str, float],
) -> dict[str, Any]:
    """The n-gram part of the detector file (temperature 1.0 until calibrated)."""
    import scipy.sparse as sparse
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    y = label_indices(labels)
    normalised = [normalise_text(t) for t in texts]
    word_vec = TfidfVectorizer(analyzer=word_features, sublinear_tf=True, min_df=1)
    char_vec = TfidfVectorizer(analyzer=char_features, sublinear_tf=True, min_df=2)
    words = word_vec.fit_transform(normalised)
    chars = char_vec.fit_transform(normalised)
    dense = np.vstack([dense_features(t, n, lexicon) for t, n in zip(texts, normalised)])
    matrix = sparse.hstack([words, chars, sparse.csr_matrix(dense)]).tocsr()
    classifier = LogisticRegression(C=regularisation_c, max_iter=5000, random_state=seed)
    classifier.fit(matrix, y)
    n_words, n_chars = len(word_vec.vocabulary_), len(char_vec.vocabulary_)
    coef = classifier.coef_
    return {
        "format": MODEL_FORMAT,
        "labels": tuple(EMOTIONS[c] for c in classifier.classes_),
        "word_vocabulary": {k: int(v) for k, v in word_vec.vocabulary_.items()},
        "word_idf": word_vec.idf_.astype(np.float32),
        "word_weights": coef[:, :n_words].astype(np.float32),
        "char_vocabulary": {k: int(v) for k, v in char_vec.vocabulary_.items()},
        "char_idf": char_vec.idf_.astype(np.float32),
        "char_weights": coef[:, n_words : n_words + n_chars].astype(np.float32),
        "dense_weights": coef[:, n_words + n_chars :].astype(np.float64),
        "intercept": classifier.intercept_.astype(np.float64),
        "temperature": 1.0,
        "lexicon": dict(lexicon),
    }


def ngram_scores(model: Mapping[str, Any], texts: Sequence[str]) -> np.ndarray:
    """Raw n-gram scores (EMOTIONS order) with the run-time code, so training and use agree."""
    classifier = NgramClassifier({**model, "temperature": 1.0})
    return np.vstack([classifier.scores(t, normalise_text(t)) for t in texts])


def ngram_out_of_fold_scores(
    texts: Sequence[str],
    labels: Sequence[str],
    *,
    folds: int,
    seed: int,
    regularisation_c: float,
    lexicon: Mapping[str, float],
) -> np.ndarray:
    from sklearn.model_selection import StratifiedKFold

    y = label_indices(labels)
    scores = np.zeros((len(texts), len(EMOTIONS)))
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    for fit_idx, held_idx in splitter.split(np.zeros(len(y)), y):
        model = fit_ngram(
            [texts[i] for i in fit_idx],
            [labels[i] for i in fit_idx],
            regularisation_c=regularisation_c,
            seed=seed,
            lexicon=lexicon,
        )
        scores[held_idx] = ngram_scores(model, [texts[i] for i in held_idx])
    return scores


def train_model(
    texts: Sequence[str],
    labels: Sequence[str],
    *,
    regularisation_c: float = 10.0,
    seed: int = 0,
    lexicon: Mapping[str, float] | None = None,
    calibration_folds: int = 5,
) -> dict[str, Any]:
    """An n-gram-only detector file, its temperature fitted on out-of-fold scores (for callers
    without a development split or an encoder; the shipped file comes from `train_detector`)."""
    lexicon = dict(lexicon if lexicon is not None else read_vader_lexicon())
    oof = ngram_out_of_fold_scores(
        texts, labels, folds=calibration_folds, seed=seed, regularisation_c=regularisation_c, lexicon=lexicon
    )
    model = fit_ngram(texts, labels, regularisation_c=regularisation_c, seed=seed, lexicon=lexicon)
    model["temperature"] = calibration.fit_temperature(oof, label_indices(labels))
    model["metadata"] = _versions() | {
        "regularisation_c": regularisation_c,
        "seed": seed,
        "n_train": len(texts),
        "dense_features": DENSE_FEATURE_NAMES,
    }
    return model


# --- the heads on the sentence embedding --------------------------------------------------------


def embed(encoder: Any, texts: Sequence[str]) -> np.ndarray:
    """Embeddings of the normalised texts (what the detector feeds the encoder at run time)."""
    return np.round(encoder.encode_many([normalise_text(t) for t in texts]), EMBEDDING_DECIMALS)


def fit_head(
    features: np.ndarray, y: np.ndarray, *, regularisation_c: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Multinomial logistic regression on standardised features; returns (weights, intercept) that
    apply to the raw features (the standardisation folded in)."""
    from sklearn.linear_model import LogisticRegression

    mean = features.mean(axis=0)
    scale = features.std(axis=0)
    scale[scale < 1e-8] = 1.0
    classifier = LogisticRegression(C=regularisation_c, max_iter=5000, random_state=seed)
    classifier.fit((features - mean) / scale, y)
    weights = np.zeros((len(EMOTIONS), features.shape[1]))
    intercept = np.zeros(len(EMOTIONS))
    weights[classifier.classes_] = classifier.coef_ / scale
    intercept[classifier.classes_] = classifier.intercept_ - (classifier.coef_ / scale) @ mean
    missing = [k for k in range(len(EMOTIONS)) if k not in classifier.classes_]
    intercept[missing] = -30.0  # a label absent from training is never predicted
    return weights, intercept


def _choose_head(
    train_x: np.ndarray,
    train_y: np.ndarray,
    dev_x: np.ndarray,
    dev_y: np.ndarray,
    *,
    c_grid: Sequence[float],
    seed: int,
    features: str,
    mix: tuple[np.ndarray, np.ndarray],
) -> tuple[dict[str, Any], dict[str, Any]]:
    best: tuple[float, float, float] | None = None
    chosen: dict[str, Any] = {}
    for c in c_grid:
        weights, intercept = fit_head(train_x, train_y, regularisation_c=c, seed=seed)
        dev_scores = dev_x @ weights.T + intercept
        f1 = macro_f1(dev_y, dev_scores.argmax(axis=1))
        nll = calibration.negative_log_likelihood(
            dev_scores, dev_y, calibration.fit_temperature(dev_scores, dev_y, mix), mix
        )
        # Log-loss after temperature scaling (a proper score: accuracy and calibration together);
        # macro-F1 alone picked over-fitted heads that needed temperatures near 4 on the
        # development split.
        key = (-round(nll, 4), f1, -c)
        if best is None or key > best:
            best = key
            chosen = {"c": c, "weights": weights, "intercept": intercept, "dev_scores": dev_scores}
    temperature = calibration.fit_temperature(chosen["dev_scores"], dev_y, mix)
    head = {
        "features": features,
        "weights": chosen["weights"].astype(np.float32),
        "intercept": chosen["intercept"].astype(np.float64),
        "temperature": temperature,
    }
    report = _dev_report(chosen["dev_scores"], dev_y, temperature, mix) | {"regularisation_c": chosen["c"]}
    return head, report


def _dev_report(
    scores: np.ndarray, y: np.ndarray, temperature: float, mix: tuple[np.ndarray, np.ndarray]
) -> dict[str, Any]:
    probs = calibration.scaled_probs(scores, temperature, mix)
    return {
        "macro_f1": macro_f1(y, probs.argmax(axis=1)),
        "temperature": temperature,
        "nll": calibration.negative_log_likelihood(scores, y, temperature, mix),
        "ece": calibration.expected_calibration_error(probs, y),
    }


def _trust_mix(model: Mapping[str, Any], texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Per text, the trust the detector will give its reading (share of known words)."""
    trust = np.asarray(
        [reading_trust(t, known_word_share(normalise_text(t), model["word_vocabulary"])) for t in texts]
    )
    return trust, neutral_fallback_probs()


def train_detector(
    train_texts: Sequence[str],
    train_labels: Sequence[str],
    dev_texts: Sequence[str],
    dev_labels: Sequence[str],
    encoder: Any,
    *,
    lexicon: Mapping[str, float] | None = None,
    ngram_c: float = 10.0,
    head_c_grid: Sequence[float] = HEAD_C_GRID,
    folds: int = 5,
    seed: int = 0,
) -> dict[str, Any]:
    """The complete detector file: n-gram classifier, both heads, temperatures fitted on the
    development split, and a metadata record of what was chosen and how it scored on that split."""
    from .encoder import ENCODER_ID, SOURCE_SHA256, file_sha256

    lexicon = dict(lexicon if lexicon is not None else read_vader_lexicon())
    train_y, dev_y = label_indices(train_labels), label_indices(dev_labels)

    model = fit_ngram(train_texts, train_labels, regularisation_c=ngram_c, seed=seed, lexicon=lexicon)
    dev_ngram = ngram_scores(model, dev_texts)
    mix = _trust_mix(model, dev_texts)
    model["temperature"] = calibration.fit_temperature(dev_ngram, dev_y, mix)
    ngram_report = _dev_report(dev_ngram, dev_y, model["temperature"], mix) | {"regularisation_c": ngram_c}

    oof = ngram_out_of_fold_scores(
        train_texts, train_labels, folds=folds, seed=seed, regularisation_c=ngram_c, lexicon=lexicon
    )
    train_ngram_logp = calibration.log_softmax(oof / model["temperature"])
    dev_ngram_logp = calibration.log_softmax(dev_ngram / model["temperature"])
    train_emb, dev_emb = embed(encoder, train_texts), embed(encoder, dev_texts)

    encoder_head, encoder_report = _choose_head(
        train_emb, train_y, dev_emb, dev_y, c_grid=head_c_grid, seed=seed, features="embedding", mix=mix
    )
    combined_head, combined_report = _choose_head(
        np.hstack([train_emb, train_ngram_logp]),
        train_y,
        np.hstack([dev_emb, dev_ngram_logp]),
        dev_y,
        c_grid=head_c_grid,
        seed=seed,
        features="embedding+ngram",
        mix=mix,
    )
    model["heads"] = {"encoder": encoder_head, "combined": combined_head}
    model["encoder"] = {
        "id": ENCODER_ID,
        "source_sha256": SOURCE_SHA256,
        "built_sha256": file_sha256(Path(encoder.model_path)),
    }
    model["metadata"] = _versions() | {
        "seed": seed,
        "folds": folds,
        "n_train": len(train_texts),
        "n_dev": len(dev_texts),
        "dense_features": DENSE_FEATURE_NAMES,
        "dev": {"ngram": ngram_report, "encoder": encoder_report, "combined": combined_report},
    }
    return model


def _versions() -> dict[str, str]:
    import sklearn

    return {"sklearn_version": sklearn.__version__, "numpy_version": np.__version__}
