"""The persona judge: which creditor persona a reply sounds like, for the reply benchmark.

Persona fidelity (scripts/bench_replies.py) asks whether a reply is heard as the persona the
policy chose. The judge must be trained apart from the generator, so it learns from the persona
lines of data/reply_corpus/persona_lines.py (written apart from the reply corpus and from the
openers) and is scored on that module's own held-out lines before it judges anything.

Features: word (1-2) and character (2-5) TF-IDF n-grams, which catch the persona's marker words
("sorry", "disappoint-", "worried", "Oh!"), and the sentence embedding of the runtime encoder
(all-MiniLM-L6-v2, eq/encoder.py), which carries the tone of a wording the lines never used;
one multinomial logistic regression over both. The feature set and C were chosen by 5-fold
cross-validation on the training lines only (n-grams alone 83%, embedding alone 90%, both 93%).
Without the encoder files the judge runs on the n-grams alone and says so (`uses_encoder`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np

__all__ = ["PersonaJudge", "train_judge", "judge_accuracy", "load_encoder_or_none"]

# Inverse regularisation of the logistic regression (5-fold cross-validation on the training lines).
JUDGE_C = 10.0


@dataclass(frozen=True)
class PersonaJudge:
    """A trained persona classifier; `predict` gives one emotion label per text."""

    word_ngrams: Any
    char_ngrams: Any
    classifier: Any
    encoder: Any = None  # eq.encoder.SentenceEncoder, or None for n-grams alone

    @property
    def uses_encoder(self) -> bool:
        return self.encoder is not None

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(str(label) for label in self.classifier.classes_)

    def features(self, texts: Sequence[str]):
        from scipy.sparse import csr_matrix, hstack

        cleaned = [text if isinstance(text, str) and text.strip() else "." for text in texts]
        parts = [self.word_ngrams.transform(cleaned), self.char_ngrams.transform(cleaned)]
        if self.encoder is not None:
            parts.append(csr_matrix(self.encoder.encode_many(cleaned)))
        return hstack(parts).tocsr()

    def predict(self, texts: Sequence[str]) -> list[str]:
        if not texts:
            return []
        return [str(label) for label in self.classifier.predict(self.features(texts))]


def _pairs(lines: Mapping[str, Sequence[str]]) -> tuple[list[str], list[str]]:
    texts = [text for label in lines for text in lines[label]]
    labels = [label for label in lines for _ in lines[label]]
    return texts, labels


def train_judge(lines: Mapping[str, Sequence[str]], encoder: Any = None, seed: int = 0) -> PersonaJudge:
    """Fit the judge on persona-labelled lines (label -> lines). `encoder`: a loaded
    SentenceEncoder, or None for the n-grams alone."""
    from scipy.sparse import csr_matrix, hstack
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    texts, labels = _pairs(lines)
    if len(set(labels)) < 2:
        raise ValueError("the persona judge needs lines of at least two personas")
    word = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)
    char = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True)
    parts = [word.fit_transform(texts), char.fit_transform(texts)]
    if encoder is not None:
        parts.append(csr_matrix(encoder.encode_many(texts)))
    classifier = LogisticRegression(C=JUDGE_C, max_iter=3000, random_state=seed)
    classifier.fit(hstack(parts).tocsr(), labels)
    return PersonaJudge(word, char, classifier, encoder)


def judge_accuracy(judge: PersonaJudge, lines: Mapping[str, Sequence[str]]) -> float:
    """Share of the lines the judge labels with their own persona."""
    texts, labels = _pairs(lines)
    if not texts:
        return 0.0
    return float(np.mean([p == t for p, t in zip(judge.predict(texts), labels)]))


def load_encoder_or_none() -> Any:
    """The runtime sentence encoder, or None when its files are missing (n-grams alone then)."""
    from ..eq.encoder import EncoderOptions, EncoderUnavailableError, SentenceEncoder

    try:
        return SentenceEncoder.load(EncoderOptions(threads=1, build_if_missing=False))
    except EncoderUnavailableError:
        return None
