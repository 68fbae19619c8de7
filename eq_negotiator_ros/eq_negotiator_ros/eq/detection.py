"""Reading the debtor's emotion from what they said (and, optionally, how they said it).

Two detectors implement `records.EmotionDetector`:

* `TrainedEmotionDetector`: a linear classifier over word and character n-grams plus lexicon and
  cue features, trained on the project's own debtor corpus (data/emotion_corpus, see its
  DATA_CARD.md) by scripts/train_detector.py. Inference is a few dictionary look-ups and one small
  matrix product in numpy (no scikit-learn at run time), well under a millisecond, because the
  agent-to-agent benchmark calls it for every simulated utterance.
* `LlmEmotionDetector`: the paper's own method (arXiv 2511.03370 classifies with the language
  model). The label is not parsed from generated text: each label is scored by the model's
  log-probability of the label word after a short few-shot prompt, and the scores are softmaxed.

`fuse_prosody` tilts a reading along the arousal axis from energy, pitch, pitch variability and
speaking rate. `make_detector(config)` picks one by `detector.kind`.

Bad input (empty, whitespace, emoji only, digits only, non-English, 10,000 characters, not a
string) always gives a defined reading: `EmotionReading.neutral_low_confidence` or a reading pulled
towards it when little of the text is recognisable.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Mapping, Optional, Sequence

import numpy as np

from .emotions import AROUSAL, EMOTIONS
from .records import EmotionReading, ProsodyFeatures

if TYPE_CHECKING:  # pragma: no cover - typing only
    from ..config import NegotiatorConfig

MODEL_FORMAT = 1  # bump when the saved dictionary changes shape; load() then asks for retraining
DEFAULT_MODEL_PATH = Path(__file__).resolve().parent.parent / "data" / "emotion_detector.joblib"
TRAIN_COMMAND = ".venv/bin/python scripts/train_detector.py"

# Long input: the emotion of a rant is usually stated at its start and its end, so keep both.
HEAD_CHARS = 600
TAIL_CHARS = 300
# Below this share of recognised words the reading is pulled towards neutral (non-English text,
# garbage): the classifier has no evidence, and a confident label would steer the policy wrongly.
FULL_TRUST_KNOWN_SHARE = 0.6

_NEUTRAL_FALLBACK = EmotionReading.neutral_low_confidence()
# An emoji-only message is a real but weak signal (a 🙄 can be playful): half trust.
EMOJI_ONLY_TRUST = 0.5

# Emoji carry emotion in typed chat; they are mapped to words the classifier and the cue lists
# know, so an emoji-only message gives a real (low-confidence) reading instead of nothing.
EMOJI_WORDS: dict[str, str] = {
    "😀": " happy ", "😃": " happy ", "😄": " happy ", "😊": " glad ", "🙂": " glad ", "😁": " happy ",
    "👍": " great ", "🙏": " please ", "❤": " thank ", "🎉": " great ", "😍": " wonderful ",
    "😢": " sad ", "😭": " crying ", "😞": " sad ", "😔": " sad ", "💔": " heartbroken ",
    "😠": " angry ", "😡": " furious ", "🤬": " furious ", "👿": " angry ", "💢": " angry ",
    "😨": " scared ", "😰": " worried ", "😱": " terrified ", "😟": " worried ", "😬": " nervous ",
    "😮": " wow ", "😲": " wow ", "😯": " wow ", "🤯": " wow ", "😳": " really ",
    "🤢": " sick ", "🤮": " disgusting ", "🙄": " whatever ", "😒": " whatever ", "😏": " sure ",
    "😐": " okay ", "😑": " okay ",
}

# Hand-written cue words per emotion (exact lower-case tokens). They give the classifier a prior
# beyond the corpus vocabulary: a threat word it never saw in training still counts as anger.
CUE_WORDS: dict[str, frozenset[str]] = {
    "joy": frozenset(
        "thank thanks thankful grateful great wonderful perfect happy glad delighted thrilled "
        "relief relieved lovely awesome excellent fantastic brilliant appreciate appreciated "
        "pleased deal yay super nice kind generous".split()
    ),
    "sadness": frozenset(
        "sorry sad lost struggling struggle broke hopeless heartbroken crying cry begging beg "
        "please mercy sick hospital unemployed laid layoffs exhausted ashamed failure failed "
        "nothing barely divorce died passed grief depressed miserable".split()
    ),
    "anger": frozenset(
        "furious angry outrageous ridiculous harassment harassing harass sue lawyer lawyers "
        "report complaint stop enough sick dare threaten threatening nonsense hell damn "
        "disgrace livid infuriating unbelievable extortion vultures idiots".split()
    ),
    "fear": frozenset(
        "scared afraid worried worry worries terrified frightened anxious nervous panic "
        "panicking fear dread dreading jail arrested arrest court repossess seize garnish "
        "lose losing risk nightmares petrified uneasy".split()
    ),
    "surprise": frozenset(
        "wow whoa really seriously wait huh oh unexpected expect expected surprised surprise "
        "shocked amazed stunned incredible kidding believe realise realize idea".split()
    ),
    "disgust": frozenset(
        "whatever ashamed pathetic insulting disgusting disgusted sick revolting shameless "
        "sure fake joke laughable scam victim fault valid already mail incompetent classy "
        "meh beneath disgraceful".split()
    ),
    "neutral": frozenset(
        "okay ok fine yes no days account balance invoice statement proposal propose offer "
        "payment payments schedule confirm email transfer reference number".split()
    ),
}

_TOKEN_RE = re.compile(r"[a-z][a-z']*|[!?]")
_DIGIT_RE = re.compile(r"\d+(?:[.,]\d+)*")
_SPACE_RE = re.compile(r"\s+")


class DetectorModelError(RuntimeError):
    """The trained detector file is missing, unreadable or from another version; the message
    says how to rebuild it."""


# ---------------------------------------------------------------------------------------------
# Text features (the same functions at training and at run time, so they cannot drift apart)
# ---------------------------------------------------------------------------------------------


def normalise_text(text: str) -> str:
    """Lower-case, emoji to words, numbers to 0 (amounts and days must not decide the emotion),
    long text cut to its head and tail, whitespace collapsed."""
    if len(text) > HEAD_CHARS + TAIL_CHARS:
        text = text[:HEAD_CHARS] + " " + text[-TAIL_CHARS:]
    text = unicodedata.normalize("NFKC", text)
    text = text.replace("\u2019", "'").replace("\u2018", "'")
    if any(ord(ch) > 0x2000 for ch in text):
        text = "".join(EMOJI_WORDS.get(ch, ch) for ch in text)
    text = _DIGIT_RE.sub("0", text.lower())
    return _SPACE_RE.sub(" ", text).strip()


def word_tokens(normalised: str) -> list[str]:
    return _TOKEN_RE.findall(normalised)


def word_features(normalised: str) -> list[str]:
    """Word unigrams and bigrams (bigrams keep 'no way', 'thank you', 'so sorry')."""
    tokens = word_tokens(normalised)
    return tokens + [f"{a} {b}" for a, b in zip(tokens, tokens[1:])]


def char_features(normalised: str) -> list[str]:
    """Character 2-4-grams inside word boundaries: robust to typos and unseen word forms."""
    grams: list[str] = []
    for word in normalised.split(" "):
        padded = f" {word} "
        n_chars = len(padded)
        for n in (2, 3, 4):
            grams.extend(padded[i : i + n] for i in range(n_chars - n + 1))
    return grams


DENSE_FEATURE_NAMES: tuple[str, ...] = (
    *(f"cue_{e}" for e in EMOTIONS),
    "lexicon_mean", "lexicon_min", "lexicon_max", "lexicon_negative_share",
    "exclamations", "questions", "uppercase_share", "short_answer",
)


def dense_features(raw: str, normalised: str, lexicon: Mapping[str, float]) -> np.ndarray:
    """Cue counts, VADER lexicon valence statistics and punctuation, each bounded to about [-1, 2]."""
    tokens = [t for t in word_tokens(normalised) if t not in ("!", "?")]
    values = [math.log1p(sum(1 for t in tokens if t in CUE_WORDS[e])) for e in EMOTIONS]
    valences = [lexicon[t] for t in tokens if t in lexicon]
    if valences:
        values += [
            float(np.mean(valences)) / 4.0, min(valences) / 4.0, max(valences) / 4.0,
            sum(1 for v in valences if v < 0) / len(valences),
        ]
    else:
        values += [0.0, 0.0, 0.0, 0.0]
    letters = [c for c in raw[: HEAD_CHARS + TAIL_CHARS] if c.isalpha()]
    uppercase_share = sum(1 for c in letters if c.isupper()) / len(letters) if len(letters) > 3 else 0.0
    values += [
        math.log1p(raw.count("!")), math.log1p(raw.count("?")), uppercase_share,
        1.0 if len(tokens) <= 2 else 0.0,
    ]
    return np.asarray(values, dtype=np.float64)


# ---------------------------------------------------------------------------------------------
# The trained detector
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class _SparseBlock:
    """One TF-IDF block folded into the classifier: vocabulary -> column, idf, weights (7 x n)."""

    vocabulary: dict[str, int]
    idf: np.ndarray
    weights: np.ndarray

    def scores(self, features: Iterable[str]) -> tuple[np.ndarray, int, int]:
        """Class scores of this block (sublinear tf, l2 norm, as scikit-learn's TfidfVectorizer),
        plus how many feature occurrences were known and how many there were."""
        counts = Counter(features)
        vocabulary = self.vocabulary
        indices = []
        tf = []
        known = 0
        for feature, count in counts.items():
            column = vocabulary.get(feature)
            if column is not None:
                indices.append(column)
                tf.append(1.0 + math.log(count))
                known += count
        total = sum(counts.values())
        if not indices:
            return np.zeros(self.weights.shape[0]), 0, total
        idx = np.asarray(indices)
        values = np.asarray(tf) * self.idf[idx]
        values /= np.linalg.norm(values)
        return self.weights[:, idx] @ values, known, total


class TrainedEmotionDetector:
    """Fast text classifier over the 7 labels; see scripts/train_detector.py for how it is made."""

    name = "trained"

    def __init__(self, model: Mapping[str, Any], *, use_prosody: bool = True, prosody_gain: float = 1.0):
        _check_model_dict(model, "<in memory>")
        self.labels: tuple[str, ...] = tuple(model["labels"])
        self.metadata: dict[str, Any] = dict(model.get("metadata", {}))
        self._words = _SparseBlock(model["word_vocabulary"], np.asarray(model["word_idf"]), np.asarray(model["word_weights"], dtype=np.float64))
        self._chars = _SparseBlock(model["char_vocabulary"], np.asarray(model["char_idf"]), np.asarray(model["char_weights"], dtype=np.float64))
        self._dense_weights = np.asarray(model["dense_weights"], dtype=np.float64)
        self._intercept = np.asarray(model["intercept"], dtype=np.float64)
        self._temperature = float(model["temperature"])
        self._lexicon: dict[str, float] = dict(model["lexicon"])
        # The saved label order may differ from EMOTIONS; readings are always in EMOTIONS order.
        self._to_emotions = np.asarray([self.labels.index(e) for e in EMOTIONS])
        self.use_prosody = use_prosody
        self.prosody_gain = prosody_gain

    @classmethod
    def load(cls, path: Path | str | None = None, *, use_prosody: bool = True, prosody_gain: float = 1.0) -> "TrainedEmotionDetector":
        """Load the classifier file (default: the one shipped in the package)."""
        return cls(load_model_file(path), use_prosody=use_prosody, prosody_gain=prosody_gain)

    def logits(self, text: str) -> tuple[np.ndarray, float]:
        """Class scores in the model's label order and the share of recognised word tokens."""
        normalised = normalise_text(text)
        word_scores, known_words, total_words = self._words.scores(word_features(normalised))
        char_scores, _, _ = self._chars.scores(char_features(normalised))
        dense = dense_features(text, normalised, self._lexicon)
        scores = word_scores + char_scores + self._dense_weights @ dense + self._intercept
        unigrams = [t for t in word_tokens(normalised) if t not in ("!", "?")]
        known_unigrams = sum(1 for t in unigrams if t in self._words.vocabulary)
        known_share = known_unigrams / len(unigrams) if unigrams else 0.0
        return scores, known_share

    def detect(self, text: str, prosody: Optional[ProsodyFeatures] = None) -> EmotionReading:
        if not isinstance(text, str) or not any(ch.isalnum() or ord(ch) > 0x2000 for ch in text):
            reading = EmotionReading.neutral_low_confidence(source=self.name)
        else:
            scores, known_share = self.logits(text)
            if known_share == 0.0:
                reading = EmotionReading.neutral_low_confidence(source=self.name)
            else:
                probs = _softmax(scores / self._temperature)[self._to_emotions]
                trust = min(1.0, known_share / FULL_TRUST_KNOWN_SHARE)
                if not any(ch.isascii() and ch.isalpha() for ch in text):
                    trust = min(trust, EMOJI_ONLY_TRUST)  # words read from emoji alone
                probs = trust * probs + (1.0 - trust) * np.asarray(_NEUTRAL_FALLBACK.probs)
                reading = EmotionReading(probs=_as_probs(probs), source=self.name)
        if prosody is not None and self.use_prosody:
            reading = fuse_prosody(reading, prosody, gain=self.prosody_gain)
        return reading


def load_model_file(path: Path | str | None = None) -> dict[str, Any]:
    """Read a saved detector dictionary; every failure says how to rebuild the file."""
    path = Path(path).expanduser() if path else DEFAULT_MODEL_PATH
    if not path.is_file():
        raise DetectorModelError(
            f"emotion detector file not found at {path}; run `{TRAIN_COMMAND}` to train it "
            f"(or set detector.model_path in config/negotiator.yaml to an existing file)"
        )
    try:
        import joblib

        model = joblib.load(path)
    except Exception as error:  # corrupt file, truncated download, foreign pickle
        raise DetectorModelError(
            f"cannot read the emotion detector file {path} ({type(error).__name__}: {error}); "
            f"run `{TRAIN_COMMAND}` to rebuild it"
        ) from None
    _check_model_dict(model, str(path))
    return model


def _check_model_dict(model: Any, where: str) -> None:
    if not isinstance(model, Mapping) or model.get("format") != MODEL_FORMAT:
        found = model.get("format") if isinstance(model, Mapping) else type(model).__name__
        raise DetectorModelError(
            f"emotion detector file {where} has format {found!r}, this code reads format "
            f"{MODEL_FORMAT}; run `{TRAIN_COMMAND}` to rebuild it"
        )
    # The file holds only dictionaries and numpy arrays (no scikit-learn objects), so a different
    # scikit-learn version cannot break loading; the version is recorded for reproducibility.
    if sorted(model.get("labels", ())) != sorted(EMOTIONS):
        raise DetectorModelError(
            f"emotion detector file {where} has labels {model.get('labels')!r}, expected "
            f"{', '.join(EMOTIONS)}; run `{TRAIN_COMMAND}` to rebuild it"
        )


def _softmax(scores: np.ndarray) -> np.ndarray:
    shifted = np.exp(scores - np.max(scores))
    return shifted / shifted.sum()


def _as_probs(probs: Sequence[float]) -> tuple[float, ...]:
    array = np.clip(np.asarray(probs, dtype=np.float64), 0.0, None)
    total = array.sum()
    if not np.isfinite(total) or total <= 0:
        return _NEUTRAL_FALLBACK.probs
    return tuple(float(p) for p in array / total)


# ---------------------------------------------------------------------------------------------
# Training (used by scripts/train_detector.py; scikit-learn is imported here only)
# ---------------------------------------------------------------------------------------------


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


def train_model(
    texts: Sequence[str], labels: Sequence[str], *, regularisation_c: float = 10.0, seed: int = 0,
    lexicon: Mapping[str, float] | None = None, calibrate_on: Sequence[bool] | None = None,
    calibration_folds: int = 5,
) -> dict[str, Any]:
    """Fit the classifier and return the dictionary `TrainedEmotionDetector` reads.

    Multinomial logistic regression on [word TF-IDF | char TF-IDF | dense features]; its
    probabilities are then calibrated with one temperature fitted on out-of-fold predictions
    (the policy reads the probabilities as soft evidence, so over-confidence would matter).
    `calibrate_on` marks the utterances the temperature is fitted on: the hand-written ones, since
    composed utterances share fragments across folds and would make the model look surer than it
    is on new speech.
    """
    import scipy.sparse as sparse
    import sklearn
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold

    lexicon = dict(lexicon if lexicon is not None else read_vader_lexicon())
    label_order = list(EMOTIONS)
    y = np.asarray([label_order.index(label) for label in labels])
    normalised = [normalise_text(t) for t in texts]

    def fit(indices: np.ndarray):
        word_vec = TfidfVectorizer(analyzer=word_features, sublinear_tf=True, min_df=1)
        char_vec = TfidfVectorizer(analyzer=char_features, sublinear_tf=True, min_df=2)
        docs = [normalised[i] for i in indices]
        words = word_vec.fit_transform(docs)
        chars = char_vec.fit_transform(docs)
        dense = np.vstack([dense_features(texts[i], normalised[i], lexicon) for i in indices])
        matrix = sparse.hstack([words, chars, sparse.csr_matrix(dense)]).tocsr()
        classifier = LogisticRegression(C=regularisation_c, max_iter=5000, random_state=seed)
        classifier.fit(matrix, y[indices])
        return word_vec, char_vec, classifier

    def decision(parts, indices: np.ndarray) -> np.ndarray:
        word_vec, char_vec, classifier = parts
        docs = [normalised[i] for i in indices]
        dense = np.vstack([dense_features(texts[i], normalised[i], lexicon) for i in indices])
        matrix = sparse.hstack([word_vec.transform(docs), char_vec.transform(docs), sparse.csr_matrix(dense)]).tocsr()
        return classifier.decision_function(matrix)

    # Out-of-fold scores for the temperature (deterministic folds).
    folds = StratifiedKFold(n_splits=calibration_folds, shuffle=True, random_state=seed)
    oof = np.zeros((len(texts), len(label_order)))
    for train_idx, held_idx in folds.split(np.zeros(len(y)), y):
        oof[held_idx] = decision(fit(train_idx), held_idx)
    mask = np.asarray(calibrate_on, dtype=bool) if calibrate_on is not None else np.ones(len(y), dtype=bool)
    temperature = _fit_temperature(oof[mask], y[mask])

    word_vec, char_vec, classifier = fit(np.arange(len(texts)))
    n_words, n_chars = len(word_vec.vocabulary_), len(char_vec.vocabulary_)
    coef = classifier.coef_
    return {
        "format": MODEL_FORMAT,
        "labels": tuple(label_order[c] for c in classifier.classes_),
        "word_vocabulary": {k: int(v) for k, v in word_vec.vocabulary_.items()},
        "word_idf": word_vec.idf_.astype(np.float32),
        "word_weights": coef[:, :n_words].astype(np.float32),
        "char_vocabulary": {k: int(v) for k, v in char_vec.vocabulary_.items()},
        "char_idf": char_vec.idf_.astype(np.float32),
        "char_weights": coef[:, n_words : n_words + n_chars].astype(np.float32),
        "dense_weights": coef[:, n_words + n_chars :].astype(np.float64),
        "intercept": classifier.intercept_.astype(np.float64),
        "temperature": temperature,
        "lexicon": lexicon,
        "metadata": {
            "sklearn_version": sklearn.__version__,
            "numpy_version": np.__version__,
            "regularisation_c": regularisation_c,
            "seed": seed,
            "n_train": len(texts),
            "out_of_fold_accuracy": float(np.mean(oof.argmax(axis=1) == y)),
            "dense_features": DENSE_FEATURE_NAMES,
        },
    }


def _fit_temperature(scores: np.ndarray, y: np.ndarray) -> float:
    """The temperature minimising the negative log-likelihood of out-of-fold scores (grid search:
    one parameter, deterministic, no optimiser to tune)."""
    best_t, best_nll = 1.0, math.inf
    for t in np.round(np.arange(0.25, 4.01, 0.05), 2):
        scaled = scores / t
        scaled -= scaled.max(axis=1, keepdims=True)
        log_probs = scaled - np.log(np.exp(scaled).sum(axis=1, keepdims=True))
        nll = -float(log_probs[np.arange(len(y)), y].mean())
        if nll < best_nll:
            best_t, best_nll = float(t), nll
    return best_t


# ---------------------------------------------------------------------------------------------
# The language-model detector (the paper's method)
# ---------------------------------------------------------------------------------------------

LLM_PROMPT_PREFIX = (
    "Each message below was said by a person who owes money, talking to a debt collector. "
    "The emotion of each message is one of: joy, sadness, anger, fear, surprise, disgust, neutral. "
    "Threats are anger; lies, excuses, guilt-tripping and contempt are disgust; hardship and "
    "pleading are sadness; worry about consequences is fear.\n\n"
    "Message: Thank you so much, that plan works for me.\nEmotion: joy\n\n"
    "Message: My shop closed and I have nothing left, please give me more time.\nEmotion: sadness\n\n"
    "Message: Call me again and I will see you in court!\nEmotion: anger\n\n"
    "Message: Will you take my car if I miss a payment?\nEmotion: fear\n\n"
    "Message: Wait, you would really drop the late fee?\nEmotion: surprise\n\n"
    "Message: I paid last month, your bank must have lost it. Typical.\nEmotion: disgust\n\n"
    "Message: I can pay 300 now and the rest in 90 days.\nEmotion: neutral\n\n"
    "Message:"
)
LLM_MAX_TEXT_CHARS = 400


class LlmEmotionDetector:
    """Scores each label with the language model's log-probabilities (arXiv 2511.03370 reads the
    emotion with the model itself). The few-shot prefix is evaluated once and kept in the model's
    cache; each utterance then costs its own tokens plus one short continuation per label."""

    name = "llm"

    def __init__(self, llama: Any, *, use_prosody: bool = True, prosody_gain: float = 1.0, calibrate: bool = True):
        self._llama = llama
        self.use_prosody = use_prosody
        self.prosody_gain = prosody_gain
        self._prefix = list(llama.tokenize(LLM_PROMPT_PREFIX.encode("utf-8"), add_bos=True, special=False))
        self._label_tokens = [
            list(llama.tokenize(f" {label}".encode("utf-8"), add_bos=False, special=False)) for label in EMOTIONS
        ]
        # Contextual calibration (Zhao et al. 2021, "Calibrate before use"): the model's label
        # scores for a content-free message measure its bias towards some label words; removing it
        # stops one label (often "neutral" or "joy") from winning by default.
        self._bias = np.zeros(len(EMOTIONS))
        if calibrate:
            self._bias = np.mean([self.label_log_probs(t) for t in ("N/A", "", "[message]")], axis=0)

    def label_log_probs(self, text: str) -> np.ndarray:
        """Sum of token log-probabilities of each label word after the prompt (EMOTIONS order)."""
        llama = self._llama
        cleaned = " ".join(str(text).split())[:LLM_MAX_TEXT_CHARS]
        query = list(llama.tokenize(f" {cleaned}\nEmotion:".encode("utf-8"), add_bos=False, special=False))
        n_prefix = len(self._prefix)
        cached = llama.n_tokens >= n_prefix and list(llama.input_ids[:n_prefix]) == self._prefix
        if cached:
            llama.n_tokens = n_prefix  # later eval() drops the cache past this point
        else:
            llama.reset()
            llama.eval(self._prefix)
        llama.eval(query)
        base = llama.n_tokens
        first = _log_softmax(self._last_logits())
        scores = np.zeros(len(EMOTIONS))
        for i, tokens in enumerate(self._label_tokens):
            total = float(first[tokens[0]])
            if len(tokens) > 1:
                llama.n_tokens = base
                for previous, token in zip(tokens[:-1], tokens[1:]):
                    llama.eval([previous])
                    total += float(_log_softmax(self._last_logits())[token])
            scores[i] = total
        llama.n_tokens = base
        return scores

    def _last_logits(self) -> np.ndarray:
        llama = self._llama
        if getattr(llama, "_logits_all", False):
            return np.asarray(llama.scores[llama.n_tokens - 1], dtype=np.float64)
        import llama_cpp

        # Without logits_all llama.cpp keeps only the last position's logits.
        pointer = llama_cpp.llama_get_logits_ith(llama._ctx.ctx, -1)
        return np.ctypeslib.as_array(pointer, shape=(llama.n_vocab(),)).astype(np.float64)

    def detect(self, text: str, prosody: Optional[ProsodyFeatures] = None) -> EmotionReading:
        if not isinstance(text, str) or not any(ch.isalnum() or ord(ch) > 0x2000 for ch in text):
            reading = EmotionReading.neutral_low_confidence(source=self.name)
        else:
            try:
                scores = self.label_log_probs(text) - self._bias
                reading = EmotionReading(probs=_as_probs(_softmax(scores)), source=self.name)
            except Exception:  # llama.cpp decode failure (context full, ...): keep the turn going
                reading = EmotionReading.neutral_low_confidence(source=f"{self.name}-error")
        if prosody is not None and self.use_prosody:
            reading = fuse_prosody(reading, prosody, gain=self.prosody_gain)
        return reading


def _log_softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - np.max(logits)
    return shifted - np.log(np.exp(shifted).sum())


# ---------------------------------------------------------------------------------------------
# Prosody fusion
# ---------------------------------------------------------------------------------------------

# Reference levels of calm conversational speech, and the distance from them that counts as
# fully aroused (or fully subdued). Loud, fast, high and lively speech is high arousal (anger,
# fear, surprise); quiet, slow, low and flat speech is low arousal (sadness, neutral).
PROSODY_REFERENCE = {
    "energy_dbfs": (-26.0, 8.0),  # (calm level, distance to full scale of the cue)
    "pitch_semitones_re_150hz": (0.0, 6.0),
    "pitch_variability_semitones": (2.5, 2.0),
    "speaking_rate_wps": (2.6, 1.0),
}
PROSODY_CUE_WEIGHTS = {  # absolute pitch depends on the speaker (sex, age): it weighs less
    "energy_dbfs": 1.0, "pitch_semitones_re_150hz": 0.5,
    "pitch_variability_semitones": 1.0, "speaking_rate_wps": 1.0,
}
MIN_PROSODY_DURATION_S = 0.3


def prosody_arousal(prosody: ProsodyFeatures) -> float | None:
    """Arousal evidence in [-1, 1] from prosody, or None when the features are unusable."""
    values = {
        "energy_dbfs": prosody.energy_dbfs,
        "pitch_variability_semitones": prosody.pitch_variability_semitones,
        "speaking_rate_wps": prosody.speaking_rate_wps,
    }
    if not all(math.isfinite(v) for v in (*values.values(), prosody.duration_s, prosody.pitch_hz)):
        return None
    if prosody.duration_s < MIN_PROSODY_DURATION_S or prosody.energy_dbfs <= -60.0:
        return None
    if prosody.pitch_hz > 0:  # unvoiced segments carry no pitch cue
        values["pitch_semitones_re_150hz"] = 12.0 * math.log2(prosody.pitch_hz / 150.0)
    else:
        values.pop("pitch_variability_semitones")
    if prosody.speaking_rate_wps <= 0:
        values.pop("speaking_rate_wps")
    total = weight_sum = 0.0
    for name, value in values.items():
        centre, scale = PROSODY_REFERENCE[name]
        weight = PROSODY_CUE_WEIGHTS[name]
        total += weight * max(-1.0, min(1.0, (value - centre) / scale))
        weight_sum += weight
    return total / weight_sum if weight_sum else None


def fuse_prosody(reading: EmotionReading, prosody: Optional[ProsodyFeatures], gain: float = 1.0) -> EmotionReading:
    """Tilt the reading along the arousal axis: p_e <- p_e * exp(gain * a * (2 * arousal_e - 1)),
    a = prosody arousal evidence in [-1, 1], arousal_e from emotions.AROUSAL (circumplex).
    Shouted words raise anger over sadness, and fear over neutral; flat, slow speech the reverse.
    The text keeps the final say on valence: the tilt never moves mass between emotions of equal
    arousal."""
    if prosody is None or gain == 0:
        return reading
    arousal = prosody_arousal(prosody)
    if arousal is None:
        return reading
    tilt = np.exp(gain * arousal * (2.0 * np.asarray([AROUSAL[e] for e in EMOTIONS]) - 1.0))
    return EmotionReading(probs=_as_probs(np.asarray(reading.probs) * tilt), source=f"{reading.source}+prosody")


# ---------------------------------------------------------------------------------------------
# Factory
# ---------------------------------------------------------------------------------------------


def make_detector(config: "NegotiatorConfig", llama: Any = None) -> Any:
    """The detector `config.detector` asks for. For kind "llm" a loaded model may be passed (the
    reasoning node can share one); otherwise it is loaded from `config.llm`. Only the last
    position's logits are read, so the model is loaded without logits_all: with Gemma's 262k-token
    vocabulary, logits for every position would cost n_ctx x 1 MB of memory."""
    detector = config.detector
    gain = detector.prosody_gain
    if detector.kind == "llm":
        if llama is None:
            from ..llm.model import load_llama

            llama = load_llama(config.llm, logits_all=False)
        return LlmEmotionDetector(llama, use_prosody=detector.use_prosody, prosody_gain=gain)
    return TrainedEmotionDetector.load(detector.model_path, use_prosody=detector.use_prosody, prosody_gain=gain)
