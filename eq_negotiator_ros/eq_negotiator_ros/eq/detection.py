"""Reading the debtor's emotion from what they said (and, optionally, how they said it).

Two detectors implement `records.EmotionDetector`:

* `TrainedEmotionDetector`: trained on the project's own corpus (data/emotion_corpus, debtor
  speech and everyday speech, see its DATA_CARD.md) by scripts/train_detector.py. A linear head
  reads [sentence embedding, n-gram log-probabilities]: the embedding (all-MiniLM-L6-v2, int8 ONNX,
  eq/encoder.py) carries meaning beyond the corpus's words, the n-grams (word and character
  TF-IDF, VADER lexicon and cue features) the corpus's own phrasing. About 3-6 ms per utterance on
  one core, no scikit-learn or torch at run time. When the encoder cannot be loaded, the n-gram
  classifier runs alone (well under a millisecond), with its own calibration; `encoder_status`
  says which runs. Probabilities are temperature-scaled on a development split (eq/calibration.py)
  because the tracker reads them as soft evidence.
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

import logging
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

_LOG = logging.getLogger(__name__)

MODEL_FORMAT = 2  # bump when the saved dictionary changes shape; load() then asks for retraining
DEFAULT_MODEL_PATH = Path(__file__).resolve().parent.parent / "data" / "emotion_detector.joblib"
TRAIN_COMMAND = ".venv/bin/python scripts/train_detector.py"

# Long input: the emotion of a rant is usually stated at its start and its end, so keep both.
HEAD_CHARS = 600
TAIL_CHARS = 300
# Below this share of recognised words the reading is pulled towards neutral (non-English text,
# garbage): the classifier has no evidence, and a confident label would steer the policy wrongly.
FULL_TRUST_KNOWN_SHARE = 0.6

_NEUTRAL_FALLBACK = EmotionReading.neutral_low_confidence()
# Embeddings kept for repeated texts (the agent-to-agent benchmark's simulated debtors repeat
# their lines; 4096 x 384 float32 is 6 MB).
EMBEDDING_CACHE_SIZE = 4096
# An emoji-only message is a real but weak signal (a 🙄 can be playful): half trust.
EMOJI_ONLY_TRUST = 0.5

# Emoji carry emotion in typed chat; they are mapped to words the classifier and the cue lists
# know, so an emoji-only message gives a real (low-confidence) reading instead of nothing.
EMOJI_WORDS: dict[str, str] = {
    "😀": " happy ",
    "😃": " happy ",
    "😄": " happy ",
    "😊": " glad ",
    "🙂": " glad ",
    "😁": " happy ",
    "👍": " great ",
    "🙏": " please ",
    "❤": " thank ",
    "🎉": " great ",
    "😍": " wonderful ",
    "😢": " sad ",
    "😭": " crying ",
    "😞": " sad ",
    "😔": " sad ",
    "💔": " heartbroken ",
    "😠": " angry ",
    "😡": " furious ",
    "🤬": " furious ",
    "👿": " angry ",
    "💢": " angry ",
    "😨": " scared ",
    "😰": " worried ",
    "😱": " terrified ",
    "😟": " worried ",
    "😬": " nervous ",
    "😮": " wow ",
    "😲": " wow ",
    "😯": " wow ",
    "🤯": " wow ",
    "😳": " really ",
    "🤢": " sick ",
    "🤮": " disgusting ",
    "🙄": " whatever ",
    "😒": " whatever ",
    "😏": " sure ",
    "😐": " okay ",
    "😑": " okay ",
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
# Text from tokenised transcripts and some speech recognisers comes split ("it ' s", "don ' t",
# "great !"): joined again, so that the words match the corpus's.
_SPLIT_CONTRACTION_RE = re.compile(r"([a-z])\s*'\s*(s|t|re|ve|ll|d|m)\b")
_SPACE_BEFORE_PUNCT_RE = re.compile(r"\s+([,.!?;:])")


class DetectorModelError(RuntimeError):
    """The trained detector file is missing, unreadable or from another version; the message
    says how to rebuild it."""


# ---------------------------------------------------------------------------------------------
# Text features (the same functions at training and at run time, so they cannot drift apart)
# ---------------------------------------------------------------------------------------------


def normalise_text(text: str) -> str:
    """Lower-case, emoji to words, numbers to 0 (amounts and days must not decide the emotion),
    split contractions and detached punctuation joined, long text cut to its head and tail,
    whitespace collapsed."""
    if len(text) > HEAD_CHARS + TAIL_CHARS:
        text = text[:HEAD_CHARS] + " " + text[-TAIL_CHARS:]
    text = unicodedata.normalize("NFKC", text)
    text = text.replace("\u2019", "'").replace("\u2018", "'")
    if any(ord(ch) > 0x2000 for ch in text):
        text = "".join(EMOJI_WORDS.get(ch, ch) for ch in text)
    text = _DIGIT_RE.sub("0", text.lower())
    text = _SPACE_BEFORE_PUNCT_RE.sub(r"\1", _SPLIT_CONTRACTION_RE.sub(r"\1'\2", text))
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
    "lexicon_mean",
    "lexicon_min",
    "lexicon_max",
    "lexicon_negative_share",
    "exclamations",
    "questions",
    "uppercase_share",
    "short_answer",
)


def dense_features(raw: str, normalised: str, lexicon: Mapping[str, float]) -> np.ndarray:
    """Cue counts, VADER lexicon valence statistics and punctuation, each bounded to about [-1, 2]."""
    tokens = [t for t in word_tokens(normalised) if t not in ("!", "?")]
    values = [math.log1p(sum(1 for t in tokens if t in CUE_WORDS[e])) for e in EMOTIONS]
    valences = [lexicon[t] for t in tokens if t in lexicon]
    if valences:
        values += [
            float(np.mean(valences)) / 4.0,
            min(valences) / 4.0,
            max(valences) / 4.0,
            sum(1 for v in valences if v < 0) / len(valences),
        ]
    else:
        values += [0.0, 0.0, 0.0, 0.0]
    letters = [c for c in raw[: HEAD_CHARS + TAIL_CHARS] if c.isalpha()]
    uppercase_share = sum(1 for c in letters if c.isupper()) / len(letters) if len(letters) > 3 else 0.0
    values += [
        math.log1p(raw.count("!")),
        math.log1p(raw.count("?")),
        uppercase_share,
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

    def scores(self, features: Iterable[str]) -> np.ndarray:
        """Class scores of this block (sublinear tf, l2 norm, as scikit-learn's TfidfVectorizer)."""
        counts = Counter(features)
        vocabulary = self.vocabulary
        indices = []
        tf = []
        for feature, count in counts.items():
            column = vocabulary.get(feature)
            if column is not None:
                indices.append(column)
                tf.append(1.0 + math.log(count))
        if not indices:
            return np.zeros(self.weights.shape[0])
        idx = np.asarray(indices)
        values = np.asarray(tf) * self.idf[idx]
        values /= np.linalg.norm(values)
        return self.weights[:, idx] @ values


class NgramClassifier:
    """The n-gram half of the detector: a linear classifier over word and character TF-IDF plus
    lexicon and cue features. Scores come out in EMOTIONS order, before any temperature."""

    def __init__(self, model: Mapping[str, Any]) -> None:
        self._words = _SparseBlock(
            model["word_vocabulary"],
            np.asarray(model["word_idf"]),
            np.asarray(model["word_weights"], dtype=np.float64),
        )
        self._chars = _SparseBlock(
            model["char_vocabulary"],
            np.asarray(model["char_idf"]),
            np.asarray(model["char_weights"], dtype=np.float64),
        )
        self._dense_weights = np.asarray(model["dense_weights"], dtype=np.float64)
        self._intercept = np.asarray(model["intercept"], dtype=np.float64)
        self._lexicon: dict[str, float] = dict(model["lexicon"])
        self.temperature = float(model["temperature"])
        # The saved label order may differ from EMOTIONS; scores are always given in EMOTIONS order.
        labels = tuple(model["labels"])
        self._to_emotions = np.asarray([labels.index(e) for e in EMOTIONS])

    @property
    def vocabulary(self) -> Mapping[str, int]:
        return self._words.vocabulary

    def scores(self, raw: str, normalised: str) -> np.ndarray:
        scores = (
            self._words.scores(word_features(normalised))
            + self._chars.scores(char_features(normalised))
            + self._dense_weights @ dense_features(raw, normalised, self._lexicon)
            + self._intercept
        )
        return scores[self._to_emotions]

    def log_probs(self, raw: str, normalised: str) -> np.ndarray:
        """Calibrated log-probabilities (the n-gram model's own temperature), EMOTIONS order."""
        return _log_softmax(self.scores(raw, normalised) / self.temperature)


def known_word_share(normalised: str, *vocabularies: Any) -> float:
    """Share of the words (not punctuation) found in any of the vocabularies: how much of the text
    the detector can read at all."""
    words = [t for t in word_tokens(normalised) if t not in ("!", "?")]
    if not words:
        return 0.0
    return sum(1 for w in words if any(w in v for v in vocabularies)) / len(words)


def reading_trust(text: str, known_share: float) -> float:
    """How much of the classifier's reading to keep (the rest is the neutral fallback): full from
    FULL_TRUST_KNOWN_SHARE recognised words up, at most EMOJI_ONLY_TRUST for emoji alone."""
    trust = min(1.0, known_share / FULL_TRUST_KNOWN_SHARE)
    if not any(ch.isascii() and ch.isalpha() for ch in text):
        trust = min(trust, EMOJI_ONLY_TRUST)  # words read from emoji alone
    return trust


def neutral_fallback_probs() -> np.ndarray:
    return np.asarray(_NEUTRAL_FALLBACK.probs)


class TrainedEmotionDetector:
    """Text classifier over the 7 labels; scripts/train_detector.py makes its file.

    With a sentence encoder (eq/encoder.py) the reading comes from a linear head over
    [sentence embedding, n-gram log-probabilities] ("combined", the default) or over the embedding
    alone ("encoder"); without one, from the n-gram classifier alone. Each has its own temperature,
    fitted on a development split, so the probabilities are calibrated whichever runs.
    `encoder_status` says which one this is, for logs and `eq-negotiator doctor`.
    """

    name = "trained"

    def __init__(
        self,
        model: Mapping[str, Any],
        *,
        use_prosody: bool = True,
        prosody_gain: float = 1.0,
        encoder: Any = None,
        head: str = "combined",
        encoder_problem: str = "",
        embedding_cache_size: int = EMBEDDING_CACHE_SIZE,
    ):
        _check_model_dict(model, "<in memory>")
        self.labels: tuple[str, ...] = EMOTIONS
        self.metadata: dict[str, Any] = dict(model.get("metadata", {}))
        self._ngram = NgramClassifier(model)
        self._encoder = encoder
        self._head: Optional[dict[str, Any]] = None
        if encoder is not None:
            trained_with = model.get("encoder", {}).get("id")
            if trained_with != getattr(encoder, "encoder_id", trained_with):
                raise DetectorModelError(
                    f"the emotion detector file was trained on encoder {trained_with!r}, this encoder is "
                    f"{encoder.encoder_id!r}; run `{TRAIN_COMMAND}` to rebuild it"
                )
            heads = model.get("heads", {})
            if head not in heads:
                raise DetectorModelError(
                    f"the emotion detector file has no {head!r} head (it has {', '.join(heads) or 'none'}); "
                    f"run `{TRAIN_COMMAND}` to rebuild it"
                )
            self._head = {
                "features": heads[head]["features"],
                "weights": np.asarray(heads[head]["weights"], dtype=np.float32),
                "intercept": np.asarray(heads[head]["intercept"], dtype=np.float64),
                "temperature": float(heads[head]["temperature"]),
            }
            self.head_name = head
            self.encoder_status = f"sentence encoder {model.get('encoder', {}).get('id', '?')} + {head} head"
        else:
            self.head_name = "ngram"
            self.encoder_status = f"n-gram only ({encoder_problem or 'encoder off'})"
        self._source = self.name + ("+encoder" if encoder is not None else "")
        self._embeddings: dict[str, np.ndarray] = {}
        self._embedding_cache_size = embedding_cache_size
        self.use_prosody = use_prosody
        self.prosody_gain = prosody_gain

    @classmethod
    def load(
        cls,
        path: Path | str | None = None,
        *,
        use_prosody: bool = True,
        prosody_gain: float = 1.0,
        encoder: Any = None,
        head: str = "combined",
        encoder_problem: str = "",
        embedding_cache_size: int = EMBEDDING_CACHE_SIZE,
    ) -> "TrainedEmotionDetector":
        """Load the classifier file (default: the one shipped in the package)."""
        return cls(
            load_model_file(path),
            use_prosody=use_prosody,
            prosody_gain=prosody_gain,
            encoder=encoder,
            head=head,
            encoder_problem=encoder_problem,
            embedding_cache_size=embedding_cache_size,
        )

    @property
    def uses_encoder(self) -> bool:
        return self._encoder is not None

    def probabilities(self, text: str) -> tuple[np.ndarray, float]:
        """Calibrated probabilities in EMOTIONS order, and the share of words the detector knows."""
        normalised = normalise_text(text)
        # Emoji-only input is read by the n-grams: the words EMOJI_WORDS gives them were chosen for
        # the cue lists, and as a sentence ("furious furious") they mean little to the encoder.
        emoji_only = not any(ch.isascii() and ch.isalpha() for ch in text)
        if self._head is None or emoji_only:
            probs = _softmax(self._ngram.scores(text, normalised) / self._ngram.temperature)
            return probs, known_word_share(normalised, self._ngram.vocabulary)
        # The encoder reads the same normalised text as the n-grams (numbers as 0, emoji as words):
        # an amount must not decide the emotion, and the head was trained on exactly this input.
        embedding = self._embeddings.get(normalised)
        if embedding is None:
            embedding = self._encoder.encode(normalised)
            if self._embedding_cache_size > 0:
                if len(self._embeddings) >= self._embedding_cache_size:
                    self._embeddings.pop(next(iter(self._embeddings)))  # oldest first
                self._embeddings[normalised] = embedding
        if self._head["features"] == "embedding+ngram":
            features = np.concatenate([embedding, self._ngram.log_probs(text, normalised).astype(np.float32)])
        else:
            features = embedding
        scores = self._head["weights"] @ features + self._head["intercept"]
        probs = _softmax(scores / self._head["temperature"])
        # Known words are the corpus's own: the encoder's WordPiece vocabulary also holds many French,
        # Spanish and German words, which would let foreign text through at full trust.
        return probs, known_word_share(normalised, self._ngram.vocabulary)

    def detect(self, text: str, prosody: Optional[ProsodyFeatures] = None) -> EmotionReading:
        if not isinstance(text, str) or not any(ch.isalnum() or ord(ch) > 0x2000 for ch in text):
            reading = EmotionReading.neutral_low_confidence(source=self._source)
        else:
            probs, known_share = self.probabilities(text)
            if known_share == 0.0:
                reading = EmotionReading.neutral_low_confidence(source=self._source)
            else:
                trust = reading_trust(text, known_share)
                probs = trust * probs + (1.0 - trust) * np.asarray(_NEUTRAL_FALLBACK.probs)
                reading = EmotionReading(probs=_as_probs(probs), source=self._source)
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

    def __init__(
        self, llama: Any, *, use_prosody: bool = True, prosody_gain: float = 1.0, calibrate: bool = True
    ):
        self._llama = llama
        self.use_prosody = use_prosody
        self.prosody_gain = prosody_gain
        self._prefix = list(llama.tokenize(LLM_PROMPT_PREFIX.encode("utf-8"), add_bos=True, special=False))
        self._label_tokens = [
            list(llama.tokenize(f" {label}".encode("utf-8"), add_bos=False, special=False))
            for label in EMOTIONS
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
    "energy_dbfs": 1.0,
    "pitch_semitones_re_150hz": 0.5,
    "pitch_variability_semitones": 1.0,
    "speaking_rate_wps": 1.0,
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


def fuse_prosody(
    reading: EmotionReading, prosody: Optional[ProsodyFeatures], gain: float = 1.0
) -> EmotionReading:
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
    return EmotionReading(
        probs=_as_probs(np.asarray(reading.probs) * tilt), source=f"{reading.source}+prosody"
    )


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

            llama = load_llama(config.llm, logits_all=False, lora=False)  # labels scored by the base model
        return LlmEmotionDetector(llama, use_prosody=detector.use_prosody, prosody_gain=gain)
    if detector.use_encoder:
        encoder, problem = load_encoder(config)
    else:
        encoder, problem = None, "detector.use_encoder is false"
    made = TrainedEmotionDetector.load(
        detector.model_path,
        use_prosody=detector.use_prosody,
        prosody_gain=gain,
        encoder=encoder,
        head=detector.encoder_head,
        encoder_problem=problem,
    )
    if encoder is None and detector.use_encoder:
        _LOG.warning("emotion detector: %s; the n-gram classifier runs alone", made.encoder_status)
    return made


def load_encoder(config: "NegotiatorConfig") -> tuple[Any, str]:
    """The sentence encoder `config.detector` names, or (None, why not): a missing encoder is a
    defined fallback (the n-gram classifier alone), never a failure to start."""
    from .encoder import EncoderOptions, EncoderUnavailableError, SentenceEncoder

    # The default file is built when missing (make setup normally did); a path set in the config
    # that does not exist is a mistake to report, not to paper over with a build.
    path = config.detector.encoder_model_path
    options = EncoderOptions(
        model_path=path, threads=config.detector.encoder_threads, build_if_missing=path is None
    )
    try:
        return SentenceEncoder.load(options), ""
    except EncoderUnavailableError as error:
        return None, str(error)
